//! Request validation: schema rules, request shape (rule S12), and that a rejected request
//! changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::support::{Api, payment_json, start};

// schema: missing required field, pattern, length, bounds, unknown enum, not JSON
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
        let reason = api.send(api.create_call(&body, &format!("k{i}"))).await.invalid_field(field);
        assert!(!reason.is_empty());
    }
    let not_json = api.epayment(Method::POST, "/v1/payments")
        .header("Idempotency-Key", "knj")
        .header("Content-Type", "application/json")
        .body("{not json");
    api.send(not_json).await.invalid_field("body");
    // nothing was created by any of them
    api.get("order-schema-01").await.problem(404);
}

// unknown enum values in capture/refund bodies and receipts are refused too
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
    api.send(api.create_call(&body, "k1")).await.invalid_field("receipt.orderLines[0].unitInfo.quantityUnit");
    api.authorized_payment("order-enum-capture", 1000).await;
    let call = api
        .epayment(Method::POST, "/v1/payments/order-enum-capture/capture")
        .header("Idempotency-Key", "c1")
        .json(&json!({"modificationAmount": {"currency": "BTC", "value": 100}}));
    api.send(call).await.invalid_field("modificationAmount.currency");
}

// wrong content type, bad reference in the path, missing body
#[tokio::test]
async fn content_type_path_reference_and_body_are_checked() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let body = serde_json::to_vec(&payment_json("order-ctype-01", 1000)).unwrap();
    let text_plain = api.epayment(Method::POST, "/v1/payments")
        .header("Idempotency-Key", "k1")
        .header("Content-Type", "text/plain")
        .body(body.clone());
    api.send(text_plain).await.invalid_field("Content-Type");
    let no_type = api.epayment(Method::POST, "/v1/payments").header("Idempotency-Key", "k2").body(body);
    api.send(no_type).await.invalid_field("Content-Type");
    api.get("order-ctype-01").await.problem(404);
    api.get("bad!ref").await.invalid_field("Reference");
    api.get("short").await.invalid_field("Reference");
    api.capture("x", 100, "c1").await.invalid_field("Reference");
    api.authorized_payment("order-nobody-01", 1000).await;
    let empty = api.epayment(Method::POST, "/v1/payments/order-nobody-01/capture").header("Idempotency-Key", "c2");
    api.send(empty).await.invalid_field("body");
    let missing = api
        .epayment(Method::POST, "/v1/payments/order-nobody-01/capture")
        .header("Idempotency-Key", "c3")
        .json(&json!({}));
    api.send(missing).await.invalid_field("modificationAmount");
    let long_header = api.get_call_with_system_header("order-nobody-01", &"x".repeat(31));
    api.send(long_header).await.invalid_field("Vipps-System-Name");
    assert_eq!(api.send(api.get_call_with_system_header("order-nobody-01", "shopwave")).await.status, 200);
}

trait SystemHeader {
    fn get_call_with_system_header(&self, reference: &str, value: &str) -> crate::support::Call;
}

impl SystemHeader for Api {
    fn get_call_with_system_header(&self, reference: &str, value: &str) -> crate::support::Call {
        self.epayment(Method::GET, &format!("/v1/payments/{reference}")).header("Vipps-System-Name", value)
    }
}

// rule S12: request shape beyond the schema
#[tokio::test]
async fn s12_request_shape_rules() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let long_key = "k".repeat(101);
    let long_key_field = format!("metadata.{long_key}");
    let cases: Vec<(&str, serde_json::Value)> = vec![
        // PUSH_MESSAGE needs customer
        ("customer", json!({"userFlow": "PUSH_MESSAGE", "returnUrl": null})),
        // WEB_REDIRECT needs returnUrl
        ("returnUrl", json!({"returnUrl": null})),
        // CARD only with WEB_REDIRECT
        ("paymentMethod.type", json!({"paymentMethod": {"type": "CARD"}, "userFlow": "QR"})),
        // customer: exactly one of phone number, personal QR or customer token
        ("customer", json!({"customer": {"phoneNumber": "4791234567", "personalQr": "qr-content-1"}})),
        ("customer", json!({"customer": {}})),
        ("customer", json!({"customer": {"phoneNumber": null}})),
        // metadata: keys up to 100, values up to 500
        (long_key_field.as_str(), json!({"metadata": {long_key.clone(): "v"}})),
        ("metadata.note", json!({"metadata": {"note": "v".repeat(501)}})),
    ];
    for (i, (field, patch)) in cases.into_iter().enumerate() {
        let mut body = payment_json(&format!("order-s12-{i:02}"), 1000);
        for (name, value) in patch.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(name);
            } else {
                body[name] = value.clone();
            }
        }
        let reason = api.send(api.create_call(&body, &format!("k{i}"))).await.invalid_field(field);
        assert!(!reason.is_empty());
        api.get(&format!("order-s12-{i:02}")).await.problem(404);
    }
    // the allowed shapes pass
    let ok: Vec<serde_json::Value> = vec![
        json!({"userFlow": "PUSH_MESSAGE", "customer": {"phoneNumber": "4791234567"}}),
        json!({"paymentMethod": {"type": "CARD"}}),
        json!({"userFlow": "QR", "customer": {"customerToken": "tok-1"}}),
        json!({"metadata": {"a": "1", "b": "2", "c": "3", "d": "4", "e": "v".repeat(500)}}),
    ];
    for (i, patch) in ok.into_iter().enumerate() {
        let mut body = payment_json(&format!("order-s12-ok-{i}"), 1000);
        for (name, value) in patch.as_object().unwrap() {
            body[name] = value.clone();
        }
        let reply = api.send(api.create_call(&body, &format!("ok{i}"))).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
}

// a rejected request changes nothing: get and the event log are byte-identical afterwards
#[tokio::test]
async fn bad_requests_leave_the_state_unchanged() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-unchanged", 1000).await;
    assert_eq!(api.capture("order-unchanged", 300, "c-ok").await.status, 200);
    let before_get = api.get("order-unchanged").await.body;
    let before_events = api.events("order-unchanged").await.body;
    let capture = |body: serde_json::Value, key: &str| {
        api.epayment(Method::POST, "/v1/payments/order-unchanged/capture")
            .header("Idempotency-Key", key)
            .json(&body)
    };
    let bad = vec![
        (400, capture(json!({"modificationAmount": {"currency": "NOK", "value": -5}}), "b1")),
        (400, capture(json!({"modificationAmount": {"currency": "NOK"}}), "b2")),
        (400, capture(json!({"modificationAmount": {"currency": "ABC", "value": 5}}), "b3")),
        (400, capture(json!({"modificationAmount": {"currency": "DKK", "value": 5}}), "b4")),
        (400, capture(json!({"modificationAmount": {"currency": "NOK", "value": 5}}), &"k".repeat(51))),
        (400, capture(json!({"modificationAmount": {"currency": "NOK", "value": 5}}), "b6").without("Idempotency-Key")),
        (400, capture(json!({"modificationAmount": {"currency": "NOK", "value": 5}}), "b7").header("Content-Type", "text/xml")),
        (409, capture(json!({"modificationAmount": {"currency": "NOK", "value": 701}}), "b8")),
        (401, capture(json!({"modificationAmount": {"currency": "NOK", "value": 5}}), "b9").without("Authorization")),
        (409, api.refund_call("order-unchanged", crate::support::nok(301), "b10")),
        (409, capture(json!({"modificationAmount": {"currency": "NOK", "value": 5}}), "c-ok")),
        (400, api.cancel_call("order-unchanged").json(&json!({"cancelTransactionOnly": "yes"}))),
        (409, api.force_approve_call("order-unchanged")),
    ];
    for (status, call) in bad {
        let reply = api.send(call).await;
        assert_eq!(reply.status, status, "{}", reply.text());
        assert_eq!(api.get("order-unchanged").await.body, before_get, "get changed after a {status}");
        assert_eq!(api.events("order-unchanged").await.body, before_events, "event log changed after a {status}");
    }
}

// the base URL is the host root: ePayment paths carry the server URL's `/epayment` prefix
#[tokio::test]
async fn epayment_paths_live_under_the_server_url_prefix() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-paths-01", 1000).await;
    assert_eq!(api.send(api.call(Method::GET, "/epayment/v1/payments/order-paths-01")).await.status, 200);
    let problem = api.send(api.call(Method::GET, "/v1/payments/order-paths-01")).await.problem(404);
    assert_eq!(problem.title, "Not found");
}
