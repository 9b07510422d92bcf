//! Laws of the generated proptest strategies (feature `proptest`), checked against the spec
//! document itself through an independent JSON Schema validator, not the serde types:
//! - every valid value of every type validates against its schema and round-trips through its
//!   generated type;
//! - every broken body fails validation at its site with the site's rule, breaks nothing
//!   elsewhere, and is refused by the generated type (except unknown enum values, which the
//!   generated enums keep by design);
//! - the site lists and the broken strategies agree.
//!
//! Cases per strategy: `PROPTEST_CASES`, default 32. Needs the `proptest` feature, which the
//! crate's dev-dependency on itself turns on for every test build (`cargo test -p
//! vipps-epayment`); without it this file does not compile, rather than compiling to no tests.

use std::path::Path;

use jsonschema::error::ValidationErrorKind;
use proptest::strategy::BoxedStrategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use vipps_codegen::json_schema::SpecSchemas;
use vipps_codegen::{RemoteRefMap, resolve_file};
use vipps_epayment::strategies::{self, Broken, RequestBody, TypeStrategy};

/// One spec document and its generated strategy tables.
struct Module {
    spec_file: &'static str,
    types: fn() -> Vec<TypeStrategy>,
    bodies: fn() -> Vec<RequestBody>,
}

const MODULES: &[Module] = &[
    Module { spec_file: "epayment.yaml", types: strategies::epayment::all_types, bodies: strategies::epayment::request_bodies },
    Module { spec_file: "access-token.yaml", types: strategies::access_token::all_types, bodies: strategies::access_token::request_bodies },
    Module { spec_file: "webhooks.yaml", types: strategies::webhooks::all_types, bodies: strategies::webhooks::request_bodies },
];

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32)
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() })
}

/// The spec document (the copy the crate was generated from), registered as JSON Schema.
fn converted(spec_file: &str) -> SpecSchemas {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec").join(spec_file);
    let resolved = resolve_file(&path, &RemoteRefMap::default()).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    SpecSchemas::new(&resolved.bundled).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// An error of the validator: where, and which keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SchemaError {
    path: String,
    keyword: String,
}

/// Every error, including those inside `anyOf`/`oneOf` contexts (a member of a union branch is
/// reported inside the union's error).
fn collect(error: &jsonschema::ValidationError<'_>, depth: usize, out: &mut Vec<(usize, SchemaError)>) {
    out.push((depth, SchemaError { path: error.instance_path().to_string(), keyword: error.kind().keyword().to_string() }));
    if let ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::OneOfMultipleValid { context } = error.kind() {
        for branch in context {
            for inner in branch {
                collect(inner, depth + 1, out);
            }
        }
    }
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<(usize, SchemaError)> {
    let mut out = Vec::new();
    for error in validator.iter_errors(instance) {
        collect(&error, 0, &mut out);
    }
    out
}

/// Whether `a` is `b`, above it, or below it (JSON pointers).
fn related(a: &str, b: &str) -> bool {
    let within = |inner: &str, outer: &str| inner == outer || inner.starts_with(&format!("{outer}/"));
    within(a, b) || within(b, a)
}

fn parent(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// Keywords a validator may report for a rule.
fn keywords(rule: &str) -> &'static [&'static str] {
    match rule {
        "minimum" => &["minimum", "exclusiveMinimum"],
        "maximum" => &["maximum", "exclusiveMaximum"],
        "pattern" => &["pattern"],
        "minLength" => &["minLength"],
        "maxLength" => &["maxLength"],
        "enum" => &["enum"],
        "type" => &["type"],
        "format" => &["format"],
        "required" => &["required"],
        "minItems" => &["minItems"],
        "maxItems" => &["maxItems"],
        "minProperties" => &["minProperties"],
        "maxProperties" => &["maxProperties"],
        "oneOf" => &["oneOf"],
        other => panic!("unknown rule {other}"),
    }
}

/// Checks one broken body: the validator names the site (the member, or for `required` the
/// object missing it) with the rule, every top-level error is on the site's path, and the
/// generated type refuses it (or, for an unknown enum value, keeps it unchanged).
fn check_broken(validator: &jsonschema::Validator, roundtrip: fn(Value) -> Result<Value, String>, broken: &Broken) -> Result<(), TestCaseError> {
    let found = errors(validator, &broken.json);
    let at = if broken.rule == "required" { parent(&broken.pointer) } else { broken.pointer.as_str() };
    let named = found.iter().any(|(_, e)| e.path == at && keywords(broken.rule).contains(&e.keyword.as_str()));
    proptest::prop_assert!(named, "{} {}: the validator does not report it; errors: {found:?}\nbody: {}", broken.pointer, broken.rule, broken.json);
    let elsewhere: Vec<&SchemaError> = found.iter().filter(|(depth, e)| *depth == 0 && !related(&e.path, at)).map(|(_, e)| e).collect();
    proptest::prop_assert!(elsewhere.is_empty(), "{} {}: more than one rule broken: {elsewhere:?}\nbody: {}", broken.pointer, broken.rule, broken.json);
    match roundtrip(broken.json.clone()) {
        Err(_) => proptest::prop_assert!(broken.typed_rejects, "{} {}: refused by the generated type, but the site says it is kept", broken.pointer, broken.rule),
        Ok(back) => {
            proptest::prop_assert!(!broken.typed_rejects, "{} {}: the generated type accepts it\nbody: {}", broken.pointer, broken.rule, broken.json);
            proptest::prop_assert_eq!(back, broken.json.clone(), "a kept value must round-trip unchanged");
        }
    }
    Ok(())
}

fn check_valid(validator: &jsonschema::Validator, roundtrip: fn(Value) -> Result<Value, String>, name: &str, strategy: BoxedStrategy<Value>) {
    runner()
        .run(&strategy, |value| {
            let found = errors(validator, &value);
            proptest::prop_assert!(found.is_empty(), "{name}: a valid value fails its schema: {found:?}\nvalue: {value}");
            let back = roundtrip(value.clone()).map_err(|err| TestCaseError::fail(format!("{name}: a valid value does not deserialize: {err}\nvalue: {value}")))?;
            proptest::prop_assert_eq!(back, value, "{}: the round trip changes the value", name);
            Ok(())
        })
        .unwrap_or_else(|err| panic!("{err}"));
}

#[test]
fn every_valid_value_satisfies_its_schema_and_round_trips() {
    for module in MODULES {
        let document = converted(module.spec_file);
        let types = (module.types)();
        assert!(!types.is_empty(), "{}: no strategies", module.spec_file);
        for entry in types {
            let validator = document.validator(entry.schema_pointer).unwrap_or_else(|err| panic!("{}: {err}", entry.type_name));
            check_valid(&validator, entry.roundtrip, entry.type_name, (entry.valid)());
        }
    }
}

#[test]
fn every_valid_request_body_satisfies_its_schema_and_round_trips() {
    for module in MODULES {
        let document = converted(module.spec_file);
        for body in (module.bodies)() {
            let validator = document.validator(body.schema_pointer).unwrap_or_else(|err| panic!("{}: {err}", body.type_name));
            check_valid(&validator, body.roundtrip, body.type_name, (body.valid)());
        }
    }
}

#[test]
fn every_broken_body_breaks_exactly_its_site_and_is_refused() {
    for module in MODULES {
        let document = converted(module.spec_file);
        for body in (module.bodies)() {
            let validator = document.validator(body.schema_pointer).unwrap_or_else(|err| panic!("{}: {err}", body.type_name));
            for (site, strategy) in (body.broken)() {
                runner()
                    .run(&strategy, |broken| {
                        proptest::prop_assert_eq!((broken.pointer.as_str(), broken.rule), (site.pointer, site.rule));
                        check_broken(&validator, body.roundtrip, &broken)
                    })
                    .unwrap_or_else(|err| panic!("{} {} {}: {err}", body.type_name, site.pointer, site.rule));
            }
        }
    }
}

#[test]
fn site_lists_match_the_broken_strategies_and_are_unique() {
    for module in MODULES {
        for body in (module.bodies)() {
            let listed: Vec<_> = (body.broken)().into_iter().map(|(site, _)| site).collect();
            assert_eq!(listed, body.sites, "{}: the site list and the broken strategies differ", body.type_name);
            let unique: std::collections::BTreeSet<_> = body.sites.iter().map(|s| (s.pointer, s.rule)).collect();
            assert_eq!(unique.len(), body.sites.len(), "{}: a site is listed twice", body.type_name);
        }
    }
}

#[test]
fn the_epayment_bodies_are_the_client_side_request_bodies() {
    let names: Vec<&str> = strategies::epayment::request_bodies().iter().map(|b| b.type_name).collect();
    assert_eq!(names, ["CreatePaymentRequest", "CancelModificationRequest", "CaptureModificationRequest", "RefundModificationRequest", "ForceApprove"]);
    // The merchant-served callback body is not a client request.
    assert!(strategies::epayment::all_types().iter().all(|t| t.type_name != "DynamicShippingGroupsRequest"));
    // Constrained parameters get strategies too.
    for parameter_type in ["Reference", "IdempotencyKey", "Msn"] {
        assert!(strategies::epayment::all_types().iter().any(|t| t.type_name == parameter_type), "{parameter_type}");
    }
}
