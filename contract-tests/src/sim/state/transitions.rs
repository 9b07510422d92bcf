//! The state machine of a payment (rules S1-S9, S11): approval, rejection, expiry, cancel,
//! capture and refund. Every transition checks first and changes after, so a refused one
//! changes nothing; every change appends exactly one event.

use chrono::{DateTime, Duration, Utc};
use vipps_epayment::epayment::{Amount, PaymentEventName, State};

use super::PspSequence;
use super::payment::Payment;
use crate::sim::reply::Refusal;

/// Capture and cancel are allowed this long after authorization (rules S6, S7).
pub const AUTHORIZATION_VALIDITY: Duration = Duration::days(180);
/// Refunds are allowed this long after the last capture (rule S8).
pub const REFUND_WINDOW: Duration = Duration::days(365);

/// What a cancel did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// A change was made; the event's pspReference.
    Changed(String),
    /// The payment was already cancelled or terminated: nothing to do, nothing recorded.
    AlreadyCancelled,
}

impl Payment {
    /// Rule S2/S11: a CREATED payment whose time has run out becomes EXPIRED (the event is
    /// stamped with the expiry time). Called before every read or change.
    pub fn expire_if_due(&mut self, now: DateTime<Utc>, psp: &mut PspSequence) {
        if self.state == State::Created && now >= self.expires_at {
            self.state = State::Expired;
            self.user_approving = false;
            let key = self.create_key.clone();
            self.record(PaymentEventName::Expired, self.amount, &key, self.expires_at, psp.next());
        }
    }

    fn require_created(&self, action: &str) -> Result<(), Refusal> {
        if self.state == State::Created {
            Ok(())
        } else {
            Err(Refusal::not_allowed(format!(
                "cannot {action} a payment in state {} (rule S2)",
                self.state
            )))
        }
    }

    /// Rule S2: the user (or force-approve) approves a CREATED payment -> AUTHORIZED.
    pub fn approve(&mut self, now: DateTime<Utc>, psp: &mut PspSequence) -> Result<(), Refusal> {
        self.require_created("approve")?;
        self.state = State::Authorized;
        self.user_approving = false;
        self.authorized = self.amount;
        self.authorized_at = Some(now);
        if self.profile_scope.is_some() {
            self.profile_sub = Some(uuid::Uuid::new_v4().to_string());
        }
        let key = self.create_key.clone();
        self.record(PaymentEventName::Authorized, self.amount, &key, now, psp.next());
        Ok(())
    }

    /// Rule S2: the user rejects a CREATED payment -> ABORTED.
    pub fn reject(&mut self, now: DateTime<Utc>, psp: &mut PspSequence) -> Result<(), Refusal> {
        self.require_created("reject")?;
        self.state = State::Aborted;
        self.user_approving = false;
        let key = self.create_key.clone();
        self.record(PaymentEventName::Aborted, self.amount, &key, now, psp.next());
        Ok(())
    }

    /// The user opens the payment in the app and starts approving (cancel is refused, rule S6).
    pub fn begin_approval(&mut self) -> Result<(), Refusal> {
        self.require_created("start approving")?;
        self.user_approving = true;
        Ok(())
    }

    fn within_authorization(&self, now: DateTime<Utc>, action: &str, rule: &str) -> Result<(), Refusal> {
        let authorized_at = self.authorized_at.expect("an authorized payment has a time");
        if now > authorized_at + AUTHORIZATION_VALIDITY {
            Err(Refusal::not_allowed(format!(
                "cannot {action} more than 180 days after authorization (rule {rule})"
            )))
        } else {
            Ok(())
        }
    }

    fn check_currency(&self, amount: &Amount) -> Result<(), Refusal> {
        if amount.currency == self.currency {
            Ok(())
        } else {
            Err(Refusal::invalid(
                "modificationAmount.currency",
                format!(
                    "{} differs from the payment's currency {} (rule S10)",
                    amount.currency, self.currency
                ),
            ))
        }
    }

    /// Rules S5, S6, S4: cancel. Before authorization -> TERMINATED; after -> releases the
    /// uncaptured remainder and stays AUTHORIZED.
    pub fn cancel(
        &mut self,
        transaction_only: bool,
        key: &str,
        now: DateTime<Utc>,
        psp: &mut PspSequence,
    ) -> Result<CancelOutcome, Refusal> {
        match self.state {
            State::Created => {
                if self.user_approving {
                    return Err(Refusal::not_allowed(
                        "cannot cancel while the user is approving the payment (rule S6)",
                    ));
                }
                self.state = State::Terminated;
                let psp_reference = psp.next();
                self.record(PaymentEventName::Terminated, self.amount, key, now, psp_reference.clone());
                Ok(CancelOutcome::Changed(psp_reference))
            }
            State::Terminated => Ok(CancelOutcome::AlreadyCancelled),
            State::Authorized => {
                if transaction_only {
                    return Err(Refusal::not_allowed(
                        "cancelTransactionOnly is set and the payment is already authorized; the reservation is left alone",
                    ));
                }
                if self.cancel_done {
                    return Ok(CancelOutcome::AlreadyCancelled);
                }
                if self.captured >= self.authorized {
                    return Err(Refusal::not_allowed(
                        "cannot cancel a fully captured payment (rule S6)",
                    ));
                }
                self.within_authorization(now, "cancel", "S6")?;
                let remainder = self.authorized - self.captured;
                self.cancelled += remainder;
                self.cancel_done = true;
                let psp_reference = psp.next();
                self.record(PaymentEventName::Cancelled, remainder, key, now, psp_reference.clone());
                Ok(CancelOutcome::Changed(psp_reference))
            }
            _ => Err(Refusal::not_allowed(format!(
                "cannot cancel a payment in state {} (rule S1: the state is final)",
                self.state
            ))),
        }
    }

    /// Rule S7: capture part or all of what remains authorized.
    pub fn capture(
        &mut self,
        amount: &Amount,
        key: &str,
        now: DateTime<Utc>,
        psp: &mut PspSequence,
    ) -> Result<String, Refusal> {
        if self.state != State::Authorized {
            return Err(Refusal::not_allowed(format!(
                "cannot capture a payment in state {}: only after authorization (rule S7)",
                self.state
            )));
        }
        if self.cancel_done {
            return Err(Refusal::not_allowed("cannot capture after cancel (rule S7)"));
        }
        self.check_currency(amount)?;
        self.within_authorization(now, "capture", "S7")?;
        let value = amount.value.get();
        let remaining = self.authorized - self.captured - self.cancelled;
        if value > remaining {
            return Err(Refusal::not_allowed(format!(
                "capture amount too high: {value} requested, {remaining} remains authorized (rule S7)"
            ))
            .with_field("modificationAmount.value", "capture amount too high"));
        }
        self.captured += value;
        self.last_capture_at = Some(now);
        let psp_reference = psp.next();
        self.record(PaymentEventName::Captured, value, key, now, psp_reference.clone());
        Ok(psp_reference)
    }

    /// Rule S8: refund part or all of what was captured and not yet refunded.
    pub fn refund(
        &mut self,
        amount: &Amount,
        key: &str,
        now: DateTime<Utc>,
        psp: &mut PspSequence,
    ) -> Result<String, Refusal> {
        if self.state != State::Authorized {
            return Err(Refusal::not_allowed(format!(
                "cannot refund a payment in state {}: only captured money (rule S8)",
                self.state
            )));
        }
        self.check_currency(amount)?;
        let value = amount.value.get();
        let refundable = self.captured - self.refunded;
        if value > refundable {
            return Err(Refusal::not_allowed(format!(
                "refund amount too high: {value} requested, {refundable} captured and not refunded (rule S8)"
            ))
            .with_field("modificationAmount.value", "refund amount too high"));
        }
        if let Some(captured_at) = self.last_capture_at
            && now > captured_at + REFUND_WINDOW
        {
            return Err(Refusal::not_allowed(
                "cannot refund more than 365 days after the last capture (rule S8)",
            ));
        }
        self.refunded += value;
        let psp_reference = psp.next();
        self.record(PaymentEventName::Refunded, value, key, now, psp_reference.clone());
        Ok(psp_reference)
    }
}
