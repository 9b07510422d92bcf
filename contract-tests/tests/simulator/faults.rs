//! Fault injection for client tests, and retries with the same key (rule I8).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use vipps_contract_tests::sim::{FAULT_HEADER, Fault, FaultRule, Operation};
use vipps_epayment::epayment::{PaymentEventName, State};

use crate::support::{Api, start};

fn captures(events: &[vipps_epayment::epayment::PaymentEvent]) -> usize {
    events.iter().filter(|e| e.name == PaymentEventName::Captured).count()
}

// rule I3: the connection drops after the change is committed; the retry with the same key
// replays the outcome without a second capture
#[tokio::test]
async fn drop_after_commit_then_retry_with_the_same_key_captures_once() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-drop-01", 1000).await;
    let call = api.capture_call("order-drop-01", crate::support::nok(400), "retry-me");
    let dropped = api.try_send(call.clone().header(FAULT_HEADER, "drop-after-commit")).await;
    assert!(dropped.is_err(), "the connection should drop without an answer");
    assert_eq!(api.payment("order-drop-01").await.aggregate.captured_amount.value.get(), 400);
    let retried = api.send(call).await;
    assert_eq!(retried.status, 200);
    assert_eq!(api.payment("order-drop-01").await.aggregate.captured_amount.value.get(), 400);
    assert_eq!(captures(&api.event_log("order-drop-01").await), 1);
    // the same works as a per-run rule, here on create
    sim.inject_fault(FaultRule::new(Fault::DropAfterCommit).on(Operation::Create).times(1));
    let create = api.create_call(&crate::support::payment_request("order-drop-02", 500), "create-drop");
    assert!(api.try_send(create.clone()).await.is_err());
    assert_eq!(api.send(create).await.status, 201);
    assert_eq!(api.event_log("order-drop-02").await.len(), 1);
}

// rule I8: 423 and 429 carry Retry-After, change nothing, and the retry with the same key works
#[tokio::test]
async fn i8_injected_423_and_429_are_retried_with_the_same_key() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-i8-retry", 1000).await;
    for (fault, status) in [(Fault::locked(2), 423), (Fault::too_many_requests(3), 429)] {
        sim.inject_fault(FaultRule::new(fault).on(Operation::Capture).for_reference("order-i8-retry").times(1));
        let key = format!("key-{status}");
        let refused = api.capture("order-i8-retry", 100, &key).await;
        refused.problem(status);
        assert_eq!(refused.header("retry-after"), Some(if status == 423 { "2" } else { "3" }));
        assert_eq!(api.capture("order-i8-retry", 100, &key).await.status, 200);
        assert_eq!(api.capture("order-i8-retry", 100, &key).await.status, 200);
    }
    assert_eq!(api.payment("order-i8-retry").await.aggregate.captured_amount.value.get(), 200);
    assert_eq!(captures(&api.event_log("order-i8-retry").await), 2);
}

// 503 the first N times
#[tokio::test]
async fn unavailable_the_first_n_times_then_normal() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-503-first", 1000).await;
    sim.inject_fault(FaultRule::new(Fault::unavailable()).on(Operation::Get).times(2));
    api.get("order-503-first").await.problem(503);
    api.get("order-503-first").await.problem(503);
    assert_eq!(api.get("order-503-first").await.status, 200);
    // a rule for one reference leaves the others alone; clear_faults removes rules
    api.create_payment("order-503-other", 1000).await;
    sim.inject_fault(FaultRule::new(Fault::unavailable()).for_reference("order-503-first"));
    assert_eq!(api.get("order-503-other").await.status, 200);
    api.get("order-503-first").await.problem(503);
    sim.clear_faults();
    assert_eq!(api.get("order-503-first").await.status, 200);
}

// delay, per request
#[tokio::test]
async fn delay_fault_delays_the_answer() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-delay-01", 1000).await;
    let started = Instant::now();
    let reply = api.send(api.epayment(Method::GET, "/v1/payments/order-delay-01").header(FAULT_HEADER, "delay-ms=150")).await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let bad = api.epayment(Method::GET, "/v1/payments/order-delay-01").header(FAULT_HEADER, "explode");
    api.send(bad).await.invalid_field(FAULT_HEADER);
}

// the test controls over HTTP (/_sim), for teams driving the binary
#[tokio::test]
async fn http_test_controls_drive_the_user_the_clock_and_faults() {
    let sim = start().await;
    let mut api = Api::connect(&sim).await;
    api.create_payment("order-http-ctl1", 1000).await;
    api.create_payment("order-http-ctl2", 1000).await;
    let approve = api.control(Method::POST, &format!("/payments/order-http-ctl1/approve?msn={}", api.msn), None).await;
    assert_eq!(approve.status, 204);
    assert_eq!(api.payment("order-http-ctl1").await.state, State::Authorized);
    assert_eq!(api.control(Method::POST, "/payments/order-http-ctl1/reject", None).await.status, 409);
    assert_eq!(api.control(Method::POST, "/payments/order-nope-000/approve", None).await.status, 404);
    let fault = json!({"fault": "status=503", "operation": "get", "reference": "order-http-ctl2", "times": 1});
    assert_eq!(api.control(Method::POST, "/faults", Some(fault)).await.status, 204);
    api.get("order-http-ctl2").await.problem(503);
    assert_eq!(api.get("order-http-ctl2").await.status, 200);
    let forever = json!({"fault": "status=503"});
    assert_eq!(api.control(Method::POST, "/faults", Some(forever)).await.status, 204);
    api.get("order-http-ctl2").await.problem(503);
    assert_eq!(api.control(Method::DELETE, "/faults", None).await.status, 204);
    let before = sim.now();
    assert_eq!(api.control(Method::POST, "/clock/advance?seconds=600", None).await.status, 204);
    assert_eq!(sim.now() - before, chrono::Duration::seconds(600));
    api.refresh_token().await;
    assert_eq!(api.payment("order-http-ctl2").await.state, State::Expired);
    let clock: serde_json::Value = api.control(Method::GET, "/clock", None).await.json();
    assert!(clock["now"].as_str().is_some());
}
