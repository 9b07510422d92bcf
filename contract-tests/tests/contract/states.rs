//! Suite 3: the payment state rules.
//!
//! A reference model of the payment lifecycle (rules S1-S9, S11 and the simulator's documented
//! choices) drives random sequences of create / approve / reject / capture / refund / cancel /
//! wait (expiry) / get over several payments at once, through the generated client, with
//! `proptest-state-machine`. After every step, for every payment, the observed state, aggregate
//! amounts and event log (names, amounts, idempotency keys) equal the model's, and the
//! invariants hold: captured <= authorized, refunded <= captured, captured + cancelled <=
//! authorized, no amount decreases, terminal states stay terminal, the event log only grows.
//! Every exchange of a case is checked against the spec. A failure shrinks to a minimal
//! sequence, printed as numbered steps; its seed is kept in `proptest-regressions/`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};
use proptest_state_machine::strategy::Sequential;
use vipps_epayment::epayment::{
    Amount, AmountValue, CaptureModificationRequest, CreatePaymentRequest, CreatePaymentRequestReturnUrl,
    CreatePaymentRequestUserFlow, Currency, ForceApprove, GetPaymentResponse, PaymentEvent, PaymentEventName, PaymentMethod,
    PaymentMethodType, Reference, RefundModificationRequest, State,
};
use vipps_epayment::{CallOptions, Client, Error, IdempotentOptions};

use crate::spec::spec;
use crate::target::Harness;

/// Payments a sequence works on at once.
const MAX_PAYMENTS: usize = 3;
/// The user's time to act on a payment, in minutes (rule S11).
const USER_MINUTES: u32 = 10;

/// A payment's lifecycle state (rule S1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// CREATED
    Created,
    /// AUTHORIZED
    Authorized,
    /// ABORTED (final)
    Aborted,
    /// EXPIRED (final)
    Expired,
    /// TERMINATED (final)
    Terminated,
}

impl Phase {
    fn state(self) -> State {
        match self {
            Phase::Created => State::Created,
            Phase::Authorized => State::Authorized,
            Phase::Aborted => State::Aborted,
            Phase::Expired => State::Expired,
            Phase::Terminated => State::Terminated,
        }
    }
}

/// One payment in the model.
#[derive(Debug, Clone)]
pub struct PaymentModel {
    amount: i64,
    currency: Currency,
    created_at: u32,
    phase: Phase,
    authorized: i64,
    captured: i64,
    cancelled: i64,
    refunded: i64,
    cancel_done: bool,
    events: Vec<(PaymentEventName, i64)>,
}

/// The model: the payments and the simulator's clock (minutes since the case started).
#[derive(Debug, Clone)]
pub struct Model {
    live: bool,
    now: u32,
    payments: Vec<PaymentModel>,
}

/// One step. `payment` is the index of a payment in the order of creation.
#[derive(Debug, Clone)]
pub enum Step {
    /// The merchant creates payment `payment` (always the next index).
    Create { payment: usize, amount: i64, currency: Currency },
    /// The user approves (force-approve through the client).
    Approve { payment: usize },
    /// The user rejects (simulator control).
    Reject { payment: usize },
    /// The merchant captures `amount`.
    Capture { payment: usize, amount: i64 },
    /// The merchant refunds `amount`.
    Refund { payment: usize, amount: i64 },
    /// The merchant cancels.
    Cancel { payment: usize },
    /// Time passes (simulator clock); payments the user did not act on expire.
    Wait { minutes: u32 },
    /// The merchant reads the payment.
    Get { payment: usize },
}

/// What the model says a step answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (2xx, or the control succeeded).
    Done,
    /// Refused with this status (a refused control counts as 409).
    Refused(u16),
}

impl Model {
    fn new(live: bool) -> Self {
        Model { live, now: 0, payments: Vec::new() }
    }

    /// What `step` answers in this state.
    pub fn outcome(&self, step: &Step) -> Outcome {
        use Outcome::{Done, Refused};
        let payment = |index: usize| &self.payments[index];
        match *step {
            Step::Create { .. } | Step::Wait { .. } | Step::Get { .. } => Done,
            // Rule S2: only a CREATED payment can be approved or rejected.
            Step::Approve { payment: p } | Step::Reject { payment: p } => {
                if payment(p).phase == Phase::Created { Done } else { Refused(409) }
            }
            // Rule S7: only after authorization, not after cancel, never above what remains.
            Step::Capture { payment: p, amount } => {
                let m = payment(p);
                let remaining = m.authorized - m.captured - m.cancelled;
                if m.phase == Phase::Authorized && !m.cancel_done && amount <= remaining { Done } else { Refused(409) }
            }
            // Rule S8: only captured money, never above what was captured and not refunded.
            Step::Refund { payment: p, amount } => {
                let m = payment(p);
                if m.phase == Phase::Authorized && amount <= m.captured - m.refunded { Done } else { Refused(409) }
            }
            // Rules S4-S6; a repeated cancel answers 200 and changes nothing (simulator).
            Step::Cancel { payment: p } => {
                let m = payment(p);
                match m.phase {
                    Phase::Created | Phase::Terminated => Done,
                    Phase::Authorized if m.cancel_done => Done,
                    Phase::Authorized if m.captured >= m.authorized => Refused(409),
                    Phase::Authorized => Done,
                    Phase::Aborted | Phase::Expired => Refused(409),
                }
            }
        }
    }

    /// The state after `step`.
    pub fn apply(mut self, step: &Step) -> Self {
        if self.outcome(step) != Outcome::Done {
            return self;
        }
        match step {
            Step::Create { amount, currency, .. } => self.payments.push(PaymentModel {
                amount: *amount,
                currency: currency.clone(),
                created_at: self.now,
                phase: Phase::Created,
                authorized: 0,
                captured: 0,
                cancelled: 0,
                refunded: 0,
                cancel_done: false,
                events: vec![(PaymentEventName::Created, *amount)],
            }),
            Step::Approve { payment } => {
                let m = &mut self.payments[*payment];
                m.phase = Phase::Authorized;
                m.authorized = m.amount;
                m.events.push((PaymentEventName::Authorized, m.amount));
            }
            Step::Reject { payment } => {
                let m = &mut self.payments[*payment];
                m.phase = Phase::Aborted;
                m.events.push((PaymentEventName::Aborted, m.amount));
            }
            Step::Capture { payment, amount } => {
                let m = &mut self.payments[*payment];
                m.captured += amount;
                m.events.push((PaymentEventName::Captured, *amount));
            }
            Step::Refund { payment, amount } => {
                let m = &mut self.payments[*payment];
                m.refunded += amount;
                m.events.push((PaymentEventName::Refunded, *amount));
            }
            Step::Cancel { payment } => {
                let m = &mut self.payments[*payment];
                match m.phase {
                    Phase::Created => {
                        m.phase = Phase::Terminated;
                        m.events.push((PaymentEventName::Terminated, m.amount));
                    }
                    Phase::Authorized if !m.cancel_done => {
                        let remainder = m.authorized - m.captured;
                        m.cancelled += remainder;
                        m.cancel_done = true;
                        m.events.push((PaymentEventName::Cancelled, remainder));
                    }
                    _ => {}
                }
            }
            Step::Wait { minutes } => {
                self.now += minutes;
                for m in &mut self.payments {
                    if m.phase == Phase::Created && m.created_at + USER_MINUTES <= self.now {
                        m.phase = Phase::Expired;
                        m.events.push((PaymentEventName::Expired, m.amount));
                    }
                }
            }
            Step::Get { .. } => {}
        }
        self
    }

    fn preconditions(&self, step: &Step) -> bool {
        let exists = |p: usize| p < self.payments.len();
        match *step {
            Step::Create { payment, .. } => payment == self.payments.len() && payment < MAX_PAYMENTS,
            Step::Reject { payment } => !self.live && exists(payment),
            Step::Wait { .. } => !self.live,
            Step::Approve { payment } | Step::Cancel { payment } | Step::Get { payment } => exists(payment),
            Step::Capture { payment, .. } | Step::Refund { payment, .. } => exists(payment),
        }
    }

    fn transitions(&self) -> BoxedStrategy<Step> {
        let n = self.payments.len();
        let currency = prop_oneof![Just(Currency::Nok), Just(Currency::Dkk), Just(Currency::Eur)];
        let create = (1..=20_000i64, currency).prop_map(move |(amount, currency)| Step::Create { payment: n, amount, currency }).boxed();
        if n == 0 {
            return create;
        }
        // Per payment, the steps that make sense in its phase weigh most; the others stay
        // possible (they must be refused). Amounts mostly within what the rules allow,
        // sometimes just above.
        let amount_near = |limit: i64| prop_oneof![4 => 1..=limit.max(1), 1 => limit.max(1) + 1..=limit.max(1) + 200].boxed();
        let mut options: Vec<(u32, BoxedStrategy<Step>)> = Vec::new();
        for (payment, m) in self.payments.iter().enumerate() {
            let capturable = m.authorized - m.captured - m.cancelled;
            let refundable = m.captured - m.refunded;
            let (approve, capture, refund, cancel) = match m.phase {
                Phase::Created => (6, 1, 1, 1),
                Phase::Authorized => (1, if capturable > 0 { 6 } else { 1 }, if refundable > 0 { 4 } else { 1 }, 1),
                _ => (1, 1, 1, 1),
            };
            options.push((approve, Just(Step::Approve { payment }).boxed()));
            options.push((capture, amount_near(capturable).prop_map(move |amount| Step::Capture { payment, amount }).boxed()));
            options.push((refund, amount_near(refundable).prop_map(move |amount| Step::Refund { payment, amount }).boxed()));
            options.push((cancel, Just(Step::Cancel { payment }).boxed()));
            options.push((1, Just(Step::Get { payment }).boxed()));
            if !self.live {
                options.push((1, Just(Step::Reject { payment }).boxed()));
            }
        }
        if n < MAX_PAYMENTS {
            options.push((3, create));
        }
        if !self.live {
            options.push((1, prop_oneof![Just(4u32), Just(11u32)].prop_map(|minutes| Step::Wait { minutes }).boxed()));
        }
        proptest::strategy::Union::new_weighted(options).boxed()
    }
}

/// Random sequences of 1..=`max_steps` steps; shrinking keeps the preconditions.
pub fn sequences(live: bool, max_steps: usize) -> Sequential<Model, Step, BoxedStrategy<Model>, BoxedStrategy<Step>> {
    Sequential::new(
        (1..=max_steps).into(),
        move || Just(Model::new(live)).boxed(),
        |model: &Model, step: &Step| model.preconditions(step),
        |model: &Model| model.transitions(),
        |model: Model, step: &Step| model.apply(step),
    )
}

/// A sequence as numbered steps.
pub struct Listing<'a>(pub &'a [Step]);

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            writeln!(f, "  {:>2}. {step:?}", i + 1)?;
        }
        Ok(())
    }
}

fn is_final(state: &State) -> bool {
    matches!(state, State::Aborted | State::Expired | State::Terminated)
}

/// One payment as the target shows it.
#[derive(Debug, Clone)]
struct Observed {
    payment: GetPaymentResponse,
    events: Vec<PaymentEvent>,
}

/// The system under test: the client, the payments it made and what was last observed.
struct Sut<'h> {
    harness: &'h Harness,
    client: Client,
    msn: String,
    references: Vec<Reference>,
    create_keys: Vec<String>,
    /// Per payment, the key each event must carry (`None`: any valid key, e.g. a cancel's).
    event_keys: Vec<Vec<Option<String>>>,
    observed: Vec<Observed>,
}

fn money(currency: &Currency, value: i64) -> Amount {
    Amount::new(currency.clone(), AmountValue::new(value).expect("amount in range"))
}

fn outcome_of<T>(result: &Result<T, Error>) -> Result<Outcome, String> {
    match result {
        Ok(_) => Ok(Outcome::Done),
        Err(error) => error.status().map(Outcome::Refused).ok_or_else(|| format!("no answer: {error}")),
    }
}

impl<'h> Sut<'h> {
    fn new(harness: &'h Harness) -> Self {
        let (client, msn) = harness.client();
        Sut { harness, client, msn, references: Vec::new(), create_keys: Vec::new(), event_keys: Vec::new(), observed: Vec::new() }
    }

    /// Runs `step`; returns what it answered and the idempotency key it sent, if any.
    async fn run(&mut self, step: &Step, model: &Model) -> Result<(Outcome, Option<String>), String> {
        self.harness.pace().await;
        let client = &self.client;
        Ok(match step {
            Step::Create { amount, currency, .. } => {
                let reference = self.harness.fresh_reference("state");
                let mut request = CreatePaymentRequest::new(
                    money(currency, *amount),
                    PaymentMethod::new(PaymentMethodType::Wallet),
                    reference.clone(),
                    CreatePaymentRequestUserFlow::WebRedirect,
                );
                request.return_url = Some(CreatePaymentRequestReturnUrl::new("https://shop.example.org/return").expect("valid URL"));
                let result = client.create_payment(&request, IdempotentOptions::new()).await;
                let outcome = outcome_of(&result)?;
                let key = result.map(|done| done.key.to_string()).map_err(|error| format!("create failed: {error}"))?;
                self.references.push(reference);
                self.create_keys.push(key.clone());
                self.event_keys.push(Vec::new());
                (outcome, Some(key))
            }
            Step::Approve { payment } => {
                let mut approve = ForceApprove::default();
                approve.customer = self.harness.test_customer();
                (outcome_of(&client.force_approve(&self.references[*payment], Some(&approve), CallOptions::new()).await)?, None)
            }
            Step::Reject { payment } => {
                let result = self.harness.sim().reject_for(Some(&self.msn), self.references[*payment].as_str());
                (if result.is_ok() { Outcome::Done } else { Outcome::Refused(409) }, None)
            }
            Step::Capture { payment, amount } => {
                let body = CaptureModificationRequest::new(money(&model.payments[*payment].currency, *amount));
                let result = client.capture_payment(&self.references[*payment], Some(&body), IdempotentOptions::new()).await;
                let key = match &result {
                    Ok(done) => Some(done.key.to_string()),
                    Err(error) => error.idempotency_key().map(str::to_string),
                };
                (outcome_of(&result)?, key)
            }
            Step::Refund { payment, amount } => {
                let body = RefundModificationRequest::new(money(&model.payments[*payment].currency, *amount));
                let result = client.refund_payment(&self.references[*payment], Some(&body), IdempotentOptions::new()).await;
                let key = match &result {
                    Ok(done) => Some(done.key.to_string()),
                    Err(error) => error.idempotency_key().map(str::to_string),
                };
                (outcome_of(&result)?, key)
            }
            Step::Cancel { payment } => {
                (outcome_of(&client.cancel_payment(&self.references[*payment], None, CallOptions::new()).await)?, None)
            }
            Step::Wait { minutes } => {
                self.harness.sim().advance_clock(Duration::from_secs(u64::from(*minutes) * 60));
                (Outcome::Done, None)
            }
            Step::Get { payment } => (outcome_of(&client.get_payment(&self.references[*payment], CallOptions::new()).await)?, None),
        })
    }

    async fn observe(&self, index: usize) -> Result<Observed, String> {
        let reference = &self.references[index];
        let payment = self.client.get_payment(reference, CallOptions::new()).await.map_err(|e| format!("get payment {index}: {e}"))?;
        let events = self.client.get_payment_event_log(reference, CallOptions::new()).await.map_err(|e| format!("event log of payment {index}: {e}"))?;
        Ok(Observed { payment, events })
    }

    /// Runs `step` and checks everything against `before` (the model before) and `after`.
    async fn step(&mut self, step: &Step, before: &Model, after: &Model) -> Result<(), String> {
        let expected = before.outcome(step);
        let (answered, key) = self.run(step, before).await?;
        if answered != expected {
            return Err(format!("answered {answered:?}, the model says {expected:?}"));
        }
        for (index, model) in after.payments.iter().enumerate() {
            // The keys the new events must carry (rule I9).
            let known = self.event_keys[index].len();
            for (name, _) in &model.events[known..] {
                let expected_key = match name {
                    PaymentEventName::Created | PaymentEventName::Authorized | PaymentEventName::Aborted | PaymentEventName::Expired => {
                        Some(self.create_keys[index].clone())
                    }
                    PaymentEventName::Captured | PaymentEventName::Refunded => key.clone(),
                    _ => None,
                };
                self.event_keys[index].push(expected_key);
            }
            let now = self.observe(index).await?;
            let previous = self.observed.get(index);
            check_invariants(index, previous, &now)?;
            check_against_model(index, model, &self.event_keys[index], &now)?;
            if index < self.observed.len() {
                self.observed[index] = now;
            } else {
                self.observed.push(now);
            }
        }
        Ok(())
    }
}

/// Rule S9 and the lifecycle invariants, on what the target shows.
fn check_invariants(index: usize, previous: Option<&Observed>, now: &Observed) -> Result<(), String> {
    let a = &now.payment.aggregate;
    let (authorized, captured, cancelled, refunded) =
        (a.authorized_amount.value.get(), a.captured_amount.value.get(), a.cancelled_amount.value.get(), a.refunded_amount.value.get());
    let say = |what: String| Err(format!("payment {index}: {what} (aggregate {authorized}/{captured}/{cancelled}/{refunded})"));
    if captured > authorized {
        return say(format!("captured {captured} > authorized {authorized} (rule S9)"));
    }
    if refunded > captured {
        return say(format!("refunded {refunded} > captured {captured} (rule S9)"));
    }
    if captured + cancelled > authorized {
        return say(format!("captured {captured} + cancelled {cancelled} > authorized {authorized} (rule S9)"));
    }
    for amount in [&a.authorized_amount, &a.captured_amount, &a.cancelled_amount, &a.refunded_amount] {
        if amount.currency != now.payment.amount.currency {
            return say(format!("aggregate in {} for a payment in {} (rule S9)", amount.currency, now.payment.amount.currency));
        }
    }
    if let Some(previous) = previous {
        let p = &previous.payment.aggregate;
        let before = [p.authorized_amount.value.get(), p.captured_amount.value.get(), p.cancelled_amount.value.get(), p.refunded_amount.value.get()];
        if before.iter().zip([authorized, captured, cancelled, refunded]).any(|(b, n)| n < *b) {
            return say(format!("an amount decreased from {before:?} (rule S9)"));
        }
        if is_final(&previous.payment.state) && previous.payment.state != now.payment.state {
            return say(format!("left the final state {} for {} (rule S1)", previous.payment.state, now.payment.state));
        }
        let prefix = previous.events.len() <= now.events.len()
            && previous.events.iter().zip(&now.events).all(|(p, n)| p.psp_reference == n.psp_reference && p.name == n.name);
        if !prefix {
            return say(format!("the event log did not only grow: {} events, then {}", previous.events.len(), now.events.len()));
        }
    }
    Ok(())
}

/// The observed state, aggregate and event log equal the model's.
fn check_against_model(index: usize, model: &PaymentModel, keys: &[Option<String>], now: &Observed) -> Result<(), String> {
    let a = &now.payment.aggregate;
    let observed = (a.authorized_amount.value.get(), a.captured_amount.value.get(), a.cancelled_amount.value.get(), a.refunded_amount.value.get());
    let modelled = (model.authorized, model.captured, model.cancelled, model.refunded);
    if now.payment.state != model.phase.state() {
        return Err(format!("payment {index}: state {}, the model says {}", now.payment.state, model.phase.state()));
    }
    if observed != modelled {
        return Err(format!("payment {index}: aggregate (authorized, captured, cancelled, refunded) {observed:?}, the model says {modelled:?}"));
    }
    let events: Vec<(PaymentEventName, i64)> = now.events.iter().map(|e| (e.name.clone(), e.amount.value.get())).collect();
    if events != model.events {
        return Err(format!("payment {index}: event log {events:?}, the model says {:?}", model.events));
    }
    for (event, expected) in now.events.iter().zip(keys) {
        let key = event.idempotency_key.as_ref().map(|k| k.as_str());
        if !event.success {
            return Err(format!("payment {index}: event {} is not a success", event.name));
        }
        match (key, expected) {
            (Some(key), Some(expected)) if key == expected => {}
            (Some(key), None) if !key.is_empty() && key.chars().count() <= 50 => {}
            (key, expected) => return Err(format!("payment {index}: event {} carries key {key:?}, expected {expected:?} (rule I9)", event.name)),
        }
    }
    Ok(())
}

/// Runs one sequence against the harness's target; the error names the failing step and lists
/// the steps up to it.
pub fn run_sequence(harness: &Harness, init: Model, steps: &[Step], seen: Option<&Arc<AtomicUsize>>) -> Result<(), TestCaseError> {
    let mark = harness.recorder.mark();
    let mut sut = Sut::new(harness);
    let mut model = init;
    for (i, step) in steps.iter().enumerate() {
        if let Some(seen) = seen {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        let after = model.clone().apply(step);
        if let Err(why) = harness.block_on(sut.step(step, &model, &after)) {
            return Err(TestCaseError::fail(format!("step {} ({step:?}): {why}\nsteps run:\n{}", i + 1, Listing(&steps[..=i]))));
        }
        model = after;
    }
    let problems = spec().check_exchanges(&harness.recorder.since(mark));
    if !problems.is_empty() {
        return Err(TestCaseError::fail(format!("the wire breaks the spec:\n  {}\nsteps run:\n{}", problems.join("\n  "), Listing(steps))));
    }
    Ok(())
}

/// Runs the state machine with `cases` sequences of up to `max_steps` steps; panics with the
/// minimal failing sequence.
pub fn check_state_rules(harness: &Harness, live: bool, cases: u32, max_steps: usize) {
    let mut runner = TestRunner::new(crate::config!(cases, "contract-states.txt"));
    let result = runner.run(&sequences(live, max_steps), |(init, steps, seen)| run_sequence(harness, init, &steps, seen.as_ref()));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (_, steps, _))) => {
            panic!("the state rules are broken.\n{reason}\nminimal failing sequence ({} steps):\n{}", steps.len(), Listing(&steps))
        }
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn random_sequences_follow_the_state_rules() {
    let harness = Harness::simulator();
    check_state_rules(&harness, false, crate::cases(128), 40);
}
