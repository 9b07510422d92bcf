//! Property-based contract suites: the generated client (`vipps-epayment`) against the simulator
//! (default) or the Vipps test environment, judged on the wire by the spec documents.
//!
//! - [`shapes`]: every request that reaches the server matches the spec; broken bodies are
//!   refused by the client before sending and named by the simulator; every answer matches the
//!   spec too.
//! - [`idempotency`]: idempotency keys on the wire (rules I1-I9), through injected faults.
//! - [`states`]: a reference model of the payment lifecycle (rules S1-S11, I8, I9) drives random
//!   sequences over several payments; shrinks to a minimal, readable sequence.
//! - [`snapshots`]: the canonical happy path as HTTP exchanges.
//! - [`live`]: the suites that make sense against the Vipps test environment, when its
//!   credentials are set (see [`target`]); otherwise one line says it was skipped.
//!
//! Case counts are small by default (the whole binary runs in well under a minute on 2 cores)
//! and follow `PROPTEST_CASES` when it is set. Failures are kept as seeds in
//! `contract-tests/proptest-regressions/` and replayed first on every run.

mod idempotency;
mod live;
mod recorder;
mod shapes;
mod snapshots;
mod spec;
mod states;
mod target;

use std::future::Future;

use proptest::test_runner::Config;

use crate::recorder::Exchange;
use crate::target::Harness;

/// `operationId` of the access-token call, which any call may make first.
pub const TOKEN_OPERATION: &str = "fetchAuthorizationTokenUsingPost";

/// `PROPTEST_CASES` when set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A proptest configuration with `cases` cases whose failures are kept in
/// `contract-tests/proptest-regressions/<file>`.
macro_rules! config {
    ($cases:expr, $file:literal) => {
        $crate::proptest_config($cases, concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/", $file))
    };
}
pub(crate) use config;

/// See [`config!`].
pub fn proptest_config(cases: u32, regressions: &'static str) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(regressions))),
        // Shrinking replays cases against the target; bound it.
        max_shrink_iters: 4_096,
        max_shrink_time: 90_000,
        ..Config::default()
    }
}

/// One logical call and the exchanges it made (retries included, the token call excluded).
#[derive(Debug, Clone)]
pub struct Logged {
    /// The `operationId` called.
    pub operation: &'static str,
    /// What reached the server for it.
    pub exchanges: Vec<Exchange>,
    /// Token calls made on the way.
    pub token_exchanges: Vec<Exchange>,
}

/// Runs one logical call and collects the exchanges it made.
pub async fn logged<T>(harness: &Harness, operation: &'static str, call: impl Future<Output = T>) -> (T, Logged) {
    harness.pace().await;
    let mark = harness.recorder.mark();
    let out = call.await;
    let (token_exchanges, exchanges) = harness.recorder.since(mark).into_iter().partition(|exchange| exchange.path == "/accesstoken/get");
    (out, Logged { operation, exchanges, token_exchanges })
}

/// `/receipt/orderLines/0/name` -> `receipt.orderLines[0].name` (how the simulator names fields).
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.parse::<usize>().is_ok() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

/// The field names of a Problem body's `extraDetails`.
pub fn named_fields(problem: &serde_json::Value) -> Vec<String> {
    problem["extraDetails"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|detail| detail["name"].as_str().map(str::to_string))
        .collect()
}
