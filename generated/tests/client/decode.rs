//! Responses are read as the spec documents them: bodies matched on media type essence
//! (`application/problem+json` success bodies parsed as their schema), problem bodies (RFC 7807)
//! parsed with extra members kept, and everything the spec does not allow turned into a typed
//! error naming the operation and the field.

use serde_json::json;
use vipps_epayment::{CallOptions, Error, IdempotentOptions};

use crate::samples;
use crate::support::server::{Reply, TestServer};
use crate::support::{self};

fn payment(state: serde_json::Value) -> serde_json::Value {
    let amount = json!({ "currency": "NOK", "value": 1000 });
    json!({
        "aggregate": { "authorizedAmount": amount, "cancelledAmount": amount, "capturedAmount": amount, "refundedAmount": amount },
        "amount": amount, "state": state, "paymentMethod": { "type": "WALLET" }, "profile": {},
        "pspReference": "psp-1", "reference": "order-decode-0001",
    })
}

async fn get_with(reply: Reply) -> Result<vipps_epayment::epayment::GetPaymentResponse, Error> {
    let server = TestServer::start().await;
    server.reply([reply]);
    support::client(&server).get_payment(&support::reference("order-decode-0001"), CallOptions::new()).await
}

fn decode_field(error: &Error) -> (&'static str, String) {
    match error {
        Error::Decode { context, field, .. } => (context.operation, field.clone()),
        other => panic!("not a decode error: {other:?}"),
    }
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_named() {
    let error = get_with(Reply::json(200, payment(json!(42)))).await.expect_err("state must be a string");
    assert_eq!(decode_field(&error), ("getPayment", "state".to_string()));
    assert!(error.to_string().contains("getPayment") && error.to_string().contains("`state`"), "{error}");
}

#[tokio::test]
async fn a_missing_required_field_is_named() {
    let mut body = payment(json!("AUTHORIZED"));
    body.as_object_mut().expect("object").remove("pspReference");
    let error = get_with(Reply::json(200, body)).await.expect_err("pspReference is required");
    assert_eq!(decode_field(&error), ("getPayment", "pspReference".to_string()));
}

#[tokio::test]
async fn a_nested_field_is_named_by_its_path() {
    let mut body = payment(json!("AUTHORIZED"));
    body["aggregate"]["capturedAmount"]["value"] = json!(-5);
    let error = get_with(Reply::json(200, body)).await.expect_err("minimum 0");
    assert_eq!(decode_field(&error), ("getPayment", "aggregate.capturedAmount.value".to_string()));
}

#[tokio::test]
async fn a_value_breaking_a_pattern_is_named() {
    let mut body = payment(json!("AUTHORIZED"));
    body["reference"] = json!("no spaces allowed");
    let error = get_with(Reply::json(200, body)).await.expect_err("Reference pattern");
    assert_eq!(decode_field(&error), ("getPayment", "reference".to_string()));
    let Error::Decode { body, status, .. } = &error else { unreachable!() };
    assert_eq!(*status, 200);
    assert!(body.text().contains("no spaces allowed"), "the raw body is kept");
}

#[tokio::test]
async fn problem_json_success_bodies_are_parsed_as_their_schema() {
    let server = TestServer::start().await;
    let body = json!({
        "amount": { "currency": "NOK", "value": 100 }, "state": "AUTHORIZED", "pspReference": "psp-9",
        "reference": "order-decode-0002",
        "aggregate": {
            "authorizedAmount": { "currency": "NOK", "value": 100 }, "cancelledAmount": { "currency": "NOK", "value": 0 },
            "capturedAmount": { "currency": "NOK", "value": 100 }, "refundedAmount": { "currency": "NOK", "value": 0 },
        },
    });
    server.reply([Reply::typed(200, "application/problem+json", body)]);
    let client = support::client(&server);
    let result = client
        .capture_payment(&support::reference("order-decode-0002"), &samples::capture(100), IdempotentOptions::new())
        .await
        .expect("a 200 problem+json body is the ModificationResponse");
    assert_eq!(result.value.psp_reference, "psp-9");
    assert_eq!(result.value.aggregate.captured_amount.value.get(), 100);
}

#[tokio::test]
async fn problem_bodies_keep_their_extra_members() {
    let server = TestServer::start().await;
    let problem = json!({
        "type": "https://example.org/problems/too-high", "title": "Capture amount too high", "status": 409,
        "detail": "captured would exceed authorized", "traceId": "trace-77",
        "extraDetails": [{ "name": "modificationAmount", "reason": "above the remaining amount" }],
        "remaining": 250, "hint": { "retry": false },
    });
    server.reply([Reply::typed(409, "application/problem+json", problem)]);
    let client = support::client(&server);
    let error = client
        .capture_payment(&support::reference("order-decode-0003"), &samples::capture(9999), IdempotentOptions::new())
        .await
        .expect_err("409");
    let problem = error.problem().expect("a problem body");
    assert_eq!(problem.title, "Capture amount too high");
    assert_eq!(problem.extension("traceId"), Some(&json!("trace-77")));
    assert_eq!(problem.extension("remaining"), Some(&json!(250)));
    // Read as the spec's own problem type, unknown members are kept in its `extra`.
    let typed: vipps_epayment::epayment::Problem = problem.decode().expect("the spec's Problem");
    assert_eq!(typed.trace_id, "trace-77");
    assert_eq!(typed.extra.get("hint"), Some(&json!({ "retry": false })));
    assert!(matches!(&error, Error::Problem { documented: true, .. }), "409 is documented for capture");
    assert_eq!(error.status(), Some(409));
    // The error hands back the key the client made and sent.
    let sent = server.api_requests()[0].header("idempotency-key").map(str::to_string);
    assert!(sent.as_deref().is_some_and(|key| !key.is_empty()), "{sent:?}");
    assert_eq!(error.idempotency_key(), sent.as_deref());
    assert!(error.to_string().contains("capturePayment") && error.to_string().contains("Capture amount too high"), "{error}");
}

#[tokio::test]
async fn an_undocumented_status_with_a_problem_body_is_a_problem() {
    // get payment documents no 404, yet servers answer an unknown reference with a Problem.
    let body = json!({ "type": "https://example.org/problems/not-found", "title": "Not found", "status": 404, "traceId": "t-1" });
    let error = get_with(Reply::typed(404, "application/problem+json", body)).await.expect_err("404");
    let Error::Problem { context, status, documented, problem, .. } = &error else { panic!("{error:?}") };
    assert_eq!((context.operation, *status, *documented), ("getPayment", 404, false));
    assert_eq!((problem.type_.as_str(), problem.title.as_str()), ("https://example.org/problems/not-found", "Not found"));
    assert_eq!(error.problem().map(|p| p.title.as_str()), Some("Not found"));
    // The same status with a body of another kind stays a status error with its body.
    let error = get_with(Reply::typed(404, "application/json", json!({ "title": "Not found" }))).await.expect_err("404");
    assert!(matches!(&error, Error::Status { status: 404, documented: false, .. }), "{error:?}");
}

#[tokio::test]
async fn an_undocumented_status_carries_operation_status_headers_and_body() {
    let error = get_with(Reply::raw(418, "text/plain", "I'm a teapot").header("x-request-id", "req-5")).await.expect_err("418");
    let Error::Status { context, status, documented, headers, body } = &error else { panic!("{error:?}") };
    assert_eq!(context.operation, "getPayment");
    assert_eq!(context.reference.as_deref(), Some("order-decode-0001"));
    assert_eq!(*status, 418);
    assert!(!documented);
    assert_eq!(headers.get("x-request-id").and_then(|v| v.to_str().ok()), Some("req-5"));
    assert_eq!(body.text(), "I'm a teapot");
}

#[tokio::test]
async fn a_body_of_another_media_type_is_a_typed_error() {
    let error = get_with(Reply::raw(200, "text/html", "<html>maintenance</html>")).await.expect_err("not JSON");
    let Error::UnexpectedContentType { context, content_type, expected, body, .. } = &error else { panic!("{error:?}") };
    assert_eq!(context.operation, "getPayment");
    assert_eq!(content_type, "text/html");
    assert_eq!(*expected, "application/json");
    assert!(body.text().contains("maintenance"));
}

#[tokio::test]
async fn a_documented_error_status_without_a_schema_says_so() {
    let server = TestServer::start().await;
    server.token_failure(Reply::empty(400));
    let error = support::client(&server).access_token().await.expect_err("400");
    assert!(matches!(&error, Error::Status { status: 400, documented: true, .. }), "{error:?}");
    assert_eq!(error.operation(), Some("fetchAuthorizationTokenUsingPost"));
}

#[tokio::test]
async fn the_event_log_is_a_typed_list() {
    let server = TestServer::start().await;
    let events = support::client(&server)
        .get_payment_event_log(&support::reference("order-decode-0004"), CallOptions::new())
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reference.as_str(), "order-decode-0004");
}
