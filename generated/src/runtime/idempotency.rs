//! Idempotency keys (rules I1-I4): the per-call options that carry a caller's key, the result
//! that hands the key back, fresh keys, and the bounded record of keys already sent, which
//! refuses a key reused with another request before it reaches the server.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use super::operation::CallOptions;

/// Per-call settings of an operation that declares an idempotency key.
///
/// `K` is the key header's generated type (for ePayment `epayment::IdempotencyKey`, which checks
/// the spec's 50-character limit when it is made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentOptions<K> {
    /// The key to send; `None` makes a fresh UUID v4 for this logical call. To retry a call
    /// after a crash, pass the key returned (or carried by the error) the first time.
    pub idempotency_key: Option<K>,
    /// The other per-call settings.
    pub call: CallOptions,
}

impl<K> Default for IdempotentOptions<K> {
    fn default() -> Self {
        Self { idempotency_key: None, call: CallOptions::default() }
    }
}

impl<K> IdempotentOptions<K> {
    /// A fresh key per call, no other settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `key` (a caller's key, stored to make retries after a crash safe).
    pub fn with_key(key: K) -> Self {
        Self { idempotency_key: Some(key), call: CallOptions::default() }
    }

    /// Sets the other per-call settings.
    pub fn call(mut self, call: CallOptions) -> Self {
        self.call = call;
        self
    }
}

/// The result of an idempotent operation together with the key it was sent with.
#[derive(Debug, Clone, PartialEq)]
pub struct Idempotent<T, K> {
    /// The key that was sent (on every attempt).
    pub key: K,
    /// The operation's result.
    pub value: T,
}

impl<T, K> Idempotent<T, K> {
    /// Pairs a value with its key.
    pub fn new(key: K, value: T) -> Self {
        Self { key, value }
    }

    /// The value, without the key.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// A fresh key: a UUID v4 (36 characters, within the 50 allowed by rule I2).
pub(crate) fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What identifies a request for the record: operation, path (so the reference) and body.
pub(crate) fn fingerprint(operation: &str, path: &str, body: Option<&[u8]>) -> u64 {
    let mut hasher = DefaultHasher::new();
    operation.hash(&mut hasher);
    path.hash(&mut hasher);
    body.hash(&mut hasher);
    hasher.finish()
}

/// The keys this client has sent and the request each was sent with; the oldest are forgotten
/// past the capacity, so memory stays bounded.
#[derive(Debug)]
pub(crate) struct IdempotencyRecord {
    capacity: usize,
    state: Mutex<RecordState>,
}

#[derive(Debug, Default)]
struct RecordState {
    requests: HashMap<String, u64>,
    order: VecDeque<String>,
}

impl IdempotencyRecord {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity, state: Mutex::new(RecordState::default()) }
    }

    /// Records `key` for this request; false when the key was sent with another request.
    pub(crate) fn admit(&self, key: &str, fingerprint: u64) -> bool {
        if self.capacity == 0 {
            return true;
        }
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match state.requests.get(key) {
            Some(known) => *known == fingerprint,
            None => {
                if state.order.len() >= self.capacity
                    && let Some(oldest) = state.order.pop_front()
                {
                    state.requests.remove(&oldest);
                }
                state.requests.insert(key.to_string(), fingerprint);
                state.order.push_back(key.to_string());
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_request_is_admitted_again_and_another_request_is_not() {
        let record = IdempotencyRecord::new(10);
        let capture = fingerprint("capturePayment", "/v1/payments/a/capture", Some(b"{\"v\":1}"));
        let other = fingerprint("capturePayment", "/v1/payments/a/capture", Some(b"{\"v\":2}"));
        assert!(record.admit("k1", capture));
        assert!(record.admit("k1", capture), "a retry of the same logical call is fine (I3)");
        assert!(!record.admit("k1", other), "another body with the same key is a conflict (I4)");
        assert!(record.admit("k2", other));
    }

    #[test]
    fn the_record_is_bounded_and_forgets_the_oldest() {
        let record = IdempotencyRecord::new(2);
        assert!(record.admit("a", 1));
        assert!(record.admit("b", 2));
        assert!(record.admit("c", 3));
        assert!(record.admit("a", 99), "`a` was forgotten when `c` came");
        assert!(!record.admit("c", 4));
    }

    #[test]
    fn fresh_keys_are_uuid_v4_within_the_limit() {
        let key = new_idempotency_key();
        let parsed = uuid::Uuid::parse_str(&key).expect("a uuid");
        assert_eq!(parsed.get_version_num(), 4);
        assert!(key.len() <= 50);
        assert_ne!(key, new_idempotency_key());
    }
}
