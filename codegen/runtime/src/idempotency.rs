//! Idempotency keys (rules I1-I4): the per-call options that carry a caller's key, the result
//! that hands the key back, fresh keys, and the bounded record of keys already sent, which
//! refuses a key reused with another request before it reaches the server.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use super::bounded::BoundedMap;
use super::operation::CallOptions;

/// Per-call settings of an operation that declares an idempotency key.
///
/// `K` is the key header's generated type (for ePayment's documents `IdempotencyKey`, which checks
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
pub fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Where a key lives (rules I3-I6, read as the simulator reads them): one merchant's one
/// operation on one path (so one payment reference; create's path has none, its body names the
/// reference). The same key on another operation or another payment is another key; within
/// its scope, a key sent again with another body is the conflict of rule I4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KeyScope<'a> {
    pub(crate) merchant: Option<&'a str>,
    pub(crate) operation: &'a str,
    pub(crate) path: &'a str,
    pub(crate) key: &'a str,
}

impl KeyScope<'_> {
    fn hash(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        Hash::hash(self, &mut hasher);
        hasher.finish()
    }
}

/// What a request sends besides its scope: the body.
pub(crate) fn fingerprint(body: Option<&[u8]>) -> u64 {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    hasher.finish()
}

/// The keys this client has sent, by scope, and the body each was sent with; the oldest are
/// forgotten past the capacity, so memory stays bounded (a scope is kept as its hash).
#[derive(Debug)]
pub(crate) struct IdempotencyRecord {
    capacity: usize,
    /// Scope hash -> body fingerprint.
    requests: Mutex<BoundedMap<u64, u64>>,
}

impl IdempotencyRecord {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity, requests: Mutex::new(BoundedMap::new(capacity)) }
    }

    /// Records the key of `scope` for this body; false when it was sent with another body.
    pub(crate) fn admit(&self, scope: &KeyScope<'_>, fingerprint: u64) -> bool {
        if self.capacity == 0 {
            return true;
        }
        let scope = scope.hash();
        let mut requests = self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match requests.get(&scope) {
            Some(known) => *known == fingerprint,
            None => {
                requests.insert_new(scope, fingerprint);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(operation: &'a str, path: &'a str, key: &'a str) -> KeyScope<'a> {
        KeyScope { merchant: Some("123456"), operation, path, key }
    }

    #[test]
    fn same_key_same_body_is_admitted_again_and_another_body_is_not() {
        let record = IdempotencyRecord::new(10);
        let capture = scope("capturePayment", "/v1/payments/a/capture", "k1");
        assert!(record.admit(&capture, fingerprint(Some(b"{\"v\":1}"))));
        assert!(record.admit(&capture, fingerprint(Some(b"{\"v\":1}"))), "a retry of the same logical call is fine (I3)");
        assert!(!record.admit(&capture, fingerprint(Some(b"{\"v\":2}"))), "another body with the same key is a conflict (I4)");
        assert!(!record.admit(&capture, fingerprint(None)), "no body is another body");
    }

    #[test]
    fn a_key_is_scoped_by_merchant_operation_and_payment() {
        let record = IdempotencyRecord::new(10);
        let body = fingerprint(Some(b"{\"v\":1}"));
        let other = fingerprint(Some(b"{\"v\":2}"));
        assert!(record.admit(&scope("capturePayment", "/v1/payments/a/capture", "k"), body));
        assert!(record.admit(&scope("capturePayment", "/v1/payments/b/capture", "k"), other), "another payment");
        assert!(record.admit(&scope("refundPayment", "/v1/payments/a/refund", "k"), other), "another operation");
        let elsewhere = KeyScope { merchant: Some("654321"), ..scope("capturePayment", "/v1/payments/a/capture", "k") };
        assert!(record.admit(&elsewhere, other), "another merchant");
        assert!(!record.admit(&scope("capturePayment", "/v1/payments/a/capture", "k"), other), "the first scope still holds");
    }

    #[test]
    fn the_record_is_bounded_and_forgets_the_oldest() {
        let record = IdempotencyRecord::new(2);
        let at = |key| scope("createPayment", "/v1/payments", key);
        assert!(record.admit(&at("a"), 1));
        assert!(record.admit(&at("b"), 2));
        assert!(record.admit(&at("c"), 3));
        assert!(record.admit(&at("a"), 99), "`a` was forgotten when `c` came");
        assert!(!record.admit(&at("c"), 4));
        assert!(!record.admit(&at("a"), 98), "`a` is remembered again, with its new body");
    }

    #[test]
    fn a_zero_capacity_turns_the_check_off() {
        let record = IdempotencyRecord::new(0);
        assert!(record.admit(&scope("createPayment", "/v1/payments", "k"), 1));
        assert!(record.admit(&scope("createPayment", "/v1/payments", "k"), 2));
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
