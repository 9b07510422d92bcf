//! The simulator's ePayment and access-token routes, and the request pipeline they share.
//!
//! # Base URL convention
//!
//! The spec's paths are relative to its server URL: ePayment operations live under
//! `https://apitest.vipps.no/epayment` (so `POST /v1/payments` is
//! `https://apitest.vipps.no/epayment/v1/payments`), and the access token under
//! `https://apitest.vipps.no/accesstoken/get`. A client's **base URL is the host root**, and
//! ePayment paths are prefixed with the server URL's path, `/epayment`. The simulator serves the
//! same layout, so a client pointed at the simulator uses its root URL
//! ([`RunningSimulator::base_url`](super::RunningSimulator::base_url), e.g.
//! `http://127.0.0.1:41234`) as the base URL:
//!
//! | operation | path |
//! |---|---|
//! | access token | `POST /accesstoken/get` |
//! | createPayment | `POST /epayment/v1/payments` |
//! | getPayment | `GET /epayment/v1/payments/{reference}` |
//! | getPaymentEventLog | `GET /epayment/v1/payments/{reference}/events` |
//! | capturePayment | `POST /epayment/v1/payments/{reference}/capture` |
//! | refundPayment | `POST /epayment/v1/payments/{reference}/refund` |
//! | cancelPayment | `POST /epayment/v1/payments/{reference}/cancel` |
//! | forceApprove | `POST /epayment/v1/test/payments/{reference}/approve` |
//!
//! Test controls live apart, under `/_sim/` (see [`control_routes`](super::control_routes)).
//!
//! # Pipeline
//!
//! Every request goes: credentials (401) -> headers, path and body validation (400) -> faults
//! -> rate limit (429) -> the ledger (idempotency, then the change) -> optional dropped
//! connection. Nothing before the ledger changes a payment.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use vipps_epayment::epayment::{
    CancelModificationRequest, CaptureModificationRequest, CreatePaymentRequest, ForceApprove,
    RefundModificationRequest,
};

use super::Shared;
use super::faults::{FAULT_HEADER, Fault, parse_fault_list};
use super::operation::Operation;
use super::reply::{JSON_UTF8, Refusal, Reply};
use super::server::ConnectionKill;
use super::validation::{
    self, CreateChecks, check_force_approve, check_modification_amount, fingerprint,
    idempotency_key, json_content_type, parse_body, path_reference, system_headers,
};

/// The ePayment and access-token routes.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/accesstoken/get", post(unscoped(Operation::AccessToken)))
        .route("/epayment/v1/payments", post(unscoped(Operation::Create)))
        .route("/epayment/v1/payments/{reference}", get(on_payment(Operation::Get)))
        .route("/epayment/v1/payments/{reference}/events", get(on_payment(Operation::Events)))
        .route("/epayment/v1/payments/{reference}/capture", post(on_payment(Operation::Capture)))
        .route("/epayment/v1/payments/{reference}/refund", post(on_payment(Operation::Refund)))
        .route("/epayment/v1/payments/{reference}/cancel", post(on_payment(Operation::Cancel)))
        .route("/epayment/v1/test/payments/{reference}/approve", post(on_payment(Operation::ForceApprove)))
}

/// A validated request, ready for the ledger.
enum Work {
    Token(HeaderMap),
    Create {
        msn: String,
        key: String,
        fingerprint: serde_json::Value,
        request: Box<CreatePaymentRequest>,
        checks: CreateChecks,
    },
    Get { msn: String, reference: String },
    Events { msn: String, reference: String },
    Capture {
        msn: String,
        reference: String,
        key: String,
        fingerprint: serde_json::Value,
        request: CaptureModificationRequest,
    },
    Refund {
        msn: String,
        reference: String,
        key: String,
        fingerprint: serde_json::Value,
        request: RefundModificationRequest,
    },
    Cancel {
        msn: String,
        reference: String,
        key: Option<String>,
        fingerprint: serde_json::Value,
        request: CancelModificationRequest,
    },
    ForceApprove { msn: String, reference: String, request: ForceApprove },
}

impl Work {
    fn target(&self) -> Option<(&str, &str)> {
        match self {
            Work::Token(_) => None,
            Work::Create { msn, request, .. } => Some((msn, request.reference.as_str())),
            Work::Get { msn, reference }
            | Work::Events { msn, reference }
            | Work::Capture { msn, reference, .. }
            | Work::Refund { msn, reference, .. }
            | Work::Cancel { msn, reference, .. }
            | Work::ForceApprove { msn, reference, .. } => Some((msn, reference)),
        }
    }

    fn execute(self, shared: &Shared, now: DateTime<Utc>) -> Reply {
        if let Work::Token(headers) = &self {
            return match shared.auth.issue(headers, now) {
                Ok(token) => Reply::json(200, JSON_UTF8, &token),
                Err(refusal) => refusal.into_reply(),
            };
        }
        let mut ledger = shared.ledger.lock().expect("ledger lock poisoned");
        let reply = self.apply(&mut ledger, now);
        let announcements = ledger.take_announcements();
        drop(ledger);
        // Webhook delivery runs in the background, after the lock is released (rule W1).
        shared.webhooks.announce(announcements);
        reply
    }

    fn apply(self, ledger: &mut crate::sim::state::Ledger, now: DateTime<Utc>) -> Reply {
        match self {
            Work::Token(_) => unreachable!("handled above"),
            Work::Create { msn, key, fingerprint, request, checks } => {
                ledger.create(&msn, &key, fingerprint, *request, checks, now)
            }
            Work::Get { msn, reference } => ledger.get(&msn, &reference, now),
            Work::Events { msn, reference } => ledger.events(&msn, &reference, now),
            Work::Capture { msn, reference, key, fingerprint, request } => {
                ledger.capture(&msn, &reference, &key, fingerprint, request, now)
            }
            Work::Refund { msn, reference, key, fingerprint, request } => {
                ledger.refund(&msn, &reference, &key, fingerprint, request, now)
            }
            Work::Cancel { msn, reference, key, fingerprint, request } => {
                ledger.cancel(&msn, &reference, key.as_deref(), fingerprint, request, now)
            }
            Work::ForceApprove { msn, reference, request } => {
                ledger.force_approve(&msn, &reference, request, now)
            }
        }
    }
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// A JSON body of a generated type; `None` when the body is optional and absent.
fn optional_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<T>, Refusal> {
    if is_blank(body) {
        return Ok(None);
    }
    json_content_type(headers)?;
    parse_body(body).map(Some)
}

fn required_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, Refusal> {
    if is_blank(body) {
        return Err(Refusal::invalid("body", "a JSON request body is required"));
    }
    json_content_type(headers)?;
    parse_body(body)
}

/// Checks everything about a request that does not need the ledger.
fn prepare(
    shared: &Shared,
    operation: Operation,
    raw_reference: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Work, Refusal> {
    if operation == Operation::AccessToken {
        system_headers(headers)?;
        return Ok(Work::Token(headers.clone()));
    }
    let msn = shared.auth.check(headers, now)?.msn;
    system_headers(headers)?;
    if operation == Operation::ForceApprove && !shared.force_approve {
        return Err(Refusal::forbidden(
            "force approve exists only in the test environment (rule S14)",
        ));
    }
    let reference = match raw_reference {
        Some(raw) => path_reference(raw)?.into_inner(),
        None => String::new(),
    };
    Ok(match operation {
        Operation::AccessToken => unreachable!("handled above"),
        Operation::Create => {
            let key = idempotency_key(headers, true)?.expect("required key");
            let request: CreatePaymentRequest = required_body(headers, body)?;
            let checks = validation::check_create(&request, now)?;
            Work::Create { msn, key, fingerprint: fingerprint(body), request: Box::new(request), checks }
        }
        Operation::Get => Work::Get { msn, reference },
        Operation::Events => Work::Events { msn, reference },
        Operation::Capture => {
            let key = idempotency_key(headers, true)?.expect("required key");
            let request: CaptureModificationRequest = required_body(headers, body)?;
            check_modification_amount(&request.modification_amount)?;
            Work::Capture { msn, reference, key, fingerprint: fingerprint(body), request }
        }
        Operation::Refund => {
            let key = idempotency_key(headers, true)?.expect("required key");
            let request: RefundModificationRequest = required_body(headers, body)?;
            check_modification_amount(&request.modification_amount)?;
            Work::Refund { msn, reference, key, fingerprint: fingerprint(body), request }
        }
        Operation::Cancel => {
            let key = idempotency_key(headers, false)?;
            let request: CancelModificationRequest = optional_body(headers, body)?.unwrap_or_default();
            Work::Cancel { msn, reference, key, fingerprint: fingerprint(body), request }
        }
        Operation::ForceApprove => {
            let request: ForceApprove = optional_body(headers, body)?.unwrap_or_default();
            check_force_approve(&request)?;
            Work::ForceApprove { msn, reference, request }
        }
    })
}

/// Runs one request through the pipeline.
async fn handle(
    shared: Arc<Shared>,
    operation: Operation,
    raw_reference: Option<String>,
    headers: HeaderMap,
    body: Bytes,
    kill: Option<ConnectionKill>,
) -> Response {
    let request_faults = match headers.get(FAULT_HEADER).map(|v| v.to_str()) {
        None => Vec::new(),
        Some(Ok(text)) => match parse_fault_list(text) {
            Ok(faults) => faults,
            Err(reason) => return Refusal::invalid(FAULT_HEADER, reason).into_reply().into_response(),
        },
        Some(Err(_)) => {
            return Refusal::invalid(FAULT_HEADER, "header is not valid text").into_reply().into_response();
        }
    };
    let now = shared.clock.now();
    let work = match prepare(&shared, operation, raw_reference.as_deref(), &headers, &body, now) {
        Ok(work) => work,
        Err(refusal) => return refusal.into_reply().into_response(),
    };
    let mut faults = shared.faults.take(operation, work.target().map(|(_, reference)| reference));
    faults.extend(request_faults);
    let mut drop_after_commit = false;
    for fault in &faults {
        match fault {
            Fault::Delay(delay) => tokio::time::sleep(*delay).await,
            Fault::DropAfterCommit => drop_after_commit = true,
            Fault::Status { .. } => {}
        }
    }
    if let Some(Fault::Status { status, retry_after }) =
        faults.iter().find(|fault| matches!(fault, Fault::Status { .. }))
    {
        return Refusal::injected(*status, *retry_after).into_reply().into_response();
    }
    let now = shared.clock.now();
    if let Some((msn, reference)) = work.target()
        && let Err(refusal) = shared.limiter.check(operation, msn, reference, now)
    {
        return refusal.into_reply().into_response();
    }
    let reply = work.execute(&shared, now);
    if drop_after_commit && let Some(kill) = kill {
        kill.trigger();
        std::future::pending::<()>().await;
    }
    reply.into_response()
}

type Kill = Option<axum::Extension<ConnectionKill>>;

fn kill_of(kill: Kill) -> Option<ConnectionKill> {
    kill.map(|axum::Extension(kill)| kill)
}

/// The future of a handler made by [`unscoped`] or [`on_payment`].
type Handled = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

/// A handler for an operation with no payment in its path (token, create).
fn unscoped(operation: Operation) -> impl Fn(State<Arc<Shared>>, Kill, HeaderMap, Bytes) -> Handled + Clone + Send + Sync + 'static {
    move |State(shared), kill, headers, body| Box::pin(handle(shared, operation, None, headers, body, kill_of(kill)))
}

/// A handler for an operation on the payment named in the path.
fn on_payment(
    operation: Operation,
) -> impl Fn(State<Arc<Shared>>, Path<String>, Kill, HeaderMap, Bytes) -> Handled + Clone + Send + Sync + 'static {
    move |State(shared), Path(reference), kill, headers, body| {
        Box::pin(handle(shared, operation, Some(reference), headers, body, kill_of(kill)))
    }
}
