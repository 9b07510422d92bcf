//! Simulator throughput: requests/s of a create + get mix at 1, 8 and 64 concurrent connections,
//! against a bare axum handler that answers the same requests with fixed JSON bodies, served by
//! the same connection loop in the same process. Each round starts a fresh simulator (it keeps
//! every payment) and a fresh bare server, and rounds alternate which goes first. Prints one
//! JSON object with the raw per-round samples on stdout.
//!
//! ```text
//! cargo bench -p vipps-contract-tests --bench simulator_throughput [-- --quick]
//! ```
//! The load generator (plain reqwest, one connection per worker) runs on the same tokio runtime
//! and the same cores as the server, for both sides alike.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use vipps_contract_tests::sim::{RateLimits, RunningSimulator, Simulator, server};

const LEVELS: [usize; 3] = [1, 8, 64];

struct Settings {
    rounds: usize,
    warm_up: Duration,
    measure: Duration,
}

impl Settings {
    fn new(quick: bool) -> Self {
        if quick {
            Self { rounds: 1, warm_up: Duration::from_millis(150), measure: Duration::from_millis(600) }
        } else {
            Self { rounds: 5, warm_up: Duration::from_millis(300), measure: Duration::from_secs(2) }
        }
    }
}

/// The bare baseline: the same two routes, fixed bodies, nothing checked or stored.
struct Bare {
    base: String,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Bare {
    async fn start(create_body: Bytes, get_body: Bytes) -> Self {
        let router = Router::new()
            .route(
                "/epayment/v1/payments",
                post(move |body: Bytes| {
                    let reply = create_body.clone();
                    async move {
                        drop(body);
                        (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], reply)
                    }
                }),
            )
            .route(
                "/epayment/v1/payments/{reference}",
                get(move || {
                    let reply = get_body.clone();
                    async move { ([(header::CONTENT_TYPE, "application/json")], reply) }
                }),
            );
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, router, rx));
        Self { base, shutdown, task }
    }

    async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

async fn simulator() -> RunningSimulator {
    Simulator::builder().rate_limits(RateLimits::off()).start().await.expect("simulator starts")
}

/// The simulator's own answers to one create and one get, served verbatim by the bare side.
async fn sample_bodies() -> (Bytes, Bytes) {
    let sim = simulator().await;
    let http = reqwest::Client::new();
    let token = support::token(&http, sim.base_url()).await;
    let (status, created) = support::create(&http, sim.base_url(), &token, "bench-sample-0001").await.expect("create");
    assert_eq!(status, 201);
    let (status, fetched) = support::get(&http, sim.base_url(), &token, "bench-sample-0001").await.expect("get");
    assert_eq!(status, 200);
    sim.shutdown().await;
    (created, fetched)
}

/// Requests/s of `workers` connections doing create + get pairs against `base`, counted after
/// the warm-up; and how many requests failed.
async fn load(base: &str, token: &str, workers: usize, settings: &Settings, tag: &str) -> (f64, u64) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(workers).build().expect("http client");
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let counting = started + settings.warm_up;
    let deadline = counting + settings.measure;
    let mut set = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let (http, base, token, ok, failed) = (http.clone(), base.to_string(), token.to_string(), ok.clone(), failed.clone());
        let tag = tag.to_string();
        set.spawn(async move {
            let mut n = 0u64;
            loop {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                n += 1;
                let reference = format!("{tag}-{worker}-{n}");
                let created = support::create(&http, &base, &token, &reference).await;
                let created_ok = matches!(created, Ok((201, _)));
                let fetched = support::get(&http, &base, &token, &reference).await;
                let fetched_ok = matches!(fetched, Ok((200, _)));
                let done = Instant::now();
                if done >= counting && done < deadline {
                    ok.fetch_add(u64::from(created_ok) + u64::from(fetched_ok), Ordering::Relaxed);
                    failed.fetch_add(u64::from(!created_ok) + u64::from(!fetched_ok), Ordering::Relaxed);
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    (ok.load(Ordering::Relaxed) as f64 / settings.measure.as_secs_f64(), failed.load(Ordering::Relaxed))
}

async fn measure_ours(workers: usize, settings: &Settings, tag: &str) -> (f64, u64) {
    let sim = simulator().await;
    let token = support::token(&reqwest::Client::new(), sim.base_url()).await;
    let result = load(sim.base_url(), &token, workers, settings, tag).await;
    sim.shutdown().await;
    result
}

async fn measure_bare(workers: usize, settings: &Settings, bodies: &(Bytes, Bytes), tag: &str) -> (f64, u64) {
    let bare = Bare::start(bodies.0.clone(), bodies.1.clone()).await;
    let result = load(&bare.base, "not-checked", workers, settings, tag).await;
    bare.stop().await;
    result
}

#[tokio::main]
async fn main() {
    let quick = support::quick();
    let settings = Settings::new(quick);
    let bodies = sample_bodies().await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let probe = support::LoadProbe::start();
    let mut levels = Vec::new();
    for workers in LEVELS {
        let (mut ours, mut bare, mut failed) = (Vec::new(), Vec::new(), 0);
        for round in 0..settings.rounds {
            let tag = format!("tp-{}-{workers}-{round}", &run[..6]);
            let first_ours = round % 2 == 0;
            for side in 0..2 {
                if (side == 0) == first_ours {
                    let (rps, f) = measure_ours(workers, &settings, &tag).await;
                    ours.push(rps);
                    failed += f;
                } else {
                    let (rps, f) = measure_bare(workers, &settings, &bodies, &tag).await;
                    bare.push(rps);
                    failed += f;
                }
            }
        }
        levels.push(json!({"connections": workers, "ours": ours, "baseline": bare, "failed": failed}));
    }
    let report = json!({
        "bench": "simulator_throughput",
        "quick": quick,
        "rounds": settings.rounds,
        "seconds": settings.measure.as_secs_f64(),
        "mix": "create + get pairs",
        "others_cores": probe.others_cores(),
        "levels": levels,
    });
    println!("{report}");
}
