//! Test controls: the user's actions that have no API (approve in the app, reject, start
//! approving), the clock, and fault injection. Used in-process through [`Controls`] and over
//! HTTP through the `/_sim` routes.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Shared;
use super::faults::FaultRule;
use super::state::ControlError;
use super::webhooks::{self, InvalidWebhook, Webhook};

/// A handle on a running simulator's test controls; cheap to clone.
#[derive(Debug, Clone)]
pub struct Controls {
    shared: Arc<Shared>,
}

impl Controls {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    fn act(
        &self,
        msn: Option<&str>,
        reference: &str,
        action: impl FnOnce(
            &mut super::state::payment::Payment,
            DateTime<Utc>,
            &mut super::state::PspSequence,
        ) -> Result<(), super::reply::Refusal>,
    ) -> Result<(), ControlError> {
        let now = self.shared.clock.now();
        let mut ledger = self.shared.ledger.lock().expect("ledger lock poisoned");
        let result = ledger.control(msn, reference, now, |payment, psp| action(payment, now, psp));
        let announcements = ledger.take_announcements();
        drop(ledger);
        self.shared.webhooks.announce(announcements);
        result
    }

    /// The user approves the payment in the app: CREATED -> AUTHORIZED (rule S2). Finds the
    /// payment by reference across merchants; see [`Controls::approve_for`] when several have it.
    pub fn approve(&self, reference: &str) -> Result<(), ControlError> {
        self.approve_for(None, reference)
    }

    /// [`Controls::approve`] for the payment of one merchant serial number.
    pub fn approve_for(&self, msn: Option<&str>, reference: &str) -> Result<(), ControlError> {
        self.act(msn, reference, |payment, now, psp| payment.approve(now, psp))
    }

    /// The user rejects the payment: CREATED -> ABORTED (rule S2).
    pub fn reject(&self, reference: &str) -> Result<(), ControlError> {
        self.reject_for(None, reference)
    }

    /// [`Controls::reject`] for the payment of one merchant serial number.
    pub fn reject_for(&self, msn: Option<&str>, reference: &str) -> Result<(), ControlError> {
        self.act(msn, reference, |payment, now, psp| payment.reject(now, psp))
    }

    /// The user opens the payment and starts approving; cancel is refused meanwhile (rule S6).
    pub fn begin_approval(&self, reference: &str) -> Result<(), ControlError> {
        self.begin_approval_for(None, reference)
    }

    /// [`Controls::begin_approval`] for the payment of one merchant serial number.
    pub fn begin_approval_for(&self, msn: Option<&str>, reference: &str) -> Result<(), ControlError> {
        self.act(msn, reference, |payment, _, _| payment.begin_approval())
    }

    /// Moves the simulator's clock forward (expiry, token lifetime, rate-limit windows and the
    /// 180/365-day limits all follow it).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// The simulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Adds a fault rule for the requests it matches.
    pub fn inject_fault(&self, rule: FaultRule) {
        self.shared.faults.add(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Registers a webhook for merchant `msn`, as `POST /webhooks/v1/webhooks` does: `url` must
    /// be `http` on loopback, `events` names like `epayments.payment.captured.v1` (see
    /// [`webhooks::event_types`]). Returns `(id, secret)`; the secret signs every delivery
    /// (rule W2) and is not shown again.
    pub fn register_webhook(
        &self,
        msn: &str,
        url: &str,
        events: &[&str],
    ) -> Result<(String, String), InvalidWebhook> {
        let events: Vec<String> = events.iter().map(|event| (*event).to_string()).collect();
        self.shared.webhooks.register(msn, url, &events)
    }

    /// [`Controls::register_webhook`] subscribed to every ePayment event.
    pub fn register_webhook_for_all_events(&self, msn: &str, url: &str) -> Result<(String, String), InvalidWebhook> {
        self.shared.webhooks.register(msn, url, &webhooks::event_types())
    }

    /// The webhooks registered for `msn`.
    pub fn webhooks(&self, msn: &str) -> Vec<Webhook> {
        self.shared.webhooks.list(msn)
    }

    /// Deletes webhook `id` of `msn`; `false` when there is none.
    pub fn delete_webhook(&self, msn: &str, id: &str) -> bool {
        self.shared.webhooks.delete(msn, id)
    }

    /// Delivers each of the next `events` payment events twice to every subscribed webhook
    /// (duplicate delivery, rule I10: receivers deduplicate by `pspReference`). `u32::MAX`
    /// duplicates every event until this is called with 0.
    pub fn duplicate_webhook_deliveries(&self, events: u32) {
        self.shared.webhooks.set_duplicates(events);
    }
}
