//! Where the suites run. Default: the in-process simulator over loopback (frozen clock, rate
//! limits off, no set-up). The Vipps test environment when `VIPPS_CLIENT_ID`,
//! `VIPPS_CLIENT_SECRET`, `VIPPS_SUBSCRIPTION_KEY`, `VIPPS_MSN` and `VIPPS_TEST_PHONE` are all
//! set: then force-approve approves for the test phone number, calls are paced, and what only
//! the simulator can do (clock, user rejection, faults) is skipped. Either target sits behind
//! the recording proxy, so the wire is checked the same way.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tokio::runtime::Runtime;
use vipps_contract_tests::sim::{Clock, RateLimits, RunningSimulator, Simulator};
use vipps_epayment::epayment::{Customer, CustomerPhoneNumber, Reference};
use vipps_epayment::runtime::RetryPolicy;
use vipps_epayment::{Client, Environment};

use crate::recorder::Recorder;

/// The environment variables that turn the live target on (all of them).
pub const LIVE_VARS: [&str; 5] = ["VIPPS_CLIENT_ID", "VIPPS_CLIENT_SECRET", "VIPPS_SUBSCRIPTION_KEY", "VIPPS_MSN", "VIPPS_TEST_PHONE"];

/// Client id the simulator target uses (the access-token spec wants a GUID).
pub const SIM_CLIENT_ID: &str = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f";
/// Client secret the simulator target uses.
pub const SIM_CLIENT_SECRET: &str = "contract-client-secret";
/// Subscription key the simulator target uses.
pub const SIM_SUBSCRIPTION_KEY: &str = "contract-subscription-key";

/// Credentials of the Vipps test environment, from the environment.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    client_id: String,
    client_secret: String,
    subscription_key: String,
    msn: String,
    phone: String,
}

impl LiveSettings {
    /// All of [`LIVE_VARS`], or `None` when one is missing or empty.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Some(Self {
            client_id: var(LIVE_VARS[0])?,
            client_secret: var(LIVE_VARS[1])?,
            subscription_key: var(LIVE_VARS[2])?,
            msn: var(LIVE_VARS[3])?,
            phone: var(LIVE_VARS[4])?,
        })
    }
}

/// Writes one line to the real stderr, past the test harness's output capture, so it shows in
/// a plain `cargo test` run.
pub fn announce(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Retries fast on the simulator (faults answer at once); the default policy on the live target.
fn retry_policy(live: bool) -> RetryPolicy {
    if live {
        return RetryPolicy::default();
    }
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(10),
        max_elapsed: Duration::from_secs(10),
        max_retry_after: Duration::from_secs(2),
    }
}

/// A target behind the recording proxy, with the runtime its calls run on.
pub struct Harness {
    runtime: Runtime,
    sim: Option<RunningSimulator>,
    live: Option<LiveSettings>,
    /// Every exchange that reached the target.
    pub recorder: Recorder,
    counter: AtomicU64,
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

impl Harness {
    /// The in-process simulator: frozen clock at 2025-01-01T12:00:00Z, rate limits off.
    pub fn simulator() -> Harness {
        let runtime = runtime();
        let (sim, recorder) = runtime.block_on(async {
            let sim = Simulator::builder()
                .clock(Clock::fixed(Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap()))
                .rate_limits(RateLimits::off())
                .start()
                .await
                .expect("simulator starts");
            let recorder = Recorder::start(sim.base_url()).await;
            (sim, recorder)
        });
        Harness { runtime, sim: Some(sim), live: None, recorder, counter: AtomicU64::new(0) }
    }

    /// The Vipps test environment (the spec's `test` server), behind the recorder.
    pub fn live(settings: LiveSettings) -> Harness {
        let runtime = runtime();
        let upstream = Client::builder()
            .environment(Environment::Test)
            .client_id(&settings.client_id)
            .client_secret(settings.client_secret.as_str())
            .subscription_key(settings.subscription_key.as_str())
            .merchant_serial_number(&settings.msn)
            .build()
            .expect("live client settings")
            .config()
            .base_urls()["epayment"]
            .clone();
        let origin = upstream.trim_end_matches("/epayment").to_string();
        let recorder = runtime.block_on(Recorder::start(&origin));
        Harness { runtime, sim: None, live: Some(settings), recorder, counter: AtomicU64::new(0) }
    }

    /// Whether this is the Vipps test environment.
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// The simulator's controls (clock, user actions, faults); panics on the live target.
    pub fn sim(&self) -> &RunningSimulator {
        self.sim.as_ref().expect("simulator-only step run against the live target")
    }

    /// Runs a future on the harness's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// A merchant serial number no earlier case used (simulator), so every case starts from an
    /// empty merchant; the configured one on the live target.
    pub fn fresh_msn(&self) -> String {
        match &self.live {
            Some(live) => live.msn.clone(),
            None => (1_000_000 + self.next()).to_string(),
        }
    }

    /// A reference no earlier call used (unique across runs on the live target).
    pub fn fresh_reference(&self, tag: &str) -> Reference {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        Reference::new(format!("{tag}-{}-{}", self.next(), &unique[..12])).expect("fresh references are valid")
    }

    /// A client of merchant `msn` through the recorder.
    pub fn client_for(&self, msn: &str) -> Client {
        let builder = Client::builder().base_url(self.recorder.url()).retry_policy(retry_policy(self.is_live()));
        let builder = match &self.live {
            Some(live) => builder
                .client_id(&live.client_id)
                .client_secret(live.client_secret.as_str())
                .subscription_key(live.subscription_key.as_str())
                .merchant_serial_number(msn),
            None => builder
                .client_id(SIM_CLIENT_ID)
                .client_secret(SIM_CLIENT_SECRET)
                .subscription_key(SIM_SUBSCRIPTION_KEY)
                .merchant_serial_number(msn),
        };
        builder.build().expect("client settings")
    }

    /// A client of a fresh merchant (simulator) or the configured one (live), and its MSN.
    pub fn client(&self) -> (Client, String) {
        let msn = self.fresh_msn();
        (self.client_for(&msn), msn)
    }

    /// Waits between calls on the live target (its rate limits are real); nothing on the
    /// simulator.
    pub async fn pace(&self) {
        if self.is_live() {
            tokio::time::sleep(Duration::from_millis(1200)).await;
        }
    }

    /// The customer force-approve approves for on the live target (the test phone number).
    pub fn test_customer(&self) -> Option<Customer> {
        let live = self.live.as_ref()?;
        let phone = CustomerPhoneNumber::default()
            .with_phone_number(live.phone.as_str())
            .expect("VIPPS_TEST_PHONE is a valid phone number");
        Some(Customer::CustomerPhoneNumber(phone))
    }
}
