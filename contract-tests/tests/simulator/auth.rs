//! Access tokens and credentials (rules T1, T2).

use std::time::{Duration, SystemTime};

use vipps_contract_tests::sim::{Credentials, MerchantCredentials};
use vipps_epayment::runtime::ManualClock;
use vipps_epayment::{CallOptions, Error};

use crate::support::{
    Api, CLIENT_ID, CLIENT_SECRET, MSN, SUBSCRIPTION_KEY, client_builder, kinds, named_detail, problem_as, reference,
    start, test_builder,
};

const HOUR: Duration = Duration::from_secs(3600);
const HALF_HOUR: Duration = Duration::from_secs(1800);

// rule T1: the answer's expires_in and expires_on are numeric strings (the client's typed model
// takes them as strings and reads the expiry from them) giving a lifetime of one hour
#[tokio::test]
async fn t1_token_answer_has_numeric_strings_and_lasts_one_hour() {
    let sim = start().await;
    let issued = SystemTime::from(sim.now());
    // The client takes the earlier of `now + expires_in` and `expires_on`. With its clock half
    // an hour ahead of the simulator's, expires_on (issue time + 1 h) is the earlier one ...
    let ahead = client_builder(sim.base_url(), MSN, SUBSCRIPTION_KEY)
        .clock(ManualClock::new(issued + HALF_HOUR))
        .build()
        .unwrap();
    let token = ahead.access_token().await.expect("token");
    assert_eq!(token.expires_at(), issued + HOUR, "expires_on is the issue time plus one hour");
    assert!(!token.expose().is_empty());
    // ... and with its clock half an hour behind, now + expires_in (3600) is.
    let behind = client_builder(sim.base_url(), MSN, SUBSCRIPTION_KEY)
        .clock(ManualClock::new(issued - HALF_HOUR))
        .build()
        .unwrap();
    let token = behind.access_token().await.expect("token");
    assert_eq!(token.expires_at(), issued - HALF_HOUR + HOUR, "expires_in is 3600");
}

// rule T1: the token call needs client id, secret, subscription key (and, here, an MSN).
// Missing or malformed headers: raw, the client's builder refuses to make such a client.
#[tokio::test]
async fn t1_token_call_refuses_missing_or_bad_credentials_with_401() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let good = api.raw_token("id", "secret", SUBSCRIPTION_KEY, Some(MSN));
    assert_eq!(api.send_raw(good.clone()).await.status, 200);
    for (name, call) in [
        ("client_id", good.clone().without("client_id")),
        ("client_secret", good.clone().without("client_secret")),
        ("Ocp-Apim-Subscription-Key", good.clone().without("Ocp-Apim-Subscription-Key")),
        ("client_id", good.clone().header("client_id", "")),
        ("Merchant-Serial-Number", good.clone().without("Merchant-Serial-Number")),
        ("Merchant-Serial-Number", good.clone().header("Merchant-Serial-Number", "12ab")),
    ] {
        named_detail(&api.send_raw(call).await.refused_as(kinds::UNAUTHORIZED), name);
    }
    // the client refuses to be built with what the simulator refuses
    assert!(client_builder(sim.base_url(), "12ab", SUBSCRIPTION_KEY).build().is_err());
    assert!(client_builder(sim.base_url(), MSN, SUBSCRIPTION_KEY).client_id("").build().is_err());
}

// rule T1: valid one hour in test; the client renews it after the 401 that follows
#[tokio::test]
async fn t1_token_expires_after_one_hour() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-t1-expiry", 1000).await;
    let first = api.client.access_token().await.unwrap();
    sim.advance_clock(HOUR - Duration::from_secs(1));
    api.payment("order-t1-expiry").await;
    assert_eq!(api.client.access_token().await.unwrap(), first, "still valid: not renewed");
    sim.advance_clock(Duration::from_secs(1));
    // the client's own clock did not move: only a 401 makes it fetch a new token
    api.payment("order-t1-expiry").await;
    let second = api.client.access_token().await.unwrap();
    assert_ne!(second.expose(), first.expose(), "the expired token was refused and renewed");
    // the old token is refused (raw: the client never sends a token it knows is refused)
    let stale = api.raw_get("order-t1-expiry").header("Authorization", &format!("Bearer {}", first.expose()));
    let reason = named_detail(&api.send_raw(stale).await.refused_as(kinds::UNAUTHORIZED), "Authorization");
    assert_eq!(reason, "access token has expired");
}

// rule T2: Bearer token, subscription key and MSN on every call. The client sends them (every
// client call in these tests succeeds only so); taking them away is raw.
#[tokio::test]
async fn t2_calls_need_bearer_token_subscription_key_and_msn() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-t2-creds", 1000).await;
    let good = api.raw_get("order-t2-creds");
    assert_eq!(api.send_raw(good.clone()).await.status, 200);
    let bad_calls = [
        ("Authorization", good.clone().without("Authorization")),
        ("Authorization", good.clone().header("Authorization", "not-a-bearer-token")),
        ("Authorization", good.clone().header("Authorization", "Bearer sim.unknown.token")),
        ("Ocp-Apim-Subscription-Key", good.clone().without("Ocp-Apim-Subscription-Key")),
        ("Ocp-Apim-Subscription-Key", good.clone().header("Ocp-Apim-Subscription-Key", "another-key")),
        ("Merchant-Serial-Number", good.clone().without("Merchant-Serial-Number")),
        ("Merchant-Serial-Number", good.clone().header("Merchant-Serial-Number", "12")),
    ];
    for (field, call) in bad_calls {
        named_detail(&api.send_raw(call).await.refused_as(kinds::UNAUTHORIZED), field);
    }
    assert_eq!(api.payment("order-t2-creds").await.reference.as_str(), "order-t2-creds");
}

// rule T2: a token is issued per MSN and valid only for it
#[tokio::test]
async fn t2_token_is_valid_only_for_its_merchant_serial_number() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let other = Api::connect_as(sim.base_url(), "654321", SUBSCRIPTION_KEY).await;
    api.create_payment("order-t2-msn", 1000).await;
    // this merchant's token with the other MSN (raw: the client pairs them itself)
    let borrowed = api.raw_get("order-t2-msn").header("Merchant-Serial-Number", "654321");
    let problem = api.send_raw(borrowed).await.refused_as(kinds::UNAUTHORIZED);
    let reason = named_detail(&problem, "Merchant-Serial-Number");
    assert_eq!(reason, "the access token was issued for another merchant serial number");
    // and the other merchant's own client does not see this merchant's payment
    problem_as(&other.get("order-t2-msn").await.unwrap_err(), kinds::NOT_FOUND);
    assert_eq!(api.payment("order-t2-msn").await.amount.value.get(), 1000);
}

// rule T1 with fixed credentials: only the configured set gets a token
#[tokio::test]
async fn fixed_credentials_accept_only_the_configured_set() {
    let sim = test_builder()
        .credentials(Credentials::Fixed(MerchantCredentials {
            client_id: CLIENT_ID.to_string(),
            client_secret: CLIENT_SECRET.to_string(),
            subscription_key: SUBSCRIPTION_KEY.to_string(),
            msn: MSN.to_string(),
        }))
        .start()
        .await
        .unwrap();
    let api = Api::connect(&sim).await; // the support client uses CLIENT_ID / CLIENT_SECRET
    api.create_payment("order-fixed-creds", 1000).await;
    let base = || client_builder(sim.base_url(), MSN, SUBSCRIPTION_KEY);
    let wrong = [
        ("client_id", base().client_id("client-2")),
        ("client_secret", base().client_secret("wrong")),
        ("Ocp-Apim-Subscription-Key", base().subscription_key("other-key")),
        ("Merchant-Serial-Number", client_builder(sim.base_url(), "999999", SUBSCRIPTION_KEY)),
    ];
    for (name, builder) in wrong {
        let client = builder.build().unwrap();
        let refused = client.access_token().await.expect_err("wrong credentials get no token");
        named_detail(&problem_as(&refused, kinds::UNAUTHORIZED), name);
        // an operation fails with the token call's error as its source, and sends nothing
        match client.get_payment(&reference("order-fixed-creds"), CallOptions::new()).await {
            Err(Error::Authentication { source, .. }) => assert_eq!(source.status(), Some(401)),
            other => panic!("expected an authentication error, got {other:?}"),
        }
    }
    // without an MSN header (raw: the client always sends its MSN) the configured one is used
    let no_msn = api.raw_token(CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION_KEY, None);
    assert_eq!(api.send_raw(no_msn).await.status, 200);
    assert_eq!(api.event_log("order-fixed-creds").await.len(), 1);
}
