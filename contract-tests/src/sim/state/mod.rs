//! The ledger: every payment, the stored idempotent outcomes and the pspReference sequence,
//! behind one lock so that each operation (check, change, event, stored outcome) is atomic.
//! Parallel captures on one payment are therefore serialized and can never capture more than
//! was authorized (rule S7).

pub mod payment;
pub mod transitions;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use vipps_epayment::epayment::{
    CancelModificationRequest, CaptureModificationRequest, CreatePaymentRequest,
    CreatePaymentRequestUserFlow, CreatePaymentResponse, ForceApprove, PaymentEventName,
    RefundModificationRequest, State,
};

use self::payment::Payment;
use self::transitions::CancelOutcome;
use super::idempotency::{IdempotencyStore, Lookup, Scope};
use super::operation::Operation;
use super::reply::{JSON, PROBLEM_JSON, Refusal, Reply};
use super::validation::CreateChecks;
use super::webhooks::Announcement;

/// How long the user has to act on a normal payment (rule S11).
pub const USER_TIME: chrono::Duration = chrono::Duration::minutes(10);

/// Hands out pspReferences, unique per event (rule I10).
#[derive(Debug)]
pub struct PspSequence {
    next: u64,
}

impl PspSequence {
    /// The next pspReference.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> String {
        self.next += 1;
        self.next.to_string()
    }
}

impl Default for PspSequence {
    fn default() -> Self {
        Self { next: 8_812_000_000 }
    }
}

type PaymentId = (String, String);

fn id(msn: &str, reference: &str) -> PaymentId {
    (msn.to_string(), reference.to_string())
}

/// All simulator state that requests change.
#[derive(Debug)]
pub struct Ledger {
    base_url: String,
    payments: HashMap<PaymentId, Payment>,
    idempotency: IdempotencyStore,
    psp: PspSequence,
    /// Payments touched since the last [`Ledger::take_announcements`] (may repeat).
    touched: Vec<PaymentId>,
}

/// A refused test control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// No payment has this reference.
    NotFound(String),
    /// Several merchants have a payment with this reference; name the MSN.
    Ambiguous(String),
    /// The payment's state does not allow it: the refusal the API would answer with (409, its
    /// Problem `type` and `title` name the rule, see [`Forbidden`](super::reply::Forbidden)).
    NotAllowed(Refusal),
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::NotFound(reference) => write!(f, "no payment with reference `{reference}`"),
            ControlError::Ambiguous(reference) => write!(
                f,
                "several merchant serial numbers have a payment with reference `{reference}`; name the msn"
            ),
            ControlError::NotAllowed(refusal) => f.write_str(&refusal.detail),
        }
    }
}

impl std::error::Error for ControlError {}

impl Ledger {
    /// An empty ledger; `base_url` is used to build redirect links.
    pub fn new(base_url: String) -> Self {
        Self {
            base_url,
            payments: HashMap::new(),
            idempotency: IdempotencyStore::default(),
            psp: PspSequence::default(),
            touched: Vec::new(),
        }
    }

    /// The events recorded since the last call, for webhook delivery (rule W1). Call it before
    /// releasing the lock, and hand the result to the webhooks after releasing it.
    pub fn take_announcements(&mut self) -> Vec<Announcement> {
        let mut announcements = Vec::new();
        for payment_id in std::mem::take(&mut self.touched) {
            let Some(payment) = self.payments.get_mut(&payment_id) else { continue };
            for event in &payment.events[payment.announced..] {
                announcements.push(Announcement {
                    msn: payment.msn.clone(),
                    event: event.clone(),
                    sub: payment.profile_sub.clone(),
                });
            }
            payment.announced = payment.events.len();
        }
        announcements
    }

    fn payment(
        &mut self,
        msn: &str,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<(&mut Payment, &mut PspSequence), Refusal> {
        let Ledger { payments, psp, touched, .. } = self;
        let payment_id = id(msn, reference);
        let payment = payments
            .get_mut(&payment_id)
            .ok_or_else(|| Refusal::not_found(reference))?;
        payment.expire_if_due(now, psp);
        // Every change to a payment goes through here (or create), so webhooks see every event.
        touched.push(payment_id);
        Ok((payment, psp))
    }

    fn idempotent(
        &mut self,
        scope: Scope,
        fingerprint: serde_json::Value,
        work: impl FnOnce(&mut Self) -> Reply,
    ) -> Reply {
        match self.idempotency.lookup(&scope, &fingerprint) {
            Lookup::Replay(reply) => reply,
            Lookup::Conflict => Refusal::idempotency_conflict(&scope.key).into_reply(),
            Lookup::New => {
                let reply = work(self);
                self.idempotency.store(scope, fingerprint, reply.clone());
                reply
            }
        }
    }

    /// `POST /v1/payments` (rules S2, S11, I5).
    pub fn create(
        &mut self,
        msn: &str,
        key: &str,
        fingerprint: serde_json::Value,
        request: CreatePaymentRequest,
        checks: CreateChecks,
        now: DateTime<Utc>,
    ) -> Reply {
        let scope = Scope::keyed(msn, Operation::Create, "", key);
        self.idempotent(scope, fingerprint, |ledger| {
            let payment_id = id(msn, request.reference.as_str());
            if ledger.payments.contains_key(&payment_id) {
                return Refusal::reference_used(request.reference.as_str()).into_reply();
            }
            let approval_token = uuid::Uuid::new_v4().simple().to_string();
            let redirect_url = match request.user_flow {
                CreatePaymentRequestUserFlow::PushMessage => None,
                _ => Some(format!(
                    "{}/_sim/landing/{}?token={approval_token}",
                    ledger.base_url,
                    request.reference.as_str()
                )),
            };
            let mut payment = Payment {
                msn: msn.to_string(),
                reference: request.reference.clone(),
                psp_reference: ledger.psp.next(),
                currency: request.amount.currency.clone(),
                amount: request.amount.value.get(),
                payment_method: request.payment_method.type_.clone(),
                redirect_url: redirect_url.clone(),
                approval_token,
                metadata: request.metadata.clone(),
                profile_scope: request.profile.as_ref().and_then(|p| p.scope.clone()),
                profile_sub: None,
                create_key: key.to_string(),
                state: State::Created,
                user_approving: false,
                authorized: 0,
                captured: 0,
                cancelled: 0,
                refunded: 0,
                cancel_done: false,
                expires_at: checks.expires_at.unwrap_or(now + USER_TIME),
                authorized_at: None,
                captures: Vec::new(),
                events: Vec::new(),
                announced: 0,
            };
            let psp_reference = payment.psp_reference.clone();
            payment.record(PaymentEventName::Created, payment.amount, key, now, psp_reference);
            ledger.touched.push(payment_id.clone());
            ledger.payments.insert(payment_id, payment);
            let mut response = CreatePaymentResponse::new(request.reference.clone());
            response.redirect_url = redirect_url;
            Reply::json(201, JSON, &response)
        })
    }

    /// `GET /v1/payments/{reference}`.
    pub fn get(&mut self, msn: &str, reference: &str, now: DateTime<Utc>) -> Reply {
        match self.payment(msn, reference, now) {
            Ok((payment, _)) => Reply::json(200, JSON, &payment.view()),
            Err(refusal) => refusal.into_reply(),
        }
    }

    /// `GET /v1/payments/{reference}/events`.
    pub fn events(&mut self, msn: &str, reference: &str, now: DateTime<Utc>) -> Reply {
        match self.payment(msn, reference, now) {
            Ok((payment, _)) => Reply::json(200, JSON, &payment.events),
            Err(refusal) => refusal.into_reply(),
        }
    }

    /// A keyed change (capture, refund, keyed cancel): the outcome is stored under the key and
    /// replayed, whatever it was, a 404 for an unknown reference included (rule I6): a retry
    /// with the same key answers 404 again even after a payment with that reference appears.
    fn modification(
        &mut self,
        scope: Scope,
        fingerprint: serde_json::Value,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut Payment, &mut PspSequence) -> Result<String, Refusal>,
    ) -> Reply {
        let (msn, reference) = (scope.msn.clone(), scope.reference.clone());
        self.idempotent(scope, fingerprint, |ledger| ledger.apply_change(&msn, &reference, now, change))
    }

    /// Applies a change to a payment; answers with the modification view or the refusal.
    fn apply_change(
        &mut self,
        msn: &str,
        reference: &str,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut Payment, &mut PspSequence) -> Result<String, Refusal>,
    ) -> Reply {
        let (payment, psp) = match self.payment(msn, reference, now) {
            Ok(found) => found,
            Err(refusal) => return refusal.into_reply(),
        };
        match change(payment, psp) {
            Ok(psp_reference) => Reply::json(200, PROBLEM_JSON, &payment.modification_view(psp_reference)),
            Err(refusal) => refusal.into_reply(),
        }
    }

    /// `POST /v1/payments/{reference}/capture` (rule S7).
    pub fn capture(
        &mut self,
        msn: &str,
        reference: &str,
        key: &str,
        fingerprint: serde_json::Value,
        request: CaptureModificationRequest,
        now: DateTime<Utc>,
    ) -> Reply {
        let scope = Scope::keyed(msn, Operation::Capture, reference, key);
        self.modification(scope, fingerprint, now, |payment, psp| {
            payment.capture(&request.modification_amount, key, now, psp)
        })
    }

    /// `POST /v1/payments/{reference}/refund` (rule S8).
    pub fn refund(
        &mut self,
        msn: &str,
        reference: &str,
        key: &str,
        fingerprint: serde_json::Value,
        request: RefundModificationRequest,
        now: DateTime<Utc>,
    ) -> Reply {
        let scope = Scope::keyed(msn, Operation::Refund, reference, key);
        self.modification(scope, fingerprint, now, |payment, psp| {
            payment.refund(&request.modification_amount, key, now, psp)
        })
    }

    /// `POST /v1/payments/{reference}/cancel` (rules S4-S6). The spec (1.8.1) declares no
    /// `Idempotency-Key` here; when a client sends one anyway it is honoured, otherwise the
    /// simulator makes one for the event (rule I9).
    pub fn cancel(
        &mut self,
        msn: &str,
        reference: &str,
        key: Option<&str>,
        fingerprint: serde_json::Value,
        request: CancelModificationRequest,
        now: DateTime<Utc>,
    ) -> Reply {
        let generated;
        let event_key = match key {
            Some(key) => key,
            None => {
                generated = uuid::Uuid::new_v4().to_string();
                generated.as_str()
            }
        };
        let transaction_only = request.cancel_transaction_only.unwrap_or(false);
        let change = |payment: &mut Payment, psp: &mut PspSequence| {
            match payment.cancel(transaction_only, event_key, now, psp)? {
                CancelOutcome::Changed(psp_reference) => Ok(psp_reference),
                CancelOutcome::Unchanged => Ok(payment
                    .events
                    .last()
                    .map(|event| event.psp_reference.clone())
                    .unwrap_or_else(|| payment.psp_reference.clone())),
            }
        };
        match key {
            Some(key) => {
                let scope = Scope::keyed(msn, Operation::Cancel, reference, key);
                self.modification(scope, fingerprint, now, change)
            }
            None => self.apply_change(msn, reference, now, change),
        }
    }

    /// `POST /v1/test/payments/{reference}/approve` (rules S2, S14).
    pub fn force_approve(
        &mut self,
        msn: &str,
        reference: &str,
        request: ForceApprove,
        now: DateTime<Utc>,
    ) -> Reply {
        let (payment, psp) = match self.payment(msn, reference, now) {
            Ok(found) => found,
            Err(refusal) => return refusal.into_reply(),
        };
        if let Some(token) = &request.token
            && *token != payment.approval_token
        {
            return Refusal::invalid("token", "does not match the token in the payment's redirectUrl")
                .into_reply();
        }
        match payment.approve(now, psp) {
            Ok(()) => Reply::empty(200),
            Err(refusal) => refusal.into_reply(),
        }
    }

    /// Runs a test control on the payment with `reference` (of `msn`, or of the only merchant
    /// that has one).
    pub fn control(
        &mut self,
        msn: Option<&str>,
        reference: &str,
        now: DateTime<Utc>,
        action: impl FnOnce(&mut Payment, &mut PspSequence) -> Result<(), Refusal>,
    ) -> Result<(), ControlError> {
        let msn = match msn {
            Some(msn) => msn.to_string(),
            None => {
                let mut owners = self
                    .payments
                    .keys()
                    .filter(|(_, r)| r == reference)
                    .map(|(m, _)| m.clone());
                match (owners.next(), owners.next()) {
                    (Some(only), None) => only,
                    (None, _) => return Err(ControlError::NotFound(reference.to_string())),
                    (Some(_), Some(_)) => return Err(ControlError::Ambiguous(reference.to_string())),
                }
            }
        };
        let (payment, psp) = self
            .payment(&msn, reference, now)
            .map_err(|_| ControlError::NotFound(reference.to_string()))?;
        action(payment, psp).map_err(ControlError::NotAllowed)
    }
}
