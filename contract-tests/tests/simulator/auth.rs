//! Access tokens and credentials (rules T1, T2).

use std::time::Duration;

use reqwest::Method;
use vipps_contract_tests::sim::{Credentials, MerchantCredentials};
use vipps_epayment::access_token::AuthorizationTokenResponse;

use crate::support::{Api, MSN, SUBSCRIPTION_KEY, start, test_builder};

// rule T1
#[tokio::test]
async fn t1_token_answer_has_numeric_strings_and_lasts_one_hour() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let reply = api.send(api.token_call("id", "secret", SUBSCRIPTION_KEY, Some(MSN))).await;
    assert_eq!(reply.status, 200);
    let raw: serde_json::Value = reply.json();
    for field in ["expires_in", "ext_expires_in", "expires_on", "not_before"] {
        let text = raw[field].as_str().unwrap_or_else(|| panic!("{field} is not a string"));
        text.parse::<i64>().unwrap_or_else(|_| panic!("{field} is not numeric: {text}"));
    }
    let token: AuthorizationTokenResponse = reply.json();
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.expires_in, "3600");
    let lifetime = token.expires_on.parse::<i64>().unwrap() - token.not_before.parse::<i64>().unwrap();
    assert_eq!(lifetime, 3600);
    assert!(!token.access_token.is_empty());
}

// rule T1: the token call needs client id, secret, subscription key (and, here, an MSN)
#[tokio::test]
async fn t1_token_call_refuses_missing_or_bad_credentials_with_401() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let good = api.token_call("id", "secret", SUBSCRIPTION_KEY, Some(MSN));
    for (name, call) in [
        ("client_id", good.clone().without("client_id")),
        ("client_secret", good.clone().without("client_secret")),
        ("Ocp-Apim-Subscription-Key", good.clone().without("Ocp-Apim-Subscription-Key")),
        ("client_id", good.clone().header("client_id", "")),
        ("Merchant-Serial-Number", good.clone().without("Merchant-Serial-Number")),
        ("Merchant-Serial-Number", good.clone().header("Merchant-Serial-Number", "12ab")),
    ] {
        let problem = api.send(call).await.problem(401);
        let named = problem.extra_details.unwrap_or_default();
        assert!(named.iter().any(|d| d.name == name), "401 should name {name}: {named:?}");
    }
}

// rule T1: valid one hour in test
#[tokio::test]
async fn t1_token_expires_after_one_hour() {
    let sim = start().await;
    let mut api = Api::connect(&sim).await;
    api.create_payment("order-t1-expiry", 1000).await;
    sim.advance_clock(Duration::from_secs(3599));
    assert_eq!(api.get("order-t1-expiry").await.status, 200);
    sim.advance_clock(Duration::from_secs(1));
    api.get("order-t1-expiry").await.problem(401);
    api.refresh_token().await;
    assert_eq!(api.get("order-t1-expiry").await.status, 200);
}

// rule T2: Bearer token, subscription key and MSN on every call
#[tokio::test]
async fn t2_calls_need_bearer_token_subscription_key_and_msn() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-t2-creds", 1000).await;
    let good = api.epayment(Method::GET, "/v1/payments/order-t2-creds");
    assert_eq!(api.send(good.clone()).await.status, 200);
    let bad_calls = [
        good.clone().without("Authorization"),
        good.clone().header("Authorization", "not-a-bearer-token"),
        good.clone().header("Authorization", "Bearer sim.unknown.token"),
        good.clone().without("Ocp-Apim-Subscription-Key"),
        good.clone().header("Ocp-Apim-Subscription-Key", "another-key"),
        good.clone().without("Merchant-Serial-Number"),
        good.clone().header("Merchant-Serial-Number", "12"),
    ];
    for call in bad_calls {
        let problem = api.send(call).await.problem(401);
        assert_eq!(problem.title, "Unauthorized");
        assert!(problem.extra_details.is_some_and(|d| !d.is_empty()));
    }
}

// rule T2: a token is issued per MSN and valid only for it
#[tokio::test]
async fn t2_token_is_valid_only_for_its_merchant_serial_number() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let other = Api::connect_as(sim.base_url(), "654321", SUBSCRIPTION_KEY).await;
    api.create_payment("order-t2-msn", 1000).await;
    let borrowed = api.epayment(Method::GET, "/v1/payments/order-t2-msn").header("Merchant-Serial-Number", "654321");
    let problem = api.send(borrowed).await.problem(401);
    assert_eq!(problem.extra_details.unwrap()[0].name, "Merchant-Serial-Number");
    // and the other merchant's own token does not see this merchant's payment
    other.get("order-t2-msn").await.problem(404);
}

// fixed credentials: only the configured set gets a token
#[tokio::test]
async fn fixed_credentials_accept_only_the_configured_set() {
    let sim = test_builder()
        .credentials(Credentials::Fixed(MerchantCredentials {
            client_id: "client-1".to_string(),
            client_secret: "secret-1".to_string(),
            subscription_key: SUBSCRIPTION_KEY.to_string(),
            msn: MSN.to_string(),
        }))
        .start()
        .await
        .unwrap();
    let api = Api::connect(&sim).await; // the support client uses client-1 / secret-1
    assert_eq!(api.send(api.token_call("client-1", "secret-1", SUBSCRIPTION_KEY, None)).await.status, 200);
    api.send(api.token_call("client-2", "secret-1", SUBSCRIPTION_KEY, Some(MSN))).await.problem(401);
    api.send(api.token_call("client-1", "wrong", SUBSCRIPTION_KEY, Some(MSN))).await.problem(401);
    api.send(api.token_call("client-1", "secret-1", "other-key", Some(MSN))).await.problem(401);
    api.send(api.token_call("client-1", "secret-1", SUBSCRIPTION_KEY, Some("999999"))).await.problem(401);
    api.create_payment("order-fixed-creds", 1000).await;
}
