//! The test controls over HTTP, apart from the API under `/_sim/`, so that tests driving the
//! `epayment-sim` binary can act as the user, move the clock and inject faults:
//!
//! | request | effect |
//! |---|---|
//! | `POST /_sim/payments/{reference}/approve[?msn=N]` | the user approves (CREATED -> AUTHORIZED) |
//! | `POST /_sim/payments/{reference}/reject[?msn=N]` | the user rejects (CREATED -> ABORTED) |
//! | `POST /_sim/payments/{reference}/begin-approval[?msn=N]` | the user is approving; cancel is refused |
//! | `POST /_sim/clock/advance?seconds=N` | moves the clock forward |
//! | `GET /_sim/clock` | `{"now": "<RFC 3339>"}` |
//! | `POST /_sim/faults` | adds a fault rule: `{"fault": "status=503", "operation": "capture", "reference": null, "times": 2}` |
//! | `DELETE /_sim/faults` | removes every fault rule |
//! | `GET /_sim/landing/{reference}` | where `redirectUrl` points: a plain page naming the approve control |
//! | `POST /_sim/webhooks/duplicate[?events=N]` | delivers the next N payment events (all, without N) twice to each webhook (rule I10) |
//! | `DELETE /_sim/webhooks/duplicate` | stops duplicate webhook delivery |
//!
//! Controls answer 204, or a Problem (404 unknown reference, 409 not allowed or ambiguous, 400
//! bad input). They need no credentials and are never rate limited.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::Shared;
use super::controls::Controls;
use super::faults::{Fault, FaultRule};
use super::operation::Operation;
use super::reply::{JSON, Refusal, Reply};
use super::state::ControlError;

/// The `/_sim` routes.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/payments/{reference}/approve", post(approve))
        .route("/_sim/payments/{reference}/reject", post(reject))
        .route("/_sim/payments/{reference}/begin-approval", post(begin_approval))
        .route("/_sim/clock/advance", post(advance_clock))
        .route("/_sim/clock", get(clock))
        .route("/_sim/faults", post(add_fault).delete(clear_faults))
        .route("/_sim/landing/{reference}", get(landing))
        .route("/_sim/webhooks/duplicate", post(duplicate_webhooks).delete(stop_duplicate_webhooks))
}

#[derive(Debug, Deserialize)]
struct MsnQuery {
    msn: Option<String>,
}

fn answer(result: Result<(), ControlError>) -> Response {
    match result {
        Ok(()) => Reply::empty(204).into_response(),
        Err(ControlError::NotFound(reference)) => Refusal::not_found(&reference).into_reply().into_response(),
        Err(ControlError::NotAllowed(refusal)) => refusal.into_reply().into_response(),
        Err(error @ ControlError::Ambiguous(_)) => Refusal::ambiguous(error.to_string()).into_reply().into_response(),
    }
}

async fn approve(
    State(shared): State<Arc<Shared>>,
    Path(reference): Path<String>,
    Query(query): Query<MsnQuery>,
) -> Response {
    answer(Controls::new(shared).approve_for(query.msn.as_deref(), &reference))
}

async fn reject(
    State(shared): State<Arc<Shared>>,
    Path(reference): Path<String>,
    Query(query): Query<MsnQuery>,
) -> Response {
    answer(Controls::new(shared).reject_for(query.msn.as_deref(), &reference))
}

async fn begin_approval(
    State(shared): State<Arc<Shared>>,
    Path(reference): Path<String>,
    Query(query): Query<MsnQuery>,
) -> Response {
    answer(Controls::new(shared).begin_approval_for(query.msn.as_deref(), &reference))
}

#[derive(Debug, Deserialize)]
struct AdvanceQuery {
    seconds: u64,
}

async fn advance_clock(State(shared): State<Arc<Shared>>, Query(query): Query<AdvanceQuery>) -> Response {
    Controls::new(shared).advance_clock(Duration::from_secs(query.seconds));
    Reply::empty(204).into_response()
}

async fn clock(State(shared): State<Arc<Shared>>) -> Response {
    let now = shared.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Reply::json(200, JSON, &serde_json::json!({ "now": now })).into_response()
}

#[derive(Debug, Deserialize)]
struct FaultBody {
    fault: String,
    operation: Option<String>,
    reference: Option<String>,
    times: Option<u32>,
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed: FaultBody = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(error) => return Refusal::invalid("body", error.to_string()).into_reply().into_response(),
    };
    let fault: Fault = match parsed.fault.parse() {
        Ok(fault) => fault,
        Err(reason) => return Refusal::invalid("fault", reason).into_reply().into_response(),
    };
    let operation = match parsed.operation.as_deref().map(str::parse::<Operation>).transpose() {
        Ok(operation) => operation,
        Err(reason) => return Refusal::invalid("operation", reason).into_reply().into_response(),
    };
    Controls::new(shared).inject_fault(FaultRule {
        fault,
        operation,
        reference: parsed.reference,
        times: parsed.times,
    });
    Reply::empty(204).into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    Controls::new(shared).clear_faults();
    Reply::empty(204).into_response()
}

#[derive(Debug, Deserialize)]
struct DuplicateQuery {
    events: Option<u32>,
}

async fn duplicate_webhooks(State(shared): State<Arc<Shared>>, Query(query): Query<DuplicateQuery>) -> Response {
    Controls::new(shared).duplicate_webhook_deliveries(query.events.unwrap_or(u32::MAX));
    Reply::empty(204).into_response()
}

async fn stop_duplicate_webhooks(State(shared): State<Arc<Shared>>) -> Response {
    Controls::new(shared).duplicate_webhook_deliveries(0);
    Reply::empty(204).into_response()
}

async fn landing(Path(reference): Path<String>) -> Response {
    let text = format!(
        "epayment-sim: payment {reference} waits for the user.\n\
         Approve: POST /_sim/payments/{reference}/approve\n\
         Reject:  POST /_sim/payments/{reference}/reject\n"
    );
    let mut reply = Reply::empty(200);
    reply.content_type = Some("text/plain; charset=utf-8");
    reply.body = Bytes::from(text);
    reply.into_response()
}
