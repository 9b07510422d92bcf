//! Fault injection for client tests, and retries with the same key (rules I3, I8).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use vipps_contract_tests::sim::{FAULT_HEADER, Fault, FaultRule, Operation};
use vipps_epayment::Error;
use vipps_epayment::epayment::{PaymentEvent, PaymentEventName, State};
use vipps_epayment::runtime::{RetryPolicy, TransportKind};

use crate::support::{Api, Outcome, attempts, error_header, fast_retries, kinds, payment_request, problem_as, start};

fn captures(events: &[PaymentEvent]) -> Vec<(i64, String)> {
    events
        .iter()
        .filter(|e| e.name == PaymentEventName::Captured)
        .map(|e| (e.amount.value.get(), e.idempotency_key.as_ref().map(|k| k.as_str().to_string()).unwrap_or_default()))
        .collect()
}

// rule I3: the connection drops after the change is committed; the retry with the same key
// replays the outcome without a second capture
#[tokio::test]
async fn i3_drop_after_commit_then_retry_with_the_same_key_captures_once() {
    let sim = start().await;
    let api = Api::connect(&sim).await; // retries off: the drop is seen
    api.authorized_payment("order-drop-01", 1000).await;
    sim.inject_fault(FaultRule::new(Fault::DropAfterCommit).on(Operation::Capture).times(1));
    match api.capture("order-drop-01", 400, "retry-me").await {
        Err(Error::Transport { kind, context, .. }) => {
            assert_eq!(kind, TransportKind::Connection);
            assert_eq!(context.idempotency_key.as_deref(), Some("retry-me"), "the error hands back the key");
        }
        other => panic!("the connection should drop without an answer: {other:?}"),
    }
    assert_eq!(api.payment("order-drop-01").await.aggregate.captured_amount.value.get(), 400);
    let retried = api.capture("order-drop-01", 400, "retry-me").await.expect("the replay answers");
    assert_eq!(retried.value.aggregate.captured_amount.value.get(), 400);
    assert_eq!(api.payment("order-drop-01").await.aggregate.captured_amount.value.get(), 400);
    assert_eq!(captures(&api.event_log("order-drop-01").await), [(400, "retry-me".to_string())]);
}

// rules I3, I8: a client with retries on gets through a dropped create by itself, with the same
// key, and makes one payment
#[tokio::test]
async fn i8_client_retries_a_dropped_create_with_the_same_key() {
    let sim = start().await;
    let api = Api::connect_with(&sim, |b| b.retry_policy(fast_retries())).await;
    sim.inject_fault(FaultRule::new(Fault::DropAfterCommit).on(Operation::Create).times(1));
    let created = api.create(&payment_request("order-drop-02", 500), "create-drop").await.expect("retried");
    assert_eq!(created.key.as_str(), "create-drop");
    assert_eq!(created.value.reference.as_str(), "order-drop-02");
    let events = api.event_log("order-drop-02").await;
    assert_eq!(events.len(), 1, "one payment");
    assert_eq!(events[0].idempotency_key.as_ref().map(|k| k.as_str()), Some("create-drop"));
}

// rule I8: 423 and 429 carry Retry-After and change nothing; a retry with the same key works
#[tokio::test]
async fn i8_injected_423_and_429_change_nothing_and_the_same_key_then_works() {
    let sim = start().await;
    let api = Api::connect(&sim).await; // retries off: one 423 / 429 is seen as it is
    api.authorized_payment("order-i8-retry", 1000).await;
    for (fault, kind) in [(Fault::locked(2), kinds::INJECTED_423), (Fault::too_many_requests(3), kinds::INJECTED_429)] {
        let status = kind.status;
        sim.inject_fault(FaultRule::new(fault).on(Operation::Capture).for_reference("order-i8-retry").times(1));
        let key = format!("key-{status}");
        let refused = api.capture("order-i8-retry", 100, &key).await.refused();
        problem_as(&refused, kind);
        assert_eq!(attempts(&refused), 1);
        assert_eq!(error_header(&refused, "retry-after").as_deref(), Some(if status == 423 { "2" } else { "3" }));
        let first = api.capture("order-i8-retry", 100, &key).await.expect("the retry works");
        let again = api.capture("order-i8-retry", 100, &key).await.expect("and replays");
        assert_eq!(first, again);
    }
    assert_eq!(api.payment("order-i8-retry").await.aggregate.captured_amount.value.get(), 200);
    assert_eq!(
        captures(&api.event_log("order-i8-retry").await),
        [(100, "key-423".to_string()), (100, "key-429".to_string())]
    );
}

// rule I8: the client retries 423, 429 and 503 by itself, with the same key, honouring
// Retry-After, and the effect happens once
#[tokio::test]
async fn i8_client_retries_423_429_and_503_with_the_same_key() {
    let sim = start().await;
    let api = Api::connect_with(&sim, |b| b.retry_policy(fast_retries())).await;
    api.authorized_payment("order-i8-auto", 1000).await;
    let on_capture = |fault, times| FaultRule::new(fault).on(Operation::Capture).for_reference("order-i8-auto").times(times);
    // the first two attempts of each capture are refused; the third goes through
    let faults = [Fault::locked(0), Fault::too_many_requests(0), Fault::unavailable()];
    for (i, fault) in faults.into_iter().enumerate() {
        sim.inject_fault(on_capture(fault, 2));
        let key = format!("auto-key-{i}");
        let captured = api.capture("order-i8-auto", 100, &key).await.expect("retried to success");
        assert_eq!(captured.key.as_str(), key);
        assert_eq!(captured.value.aggregate.captured_amount.value.get(), 100 * (i as i64 + 1));
    }
    let expected: Vec<(i64, String)> = (0..3).map(|i| (100, format!("auto-key-{i}"))).collect();
    assert_eq!(captures(&api.event_log("order-i8-auto").await), expected, "each effect once, with its key");
    // Retry-After is honoured: a 423 or 429 asking for one second costs at least that
    for (i, fault) in [Fault::locked(1), Fault::too_many_requests(1)].into_iter().enumerate() {
        sim.inject_fault(on_capture(fault.clone(), 1));
        let started = Instant::now();
        api.capture("order-i8-auto", 50, &format!("auto-key-wait-{i}")).await.expect("retried after a second");
        assert!(started.elapsed() >= Duration::from_secs(1), "{fault}: waited {:?}", started.elapsed());
    }
    // the attempts are capped: a 503 that does not stop is returned after max_attempts
    sim.inject_fault(FaultRule::new(Fault::unavailable()).on(Operation::Get).for_reference("order-i8-auto"));
    let refused = api.get("order-i8-auto").await.refused();
    problem_as(&refused, kinds::INJECTED_503);
    assert_eq!(attempts(&refused), fast_retries().max_attempts);
    sim.clear_faults();
    assert_eq!(api.payment("order-i8-auto").await.aggregate.captured_amount.value.get(), 400);
    // a POST without a key (cancel, 1.8.1) is never retried: it could repeat an effect
    sim.inject_fault(FaultRule::new(Fault::unavailable()).on(Operation::Cancel).times(1));
    let refused = api.cancel("order-i8-auto").await.refused();
    problem_as(&refused, kinds::INJECTED_503);
    assert_eq!(attempts(&refused), 1);
    assert_eq!(api.payment("order-i8-auto").await.aggregate.cancelled_amount.value.get(), 0);
}

// rule I8 (test support): 503 the first N times, then normal
#[tokio::test]
async fn unavailable_the_first_n_times_then_normal() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-503-first", 1000).await;
    sim.inject_fault(FaultRule::new(Fault::unavailable()).on(Operation::Get).times(2));
    api.get("order-503-first").await.refused_as(kinds::INJECTED_503);
    api.get("order-503-first").await.refused_as(kinds::INJECTED_503);
    api.payment("order-503-first").await;
    // a rule for one reference leaves the others alone; clear_faults removes rules
    api.create_payment("order-503-other", 1000).await;
    sim.inject_fault(FaultRule::new(Fault::unavailable()).for_reference("order-503-first"));
    api.payment("order-503-other").await;
    api.get("order-503-first").await.refused_as(kinds::INJECTED_503);
    sim.clear_faults();
    api.payment("order-503-first").await;
}

// rule I8 (test support): delays, per run and per request; a client timeout is a transport error
#[tokio::test]
async fn delay_fault_delays_the_answer() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-delay-01", 1000).await;
    sim.inject_fault(FaultRule::new(Fault::Delay(Duration::from_millis(150))).on(Operation::Get).times(1));
    let started = Instant::now();
    api.payment("order-delay-01").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    // a client whose timeout is shorter than the delay gives up (and, retries off, once)
    let impatient = Api::connect_with(&sim, |b| b.timeout(Duration::from_millis(50))).await;
    sim.inject_fault(FaultRule::new(Fault::Delay(Duration::from_millis(300))).on(Operation::Get).times(1));
    match impatient.get("order-delay-01").await {
        Err(Error::Transport { kind: TransportKind::Timeout, .. }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    // the per-request header (raw: the client sends no undeclared headers)
    let started = Instant::now();
    let reply = api.send_raw(api.raw_get("order-delay-01").header(FAULT_HEADER, "delay-ms=150")).await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let bad = api.raw_get("order-delay-01").header(FAULT_HEADER, "explode");
    api.send_raw(bad).await.invalid_field(FAULT_HEADER);
}

// rules S2, S11 (test support): the test controls over HTTP (/_sim), for teams driving the binary
#[tokio::test]
async fn http_test_controls_drive_the_user_the_clock_and_faults() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-http-ctl1", 1000).await;
    api.create_payment("order-http-ctl2", 1000).await;
    let approve = api.control(Method::POST, &format!("/payments/order-http-ctl1/approve?msn={}", api.msn), None).await;
    assert_eq!(approve.status, 204);
    assert_eq!(api.payment("order-http-ctl1").await.state, State::Authorized);
    api.control(Method::POST, "/payments/order-http-ctl1/reject", None).await.refused_as(kinds::NOT_CREATED);
    api.control(Method::POST, "/payments/order-nope-000/approve", None).await.refused_as(kinds::NOT_FOUND);
    // the user starts approving over HTTP: cancel is refused meanwhile (rule S6)
    let begin = api.control(Method::POST, &format!("/payments/order-http-ctl2/begin-approval?msn={}", api.msn), None).await;
    assert_eq!(begin.status, 204);
    api.cancel("order-http-ctl2").await.refused_as(kinds::CANCEL_WHILE_APPROVING);
    let fault = json!({"fault": "status=503", "operation": "get", "reference": "order-http-ctl2", "times": 1});
    assert_eq!(api.control(Method::POST, "/faults", Some(fault)).await.status, 204);
    api.get("order-http-ctl2").await.refused_as(kinds::INJECTED_503);
    api.payment("order-http-ctl2").await;
    let forever = json!({"fault": "status=503"});
    assert_eq!(api.control(Method::POST, "/faults", Some(forever)).await.status, 204);
    api.get("order-http-ctl2").await.refused_as(kinds::INJECTED_503);
    assert_eq!(api.control(Method::DELETE, "/faults", None).await.status, 204);
    let before = sim.now();
    assert_eq!(api.control(Method::POST, "/clock/advance?seconds=600", None).await.status, 204);
    assert_eq!(sim.now() - before, chrono::Duration::seconds(600));
    assert_eq!(api.payment("order-http-ctl2").await.state, State::Expired);
    let clock: serde_json::Value = api.control(Method::GET, "/clock", None).await.json();
    // the frozen start (2025-01-01T12:00:00Z) plus the 600 s advanced
    assert_eq!(clock["now"].as_str(), Some("2025-01-01T12:10:00.000Z"));
    assert_eq!(clock["now"].as_str(), Some(sim.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true).as_str()));
}

// rule I8 needs the policy to be finite: a client without retries makes exactly one attempt
#[tokio::test]
async fn retries_off_means_one_attempt() {
    let sim = start().await;
    let api = Api::connect_with(&sim, |b| b.retry_policy(RetryPolicy::none())).await;
    api.create_payment("order-no-retry", 1000).await;
    sim.inject_fault(FaultRule::new(Fault::too_many_requests(0)).on(Operation::Get).times(1));
    let refused = api.get("order-no-retry").await.refused();
    problem_as(&refused, kinds::INJECTED_429);
    assert_eq!(attempts(&refused), 1);
    api.payment("order-no-retry").await;
}
