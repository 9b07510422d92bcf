//! Rule tests of the ePayment simulator, over loopback HTTP through [`support::Api`].
//!
//! Each test names the rulebook rule it guards (`shared/epayment-rules.md`); every test starts
//! its own simulator with a frozen clock, which tests advance instead of sleeping.

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod binary;
mod concurrency;
mod faults;
mod idempotency;
mod modifications;
mod rate_limits;
mod states;
mod validation;
