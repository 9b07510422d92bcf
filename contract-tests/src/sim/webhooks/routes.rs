//! The Webhooks API's registration calls, on the spec's paths under `/webhooks` (its server URL
//! is `.../webhooks`), with the same credentials as every ePayment call (Bearer token,
//! subscription key, merchant serial number; rule T2):
//!
//! | call | path | answer |
//! |---|---|---|
//! | register | `POST /webhooks/v1/webhooks` `{"url": ..., "events": [...]}` | 201 `{"id", "secret"}` |
//! | list | `GET /webhooks/v1/webhooks` | 200 `{"webhooks": [{"id", "url", "events"}]}` |
//! | delete | `DELETE /webhooks/v1/webhooks/{id}` | 204; 404 for an unknown id |
//!
//! Webhooks belong to the caller's MSN. A URL that is not `http` on loopback is refused with 400
//! (rule: the simulator never sends traffic elsewhere).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};

use crate::sim::Shared;
use crate::sim::reply::{JSON, Refusal, Reply};
use crate::sim::validation::json_content_type;

/// `RegisterRequest` of the Webhooks API.
#[derive(Debug, Clone, Deserialize)]
pub struct RegisterRequest {
    /// Where to send events.
    pub url: String,
    /// Event names to subscribe to.
    pub events: Vec<String>,
}

/// `RegisterResponse` of the Webhooks API.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterResponse {
    /// The webhook's id.
    pub id: String,
    /// The signing secret, given only once.
    pub secret: String,
}

/// `Webhook` of the Webhooks API (no secret).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookView {
    /// The webhook's id.
    pub id: String,
    /// Where events go.
    pub url: String,
    /// Subscribed event names.
    pub events: Vec<String>,
}

/// `QueryResponse` of the Webhooks API.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResponse {
    /// The caller's webhooks.
    pub webhooks: Vec<WebhookView>,
}

/// The `/webhooks/v1` routes.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/webhooks/v1/webhooks", get(list).post(register))
        .route("/webhooks/v1/webhooks/{id}", delete(remove))
}

fn caller(shared: &Shared, headers: &HeaderMap) -> Result<String, Refusal> {
    shared.auth.check(headers, shared.clock.now()).map(|caller| caller.msn)
}

async fn register(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let msn = match caller(&shared, &headers) {
        Ok(msn) => msn,
        Err(refusal) => return refusal.into_reply().into_response(),
    };
    if let Err(refusal) = json_content_type(&headers) {
        return refusal.into_reply().into_response();
    }
    let request: RegisterRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return Refusal::invalid("body", error.to_string()).into_reply().into_response(),
    };
    match shared.webhooks.register(&msn, &request.url, &request.events) {
        Ok((id, secret)) => Reply::json(201, JSON, &RegisterResponse { id, secret }).into_response(),
        Err(invalid) => Refusal::invalid(invalid.field, invalid.reason).into_reply().into_response(),
    }
}

async fn list(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let msn = match caller(&shared, &headers) {
        Ok(msn) => msn,
        Err(refusal) => return refusal.into_reply().into_response(),
    };
    let webhooks = shared
        .webhooks
        .list(&msn)
        .into_iter()
        .map(|hook| WebhookView { id: hook.id, url: hook.url, events: hook.events })
        .collect();
    Reply::json(200, JSON, &QueryResponse { webhooks }).into_response()
}

async fn remove(State(shared): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let msn = match caller(&shared, &headers) {
        Ok(msn) => msn,
        Err(refusal) => return refusal.into_reply().into_response(),
    };
    if shared.webhooks.delete(&msn, &id) {
        Reply::empty(204).into_response()
    } else {
        Refusal::webhook_not_found(&id).into_reply().into_response()
    }
}
