//! Suite 4: wire snapshots. The canonical happy path (token -> create -> approve -> get ->
//! capture -> refund) as the HTTP exchanges that reached the simulator, volatile values
//! redacted (token, secrets, ports, approval token, trace ids). A fresh simulator with a frozen
//! clock and fixed idempotency keys makes the rest deterministic.

use serde_json::Value;
use vipps_epayment::epayment::{
    Amount, AmountValue, CaptureModificationRequest, CreatePaymentRequest, CreatePaymentRequestReturnUrl,
    CreatePaymentRequestUserFlow, Currency, ForceApprove, IdempotencyKey, PaymentMethod, PaymentMethodType, Reference,
    RefundModificationRequest,
};
use vipps_epayment::{CallOptions, IdempotentOptions};

use crate::recorder::Exchange;
use crate::target::Harness;

/// Request headers whose values are secrets or change per run.
fn redact_header(name: &str, value: &str) -> Option<String> {
    Some(match name {
        "host" | "content-length" => return None,
        "authorization" => "Bearer [token]".to_string(),
        "client_secret" => "[client-secret]".to_string(),
        "ocp-apim-subscription-key" => "[subscription-key]".to_string(),
        _ => value.to_string(),
    })
}

/// Redacts volatile members of a JSON body: the token, trace ids, and the simulator's address
/// and approval token inside URLs.
fn redact_json(value: &mut Value, origin: &str) {
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                match name.as_str() {
                    "access_token" => *member = Value::String("[token]".into()),
                    "traceId" => *member = Value::String("[trace-id]".into()),
                    _ => redact_json(member, origin),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_json(item, origin)),
        Value::String(text) if text.contains(origin) => {
            let mut redacted = text.replace(origin, "http://[simulator]");
            if let Some(at) = redacted.find("token=") {
                redacted.truncate(at);
                redacted.push_str("token=[approval-token]");
            }
            *text = redacted;
        }
        _ => {}
    }
}

fn body_text(body: &[u8], origin: &str) -> String {
    if body.is_empty() {
        return "(no body)".to_string();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut json) => {
            redact_json(&mut json, origin);
            serde_json::to_string_pretty(&json).expect("json")
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// The exchanges as text: request line, sorted headers, body; status, content type, body.
fn render(exchanges: &[Exchange], origin: &str) -> String {
    let mut out = String::new();
    for (i, exchange) in exchanges.iter().enumerate() {
        out.push_str(&format!("--- {}. {} {}\n", i + 1, exchange.method, exchange.path));
        let mut headers: Vec<(String, String)> =
            exchange.headers.iter().filter_map(|(name, value)| redact_header(name, value).map(|v| (name.clone(), v))).collect();
        headers.sort();
        for (name, value) in headers {
            out.push_str(&format!("> {name}: {value}\n"));
        }
        out.push_str(&body_text(&exchange.body, origin));
        out.push('\n');
        match &exchange.answer {
            None => out.push_str("< (no answer)\n"),
            Some(answer) => {
                out.push_str(&format!("< {}", answer.status));
                for name in ["content-type", "retry-after"] {
                    if let Some(value) = answer.header(name) {
                        out.push_str(&format!(" {name}: {value}"));
                    }
                }
                out.push('\n');
                out.push_str(&body_text(&answer.body, origin));
                out.push('\n');
            }
        }
    }
    out
}

fn nok(value: i64) -> Amount {
    Amount::new(Currency::Nok, AmountValue::new(value).unwrap())
}

#[test]
fn the_happy_path_on_the_wire() {
    let harness = Harness::simulator();
    let client = harness.client_for("123456");
    let reference = Reference::new("snapshot-order-0001").unwrap();
    let key = |text: &str| IdempotentOptions::with_key(IdempotencyKey::new(text).unwrap());
    harness.block_on(async {
        let mut request = CreatePaymentRequest::new(
            nok(49_900),
            PaymentMethod::new(PaymentMethodType::Wallet),
            reference.clone(),
            CreatePaymentRequestUserFlow::WebRedirect,
        );
        request.return_url = Some(CreatePaymentRequestReturnUrl::new("https://shop.example.org/return").unwrap());
        client.create_payment(&request, key("snapshot-create-0001")).await.expect("create");
        client.force_approve(&reference, Some(&ForceApprove::default()), CallOptions::new()).await.expect("approve");
        client.get_payment(&reference, CallOptions::new()).await.expect("get");
        let capture = CaptureModificationRequest::new(nok(49_900));
        client.capture_payment(&reference, &capture, key("snapshot-capture-0001")).await.expect("capture");
        let refund = RefundModificationRequest::new(nok(10_000));
        client.refund_payment(&reference, &refund, key("snapshot-refund-0001")).await.expect("refund");
    });
    let exchanges = harness.recorder.all();
    let paths: Vec<String> = exchanges.iter().map(Exchange::summary).collect();
    assert_eq!(exchanges.len(), 6, "token, create, approve, get, capture, refund: {paths:?}");
    let problems = crate::spec::spec().check_exchanges(&exchanges);
    assert!(problems.is_empty(), "the wire breaks the spec: {problems:#?}");
    let origin = harness.sim().base_url().to_string();
    insta::assert_snapshot!("happy_path", render(&exchanges, &origin));
}
