//! Polling (rule S15) and force approve (rule S14).

use std::time::{Duration, Instant};

use vipps_epayment::epayment::State;
use vipps_epayment::runtime::PollPolicy;
use vipps_epayment::{CallOptions, Environment, Error};

use crate::support::server::TestServer;
use crate::support::{self};

#[tokio::test]
async fn polling_waits_until_the_payment_leaves_created() {
    let server = TestServer::start().await;
    server.payment_states(&["CREATED", "CREATED", "CREATED", "AUTHORIZED"]);
    let client = support::client(&server);
    let payment = client.wait_while_created(&support::reference("order-poll-0001")).await.expect("authorized");
    assert_eq!(payment.state, State::Authorized);
    assert_eq!(server.api_requests().len(), 4, "one get per poll until the state changed");
}

#[tokio::test]
async fn polling_follows_the_configured_cadence_and_gives_up() {
    let server = TestServer::start().await;
    server.payment_states(&["CREATED"]);
    let client = support::client(&server);
    let policy = PollPolicy { initial_delay: Duration::from_millis(50), interval: Duration::from_millis(30), timeout: Duration::from_millis(300) };
    let started = Instant::now();
    let error = client.wait_while_created_with(&support::reference("order-poll-0002"), &policy).await.expect_err("still CREATED");
    assert!(matches!(&error, Error::PollTimedOut { state, .. } if state == "CREATED"), "{error:?}");
    let polls = server.api_requests().len();
    assert!((2..=9).contains(&polls), "50 ms, then every 30 ms up to 300 ms (at most 9): {polls} polls");
    assert!(started.elapsed() >= Duration::from_millis(50 + 30), "{:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_zero_first_delay_polls_at_once() {
    let server = TestServer::start().await;
    server.payment_states(&["AUTHORIZED"]);
    let client = support::client(&server);
    // An interval far longer than the test's bound: only an immediate first poll finishes in time.
    let policy = PollPolicy { initial_delay: Duration::ZERO, interval: Duration::from_secs(60), timeout: Duration::from_secs(120) };
    let reference = support::reference("order-poll-0003");
    let waiting = client.wait_while_created_with(&reference, &policy);
    let payment = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("the first poll is not delayed").expect("authorized");
    assert_eq!(payment.state, State::Authorized);
    assert_eq!(server.api_requests().len(), 1);
}

#[test]
fn the_default_cadence_is_the_documented_one() {
    let policy = PollPolicy::default();
    assert_eq!(policy.initial_delay, Duration::from_secs(5));
    assert_eq!(policy.interval, Duration::from_secs(2));
}

#[tokio::test]
async fn force_approve_is_refused_in_production_before_sending() {
    let server = TestServer::start().await;
    // The loopback server stands in for production here, so nothing leaves the machine even if
    // the refusal were broken.
    let client = support::builder(&server)
        .environment(Environment::Custom { base_url: server.url(), production: true })
        .build()
        .expect("valid configuration");
    let error = client.force_approve(&support::reference("order-poll-0003"), None, CallOptions::new()).await.expect_err("refused");
    assert!(matches!(&error, Error::TestOnlyOperation { operation: "forceApprove" }), "{error:?}");
    assert!(server.requests().is_empty(), "not even the token was fetched");
    // The same client may still call production operations.
    client.get_payment(&support::reference("order-poll-0003"), CallOptions::new()).await.expect("get");
    assert!(Environment::Production.is_production());
    // A custom URL on a production server's origin is production once the client knows its APIs.
    let on_production = support::builder(&server).base_url("https://api.vipps.no").build().expect("valid configuration");
    assert!(on_production.config().environment().is_production());
    assert!(!Environment::custom("https://api.vipps.no").is_production(), "unmarked, before any client reads the servers");
}

#[tokio::test]
async fn force_approve_works_outside_production() {
    let server = TestServer::start().await;
    support::client(&server).force_approve(&support::reference("order-poll-0004"), None, CallOptions::new()).await.expect("approved");
    let request = &server.api_requests()[0];
    assert_eq!(request.path, "/epayment/v1/test/payments/order-poll-0004/approve");
}
