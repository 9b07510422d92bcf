//! Every operation's wire request (method, path, headers, body) is snapshotted and checked
//! against the spec document it was generated from: declared headers only, required ones
//! present, limits kept, body with the declared media type, Bearer token on secured operations
//! (rules T1, T2, I1).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use vipps_epayment::epayment::{CancelModificationRequest, Customer, CustomerPhoneNumber, ForceApprove, IdempotencyKey};
use vipps_epayment::{CallOptions, IdempotentOptions, access_token_client, epayment_client};

use crate::samples;
use crate::support::server::{Recorded, TestServer};
use crate::support::{self, spec};

/// A recorded request as snapshot data: no `host` (its port changes), fresh keys replaced after
/// checking they are UUID v4.
fn snapshot_data(request: &Recorded) -> Value {
    let mut headers = BTreeMap::new();
    for (name, value) in &request.headers {
        if name == "host" {
            continue;
        }
        let value = if name == "idempotency-key" && value != "capture-key-0001" {
            let parsed = uuid::Uuid::parse_str(value).expect("a fresh key is a UUID");
            assert_eq!(parsed.get_version_num(), 4, "a fresh key is a UUID v4");
            "[fresh uuid v4]".to_string()
        } else {
            value.clone()
        };
        headers.insert(name.clone(), value);
    }
    json!({ "method": request.method, "path": request.path, "headers": headers, "body": request.json() })
}

fn check(document: &Value, operation_id: &str, request: &Recorded) {
    let deviations = spec::deviations(&spec::operation(document, operation_id), request);
    assert!(deviations.is_empty(), "{operation_id} departs from the spec: {deviations:#?}\n{request:#?}");
    insta::assert_yaml_snapshot!(operation_id, snapshot_data(request));
}

#[tokio::test]
async fn every_operation_matches_the_spec_on_the_wire() {
    let server = TestServer::start().await;
    let client = support::builder(&server)
        .system_name("shopwave")
        .system_version("3.2.7")
        .plugin_name("shopwave-vipps")
        .plugin_version("0.9.4")
        .build()
        .expect("valid configuration");
    let reference = support::reference("order-wire-0001");

    client.access_token().await.expect("token");
    client.create_payment(&samples::create(&reference), IdempotentOptions::new()).await.expect("create");
    client.get_payment(&reference, CallOptions::new()).await.expect("get");
    client.get_payment_event_log(&reference, CallOptions::new()).await.expect("events");
    let cancel = CancelModificationRequest::default().with_cancel_transaction_only(true);
    client.cancel_payment(&reference, Some(&cancel), CallOptions::new()).await.expect("cancel");
    let key = IdempotencyKey::new("capture-key-0001").expect("valid key");
    client.capture_payment(&reference, &samples::capture(500), IdempotentOptions::with_key(key)).await.expect("capture");
    client.refund_payment(&reference, &samples::refund(200), IdempotentOptions::new()).await.expect("refund");
    let phone = CustomerPhoneNumber::default().with_phone_number("4791234567").expect("valid phone");
    let approve = ForceApprove::default().with_customer(Customer::CustomerPhoneNumber(phone));
    client.force_approve(&reference, Some(&approve), CallOptions::new()).await.expect("force approve");

    let requests = server.requests();
    let ids = [
        "fetchAuthorizationTokenUsingPost",
        "createPayment",
        "getPayment",
        "getPaymentEventLog",
        "cancelPayment",
        "capturePayment",
        "refundPayment",
        "forceApprove",
    ];
    assert_eq!(requests.len(), ids.len(), "one request per operation, one token for all: {requests:#?}");
    let epayment = spec::load("epayment.yaml");
    let token = spec::load("access-token.yaml");
    for (id, request) in ids.iter().zip(&requests) {
        let document = if request.is_token_call() { &token } else { &epayment };
        check(document, id, request);
    }

    // Every generated operation is covered above.
    let generated: BTreeSet<&str> =
        epayment_client::OPERATIONS.iter().chain(access_token_client::OPERATIONS).map(|op| op.id).collect();
    assert_eq!(generated, ids.into_iter().collect::<BTreeSet<_>>());
}

#[tokio::test]
async fn unset_system_headers_are_not_sent_and_per_call_ones_override() {
    let server = TestServer::start().await;
    let client = support::builder(&server).system_name("shopwave").build().expect("valid configuration");
    let reference = support::reference("order-wire-0002");
    let options = CallOptions::new().system_header("Vipps-System-Name", "kiosk");
    client.cancel_payment(&reference, None, options).await.expect("cancel");
    client.cancel_payment(&reference, None, CallOptions::new()).await.expect("cancel");
    let requests = server.api_requests();
    assert_eq!(requests[0].header("vipps-system-name"), Some("kiosk"));
    assert_eq!(requests[1].header("vipps-system-name"), Some("shopwave"));
    assert_eq!(requests[1].header("vipps-system-version"), None, "unset system headers are not sent");
    assert!(requests[1].body.is_empty() && requests[1].header("content-type").is_none(), "no body, no content type");
}

#[tokio::test]
async fn system_headers_over_the_spec_limit_are_refused() {
    let server = TestServer::start().await;
    let too_long = "x".repeat(31);
    let error = support::builder(&server).system_name(too_long.as_str()).build().expect_err("31 > maxLength 30");
    assert!(error.to_string().contains("maxLength 30"), "{error}");

    let client = support::client(&server);
    let options = CallOptions::new().system_header("Vipps-System-Plugin-Name", too_long);
    let error = client.cancel_payment(&support::reference("order-wire-0003"), None, options).await.expect_err("refused");
    assert!(error.is_refused_before_sending(), "{error:?}");
    assert_eq!(error.operation(), Some("cancelPayment"));
    assert!(server.requests().is_empty(), "nothing was sent, not even the token call");
}

#[tokio::test]
async fn a_per_call_header_the_operation_does_not_declare_is_refused_not_dropped() {
    let server = TestServer::start().await;
    let client = support::client(&server);
    let reference = support::reference("order-wire-0010");
    // get payment declares no Vipps-System-* header: the value would silently go nowhere.
    let options = CallOptions::new().system_header("Vipps-System-Name", "kiosk");
    let error = client.get_payment(&reference, options).await.expect_err("undeclared header");
    let vipps_epayment::Error::InvalidInput { operation, message } = &error else { panic!("{error:?}") };
    assert_eq!(*operation, "getPayment");
    assert!(message.contains("Vipps-System-Name is not a header of getPayment"), "{message}");
    // A header no operation knows at all is refused the same way.
    let options = CallOptions::new().system_header("Vipps-System-Colour", "red");
    let error = client.cancel_payment(&reference, None, options).await.expect_err("unknown header");
    assert!(matches!(&error, vipps_epayment::Error::InvalidInput { message, .. } if message.contains("Vipps-System-Colour is not a header of cancelPayment")), "{error:?}");
    assert!(server.requests().is_empty(), "nothing was sent, not even the token call");
}

#[tokio::test]
async fn a_call_without_any_merchant_serial_number_is_refused_before_sending() {
    let server = TestServer::start().await;
    let partner = vipps_epayment::Client::builder()
        .base_url(server.url())
        .client_id(support::CLIENT_ID)
        .client_secret(support::CLIENT_SECRET)
        .subscription_key(support::SUBSCRIPTION_KEY)
        .build()
        .expect("no merchant serial number is a valid partner configuration");
    assert_eq!(partner.merchant_serial_number(), None);
    let reference = support::reference("order-wire-0011");
    let error = partner.get_payment(&reference, CallOptions::new()).await.expect_err("no merchant");
    let vipps_epayment::Error::InvalidInput { operation, message } = &error else { panic!("{error:?}") };
    assert_eq!(*operation, "getPayment");
    assert!(message.contains("needs the Merchant-Serial-Number header"), "{message}");
    let error = partner.get_payment(&reference, CallOptions::new().merchant_serial_number("12")).await.expect_err("bad msn");
    assert!(matches!(&error, vipps_epayment::Error::InvalidInput { message, .. } if message.contains("merchant serial number")), "{error:?}");
    assert!(matches!(partner.for_merchant("not-digits"), Err(vipps_epayment::Error::Config { .. })));
    assert!(server.requests().is_empty(), "nothing was sent");
    partner.get_payment(&reference, CallOptions::new().merchant_serial_number("778899")).await.expect("named per call");
    let sent = server.requests();
    assert_eq!(sent.len(), 2, "the token call and get payment");
    assert!(sent.iter().all(|r| r.header("merchant-serial-number") == Some("778899")));
}
