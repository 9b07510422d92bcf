//! Polling (rule S15): wait for a payment to leave CREATED by calling get payment, first after
//! about 5 s and then every 2 s (the documented cadence), or at a cadence set for tests.

use std::time::{Duration, Instant};

use super::Client;
use super::error::Error;
use super::operation::CallOptions;
use crate::epayment::{GetPaymentResponse, Reference, State};

/// When get payment is called while waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPolicy {
    /// Wait before the first call (documented: about 5 s).
    pub initial_delay: Duration,
    /// Wait between calls (documented: 2 s).
    pub interval: Duration,
    /// Give up after this long (default 11 minutes: the user has 10, rule S11).
    pub timeout: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self { initial_delay: Duration::from_secs(5), interval: Duration::from_secs(2), timeout: Duration::from_secs(11 * 60) }
    }
}

impl Client {
    /// Polls get payment until the payment is no longer CREATED (authorized, aborted, expired
    /// or terminated) and returns it, with the client's poll policy.
    pub async fn wait_while_created(&self, reference: &Reference) -> Result<GetPaymentResponse, Error> {
        let policy = self.config().poll_policy().clone();
        self.wait_while_created_with(reference, &policy).await
    }

    /// [`wait_while_created`](Self::wait_while_created) with a given policy. Errors of get
    /// payment (after its own retries) end the wait; running out of time is
    /// [`Error::PollTimedOut`].
    pub async fn wait_while_created_with(&self, reference: &Reference, policy: &PollPolicy) -> Result<GetPaymentResponse, Error> {
        let started = Instant::now();
        tokio::time::sleep(policy.initial_delay).await;
        loop {
            let payment = self.get_payment(reference, CallOptions::default()).await?;
            if payment.state != State::Created {
                return Ok(payment);
            }
            let waited = started.elapsed();
            if waited + policy.interval > policy.timeout {
                return Err(Error::PollTimedOut { reference: reference.to_string(), state: payment.state, waited });
            }
            tokio::time::sleep(policy.interval).await;
        }
    }
}
