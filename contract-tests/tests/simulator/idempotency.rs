//! Idempotency and the event log's keys (rules I1-I7, I9, I10).

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Method;
use vipps_epayment::epayment::{PaymentEventName, State};

use crate::support::{Api, MSN, SUBSCRIPTION_KEY, payment_request, start};

// rule I1: create, capture and refund require Idempotency-Key; get, events, force-approve and
// (1.8.1) cancel do not
#[tokio::test]
async fn i1_create_capture_refund_require_the_key() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let create = api.create_call(&payment_request("order-i1-keys", 1000), "k").without("Idempotency-Key");
    api.send(create).await.invalid_field("Idempotency-Key");
    api.get("order-i1-keys").await.problem(404);
    api.create_payment("order-i1-keys", 1000).await;
    assert_eq!(api.get("order-i1-keys").await.status, 200);
    assert_eq!(api.events("order-i1-keys").await.status, 200);
    assert_eq!(api.force_approve("order-i1-keys").await.status, 200);
    let capture = api.capture_call("order-i1-keys", crate::support::nok(100), "k").without("Idempotency-Key");
    api.send(capture).await.invalid_field("Idempotency-Key");
    let refund = api.refund_call("order-i1-keys", crate::support::nok(100), "k").without("Idempotency-Key");
    api.send(refund).await.invalid_field("Idempotency-Key");
    assert_eq!(api.payment("order-i1-keys").await.aggregate.captured_amount.value.get(), 0);
    assert_eq!(api.cancel("order-i1-keys").await.status, 200, "cancel needs no key in 1.8.1");
}

// rule I2: at most 50 characters, no pattern
#[tokio::test]
async fn i2_key_is_at_most_50_characters() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let fifty = "0123456789".repeat(5);
    assert_eq!(fifty.chars().count(), 50);
    assert_eq!(api.create(&payment_request("order-i2-fifty", 1000), &fifty).await.status, 201);
    let fifty_one = format!("{fifty}x");
    let reason = api.create(&payment_request("order-i2-long", 1000), &fifty_one).await.invalid_field("Idempotency-Key");
    assert!(reason.contains("50"));
    api.get("order-i2-long").await.problem(404);
}

// rules I3, I6: a repeat with the same key and body returns the first outcome byte for byte,
// without a second effect
#[tokio::test]
async fn i3_repeated_requests_replay_the_first_outcome_byte_for_byte() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let request = payment_request("order-i3-replay", 1000);
    let first = api.create(&request, "create-key").await;
    assert_eq!(first.status, 201);
    let again = api.create(&request, "create-key").await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(api.force_approve("order-i3-replay").await.status, 200);
    let capture = api.capture("order-i3-replay", 300, "capture-key").await;
    let capture_again = api.capture("order-i3-replay", 300, "capture-key").await;
    assert_eq!(capture.status, 200);
    assert_eq!(capture_again.body, capture.body);
    let refund = api.refund("order-i3-replay", 100, "refund-key").await;
    let refund_again = api.refund("order-i3-replay", 100, "refund-key").await;
    assert_eq!(refund.status, 200);
    assert_eq!(refund_again.body, refund.body);
    let cancel = api.send(api.cancel_call("order-i3-replay").header("Idempotency-Key", "cancel-key")).await;
    let cancel_again = api.send(api.cancel_call("order-i3-replay").header("Idempotency-Key", "cancel-key")).await;
    assert_eq!(cancel_again.body, cancel.body);
    let payment = api.payment("order-i3-replay").await;
    assert_eq!(payment.aggregate.captured_amount.value.get(), 300);
    assert_eq!(payment.aggregate.refunded_amount.value.get(), 100);
    let names: Vec<String> = api.event_log("order-i3-replay").await.iter().map(|e| e.name.to_string()).collect();
    assert_eq!(names, ["CREATED", "AUTHORIZED", "CAPTURED", "REFUNDED", "CANCELLED"]);
}

// rule I3: bodies compare as JSON, so member order and spacing do not matter
#[tokio::test]
async fn i3_replay_ignores_member_order_and_whitespace() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-i3-order", 1000).await;
    let call = |body: &str| {
        api.epayment(Method::POST, "/v1/payments/order-i3-order/capture")
            .header("Idempotency-Key", "k1")
            .header("Content-Type", "application/json")
            .body(body.to_string())
    };
    let first = api.send(call(r#"{"modificationAmount":{"currency":"NOK","value":100}}"#)).await;
    let second = api.send(call("{ \"modificationAmount\": { \"value\": 100, \"currency\": \"NOK\" } }")).await;
    assert_eq!(first.status, 200);
    assert_eq!(second.body, first.body);
    assert_eq!(api.payment("order-i3-order").await.aggregate.captured_amount.value.get(), 100);
}

// rule I4: the same key with a different body is refused (409) on capture, refund and create
#[tokio::test]
async fn i4_same_key_with_a_different_body_is_a_conflict() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-i4-conflict", 1000).await;
    assert_eq!(api.capture("order-i4-conflict", 100, "same").await.status, 200);
    let problem = api.capture("order-i4-conflict", 200, "same").await.problem(409);
    assert_eq!(problem.title, "Idempotency conflict");
    assert_eq!(api.refund("order-i4-conflict", 50, "same-refund").await.status, 200);
    api.refund("order-i4-conflict", 60, "same-refund").await.problem(409);
    let payment = api.payment("order-i4-conflict").await;
    assert_eq!(payment.aggregate.captured_amount.value.get(), 100);
    assert_eq!(payment.aggregate.refunded_amount.value.get(), 50);
    let other = payment_request("order-i4-other", 1000);
    api.create(&other, "create-order-i4-conflict").await.problem(409);
    api.get("order-i4-other").await.problem(404);
}

// rule I5: a reference is used once per MSN; case-sensitive; other MSNs may reuse it
#[tokio::test]
async fn i5_reference_is_unique_per_merchant_and_case_sensitive() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("Order-I5-Ref", 1000).await;
    let problem = api.create(&payment_request("Order-I5-Ref", 2000), "another-key").await.problem(409);
    assert_eq!(problem.title, "Reference already used");
    assert_eq!(api.payment("Order-I5-Ref").await.amount.value.get(), 1000);
    assert_eq!(api.create(&payment_request("order-i5-ref", 2000), "lower-key").await.status, 201);
    let other = Api::connect_as(sim.base_url(), "765432", SUBSCRIPTION_KEY).await;
    assert_eq!(other.create(&payment_request("Order-I5-Ref", 3000), "k").await.status, 201);
    assert_eq!(other.payment("Order-I5-Ref").await.amount.value.get(), 3000);
    assert_eq!(api.payment("Order-I5-Ref").await.amount.value.get(), 1000);
    assert_ne!(other.msn, MSN);
}

// rule I6: a stored 4xx is replayed too
#[tokio::test]
async fn i6_a_stored_4xx_is_replayed() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-i6-4xx", 1000).await;
    let refused = api.capture("order-i6-4xx", 100, "early").await;
    refused.problem(409);
    sim.approve("order-i6-4xx").unwrap();
    let replayed = api.capture("order-i6-4xx", 100, "early").await;
    assert_eq!((replayed.status, &replayed.body), (409, &refused.body));
    assert_eq!(api.payment("order-i6-4xx").await.aggregate.captured_amount.value.get(), 0);
    assert_eq!(api.capture("order-i6-4xx", 100, "fresh").await.status, 200);
}

// rule I7: keys are kept for the life of the payment
#[tokio::test]
async fn i7_keys_are_kept_for_the_life_of_the_payment() {
    let sim = start().await;
    let mut api = Api::connect(&sim).await;
    api.authorized_payment("order-i7-life", 1000).await;
    let first = api.capture("order-i7-life", 100, "old-key").await;
    sim.advance_clock(Duration::from_secs(90 * 86_400));
    api.refresh_token().await;
    let later = api.capture("order-i7-life", 100, "old-key").await;
    assert_eq!(later.body, first.body);
    assert_eq!(api.payment("order-i7-life").await.aggregate.captured_amount.value.get(), 100);
}

fn key_of(event: &vipps_epayment::epayment::PaymentEvent) -> String {
    event.idempotency_key.as_ref().map(|k| k.as_str().to_string()).unwrap_or_default()
}

// rule I9: every event carries a key: the merchant call's own, or the create call's for
// CREATED and the user's or time's events
#[tokio::test]
async fn i9_every_event_carries_an_idempotency_key() {
    let sim = start().await;
    let mut api = Api::connect(&sim).await;
    // AUTHORIZED by force approve, then captures, refunds, cancel
    assert_eq!(api.create(&payment_request("order-i9-full", 1000), "create-full").await.status, 201);
    assert_eq!(api.force_approve("order-i9-full").await.status, 200);
    assert_eq!(api.capture("order-i9-full", 400, "capture-1").await.status, 200);
    assert_eq!(api.refund("order-i9-full", 100, "refund-1").await.status, 200);
    assert_eq!(api.send(api.cancel_call("order-i9-full").header("Idempotency-Key", "cancel-1")).await.status, 200);
    let keys: Vec<(PaymentEventName, String)> =
        api.event_log("order-i9-full").await.iter().map(|e| (e.name.clone(), key_of(e))).collect();
    assert_eq!(
        keys,
        [
            (PaymentEventName::Created, "create-full".to_string()),
            (PaymentEventName::Authorized, "create-full".to_string()),
            (PaymentEventName::Captured, "capture-1".to_string()),
            (PaymentEventName::Refunded, "refund-1".to_string()),
            (PaymentEventName::Cancelled, "cancel-1".to_string()),
        ]
    );
    // AUTHORIZED by the user, ABORTED, EXPIRED carry the create key; keyless cancel gets one
    for (reference, key) in [("order-i9-user", "c-user"), ("order-i9-abort", "c-abort"), ("order-i9-exp", "c-exp"), ("order-i9-term", "c-term")] {
        assert_eq!(api.create(&payment_request(reference, 1000), key).await.status, 201);
    }
    sim.approve("order-i9-user").unwrap();
    sim.reject("order-i9-abort").unwrap();
    assert_eq!(api.cancel("order-i9-term").await.status, 200);
    sim.advance_clock(Duration::from_secs(600));
    api.refresh_token().await;
    for (reference, key, name) in [
        ("order-i9-user", "c-user", PaymentEventName::Authorized),
        ("order-i9-abort", "c-abort", PaymentEventName::Aborted),
        ("order-i9-exp", "c-exp", PaymentEventName::Expired),
    ] {
        let events = api.event_log(reference).await;
        let last = events.last().unwrap();
        assert_eq!((last.name.clone(), key_of(last)), (name, key.to_string()), "{reference}");
    }
    let terminated = api.event_log("order-i9-term").await;
    assert_eq!(terminated.last().unwrap().name, PaymentEventName::Terminated);
    assert!(!key_of(terminated.last().unwrap()).is_empty());
    assert_eq!(api.payment("order-i9-exp").await.state, State::Expired);
}

// rule I10: pspReference is unique per event
#[tokio::test]
async fn i10_psp_reference_is_unique_per_event() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let mut seen = HashSet::new();
    for reference in ["order-i10-a", "order-i10-b"] {
        api.authorized_payment(reference, 1000).await;
        assert_eq!(api.capture(reference, 300, "c1").await.status, 200);
        assert_eq!(api.capture(reference, 300, "c2").await.status, 200);
        assert_eq!(api.refund(reference, 100, "r1").await.status, 200);
        assert_eq!(api.cancel(reference).await.status, 200);
        for event in api.event_log(reference).await {
            assert!(event.success);
            assert!(seen.insert(event.psp_reference.clone()), "duplicate pspReference {}", event.psp_reference);
        }
    }
    assert_eq!(seen.len(), 12);
}
