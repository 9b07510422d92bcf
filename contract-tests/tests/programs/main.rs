//! Programs other teams write, as tests: each uses the SDK as its README shows (and nothing of
//! this repository's test support) against the simulator started in-process.
//!
//! - `merchant`: registers a webhook, takes a payment through, receives the simulator's signed
//!   deliveries and verifies them with the SDK (`WebhookVerifier`, `Redeliveries`);
//! - `partner`: one client, one set of partner keys, two merchants.

mod merchant;
mod partner;
