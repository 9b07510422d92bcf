//! ePayment simulator and contract test suites for the generated `vipps-epayment` SDK.
//!
//! [`sim`] is a local, stateful stand-in for the Vipps MobilePay ePayment API that follows the
//! project's rulebook; start it in-process with [`sim::Simulator::builder`] or run the
//! `epayment-sim` binary.
#![deny(missing_docs)]

pub mod sim;
