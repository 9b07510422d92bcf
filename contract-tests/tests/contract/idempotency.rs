//! Suite 2: idempotency keys on the wire (rules I1-I9).
//!
//! - Every request of an operation whose spec declares `Idempotency-Key` carries one within the
//!   spec's limits, the same on every attempt, the one the client hands back; no other operation
//!   sends one; distinct logical calls never share a key (I1, I2).
//! - A call retried through injected faults (connection dropped after commit, 503, 429, 423)
//!   keeps its key on every attempt and has exactly one effect, in the aggregate and in the
//!   event log (I3, I8, I9). Simulator only.
//! - A replay with the same key and body returns the same answer, byte for byte, stored 4xx
//!   included, with one effect (I3, I6).
//! - The same key with another body is refused: by the client before sending, and by the server
//!   (409 naming `Idempotency-Key`) when another client instance sends it (I4).

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use vipps_contract_tests::sim::{Fault, FaultRule, Operation};
use vipps_epayment::epayment::{
    Amount, AmountValue, CaptureModificationRequest, CreatePaymentRequest, CreatePaymentRequestReturnUrl,
    CreatePaymentRequestUserFlow, Currency, ForceApprove, IdempotencyKey, PaymentEventName, PaymentMethod, PaymentMethodType,
    Reference, RefundModificationRequest,
};
use vipps_epayment::strategies::epayment as values;
use vipps_epayment::{CallOptions, Client, Error, IdempotentOptions};

use crate::shapes::check_logged;
use crate::spec::spec;
use crate::target::Harness;
use crate::{Logged, config, logged, named_fields};

/// What the payments in these properties are authorized for.
const AUTHORIZED: i64 = 10_000;

fn nok(value: i64) -> Amount {
    Amount::new(Currency::Nok, AmountValue::new(value).expect("amount in range"))
}

fn order(reference: &Reference, value: i64) -> CreatePaymentRequest {
    let mut request = CreatePaymentRequest::new(
        nok(value),
        PaymentMethod::new(PaymentMethodType::Wallet),
        reference.clone(),
        CreatePaymentRequestUserFlow::WebRedirect,
    );
    request.return_url = Some(CreatePaymentRequestReturnUrl::new("https://shop.example.org/return").expect("valid URL"));
    request
}

/// Creates and force-approves a payment of [`AUTHORIZED`] øre, capturing `captured` of it.
pub async fn authorized_payment(harness: &Harness, client: &Client, captured: i64) -> Reference {
    let reference = harness.fresh_reference("idem");
    harness.pace().await;
    client.create_payment(&order(&reference, AUTHORIZED), IdempotentOptions::new()).await.expect("create");
    harness.pace().await;
    let mut approve = ForceApprove::default();
    approve.customer = harness.test_customer();
    client.force_approve(&reference, Some(&approve), CallOptions::new()).await.expect("force approve");
    if captured > 0 {
        harness.pace().await;
        let capture = CaptureModificationRequest::new(nok(captured));
        client.capture_payment(&reference, &capture, IdempotentOptions::new()).await.expect("capture");
    }
    reference
}

/// The idempotent operations of ePayment 1.8.1, and the event each one records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyed {
    /// `createPayment`
    Create,
    /// `capturePayment`
    Capture,
    /// `refundPayment`
    Refund,
}

impl Keyed {
    fn operation(self) -> &'static str {
        match self {
            Keyed::Create => "createPayment",
            Keyed::Capture => "capturePayment",
            Keyed::Refund => "refundPayment",
        }
    }

    fn sim_operation(self) -> Operation {
        match self {
            Keyed::Create => Operation::Create,
            Keyed::Capture => Operation::Capture,
            Keyed::Refund => Operation::Refund,
        }
    }

    fn event(self) -> PaymentEventName {
        match self {
            Keyed::Create => PaymentEventName::Created,
            Keyed::Capture => PaymentEventName::Captured,
            Keyed::Refund => PaymentEventName::Refunded,
        }
    }

    /// Captured before the call, so a refund has something to refund.
    fn captured_before(self) -> i64 {
        if self == Keyed::Refund { 8_000 } else { 0 }
    }
}

/// Caller keys: every `IdempotencyKey` the key type allows (its form, one rule in
/// `spec/codegen.yaml`, is what the simulator accepts too: 1 to 50 printable ASCII characters).
fn key() -> impl Strategy<Value = IdempotencyKey> {
    values::idempotency_key()
}

fn keyed() -> impl Strategy<Value = Keyed> {
    prop_oneof![Just(Keyed::Create), Just(Keyed::Capture), Just(Keyed::Refund)]
}

/// The wire and returned key of one keyed call on `reference` (a fresh reference for create).
async fn call(
    harness: &Harness,
    client: &Client,
    op: Keyed,
    reference: &Reference,
    amount: i64,
    key: Option<IdempotencyKey>,
) -> (Result<(), Error>, Option<String>, Logged) {
    let options = match key {
        Some(key) => IdempotentOptions::with_key(key),
        None => IdempotentOptions::new(),
    };
    let (result, call) = match op {
        Keyed::Create => {
            let (result, call) = logged(harness, op.operation(), client.create_payment(&order(reference, amount), options)).await;
            (result.map(|done| done.key.to_string()), call)
        }
        Keyed::Capture => {
            let body = CaptureModificationRequest::new(nok(amount));
            let (result, call) = logged(harness, op.operation(), client.capture_payment(reference, &body, options)).await;
            (result.map(|done| done.key.to_string()), call)
        }
        Keyed::Refund => {
            let body = RefundModificationRequest::new(nok(amount));
            let (result, call) = logged(harness, op.operation(), client.refund_payment(reference, &body, options)).await;
            (result.map(|done| done.key.to_string()), call)
        }
    };
    match result {
        Ok(key) => (Ok(()), Some(key), call),
        Err(error) => {
            let key = error.idempotency_key().map(str::to_string);
            (Err(error), key, call)
        }
    }
}

/// The one key every exchange of a call carried (fails when they differ or one is missing).
fn wire_key(call: &Logged) -> Result<String, TestCaseError> {
    let keys: BTreeSet<Option<&str>> = call.exchanges.iter().map(|e| e.header("Idempotency-Key")).collect();
    prop_assert_eq!(keys.len(), 1, "{}: attempts carry different keys: {:?}", call.operation, keys);
    let key = keys.into_iter().next().flatten();
    key.map(str::to_string).ok_or_else(|| TestCaseError::fail(format!("{}: no Idempotency-Key on the wire (rule I1)", call.operation)))
}

/// The events of `name` on `reference` carrying `key`, and the payment's aggregate
/// (authorized, captured, refunded).
async fn effects(client: &Client, reference: &Reference, name: PaymentEventName, key: &str) -> (usize, (i64, i64, i64)) {
    let events = client.get_payment_event_log(reference, CallOptions::new()).await.expect("event log");
    let payment = client.get_payment(reference, CallOptions::new()).await.expect("get");
    let count = events.iter().filter(|e| e.name == name && e.idempotency_key.as_ref().is_some_and(|k| k.as_str() == key)).count();
    let aggregate = &payment.aggregate;
    (count, (aggregate.authorized_amount.value.get(), aggregate.captured_amount.value.get(), aggregate.refunded_amount.value.get()))
}

/// One logical call of the key-presence property.
#[derive(Debug, Clone)]
pub enum Workload {
    /// A keyed call, with the caller's own key or a fresh one.
    Keyed(Keyed, i64, Option<IdempotencyKey>),
    /// `getPayment`
    Get,
    /// `getPaymentEventLog`
    Events,
    /// `cancelPayment` (ePayment 1.8.1 declares no key for it)
    Cancel,
    /// `forceApprove` (declares no key)
    Approve,
}

fn workload() -> impl Strategy<Value = Vec<Workload>> {
    let item = prop_oneof![
        4 => (keyed(), 1..3_000i64, proptest::option::of(key())).prop_map(|(op, amount, key)| Workload::Keyed(op, amount, key)),
        1 => Just(Workload::Get),
        1 => Just(Workload::Events),
        1 => Just(Workload::Cancel),
        1 => Just(Workload::Approve),
    ];
    proptest::collection::vec(item, 2..8)
}

/// The key-presence property for one workload.
pub async fn keys_on_the_wire(harness: &Harness, calls: &[Workload]) -> Result<(), TestCaseError> {
    let (client, _) = harness.client();
    let reference = authorized_payment(harness, &client, 0).await;
    let mut used_keys: BTreeSet<String> = BTreeSet::new();
    for item in calls {
        let call = match item {
            Workload::Keyed(op, amount, caller_key) => {
                // A caller key used twice would make one logical call of two; keep them unique.
                let caller_key = caller_key.clone().filter(|key| !used_keys.contains(key.as_str()));
                let target = if *op == Keyed::Create { harness.fresh_reference("keys") } else { reference.clone() };
                let (result, returned, call) = call(harness, &client, *op, &target, *amount, caller_key.clone()).await;
                let sent = wire_key(&call)?;
                prop_assert_eq!(returned.as_deref(), Some(sent.as_str()), "the key handed back is not the key sent");
                if let Some(caller_key) = caller_key {
                    prop_assert_eq!(sent.as_str(), caller_key.as_str(), "the caller's key was not sent as it is");
                }
                prop_assert!(used_keys.insert(sent.clone()), "{}: key {} was already used by another logical call", call.operation, sent);
                check_logged(&call, result.is_ok(), &[])?;
                continue;
            }
            Workload::Get => logged(harness, "getPayment", client.get_payment(&reference, CallOptions::new())).await.1,
            Workload::Events => logged(harness, "getPaymentEventLog", client.get_payment_event_log(&reference, CallOptions::new())).await.1,
            Workload::Cancel => logged(harness, "cancelPayment", client.cancel_payment(&reference, None, CallOptions::new())).await.1,
            Workload::Approve => {
                let mut approve = ForceApprove::default();
                approve.customer = harness.test_customer();
                logged(harness, "forceApprove", client.force_approve(&reference, Some(&approve), CallOptions::new())).await.1
            }
        };
        let declared = spec().operation(call.operation).declares_header("Idempotency-Key");
        prop_assert!(!declared, "{} declares a key but was called without one", call.operation);
        for exchange in &call.exchanges {
            prop_assert!(exchange.header("Idempotency-Key").is_none(), "{} invents an Idempotency-Key", call.operation);
        }
        check_logged(&call, false, &[])?;
    }
    Ok(())
}

#[test]
fn keys_are_declared_within_limits_and_unique_per_logical_call() {
    let harness = Harness::simulator();
    let mut runner = TestRunner::new(config!(crate::cases(32), "contract-idempotency-keys.txt"));
    if let Err(error) = runner.run(&workload(), |calls| harness.block_on(keys_on_the_wire(&harness, &calls))) {
        panic!("{error}");
    }
}

/// A fault the client must retry through.
#[derive(Debug, Clone)]
pub enum Injected {
    /// The change is committed, then the connection closes without an answer.
    DropAfterCommit,
    /// 503, nothing changes.
    Unavailable,
    /// 429 with `Retry-After: 0`, nothing changes.
    RateLimited,
    /// 423 with `Retry-After: 0`, nothing changes.
    Locked,
}

impl Injected {
    fn fault(&self) -> Fault {
        match self {
            Injected::DropAfterCommit => Fault::DropAfterCommit,
            Injected::Unavailable => Fault::unavailable(),
            Injected::RateLimited => Fault::too_many_requests(0),
            Injected::Locked => Fault::locked(0),
        }
    }
}

fn injected() -> impl Strategy<Value = Injected> {
    prop_oneof![Just(Injected::DropAfterCommit), Just(Injected::Unavailable), Just(Injected::RateLimited), Just(Injected::Locked)]
}

#[test]
fn retried_calls_keep_their_key_and_take_effect_once() {
    let harness = Harness::simulator();
    let mut runner = TestRunner::new(config!(crate::cases(32), "contract-idempotency-retries.txt"));
    let strategy = (keyed(), injected(), 1..=2u32, 1..=5_000i64);
    let result = runner.run(&strategy, |(op, injected, times, amount)| {
        harness.block_on(async {
            let (client, msn) = harness.client();
            let reference = match op {
                Keyed::Create => harness.fresh_reference("retry"),
                _ => authorized_payment(&harness, &client, op.captured_before()).await,
            };
            let before = if op == Keyed::Create { (0, 0, 0) } else { effects(&client, &reference, op.event(), "-").await.1 };
            harness.sim().inject_fault(FaultRule::new(injected.fault()).on(op.sim_operation()).for_reference(reference.as_str()).times(times));
            let (result, returned, call) = call(&harness, &client, op, &reference, amount, None).await;
            harness.sim().clear_faults();
            prop_assert!(result.is_ok(), "{:?} through {} x {:?}: {:?}", op, times, injected, result);
            prop_assert_eq!(call.exchanges.len(), times as usize + 1, "attempts: {:?}", call.exchanges.iter().map(|e| e.summary()).collect::<Vec<_>>());
            // Each failed attempt met the injected fault; the last one succeeded.
            for (attempt, exchange) in call.exchanges.iter().enumerate() {
                let status = exchange.answer.as_ref().map(|answer| answer.status);
                let expected = match (&injected, attempt < times as usize) {
                    (_, false) => Some(if op == Keyed::Create { 201 } else { 200 }),
                    (Injected::DropAfterCommit, true) => None,
                    (Injected::Unavailable, true) => Some(503),
                    (Injected::RateLimited, true) => Some(429),
                    (Injected::Locked, true) => Some(423),
                };
                prop_assert_eq!(status, expected, "attempt {}", attempt + 1);
            }
            let key = wire_key(&call)?;
            prop_assert_eq!(returned.as_deref(), Some(key.as_str()));
            check_logged(&call, true, &[])?;
            // Exactly one effect (rule I3), recorded once with the call's key (rule I9).
            let (count, after) = effects(&client, &reference, op.event(), &key).await;
            prop_assert_eq!(count, 1, "{:?}: {} events carry the key {}", op.event(), count, key);
            let expected = match op {
                Keyed::Create => (0, 0, 0),
                Keyed::Capture => (before.0, before.1 + amount, before.2),
                Keyed::Refund => (before.0, before.1, before.2 + amount),
            };
            prop_assert_eq!(after, expected, "aggregate (authorized, captured, refunded) of {} (msn {})", reference, msn);
            Ok(())
        })
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Rule I8 with a `Retry-After` above zero: a capture or refund whose first attempt meets an
/// injected 423 or 429 with `Retry-After: 1` is retried by the client only after at least that
/// second, once, with the same key, and takes effect once. The four cases run at once (one
/// second of real time in all).
#[test]
fn retry_after_above_zero_is_waited_out() {
    let harness = Harness::simulator();
    let (client, _) = harness.client();
    let cases = [
        (Keyed::Capture, Fault::locked(1), 423),
        (Keyed::Capture, Fault::too_many_requests(1), 429),
        (Keyed::Refund, Fault::locked(1), 423),
        (Keyed::Refund, Fault::too_many_requests(1), 429),
    ];
    let mut references = Vec::new();
    for (op, fault, _) in &cases {
        let reference = harness.block_on(authorized_payment(&harness, &client, op.captured_before()));
        harness.sim().inject_fault(FaultRule::new(fault.clone()).on(op.sim_operation()).for_reference(reference.as_str()).times(1));
        references.push(reference);
    }
    let mark = harness.recorder.mark();
    let (harness_ref, client_ref, references_ref) = (&harness, &client, &references);
    let timed = |index: usize| {
        let (reference, op) = (&references_ref[index], cases[index].0);
        async move {
            let started = std::time::Instant::now();
            let (result, key, _) = call(harness_ref, client_ref, op, reference, 500, None).await;
            (result, key, started.elapsed())
        }
    };
    let (a, b, c, d) = harness.block_on(async { tokio::join!(timed(0), timed(1), timed(2), timed(3)) });
    let exchanges = harness.recorder.since(mark);
    for (((op, fault, status), reference), (result, key, waited)) in cases.iter().zip(&references).zip([a, b, c, d]) {
        assert!(result.is_ok(), "{op:?} through {fault}: {result:?}");
        assert!(waited >= std::time::Duration::from_secs(1), "{op:?} through {fault}: retried after {waited:?}, before its Retry-After");
        let attempts: Vec<_> = exchanges.iter().filter(|e| e.method == "POST" && e.path.contains(reference.as_str())).collect();
        let statuses: Vec<Option<u16>> = attempts.iter().map(|e| e.answer.as_ref().map(|a| a.status)).collect();
        assert_eq!(statuses, [Some(*status), Some(200)], "{op:?} through {fault}: the attempts");
        assert_eq!(attempts[0].answer.as_ref().and_then(|a| a.header("retry-after")), Some("1"));
        let keys: Vec<Option<&str>> = attempts.iter().map(|e| e.header("Idempotency-Key")).collect();
        assert_eq!(keys, [key.as_deref(), key.as_deref()], "{op:?} through {fault}: the same key on both attempts");
        let (count, _) = harness.block_on(effects(&client, reference, op.event(), key.as_deref().expect("a key")));
        assert_eq!(count, 1, "{op:?} through {fault}: one effect");
    }
}

/// The replay property: the same key and body twice returns the same answer and one effect.
pub async fn replay(harness: &Harness, op: Keyed, amount: i64, key: IdempotencyKey) -> Result<(), TestCaseError> {
    let (client, _) = harness.client();
    let reference = match op {
        Keyed::Create => harness.fresh_reference("replay"),
        _ => authorized_payment(harness, &client, op.captured_before()).await,
    };
    let before = if op == Keyed::Create { None } else { Some(effects(&client, &reference, op.event(), key.as_str()).await.1) };
    let (first, _, first_call) = call(harness, &client, op, &reference, amount, Some(key.clone())).await;
    let (second, _, second_call) = call(harness, &client, op, &reference, amount, Some(key.clone())).await;
    check_logged(&first_call, first.is_ok(), &[])?;
    check_logged(&second_call, second.is_ok(), &[])?;
    let answer = |call: &Logged| call.exchanges.last().and_then(|e| e.answer.clone()).map(|a| (a.status, a.body));
    let (first_answer, second_answer) = (answer(&first_call), answer(&second_call));
    prop_assert!(first_answer.is_some(), "no answer");
    prop_assert_eq!(first_answer.clone(), second_answer, "the replay answers differently (rules I3, I6)");
    let (count, after) = effects(&client, &reference, op.event(), key.as_str()).await;
    prop_assert_eq!(count, usize::from(first.is_ok()), "{:?} events with the key", op.event());
    if let Some(before) = before {
        let once = match (op, first.is_ok()) {
            (_, false) | (Keyed::Create, _) => before,
            (Keyed::Capture, true) => (before.0, before.1 + amount, before.2),
            (Keyed::Refund, true) => (before.0, before.1, before.2 + amount),
        };
        prop_assert_eq!(after, once, "aggregate after a replay");
    }
    Ok(())
}

#[test]
fn a_replay_with_the_same_key_returns_the_same_answer() {
    let harness = Harness::simulator();
    let mut runner = TestRunner::new(config!(crate::cases(32), "contract-idempotency-replay.txt"));
    // Amounts above what remains make the first answer a stored 409 (rule I6).
    let strategy = (keyed(), 1..=12_000i64, key());
    if let Err(error) = runner.run(&strategy, |(op, amount, key)| harness.block_on(replay(&harness, op, amount, key))) {
        panic!("{error}");
    }
}

/// The conflict property: the same key with another body is refused before sending by the client
/// that sent it, and with 409 by the server when another client sends it.
pub async fn conflict(harness: &Harness, op: Keyed, amount: i64, more: i64, key: IdempotencyKey) -> Result<(), TestCaseError> {
    let (client, msn) = harness.client();
    let reference = match op {
        Keyed::Create => harness.fresh_reference("conflict"),
        _ => authorized_payment(harness, &client, op.captured_before()).await,
    };
    let (first, _, _) = call(harness, &client, op, &reference, amount, Some(key.clone())).await;
    prop_assert!(first.is_ok(), "{:?}", first);
    let before = effects(&client, &reference, op.event(), key.as_str()).await;
    let (again, _, again_call) = call(harness, &client, op, &reference, amount + more, Some(key.clone())).await;
    prop_assert!(matches!(again, Err(Error::IdempotencyKeyReused { .. })), "the client sent a reused key with another body: {:?}", again);
    prop_assert!(again_call.exchanges.is_empty(), "the client sent it anyway");
    let other = harness.client_for(&msn);
    let (refused, _, refused_call) = call(harness, &other, op, &reference, amount + more, Some(key.clone())).await;
    prop_assert_eq!(refused.as_ref().err().and_then(Error::status), Some(409), "{:?}", refused);
    let problem = refused_call.exchanges.last().and_then(|e| e.answer.as_ref()).and_then(|a| a.json()).unwrap_or_default();
    prop_assert!(named_fields(&problem).iter().any(|f| f == "Idempotency-Key"), "409 does not name Idempotency-Key: {}", problem);
    if !harness.is_live() {
        // The simulator's own Problem for rule I4, not another 409 (a state refusal, a reused
        // reference).
        prop_assert_eq!(&problem["type"], "urn:epayment-sim:problem:idempotency-conflict", "{}", problem);
        prop_assert_eq!(&problem["title"], "Idempotency conflict");
    }
    check_logged(&refused_call, false, &[])?;
    let after = effects(&client, &reference, op.event(), key.as_str()).await;
    prop_assert_eq!(after, before, "the refused call changed something (rule I4)");
    prop_assert_eq!(after.0, 1, "one event with the key");
    Ok(())
}

#[test]
fn the_same_key_with_another_body_is_refused() {
    let harness = Harness::simulator();
    let mut runner = TestRunner::new(config!(crate::cases(32), "contract-idempotency-conflict.txt"));
    let strategy = (keyed(), 1..=1_000i64, 1..=500i64, key());
    let result = runner.run(&strategy, |(op, amount, more, key)| harness.block_on(conflict(&harness, op, amount, more, key)));
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Strategies the live target reuses.
pub fn live_strategies() -> (impl Strategy<Value = Vec<Workload>>, impl Strategy<Value = (Keyed, i64, IdempotencyKey)>) {
    (workload(), (keyed(), 1..=1_000i64, key()))
}
