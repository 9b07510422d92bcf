//! The ePayment simulator: a local, stateful stand-in for the Vipps MobilePay ePayment API that
//! follows the project's rulebook (`shared/epayment-rules.md`).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use vipps_contract_tests::sim::{RateLimits, Simulator};
//!
//! let sim = Simulator::builder().rate_limits(RateLimits::off()).start().await?;
//! println!("base URL: {}", sim.base_url()); // the host root; ePayment lives under /epayment
//! // ... create a payment over HTTP, then act as the user:
//! sim.approve("order-000001").ok();
//! sim.advance_clock(std::time::Duration::from_secs(600));
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Code map: [`routes`] (paths and the request pipeline), [`auth`], [`validation`],
//! [`idempotency`], [`rate_limit`], [`clock`], [`faults`], [`state`] (payments and their
//! transitions), [`controls`] and [`control_routes`] (test controls), [`webhooks`] (registration,
//! signed at-least-once delivery), [`server`] (connections).

pub mod auth;
pub mod clock;
pub mod control_routes;
pub mod controls;
pub mod faults;
pub mod idempotency;
pub mod operation;
pub mod rate_limit;
pub mod reply;
pub mod routes;
pub mod server;
pub mod state;
pub mod validation;
pub mod webhooks;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use self::auth::{Credentials, MerchantCredentials};
pub use self::clock::Clock;
pub use self::controls::Controls;
pub use self::faults::{FAULT_HEADER, Fault, FaultRule};
pub use self::operation::Operation;
pub use self::rate_limit::RateLimits;
pub use self::state::ControlError;
pub use self::webhooks::{
    InvalidWebhook, Webhook, WebhookRetry, WebhookSignatureError, verify_webhook_signature,
};

use self::auth::Auth;
use self::faults::Faults;
use self::rate_limit::RateLimiter;
use self::reply::Refusal;
use self::state::Ledger;
use self::webhooks::Webhooks;

/// Everything the request handlers share.
#[derive(Debug)]
pub struct Shared {
    clock: Clock,
    auth: Auth,
    limiter: RateLimiter,
    faults: Faults,
    ledger: Mutex<Ledger>,
    force_approve: bool,
    webhooks: Webhooks,
}

/// Entry point: [`Simulator::builder`].
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// A builder with the defaults: wall clock, documented rate limits, any credentials,
    /// force-approve on (test environment), an ephemeral port on 127.0.0.1.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }
}

/// Settings of a simulator to start.
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    clock: Clock,
    rate_limits: RateLimits,
    credentials: Credentials,
    force_approve: bool,
    address: SocketAddr,
    webhook_retry: WebhookRetry,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            rate_limits: RateLimits::documented(),
            credentials: Credentials::Any,
            force_approve: true,
            address: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            webhook_retry: WebhookRetry::default(),
        }
    }
}

impl SimulatorBuilder {
    /// The clock to use (share a [`Clock`] to move time from outside).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Rate-limit budgets (rule S13); [`RateLimits::off`] for tests that hammer one payment.
    pub fn rate_limits(mut self, rate_limits: RateLimits) -> Self {
        self.rate_limits = rate_limits;
        self
    }

    /// Which credentials the access-token call accepts.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Whether force-approve works (test environment) or is refused with 403 as in production
    /// (rule S14).
    pub fn force_approve(mut self, enabled: bool) -> Self {
        self.force_approve = enabled;
        self
    }

    /// Where to listen; default `127.0.0.1:0` (an ephemeral loopback port).
    pub fn address(mut self, address: SocketAddr) -> Self {
        self.address = address;
        self
    }

    /// How webhook deliveries are retried (default: [`WebhookRetry::default`]).
    pub fn webhook_retry(mut self, retry: WebhookRetry) -> Self {
        self.webhook_retry = retry;
        self
    }

    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<RunningSimulator> {
        let listener = TcpListener::bind(self.address).await?;
        let local_addr = listener.local_addr()?;
        let base_url = format!("http://{local_addr}");
        let (shutdown, shutdown_rx) = watch::channel(false);
        let webhooks = Webhooks::new(
            self.webhook_retry,
            self.clock.clone(),
            tokio::runtime::Handle::current(),
            shutdown_rx.clone(),
        );
        let shared = Arc::new(Shared {
            clock: self.clock,
            auth: Auth::new(self.credentials),
            limiter: RateLimiter::new(self.rate_limits),
            faults: Faults::default(),
            ledger: Mutex::new(Ledger::new(base_url.clone())),
            force_approve: self.force_approve,
            webhooks,
        });
        let router = routes::router()
            .merge(control_routes::router())
            .merge(webhooks::routes::router())
            .fallback(|| async { Refusal::no_route().into_reply().into_response() })
            .with_state(shared.clone());
        let task = tokio::spawn(server::serve(listener, router, shutdown_rx));
        Ok(RunningSimulator {
            base_url,
            local_addr,
            controls: Controls::new(shared),
            shutdown,
            task: Some(task),
        })
    }
}

/// A simulator serving on loopback. Dereferences to its [`Controls`]; dropping it stops the
/// server (use [`RunningSimulator::shutdown`] to wait for that).
#[derive(Debug)]
pub struct RunningSimulator {
    base_url: String,
    local_addr: SocketAddr,
    controls: Controls,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RunningSimulator {
    /// The base URL for clients: the host root, e.g. `http://127.0.0.1:41234` (ePayment paths
    /// are under `/epayment`, the token under `/accesstoken/get`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A clonable handle on the test controls.
    pub fn controls(&self) -> Controls {
        self.controls.clone()
    }

    /// Stops accepting, lets open requests finish (up to a few seconds) and waits.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl std::ops::Deref for RunningSimulator {
    type Target = Controls;

    fn deref(&self) -> &Controls {
        &self.controls
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
