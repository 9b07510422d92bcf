//! The simulator's clock: wall time or a fixed start, plus an offset that tests advance.
//!
//! Every time-dependent rule (expiry, token lifetime, rate-limit windows, the 180/365-day limits)
//! reads this clock, so tests move time forward instead of sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A clock shared by the simulator and its controls; clones see the same time.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    base: Base,
    offset: Mutex<Duration>,
}

#[derive(Debug, Clone, Copy)]
enum Base {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// Wall-clock time (plus whatever the clock has been advanced by).
    pub fn system() -> Self {
        Self::with_base(Base::System)
    }

    /// A frozen clock that starts at `start` and moves only when advanced.
    pub fn fixed(start: DateTime<Utc>) -> Self {
        Self::with_base(Base::Fixed(start))
    }

    fn with_base(base: Base) -> Self {
        Self {
            inner: Arc::new(ClockInner {
                base,
                offset: Mutex::new(Duration::zero()),
            }),
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> DateTime<Utc> {
        let offset = *self.inner.offset.lock().expect("clock lock poisoned");
        let base = match self.inner.base {
            Base::System => Utc::now(),
            Base::Fixed(start) => start,
        };
        base + offset
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let by = Duration::from_std(by).expect("clock advance fits in chrono::Duration");
        let mut offset = self.inner.offset.lock().expect("clock lock poisoned");
        *offset += by;
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}
