//! Webhooks (rules W1, W2, I10): registration over the Webhooks API's paths, signed delivery of
//! every payment event to a loopback receiver, retries and duplicate delivery.
//!
//! Payments go through the generated client; the Webhooks API's calls are raw here, to test the
//! simulator's wire itself (the SDK's own webhook calls and verifier are exercised by
//! `tests/programs/merchant.rs`). Deliveries are awaited with a bounded poll (every 10 ms, at
//! most 5 s).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use vipps_contract_tests::sim::server;
use vipps_contract_tests::sim::webhooks::event_types;
use vipps_contract_tests::sim::{RunningSimulator, WebhookRetry, WebhookSignatureError, verify_webhook_signature};
use vipps_epayment::epayment::{PaymentEventName, WebhookEvent};

use crate::support::{Api, MSN, SUBSCRIPTION_KEY, kinds, named_detail, start, test_builder};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path_and_query: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn event(&self) -> WebhookEvent {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!("payload is not a WebhookEvent ({error}): {}", String::from_utf8_lossy(&self.body))
        })
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap()
    }
}

#[derive(Default)]
struct Inbox {
    /// Every request, answered or not.
    attempts: Mutex<Vec<Received>>,
    /// Requests still to refuse with 500.
    fail_next: AtomicU32,
}

/// A loopback webhook receiver (axum) that records every request and answers 204, or 500 while
/// `fail_next` lasts.
struct Receiver {
    base: String,
    inbox: Arc<Inbox>,
    /// Dropping it stops the receiver.
    _stop: watch::Sender<bool>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Receiver::serve(listener)
    }

    fn serve(listener: tokio::net::TcpListener) -> Receiver {
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inbox = Arc::new(Inbox::default());
        let app = Router::new().fallback(receive).with_state(inbox.clone());
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(server::serve(listener, app, stopped));
        Receiver { base, inbox, _stop: stop }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn attempts(&self) -> Vec<Received> {
        self.inbox.attempts.lock().unwrap().clone()
    }

    /// Waits (every 10 ms, at most 5 s) until at least `count` requests have arrived.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..500 {
            let attempts = self.attempts();
            if attempts.len() >= count {
                return attempts;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {count} webhook requests within 5 s, got {}", self.attempts().len());
    }
}

async fn receive(State(inbox): State<Arc<Inbox>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let path_and_query = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    inbox.attempts.lock().unwrap().push(Received { path_and_query, headers, body });
    let failing = inbox.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    if failing.is_ok() { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
}

/// `POST /webhooks/v1/webhooks` as `api`'s merchant; returns (id, secret).
async fn register(api: &Api, url: &str, events: &[String]) -> (String, String) {
    let answer = api
        .send_raw(api.raw(Method::POST, "/webhooks/v1/webhooks").json(&json!({ "url": url, "events": events })))
        .await;
    assert_eq!(answer.status, 201, "register: {}", answer.text());
    let body: serde_json::Value = answer.json();
    let id = body["id"].as_str().expect("id").to_string();
    let secret = body["secret"].as_str().expect("secret").to_string();
    uuid::Uuid::parse_str(&id).expect("the id is a UUID");
    assert!(!secret.is_empty());
    (id, secret)
}

/// The ids `GET /webhooks/v1/webhooks` lists for `api`'s merchant.
async fn list(api: &Api) -> Vec<String> {
    let answer = api.send_raw(api.raw(Method::GET, "/webhooks/v1/webhooks")).await;
    assert_eq!(answer.status, 200);
    let body: serde_json::Value = answer.json();
    body["webhooks"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_string()).collect()
}

fn by_psp(received: &[Received]) -> BTreeMap<String, Vec<WebhookEvent>> {
    let mut map: BTreeMap<String, Vec<WebhookEvent>> = BTreeMap::new();
    for request in received {
        let event = request.event();
        map.entry(event.psp_reference.as_str().to_string()).or_default().push(event);
    }
    map
}

// rule W1: every event name maps to `epayments.payment.<event>.v1`; the payload is the spec's
// WebhookEvent and matches the event log (reference, pspReference, name, amount, time, key)
#[tokio::test]
async fn w1_each_event_goes_to_its_subscribers_as_a_webhook_event() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let receiver = Receiver::start().await;
    // One webhook per event name, each at its own path: what arrives at a path shows the mapping.
    let mut path_of = HashMap::new();
    for name in PaymentEventName::KNOWN {
        let event_type = format!("epayments.payment.{}.v1", name.as_str().to_lowercase());
        let path = format!("/hooks/{}", name.as_str().to_lowercase());
        register(&api, &receiver.url(&path), &[event_type]).await;
        path_of.insert(name.as_str().to_string(), path);
    }
    assert_eq!(event_types().len(), 8);

    // order-w1-a: CREATED, AUTHORIZED, CAPTURED, REFUNDED, CANCELLED
    api.authorized_payment("order-w1-a", 1000).await;
    api.capture("order-w1-a", 300, "cap-w1").await.unwrap();
    api.refund("order-w1-a", 100, "ref-w1").await.unwrap();
    api.cancel("order-w1-a").await.unwrap();
    // order-w1-b: CREATED, ABORTED (the user rejects)
    api.create_payment("order-w1-b", 500).await;
    sim.reject("order-w1-b").unwrap();
    // order-w1-c: CREATED, TERMINATED (cancel before authorization)
    api.create_payment("order-w1-c", 700).await;
    api.cancel("order-w1-c").await.unwrap();
    // order-w1-d: CREATED, EXPIRED (time runs out; applied when the payment is next read)
    api.create_payment("order-w1-d", 900).await;
    sim.advance_clock(Duration::from_secs(600));
    api.payment("order-w1-d").await;

    let mut logged = Vec::new();
    for reference in ["order-w1-a", "order-w1-b", "order-w1-c", "order-w1-d"] {
        logged.extend(api.event_log(reference).await);
    }
    assert_eq!(logged.len(), 11);
    let received = receiver.wait_for(logged.len()).await;
    assert_eq!(received.len(), logged.len(), "each event once, to the one webhook subscribed to it");

    let names: BTreeSet<&str> = logged.iter().map(|event| event.name.as_str()).collect();
    assert_eq!(names.len(), 8, "every PaymentEventName happened: {names:?}");
    for request in &received {
        let event = request.event();
        assert_eq!(request.path_and_query, path_of[event.name.as_str()], "{} went to the wrong webhook", event.name);
        assert_eq!(event.msn.as_str(), MSN);
        assert!(event.success);
        assert_eq!(request.header("content-type"), "application/json");
    }
    for expected in &logged {
        let delivered: Vec<WebhookEvent> = received
            .iter()
            .map(Received::event)
            .filter(|event| event.psp_reference == expected.psp_reference)
            .collect();
        assert_eq!(delivered.len(), 1, "one delivery of {}", expected.psp_reference.as_str());
        let event = &delivered[0];
        assert_eq!(event.reference, expected.reference);
        assert_eq!(event.name, expected.name);
        assert_eq!(event.amount, expected.amount);
        assert_eq!(event.timestamp, expected.timestamp);
        assert_eq!(
            event.idempotency_key.as_deref(),
            expected.idempotency_key.as_ref().map(|key| key.as_str())
        );
    }
    let captured = received.iter().map(Received::event).find(|e| e.name == PaymentEventName::Captured).unwrap();
    assert_eq!((captured.reference.as_str(), captured.amount.value.get()), ("order-w1-a", 300));
    let cancelled = received.iter().map(Received::event).find(|e| e.name == PaymentEventName::Cancelled).unwrap();
    assert_eq!(cancelled.amount.value.get(), 700, "the released remainder (rule S5)");
}

// rule W1: a webhook gets only the events it subscribed to, and only its own merchant's
#[tokio::test]
async fn w1_only_subscribed_events_of_the_own_merchant_are_sent() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let other = Api::connect_as(sim.base_url(), "654321", SUBSCRIPTION_KEY).await;
    let receiver = Receiver::start().await;
    register(&api, &receiver.url("/mine"), &["epayments.payment.captured.v1".to_string()]).await;
    api.authorized_payment("order-w1-sub", 1000).await;
    other.authorized_payment("order-w1-sub", 1000).await;
    other.capture("order-w1-sub", 100, "cap-other").await.unwrap();
    api.capture("order-w1-sub", 200, "cap-mine").await.unwrap();
    let received = receiver.wait_for(1).await;
    // The capture of the other merchant was made before ours; had it been sent, it would be here.
    let events: Vec<WebhookEvent> = received.iter().map(Received::event).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].msn.as_str(), events[0].amount.value.get()), (MSN, 200));
}

// rule W2: each request is signed with the secret given at registration; the signature and
// content hash verify, and fail with a wrong secret, a changed body or a changed date
#[tokio::test]
async fn w2_deliveries_are_signed_with_the_registration_secret() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let receiver = Receiver::start().await;
    let (id, secret) = register(&api, &receiver.url("/hooks/vipps?shop=7"), &event_types()).await;
    api.create_payment("order-w2", 1000).await;
    let request = receiver.wait_for(1).await.remove(0);

    // the headers, computed here independently of the simulator's signing code
    assert_eq!(request.path_and_query, "/hooks/vipps?shop=7");
    assert_eq!(request.header("x-ms-date"), "Wed, 01 Jan 2025 12:00:00 GMT", "the simulator clock, RFC 1123");
    let hash = BASE64.encode(Sha256::digest(&request.body));
    assert_eq!(request.header("x-ms-content-sha256"), hash);
    let host = receiver.base.trim_start_matches("http://");
    assert_eq!(request.header("host"), host);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("POST\n/hooks/vipps?shop=7\nWed, 01 Jan 2025 12:00:00 GMT;{host};{hash}").as_bytes());
    let signature = BASE64.encode(mac.finalize().into_bytes());
    assert_eq!(
        request.header("authorization"),
        format!("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}")
    );

    // the public helper
    let verify = |secret: &str, headers: &HeaderMap, body: &[u8]| {
        verify_webhook_signature(secret, "POST", &request.path_and_query, headers, body)
    };
    assert_eq!(verify(&secret, &request.headers, &request.body), Ok(()));
    assert_eq!(verify("wrong-secret", &request.headers, &request.body), Err(WebhookSignatureError::SignatureMismatch));
    let tampered = String::from_utf8(request.body.to_vec()).unwrap().replace("1000", "9000");
    assert_eq!(verify(&secret, &request.headers, tampered.as_bytes()), Err(WebhookSignatureError::ContentHashMismatch));
    let mut rehashed = request.headers.clone();
    rehashed.insert("x-ms-content-sha256", HeaderValue::from_str(&BASE64.encode(Sha256::digest(&tampered))).unwrap());
    assert_eq!(verify(&secret, &rehashed, tampered.as_bytes()), Err(WebhookSignatureError::SignatureMismatch));
    let mut redated = request.headers.clone();
    redated.insert("x-ms-date", HeaderValue::from_static("Wed, 01 Jan 2025 12:05:00 GMT"));
    assert_eq!(verify(&secret, &redated, &request.body), Err(WebhookSignatureError::SignatureMismatch));
    assert_eq!(
        verify_webhook_signature(&secret, "POST", "/hooks/other", &request.headers, &request.body),
        Err(WebhookSignatureError::SignatureMismatch)
    );

    // the secret is given once: listing shows the webhook without it
    let listed = api.send_raw(api.raw(Method::GET, "/webhooks/v1/webhooks")).await;
    assert_eq!(listed.status, 200);
    let listed: serde_json::Value = listed.json();
    assert_eq!(listed["webhooks"][0]["id"], id.as_str());
    assert_eq!(listed["webhooks"][0]["url"], receiver.url("/hooks/vipps?shop=7"));
    assert_eq!(listed["webhooks"][0]["events"].as_array().unwrap().len(), 8);
    assert!(!listed.to_string().contains(&secret), "the secret is not shown again");
}

// rule W2: the in-process registration control returns the secret that signs deliveries; a
// `localhost` URL is signed with the host as the receiver sees it
#[tokio::test]
async fn w2_in_process_registration_signs_with_its_secret() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let receiver = Receiver::start().await;
    let url = receiver.url("/local").replace("127.0.0.1", "localhost");
    let (_, secret) = sim.register_webhook(MSN, &url, &["epayments.payment.created.v1"]).unwrap();
    api.create_payment("order-w2-local", 100).await;
    let request = receiver.wait_for(1).await.remove(0);
    assert!(request.header("host").starts_with("localhost:"));
    verify_webhook_signature(&secret, "POST", "/local", &request.headers, &request.body).expect("verifies");
    assert_eq!(sim.webhooks(MSN).len(), 1);
}

// rule I10: duplicate delivery (the at-least-once case) is detectable by pspReference, which
// is unique per event
#[tokio::test]
async fn i10_duplicate_delivery_is_detectable_by_psp_reference() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let receiver = Receiver::start().await;
    sim.register_webhook_for_all_events(MSN, &receiver.url("/dup")).unwrap();
    sim.duplicate_webhook_deliveries(u32::MAX);
    api.authorized_payment("order-i10", 1000).await;
    api.capture("order-i10", 400, "cap-i10").await.unwrap();
    api.capture("order-i10", 600, "cap-i10-2").await.unwrap();
    let received = receiver.wait_for(8).await;
    assert_eq!(received.len(), 8);
    let groups = by_psp(&received);
    assert_eq!(groups.len(), 4, "4 events, each its own pspReference");
    for (psp, copies) in &groups {
        assert_eq!(copies.len(), 2, "{psp} delivered twice");
        assert_eq!(copies[0], copies[1], "a duplicate is the same event");
    }
    let logged: BTreeSet<String> =
        api.event_log("order-i10").await.iter().map(|e| e.psp_reference.as_str().to_string()).collect();
    assert_eq!(logged, groups.keys().cloned().collect(), "the pspReferences are the event log's");
    // the two captures have the same name and reference, yet differ by pspReference
    let captures: Vec<&String> =
        groups.iter().filter(|(_, c)| c[0].name == PaymentEventName::Captured).map(|(p, _)| p).collect();
    assert_eq!(captures.len(), 2);
}

// rule I10: the HTTP control duplicates only the next N events
#[tokio::test]
async fn i10_duplicate_control_over_http_counts_events() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let receiver = Receiver::start().await;
    sim.register_webhook_for_all_events(MSN, &receiver.url("/dup")).unwrap();
    assert_eq!(api.control(Method::POST, "/webhooks/duplicate?events=1", None).await.status, 204);
    api.authorized_payment("order-i10-http", 1000).await;
    let received = receiver.wait_for(3).await;
    let groups = by_psp(&received);
    let counts: Vec<(PaymentEventName, usize)> = groups.values().map(|c| (c[0].name.clone(), c.len())).collect();
    assert!(counts.contains(&(PaymentEventName::Created, 2)), "{counts:?}");
    assert!(counts.contains(&(PaymentEventName::Authorized, 1)), "{counts:?}");
    assert_eq!(api.control(Method::DELETE, "/webhooks/duplicate", None).await.status, 204);
}

// rule I10 (at least once): a delivery answered with 500 is sent again, the same event
#[tokio::test]
async fn i10_delivery_retries_after_a_500() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let receiver = Receiver::start().await;
    receiver.inbox.fail_next.store(1, Ordering::SeqCst);
    sim.register_webhook(MSN, &receiver.url("/flaky"), &["epayments.payment.created.v1"]).unwrap();
    api.create_payment("order-retry", 100).await;
    let attempts = receiver.wait_for(2).await;
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].body, attempts[1].body, "the retry carries the same event");
    assert_eq!(attempts[1].event().reference.as_str(), "order-retry");
}

// rule I10 (at least once): a receiver that is not up yet gets the event once it listens
#[tokio::test]
async fn i10_delivery_retries_after_a_connection_error() {
    let retry = WebhookRetry {
        max_attempts: 50,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(2),
    };
    let sim: RunningSimulator = test_builder().webhook_retry(retry).start().await.unwrap();
    let api = Api::connect(&sim).await;
    let parked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = parked.local_addr().unwrap();
    drop(parked); // nothing listens: connections are refused
    sim.register_webhook(MSN, &format!("http://{address}/late"), &["epayments.payment.created.v1"]).unwrap();
    api.create_payment("order-late", 100).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let receiver = Receiver::serve(tokio::net::TcpListener::bind(address).await.unwrap());
    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].event().reference.as_str(), "order-late");
}

// The simulator never sends traffic off the machine: non-loopback (or non-http) URLs are
// refused with 400 naming `url`, over HTTP and in-process
#[tokio::test]
async fn webhooks_refuse_non_loopback_urls() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    for url in [
        "https://example.org/hook",
        "http://example.org/hook",
        "http://10.1.2.3:8080/hook",
        "http://localhost.example.org/hook",
        "https://127.0.0.1/hook",
        "not a url",
    ] {
        let call = api
            .raw(Method::POST, "/webhooks/v1/webhooks")
            .json(&json!({ "url": url, "events": ["epayments.payment.created.v1"] }));
        named_detail(&api.send_raw(call).await.refused_as(kinds::INVALID), "url");
        let refused = sim.register_webhook(MSN, url, &["epayments.payment.created.v1"]).unwrap_err();
        assert_eq!(refused.field, "url");
    }
    let call = api
        .raw(Method::POST, "/webhooks/v1/webhooks")
        .json(&json!({ "url": "http://127.0.0.1:9/hook", "events": ["epayments.payment.capturd.v1"] }));
    named_detail(&api.send_raw(call).await.refused_as(kinds::INVALID), "events");
    assert!(sim.webhooks(MSN).is_empty());
}

// rule T2: the Webhooks API's calls need the Bearer token, subscription key and MSN
#[tokio::test]
async fn webhooks_registration_needs_auth() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let body = json!({ "url": "http://127.0.0.1:9/hook", "events": ["epayments.payment.created.v1"] });
    let register = api.raw(Method::POST, "/webhooks/v1/webhooks").json(&body);
    for (field, call) in [
        ("Authorization", register.clone().without("Authorization")),
        ("Authorization", register.clone().header("Authorization", "Bearer not-a-token")),
        ("Ocp-Apim-Subscription-Key", register.clone().without("Ocp-Apim-Subscription-Key")),
        ("Merchant-Serial-Number", register.clone().header("Merchant-Serial-Number", "654321")),
        ("Authorization", api.raw(Method::GET, "/webhooks/v1/webhooks").without("Authorization")),
        ("Authorization", api.raw(Method::DELETE, "/webhooks/v1/webhooks/some-id").without("Authorization")),
    ] {
        named_detail(&api.send_raw(call).await.refused_as(kinds::UNAUTHORIZED), field);
    }
    assert!(sim.webhooks(MSN).is_empty(), "a refused registration registers nothing");
    assert_eq!(api.send_raw(register).await.status, 201);
}

// Register, list, delete: a deleted webhook gets nothing, and webhooks are per merchant
#[tokio::test]
async fn webhooks_register_list_delete() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let other = Api::connect_as(sim.base_url(), "654321", SUBSCRIPTION_KEY).await;
    let receiver = Receiver::start().await;
    let created = ["epayments.payment.created.v1".to_string()];
    let (gone, _) = register(&api, &receiver.url("/gone"), &created).await;
    let (kept, _) = register(&api, &receiver.url("/kept"), &created).await;
    assert_eq!(list(&api).await, [gone.clone(), kept.clone()]);
    assert!(list(&other).await.is_empty(), "another merchant sees none of them");
    let delete = |api: &Api, id: &str| api.raw(Method::DELETE, &format!("/webhooks/v1/webhooks/{id}"));
    other.send_raw(delete(&other, &gone)).await.refused_as(kinds::WEBHOOK_NOT_FOUND);
    assert_eq!(api.send_raw(delete(&api, &gone)).await.status, 204);
    api.send_raw(delete(&api, &gone)).await.refused_as(kinds::WEBHOOK_NOT_FOUND);
    assert_eq!(list(&api).await, [kept]);

    api.create_payment("order-deleted", 100).await;
    let received = receiver.wait_for(1).await;
    // both would have been sent at the same moment; only the kept one was
    tokio::time::sleep(Duration::from_millis(50)).await;
    let paths: Vec<String> = receiver.attempts().into_iter().map(|r| r.path_and_query).collect();
    assert_eq!(paths, ["/kept"], "{received:?}");
}
