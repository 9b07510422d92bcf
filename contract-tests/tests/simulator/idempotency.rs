//! Idempotency and the event log's keys (rules I1-I7, I9, I10).

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Method;
use vipps_epayment::epayment::{IdempotencyKey, PaymentEvent, PaymentEventName, State};
use vipps_epayment::{Error, IdempotentOptions};

use crate::support::{Api, MSN, Outcome, SUBSCRIPTION_KEY, kinds, nok, payment_request, problem_as, reference, start};

fn key_of(event: &PaymentEvent) -> String {
    event.idempotency_key.as_ref().map(|k| k.as_str().to_string()).unwrap_or_default()
}

// rule I1: create, capture and refund require Idempotency-Key (the client always sends one;
// leaving it out is raw); get, events, force-approve and (1.8.1) cancel take none
#[tokio::test]
async fn i1_create_capture_refund_require_the_key() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let create = api.raw_create(&payment_request("order-i1-keys", 1000), "k").without("Idempotency-Key");
    api.send_raw(create).await.invalid_field("Idempotency-Key");
    api.get("order-i1-keys").await.refused_as(kinds::NOT_FOUND);
    // the client makes a fresh key when the caller gives none, and hands it back
    let created = api.client.create_payment(&payment_request("order-i1-keys", 1000), IdempotentOptions::new()).await.unwrap();
    assert!(!created.key.as_str().is_empty());
    api.payment("order-i1-keys").await;
    assert_eq!(key_of(&api.event_log("order-i1-keys").await[0]), created.key.as_str());
    api.force_approve("order-i1-keys").await.expect("force approve takes no key");
    let capture = api.raw_capture("order-i1-keys", &vipps_epayment::epayment::CaptureModificationRequest::new(nok(100)), "k");
    api.send_raw(capture.without("Idempotency-Key")).await.invalid_field("Idempotency-Key");
    let refund = api.raw_refund("order-i1-keys", &vipps_epayment::epayment::RefundModificationRequest::new(nok(100)), "k");
    api.send_raw(refund.without("Idempotency-Key")).await.invalid_field("Idempotency-Key");
    assert_eq!(api.payment("order-i1-keys").await.aggregate.captured_amount.value.get(), 0);
    let captured = api.client.capture_payment(&reference("order-i1-keys"), &vipps_epayment::epayment::CaptureModificationRequest::new(nok(100)), IdempotentOptions::new()).await.unwrap();
    assert_eq!(key_of(api.event_log("order-i1-keys").await.last().unwrap()), captured.key.as_str());
    api.cancel("order-i1-keys").await.expect("cancel needs no key in 1.8.1");
}

// rule I2: at most 50 characters; its valid form (printable ASCII, spaces only inside, not
// empty) is one rule, the generated key type's, on both sides
#[tokio::test]
async fn i2_key_is_at_most_50_characters() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let fifty = "0123456789 !#$%&*+/=?^_`{|}~".repeat(2)[..50].to_string();
    assert_eq!(fifty.chars().count(), 50);
    api.create(&payment_request("order-i2-fifty", 1000), &fifty).await.expect("50 characters, any");
    assert_eq!(key_of(&api.event_log("order-i2-fifty").await[0]), fifty);
    let fifty_one = format!("{}x", "0123456789".repeat(5));
    assert!(IdempotencyKey::new(fifty_one.as_str()).is_err(), "the client's key type refuses 51");
    let call = api.raw_create(&payment_request("order-i2-long", 1000), &fifty_one);
    let reason = api.send_raw(call).await.invalid_field("Idempotency-Key");
    assert!(reason.contains("maxLength 50"), "{reason}");
    api.get("order-i2-long").await.refused_as(kinds::NOT_FOUND);
}

// rules I1, I2: what the client's key type refuses, the simulator refuses too (400 naming the
// header), and nothing is created
#[tokio::test]
async fn i2_the_client_and_the_simulator_refuse_the_same_keys() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    // Surrounding spaces never reach a server (HTTP strips them), so only the key type sees them.
    for bad in [" leading", "trailing "] {
        assert!(IdempotencyKey::new(bad).is_err(), "the key type refuses {bad:?}");
    }
    for (n, bad) in ["tab\tinside", ""].into_iter().enumerate() {
        assert!(IdempotencyKey::new(bad).is_err(), "the key type refuses {bad:?}");
        let reference = format!("order-i2-form-{n}");
        let call = api.raw_create(&payment_request(&reference, 1000), "placeholder").header("Idempotency-Key", bad);
        let reason = api.send_raw(call).await.invalid_field("Idempotency-Key");
        assert!(reason.contains("rules I1, I2") || reason.contains("not valid text"), "{bad:?}: {reason}");
        api.get(&reference).await.refused_as(kinds::NOT_FOUND);
    }
    // Bytes beyond ASCII: the key type refuses them as a string, the simulator as a header.
    assert!(IdempotencyKey::new("nøkkel").is_err());
    let raw = api
        .raw_create(&payment_request("order-i2-form-8", 1000), "placeholder")
        .header_bytes("Idempotency-Key", "nøkkel".as_bytes());
    api.send_raw(raw).await.invalid_field("Idempotency-Key");
    api.get("order-i2-form-8").await.refused_as(kinds::NOT_FOUND);
    for good in ["a", "with space inside", "~!#$%&'*+-.^_`|"] {
        assert!(IdempotencyKey::new(good).is_ok(), "{good:?}");
    }
}

// rules I3-I6, scope: a key belongs to one operation on one payment of one merchant, on the
// simulator as in the client (ARCHITECTURE.md, "One idempotency contract")
#[tokio::test]
async fn i4_a_key_is_scoped_to_one_operation_on_one_payment() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let forgetful = Api::connect_with(&sim, |b| b.idempotency_record_capacity(0)).await;
    api.authorized_payment("order-i4-scope-a", 1000).await;
    api.authorized_payment("order-i4-scope-b", 1000).await;
    api.capture("order-i4-scope-a", 100, "scoped").await.expect("first use");
    api.capture("order-i4-scope-b", 200, "scoped").await.expect("another payment: a new key");
    api.refund("order-i4-scope-a", 50, "scoped").await.expect("another operation: a new key");
    let a = api.payment("order-i4-scope-a").await;
    let b = api.payment("order-i4-scope-b").await;
    assert_eq!((a.aggregate.captured_amount.value.get(), a.aggregate.refunded_amount.value.get()), (100, 50));
    assert_eq!(b.aggregate.captured_amount.value.get(), 200, "not a replay of payment a's capture");
    // Within its scope the key still stands, on the simulator's side too.
    forgetful.capture("order-i4-scope-a", 300, "scoped").await.refused_as(kinds::IDEMPOTENCY_CONFLICT);
    assert!(matches!(api.capture("order-i4-scope-a", 300, "scoped").await, Err(Error::IdempotencyKeyReused { .. })));
}

// rules I3, I6: a repeat with the same caller key returns the first outcome (typed results equal
// through the client) without a second effect
#[tokio::test]
async fn i3_repeated_client_calls_with_the_same_key_replay_the_first_outcome() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let request = payment_request("order-i3-client", 1000);
    let created = api.create(&request, "create-key").await.unwrap();
    assert_eq!(api.create(&request, "create-key").await.unwrap(), created);
    api.force_approve("order-i3-client").await.unwrap();
    let captured = api.capture("order-i3-client", 300, "capture-key").await.unwrap();
    api.capture("order-i3-client", 200, "capture-key-2").await.unwrap();
    // the replay answers as the first call did, not with today's totals (500 captured)
    let replayed = api.capture("order-i3-client", 300, "capture-key").await.unwrap();
    assert_eq!(replayed, captured);
    assert_eq!(replayed.value.aggregate.captured_amount.value.get(), 300);
    let refunded = api.refund("order-i3-client", 100, "refund-key").await.unwrap();
    assert_eq!(api.refund("order-i3-client", 100, "refund-key").await.unwrap(), refunded);
    // another client with the same caller key (a restarted shop) gets the same result too
    let restarted = Api::connect(&sim).await;
    assert_eq!(restarted.capture("order-i3-client", 300, "capture-key").await.unwrap(), captured);
    assert_eq!(restarted.create(&request, "create-key").await.unwrap(), created);
    let payment = api.payment("order-i3-client").await;
    assert_eq!(payment.aggregate.captured_amount.value.get(), 500);
    assert_eq!(payment.aggregate.refunded_amount.value.get(), 100);
    let names: Vec<String> = api.event_log("order-i3-client").await.iter().map(|e| e.name.to_string()).collect();
    assert_eq!(names, ["CREATED", "AUTHORIZED", "CAPTURED", "CAPTURED", "REFUNDED"]);
}

// rules I3, I6: the replayed answer is the first one byte for byte (raw: the client hands back
// parsed values, not bytes); a keyed cancel (a header 1.8.1 does not declare) replays too
#[tokio::test]
async fn i3_repeated_requests_replay_the_first_outcome_byte_for_byte() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let request = payment_request("order-i3-replay", 1000);
    let first = api.send_raw(api.raw_create(&request, "create-key")).await;
    assert_eq!(first.status, 201);
    let again = api.send_raw(api.raw_create(&request, "create-key")).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    api.force_approve("order-i3-replay").await.unwrap();
    let capture_body = vipps_epayment::epayment::CaptureModificationRequest::new(nok(300));
    let capture = api.send_raw(api.raw_capture("order-i3-replay", &capture_body, "capture-key")).await;
    assert_eq!(capture.status, 200);
    // response headers of a success: the client does not expose them
    assert_eq!(capture.header("content-type"), Some("application/problem+json"), "as the spec says");
    api.capture("order-i3-replay", 100, "capture-key-2").await.unwrap();
    let capture_again = api.send_raw(api.raw_capture("order-i3-replay", &capture_body, "capture-key")).await;
    assert_eq!(capture_again.body, capture.body);
    let refund_body = vipps_epayment::epayment::RefundModificationRequest::new(nok(100));
    let refund = api.send_raw(api.raw_refund("order-i3-replay", &refund_body, "refund-key")).await;
    let refund_again = api.send_raw(api.raw_refund("order-i3-replay", &refund_body, "refund-key")).await;
    assert_eq!(refund.status, 200);
    assert_eq!(refund_again.body, refund.body);
    let cancel = api.send_raw(api.raw_cancel("order-i3-replay").header("Idempotency-Key", "cancel-key")).await;
    let cancel_again = api.send_raw(api.raw_cancel("order-i3-replay").header("Idempotency-Key", "cancel-key")).await;
    assert_eq!(cancel.status, 200);
    assert_eq!(cancel_again.body, cancel.body);
    let payment = api.payment("order-i3-replay").await;
    assert_eq!(payment.aggregate.captured_amount.value.get(), 400);
    assert_eq!(payment.aggregate.refunded_amount.value.get(), 100);
    let events = api.event_log("order-i3-replay").await;
    let names: Vec<String> = events.iter().map(|e| e.name.to_string()).collect();
    assert_eq!(names, ["CREATED", "AUTHORIZED", "CAPTURED", "CAPTURED", "REFUNDED", "CANCELLED"]);
    assert_eq!(key_of(events.last().unwrap()), "cancel-key");
}

// rule I3: bodies compare as JSON, so member order and spacing do not matter (raw: the client
// serializes one way only)
#[tokio::test]
async fn i3_replay_ignores_member_order_and_whitespace() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-i3-order", 1000).await;
    let call = |body: &str| {
        api.raw_epayment(Method::POST, "/v1/payments/order-i3-order/capture")
            .header("Idempotency-Key", "k1")
            .header("Content-Type", "application/json")
            .body(body.to_string())
    };
    let first = api.send_raw(call(r#"{"modificationAmount":{"currency":"NOK","value":100}}"#)).await;
    let second = api.send_raw(call("{ \"modificationAmount\": { \"value\": 100, \"currency\": \"NOK\" } }")).await;
    assert_eq!(first.status, 200);
    assert_eq!(second.body, first.body);
    // and the client's own serialization is the same request
    let typed = api.capture("order-i3-order", 100, "k1").await.unwrap();
    assert_eq!(typed.value, first.json());
    assert_eq!(api.payment("order-i3-order").await.aggregate.captured_amount.value.get(), 100);
}

// rule I4: the same key with a different body is refused (409) on capture, refund and create.
// The client refuses such a reuse before sending; a client that has forgotten the key (here:
// its record turned off) sends it and the simulator refuses.
#[tokio::test]
async fn i4_same_key_with_a_different_body_is_a_conflict() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let forgetful = Api::connect_with(&sim, |b| b.idempotency_record_capacity(0)).await;
    api.authorized_payment("order-i4-conflict", 1000).await;
    api.capture("order-i4-conflict", 100, "same").await.unwrap();
    match api.capture("order-i4-conflict", 200, "same").await {
        Err(Error::IdempotencyKeyReused { key, .. }) => assert_eq!(key, "same"),
        other => panic!("the client should refuse the reuse before sending: {other:?}"),
    }
    let problem = forgetful.capture("order-i4-conflict", 200, "same").await.refused_as(kinds::IDEMPOTENCY_CONFLICT);
    assert_eq!(crate::support::named_detail(&problem, "Idempotency-Key"), "reused with a different body");
    api.refund("order-i4-conflict", 50, "same-refund").await.unwrap();
    assert!(matches!(api.refund("order-i4-conflict", 60, "same-refund").await, Err(Error::IdempotencyKeyReused { .. })));
    forgetful.refund("order-i4-conflict", 60, "same-refund").await.refused_as(kinds::IDEMPOTENCY_CONFLICT);
    let payment = api.payment("order-i4-conflict").await;
    assert_eq!(payment.aggregate.captured_amount.value.get(), 100);
    assert_eq!(payment.aggregate.refunded_amount.value.get(), 50);
    let other = payment_request("order-i4-other", 1000);
    assert!(matches!(api.create(&other, "create-order-i4-conflict").await, Err(Error::IdempotencyKeyReused { .. })));
    forgetful.create(&other, "create-order-i4-conflict").await.refused_as(kinds::IDEMPOTENCY_CONFLICT);
    api.get("order-i4-other").await.refused_as(kinds::NOT_FOUND);
    assert_eq!(api.event_log("order-i4-conflict").await.len(), 4);
}

// rule I5: a reference is used once per MSN; case-sensitive; other MSNs may reuse it
#[tokio::test]
async fn i5_reference_is_unique_per_merchant_and_case_sensitive() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("Order-I5-Ref", 1000).await;
    let problem = api.create(&payment_request("Order-I5-Ref", 2000), "another-key").await.refused_as(kinds::REFERENCE_USED);
    assert_eq!(crate::support::named_detail(&problem, "reference"), "already used");
    assert_eq!(api.payment("Order-I5-Ref").await.amount.value.get(), 1000);
    api.create(&payment_request("order-i5-ref", 2000), "lower-key").await.expect("case matters");
    let other = Api::connect_as(sim.base_url(), "765432", SUBSCRIPTION_KEY).await;
    other.create(&payment_request("Order-I5-Ref", 3000), "k").await.expect("another MSN");
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
    let refused = api.capture("order-i6-4xx", 100, "early").await.refused_as(kinds::CAPTURE_NOT_AUTHORIZED);
    sim.approve("order-i6-4xx").unwrap();
    let replayed = api.capture("order-i6-4xx", 100, "early").await.refused_as(kinds::CAPTURE_NOT_AUTHORIZED);
    assert_eq!(replayed, refused, "the stored Problem, trace id and all");
    assert_eq!(api.payment("order-i6-4xx").await.aggregate.captured_amount.value.get(), 0);
    api.capture("order-i6-4xx", 100, "fresh").await.expect("a fresh key captures");
}

// rule I6: the 404 of a keyed request for an unknown reference is stored and replayed too: a
// retry with the same key and body answers the same 404 (trace id and all) even after a payment
// with that reference exists, and changes nothing; a fresh key works
#[tokio::test]
async fn i6_a_stored_404_is_replayed() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let capture = api.capture("order-i6-404", 100, "capture-early").await.refused_as(kinds::NOT_FOUND);
    let refund = api.refund("order-i6-404", 100, "refund-early").await.refused_as(kinds::NOT_FOUND);
    // a keyed cancel (a header 1.8.1 does not declare: raw)
    let cancel = api.send_raw(api.raw_cancel("order-i6-404").header("Idempotency-Key", "cancel-early")).await;
    cancel.refused_as(kinds::NOT_FOUND);
    api.authorized_payment("order-i6-404", 1000).await;
    api.capture("order-i6-404", 300, "capture-first").await.unwrap();
    assert_eq!(api.capture("order-i6-404", 100, "capture-early").await.refused_as(kinds::NOT_FOUND), capture, "the stored 404");
    assert_eq!(api.refund("order-i6-404", 100, "refund-early").await.refused_as(kinds::NOT_FOUND), refund);
    let cancel_again = api.send_raw(api.raw_cancel("order-i6-404").header("Idempotency-Key", "cancel-early")).await;
    assert_eq!((cancel_again.status, &cancel_again.body), (404, &cancel.body), "byte for byte");
    let payment = api.payment("order-i6-404").await;
    assert_eq!(payment.aggregate.captured_amount.value.get(), 300);
    assert_eq!(payment.aggregate.refunded_amount.value.get(), 0);
    assert_eq!(payment.aggregate.cancelled_amount.value.get(), 0);
    let names: Vec<String> = api.event_log("order-i6-404").await.iter().map(|e| e.name.to_string()).collect();
    assert_eq!(names, ["CREATED", "AUTHORIZED", "CAPTURED"]);
    api.refund("order-i6-404", 100, "refund-fresh").await.expect("a fresh key refunds");
}

// rule I7: keys are kept for the life of the payment
#[tokio::test]
async fn i7_keys_are_kept_for_the_life_of_the_payment() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-i7-life", 1000).await;
    let first = api.capture("order-i7-life", 100, "old-key").await.unwrap();
    sim.advance_clock(Duration::from_secs(90 * 86_400));
    let later = api.capture("order-i7-life", 100, "old-key").await.unwrap();
    assert_eq!(later, first);
    assert_eq!(api.payment("order-i7-life").await.aggregate.captured_amount.value.get(), 100);
}

// rule I9: every event carries a key: the merchant call's own, or the create call's for
// CREATED and the user's or time's events; a keyless cancel (1.8.1) gets one made for it
#[tokio::test]
async fn i9_every_event_carries_an_idempotency_key() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    // AUTHORIZED by force approve, then captures, refunds, cancel
    api.create(&payment_request("order-i9-full", 1000), "create-full").await.unwrap();
    api.force_approve("order-i9-full").await.unwrap();
    api.capture("order-i9-full", 400, "capture-1").await.unwrap();
    api.refund("order-i9-full", 100, "refund-1").await.unwrap();
    api.cancel("order-i9-full").await.unwrap();
    let events = api.event_log("order-i9-full").await;
    let keys: Vec<(PaymentEventName, String)> = events.iter().map(|e| (e.name.clone(), key_of(e))).collect();
    assert_eq!(
        keys[..4],
        [
            (PaymentEventName::Created, "create-full".to_string()),
            (PaymentEventName::Authorized, "create-full".to_string()),
            (PaymentEventName::Captured, "capture-1".to_string()),
            (PaymentEventName::Refunded, "refund-1".to_string()),
        ]
    );
    let (name, cancel_key) = &keys[4];
    assert_eq!(*name, PaymentEventName::Cancelled);
    assert!(!cancel_key.is_empty() && !["create-full", "capture-1", "refund-1"].contains(&cancel_key.as_str()));
    // AUTHORIZED by the user, ABORTED, EXPIRED carry the create key; keyless cancel gets one
    for (reference, key) in [("order-i9-user", "c-user"), ("order-i9-abort", "c-abort"), ("order-i9-exp", "c-exp"), ("order-i9-term", "c-term")] {
        api.create(&payment_request(reference, 1000), key).await.unwrap();
    }
    sim.approve("order-i9-user").unwrap();
    sim.reject("order-i9-abort").unwrap();
    api.cancel("order-i9-term").await.unwrap();
    sim.advance_clock(Duration::from_secs(600));
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
    assert_ne!(key_of(terminated.last().unwrap()), "c-term");
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
        api.capture(reference, 300, &format!("{reference}-c1")).await.unwrap();
        api.capture(reference, 300, &format!("{reference}-c2")).await.unwrap();
        api.refund(reference, 100, &format!("{reference}-r1")).await.unwrap();
        api.cancel(reference).await.unwrap();
        for event in api.event_log(reference).await {
            assert!(event.success);
            assert!(seen.insert(event.psp_reference.clone()), "duplicate pspReference {}", event.psp_reference);
        }
    }
    assert_eq!(seen.len(), 12);
    // the payment's pspReference is the CREATED event's
    let created = &api.event_log("order-i10-a").await[0];
    assert_eq!(api.payment("order-i10-a").await.psp_reference, created.psp_reference);
}

// rule I6 through the client: a replayed 409 is the same error with the same key
#[tokio::test]
async fn i6_client_sees_the_same_refusal_on_replay() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-i6-client", 500).await;
    let first = api.capture("order-i6-client", 600, "too-much").await.refused();
    let again = api.capture("order-i6-client", 600, "too-much").await.refused();
    assert_eq!(first.idempotency_key(), Some("too-much"));
    assert_eq!(again.idempotency_key(), Some("too-much"));
    assert_eq!(problem_as(&first, kinds::CAPTURE_TOO_HIGH), problem_as(&again, kinds::CAPTURE_TOO_HIGH));
}
