//! Retries (rule I8): 423, 429 (with `Retry-After`), 5xx, dropped connections and timeouts are
//! retried within the caps on attempts and total time, and only for safe requests (GET, or a
//! request carrying an idempotency key); 400, 404 and 409 never are.

use std::time::{Duration, Instant};

use vipps_epayment::runtime::{RetryPolicy, TransportKind};
use vipps_epayment::{CallOptions, Error, IdempotentOptions};

use crate::samples;
use crate::support::server::{Action, Reply, TestServer};
use crate::support::{self};

#[tokio::test]
async fn locked_rate_limited_and_unavailable_are_retried() {
    for status in [423, 429, 500, 503] {
        let server = TestServer::start().await;
        server.reply([Reply::problem(status, "try again")]);
        let client = support::client(&server);
        let payment = client.get_payment(&support::reference("order-retry-0001"), CallOptions::new()).await;
        assert!(payment.is_ok(), "{status}: {payment:?}");
        assert_eq!(server.api_requests().len(), 2, "{status} is retried once, then succeeds");
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = TestServer::start().await;
    server.reply([Reply::problem(429, "rate limited").header("retry-after", "1")]);
    let client = support::client(&server);
    let started = Instant::now();
    client
        .capture_payment(&support::reference("order-retry-0002"), &samples::capture(10), IdempotentOptions::new())
        .await
        .expect("second attempt succeeds");
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(server.api_requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_retries() {
    let server = TestServer::start().await;
    server.reply([Reply::problem(429, "rate limited").header("retry-after", "60")]);
    let client = support::client(&server);
    let started = Instant::now();
    let error = client.get_payment(&support::reference("order-retry-0003"), CallOptions::new()).await.expect_err("429");
    assert_eq!(error.status(), Some(429));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let server = TestServer::start().await;
    server.script([Action::Drop, Action::Drop]);
    let client = support::client(&server);
    client.get_payment_event_log(&support::reference("order-retry-0004"), CallOptions::new()).await.expect("third attempt");
    assert_eq!(server.api_requests().len(), 3);
}

#[tokio::test]
async fn slow_responses_time_out_and_are_retried() {
    let server = TestServer::start().await;
    server.script([Action::Delay(Duration::from_secs(3), Reply::empty(200))]);
    let client = support::builder(&server).timeout(Duration::from_millis(200)).build().expect("valid configuration");
    let started = Instant::now();
    client.get_payment(&support::reference("order-retry-0005"), CallOptions::new()).await.expect("second attempt");
    assert!(started.elapsed() < Duration::from_secs(2), "the 3 s attempt was cut at the timeout: {:?}", started.elapsed());
    assert_eq!(server.api_requests().len(), 2);
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    for status in [400, 404, 409] {
        let server = TestServer::start().await;
        server.reply([Reply::problem(status, "no")]);
        let client = support::client(&server);
        let error = client
            .capture_payment(&support::reference("order-retry-0006"), &samples::capture(10), IdempotentOptions::new())
            .await
            .expect_err("documented problem");
        assert!(matches!(&error, Error::Problem { status: s, .. } if *s == status), "{error:?}");
        assert_eq!(server.api_requests().len(), 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn attempts_are_capped() {
    let server = TestServer::start().await;
    server.reply((0..10).map(|_| Reply::problem(503, "down")));
    let client = support::client(&server);
    let error = client.get_payment(&support::reference("order-retry-0007"), CallOptions::new()).await.expect_err("always 503");
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.context().map(|c| c.attempts), Some(4));
    assert_eq!(server.api_requests().len(), 4, "max_attempts is 4");
}

#[tokio::test]
async fn total_time_is_capped() {
    let server = TestServer::start().await;
    server.reply((0..50).map(|_| Reply::problem(503, "down")));
    let policy = RetryPolicy {
        max_attempts: 50,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(100),
        max_elapsed: Duration::from_millis(300),
        max_retry_after: Duration::from_secs(1),
    };
    let client = support::builder(&server).retry_policy(policy).build().expect("valid configuration");
    client.access_token().await.expect("token first, so only the ePayment attempts count");
    let started = Instant::now();
    let error = client.get_payment(&support::reference("order-retry-0008"), CallOptions::new()).await.expect_err("always 503");
    assert_eq!(error.status(), Some(503));
    let attempts = server.api_requests().len();
    // Without the time cap this would be 50 attempts (about 4 s of backoff).
    assert!((2..=8).contains(&attempts), "{attempts} attempts within 300 ms of backoffs of 50-100 ms");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_post_without_an_idempotency_key_is_not_retried() {
    let server = TestServer::start().await;
    server.reply([Reply::problem(503, "down")]);
    let client = support::client(&server);
    let reference = support::reference("order-retry-0009");
    let error = client.cancel_payment(&reference, None, CallOptions::new()).await.expect_err("503");
    assert!(matches!(&error, Error::Problem { status: 503, documented: false, .. }), "{error:?}");
    assert_eq!(server.api_requests().len(), 1);

    server.script([Action::Delay(Duration::from_secs(2), Reply::empty(200))]);
    let client = support::builder(&server).timeout(Duration::from_millis(150)).build().expect("valid configuration");
    let error = client.cancel_payment(&reference, None, CallOptions::new()).await.expect_err("timeout");
    assert!(matches!(&error, Error::Transport { kind: TransportKind::Timeout, .. }), "{error:?}");
    assert_eq!(server.api_requests().len(), 2, "the timed-out cancel was not sent again");
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // A port nobody listens on: bind, note the port, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let client = vipps_epayment::Client::builder()
        .base_url(url)
        .client_id("id")
        .client_secret("secret")
        .subscription_key("key")
        .merchant_serial_number("123456")
        .retry_policy(support::fast_retries())
        .build()
        .expect("valid configuration");
    let error = client.access_token().await.expect_err("nobody listens");
    assert!(matches!(&error, Error::Transport { kind: TransportKind::Connect, .. }), "{error:?}");
    assert_eq!(error.operation(), Some("fetchAuthorizationTokenUsingPost"));
}
