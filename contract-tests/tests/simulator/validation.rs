//! Request validation: schema rules, request shape (rule S12), and that a rejected request
//! changes nothing. Requests that break the schema are raw (the client's types cannot express
//! them); everything the types can express goes through the client.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;
use vipps_epayment::epayment::{
    CancelModificationRequest, CreatePaymentRequestUserFlow, Customer, CustomerPhoneNumber,
    CustomerToken, Metadata, PaymentMethod, PaymentMethodType,
};
use vipps_epayment::{CallOptions, Error};

use crate::support::{Api, Kind, Outcome, kinds, nok, payment_json, payment_request, problem_as, reference, start};

// outcomes (schema violation -> 400 naming the field), rules S10, S12: missing required field,
// pattern, length, bounds, unknown enum, too much metadata, not JSON
#[tokio::test]
async fn schema_violations_get_400_naming_the_field() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    type Breaker = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Breaker)> = vec![
        ("reference", Box::new(|b| { b.as_object_mut().unwrap().remove("reference"); })),
        ("amount.currency", Box::new(|b| { b["amount"].as_object_mut().unwrap().remove("currency"); })),
        ("reference", Box::new(|b| b["reference"] = json!("has spaces!"))),
        ("reference", Box::new(|b| b["reference"] = json!("short"))),
        ("paymentDescription", Box::new(|b| b["paymentDescription"] = json!("ab"))),
        ("minimumUserAge", Box::new(|b| b["minimumUserAge"] = json!(101))),
        ("amount.value", Box::new(|b| b["amount"]["value"] = json!("100"))),
        ("userFlow", Box::new(|b| b["userFlow"] = json!("TELEPATHY"))),
        ("paymentMethod.type", Box::new(|b| b["paymentMethod"]["type"] = json!("CASH"))),
        ("amount.currency", Box::new(|b| b["amount"]["currency"] = json!("XYZ"))),
        ("customerInteraction", Box::new(|b| b["customerInteraction"] = json!("NEARBY"))),
        ("paymentMethod.blockedSources[0]", Box::new(|b| b["paymentMethod"]["blockedSources"] = json!(["GIFT_CARDS"]))),
        ("qrFormat.format", Box::new(|b| b["qrFormat"] = json!({"format": "IMAGE/GIF"}))),
        ("metadata", Box::new(|b| b["metadata"] = json!({"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6"}))),
    ];
    for (i, (field, break_it)) in cases.into_iter().enumerate() {
        let mut body = payment_json("order-schema-01", 1000);
        break_it(&mut body);
        let reason = api.send_raw(api.raw_create(&body, &format!("k{i}"))).await.invalid_field(field);
        assert!(!reason.is_empty());
    }
    let not_json = api.raw_epayment(Method::POST, "/v1/payments")
        .header("Idempotency-Key", "knj")
        .header("Content-Type", "application/json")
        .body("{not json");
    api.send_raw(not_json).await.invalid_field("body");
    // nothing was created by any of them; the same request unbroken goes through the client
    api.get("order-schema-01").await.refused_as(kinds::NOT_FOUND);
    api.create_payment("order-schema-01", 1000).await;
}

// outcomes (schema violation -> 400): unknown enum values in capture bodies and receipts too
#[tokio::test]
async fn unknown_enum_values_in_nested_request_fields_are_refused() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let mut body = payment_json("order-enum-nested", 1000);
    body["receipt"] = json!({
        "orderLines": [{"name": "x", "id": "1", "totalAmount": 1000, "totalAmountExcludingTax": 800,
                        "totalTaxAmount": 200, "unitInfo": {"unitPrice": 1000, "quantity": "1", "quantityUnit": "BUSHEL"}}],
        "bottomLine": {"currency": "NOK"}
    });
    api.send_raw(api.raw_create(&body, "k1")).await.invalid_field("receipt.orderLines[0].unitInfo.quantityUnit");
    api.authorized_payment("order-enum-capture", 1000).await;
    let body = json!({"modificationAmount": {"currency": "BTC", "value": 100}});
    api.send_raw(api.raw_capture("order-enum-capture", &body, "c1")).await.invalid_field("modificationAmount.currency");
    let body = json!({"modificationAmount": {"currency": "NOK", "value": 100}, "extra": {"kind": "BOGUS"}});
    assert_eq!(api.send_raw(api.raw_capture("order-enum-capture", &body, "c2")).await.status, 200, "unknown members are fine");
    assert_eq!(api.payment("order-enum-capture").await.aggregate.captured_amount.value.get(), 100);
}

// outcomes (schema violation -> 400): wrong content type, bad reference in the path, missing
// body, over-long system header
#[tokio::test]
async fn content_type_path_reference_and_body_are_checked() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let body = serde_json::to_vec(&payment_json("order-ctype-01", 1000)).unwrap();
    let text_plain = api.raw_epayment(Method::POST, "/v1/payments")
        .header("Idempotency-Key", "k1")
        .header("Content-Type", "text/plain")
        .body(body.clone());
    api.send_raw(text_plain).await.invalid_field("Content-Type");
    let no_type = api.raw_epayment(Method::POST, "/v1/payments").header("Idempotency-Key", "k2").body(body);
    api.send_raw(no_type).await.invalid_field("Content-Type");
    api.get("order-ctype-01").await.refused_as(kinds::NOT_FOUND);
    // a bad reference in the path: the client's Reference type refuses it, so raw
    for bad in ["bad!ref", "short", "x"] {
        assert!(vipps_epayment::epayment::Reference::new(bad).is_err());
    }
    api.send_raw(api.raw_get("bad!ref")).await.invalid_field("Reference");
    api.send_raw(api.raw_get("short")).await.invalid_field("Reference");
    let capture = vipps_epayment::epayment::CaptureModificationRequest::new(nok(100));
    api.send_raw(api.raw_capture("x", &capture, "c1")).await.invalid_field("Reference");
    api.authorized_payment("order-nobody-01", 1000).await;
    // a capture without a body (the client cannot send one: the settings make the body
    // required): refused, nothing captured
    let no_body = api.raw_epayment(Method::POST, "/v1/payments/order-nobody-01/capture").header("Idempotency-Key", "c2");
    api.send_raw(no_body).await.invalid_field("body");
    let missing = api.raw_capture("order-nobody-01", &json!({}), "c3");
    api.send_raw(missing).await.invalid_field("modificationAmount");
    assert_eq!(api.payment("order-nobody-01").await.aggregate.captured_amount.value.get(), 0);
    // Vipps-System-Name over 30 characters: the client refuses it before sending, raw gets 400
    let long = "x".repeat(31);
    let refused = api.client.cancel_payment(&reference("order-nobody-01"), None, CallOptions::new().system_header("Vipps-System-Name", long.as_str())).await;
    match refused {
        Err(Error::InvalidInput { operation, message }) => {
            assert_eq!(operation, "cancelPayment");
            assert_eq!(message, "Vipps-System-Name is 31 characters, above the spec's maxLength 30");
        }
        other => panic!("expected the client to refuse the header before sending: {other:?}"),
    }
    let long_header = api.raw_get("order-nobody-01").header("Vipps-System-Name", &long);
    api.send_raw(long_header).await.invalid_field("Vipps-System-Name");
    let options = CallOptions::new().system_header("Vipps-System-Name", "shopwave");
    api.client.cancel_payment(&reference("order-nobody-01"), None, options).await.expect("30 characters or fewer");
}

// rule S12: request shape beyond the schema, through the client where its types can express
// the request, raw where they cannot (two customer identifiers, a null phone number)
#[tokio::test]
async fn s12_request_shape_rules() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let phone = || Customer::CustomerPhoneNumber(
        CustomerPhoneNumber::default().with_phone_number("4791234567").unwrap(),
    );
    let metadata = |pairs: &[(&str, &str)]| {
        Metadata::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()).unwrap()
    };
    let long_key = "k".repeat(101);
    let long_key_field = format!("metadata.{long_key}");
    let long_value = "v".repeat(501);
    type Shape = Box<dyn Fn(&mut vipps_epayment::epayment::CreatePaymentRequest)>;
    let refused: Vec<(&str, Shape)> = vec![
        // PUSH_MESSAGE needs customer
        ("customer", Box::new(|r| {
            r.user_flow = CreatePaymentRequestUserFlow::PushMessage;
            r.return_url = None;
        })),
        // WEB_REDIRECT needs returnUrl
        ("returnUrl", Box::new(|r| r.return_url = None)),
        // CARD only with WEB_REDIRECT
        ("paymentMethod.type", Box::new(|r| {
            r.payment_method = PaymentMethod::new(PaymentMethodType::Card);
            r.user_flow = CreatePaymentRequestUserFlow::Qr;
        })),
        // customer: exactly one identifier, not none
        ("customer", Box::new(|r| r.customer = Some(Customer::CustomerPhoneNumber(CustomerPhoneNumber::default())))),
        // metadata: keys up to 100, values up to 500
        (long_key_field.as_str(), Box::new(move |r| r.metadata = Some(metadata(&[(long_key.as_str(), "v")])))),
        ("metadata.note", Box::new(move |r| r.metadata = Some(metadata(&[("note", long_value.as_str())])))),
    ];
    for (i, (field, shape)) in refused.into_iter().enumerate() {
        let reference = format!("order-s12-{i:02}");
        let mut request = payment_request(&reference, 1000);
        shape(&mut request);
        let reason = api.create(&request, &format!("k{i}")).await.invalid_field(field);
        assert!(!reason.is_empty());
        api.get(&reference).await.refused_as(kinds::NOT_FOUND);
    }
    // two identifiers, or an explicit null: the client's Customer type cannot say so
    for (i, customer) in [json!({"phoneNumber": "4791234567", "personalQr": "qr-content-1"}), json!({"phoneNumber": null})]
        .into_iter()
        .enumerate()
    {
        let mut body = payment_json(&format!("order-s12-raw-{i}"), 1000);
        body["customer"] = customer;
        api.send_raw(api.raw_create(&body, &format!("raw{i}"))).await.invalid_field("customer");
        api.get(&format!("order-s12-raw-{i}")).await.refused_as(kinds::NOT_FOUND);
    }
    // the allowed shapes pass
    let allowed: Vec<Shape> = vec![
        Box::new(move |r| {
            r.user_flow = CreatePaymentRequestUserFlow::PushMessage;
            r.customer = Some(phone());
        }),
        Box::new(|r| r.payment_method = PaymentMethod::new(PaymentMethodType::Card)),
        Box::new(|r| {
            r.user_flow = CreatePaymentRequestUserFlow::Qr;
            r.customer = Some(Customer::CustomerToken(CustomerToken::default().with_customer_token("tok-1")));
        }),
        Box::new(move |r| {
            // both limits exactly: a key of 100 characters, a value of 500
            let (key, value) = ("k".repeat(100), "v".repeat(500));
            r.metadata = Some(metadata(&[(key.as_str(), "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", value.as_str())]));
        }),
    ];
    for (i, shape) in allowed.into_iter().enumerate() {
        let reference = format!("order-s12-ok-{i}");
        let mut request = payment_request(&reference, 1000);
        shape(&mut request);
        api.create(&request, &format!("ok{i}")).await.unwrap_or_else(|e| panic!("shape {i}: {e}"));
        assert_eq!(api.payment(&reference).await.metadata, request.metadata);
    }
}

// rule S12 names WEB_REDIRECT only: NATIVE_REDIRECT needs no returnUrl (and may have one);
// WEB_REDIRECT without one is refused
#[tokio::test]
async fn s12_native_redirect_does_not_need_a_return_url() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let mut native = payment_request("order-s12-native", 1000);
    native.user_flow = CreatePaymentRequestUserFlow::NativeRedirect;
    native.return_url = None;
    let created = api.create(&native, "k-native").await.expect("NATIVE_REDIRECT without returnUrl");
    assert!(created.value.redirect_url.is_some(), "a redirect flow gets a redirectUrl");
    assert_eq!(api.payment("order-s12-native").await.state, vipps_epayment::epayment::State::Created);
    let mut with_url = payment_request("order-s12-native2", 1000);
    with_url.user_flow = CreatePaymentRequestUserFlow::NativeRedirect;
    api.create(&with_url, "k-native2").await.expect("NATIVE_REDIRECT with returnUrl");
    let mut web = payment_request("order-s12-web", 1000);
    web.return_url = None;
    let reason = api.create(&web, "k-web").await.invalid_field("returnUrl");
    assert!(reason.contains("WEB_REDIRECT") && reason.contains("rule S12"), "{reason}");
    api.get("order-s12-web").await.refused_as(kinds::NOT_FOUND);
}

// outcomes, rules S7, S8, S10, I4, I6: a rejected request changes nothing: get and the event log
// (through the client) are the same afterwards, whether the client sent the request or, for
// what it cannot send, raw HTTP did
#[tokio::test]
async fn bad_requests_leave_the_state_unchanged() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-unchanged", 1000).await;
    api.capture("order-unchanged", 300, "c-ok").await.unwrap();
    let before = (api.payment("order-unchanged").await, api.event_log("order-unchanged").await);
    let check = |what: String| {
        let api = api.clone();
        let before = before.clone();
        async move {
            let after = (api.payment("order-unchanged").await, api.event_log("order-unchanged").await);
            assert_eq!(after, before, "state changed after {what}");
        }
    };
    // through the client: what its types can express (each checked right after it is sent)
    macro_rules! refused {
        ($kind:expr, $what:expr, $call:expr) => {{
            let kind: Kind = $kind;
            problem_as(&$call.await.refused(), kind);
            check(format!("{} ({} {})", $what, kind.status, kind.kind)).await;
        }};
    }
    let forgetful = Api::connect_with(&sim, |b| b.idempotency_record_capacity(0)).await;
    let dkk = crate::support::money(vipps_epayment::epayment::Currency::Dkk, 5);
    refused!(kinds::INVALID, "capture in DKK", api.capture_amount("order-unchanged", dkk, "b4"));
    refused!(kinds::INVALID, "capture of 0", api.capture("order-unchanged", 0, "b0"));
    refused!(kinds::CAPTURE_TOO_HIGH, "capture over the authorization", api.capture("order-unchanged", 701, "b8"));
    refused!(kinds::REFUND_TOO_HIGH, "refund over the capture", api.refund("order-unchanged", 301, "b10"));
    refused!(kinds::IDEMPOTENCY_CONFLICT, "key reused with another body", forgetful.capture("order-unchanged", 5, "c-ok"));
    refused!(kinds::NOT_CREATED, "force approve when authorized", api.force_approve("order-unchanged"));
    refused!(kinds::REFERENCE_USED, "create with a used reference", api.create(&payment_request("order-unchanged", 1000), "b-create"));
    let locked = vipps_contract_tests::sim::FaultRule::new(vipps_contract_tests::sim::Fault::locked(0)).times(1);
    sim.inject_fault(locked.on(vipps_contract_tests::sim::Operation::Capture));
    refused!(kinds::INJECTED_423, "an injected 423", api.capture("order-unchanged", 5, "b-locked"));
    // accepted, but nothing changes: cancelTransactionOnly on an authorized payment (rule S5)
    let transaction_only = CancelModificationRequest::default().with_cancel_transaction_only(true);
    api.cancel_with("order-unchanged", &transaction_only).await.expect("answered 200");
    check("cancelTransactionOnly when authorized (200)".to_string()).await;
    // raw: what the client cannot send
    let capture = |body: serde_json::Value, key: &str| api.raw_capture("order-unchanged", &body, key);
    let nok5 = || json!({"modificationAmount": {"currency": "NOK", "value": 5}});
    let raw_cases = vec![
        (400, "negative amount", capture(json!({"modificationAmount": {"currency": "NOK", "value": -5}}), "b1")),
        (400, "missing value", capture(json!({"modificationAmount": {"currency": "NOK"}}), "b2")),
        (400, "unknown currency", capture(json!({"modificationAmount": {"currency": "ABC", "value": 5}}), "b3")),
        (400, "51-character key", capture(nok5(), &"k".repeat(51))),
        (400, "no key", capture(nok5(), "b6").without("Idempotency-Key")),
        (400, "text/xml", capture(nok5(), "b7").header("Content-Type", "text/xml")),
        (401, "no token", capture(nok5(), "b9").without("Authorization")),
        (400, "cancelTransactionOnly not a boolean", api.raw_cancel("order-unchanged").json(&json!({"cancelTransactionOnly": "yes"}))),
    ];
    for (status, what, call) in raw_cases {
        let reply = api.send_raw(call).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.text());
        check(format!("a raw {what} ({status})")).await;
    }
    assert_eq!(before.0.aggregate.captured_amount.value.get(), 300);
}

// outcomes (404), rule T2: the base URL is the host root: ePayment paths carry the server URL's
// `/epayment` prefix
#[tokio::test]
async fn epayment_paths_live_under_the_server_url_prefix() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-paths-01", 1000).await;
    assert_eq!(api.send_raw(api.raw(Method::GET, "/epayment/v1/payments/order-paths-01")).await.status, 200);
    // the client's custom environment keeps the server URL's path
    assert_eq!(api.client.config().base_urls().get("epayment").map(String::as_str), Some(format!("{}/epayment", sim.base_url()).as_str()));
    api.payment("order-paths-01").await;
    api.send_raw(api.raw(Method::GET, "/v1/payments/order-paths-01")).await.refused_as(kinds::NO_ROUTE);
}

// rule S12 for force-approve too: its customer must name exactly one way to reach the user
#[tokio::test]
async fn s12_force_approve_checks_its_customer() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s12-force", 1000).await;
    let empty_token = Customer::CustomerToken(CustomerToken::default().with_customer_token(""));
    let body = vipps_epayment::epayment::ForceApprove::default().with_customer(empty_token);
    let error = api.force_approve_with("order-s12-force", &body).await.expect_err("an empty customer token");
    let problem = problem_as(&error, kinds::INVALID);
    assert!(crate::support::named_detail(&problem, "customer").contains("exactly one"), "{problem:?}");
    assert_eq!(api.payment("order-s12-force").await.state, vipps_epayment::epayment::State::Created, "not approved");
}
