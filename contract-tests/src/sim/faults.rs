//! Fault injection for client tests: delays, injected 423/429/503 answers, and dropping the
//! connection after a change is committed.
//!
//! Faults are set per run ([`FaultRule`]s, optionally limited to an operation, a reference and a
//! number of requests) or per request with the `X-Epayment-Sim-Fault` header. Both use the same
//! text form: `drop-after-commit`, `delay-ms=250`, `status=503`, `status=429;retry-after=2`;
//! the header takes a comma-separated list.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use super::operation::Operation;

/// The per-request fault header.
pub const FAULT_HEADER: &str = "X-Epayment-Sim-Fault";

/// One fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Do the work and commit it, then close the connection without answering.
    DropAfterCommit,
    /// Wait this long (real time) before handling the request.
    Delay(Duration),
    /// Answer this status with a Problem body before doing anything; 423 and 429 carry
    /// `Retry-After` (1 second unless given).
    Status {
        /// HTTP status to answer.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
}

impl Fault {
    /// Answers 423 Locked with `Retry-After`.
    pub fn locked(retry_after: u64) -> Self {
        Fault::Status { status: 423, retry_after: Some(retry_after) }
    }

    /// Answers 429 Too Many Requests with `Retry-After`.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Fault::Status { status: 429, retry_after: Some(retry_after) }
    }

    /// Answers 503 Service Unavailable.
    pub fn unavailable() -> Self {
        Fault::Status { status: 503, retry_after: None }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::DropAfterCommit => f.write_str("drop-after-commit"),
            Fault::Delay(delay) => write!(f, "delay-ms={}", delay.as_millis()),
            Fault::Status { status, retry_after: None } => write!(f, "status={status}"),
            Fault::Status { status, retry_after: Some(seconds) } => {
                write!(f, "status={status};retry-after={seconds}")
            }
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text == "drop-after-commit" {
            return Ok(Fault::DropAfterCommit);
        }
        if let Some(ms) = text.strip_prefix("delay-ms=") {
            let ms: u64 = ms.parse().map_err(|_| format!("bad delay in fault `{text}`"))?;
            return Ok(Fault::Delay(Duration::from_millis(ms)));
        }
        if let Some(rest) = text.strip_prefix("status=") {
            let mut parts = rest.split(';');
            let status: u16 = parts
                .next()
                .unwrap_or("")
                .trim()
                .parse()
                .ok()
                .filter(|status| (400..600).contains(status))
                .ok_or_else(|| format!("bad status in fault `{text}` (expected 400..599)"))?;
            let mut retry_after = None;
            for part in parts {
                let seconds = part
                    .trim()
                    .strip_prefix("retry-after=")
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("bad option `{part}` in fault `{text}`"))?;
                retry_after = Some(seconds);
            }
            if retry_after.is_none() && matches!(status, 423 | 429) {
                retry_after = Some(1);
            }
            return Ok(Fault::Status { status, retry_after });
        }
        Err(format!(
            "unknown fault `{text}`; expected drop-after-commit, delay-ms=N or status=N[;retry-after=S]"
        ))
    }
}

/// Parses the value of the `X-Epayment-Sim-Fault` header.
pub fn parse_fault_list(text: &str) -> Result<Vec<Fault>, String> {
    text.split(',').filter(|part| !part.trim().is_empty()).map(str::parse).collect()
}

/// A fault for the requests it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// What to do.
    pub fault: Fault,
    /// Only this operation (any when `None`).
    pub operation: Option<Operation>,
    /// Only this payment reference (any when `None`).
    pub reference: Option<String>,
    /// Only the next this many matching requests (all when `None`).
    pub times: Option<u32>,
}

impl FaultRule {
    /// `fault` for every request until cleared.
    pub fn new(fault: Fault) -> Self {
        Self { fault, operation: None, reference: None, times: None }
    }

    /// Only for `operation`.
    pub fn on(mut self, operation: Operation) -> Self {
        self.operation = Some(operation);
        self
    }

    /// Only for the payment `reference`.
    pub fn for_reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Only for the next `times` matching requests (e.g. 503 the first N times).
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    fn matches(&self, operation: Operation, reference: Option<&str>) -> bool {
        self.operation.is_none_or(|op| op == operation)
            && self.reference.as_deref().is_none_or(|r| Some(r) == reference)
    }
}

/// The active rules.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    /// Adds a rule.
    pub fn add(&self, rule: FaultRule) {
        self.rules.lock().expect("fault lock poisoned").push(rule);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.lock().expect("fault lock poisoned").clear();
    }

    /// The faults for one request, using up one of each matching rule's `times`.
    pub fn take(&self, operation: Operation, reference: Option<&str>) -> Vec<Fault> {
        let mut rules = self.rules.lock().expect("fault lock poisoned");
        if rules.is_empty() {
            return Vec::new();
        }
        let mut taken = Vec::new();
        rules.retain_mut(|rule| {
            if !rule.matches(operation, reference) {
                return true;
            }
            taken.push(rule.fault.clone());
            match &mut rule.times {
                None => true,
                Some(left) => {
                    *left = left.saturating_sub(1);
                    *left > 0
                }
            }
        });
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_text_round_trips() {
        for text in ["drop-after-commit", "delay-ms=250", "status=503", "status=429;retry-after=2"] {
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!("status=423".parse::<Fault>().unwrap(), Fault::locked(1));
        assert!("status=200".parse::<Fault>().is_err());
        assert!("explode".parse::<Fault>().is_err());
    }

    #[test]
    fn rules_with_times_run_out() {
        let faults = Faults::default();
        faults.add(FaultRule::new(Fault::unavailable()).on(Operation::Capture).times(2));
        assert!(faults.take(Operation::Get, None).is_empty());
        assert_eq!(faults.take(Operation::Capture, Some("ref-00001")).len(), 1);
        assert_eq!(faults.take(Operation::Capture, Some("ref-00001")).len(), 1);
        assert!(faults.take(Operation::Capture, Some("ref-00001")).is_empty());
    }
}
