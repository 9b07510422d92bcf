//! The state machine of a payment (rules S1-S11): approval, rejection, expiry, cancel,
//! capture and refund. Every transition checks first and changes after, so a refused one
//! changes nothing; every change appends exactly one event.

use chrono::{DateTime, Duration, Utc};
use vipps_epayment::epayment::{Amount, PaymentEventName, State};

use super::PspSequence;
use super::payment::{CaptureLot, Payment};
use crate::sim::reply::{Forbidden, Refusal};

/// Capture and cancel are allowed this long after authorization (rules S6, S7).
pub const AUTHORIZATION_VALIDITY: Duration = Duration::days(180);
/// Captured money can be refunded this long after its capture (rule S8; see
/// [`Payment::refund`] for how refunds are matched to captures).
pub const REFUND_WINDOW: Duration = Duration::days(365);

/// What a cancel did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// A change was made; the event's pspReference.
    Changed(String),
    /// Nothing to do, nothing recorded: the authorized payment was already cancelled (rule S5:
    /// cancel cannot be undone or repeated), or `cancelTransactionOnly` asked to leave an
    /// authorized payment alone.
    Unchanged,
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
            Err(Refusal::not_allowed(
                Forbidden::NotCreated,
                format!("cannot {action} a payment in state {} (rule S2)", self.state),
            ))
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

    fn within_authorization(&self, now: DateTime<Utc>, action: &str, why: Forbidden) -> Result<(), Refusal> {
        let authorized_at = self.authorized_at.expect("an authorized payment has a time");
        if now > authorized_at + AUTHORIZATION_VALIDITY {
            Err(Refusal::not_allowed(
                why,
                format!("cannot {action} more than 180 days after authorization (rule {})", why.rule()),
            ))
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

    /// Rules S1, S4, S5, S6: cancel. Before authorization -> TERMINATED; after -> releases the
    /// uncaptured remainder and stays AUTHORIZED.
    ///
    /// `cancelTransactionOnly` (the spec's `CancelModificationRequest`: "Only cancel transaction
    /// if it has not been authorized. If this flag is set and the transaction has been
    /// authorized, the reserved amount will not be canceled"): on a CREATED payment it cancels as
    /// usual; on an AUTHORIZED payment it is not an error but a request to leave the
    /// reservation alone, so the simulator answers 200 with the payment as it is (state
    /// AUTHORIZED, `cancelledAmount` unchanged) and records no event. That answer is how it
    /// "says so": the aggregate shows nothing was cancelled.
    ///
    /// A repeated cancel of an authorized payment answers the same way (200, nothing changes:
    /// cancel cannot be undone or repeated, rule S5). A cancel of a payment in a final state
    /// (ABORTED, EXPIRED or TERMINATED, including one this merchant terminated) is refused: final
    /// states refuse changes (rule S1).
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
                        Forbidden::CancelWhileApproving,
                        "cannot cancel while the user is approving the payment (rule S6)",
                    ));
                }
                self.state = State::Terminated;
                let psp_reference = psp.next();
                self.record(PaymentEventName::Terminated, self.amount, key, now, psp_reference.clone());
                Ok(CancelOutcome::Changed(psp_reference))
            }
            State::Authorized => {
                if transaction_only || self.cancel_done {
                    return Ok(CancelOutcome::Unchanged);
                }
                if self.captured >= self.authorized {
                    return Err(Refusal::not_allowed(
                        Forbidden::CancelFullyCaptured,
                        "cannot cancel a fully captured payment (rule S6)",
                    ));
                }
                self.within_authorization(now, "cancel", Forbidden::CancelTooLate)?;
                let remainder = self.authorized - self.captured;
                self.cancelled += remainder;
                self.cancel_done = true;
                let psp_reference = psp.next();
                self.record(PaymentEventName::Cancelled, remainder, key, now, psp_reference.clone());
                Ok(CancelOutcome::Changed(psp_reference))
            }
            _ => Err(Refusal::not_allowed(
                Forbidden::CancelFinal,
                format!("cannot cancel a payment in state {} (rule S1: the state is final)", self.state),
            )),
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
            return Err(Refusal::not_allowed(
                Forbidden::CaptureNotAuthorized,
                format!("cannot capture a payment in state {}: only after authorization (rule S7)", self.state),
            ));
        }
        if self.cancel_done {
            return Err(Refusal::not_allowed(Forbidden::CaptureAfterCancel, "cannot capture after cancel (rule S7)"));
        }
        self.check_currency(amount)?;
        self.within_authorization(now, "capture", Forbidden::CaptureTooLate)?;
        let value = amount.value.get();
        // Nothing is cancelled here: a capture after cancel was refused above (S7).
        let remaining = self.authorized - self.captured;
        if value > remaining {
            return Err(Refusal::not_allowed(
                Forbidden::CaptureTooHigh,
                format!("capture amount too high: {value} requested, {remaining} remains authorized (rule S7)"),
            )
            .with_field("modificationAmount.value", "capture amount too high"));
        }
        self.captured += value;
        self.captures.push(CaptureLot { at: now, unrefunded: value });
        let psp_reference = psp.next();
        self.record(PaymentEventName::Captured, value, key, now, psp_reference.clone());
        Ok(psp_reference)
    }

    /// Rule S8: refund part or all of what was captured and not yet refunded.
    ///
    /// The 365 days count from the capture of the refunded money. The simulator keeps each
    /// capture with the part of it not yet refunded; money captured more than 365 days ago can
    /// no longer be refunded, and a refund takes the money of the oldest captures still within
    /// their 365 days first (first in, first out). So after captures of 500 on day 0 and 500 on
    /// day 150, a refund of 300 on day 300 takes it from the first capture, and on day 366 at
    /// most 500 (the second capture) can still be refunded. A refund above what was captured
    /// and not refunded is "refund amount too high"; one that only the expired captures could
    /// cover is "too late".
    pub fn refund(
        &mut self,
        amount: &Amount,
        key: &str,
        now: DateTime<Utc>,
        psp: &mut PspSequence,
    ) -> Result<String, Refusal> {
        if self.state != State::Authorized {
            return Err(Refusal::not_allowed(
                Forbidden::RefundNotAuthorized,
                format!("cannot refund a payment in state {}: only captured money (rule S8)", self.state),
            ));
        }
        self.check_currency(amount)?;
        let value = amount.value.get();
        let refundable = self.captured - self.refunded;
        if value > refundable {
            return Err(Refusal::not_allowed(
                Forbidden::RefundTooHigh,
                format!("refund amount too high: {value} requested, {refundable} captured and not refunded (rule S8)"),
            )
            .with_field("modificationAmount.value", "refund amount too high"));
        }
        let in_window = |lot: &CaptureLot| now <= lot.at + REFUND_WINDOW;
        let refundable_in_time: i64 = self.captures.iter().filter(|lot| in_window(lot)).map(|lot| lot.unrefunded).sum();
        if value > refundable_in_time {
            return Err(Refusal::not_allowed(
                Forbidden::RefundTooLate,
                format!(
                    "cannot refund {value}: only {refundable_in_time} was captured within the last 365 days and not refunded (rule S8)"
                ),
            ));
        }
        let mut left = value;
        for lot in self.captures.iter_mut().filter(|lot| in_window(lot)) {
            let taken = left.min(lot.unrefunded);
            lot.unrefunded -= taken;
            left -= taken;
            if left == 0 {
                break;
            }
        }
        self.refunded += value;
        let psp_reference = psp.next();
        self.record(PaymentEventName::Refunded, value, key, now, psp_reference.clone());
        Ok(psp_reference)
    }
}
