//! Rule tests of the ePayment simulator, over loopback through the generated client
//! (`vipps_epayment::Client`, wrapped by [`support::Api`]).
//!
//! Each test names the rulebook rule it guards (`shared/epayment-rules.md`; "outcomes" is the
//! rulebook's outcome table); every test starts its own simulator with a frozen clock, which
//! tests advance instead of sleeping. Raw HTTP is used only where the client cannot express the
//! request by design (see `support::Api::raw`).

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
mod webhooks;
