//! What both load programs share: the `--quick` switch, the plain-reqwest calls, percentiles and
//! how much CPU other processes took during a measurement.

#![allow(dead_code)]

use std::time::Instant;

/// `--quick` on the command line (after `cargo bench ... --`) or `VIPPS_BENCH_QUICK=1`.
/// Unknown arguments (cargo passes `--bench`) are ignored.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick") || std::env::var("VIPPS_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// The merchant the load uses (any credentials are accepted by the simulator).
pub const SUBSCRIPTION_KEY: &str = "bench-key";
/// Merchant serial number of the load.
pub const MSN: &str = "123456";

/// One access token, the plain way.
pub async fn token(http: &reqwest::Client, base: &str) -> String {
    let response = http
        .post(format!("{base}/accesstoken/get"))
        .header("client_id", "bench")
        .header("client_secret", "bench")
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
        .header("Merchant-Serial-Number", MSN)
        .send()
        .await
        .expect("token call");
    assert_eq!(response.status().as_u16(), 200, "token call");
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.expect("token body")).expect("token json");
    body["access_token"].as_str().expect("access_token").to_string()
}

/// The create body for `reference`.
pub fn create_body(reference: &str) -> String {
    serde_json::json!({
        "amount": {"currency": "NOK", "value": 1000},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": "WEB_REDIRECT",
        "returnUrl": "https://shop.example.org/done"
    })
    .to_string()
}

/// `POST /epayment/v1/payments` with plain reqwest; the status and body.
pub async fn create(http: &reqwest::Client, base: &str, token: &str, reference: &str) -> reqwest::Result<(u16, axum::body::Bytes)> {
    let response = http
        .post(format!("{base}/epayment/v1/payments"))
        .bearer_auth(token)
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
        .header("Merchant-Serial-Number", MSN)
        .header("Idempotency-Key", reference)
        .header("Content-Type", "application/json")
        .body(create_body(reference))
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.bytes().await?))
}

/// `GET /epayment/v1/payments/{reference}` with plain reqwest; the status and body.
pub async fn get(http: &reqwest::Client, base: &str, token: &str, reference: &str) -> reqwest::Result<(u16, axum::body::Bytes)> {
    let response = http
        .get(format!("{base}/epayment/v1/payments/{reference}"))
        .bearer_auth(token)
        .header("Ocp-Apim-Subscription-Key", SUBSCRIPTION_KEY)
        .header("Merchant-Serial-Number", MSN)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.bytes().await?))
}

/// Nearest-rank percentile of unsorted samples.
pub fn percentile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// CPU used by the whole machine and by this process since `start`, to tell how busy other
/// processes kept the cores during a measurement (from `/proc`; zero where it is missing).
pub struct LoadProbe {
    started: Instant,
    machine: u64,
    own: u64,
}

impl LoadProbe {
    /// Starts counting.
    pub fn start() -> Self {
        Self { started: Instant::now(), machine: machine_busy_ticks(), own: own_ticks() }
    }

    /// Cores' worth of CPU other processes used since `start`, on average.
    pub fn others_cores(&self) -> f64 {
        let seconds = self.started.elapsed().as_secs_f64();
        let ticks = (machine_busy_ticks().saturating_sub(self.machine)).saturating_sub(own_ticks().saturating_sub(self.own));
        if seconds > 0.0 { ticks as f64 / TICKS_PER_SECOND / seconds } else { 0.0 }
    }
}

/// `USER_HZ`, 100 on every Linux this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

fn machine_busy_ticks() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else { return 0 };
    let Some(line) = text.lines().next() else { return 0 };
    // cpu user nice system idle iowait irq softirq steal ...
    let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    fields.iter().enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).sum()
}

fn own_ticks() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/stat") else { return 0 };
    // Fields after the parenthesised command: state is field 3; utime and stime are 14 and 15.
    let Some(rest) = text.rsplit_once(')').map(|(_, rest)| rest) else { return 0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    field(14) + field(15)
}
