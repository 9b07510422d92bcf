//! Secrets (client secret, subscription key, access token) never appear in `Debug` of the
//! client, its builder or configuration, in any error (`Debug` or `Display`), or in the tracing
//! output, which does carry one span per call with operation, reference, attempt and status.

use vipps_epayment::epayment::IdempotencyKey;
use vipps_epayment::{CallOptions, Client, Error, IdempotentOptions};

use crate::samples;
use crate::support::capture::capture;
use crate::support::server::{Action, Reply, TestServer, token};
use crate::support::{self, CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION_KEY};

fn assert_no_secret(what: &str, text: &str) {
    for secret in [CLIENT_SECRET, SUBSCRIPTION_KEY, &token(1), &token(2), "SHOULD-NOT-LEAK"] {
        assert!(!text.contains(secret), "{what} shows a secret ({secret}):\n{text}");
    }
}

#[tokio::test]
async fn debug_of_the_client_its_builder_and_config_shows_no_secret() {
    let server = TestServer::start().await;
    let builder = support::builder(&server);
    assert_no_secret("the builder", &format!("{builder:?}"));
    let client: Client = builder.build().expect("valid configuration");
    client.access_token().await.expect("a token is now cached");
    let debug = format!("{client:?}");
    assert_no_secret("the client", &debug);
    assert_no_secret("the client ({:#?})", &format!("{client:#?}"));
    assert_no_secret("the config", &format!("{:?}", client.config()));
    assert!(debug.contains(CLIENT_ID), "Debug still shows the non-secret configuration: {debug}");
    assert!(debug.contains("redacted"), "{debug}");
    let access = client.access_token().await.expect("cached");
    assert_no_secret("the access token", &format!("{access:?}"));
}

#[tokio::test]
async fn no_error_shows_a_secret() {
    let server = TestServer::start().await;
    let client = support::client(&server);
    let reference = support::reference("order-secret-0001");
    let mut errors: Vec<Error> = Vec::new();

    server.reply([Reply::problem(409, "conflict"), Reply::raw(418, "text/plain", "teapot")]);
    errors.push(client.capture_payment(&reference, &samples::capture(1), IdempotentOptions::new()).await.expect_err("409"));
    errors.push(client.cancel_payment(&reference, None, CallOptions::new()).await.expect_err("418"));
    server.reply([Reply::json(200, serde_json::json!({ "state": 1 }))]);
    errors.push(client.get_payment(&reference, CallOptions::new()).await.expect_err("decode"));
    server.script([Action::Drop]);
    errors.push(client.cancel_payment(&reference, None, CallOptions::new()).await.expect_err("dropped"));
    let key = IdempotencyKey::new("secret-test-key").expect("valid key");
    client.refund_payment(&reference, &samples::refund(1), IdempotentOptions::with_key(key.clone())).await.expect("refund");
    errors.push(client.refund_payment(&reference, &samples::refund(2), IdempotentOptions::with_key(key)).await.expect_err("reuse"));
    server.revoke(&token(1));
    server.revoke(&token(2));
    errors.push(client.get_payment(&reference, CallOptions::new()).await.expect_err("401 twice"));

    let failing = TestServer::start().await;
    failing.token_failure(Reply::raw(401, "text/plain", "bad credentials"));
    errors.push(support::client(&failing).get_payment(&reference, CallOptions::new()).await.expect_err("no token"));
    errors.push(support::builder(&failing).merchant_serial_number("12").build().expect_err("bad msn"));

    assert_eq!(errors.len(), 8);
    for error in &errors {
        assert_no_secret("an error (Debug)", &format!("{error:?}"));
        assert_no_secret("an error (Display)", &format!("{error}"));
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            assert_no_secret("an error source", &format!("{cause:?} {cause}"));
            source = cause.source();
        }
    }
}

#[tokio::test]
async fn tracing_has_one_span_per_call_and_no_secret() {
    let (captured, _guard) = capture();
    let server = TestServer::start().await;
    let client = support::client(&server);
    let reference = support::reference("order-secret-0002");
    server.reply([Reply::problem(503, "busy")]);
    client.capture_payment(&reference, &samples::capture(5), IdempotentOptions::new()).await.expect("capture");
    server.revoke(&token(1));
    client.get_payment(&reference, CallOptions::new()).await.expect("get after a 401");

    let text = captured.text();
    assert_no_secret("tracing output", &text);
    assert!(text.contains("vipps_call"), "{text}");
    assert!(text.contains("capturePayment") && text.contains("getPayment"), "operation is recorded: {text}");
    assert!(text.contains("fetchAuthorizationTokenUsingPost"), "the token call has its own span: {text}");
    assert!(text.contains("order-secret-0002"), "reference is recorded: {text}");
    assert!(text.contains("attempt=2"), "attempt is recorded: {text}");
    assert!(text.contains("status=503") && text.contains("status=200"), "status is recorded: {text}");
    assert!(text.contains("retrying"), "{text}");
}
