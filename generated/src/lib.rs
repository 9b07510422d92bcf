// The crate documentation is the README, so its example (token, create, poll, capture, refund)
// is compiled as a doctest.
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

#[allow(missing_docs)]
mod generated;

mod amount;
pub mod runtime;

pub use generated::{access_token, access_token_client, epayment, epayment_client, support, webhooks, webhooks_client};
pub use runtime::{
    CallOptions, Client, ClientBuilder, Environment, Error, Idempotent, IdempotentOptions, PollPolicy, Redeliveries, RetryPolicy, WebhookError,
    WebhookRequest, WebhookVerifier,
};
pub use support::ValidationError;

/// The repository README's Rust examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RepositoryReadme;

/// Proptest strategies of the request models, generated from the spec (feature `proptest`):
/// valid values of every type a client-side operation sends, and per request body one strategy
/// per constraint that breaks exactly that constraint. [`strategies::Broken`] and the tables
/// ([`strategies::RequestBody`], [`strategies::TypeStrategy`]) are shared by the modules.
#[cfg(feature = "proptest")]
pub mod strategies {
    pub use crate::generated::access_token_strategies as access_token;
    pub use crate::generated::epayment_strategies as epayment;
    pub use crate::generated::webhooks_strategies as webhooks;
    pub use crate::generated::strategy_support::*;
}
