//! A loopback recording proxy: the client talks to it, it forwards each request unchanged to the
//! target (the simulator, or the Vipps test environment) and keeps the exchange (method, path,
//! headers, body, answer), so the suites assert on what actually reached the server.
//!
//! When the target closes the connection without an answer (the simulator's `drop-after-commit`
//! fault, or a network failure), the proxy closes the client's connection without an answer too,
//! so the client sees the same failure.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as it reached the target, and the target's answer.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Upper-case method.
    pub method: String,
    /// The path as sent (still percent-encoded), without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Request headers in the order sent, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// The answer; `None` when the connection was closed without one.
    pub answer: Option<Answer>,
}

/// A target's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Response headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

impl Exchange {
    /// A request header.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The request body as JSON (`None` when empty or not JSON).
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `POST /epayment/v1/payments -> 201`, for messages.
    pub fn summary(&self) -> String {
        let answer = match &self.answer {
            Some(answer) => answer.status.to_string(),
            None => "no answer".to_string(),
        };
        format!("{} {} -> {answer}", self.method, self.path)
    }
}

impl Answer {
    /// A response header.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The body as JSON (`None` when empty or not JSON).
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Headers that belong to one connection, not to the message.
const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length", "host"];

/// The running proxy; stops when dropped.
#[derive(Debug)]
pub struct Recorder {
    url: String,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    task: JoinHandle<()>,
}

impl Recorder {
    /// Starts a proxy on an ephemeral loopback port in front of `upstream` (an origin such as
    /// `http://127.0.0.1:41234` or `https://apitest.vipps.no`).
    pub async fn start(upstream: &str) -> Recorder {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("recorder binds a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let forward = Forward {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder().use_rustls_tls().build().expect("proxy HTTP client"),
            exchanges: exchanges.clone(),
        };
        let task = tokio::spawn(accept(listener, Arc::new(forward)));
        Recorder { url, exchanges, task }
    }

    /// The URL clients use as their base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many exchanges so far (a mark for [`Recorder::since`]).
    pub fn mark(&self) -> usize {
        self.exchanges.lock().unwrap().len()
    }

    /// The exchanges after `mark`.
    pub fn since(&self, mark: usize) -> Vec<Exchange> {
        self.exchanges.lock().unwrap()[mark..].to_vec()
    }

    /// Every exchange so far.
    pub fn all(&self) -> Vec<Exchange> {
        self.since(0)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Forward {
    upstream: String,
    http: reqwest::Client,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

async fn accept(listener: TcpListener, forward: Arc<Forward>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let forward = forward.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let forward = forward.clone();
                async move { forward.handle(request).await }
            });
            // An `Err` from the service closes the connection without an answer.
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Why the proxy closed a connection without an answer.
#[derive(Debug)]
struct NoAnswer(String);

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoAnswer {}

impl Forward {
    async fn handle(&self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, NoAnswer> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map_err(|error| NoAnswer(error.to_string()))?.to_bytes();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_ascii_lowercase(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().map(str::to_string);
        let mut exchange = Exchange { method: parts.method.to_string(), path, query, headers, body: body.to_vec(), answer: None };
        let target = format!("{}{}", self.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        let mut outgoing = self.http.request(parts.method.clone(), target).body(body);
        for (name, value) in &parts.headers {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                outgoing = outgoing.header(name, value);
            }
        }
        let answer = async {
            let response = outgoing.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        let (status, headers, body) = match answer {
            Ok(answer) => answer,
            Err(error) => {
                self.exchanges.lock().unwrap().push(exchange);
                return Err(NoAnswer(error.to_string()));
            }
        };
        exchange.answer = Some(Answer {
            status: status.as_u16(),
            headers: headers
                .iter()
                .map(|(name, value)| (name.as_str().to_ascii_lowercase(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
                .collect(),
            body: body.to_vec(),
        });
        self.exchanges.lock().unwrap().push(exchange);
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        for (name, value) in &headers {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                response.headers_mut().append(name, value.clone());
            }
        }
        Ok(response)
    }
}
