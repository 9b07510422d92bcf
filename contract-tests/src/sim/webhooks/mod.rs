//! Webhooks (rules W1, W2, I10): registration, and at-least-once delivery of every payment
//! event to the loopback URLs subscribed to it.
//!
//! - Registration: the Webhooks API's calls (`/webhooks/v1/webhooks`, see [`routes`]) or
//!   [`Controls::register_webhook`](super::Controls::register_webhook). Only `http` URLs on
//!   loopback (`127.0.0.0/8`, `[::1]`, `localhost`) are accepted: the simulator never sends
//!   traffic anywhere else.
//! - Events: each payment event (CREATED, AUTHORIZED, ABORTED, EXPIRED, CANCELLED, CAPTURED,
//!   REFUNDED, TERMINATED) is sent as the spec's `WebhookEvent` to every webhook of the
//!   payment's merchant subscribed to `epayments.payment.<event>.v1` (rule W1).
//! - Delivery: one tokio task per (webhook, event), started after the ledger lock is released;
//!   non-2xx answers and connection errors are retried with doubling backoff, within
//!   [`WebhookRetry`]'s bounds (at least once, rule I10). Order between events is not
//!   guaranteed. [`Controls::duplicate_webhook_deliveries`](super::Controls::duplicate_webhook_deliveries)
//!   sends events twice, so receivers can test deduplication by `pspReference`.
//! - Signing: see [`signing`] (rule W2).

pub mod routes;
pub mod signing;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Bytes;
use tokio::runtime::Handle;
use tokio::sync::watch;
use vipps_epayment::epayment::{Msn, PaymentEvent, PaymentEventName, WebhookEvent};

use super::clock::Clock;

pub use self::signing::{WebhookSignatureError, sign, verify_webhook_signature};

/// At most this many webhooks per merchant serial number and event (as the Webhooks API says).
pub const MAX_WEBHOOKS_PER_EVENT: usize = 25;

/// The webhook event name of a payment event (rule W1): `epayments.payment.<event>.v1`.
pub fn event_type(name: &PaymentEventName) -> String {
    format!("epayments.payment.{}.v1", name.as_str().to_ascii_lowercase())
}

/// Every ePayment webhook event name the simulator sends.
pub fn event_types() -> Vec<String> {
    PaymentEventName::KNOWN.iter().map(event_type).collect()
}

/// One registered webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its id (a UUID).
    pub id: String,
    /// The merchant serial number it was registered for.
    pub msn: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event names it is subscribed to.
    pub events: Vec<String>,
    secret: String,
    target: Target,
}

/// Where a webhook request goes, taken apart at registration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// The URL to send to (with `localhost` already pinned to 127.0.0.1).
    send_url: String,
    /// The `Host` header (and signed host): the URL's authority.
    host: String,
    /// Path and query, as signed.
    path_and_query: String,
}

/// A refused registration (answered with 400 over HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidWebhook {
    /// The offending field: `url` or `events`.
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for InvalidWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for InvalidWebhook {}

fn invalid(field: &'static str, reason: impl Into<String>) -> InvalidWebhook {
    InvalidWebhook { field, reason: reason.into() }
}

/// Checks a webhook URL: `http`, a loopback host, no user info. Returns where to send.
fn loopback_target(url: &str) -> Result<Target, InvalidWebhook> {
    let parsed = reqwest::Url::parse(url).map_err(|error| invalid("url", format!("not a valid URL: {error}")))?;
    if parsed.scheme() != "http" {
        return Err(invalid(
            "url",
            "the simulator delivers over plain http to loopback only (use http://127.0.0.1:PORT/...)",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("url", "user info is not allowed"));
    }
    let host_text = parsed.host_str().unwrap_or_default();
    let is_domain = host_text.parse::<IpAddr>().is_err() && !host_text.starts_with('[');
    let loopback = if is_domain {
        host_text.eq_ignore_ascii_case("localhost")
    } else {
        host_text
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    };
    if !loopback {
        return Err(invalid(
            "url",
            "only loopback targets are allowed (127.0.0.0/8, [::1], localhost): the simulator never sends traffic elsewhere",
        ));
    }
    let host = match parsed.port() {
        Some(port) => format!("{host_text}:{port}"),
        None => host_text.to_string(),
    };
    let path_and_query = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let mut send = parsed.clone();
    send.set_fragment(None);
    if is_domain {
        send.set_ip_host(IpAddr::V4(Ipv4Addr::LOCALHOST)).expect("http URLs take IP hosts");
    }
    Ok(Target { send_url: send.to_string(), host, path_and_query })
}

/// How webhook deliveries are retried (at least once, rule I10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookRetry {
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles after each failure.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// No attempt starts later than this after the first.
    pub max_elapsed: Duration,
    /// Timeout of one attempt (connect, send, read the status).
    pub attempt_timeout: Duration,
}

impl Default for WebhookRetry {
    /// 6 attempts, 100 ms backoff doubling to 2 s, 30 s in all, 5 s per attempt.
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

/// A payment event to announce, with what the payload needs besides the event itself.
#[derive(Debug, Clone)]
pub struct Announcement {
    /// The payment's merchant serial number.
    pub msn: String,
    /// The event as logged.
    pub event: PaymentEvent,
    /// The payment's `sub`, once authorized with a profile scope.
    pub sub: Option<String>,
}

/// The webhook registry and sender of one simulator.
#[derive(Debug)]
pub struct Webhooks {
    registry: Mutex<Vec<Webhook>>,
    /// Events still to be delivered twice (`u32::MAX`: every event).
    duplicates: Mutex<u32>,
    retry: WebhookRetry,
    clock: Clock,
    runtime: Handle,
    http: reqwest::Client,
    shutdown: watch::Receiver<bool>,
}

impl Webhooks {
    /// A registry that sends on `runtime` until `shutdown` turns true.
    pub fn new(retry: WebhookRetry, clock: Clock, runtime: Handle, shutdown: watch::Receiver<bool>) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(retry.attempt_timeout)
            .build()
            .expect("the webhook HTTP client builds");
        Self {
            registry: Mutex::new(Vec::new()),
            duplicates: Mutex::new(0),
            retry,
            clock,
            runtime,
            http,
            shutdown,
        }
    }

    /// Registers a webhook for `msn`; returns `(id, secret)`. The secret is given only here
    /// (rule W2).
    pub fn register(&self, msn: &str, url: &str, events: &[String]) -> Result<(String, String), InvalidWebhook> {
        let target = loopback_target(url)?;
        if events.is_empty() {
            return Err(invalid("events", "at least one event name is required"));
        }
        let known = event_types();
        for event in events {
            if event.trim().is_empty() {
                return Err(invalid("events", "event names must not be empty"));
            }
            if event.starts_with("epayments.") && !known.contains(event) {
                return Err(invalid(
                    "events",
                    format!("unknown ePayment event `{event}`; expected one of {}", known.join(", ")),
                ));
            }
        }
        let mut unique: Vec<String> = Vec::new();
        for event in events {
            if !unique.contains(event) {
                unique.push(event.clone());
            }
        }
        let events = unique;
        let mut registry = self.registry.lock().expect("webhook lock poisoned");
        for event in &events {
            let taken = registry.iter().filter(|hook| hook.msn == msn && hook.events.contains(event)).count();
            if taken >= MAX_WEBHOOKS_PER_EVENT {
                return Err(invalid(
                    "events",
                    format!("at most {MAX_WEBHOOKS_PER_EVENT} webhooks per event; `{event}` has that many"),
                ));
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let secret = uuid::Uuid::new_v4().to_string();
        registry.push(Webhook {
            id: id.clone(),
            msn: msn.to_string(),
            url: url.to_string(),
            events,
            secret: secret.clone(),
            target,
        });
        Ok((id, secret))
    }

    /// The webhooks of `msn`, in registration order (without their secrets).
    pub fn list(&self, msn: &str) -> Vec<Webhook> {
        let registry = self.registry.lock().expect("webhook lock poisoned");
        registry.iter().filter(|hook| hook.msn == msn).cloned().collect()
    }

    /// Deletes the webhook `id` of `msn`; `false` when there is none.
    pub fn delete(&self, msn: &str, id: &str) -> bool {
        let mut registry = self.registry.lock().expect("webhook lock poisoned");
        let before = registry.len();
        registry.retain(|hook| !(hook.msn == msn && hook.id == id));
        registry.len() != before
    }

    /// Delivers each of the next `events` events twice (`u32::MAX`: every event until set to 0).
    pub fn set_duplicates(&self, events: u32) {
        *self.duplicates.lock().expect("webhook lock poisoned") = events;
    }

    fn copies(&self) -> usize {
        let mut left = self.duplicates.lock().expect("webhook lock poisoned");
        match *left {
            0 => 1,
            u32::MAX => 2,
            _ => {
                *left -= 1;
                2
            }
        }
    }

    /// Sends `announcements` to their subscribers in the background; returns at once. Call it
    /// with no lock held.
    pub fn announce(&self, announcements: Vec<Announcement>) {
        if announcements.is_empty() {
            return;
        }
        let registry = self.registry.lock().expect("webhook lock poisoned");
        if registry.is_empty() {
            return;
        }
        let mut sends = Vec::new();
        for announcement in announcements {
            let name = event_type(&announcement.event.name);
            let targets: Vec<(String, Target)> = registry
                .iter()
                .filter(|hook| hook.msn == announcement.msn && hook.events.contains(&name))
                .map(|hook| (hook.secret.clone(), hook.target.clone()))
                .collect();
            if targets.is_empty() {
                continue;
            }
            let Some(body) = payload(&announcement) else { continue };
            sends.push((body, targets));
        }
        drop(registry);
        for (body, targets) in sends {
            let copies = self.copies();
            for (secret, target) in targets {
                for _ in 0..copies {
                    let delivery = Delivery {
                        http: self.http.clone(),
                        clock: self.clock.clone(),
                        retry: self.retry,
                        shutdown: self.shutdown.clone(),
                        secret: secret.clone(),
                        target: target.clone(),
                        body: body.clone(),
                    };
                    self.runtime.spawn(delivery.run());
                }
            }
        }
    }
}

/// The `WebhookEvent` body of an event (generated type).
fn payload(announcement: &Announcement) -> Option<Bytes> {
    let event = &announcement.event;
    let mut webhook = WebhookEvent::new(
        Msn::new(&announcement.msn).ok()?,
        event.reference.clone(),
        event.psp_reference.clone(),
        event.name.clone(),
        event.amount.clone(),
        event.timestamp,
        event.success,
    );
    webhook.idempotency_key = event.idempotency_key.as_ref().map(|key| key.as_str().to_string());
    webhook.sub = announcement.sub.clone();
    Some(Bytes::from(serde_json::to_vec(&webhook).expect("generated model types serialize")))
}

/// One event on its way to one webhook.
struct Delivery {
    http: reqwest::Client,
    clock: Clock,
    retry: WebhookRetry,
    shutdown: watch::Receiver<bool>,
    secret: String,
    target: Target,
    body: Bytes,
}

impl Delivery {
    async fn attempt(&self) -> bool {
        let date = signing::http_date(self.clock.now());
        let mut request = self.http.post(&self.target.send_url).header("content-type", "application/json");
        for (name, value) in sign(&self.secret, &self.target.path_and_query, &self.target.host, &date, &self.body) {
            request = request.header(name, value);
        }
        match request.body(self.body.clone()).send().await {
            Ok(response) => response.status().is_success(),
            Err(_) => false,
        }
    }

    async fn run(mut self) {
        let started = tokio::time::Instant::now();
        let mut backoff = self.retry.initial_backoff;
        for attempt in 1..=self.retry.max_attempts.max(1) {
            if *self.shutdown.borrow() {
                return;
            }
            if self.attempt().await {
                return;
            }
            if attempt == self.retry.max_attempts || started.elapsed() + backoff > self.retry.max_elapsed {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = self.shutdown.changed() => return,
            }
            backoff = (backoff * 2).min(self.retry.max_backoff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_follow_w1() {
        assert_eq!(event_type(&PaymentEventName::Captured), "epayments.payment.captured.v1");
        assert_eq!(event_types().len(), 8);
    }

    #[test]
    fn only_loopback_http_targets() {
        let target = loopback_target("http://127.0.0.1:9000/hook?shop=1#x").unwrap();
        assert_eq!(target.host, "127.0.0.1:9000");
        assert_eq!(target.path_and_query, "/hook?shop=1");
        let local = loopback_target("http://localhost:9000/hook").unwrap();
        assert_eq!(local.host, "localhost:9000");
        assert_eq!(local.send_url, "http://127.0.0.1:9000/hook");
        assert!(loopback_target("http://[::1]:9000/").is_ok());
        for refused in [
            "http://example.org/hook",
            "http://10.0.0.1/hook",
            "https://127.0.0.1/hook",
            "http://user:pw@127.0.0.1/hook",
            "http://localhost.example.org/hook",
            "not a url",
        ] {
            assert!(loopback_target(refused).is_err(), "{refused}");
        }
    }
}
