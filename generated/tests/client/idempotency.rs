//! Idempotency keys (rules I1-I4, I8): one key per logical call, sent unchanged on every retry
//! and returned; separate calls get separate keys; a caller's key is used as given; the same
//! key with another body is refused before sending.

use vipps_epayment::epayment::IdempotencyKey;
use vipps_epayment::{Error, IdempotentOptions};

use crate::samples;
use crate::support::server::{Action, Reply, TestServer};
use crate::support::{self};

#[tokio::test]
async fn a_retried_capture_sends_the_same_key_on_every_attempt() {
    let server = TestServer::start().await;
    server.script([Action::Reply(Reply::problem(503, "busy")), Action::Drop, Action::Reply(Reply::problem(429, "slow down"))]);
    let client = support::client(&server);
    let reference = support::reference("order-idem-0001");
    let result = client.capture_payment(&reference, &samples::capture(100), IdempotentOptions::new()).await.expect("4th attempt");
    let attempts = server.api_requests();
    assert_eq!(attempts.len(), 4);
    let keys: Vec<&str> = attempts.iter().map(|r| r.header("idempotency-key").expect("key sent")).collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_eq!(result.key.as_str(), keys[0], "the key sent is returned");
    assert!(attempts.iter().all(|r| r.body == attempts[0].body), "the same body on every attempt");
}

#[tokio::test]
async fn two_calls_send_two_different_keys() {
    let server = TestServer::start().await;
    let client = support::client(&server);
    let reference = support::reference("order-idem-0002");
    let first = client.capture_payment(&reference, &samples::capture(100), IdempotentOptions::new()).await.expect("capture");
    let second = client.capture_payment(&reference, &samples::capture(100), IdempotentOptions::new()).await.expect("capture");
    assert_ne!(first.key, second.key);
    let sent: Vec<String> = server.api_requests().iter().map(|r| r.header("idempotency-key").unwrap_or_default().to_string()).collect();
    assert_eq!(sent, vec![first.key.to_string(), second.key.to_string()]);
}

#[tokio::test]
async fn a_caller_key_is_used_as_given_and_returned() {
    let server = TestServer::start().await;
    let client = support::client(&server);
    let key = IdempotencyKey::new("order-77-refund-1").expect("valid key");
    let result = client
        .refund_payment(&support::reference("order-idem-0003"), &samples::refund(50), IdempotentOptions::with_key(key.clone()))
        .await
        .expect("refund");
    assert_eq!(result.key, key);
    assert_eq!(server.api_requests()[0].header("idempotency-key"), Some("order-77-refund-1"));
}

#[test]
fn a_key_over_fifty_characters_cannot_be_made() {
    // rule I2
    assert!(IdempotencyKey::new("k".repeat(50)).is_ok());
    let error = IdempotencyKey::new("k".repeat(51)).expect_err("too long");
    assert!(error.to_string().contains("maxLength 50"), "{error}");
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_before_sending() {
    let server = TestServer::start().await;
    let client = support::client(&server);
    let reference = support::reference("order-idem-0004");
    let key = IdempotencyKey::new("capture-once").expect("valid key");
    client.capture_payment(&reference, &samples::capture(100), IdempotentOptions::with_key(key.clone())).await.expect("first");
    // Replaying the same logical call (after a crash, say) is allowed (I3).
    client.capture_payment(&reference, &samples::capture(100), IdempotentOptions::with_key(key.clone())).await.expect("replay");
    let error = client
        .capture_payment(&reference, &samples::capture(999), IdempotentOptions::with_key(key.clone()))
        .await
        .expect_err("another body with the same key (I4)");
    assert!(matches!(&error, Error::IdempotencyKeyReused { operation: "capturePayment", key } if key == "capture-once"), "{error:?}");
    assert!(error.is_refused_before_sending());
    assert_eq!(server.api_requests().len(), 2, "the conflicting call never reached the server");
}

#[tokio::test]
async fn a_failed_call_hands_back_its_key_for_a_later_retry() {
    let server = TestServer::start().await;
    server.script([Action::Drop, Action::Drop, Action::Drop, Action::Drop]);
    let client = support::client(&server);
    let reference = support::reference("order-idem-0005");
    let error = client.capture_payment(&reference, &samples::capture(100), IdempotentOptions::new()).await.expect_err("all dropped");
    let key = error.idempotency_key().expect("the key is in the error").to_string();
    assert_eq!(server.api_requests()[0].header("idempotency-key"), Some(key.as_str()));
    let again = IdempotencyKey::new(key.clone()).expect("valid key");
    let result = client.capture_payment(&reference, &samples::capture(100), IdempotentOptions::with_key(again)).await.expect("retry later");
    assert_eq!(result.key.as_str(), key);
    assert_eq!(server.api_requests().last().and_then(|r| r.header("idempotency-key")), Some(key.as_str()));
}

#[tokio::test]
async fn a_key_belongs_to_one_operation_on_one_payment_of_one_merchant() {
    // The scope the simulator uses too (ARCHITECTURE.md, "One idempotency contract").
    let server = TestServer::start().await;
    let client = support::client(&server);
    let key = IdempotencyKey::new("shared-key-1").expect("valid key");
    let (a, b) = (support::reference("order-idem-0006"), support::reference("order-idem-0007"));
    let with_key = || IdempotentOptions::with_key(key.clone());
    client.capture_payment(&a, &samples::capture(100), with_key()).await.expect("capture a");
    client.capture_payment(&b, &samples::capture(200), with_key()).await.expect("another payment: another scope");
    client.refund_payment(&a, &samples::refund(50), with_key()).await.expect("another operation: another scope");
    let other_merchant = client.for_merchant("998877").expect("valid msn");
    other_merchant.capture_payment(&a, &samples::capture(300), with_key()).await.expect("another merchant: another scope");
    let error = client.capture_payment(&a, &samples::capture(999), with_key()).await.expect_err("same scope, other body");
    assert!(matches!(&error, Error::IdempotencyKeyReused { operation: "capturePayment", .. }), "{error:?}");
    assert_eq!(server.api_requests().len(), 4, "four scopes sent, the conflict refused before sending");
}
