//! Test support shared by the client tests: a scriptable HTTP server on loopback
//! ([`server::TestServer`]), the spec documents read back for conformance checks ([`spec`]), and a
//! tracing capture ([`capture`]).

#![allow(dead_code)]

pub mod capture;
pub mod server;
pub mod spec;

use std::time::Duration;

use vipps_epayment::runtime::{PollPolicy, RetryPolicy};
use vipps_epayment::{Client, ClientBuilder};

/// Credentials of the tests. They are made to be easy to search for in output.
pub const CLIENT_ID: &str = "client-id-4f1c";
pub const CLIENT_SECRET: &str = "client-secret-SHOULD-NOT-LEAK-1";
pub const SUBSCRIPTION_KEY: &str = "subscription-key-SHOULD-NOT-LEAK-2";
pub const MSN: &str = "123456";

/// Fast retries, so the tests stay quick; limits still apply.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_elapsed: Duration::from_secs(5),
        max_retry_after: Duration::from_secs(2),
    }
}

/// A builder for a client of `server`, with test credentials and fast timings.
pub fn builder(server: &server::TestServer) -> ClientBuilder {
    Client::builder()
        .base_url(server.url())
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .subscription_key(SUBSCRIPTION_KEY)
        .merchant_serial_number(MSN)
        .timeout(Duration::from_secs(5))
        .retry_policy(fast_retries())
        .poll_policy(PollPolicy {
            initial_delay: Duration::from_millis(10),
            interval: Duration::from_millis(10),
            timeout: Duration::from_secs(2),
        })
}

/// A client of `server`.
pub fn client(server: &server::TestServer) -> Client {
    builder(server).build().expect("the test configuration is valid")
}

/// A valid payment reference.
pub fn reference(text: &str) -> vipps_epayment::epayment::Reference {
    vipps_epayment::epayment::Reference::new(text).expect("a valid reference")
}
