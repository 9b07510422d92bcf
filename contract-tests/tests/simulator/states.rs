//! Payment states and transitions (rules S1-S6, S11, S14).

use std::time::Duration;

use chrono::SecondsFormat;
use vipps_epayment::epayment::{
    CancelModificationRequest, CreatePaymentRequestExpiresAt, CreatePaymentRequestUserFlow,
    Customer, CustomerPhoneNumber, ForceApprove, PaymentEventName,
    State,
};
use vipps_contract_tests::sim::ControlError;
use vipps_epayment::{Client, Environment, Error};

use crate::support::{
    Api, MSN, Outcome, SUBSCRIPTION_KEY, assert_control_refused, client_builder, kinds, payment_request, problem_as, reference,
    start, test_builder,
};

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

fn names(events: &[vipps_epayment::epayment::PaymentEvent]) -> Vec<String> {
    events.iter().map(|e| e.name.to_string()).collect()
}

// outcomes, rules S1, S2, S6, S7, S8, I4, I5: every refusal has its own Problem `type` and
// `title`: the simulator's table is the one the tests pin, and no two refusals share either
#[test]
fn outcomes_every_refusal_has_its_own_problem_type_and_title() {
    use vipps_contract_tests::sim::reply::Forbidden;
    let simulator: Vec<(u16, &str, &str)> = Forbidden::ALL.iter().map(|why| (409, why.kind(), why.title())).collect();
    let pinned: Vec<(u16, &str, &str)> = kinds::TRANSITIONS.iter().map(|k| (k.status, k.kind, k.title)).collect();
    assert_eq!(simulator, pinned);
    let mut conflicts = kinds::TRANSITIONS.to_vec();
    conflicts.extend([kinds::IDEMPOTENCY_CONFLICT, kinds::REFERENCE_USED, kinds::AMBIGUOUS]);
    let types: std::collections::BTreeSet<&str> = conflicts.iter().map(|k| k.kind).collect();
    let titles: std::collections::BTreeSet<&str> = conflicts.iter().map(|k| k.title).collect();
    assert_eq!((types.len(), titles.len()), (conflicts.len(), conflicts.len()), "a 409 type or title is shared: {conflicts:?}");
    let rules: Vec<&str> = Forbidden::ALL.iter().map(|why| why.rule()).collect();
    assert_eq!(rules, ["S2", "S1", "S6", "S6", "S6", "S7", "S7", "S7", "S7", "S8", "S8", "S8"]);
}

// rules S1, S2: a new payment is CREATED; force-approve -> AUTHORIZED
#[tokio::test]
async fn s2_new_payment_is_created_and_force_approve_authorizes_it() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s2-create", 1500).await;
    let payment = api.payment("order-s2-create").await;
    assert_eq!(payment.state, State::Created);
    assert_eq!(payment.aggregate.authorized_amount.value.get(), 0);
    api.force_approve("order-s2-create").await.expect("force approve");
    let payment = api.payment("order-s2-create").await;
    assert_eq!(payment.state, State::Authorized);
    assert_eq!(payment.aggregate.authorized_amount.value.get(), 1500);
    assert_eq!(names(&api.event_log("order-s2-create").await), ["CREATED", "AUTHORIZED"]);
}

// rule S2: the user approves in the app (test control)
#[tokio::test]
async fn s2_user_approval_authorizes() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s2-approve", 900).await;
    sim.approve("order-s2-approve").unwrap();
    assert_eq!(api.payment("order-s2-approve").await.state, State::Authorized);
    // a second approval is refused as not allowed (the payment exists: not "not found")
    assert_control_refused(sim.approve("order-s2-approve"), kinds::NOT_CREATED);
    assert_eq!(names(&api.event_log("order-s2-approve").await), ["CREATED", "AUTHORIZED"]);
    // an unknown reference is "not found", not "not allowed"
    assert_eq!(sim.approve("order-s2-unknown"), Err(ControlError::NotFound("order-s2-unknown".to_string())));
}

// rules S1, S2: the user rejects -> ABORTED, which is final
#[tokio::test]
async fn s2_user_rejection_aborts_and_aborted_is_final() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s2-reject", 900).await;
    sim.reject("order-s2-reject").unwrap();
    assert_eq!(api.payment("order-s2-reject").await.state, State::Aborted);
    assert_control_refused(sim.approve("order-s2-reject"), kinds::NOT_CREATED);
    assert_control_refused(sim.reject("order-s2-reject"), kinds::NOT_CREATED);
    api.force_approve("order-s2-reject").await.refused_as(kinds::NOT_CREATED);
    api.cancel("order-s2-reject").await.refused_as(kinds::CANCEL_FINAL);
    api.capture("order-s2-reject", 100, "cap-1").await.refused_as(kinds::CAPTURE_NOT_AUTHORIZED);
    api.refund("order-s2-reject", 100, "ref-1").await.refused_as(kinds::REFUND_NOT_AUTHORIZED);
    assert_eq!(api.payment("order-s2-reject").await.state, State::Aborted);
    assert_eq!(names(&api.event_log("order-s2-reject").await), ["CREATED", "ABORTED"]);
}

// rules S2, S11: the user has 10 minutes, then the payment EXPIRES (final)
#[tokio::test]
async fn s11_payment_expires_after_ten_minutes() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s11-expiry", 900).await;
    let created_at = sim.now();
    sim.advance_clock(10 * MINUTE - Duration::from_secs(1));
    assert_eq!(api.payment("order-s11-expiry").await.state, State::Created);
    sim.advance_clock(Duration::from_secs(1));
    assert_eq!(api.payment("order-s11-expiry").await.state, State::Expired);
    let events = api.event_log("order-s11-expiry").await;
    assert_eq!(names(&events), ["CREATED", "EXPIRED"]);
    assert_eq!(events[1].timestamp, created_at + chrono::Duration::minutes(10));
    api.force_approve("order-s11-expiry").await.refused_as(kinds::NOT_CREATED);
    assert_control_refused(sim.approve("order-s11-expiry"), kinds::NOT_CREATED);
    api.cancel("order-s11-expiry").await.refused_as(kinds::CANCEL_FINAL);
    assert_eq!(api.event_log("order-s11-expiry").await.len(), 2, "expiry is recorded once");
}

fn push_payment(reference: &str) -> vipps_epayment::epayment::CreatePaymentRequest {
    let mut request = payment_request(reference, 1000);
    request.user_flow = CreatePaymentRequestUserFlow::PushMessage;
    request.return_url = None;
    request.customer = Some(Customer::CustomerPhoneNumber(
        CustomerPhoneNumber::default().with_phone_number("4791234567").unwrap(),
    ));
    request
}

// rule S2: a push-message payment reaches the user by push, so it has no redirect link; the
// redirect flows send the user to the landing page
#[tokio::test]
async fn only_redirect_flows_get_a_redirect_url() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let push = api.create(&push_payment("order-push-0001"), "key-push-1").await.expect("push payment");
    assert_eq!(push.value.redirect_url, None);
    let web = api.create(&payment_request("order-web-00001", 1000), "key-web-1").await.expect("web payment");
    let url = web.value.redirect_url.expect("a redirect link");
    assert!(url.contains("/_sim/landing/order-web-00001?token="), "{url}");
}

// The controls' errors say what went wrong, for a test's failure message.
#[tokio::test]
async fn control_errors_name_the_reference() {
    let sim = start().await;
    let error = sim.approve("order-nowhere").expect_err("no such payment");
    assert_eq!(error.to_string(), "no payment with reference `order-nowhere`");
    let api = Api::connect(&sim).await;
    api.create_payment("order-ctl-final", 1000).await;
    sim.reject("order-ctl-final").expect("reject");
    let error = sim.approve("order-ctl-final").expect_err("final state");
    assert!(error.to_string().contains("ABORTED"), "names the state: {error}");
}

// rule S11: a long-living payment lives until its expiresAt
#[tokio::test]
async fn s11_long_living_payment_expires_at_its_expires_at() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let mut request = push_payment("order-s11-long");
    let at = (sim.now() + chrono::Duration::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    request.expires_at = Some(CreatePaymentRequestExpiresAt::new(at).unwrap());
    api.create(&request, "key-long").await.expect("a long-living payment");
    sim.advance_clock(DAY);
    assert_eq!(api.payment("order-s11-long").await.state, State::Created);
    sim.advance_clock(DAY);
    assert_eq!(api.payment("order-s11-long").await.state, State::Expired);
}

// rule S11: expiresAt 10 minutes to 28 days ahead, only for PUSH_MESSAGE or QR
#[tokio::test]
async fn s11_expires_at_bounds_and_flows_are_checked() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let ahead = |minutes: i64| {
        CreatePaymentRequestExpiresAt::new(
            (sim.now() + chrono::Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true),
        )
        .unwrap()
    };
    for (i, minutes) in [9, 28 * 24 * 60 + 1].into_iter().enumerate() {
        let mut request = push_payment(&format!("order-s11-bad-{i}"));
        request.expires_at = Some(ahead(minutes));
        api.create(&request, &format!("k{i}")).await.invalid_field("expiresAt");
    }
    let mut web = payment_request("order-s11-web", 1000);
    web.expires_at = Some(ahead(60));
    api.create(&web, "kw").await.invalid_field("expiresAt");
    for (i, minutes) in [10, 28 * 24 * 60].into_iter().enumerate() {
        let mut request = push_payment(&format!("order-s11-ok-{i}"));
        request.expires_at = Some(ahead(minutes));
        api.create(&request, &format!("ok{i}")).await.expect("within the bounds");
    }
}

// rules S1, S3: final states refuse every change; CAPTURED etc. are events, not states
#[tokio::test]
async fn s1_s3_states_are_the_five_and_authorized_stays_through_adjustments() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s3-events", 1000).await;
    assert_eq!(api.capture("order-s3-events", 400, "c1").await.unwrap().value.state, State::Authorized);
    assert_eq!(api.payment("order-s3-events").await.state, State::Authorized);
    assert_eq!(api.refund("order-s3-events", 100, "r1").await.unwrap().value.state, State::Authorized);
    assert_eq!(api.payment("order-s3-events").await.state, State::Authorized);
    assert_eq!(api.cancel("order-s3-events").await.unwrap().state, State::Authorized);
    assert_eq!(api.payment("order-s3-events").await.state, State::Authorized);
    let events = api.event_log("order-s3-events").await;
    assert_eq!(names(&events), ["CREATED", "AUTHORIZED", "CAPTURED", "REFUNDED", "CANCELLED"]);
}

// rule S4: cancel before authorization -> TERMINATED, authorized 0
#[tokio::test]
async fn s4_cancel_before_authorization_terminates() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s4-cancel", 1000).await;
    let body = api.cancel("order-s4-cancel").await.expect("cancel");
    assert_eq!(body.state, State::Terminated);
    assert_eq!(body.aggregate.authorized_amount.value.get(), 0);
    let payment = api.payment("order-s4-cancel").await;
    assert_eq!(payment.state, State::Terminated);
    assert_eq!(payment.aggregate.authorized_amount.value.get(), 0);
    assert_eq!(names(&api.event_log("order-s4-cancel").await), ["CREATED", "TERMINATED"]);
    // final (rule S1)
    api.force_approve("order-s4-cancel").await.refused_as(kinds::NOT_CREATED);
    api.capture("order-s4-cancel", 1, "c1").await.refused_as(kinds::CAPTURE_NOT_AUTHORIZED);
}

// rule S5: cancel after authorization keeps AUTHORIZED and releases authorized - captured
#[tokio::test]
async fn s5_cancel_after_partial_capture_releases_the_remainder() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s5-cancel", 1000).await;
    api.capture("order-s5-cancel", 250, "c1").await.unwrap();
    let cancelled = api.cancel("order-s5-cancel").await.unwrap();
    assert_eq!(cancelled.aggregate.cancelled_amount.value.get(), 750);
    let payment = api.payment("order-s5-cancel").await;
    assert_eq!(payment.state, State::Authorized);
    assert_eq!(payment.aggregate.cancelled_amount.value.get(), 750);
    assert_eq!(payment.aggregate.captured_amount.value.get(), 250);
    let events = api.event_log("order-s5-cancel").await;
    let cancelled = events.last().unwrap();
    assert_eq!(cancelled.name, PaymentEventName::Cancelled);
    assert_eq!(cancelled.amount.value.get(), 750);
    // cannot be undone or repeated: a second cancel changes nothing
    api.cancel("order-s5-cancel").await.expect("a repeated cancel answers 200");
    assert_eq!(api.event_log("order-s5-cancel").await, events);
    assert_eq!(api.payment("order-s5-cancel").await.aggregate, payment.aggregate);
}

// rule S1: final states refuse changes: a cancel of a TERMINATED payment is refused (409)
// and changes nothing, whether the merchant terminated it or not
#[tokio::test]
async fn s1_cancel_of_a_terminated_payment_is_refused() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s1-term", 1000).await;
    let terminated = api.cancel("order-s1-term").await.expect("the first cancel terminates");
    assert_eq!(terminated.state, State::Terminated);
    let events = api.event_log("order-s1-term").await;
    assert_eq!(names(&events), ["CREATED", "TERMINATED"]);
    let problem = api.cancel("order-s1-term").await.refused_as(kinds::CANCEL_FINAL);
    assert!(problem.detail.unwrap_or_default().contains("rule S1"));
    let with_body = CancelModificationRequest::default().with_cancel_transaction_only(true);
    api.cancel_with("order-s1-term", &with_body).await.refused_as(kinds::CANCEL_FINAL);
    let payment = api.payment("order-s1-term").await;
    assert_eq!(payment.state, State::Terminated);
    assert_eq!(api.event_log("order-s1-term").await, events, "nothing recorded");
}

// rule S5 (and the spec's CancelModificationRequest): cancelTransactionOnly only cancels an
// unauthorized payment; on an AUTHORIZED one it leaves the reservation alone and says so:
// 200, state AUTHORIZED, cancelledAmount unchanged, no event
#[tokio::test]
async fn s5_cancel_transaction_only_leaves_an_authorization_alone() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s5-txonly", 1000).await;
    api.capture("order-s5-txonly", 300, "c1").await.unwrap();
    let before = (api.payment("order-s5-txonly").await, api.event_log("order-s5-txonly").await);
    let body = CancelModificationRequest::default().with_cancel_transaction_only(true);
    let answer = api.cancel_with("order-s5-txonly", &body).await.expect("200: the reservation is left alone");
    assert_eq!(answer.state, State::Authorized);
    assert_eq!(answer.aggregate, before.0.aggregate, "the answer shows nothing was cancelled");
    assert_eq!(answer.aggregate.cancelled_amount.value.get(), 0);
    assert_eq!(answer.psp_reference, before.1.last().unwrap().psp_reference, "no new event, so no new pspReference");
    assert_eq!((api.payment("order-s5-txonly").await, api.event_log("order-s5-txonly").await), before);
    // the flag set to false is an ordinary cancel
    let ordinary = CancelModificationRequest::default().with_cancel_transaction_only(false);
    let cancelled = api.cancel_with("order-s5-txonly", &ordinary).await.unwrap();
    assert_eq!(cancelled.aggregate.cancelled_amount.value.get(), 700);
    assert_eq!(names(&api.event_log("order-s5-txonly").await), ["CREATED", "AUTHORIZED", "CAPTURED", "CANCELLED"]);
    // before authorization it cancels: TERMINATED
    api.create_payment("order-s5-txonly2", 1000).await;
    let terminated = api.cancel_with("order-s5-txonly2", &body).await.expect("before authorization it cancels");
    assert_eq!(terminated.state, State::Terminated);
    assert_eq!(api.payment("order-s5-txonly2").await.state, State::Terminated);
    assert_eq!(names(&api.event_log("order-s5-txonly2").await), ["CREATED", "TERMINATED"]);
}

// rule S6: cancel refused after full capture
#[tokio::test]
async fn s6_cancel_refused_after_full_capture() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s6-full", 1000).await;
    api.capture("order-s6-full", 1000, "c1").await.unwrap();
    api.cancel("order-s6-full").await.refused_as(kinds::CANCEL_FULLY_CAPTURED);
    assert_eq!(api.payment("order-s6-full").await.aggregate.cancelled_amount.value.get(), 0);
}

// rule S6: cancel refused while the user is authorizing
#[tokio::test]
async fn s6_cancel_refused_while_the_user_is_approving() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s6-busy", 1000).await;
    sim.begin_approval("order-s6-busy").unwrap();
    api.cancel("order-s6-busy").await.refused_as(kinds::CANCEL_WHILE_APPROVING);
    assert_eq!(api.payment("order-s6-busy").await.state, State::Created);
    sim.approve("order-s6-busy").unwrap();
    assert_control_refused(sim.begin_approval("order-s6-busy"), kinds::NOT_CREATED);
    api.cancel("order-s6-busy").await.expect("cancel after approval");
    assert_eq!(api.payment("order-s6-busy").await.aggregate.cancelled_amount.value.get(), 1000);
}

// rule S6: cancel refused after 180 days
#[tokio::test]
async fn s6_cancel_refused_after_180_days() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s6-late", 1000).await;
    sim.advance_clock(180 * DAY + Duration::from_secs(1));
    api.cancel("order-s6-late").await.refused_as(kinds::CANCEL_TOO_LATE);
    assert_eq!(api.payment("order-s6-late").await.aggregate.cancelled_amount.value.get(), 0);
    api.authorized_payment("order-s6-intime", 1000).await;
    sim.advance_clock(180 * DAY);
    api.cancel("order-s6-intime").await.expect("on day 180");
}

// rule S14: force approve exists only in the test environment: the simulator in production
// mode refuses it (403), and a client configured for production refuses it before sending
#[tokio::test]
async fn s14_force_approve_is_refused_in_production_mode() {
    let sim = test_builder().force_approve(false).start().await.unwrap();
    let api = Api::connect(&sim).await;
    api.create_payment("order-s14-prod", 1000).await;
    api.force_approve("order-s14-prod").await.refused_as(kinds::FORBIDDEN);
    assert_eq!(api.payment("order-s14-prod").await.state, State::Created);
    sim.approve("order-s14-prod").unwrap(); // the user can still approve in the app
    assert_eq!(api.payment("order-s14-prod").await.state, State::Authorized);

    let test_sim = start().await;
    let api = Api::connect(&test_sim).await;
    api.create_payment("order-s14-client", 1000).await;
    let production = Environment::Custom { base_url: test_sim.base_url().to_string(), production: true };
    let client: Client = client_builder(test_sim.base_url(), MSN, SUBSCRIPTION_KEY).environment(production).build().unwrap();
    match client.force_approve(&reference("order-s14-client"), None, vipps_epayment::CallOptions::new()).await {
        Err(error @ Error::TestOnlyOperation { .. }) => assert!(error.is_refused_before_sending()),
        other => panic!("a production client must refuse force approve: {other:?}"),
    }
    assert_eq!(api.payment("order-s14-client").await.state, State::Created, "nothing was sent");
}

// rule S2: force approve checks the token from redirectUrl when one is given
#[tokio::test]
async fn s2_force_approve_checks_the_redirect_token() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let created = api.create_payment("order-force-token", 1000).await;
    let redirect = created.redirect_url.expect("web redirect has a redirectUrl");
    let token = redirect.split("token=").nth(1).unwrap().to_string();
    let wrong = ForceApprove::default().with_token("wrong");
    // forceApprove documents only 200: the client still reads the 400's problem body
    let refused = api.force_approve_with("order-force-token", &wrong).await.refused();
    assert!(matches!(refused, Error::Problem { status: 400, documented: false, .. }), "{refused:?}");
    crate::support::named_detail(&problem_as(&refused, kinds::INVALID), "token");
    assert_eq!(api.payment("order-force-token").await.state, State::Created);
    let right = ForceApprove::default().with_token(token);
    api.force_approve_with("order-force-token", &right).await.expect("the right token");
    assert_eq!(api.payment("order-force-token").await.state, State::Authorized);
}
