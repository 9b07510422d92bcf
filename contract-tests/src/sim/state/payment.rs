//! One payment as the simulator keeps it, and the views the API answers with (generated types).

use chrono::{DateTime, Utc};
use vipps_epayment::epayment::{
    Aggregate, Amount, AmountValue, Currency, GetPaymentResponse, Metadata, ModificationResponse,
    PaymentEvent, PaymentEventIdempotencyKey, PaymentEventName, PaymentMethodResponse,
    PaymentMethodType, ProfileResponse, Reference, State,
};

/// One capture: when, and how much of it is not yet refunded (rule S8 counts the 365 days of a
/// refund from the capture of the refunded money).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureLot {
    /// When the money was captured.
    pub at: DateTime<Utc>,
    /// Minor units of this capture not refunded yet.
    pub unrefunded: i64,
}

/// A payment and its event log.
#[derive(Debug, Clone)]
pub struct Payment {
    /// Merchant serial number that owns the payment.
    pub msn: String,
    /// The merchant's reference.
    pub reference: Reference,
    /// pspReference of the create operation (and of the payment).
    pub psp_reference: String,
    /// Currency of every amount of the payment (rule S9).
    pub currency: Currency,
    /// The amount asked for at create.
    pub amount: i64,
    /// Payment method type.
    pub payment_method: PaymentMethodType,
    /// Redirect or QR link, absent for push messages.
    pub redirect_url: Option<String>,
    /// Token embedded in `redirect_url`, accepted by force-approve.
    pub approval_token: String,
    /// Merchant metadata, echoed by get.
    pub metadata: Option<Metadata>,
    /// Requested profile scope, if any.
    pub profile_scope: Option<String>,
    /// `sub` handed out once authorized with a scope.
    pub profile_sub: Option<String>,
    /// Idempotency key of the create call (rule I9).
    pub create_key: String,
    /// Lifecycle state (rule S1).
    pub state: State,
    /// The user has opened the payment and is approving it (cancel is refused, rule S6).
    pub user_approving: bool,
    /// Aggregate: authorized minor units.
    pub authorized: i64,
    /// Aggregate: captured minor units.
    pub captured: i64,
    /// Aggregate: cancelled (released) minor units.
    pub cancelled: i64,
    /// Aggregate: refunded minor units.
    pub refunded: i64,
    /// Whether an authorized payment has been cancelled (rules S5, S7).
    pub cancel_done: bool,
    /// When the user's time runs out (rule S11).
    pub expires_at: DateTime<Utc>,
    /// When the payment was authorized.
    pub authorized_at: Option<DateTime<Utc>>,
    /// Every capture, oldest first, with the part of it not yet refunded (rule S8).
    pub captures: Vec<CaptureLot>,
    /// One event per change.
    pub events: Vec<PaymentEvent>,
    /// How many of `events` have been handed to webhook delivery.
    pub announced: usize,
}

impl Payment {
    /// `value` minor units in the payment's currency.
    pub fn money(&self, value: i64) -> Amount {
        Amount::new(
            self.currency.clone(),
            AmountValue::new(value).expect("aggregates stay within the payment amount"),
        )
    }

    /// The aggregate amounts.
    pub fn aggregate(&self) -> Aggregate {
        Aggregate::new(
            self.money(self.authorized),
            self.money(self.cancelled),
            self.money(self.captured),
            self.money(self.refunded),
        )
    }

    /// Appends an event (rule I9: every event carries an idempotency key).
    pub fn record(
        &mut self,
        name: PaymentEventName,
        value: i64,
        key: &str,
        at: DateTime<Utc>,
        psp_reference: String,
    ) {
        let mut event = PaymentEvent::new(
            self.reference.clone(),
            psp_reference,
            name,
            self.money(value),
            at,
            true,
        );
        event.idempotency_key = PaymentEventIdempotencyKey::new(key).ok();
        self.events.push(event);
    }

    /// The answer of get.
    pub fn view(&self) -> GetPaymentResponse {
        let mut profile = ProfileResponse::default();
        profile.sub = self.profile_sub.clone();
        let mut response = GetPaymentResponse::new(
            self.aggregate(),
            self.money(self.amount),
            self.state.clone(),
            PaymentMethodResponse::new(self.payment_method.clone()),
            profile,
            self.psp_reference.clone(),
            self.reference.clone(),
        );
        response.redirect_url = self.redirect_url.clone();
        response.metadata = self.metadata.clone();
        response
    }

    /// The answer of capture, refund and cancel.
    pub fn modification_view(&self, psp_reference: String) -> ModificationResponse {
        ModificationResponse::new(
            self.money(self.amount),
            self.state.clone(),
            self.aggregate(),
            psp_reference,
            self.reference.clone(),
        )
    }
}
