//! Typed Rust SDK for the Vipps MobilePay ePayment API.
//!
//! The modules [`epayment`] and [`access_token`] are generated from the spec documents in the
//! repository's `spec/` folder by `vipps-codegen` (`cargo xtask codegen`); never edit them by hand.
//! Constrained values ([`epayment::Reference`], [`epayment::AmountValue`], ...) are validated
//! newtypes: construction and deserialization both check the spec's rules and fail with a
//! [`ValidationError`] that names the type, the field and the rule.
#![deny(missing_docs)]

#[allow(missing_docs)]
mod generated;

pub use generated::{access_token, epayment, support};
pub use support::ValidationError;
