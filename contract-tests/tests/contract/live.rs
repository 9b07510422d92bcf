//! The live target: the suites that make sense against the Vipps test environment, run when
//! `VIPPS_CLIENT_ID`, `VIPPS_CLIENT_SECRET`, `VIPPS_SUBSCRIPTION_KEY`, `VIPPS_MSN` and
//! `VIPPS_TEST_PHONE` are set: request shapes of valid inputs, key presence, replay and
//! conflict, and the state rules without the simulator-only steps (clock, user rejection,
//! faults), paced, with force-approve for the test phone number. Without them, one line says it
//! was skipped; nothing leaves loopback.

use proptest::test_runner::TestRunner;

use crate::target::{Harness, LIVE_VARS, LiveSettings, announce};
use crate::{config, idempotency, shapes, states};

#[test]
fn live_vipps_test_environment() {
    let Some(settings) = LiveSettings::from_env() else {
        announce(&format!("live Vipps test environment: skipped (set {} to run the contract suites against it)", LIVE_VARS.join(", ")));
        return;
    };
    announce("live Vipps test environment: running the contract suites (paced; clock, rejection and faults skipped)");
    let harness = Harness::live(settings);
    let cases = crate::cases(2).min(8);
    let fail = |suite: &str, error: String| panic!("live {suite}: {error}");

    let mut runner = TestRunner::new(config!(cases, "contract-live.txt"));
    if let Err(error) = runner.run(&shapes::shape_input(), |input| harness.block_on(shapes::every_operation(&harness, &input))) {
        fail("request shapes", error.to_string());
    }
    let (workload, keyed) = idempotency::live_strategies();
    let mut runner = TestRunner::new(config!(cases, "contract-live.txt"));
    if let Err(error) = runner.run(&workload, |calls| harness.block_on(idempotency::keys_on_the_wire(&harness, &calls))) {
        fail("idempotency keys", error.to_string());
    }
    let mut runner = TestRunner::new(config!(cases, "contract-live.txt"));
    if let Err(error) = runner.run(&keyed, |(op, amount, key)| harness.block_on(idempotency::replay(&harness, op, amount, key))) {
        fail("idempotency replay", error.to_string());
    }
    let mut runner = TestRunner::new(config!(cases, "contract-live.txt"));
    if let Err(error) = runner.run(&keyed, |(op, amount, key)| harness.block_on(idempotency::conflict(&harness, op, amount, 1, key))) {
        fail("idempotency conflict", error.to_string());
    }
    states::check_state_rules(&harness, true, cases, 8);
}
