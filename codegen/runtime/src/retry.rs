//! Retry policy (rule I8): which outcomes are retried, how long to wait (exponential backoff with
//! jitter, `Retry-After` honoured), and the caps on attempts and on total time. Only safe
//! requests are retried: GET, or a request carrying an idempotency key.

use std::time::{Duration, SystemTime};

/// How failed attempts are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles per retry.
    pub initial_backoff: Duration,
    /// Cap of one backoff.
    pub max_backoff: Duration,
    /// Cap of the time from the first attempt until a retry would start: a retry that would
    /// start later is not made, and the last outcome is returned.
    pub max_elapsed: Duration,
    /// The longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 250 ms doubling up to 4 s, 30 s in all, `Retry-After` up to 20 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            max_elapsed: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The backoff before retry number `retry` (1-based): `initial * 2^(retry-1)`, capped, with
    /// "equal jitter" (a random point in its upper half) so clients do not retry in step.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(16);
        let base = self.initial_backoff.saturating_mul(1u32 << exponent).min(self.max_backoff);
        let jitter: f64 = rand::random();
        base / 2 + base.mul_f64(jitter / 2.0)
    }

    /// The wait before retry number `retry`, or None when the policy allows no such retry.
    /// `elapsed` is the time since the first attempt started.
    pub(crate) fn delay(&self, retry: u32, elapsed: Duration, retry_after: Option<Duration>) -> Option<Duration> {
        if retry >= self.max_attempts {
            return None;
        }
        let delay = match retry_after {
            Some(wait) if wait > self.max_retry_after => return None,
            Some(wait) => wait,
            None => self.backoff(retry),
        };
        (elapsed + delay <= self.max_elapsed).then_some(delay)
    }
}

/// Statuses worth another attempt: 423 (locked, concurrent processing), 429 (rate limited) and
/// every 5xx.
pub(crate) fn retryable_status(status: u16) -> bool {
    status == 423 || status == 429 || (500..=599).contains(&status)
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(date.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_elapsed: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = policy();
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100), "{first:?}");
            let second = policy.backoff(2);
            assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200), "{second:?}");
            let capped = policy.backoff(9);
            assert!(capped >= Duration::from_millis(150) && capped <= Duration::from_millis(300), "{capped:?}");
        }
    }

    #[test]
    fn attempts_total_time_and_retry_after_are_capped() {
        let policy = policy();
        assert!(policy.delay(3, Duration::ZERO, None).is_some());
        assert!(policy.delay(4, Duration::ZERO, None).is_none(), "4 attempts means 3 retries");
        assert!(policy.delay(1, Duration::from_millis(1990), None).is_none(), "past max_elapsed");
        assert_eq!(policy.delay(1, Duration::ZERO, Some(Duration::from_millis(700))), Some(Duration::from_millis(700)));
        assert!(policy.delay(1, Duration::ZERO, Some(Duration::from_secs(5))).is_none(), "over max_retry_after");
    }

    #[test]
    fn a_retry_after_is_honoured_up_to_its_cap_whatever_time_is_left() {
        // Time to spare, so only max_retry_after decides.
        let policy = RetryPolicy { max_elapsed: Duration::from_secs(60), ..policy() };
        assert_eq!(policy.delay(1, Duration::ZERO, Some(Duration::from_secs(1))), Some(Duration::from_secs(1)), "at the cap: waited");
        assert_eq!(policy.delay(1, Duration::ZERO, Some(Duration::from_millis(1001))), None, "beyond the cap: no retry");
        assert_eq!(policy.delay(1, Duration::ZERO, Some(Duration::ZERO)), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn only_locked_rate_limited_and_server_errors_are_retryable() {
        for status in [423, 429, 500, 502, 503, 504] {
            assert!(retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(!retryable_status(status), "{status}");
        }
    }
}
