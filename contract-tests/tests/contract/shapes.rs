//! Suite 1: request shapes.
//!
//! - For random valid inputs to every operation, each request that reaches the server matches
//!   the spec document (method, path template, required headers present and valid, security
//!   header, body valid against the operation's schema), judged by the independent JSON Schema
//!   validator (`spec.rs`), and every answer is documented (or a rulebook Problem) and valid.
//! - For each broken-constraint strategy of each request body: the client refuses it before
//!   sending (the generated type will not hold it; unknown enum values, which the generated
//!   enums keep by design, are sent and refused by the server), and the simulator, sent the raw
//!   JSON, answers 400 naming the field.
//! - Broken path and header parameters (`Reference`, `Idempotency-Key`, `Vipps-System-*`): the
//!   client refuses before sending; the simulator, sent them raw, answers 400 naming them.

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::Value;
use vipps_epayment::epayment::{
    Amount, AmountValue, CancelModificationRequest, CaptureModificationRequest, CreatePaymentRequest,
    CreatePaymentRequestReturnUrl, CreatePaymentRequestUserFlow, Currency, Customer, ForceApprove, IdempotencyKey, PaymentMethodType,
    Reference, RefundModificationRequest,
};
use vipps_epayment::strategies::{self, epayment as values};
use vipps_epayment::support::Rule;
use vipps_epayment::{CallOptions, Client, Error, IdempotentOptions};

use crate::recorder::Exchange;
use crate::spec::{percent_encode, spec};
use crate::target::Harness;
use crate::{Logged, TOKEN_OPERATION, config, dotted, logged, named_fields};

/// Random valid inputs for one pass over every operation.
#[derive(Debug, Clone)]
pub struct ShapeInput {
    /// A create request as generated: it may break the request-shape rules the schema cannot
    /// state (S10-S12), so any documented outcome will do.
    create: CreatePaymentRequest,
    /// A generated create request fixed up to the rulebook's request-shape rules: must be 201.
    order: CreatePaymentRequest,
    approve: ForceApprove,
    use_approval_token: bool,
    capture: CaptureModificationRequest,
    refund: RefundModificationRequest,
    cancel: Option<CancelModificationRequest>,
    system_headers: Vec<(&'static str, String)>,
}

fn system_headers() -> BoxedStrategy<Vec<(&'static str, String)>> {
    (
        proptest::option::of(values::vipps_system_name()),
        proptest::option::of(values::vipps_system_version()),
        proptest::option::of(values::vipps_system_plugin_name()),
        proptest::option::of(values::vipps_system_plugin_version()),
    )
        .prop_map(|(name, version, plugin, plugin_version)| {
            [
                ("Vipps-System-Name", name.as_ref().map(text)),
                ("Vipps-System-Version", version.as_ref().map(text)),
                ("Vipps-System-Plugin-Name", plugin.as_ref().map(text)),
                ("Vipps-System-Plugin-Version", plugin_version.as_ref().map(text)),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| (name, value)))
            .collect()
        })
        .boxed()
}

/// A generated string value as text.
fn text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value).expect("generated values serialize") {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// The rulebook's request-shape rules the schema cannot state (S10, S11, S12), applied to a
/// generated request: web redirect with a return URL, no `expiresAt`, a currency the method
/// allows, an amount above 0 (so something can be captured).
fn fix_up(mut request: CreatePaymentRequest) -> CreatePaymentRequest {
    request.user_flow = CreatePaymentRequestUserFlow::WebRedirect;
    if request.return_url.is_none() {
        request.return_url = Some(CreatePaymentRequestReturnUrl::new("https://shop.example.org/return").expect("valid URL"));
    }
    request.expires_at = None;
    if !matches!(request.payment_method.type_, PaymentMethodType::CardPassthrough)
        && !matches!(request.amount.currency, Currency::Nok | Currency::Dkk | Currency::Eur)
    {
        request.amount.currency = Currency::Nok;
    }
    request.customer = present(request.customer);
    if request.amount.value.get() == 0 {
        request.amount.value = AmountValue::new(1).expect("in range");
    }
    request
}

/// Rule S12: a customer holds exactly one of phone number, personal QR or customer token. The
/// spec allows an empty token; the simulator does not count it, so such a customer is dropped.
fn present(customer: Option<Customer>) -> Option<Customer> {
    match &customer {
        Some(Customer::CustomerToken(token)) if token.customer_token.as_deref().is_none_or(str::is_empty) => None,
        _ => customer,
    }
}

pub fn shape_input() -> impl Strategy<Value = ShapeInput> {
    (
        values::create_payment_request(),
        values::create_payment_request(),
        values::force_approve(),
        any::<bool>(),
        values::capture_modification_request(),
        values::refund_modification_request(),
        proptest::option::of(values::cancel_modification_request()),
        system_headers(),
    )
        .prop_map(|(create, order, approve, use_approval_token, capture, refund, cancel, system_headers)| ShapeInput {
            create,
            order: fix_up(order),
            approve,
            use_approval_token,
            capture,
            refund,
            cancel,
            system_headers,
        })
}

/// The input's system headers that `operation` declares (the client refuses the others before
/// sending, which `a_per_call_header_the_operation_does_not_declare_is_refused_not_dropped`
/// tests); [`check_logged`] still checks that undeclared ones are never sent.
fn call_options(input: &ShapeInput, operation: &str) -> CallOptions {
    let op = spec().operation(operation);
    input
        .system_headers
        .iter()
        .filter(|(name, _)| op.declares_header(name))
        .fold(CallOptions::new(), |options, (name, value)| options.system_header(*name, value.clone()))
}

fn keyed(input: &ShapeInput, operation: &str) -> IdempotentOptions<IdempotencyKey> {
    IdempotentOptions::new().call(call_options(input, operation))
}

/// `value` clamped to `1..=max` in `currency`.
fn within(currency: &Currency, value: i64, max: i64) -> Amount {
    Amount::new(currency.clone(), AmountValue::new(value.clamp(1, max.max(1))).expect("in range"))
}

/// Checks one logical call on the wire: it reached the server at least once, only as the
/// operation called; each request and answer matches the spec; system headers are sent exactly
/// where the spec declares them; a successful call got a documented answer.
pub fn check_logged(call: &Logged, succeeded: bool, system_headers: &[(&'static str, String)]) -> Result<(), TestCaseError> {
    let spec = spec();
    prop_assert!(!call.exchanges.is_empty(), "{}: nothing reached the server", call.operation);
    let op = spec.operation(call.operation);
    let mut problems = Vec::new();
    for exchange in &call.token_exchanges {
        problems.extend(spec.check_request(exchange, TOKEN_OPERATION));
    }
    for exchange in &call.exchanges {
        problems.extend(spec.check_request(exchange, call.operation));
        for (name, value) in system_headers {
            match (op.declares_header(name), exchange.header(name)) {
                (true, Some(sent)) if sent == value => {}
                (true, sent) => problems.push(format!("{}: system header {name} is {sent:?}, expected {value:?}", call.operation)),
                (false, Some(_)) => problems.push(format!("{}: sends {name}, which the operation does not declare", call.operation)),
                (false, None) => {}
            }
        }
    }
    let mut all = call.token_exchanges.clone();
    all.extend(call.exchanges.iter().cloned());
    for exchange in &all {
        if let Some(answer) = &exchange.answer {
            let op = spec.route(&exchange.method, &exchange.path).map(|(op, _)| op).unwrap_or(op);
            problems.extend(spec.check_answer(op, answer).1);
        }
    }
    if succeeded {
        let last = call.exchanges.last().and_then(|e| e.answer.as_ref());
        prop_assert!(last.is_some_and(|answer| spec.check_answer(op, answer).0), "{}: succeeded on an undocumented answer", call.operation);
    }
    prop_assert!(problems.is_empty(), "the wire breaks the spec:\n  {}", problems.join("\n  "));
    Ok(())
}

fn must<T>(operation: &str, result: Result<T, Error>) -> Result<T, TestCaseError> {
    result.map_err(|error| TestCaseError::fail(format!("{operation} failed: {error}")))
}

/// One pass over every operation with `input`; checks every exchange.
pub async fn every_operation(harness: &Harness, input: &ShapeInput) -> Result<(), TestCaseError> {
    let (client, _) = harness.client();
    let headers = &input.system_headers;
    let mut order = input.order.clone();
    order.reference = harness.fresh_reference("shape");
    let reference = order.reference.clone();
    if harness.is_live() {
        // Only the core of the generated order: the test environment need not accept every
        // optional feature (receipts, shipping, card passthrough) for a test merchant.
        let mut core = CreatePaymentRequest::new(
            order.amount.clone(),
            vipps_epayment::epayment::PaymentMethod::new(PaymentMethodType::Wallet),
            reference.clone(),
            CreatePaymentRequestUserFlow::WebRedirect,
        );
        core.return_url = order.return_url.clone();
        order = fix_up(core);
    }

    let (created, call) = logged(harness, "createPayment", client.create_payment(&order, keyed(input, "createPayment"))).await;
    check_logged(&call, created.is_ok(), headers)?;
    let created = must("createPayment (fixed up to rules S10-S12)", created)?;

    let (outcome, call) = logged(harness, "createPayment", client.create_payment(&input.create, keyed(input, "createPayment"))).await;
    check_logged(&call, outcome.is_ok(), headers)?;

    let mut approve = input.approve.clone();
    approve.customer = present(approve.customer);
    approve.token = match (&created.value.redirect_url, input.use_approval_token) {
        (Some(url), true) => url.split("token=").nth(1).map(str::to_string),
        _ => None,
    };
    if let Some(customer) = harness.test_customer() {
        approve.customer = Some(customer);
    }
    let (approved, call) = logged(harness, "forceApprove", client.force_approve(&reference, Some(&approve), call_options(input, "forceApprove"))).await;
    check_logged(&call, approved.is_ok(), headers)?;
    must("forceApprove", approved)?;

    let (got, call) = logged(harness, "getPayment", client.get_payment(&reference, call_options(input, "getPayment"))).await;
    check_logged(&call, got.is_ok(), headers)?;
    let got = must("getPayment", got)?;
    let authorized = got.aggregate.authorized_amount.value.get();
    let currency = got.amount.currency.clone();

    let capture = CaptureModificationRequest::new(within(&currency, input.capture.modification_amount.value.get(), authorized));
    let (captured, call) = logged(harness, "capturePayment", client.capture_payment(&reference, &capture, keyed(input, "capturePayment"))).await;
    check_logged(&call, captured.is_ok(), headers)?;
    let captured = must("capturePayment (within the authorized amount)", captured)?;
    let (outcome, call) = logged(harness, "capturePayment", client.capture_payment(&reference, &input.capture, keyed(input, "capturePayment"))).await;
    check_logged(&call, outcome.is_ok(), headers)?;

    let total = captured.value.aggregate.captured_amount.value.get();
    let refund = RefundModificationRequest::new(within(&currency, input.refund.modification_amount.value.get(), total));
    let (refunded, call) = logged(harness, "refundPayment", client.refund_payment(&reference, &refund, keyed(input, "refundPayment"))).await;
    check_logged(&call, refunded.is_ok(), headers)?;
    must("refundPayment (within the captured amount)", refunded)?;
    let (outcome, call) = logged(harness, "refundPayment", client.refund_payment(&reference, &input.refund, keyed(input, "refundPayment"))).await;
    check_logged(&call, outcome.is_ok(), headers)?;

    let (outcome, call) = logged(harness, "cancelPayment", client.cancel_payment(&reference, input.cancel.as_ref(), call_options(input, "cancelPayment"))).await;
    check_logged(&call, outcome.is_ok(), headers)?;

    let (events, call) = logged(harness, "getPaymentEventLog", client.get_payment_event_log(&reference, call_options(input, "getPaymentEventLog"))).await;
    check_logged(&call, events.is_ok(), headers)?;
    must("getPaymentEventLog", events)?;
    Ok(())
}

#[test]
fn valid_inputs_reach_the_server_as_the_spec_says() {
    let harness = Harness::simulator();
    let mut runner = TestRunner::new(config!(crate::cases(32), "contract-shapes.txt"));
    let result = runner.run(&shape_input(), |input| harness.block_on(every_operation(&harness, &input)));
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Sends a raw request through the recorder and returns the recorded exchange.
pub async fn raw(harness: &Harness, method: &str, path: &str, headers: &[(String, String)], body: Option<&[u8]>) -> Exchange {
    let http = reqwest::Client::new();
    let url = format!("{}{path}", harness.recorder.url());
    let mut request = http.request(method.parse().expect("method"), url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body.to_vec());
    }
    let mark = harness.recorder.mark();
    let _ = request.send().await.and_then(|response| response.error_for_status());
    harness.recorder.since(mark).pop().expect("the raw request was recorded")
}

/// Valid headers for a raw request to `operation` (the credentials of `client`).
pub async fn raw_headers(client: &Client, msn: &str, operation: &str) -> Vec<(String, String)> {
    let token = client.access_token().await.expect("token");
    let mut headers = vec![
        ("Authorization".to_string(), format!("Bearer {}", token.expose())),
        ("Ocp-Apim-Subscription-Key".to_string(), crate::target::SIM_SUBSCRIPTION_KEY.to_string()),
        ("Merchant-Serial-Number".to_string(), msn.to_string()),
        ("Content-Type".to_string(), "application/json".to_string()),
    ];
    if spec().operation(operation).declares_header("Idempotency-Key") {
        headers.push(("Idempotency-Key".to_string(), uuid::Uuid::new_v4().to_string()));
    }
    headers
}

/// The operation's path with its `{Reference}` filled in (from the spec's template).
fn path_of(operation: &str, reference: &str) -> String {
    spec().operation(operation).path.replace("{Reference}", &percent_encode(reference))
}

/// Whether a 400 Problem of `operation` names `field` exactly, or, for a member of a `oneOf`
/// union (which is read as a whole), the union.
fn names(operation: &str, exchange: &Exchange, field: &str) -> Result<(), String> {
    let Some(answer) = &exchange.answer else { return Err("no answer".to_string()) };
    let body = answer.json().unwrap_or(Value::Null);
    if answer.status != 400 {
        return Err(format!("answered {} instead of 400: {body}", answer.status));
    }
    let named = named_fields(&body);
    let op = spec().operation(operation);
    let hit = named.iter().any(|name| {
        name == field
            || ((field.starts_with(&format!("{name}.")) || field.starts_with(&format!("{name}["))) && spec().is_union(op, name))
    });
    if hit { Ok(()) } else { Err(format!("400 names {named:?}, not `{field}`: {body}")) }
}

/// Sends a typed body of `operation` through the client (for values the generated types keep).
async fn send_typed(client: &Client, operation: &str, reference: &Reference, json: &Value) -> Result<(), Error> {
    let parse = |what: &str| -> Error { Error::Config { message: format!("{what}: the generated type refuses the body") } };
    match operation {
        "createPayment" => {
            let body: CreatePaymentRequest = serde_json::from_value(json.clone()).map_err(|_| parse(operation))?;
            client.create_payment(&body, IdempotentOptions::new()).await.map(drop)
        }
        "capturePayment" => {
            let body: CaptureModificationRequest = serde_json::from_value(json.clone()).map_err(|_| parse(operation))?;
            client.capture_payment(reference, &body, IdempotentOptions::new()).await.map(drop)
        }
        "refundPayment" => {
            let body: RefundModificationRequest = serde_json::from_value(json.clone()).map_err(|_| parse(operation))?;
            client.refund_payment(reference, &body, IdempotentOptions::new()).await.map(drop)
        }
        "cancelPayment" => {
            let body: CancelModificationRequest = serde_json::from_value(json.clone()).map_err(|_| parse(operation))?;
            client.cancel_payment(reference, Some(&body), CallOptions::new()).await.map(drop)
        }
        "forceApprove" => {
            let body: ForceApprove = serde_json::from_value(json.clone()).map_err(|_| parse(operation))?;
            client.force_approve(reference, Some(&body), CallOptions::new()).await
        }
        other => panic!("no typed call for {other}"),
    }
}

#[test]
fn broken_bodies_are_refused_by_the_client_and_named_by_the_simulator() {
    let harness = Harness::simulator();
    let (client, msn) = harness.client();
    let reference = harness.fresh_reference("broken");
    harness.block_on(async {
        let order = fix_up(CreatePaymentRequest::new(
            Amount::new(Currency::Nok, AmountValue::new(10_000).unwrap()),
            vipps_epayment::epayment::PaymentMethod::new(PaymentMethodType::Wallet),
            reference.clone(),
            CreatePaymentRequestUserFlow::WebRedirect,
        ));
        client.create_payment(&order, IdempotentOptions::new()).await.expect("create");
    });
    // 214 sites: a quarter of `PROPTEST_CASES` each (at least 4) keeps a scaled-up run short.
    let per_site = (crate::cases(16) / 4).max(4);
    let mut sites = 0;
    let mut sent_by_client = 0;
    // What the spec document says the sites are (its own walk, not the generated tables).
    let mut derived_sites = 0;
    let mut derived_enum_sites = 0;
    for body in values::request_bodies() {
        let operation = body.operations[0];
        let path = path_of(operation, reference.as_str());
        let mut derived = spec().constraint_sites(spec().operation(operation));
        derived_sites += derived.len();
        derived_enum_sites += derived.iter().filter(|(_, rule)| *rule == "enum").count();
        let mut covered: Vec<(String, &str)> = (body.broken)().iter().map(|(site, _)| (site.pointer.to_string(), site.rule)).collect();
        derived.sort();
        covered.sort();
        assert_eq!(covered, derived, "{}: the broken-body strategies do not cover exactly the spec's constraint sites", body.type_name);
        for (site, strategy) in (body.broken)() {
            sites += 1;
            let mut runner = TestRunner::new(config!(per_site, "contract-broken-bodies.txt"));
            let result = runner.run(&strategy, |broken: strategies::Broken| {
                harness.block_on(async {
                    let field = dotted(&broken.pointer);
                    // The client: the generated type refuses the body, so no call can send it.
                    let typed = (body.roundtrip)(broken.json.clone());
                    if broken.typed_rejects {
                        prop_assert!(typed.is_err(), "{} {}: the generated type holds a broken body: {}", broken.pointer, broken.rule, broken.json);
                    } else {
                        // Unknown enum values are kept by the generated enums (forward
                        // compatibility): the client sends them and the server refuses them.
                        let mark = harness.recorder.mark();
                        let outcome = send_typed(&client, operation, &reference, &broken.json).await;
                        prop_assert_eq!(outcome.as_ref().err().and_then(Error::status), Some(400), "{}: {:?}", field, outcome.err());
                        let sent = harness.recorder.since(mark);
                        let last = sent.last().expect("sent");
                        names(operation, last, &field).map_err(|why| TestCaseError::fail(format!("{operation} {} {}: {why}", broken.pointer, broken.rule)))?;
                    }
                    // The simulator, sent the raw JSON.
                    let headers = raw_headers(&client, &msn, operation).await;
                    let bytes = serde_json::to_vec(&broken.json).expect("json");
                    let exchange = raw(&harness, "POST", &path, &headers, Some(&bytes)).await;
                    names(operation, &exchange, &field).map_err(|why| TestCaseError::fail(format!("{operation} {} {}: {why}\nbody: {}", broken.pointer, broken.rule, broken.json)))?;
                    let op = spec().operation(operation);
                    let (_, problems) = spec().check_answer(op, exchange.answer.as_ref().expect("answered"));
                    prop_assert!(problems.is_empty(), "the answer breaks the spec: {:?}", problems);
                    Ok(())
                })
            });
            if !site.typed_rejects {
                sent_by_client += 1;
            }
            if let Err(error) = result {
                panic!("{} {} {}: {error}", body.type_name, site.pointer, site.rule);
            }
        }
    }
    assert_eq!(sites, derived_sites, "broken-constraint sites exercised, against the spec's count");
    assert_eq!(sent_by_client, derived_enum_sites, "enum sites sent through the client, against the spec's count");
}

/// Strings that break the schema of a string parameter: read from the spec (`pattern`,
/// `minLength`, `maxLength`), never from the generated types.
fn broken_strings(schema: &Value) -> BoxedStrategy<String> {
    let min = schema["minLength"].as_u64().unwrap_or(0) as usize;
    let max = schema["maxLength"].as_u64().map(|m| m as usize);
    let mut options: Vec<BoxedStrategy<Value>> = Vec::new();
    if let Some(max) = max {
        options.push(strategies::longer_than(max));
    }
    if min > 1 {
        options.push(strategies::shorter_than(min));
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        let pattern: &'static str = Box::leak(pattern.to_string().into_boxed_str());
        options.push(strategies::not_matching(pattern, min.max(1), max));
    }
    proptest::strategy::Union::new(options)
        .prop_map(|value| value.as_str().unwrap_or_default().to_string())
        .prop_filter("a path segment the URL keeps", |value| !value.is_empty() && value != "." && value != "..")
        .boxed()
}

/// The schema of a parameter of `operation`, `$ref`s followed, as the spec document has it.
fn param_schema(operation: &str, name: &str) -> Value {
    let op = spec().operation(operation);
    let param = op.params.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{operation}: no parameter {name}"));
    spec().schema(op, param.schema.as_deref().expect("schema"))
}

/// The rule a generated type reports for a broken string is one the spec's `schema` declares,
/// with its limit, and `value` really breaks it.
fn broken_as_the_spec_says(rule: &Rule, schema: &Value, value: &str) -> Result<(), TestCaseError> {
    let length = value.chars().count();
    let limit = |key: &str| schema[key].as_u64().map(|n| n as usize);
    let ok = match rule {
        Rule::Pattern(pattern) => Some(*pattern) == schema["pattern"].as_str(),
        Rule::MinLength { min, actual } => Some(*min) == limit("minLength") && *actual == length && length < *min,
        Rule::MaxLength { max, actual } => Some(*max) == limit("maxLength") && *actual == length && length > *max,
        _ => false,
    };
    prop_assert!(ok, "{:?} refused for {:?}, which is not a rule of {} it breaks", value, rule, schema);
    Ok(())
}

#[test]
fn broken_parameters_are_refused_by_the_client_and_named_by_the_simulator() {
    let harness = Harness::simulator();
    let (client, msn) = harness.client();
    let reference = harness.fresh_reference("params");
    let cases = crate::cases(24);
    let amount = CaptureModificationRequest::new(Amount::new(Currency::Nok, AmountValue::new(100).unwrap()));
    let body = serde_json::to_vec(&amount).unwrap();
    let checks: [(&str, &str, &str); 3] = [
        ("capturePayment", "Reference", "Reference"),
        ("capturePayment", "Idempotency-Key", "Idempotency-Key"),
        ("capturePayment", "Vipps-System-Name", "Vipps-System-Name"),
    ];
    for (operation, param, field) in checks {
        let strategy = broken_strings(&param_schema(operation, param));
        let mut runner = TestRunner::new(config!(cases, "contract-broken-parameters.txt"));
        let result = runner.run(&strategy, |value| {
            harness.block_on(async {
                let mut headers = raw_headers(&client, &msn, operation).await;
                let mut path = path_of(operation, reference.as_str());
                // The client refuses before sending. `Reference` and `Idempotency-Key` are typed
                // arguments: the value never becomes one, so no call can carry it. A system
                // header is a plain string option: the call is made and must be refused with
                // the spec's limit, sending nothing.
                let schema = param_schema(operation, param);
                match param {
                    "Reference" => {
                        let refused = Reference::new(value.clone()).err();
                        let refused = refused.ok_or_else(|| TestCaseError::fail(format!("Reference::new accepts {value:?}")))?;
                        prop_assert_eq!(refused.type_name, "Reference");
                        broken_as_the_spec_says(&refused.rule, &schema, &value)?;
                        path = path_of(operation, &value);
                    }
                    "Idempotency-Key" => {
                        let refused = IdempotencyKey::new(value.clone()).err();
                        let refused = refused.ok_or_else(|| TestCaseError::fail(format!("IdempotencyKey::new accepts {value:?}")))?;
                        prop_assert_eq!(refused.type_name, "IdempotencyKey");
                        broken_as_the_spec_says(&refused.rule, &schema, &value)?;
                        headers.retain(|(name, _)| name != "Idempotency-Key");
                        headers.push(("Idempotency-Key".to_string(), value.clone()));
                    }
                    _ => {
                        let max_length = schema["maxLength"].as_u64().expect("the spec limits the system header's length");
                        let mark = harness.recorder.mark();
                        let options = IdempotentOptions::new().call(CallOptions::new().system_header(param, value.clone()));
                        let outcome = client.capture_payment(&reference, &amount, options).await;
                        let expected = format!("{param} is {} characters, above the spec's maxLength {max_length}", value.chars().count());
                        match &outcome {
                            Err(Error::InvalidInput { operation: refused_by, message }) => {
                                prop_assert_eq!(*refused_by, operation);
                                prop_assert_eq!(message, &expected);
                            }
                            other => prop_assert!(false, "{} = {:?}: expected InvalidInput ({}), got {:?}", param, value, expected, other),
                        }
                        prop_assert!(harness.recorder.since(mark).is_empty(), "the client sent a request it should have refused");
                        headers.push((param.to_string(), value.clone()));
                    }
                }
                // The simulator, sent it raw.
                let exchange = raw(&harness, "POST", &path, &headers, Some(&body)).await;
                names(operation, &exchange, field).map_err(|why| TestCaseError::fail(format!("{param} = {value:?}: {why}")))?;
                Ok(())
            })
        });
        if let Err(error) = result {
            panic!("{operation} {param}: {error}");
        }
    }
}
