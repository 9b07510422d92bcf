// The crate documentation is the README, so its example (token, create, poll, capture, refund)
// is compiled as a doctest.
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Everything generated (models, client modules, `Client`, `ClientBuilder`, `GLUE`, `support`,
// `strategies` behind the `proptest` feature) is re-exported as it is: the module list is the
// settings', not this file's.
#[allow(missing_docs)]
mod generated;

mod amount;
mod polling;

/// The client runtime every generated crate calls (the `vipps-runtime` crate): configuration,
/// secrets, token cache, retries, idempotency record, errors, transport, webhook verification.
pub use vipps_runtime as runtime;

pub use generated::*;
pub use runtime::{
    CallOptions, Environment, Error, Idempotent, IdempotentOptions, PollPolicy, Redeliveries, RetryPolicy, WebhookError, WebhookRequest,
    WebhookVerifier,
};
pub use support::ValidationError;

/// The repository README's Rust examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RepositoryReadme;
