//! Idempotency (rules I1-I7): the first outcome of a keyed request is stored and replayed, byte
//! for byte, for a repeat with the same key and body; the same key with another body is refused.
//!
//! Keys are scoped by merchant serial number, operation and (except for create) reference, and
//! kept for the life of the simulator, which outlives every payment in it (rule I7). Stored
//! outcomes include 4xx answers (rule I6).

use std::collections::HashMap;

use super::operation::Operation;
use super::reply::Reply;

/// Where a key lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// Merchant serial number of the caller.
    pub msn: String,
    /// The operation.
    pub operation: Operation,
    /// The payment reference; empty for create, whose keys are unique per MSN.
    pub reference: String,
    /// The `Idempotency-Key`.
    pub key: String,
}

impl Scope {
    /// The scope of `key` for `operation` on `reference` (empty for create) of `msn`.
    pub fn keyed(msn: &str, operation: Operation, reference: &str, key: &str) -> Self {
        Self {
            msn: msn.to_string(),
            operation,
            reference: reference.to_string(),
            key: key.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
struct Stored {
    fingerprint: serde_json::Value,
    reply: Reply,
}

/// What a key says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// First use of the key: do the work.
    New,
    /// Same key, same body: answer this again.
    Replay(Reply),
    /// Same key, different body (rule I4).
    Conflict,
}

/// Stored outcomes by scope.
#[derive(Debug, Default)]
pub struct IdempotencyStore {
    entries: HashMap<Scope, Stored>,
}

impl IdempotencyStore {
    /// Looks a key up; bodies compare as JSON values, so member order and spacing do not matter.
    pub fn lookup(&self, scope: &Scope, fingerprint: &serde_json::Value) -> Lookup {
        match self.entries.get(scope) {
            None => Lookup::New,
            Some(stored) if stored.fingerprint == *fingerprint => Lookup::Replay(stored.reply.clone()),
            Some(_) => Lookup::Conflict,
        }
    }

    /// Stores the first outcome of a key.
    pub fn store(&mut self, scope: Scope, fingerprint: serde_json::Value, reply: Reply) {
        self.entries.entry(scope).or_insert(Stored { fingerprint, reply });
    }
}
