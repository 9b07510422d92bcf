//! A small, bounded load generator for the simulator: `create` + `get` pairs from C concurrent
//! workers for S seconds, over loopback only.
//!
//! ```text
//! cargo run --release -p vipps-contract-tests --example loadgen -- [--url http://127.0.0.1:PORT] [--seconds 10] [--concurrency 32]
//! ```
//! Without `--url` it starts a simulator in-process (rate limits off). Point `--url` at an
//! `epayment-sim --no-rate-limits` to measure the binary; rate limits would refuse the repeated
//! creates otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use vipps_contract_tests::sim::{RateLimits, Simulator};

struct Counters {
    ok: AtomicU64,
    failed: AtomicU64,
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

async fn token(http: &reqwest::Client, base: &str) -> String {
    let response = http
        .post(format!("{base}/accesstoken/get"))
        .header("client_id", "load")
        .header("client_secret", "load")
        .header("Ocp-Apim-Subscription-Key", "load-key")
        .header("Merchant-Serial-Number", "123456")
        .send()
        .await
        .expect("token call");
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.expect("token body")).expect("token json");
    body["access_token"].as_str().expect("access_token").to_string()
}

#[tokio::main]
async fn main() {
    let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10).min(120);
    let concurrency: usize = arg("--concurrency").and_then(|s| s.parse().ok()).unwrap_or(32).min(1024);
    let (base, _sim) = match arg("--url") {
        Some(url) => {
            assert!(
                url.starts_with("http://127.") || url.starts_with("http://localhost") || url.starts_with("http://[::1]"),
                "loopback only"
            );
            (url.trim_end_matches('/').to_string(), None)
        }
        None => {
            let sim = Simulator::builder().rate_limits(RateLimits::off()).start().await.expect("simulator starts");
            (sim.base_url().to_string(), Some(sim))
        }
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let token = Arc::new(token(&http, &base).await);
    let counters = Arc::new(Counters { ok: AtomicU64::new(0), failed: AtomicU64::new(0) });
    let run = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (http, base, token, counters) = (http.clone(), base.clone(), token.clone(), counters.clone());
        let run = run[..8].to_string();
        workers.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let reference = format!("load-{run}-{worker}-{n}");
                let body = serde_json::json!({
                    "amount": {"currency": "NOK", "value": 1000},
                    "paymentMethod": {"type": "WALLET"},
                    "reference": reference,
                    "userFlow": "WEB_REDIRECT",
                    "returnUrl": "https://shop.example.org/done"
                });
                let auth = |request: reqwest::RequestBuilder| {
                    request
                        .header("Authorization", format!("Bearer {token}"))
                        .header("Ocp-Apim-Subscription-Key", "load-key")
                        .header("Merchant-Serial-Number", "123456")
                };
                let created = auth(http.post(format!("{base}/epayment/v1/payments")))
                    .header("Idempotency-Key", &reference)
                    .header("Content-Type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await;
                let created_ok = matches!(&created, Ok(r) if r.status().as_u16() == 201);
                if let Ok(response) = created {
                    let _ = response.bytes().await;
                }
                let fetched = auth(http.get(format!("{base}/epayment/v1/payments/{reference}"))).send().await;
                let fetched_ok = matches!(&fetched, Ok(r) if r.status().as_u16() == 200);
                if let Ok(response) = fetched {
                    let _ = response.bytes().await;
                }
                let counter = if created_ok && fetched_ok { &counters.ok } else { &counters.failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let ok = counters.ok.load(Ordering::Relaxed);
    let failed = counters.failed.load(Ordering::Relaxed);
    println!(
        "{ok} create+get pairs ({failed} failed) in {elapsed:.1} s with {concurrency} workers: {:.0} pairs/s, {:.0} requests/s",
        ok as f64 / elapsed,
        2.0 * ok as f64 / elapsed
    );
}
