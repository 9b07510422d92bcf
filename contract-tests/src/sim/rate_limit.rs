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

/// How many windows are kept before the ones whose last request is older than the window are
/// dropped, so a long run over many references stays bounded in memory.
const MAX_TRACKED_WINDOWS: usize = 100_000;

/// Counts requests in sliding windows.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    windows: Mutex<HashMap<WindowKey, VecDeque<DateTime<Utc>>>>,
    max_tracked: usize,
}

impl RateLimiter {
    /// A limiter with these budgets.
    pub fn new(limits: RateLimits) -> Self {
        Self::with_capacity(limits, MAX_TRACKED_WINDOWS)
    }

    fn with_capacity(limits: RateLimits, max_tracked: usize) -> Self {
        Self {
            limits,
            windows: Mutex::new(HashMap::new()),
            max_tracked,
        }
    }

    /// How many windows are kept now.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.windows.lock().expect("rate-limit lock poisoned").len()
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
        if windows.len() > self.max_tracked {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).expect("valid time")
    }

    #[test]
    fn stale_windows_are_dropped_past_the_cap_and_live_ones_kept() {
        let limiter = RateLimiter::with_capacity(RateLimits::documented(), 2);
        for (n, reference) in ["ref-a", "ref-b", "ref-c"].iter().enumerate() {
            limiter.check(Operation::Get, "123456", reference, at(n as i64)).expect("under budget");
        }
        assert_eq!(limiter.tracked(), 3, "at most the cap is kept before pruning starts");
        // 61 s after ref-a and 60 s after ref-b: both windows are over; ref-c's (59 s) is not.
        limiter.check(Operation::Get, "123456", "ref-d", at(61)).expect("under budget");
        assert_eq!(limiter.tracked(), 2, "ref-c and ref-d remain");
        // ref-c's window survived: its request still counts.
        let limiter_budget = RateLimits::per_minute(5, 2);
        let tight = RateLimiter::with_capacity(limiter_budget, 1);
        tight.check(Operation::Get, "123456", "ref-x", at(0)).expect("first");
        tight.check(Operation::Get, "123456", "ref-y", at(30)).expect("other reference");
        tight.check(Operation::Get, "123456", "ref-x", at(59)).expect("second of two");
        let refused = tight.check(Operation::Get, "123456", "ref-x", at(59));
        assert!(refused.is_err(), "ref-x's window was kept through the pruning, so its budget is spent");
    }

    #[test]
    fn no_pruning_at_or_below_the_cap() {
        let limiter = RateLimiter::with_capacity(RateLimits::documented(), 2);
        limiter.check(Operation::Get, "123456", "ref-a", at(0)).expect("first");
        limiter.check(Operation::Get, "123456", "ref-b", at(120)).expect("second");
        // Two windows, cap two: ref-a's is stale but kept until the cap is passed.
        assert_eq!(limiter.tracked(), 2);
        limiter.check(Operation::Get, "123456", "ref-c", at(121)).expect("third");
        assert_eq!(limiter.tracked(), 3, "pruning starts only when more than the cap are kept");
    }
}
