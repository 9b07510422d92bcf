//! Waiting for a payment to leave CREATED (rule S15): get payment, first after the policy's
//! initial delay and then at its interval, until the state changes or the time runs out.
//! Hand-written over the generated `get_payment`, so it lives in the SDK, not the runtime.

use std::time::Instant;

use crate::epayment::{GetPaymentResponse, Reference, State};
use crate::runtime::{CallOptions, Error, PollPolicy};

impl crate::Client {
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
                return Err(Error::PollTimedOut { reference: reference.to_string(), state: payment.state.to_string(), waited });
            }
            tokio::time::sleep(policy.interval).await;
        }
    }
}
