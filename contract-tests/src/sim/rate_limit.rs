//! Rate limits (rule S13): create, capture, cancel and refund 5 per minute, get and the event
//! log 120 per minute, each per operation, merchant serial number and reference.
//!
//! Sliding one-minute windows on the simulator's clock; over the budget answers 429 with
//! `Retry-After` (whole seconds until a slot frees).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::operation::Operation;
use super::reply::Refusal;

/// Budgets per minute; `None` turns a budget off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Create, capture, cancel and refund: requests per minute per reference and MSN.
    pub modifications_per_minute: Option<u32>,
    /// Get and event log: requests per minute per reference and MSN.
    pub reads_per_minute: Option<u32>,
}

impl RateLimits {
    /// The documented budgets: 5 and 120 per minute.
    pub const fn documented() -> Self {
        Self {
            modifications_per_minute: Some(5),
            reads_per_minute: Some(120),
        }
    }

    /// No limits.
    pub const fn off() -> Self {
        Self {
            modifications_per_minute: None,
            reads_per_minute: None,
        }
    }

    /// Other budgets.
    pub const fn per_minute(modifications: u32, reads: u32) -> Self {
        Self {
            modifications_per_minute: Some(modifications),
            reads_per_minute: Some(reads),
        }
    }

    fn budget(&self, operation: Operation) -> Option<u32> {
        if operation.is_modification() {
            self.modifications_per_minute
        } else if operation.is_read() {
            self.reads_per_minute
        } else {
            None
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::documented()
    }
}

type WindowKey = (Operation, String, String);

/// Counts requests in sliding windows.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    windows: Mutex<HashMap<WindowKey, VecDeque<DateTime<Utc>>>>,
}

impl RateLimiter {
    /// A limiter with these budgets.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request, or refuses it with 429 when the window is full.
    pub fn check(
        &self,
        operation: Operation,
        msn: &str,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let Some(budget) = self.limits.budget(operation) else {
            return Ok(());
        };
        let window = Duration::minutes(1);
        let mut windows = self.windows.lock().expect("rate-limit lock poisoned");
        if windows.len() > 100_000 {
            windows.retain(|_, times| times.back().is_some_and(|at| *at + window > now));
        }
        let times = windows
            .entry((operation, msn.to_string(), reference.to_string()))
            .or_default();
        while times.front().is_some_and(|at| *at + window <= now) {
            times.pop_front();
        }
        if times.len() >= budget as usize {
            let oldest = *times.front().expect("a full window has entries");
            let wait_ms = (oldest + window - now).num_milliseconds().max(1);
            let retry_after = u64::try_from(wait_ms).unwrap_or(1).div_ceil(1000);
            return Err(Refusal::rate_limited(
                format!(
                    "{operation} is limited to {budget} requests per minute per reference and merchant serial number (rule S13)"
                ),
                retry_after,
            ));
        }
        times.push_back(now);
        Ok(())
    }
}
