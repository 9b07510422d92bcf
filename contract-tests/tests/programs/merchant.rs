//! A merchant's program: register a webhook, take a payment through, and receive the events.
//! The receiver is an axum handler that verifies each request with the SDK and drops
//! redeliveries; the simulator signs with its own code, so only the wire is shared.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use vipps_contract_tests::sim::Simulator;
use vipps_epayment::epayment::{
    Amount, AmountValue, CaptureModificationRequest, CreatePaymentRequest, CreatePaymentRequestUserFlow, Currency, Customer, ForceApprove,
    PaymentEventName, PaymentMethod, PaymentMethodType, Reference, WebhookEvent,
};
use vipps_epayment::runtime::{ManualClock, Redeliveries, WebhookError, WebhookRequest, WebhookVerifier};
use vipps_epayment::webhooks::RegisterRequest;
use vipps_epayment::{CallOptions, Client, IdempotentOptions};

/// What the shop's webhook endpoint has: the verifier (once registered), the redelivery
/// filter, and what it took in.
#[derive(Default)]
struct Shop {
    verifier: Mutex<Option<WebhookVerifier>>,
    redeliveries: Mutex<Option<Arc<Redeliveries>>>,
    events: Mutex<Vec<WebhookEvent>>,
    dropped: Mutex<u32>,
    /// Every request as received, to replay it with changes below.
    raw: Mutex<Vec<(String, HeaderMap, Bytes)>>,
}

async fn webhook(State(shop): State<Arc<Shop>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    shop.raw.lock().unwrap().push((path.clone(), headers.clone(), body.clone()));
    let Some(verifier) = shop.verifier.lock().unwrap().clone() else { return StatusCode::SERVICE_UNAVAILABLE };
    let request = WebhookRequest::new(method.as_str(), &path, &body).headers(&headers);
    match verifier.verify::<WebhookEvent>(&request) {
        Ok(event) => {
            let seen = shop.redeliveries.lock().unwrap().clone().expect("set with the verifier");
            if seen.first_delivery(event.psp_reference.as_str()) {
                shop.events.lock().unwrap().push(event);
            } else {
                *shop.dropped.lock().unwrap() += 1;
            }
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}

#[tokio::test]
async fn a_merchant_registers_a_webhook_and_verifies_every_delivery() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::builder().start().await?;
    let shop = Arc::new(Shop::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let host = listener.local_addr()?.to_string();
    let app = Router::new().fallback(webhook).with_state(shop.clone());
    // Any HTTP server does; this one is the simulator crate's small axum runner.
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(vipps_contract_tests::sim::server::serve(listener, app, stopped));

    let client = Client::builder()
        .base_url(sim.base_url())
        .client_id("shop-client-id")
        .client_secret("shop-client-secret")
        .subscription_key("shop-subscription-key")
        .merchant_serial_number("123456")
        .build()?;

    // Register for every payment event; the answer carries the signing secret, once.
    let events = ["created", "authorized", "captured"].map(|e| format!("epayments.payment.{e}.v1")).to_vec();
    let register = RegisterRequest::new(format!("http://{host}/vipps/events?shop=1"), events);
    let registered = client.post_v1_webhooks(&register, CallOptions::new()).await?;
    *shop.verifier.lock().unwrap() = Some(WebhookVerifier::new(registered.secret.clone(), host.as_str()));
    *shop.redeliveries.lock().unwrap() = Some(Arc::new(Redeliveries::new(10_000)));
    let listed = client.get_v1_webhooks(CallOptions::new()).await?;
    assert_eq!(listed.webhooks.iter().map(|w| w.id).collect::<Vec<_>>(), [registered.id]);

    // Webhooks come at least once: have the simulator deliver the first event twice.
    sim.duplicate_webhook_deliveries(1);

    // A payment through its life: create, approve (test environment), capture.
    let reference = Reference::new("shop-order-0001")?;
    let amount = Amount::new(Currency::Nok, AmountValue::new(25_000)?);
    let request = CreatePaymentRequest::new(
        amount.clone(),
        PaymentMethod::new(PaymentMethodType::Wallet),
        reference.clone(),
        CreatePaymentRequestUserFlow::PushMessage,
    )
    .with_customer(Customer::phone_number("4791234567")?);
    client.create_payment(&request, IdempotentOptions::new()).await?;
    let approve = ForceApprove::default().with_customer(Customer::phone_number("4791234567")?);
    client.force_approve(&reference, Some(&approve), CallOptions::new()).await?;
    client.capture_payment(&reference, &CaptureModificationRequest::new(amount), IdempotentOptions::new()).await?;

    let taken = wait_for(|| shop.events.lock().unwrap().len() >= 3).await;
    assert!(taken, "three events within 5 s");
    let names: Vec<PaymentEventName> = shop.events.lock().unwrap().iter().map(|e| e.name.clone()).collect();
    assert_eq!(names, [PaymentEventName::Created, PaymentEventName::Authorized, PaymentEventName::Captured]);
    assert!(wait_for(|| *shop.dropped.lock().unwrap() == 1).await, "the redelivery was dropped (rule I10)");

    // What an attacker or a broken proxy could send instead: each is refused with its own error.
    let (path, headers, body) = shop.raw.lock().unwrap()[0].clone();
    let verifier = WebhookVerifier::new(registered.secret.clone(), host.as_str());
    let verify = |verifier: &WebhookVerifier, body: &[u8]| {
        verifier.verify::<WebhookEvent>(&WebhookRequest::new("POST", &path, body).headers(&headers)).map(drop)
    };
    assert_eq!(verify(&verifier, &body), Ok(()));
    let tampered = String::from_utf8_lossy(&body).replace("25000", "1");
    assert_eq!(verify(&verifier, tampered.as_bytes()), Err(WebhookError::ContentHashMismatch));
    let wrong_secret = WebhookVerifier::new("not-the-secret", host.as_str());
    assert_eq!(verify(&wrong_secret, &body), Err(WebhookError::SignatureMismatch));
    let later = ManualClock::new(std::time::SystemTime::now() + Duration::from_secs(600));
    let replayed_later = verify(&verifier.clone().clock(later), &body);
    assert!(matches!(replayed_later, Err(WebhookError::Stale { .. })), "{replayed_later:?}");

    client.delete_v1_webhooks_by_id(&registered.id, CallOptions::new()).await?;
    assert!(client.get_v1_webhooks(CallOptions::new()).await?.webhooks.is_empty());
    Ok(())
}

/// Polls `done` every 10 ms for up to 5 s.
async fn wait_for(done: impl Fn() -> bool) -> bool {
    for _ in 0..500 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}
