//! Client overhead: `get_payment` through the generated client against the same requests made
//! with plain reqwest + serde_json, both against one in-process simulator (loopback, rate
//! limits off), sequentially (current-thread runtime shared with the simulator) and from 16
//! concurrent tasks (multi-thread runtime, one worker per core). Rounds alternate between the
//! sides to cancel drift. Prints one JSON object with the raw per-round samples on stdout.
//!
//! ```text
//! cargo bench -p vipps-contract-tests --bench client_overhead [-- --quick] [--side ours|baseline|typed_baseline]
//! ```
//!
//! Sides:
//! - `ours`: `Client::get_payment` (headers, token cache, tracing span, retry loop, typed decode
//!   with validated newtypes and field paths on errors);
//! - `baseline`: plain reqwest with the same three headers (`Authorization: Bearer`,
//!   `Ocp-Apim-Subscription-Key`, `Merchant-Serial-Number`), body into a `serde_json::Value`;
//! - `typed_baseline`: the same plain request, body into the generated `GetPaymentResponse` with
//!   `serde_json::from_slice` (splits the overhead into runtime and model decoding).

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use vipps_contract_tests::sim::{RateLimits, RunningSimulator, Simulator};
use vipps_epayment::epayment::{GetPaymentResponse, Reference};
use vipps_epayment::{CallOptions, Client};

/// How much to measure.
struct Settings {
    rounds: usize,
    sequential_calls: usize,
    concurrent_calls: usize,
    tasks: usize,
    payments: usize,
    /// `--side NAME`: measure only that side (`ours`, `baseline`, `typed_baseline`), e.g. under
    /// `valgrind --tool=callgrind` to compare instructions per call.
    only: Option<String>,
}

impl Settings {
    fn new(quick: bool) -> Self {
        if quick {
            Self { rounds: 3, sequential_calls: 300, concurrent_calls: 1_600, tasks: 16, payments: 64, only: None }
        } else {
            Self { rounds: 11, sequential_calls: 5_000, concurrent_calls: 10_000, tasks: 16, payments: 64, only: None }
        }
    }
}

/// One way of making the call.
enum Side {
    Ours { client: Client, references: Vec<Reference> },
    Plain { http: reqwest::Client, base: String, token: String, references: Vec<String>, typed: bool },
}

impl Side {
    const NAMES: [&'static str; 3] = ["ours", "baseline", "typed_baseline"];

    async fn call(&self, i: usize) {
        match self {
            Side::Ours { client, references } => {
                let payment = client.get_payment(&references[i % references.len()], CallOptions::new()).await.expect("get_payment");
                black_box(payment);
            }
            Side::Plain { http, base, token, references, typed } => {
                let (status, body) = support::get(http, base, token, &references[i % references.len()]).await.expect("plain get");
                assert_eq!(status, 200, "plain get");
                if *typed {
                    black_box(serde_json::from_slice::<GetPaymentResponse>(&body).expect("typed body"));
                } else {
                    black_box(serde_json::from_slice::<serde_json::Value>(&body).expect("json body"));
                }
            }
        }
    }
}

/// One round of one side: throughput and latency percentiles.
#[derive(Default)]
struct Series {
    throughput: Vec<f64>,
    p50_us: Vec<f64>,
    p99_us: Vec<f64>,
}

impl Series {
    fn push(&mut self, calls: usize, elapsed: f64, latencies: &[f64]) {
        self.throughput.push(calls as f64 / elapsed);
        self.p50_us.push(support::percentile(latencies, 0.5));
        self.p99_us.push(support::percentile(latencies, 0.99));
    }

    fn to_json(&self) -> serde_json::Value {
        json!({"throughput": self.throughput, "p50_us": self.p50_us, "p99_us": self.p99_us})
    }
}

async fn sequential(side: &Side, calls: usize, series: Option<&mut Series>) {
    let mut latencies = Vec::with_capacity(calls);
    let started = Instant::now();
    for i in 0..calls {
        let call = Instant::now();
        side.call(i).await;
        latencies.push(call.elapsed().as_secs_f64() * 1e6);
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(series) = series {
        series.push(calls, elapsed, &latencies);
    }
}

async fn concurrent(side: &Arc<Side>, calls: usize, tasks: usize, series: Option<&mut Series>) {
    let per_task = calls / tasks;
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let side = side.clone();
        set.spawn(async move {
            let mut latencies = Vec::with_capacity(per_task);
            for n in 0..per_task {
                let call = Instant::now();
                side.call(task * per_task + n).await;
                latencies.push(call.elapsed().as_secs_f64() * 1e6);
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(per_task * tasks);
    while let Some(done) = set.join_next().await {
        latencies.extend(done.expect("task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(series) = series {
        series.push(per_task * tasks, elapsed, &latencies);
    }
}

/// A plain-reqwest side with its own connection pool and token.
async fn plain(base: &str, references: &[String], typed: bool) -> Side {
    let http = reqwest::Client::new();
    let token = support::token(&http, base).await;
    Side::Plain { http, base: base.to_string(), token, references: references.to_vec(), typed }
}

/// How the calls are made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One call after another, on a current-thread runtime shared with the simulator: each
    /// call's latency is the CPU of client and simulator plus loopback, without the cost (and
    /// the noise) of waking an idle worker thread on another core.
    Sequential,
    /// `tasks` tasks at once on the multi-thread runtime (one worker per core), shared with the
    /// simulator.
    Concurrent,
}

/// Starts a simulator, creates the payments to read and makes the three sides, each with its
/// token fetched once.
async fn setup(settings: &Settings) -> (RunningSimulator, [Arc<Side>; 3]) {
    let sim = Simulator::builder().rate_limits(RateLimits::off()).start().await.expect("simulator starts");
    let base = sim.base_url().to_string();
    // The payments to read, created once (the plain way; the client is not measured here);
    // every other one approved, so both states are read.
    let setup = reqwest::Client::new();
    let setup_token = support::token(&setup, &base).await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut references = Vec::new();
    for n in 0..settings.payments {
        let reference = format!("bench-{}-{n:04}", &run[..8]);
        let (status, _) = support::create(&setup, &base, &setup_token, &reference).await.expect("create");
        assert_eq!(status, 201, "create {reference}");
        if n % 2 == 0 {
            sim.approve(&reference).expect("approve");
        }
        references.push(reference);
    }
    let client = Client::builder()
        .base_url(base.clone())
        .client_id("bench")
        .client_secret("bench")
        .subscription_key(support::SUBSCRIPTION_KEY)
        .merchant_serial_number(support::MSN)
        .build()
        .expect("client builds");
    client.access_token().await.expect("client token");
    let ours = Side::Ours {
        client,
        references: references.iter().map(|r| Reference::new(r.as_str()).expect("reference")).collect(),
    };
    let sides = [Arc::new(ours), Arc::new(plain(&base, &references, false).await), Arc::new(plain(&base, &references, true).await)];
    (sim, sides)
}

/// Warm-up, then the rounds, the sides taking turns (ours, baseline, typed, then the other way
/// round, to cancel drift). One series per side.
async fn phase(settings: &Settings, mode: Mode) -> [Series; 3] {
    let (sim, sides) = setup(settings).await;
    let (calls, tasks) = match mode {
        Mode::Sequential => (settings.sequential_calls, 1),
        Mode::Concurrent => (settings.concurrent_calls, settings.tasks),
    };
    let mut all: [Series; 3] = Default::default();
    for round in 0..=settings.rounds {
        let order: [usize; 3] = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
        for &i in &order {
            if settings.only.as_deref().is_some_and(|only| only != Side::NAMES[i]) {
                continue;
            }
            // Round 0 warms up connections, allocator and caches, at a quarter of the calls.
            let (calls, series) = if round == 0 { (calls / 4, None) } else { (calls, Some(&mut all[i])) };
            match mode {
                Mode::Sequential => sequential(&sides[i], calls, series).await,
                Mode::Concurrent => concurrent(&sides[i], calls, tasks, series).await,
            }
        }
    }
    sim.shutdown().await;
    all
}

fn series_json(all: &[Series; 3]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, s) in Side::NAMES.iter().zip(all) {
        map.insert((*name).into(), s.to_json());
    }
    serde_json::Value::Object(map)
}

fn main() {
    let quick = support::quick();
    let mut settings = Settings::new(quick);
    let args: Vec<String> = std::env::args().collect();
    settings.only = args.iter().position(|a| a == "--side").and_then(|i| args.get(i + 1).cloned());
    let probe = support::LoadProbe::start();
    let seq = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(phase(&settings, Mode::Sequential));
    let conc = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(phase(&settings, Mode::Concurrent));
    let report = json!({
        "bench": "client_overhead",
        "quick": quick,
        "rounds": settings.rounds,
        "payments": settings.payments,
        "others_cores": probe.others_cores(),
        "sequential": {"calls": settings.sequential_calls, "runtime": "current_thread", "sides": series_json(&seq)},
        "concurrent": {"calls": settings.concurrent_calls, "tasks": settings.tasks, "runtime": "multi_thread", "sides": series_json(&conc)},
    });
    println!("{report}");
}
