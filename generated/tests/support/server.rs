//! A scriptable HTTP/1 server on 127.0.0.1 (hyper): it records every request, answers the
//! access-token call itself (counting tokens, optionally slowly, with a chosen lifetime, and
//! rejecting revoked tokens with 401), and answers the ePayment calls from a queue of scripted
//! actions, falling back to spec-valid bodies. A scripted action can also drop the connection or
//! answer late.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Headers in arrival order, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (Null when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() { Value::Null } else { serde_json::from_slice(&self.body).expect("the client sent JSON") }
    }

    /// Whether this is the access-token call.
    pub fn is_token_call(&self) -> bool {
        self.path == "/accesstoken/get"
    }
}

/// A scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON body with `application/json`.
    pub fn json(status: u16, body: Value) -> Self {
        Self::typed(status, "application/json", body)
    }

    /// A JSON body with a given content type.
    pub fn typed(status: u16, content_type: &str, body: Value) -> Self {
        Self { status, headers: vec![("content-type".into(), content_type.into())], body: body.to_string().into_bytes() }
    }

    /// An RFC 7807 problem.
    pub fn problem(status: u16, title: &str) -> Self {
        Self::typed(
            status,
            "application/problem+json",
            json!({ "type": "https://example.org/problems/test", "title": title, "status": status, "traceId": "trace-1" }),
        )
    }

    /// No body.
    pub fn empty(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A raw body with a content type.
    pub fn raw(status: u16, content_type: &str, body: &str) -> Self {
        Self { status, headers: vec![("content-type".into(), content_type.into())], body: body.as_bytes().to_vec() }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What the server does with the next ePayment request.
#[derive(Debug, Clone)]
pub enum Action {
    /// Answers.
    Reply(Reply),
    /// Reads the request, then closes the connection without answering.
    Drop,
    /// Answers after a delay.
    Delay(Duration, Reply),
}

#[derive(Debug, Default)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Action>>,
    tokens_issued: AtomicUsize,
    token_lifetime: Mutex<Option<String>>,
    token_delay: Mutex<Duration>,
    token_failure: Mutex<Option<Reply>>,
    token_failures_once: Mutex<std::collections::VecDeque<Reply>>,
    revoked: Mutex<HashSet<String>>,
    states: Mutex<VecDeque<String>>,
}

/// The server; it lives as long as the test's runtime.
#[derive(Debug, Clone)]
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<State>,
}

impl TestServer {
    /// Binds 127.0.0.1 on a free port and serves.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State::default());
        let serving = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(state.clone(), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Self { addr, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues actions for the next ePayment requests (not the token call), in order.
    pub fn script(&self, actions: impl IntoIterator<Item = Action>) {
        self.state.script.lock().unwrap().extend(actions);
    }

    /// Queues replies for the next ePayment requests.
    pub fn reply(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script(replies.into_iter().map(Action::Reply));
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The ePayment requests so far (no token calls).
    pub fn api_requests(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| !r.is_token_call()).collect()
    }

    /// How many tokens were issued.
    pub fn tokens_issued(&self) -> usize {
        self.state.tokens_issued.load(Ordering::SeqCst)
    }

    /// The `expires_in` of the next tokens (default `"3600"`).
    pub fn token_lifetime(&self, expires_in: &str) {
        *self.state.token_lifetime.lock().unwrap() = Some(expires_in.to_string());
    }

    /// The token call answers after this delay (to make concurrent callers overlap).
    pub fn token_delay(&self, delay: Duration) {
        *self.state.token_delay.lock().unwrap() = delay;
    }

    /// The token call answers with this instead of a token.
    pub fn token_failure(&self, reply: Reply) {
        *self.state.token_failure.lock().unwrap() = Some(reply);
    }

    /// The next token calls answer with these, one each, before tokens are issued again.
    pub fn token_failures_once(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.token_failures_once.lock().unwrap().extend(replies);
    }

    /// Answers calls carrying this token with 401.
    pub fn revoke(&self, token: &str) {
        self.state.revoked.lock().unwrap().insert(token.to_string());
    }

    /// The states get payment answers with, one per call; the last one stays.
    pub fn payment_states(&self, states: &[&str]) {
        *self.state.states.lock().unwrap() = states.iter().map(|s| s.to_string()).collect();
    }
}

/// The n-th token the server issues (1-based).
pub fn token(n: usize) -> String {
    format!("access-token-SHOULD-NOT-LEAK-{n}")
}

type Answer = Result<hyper::Response<Full<Bytes>>, std::io::Error>;

async fn handle(state: Arc<State>, request: hyper::Request<Incoming>) -> Answer {
    let method = request.method().to_string();
    let path = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), value.to_str().unwrap_or("<binary>").to_string()))
        .collect();
    let body = request.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let recorded = Recorded { method, path, headers, body };
    state.requests.lock().unwrap().push(recorded.clone());

    if recorded.is_token_call() {
        let delay = *state.token_delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        let once = state.token_failures_once.lock().unwrap().pop_front();
        let failure = once.or_else(|| state.token_failure.lock().unwrap().clone());
        if let Some(reply) = failure {
            return Ok(respond(reply));
        }
        let n = state.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
        let lifetime = state.token_lifetime.lock().unwrap().clone().unwrap_or_else(|| "3600".into());
        return Ok(respond(Reply::json(
            200,
            json!({
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": "0",
                "expires_on": "0",
                "not_before": "0",
                "resource": "00000000-0000-0000-0000-000000000000",
                "access_token": token(n),
            }),
        )));
    }
    let bearer = recorded.header("authorization").unwrap_or_default().trim_start_matches("Bearer ").to_string();
    if state.revoked.lock().unwrap().contains(&bearer) {
        return Ok(respond(Reply::problem(401, "token rejected")));
    }
    let action = state.script.lock().unwrap().pop_front();
    match action {
        Some(Action::Reply(reply)) => Ok(respond(reply)),
        Some(Action::Delay(delay, reply)) => {
            tokio::time::sleep(delay).await;
            Ok(respond(reply))
        }
        Some(Action::Drop) => Err(std::io::Error::other("scripted: drop the connection")),
        None => Ok(respond(default_reply(&state, &recorded))),
    }
}

fn respond(reply: Reply) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response.body(Full::new(Bytes::from(reply.body))).expect("a valid scripted response")
}

/// The reference in a path `/epayment/v1/payments/<reference>/...`.
fn reference_of(path: &str) -> String {
    path.split('/').nth(4).unwrap_or("unknown-ref").to_string()
}

/// A spec-valid answer for each ePayment operation.
fn default_reply(state: &State, request: &Recorded) -> Reply {
    let path = request.path.as_str();
    let amount = json!({ "currency": "NOK", "value": 1000 });
    let aggregate = json!({
        "authorizedAmount": amount, "cancelledAmount": { "currency": "NOK", "value": 0 },
        "capturedAmount": { "currency": "NOK", "value": 0 }, "refundedAmount": { "currency": "NOK", "value": 0 },
    });
    match (request.method.as_str(), path) {
        ("POST", "/epayment/v1/payments") => {
            let reference = request.json().get("reference").cloned().unwrap_or(json!("unknown-ref"));
            Reply::json(201, json!({ "reference": reference, "redirectUrl": "https://pay.example.net/start?t=abc" }))
        }
        ("GET", p) if p.ends_with("/events") => Reply::json(
            200,
            json!([{
                "reference": reference_of(p), "pspReference": "psp-1", "name": "CREATED", "amount": amount,
                "timestamp": "2025-01-01T12:00:00Z", "idempotencyKey": "key-1", "success": true,
            }]),
        ),
        ("GET", p) => {
            let mut states = state.states.lock().unwrap();
            let current = if states.len() > 1 { states.pop_front() } else { states.front().cloned() };
            let payment_state = current.unwrap_or_else(|| "AUTHORIZED".into());
            Reply::json(
                200,
                json!({
                    "aggregate": aggregate, "amount": amount, "state": payment_state,
                    "paymentMethod": { "type": "WALLET" }, "profile": {}, "pspReference": "psp-1",
                    "reference": reference_of(p),
                }),
            )
        }
        ("POST", p) if p.contains("/v1/test/") => Reply::empty(200),
        ("POST", p) => Reply::json(
            200,
            json!({ "amount": amount, "state": "AUTHORIZED", "aggregate": aggregate, "pspReference": "psp-1", "reference": reference_of(p) }),
        ),
        _ => Reply::problem(404, "no such route"),
    }
}
