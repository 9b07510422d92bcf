//! The polling cadence (rule S15): a first call after about 5 s and then one every 2 s (the
//! documented cadence), or a cadence set for tests. The SDK's own waits read it from the
//! client's configuration.

use std::time::Duration;

/// When get payment is called while waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPolicy {
    /// Wait before the first call (documented: about 5 s).
    pub initial_delay: Duration,
    /// Wait between calls (documented: 2 s).
    pub interval: Duration,
    /// Give up after this long (default 11 minutes: the user has 10, rule S11).
    pub timeout: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self { initial_delay: Duration::from_secs(5), interval: Duration::from_secs(2), timeout: Duration::from_secs(11 * 60) }
    }
}
