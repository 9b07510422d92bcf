//! The access token (rules T1, T2): one fetch for many concurrent calls, renewal shortly before
//! expiry (time moved by a manual clock, no sleeping), renewal once after a 401.

use std::time::{Duration, SystemTime};

use vipps_epayment::CallOptions;
use vipps_epayment::runtime::ManualClock;

use crate::support::server::{Reply, TestServer, token};
use crate::support::{self, CLIENT_ID, CLIENT_SECRET, MSN, SUBSCRIPTION_KEY};

#[tokio::test]
async fn fifty_concurrent_calls_fetch_one_token() {
    let server = TestServer::start().await;
    // A slow token call, so that all 50 calls want the token while it is being fetched.
    server.token_delay(Duration::from_millis(100));
    let client = support::client(&server);
    let reference = support::reference("order-token-0001");
    let calls = (0..50).map(|_| {
        let client = client.clone();
        let reference = reference.clone();
        tokio::spawn(async move { client.get_payment(&reference, CallOptions::new()).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.expect("task").expect("get payment");
    }
    assert_eq!(server.tokens_issued(), 1);
    let requests = server.requests();
    assert_eq!(requests.iter().filter(|r| r.is_token_call()).count(), 1);
    let api = server.api_requests();
    assert_eq!(api.len(), 50);
    assert!(api.iter().all(|r| r.header("authorization") == Some(format!("Bearer {}", token(1)).as_str())));
}

#[tokio::test]
async fn the_token_call_sends_the_credentials_of_rule_t1() {
    let server = TestServer::start().await;
    let client = support::client(&server);
    let access = client.access_token().await.expect("token");
    assert_eq!(access.expose(), token(1));
    let call = &server.requests()[0];
    assert_eq!((call.method.as_str(), call.path.as_str()), ("POST", "/accesstoken/get"));
    assert_eq!(call.header("client_id"), Some(CLIENT_ID));
    assert_eq!(call.header("client_secret"), Some(CLIENT_SECRET));
    assert_eq!(call.header("ocp-apim-subscription-key"), Some(SUBSCRIPTION_KEY));
    assert_eq!(call.header("merchant-serial-number"), Some(MSN));
    assert_eq!(call.header("authorization"), None, "the token call itself is not authenticated");
}

#[tokio::test]
async fn the_token_is_cached_until_shortly_before_expiry() {
    let server = TestServer::start().await;
    server.token_lifetime("3600");
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let client = support::builder(&server)
        .clock(clock.clone())
        .token_refresh_margin(Duration::from_secs(60))
        .build()
        .expect("valid configuration");
    let reference = support::reference("order-token-0002");

    client.get_payment(&reference, CallOptions::new()).await.expect("get");
    clock.advance(Duration::from_secs(3500));
    client.get_payment(&reference, CallOptions::new()).await.expect("get");
    assert_eq!(server.tokens_issued(), 1, "100 s before expiry the token is still used");

    clock.advance(Duration::from_secs(50));
    client.get_payment(&reference, CallOptions::new()).await.expect("get");
    assert_eq!(server.tokens_issued(), 2, "50 s before expiry (inside the 60 s margin) it is renewed");
    let api = server.api_requests();
    assert_eq!(api[1].header("authorization"), Some(format!("Bearer {}", token(1)).as_str()));
    assert_eq!(api[2].header("authorization"), Some(format!("Bearer {}", token(2)).as_str()));
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_repeats_the_call() {
    let server = TestServer::start().await;
    let client = support::client(&server);
    let reference = support::reference("order-token-0003");
    client.get_payment(&reference, CallOptions::new()).await.expect("first call");
    server.revoke(&token(1));

    // cancel is not idempotent (no key, not retried on 5xx), but a 401 means it was not processed.
    let payment = client.cancel_payment(&reference, None, CallOptions::new()).await.expect("renewed and repeated");
    assert_eq!(payment.reference, reference);
    assert_eq!(server.tokens_issued(), 2);
    let api = server.api_requests();
    assert_eq!(api.len(), 3);
    assert_eq!(api[1].header("authorization"), Some(format!("Bearer {}", token(1)).as_str()));
    assert_eq!(api[2].header("authorization"), Some(format!("Bearer {}", token(2)).as_str()));
}

#[tokio::test]
async fn a_second_401_is_returned_not_looped_on() {
    let server = TestServer::start().await;
    let client = support::client(&server);
    server.revoke(&token(1));
    server.revoke(&token(2));
    let error = client.get_payment(&support::reference("order-token-0004"), CallOptions::new()).await.expect_err("401 twice");
    assert_eq!(error.status(), Some(401));
    assert_eq!(server.tokens_issued(), 2, "renewed once, not again");
    assert_eq!(server.api_requests().len(), 2);
}

#[tokio::test]
async fn a_failing_token_call_is_an_authentication_error_naming_both_calls() {
    let server = TestServer::start().await;
    server.token_failure(Reply::empty(401));
    let client = support::client(&server);
    let error = client.get_payment(&support::reference("order-token-0005"), CallOptions::new()).await.expect_err("no token");
    let vipps_epayment::Error::Authentication { context, source } = &error else { panic!("{error:?}") };
    assert_eq!(context.operation, "getPayment");
    assert_eq!(source.operation(), Some("fetchAuthorizationTokenUsingPost"));
    assert_eq!(source.status(), Some(401));
    assert!(server.api_requests().is_empty(), "no ePayment call without a token");
}

#[tokio::test]
async fn a_503_from_the_token_call_is_retried_within_the_retry_policy() {
    let server = TestServer::start().await;
    server.token_failures_once([Reply::empty(503), Reply::empty(503).header("retry-after", "0")]);
    let client = support::client(&server);
    client.get_payment(&support::reference("order-token-0006"), CallOptions::new()).await.expect("token after two 503s");
    let token_calls = server.requests().iter().filter(|r| r.is_token_call()).count();
    assert_eq!(token_calls, 3, "two refused token calls, then one that issued the token");
    assert_eq!(server.tokens_issued(), 1);
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn token_retries_stop_at_the_policy_limit() {
    let server = TestServer::start().await;
    server.token_failure(Reply::empty(503));
    let client = support::client(&server);
    let error = client.get_payment(&support::reference("order-token-0007"), CallOptions::new()).await.expect_err("no token");
    let vipps_epayment::Error::Authentication { source, .. } = &error else { panic!("{error:?}") };
    assert_eq!(source.status(), Some(503));
    let attempts = server.requests().iter().filter(|r| r.is_token_call()).count();
    assert_eq!(attempts, support::fast_retries().max_attempts as usize, "max_attempts token calls, no more");
    assert!(server.api_requests().is_empty());
}

#[tokio::test]
async fn callers_waiting_on_a_failed_fetch_share_its_failure() {
    let server = TestServer::start().await;
    // A slow refusal (400: not retried), so that all 20 calls wait for this one token call.
    server.token_delay(Duration::from_millis(150));
    server.token_failures_once([Reply::problem(400, "bad credentials")]);
    let client = support::client(&server);
    let reference = support::reference("order-token-0008");
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            let reference = reference.clone();
            tokio::spawn(async move { client.get_payment(&reference, CallOptions::new()).await })
        })
        .collect();
    for call in calls {
        let error = call.await.expect("task").expect_err("the one token call failed");
        let vipps_epayment::Error::Authentication { source, .. } = &error else { panic!("{error:?}") };
        assert_eq!(source.status(), Some(400));
    }
    assert_eq!(server.requests().iter().filter(|r| r.is_token_call()).count(), 1, "one token call, its failure shared");
    assert!(server.api_requests().is_empty());
    // The failure is not cached: the next call fetches anew (the server now issues tokens).
    client.get_payment(&reference, CallOptions::new()).await.expect("a later call fetches again");
    assert_eq!(server.tokens_issued(), 1);
}

#[tokio::test]
async fn tokens_are_cached_per_merchant_and_fetched_with_its_serial_number() {
    let server = TestServer::start().await;
    let client = support::builder(&server).build().expect("valid configuration");
    let reference = support::reference("order-token-0009");
    let shop_a = client.for_merchant("223344").expect("valid msn");
    let shop_b = client.for_merchant("556677").expect("valid msn");
    shop_a.get_payment(&reference, CallOptions::new()).await.expect("a");
    shop_b.get_payment(&reference, CallOptions::new()).await.expect("b");
    shop_a.get_payment(&reference, CallOptions::new()).await.expect("a again");
    client.get_payment(&reference, CallOptions::new().merchant_serial_number("556677")).await.expect("b per call");
    assert_eq!(server.tokens_issued(), 2, "one token per merchant, shared by its handles and calls");
    let token_calls: Vec<_> = server.requests().into_iter().filter(|r| r.is_token_call()).collect();
    assert_eq!(token_calls[0].header("merchant-serial-number"), Some("223344"));
    assert_eq!(token_calls[1].header("merchant-serial-number"), Some("556677"));
    let api = server.api_requests();
    let sent: Vec<_> = api.iter().map(|r| (r.header("merchant-serial-number").unwrap_or(""), r.header("authorization").unwrap_or(""))).collect();
    let (one, two) = (format!("Bearer {}", token(1)), format!("Bearer {}", token(2)));
    assert_eq!(sent, [("223344", one.as_str()), ("556677", two.as_str()), ("223344", one.as_str()), ("556677", two.as_str())]);
}

#[tokio::test]
async fn a_token_is_renewed_exactly_at_its_refresh_time_and_a_short_one_halfway() {
    let server = TestServer::start().await;
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let clock = ManualClock::new(start);
    // 3600 s with a 60 s margin: renewed from 3540 s on, not a moment later.
    server.token_lifetime("3600");
    let client = support::builder(&server).clock(clock.clone()).token_refresh_margin(Duration::from_secs(60)).build().expect("valid");
    client.access_token().await.expect("token");
    clock.set(start + Duration::from_secs(3539));
    client.access_token().await.expect("token");
    assert_eq!(server.tokens_issued(), 1, "one second before the refresh time the token is kept");
    clock.set(start + Duration::from_secs(3540));
    client.access_token().await.expect("token");
    assert_eq!(server.tokens_issued(), 2, "at the refresh time it is renewed");

    // A 100 s token with the default 5 minute margin: the margin is capped at half the lifetime.
    let server = TestServer::start().await;
    server.token_lifetime("100");
    let clock = ManualClock::new(start);
    let client = support::builder(&server).clock(clock.clone()).build().expect("valid");
    client.access_token().await.expect("token");
    clock.set(start + Duration::from_secs(49));
    client.access_token().await.expect("token");
    assert_eq!(server.tokens_issued(), 1, "kept for the first half of its life");
    clock.set(start + Duration::from_secs(50));
    client.access_token().await.expect("token");
    assert_eq!(server.tokens_issued(), 2, "renewed at half its life");
}

#[tokio::test]
async fn a_429_or_423_from_the_token_call_is_retried_after_its_retry_after() {
    let server = TestServer::start().await;
    server.token_failures_once([Reply::empty(429).header("retry-after", "1"), Reply::empty(423)]);
    let client = support::client(&server);
    let started = std::time::Instant::now();
    client.get_payment(&support::reference("order-token-0010"), CallOptions::new()).await.expect("token after 429 and 423");
    assert!(started.elapsed() >= Duration::from_secs(1), "the 429's Retry-After of 1 s was waited: {:?}", started.elapsed());
    assert_eq!(server.requests().iter().filter(|r| r.is_token_call()).count(), 3, "429, 423, then the token");
    assert_eq!(server.tokens_issued(), 1);
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn a_token_given_on_the_builder_is_sent_and_none_is_fetched() {
    let server = TestServer::start().await;
    let client = vipps_epayment::Client::builder()
        .base_url(server.url())
        .subscription_key(SUBSCRIPTION_KEY)
        .merchant_serial_number(MSN)
        .access_token("given-elsewhere")
        .build()
        .expect("no client id or secret is needed when the token is given");
    client.get_payment(&support::reference("order-token-0100"), CallOptions::new()).await.expect("get payment");
    assert_eq!(server.tokens_issued(), 0);
    let api = server.api_requests();
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].header("authorization"), Some("Bearer given-elsewhere"));
    assert!(!format!("{client:?}").contains("given-elsewhere"), "Debug hides the given token");
}

#[tokio::test]
async fn without_a_given_token_the_client_credentials_are_required() {
    let server = TestServer::start().await;
    let error = vipps_epayment::Client::builder()
        .base_url(server.url())
        .subscription_key(SUBSCRIPTION_KEY)
        .client_secret(CLIENT_SECRET)
        .build()
        .expect_err("the token operation needs a client id");
    assert!(matches!(&error, vipps_epayment::Error::Config { message } if message == "client id is required"), "{error:?}");
    let error = vipps_epayment::Client::builder().base_url(server.url()).access_token("t").build().expect_err("ePayment sends the subscription key");
    assert!(matches!(&error, vipps_epayment::Error::Config { message } if message == "subscription key is required"), "{error:?}");
}

#[tokio::test]
async fn a_given_token_is_not_renewed_after_a_401_and_a_bad_one_is_refused() {
    let server = TestServer::start().await;
    server.reply([Reply::problem(401, "Unauthorized")]);
    let client = vipps_epayment::Client::builder()
        .base_url(server.url())
        .subscription_key(SUBSCRIPTION_KEY)
        .merchant_serial_number(MSN)
        .access_token("revoked")
        .build()
        .expect("valid configuration");
    let error = client.get_payment(&support::reference("order-token-0101"), CallOptions::new()).await.expect_err("401");
    assert_eq!(error.status(), Some(401), "{error:?}");
    assert_eq!(server.api_requests().len(), 1, "sent once: a given token has nothing to renew");
    assert_eq!(server.tokens_issued(), 0);
    let error = vipps_epayment::Client::builder().base_url(server.url()).subscription_key(SUBSCRIPTION_KEY).access_token("line\nbreak").build().expect_err("refused");
    assert!(matches!(&error, vipps_epayment::Error::Config { message } if message.starts_with("access token: not a valid header value")), "{error:?}");
    assert!(!format!("{error:?}").contains("line"), "the token is not shown");
}
