//! Behaviour of the generated models that the spec's constraints imply: validated newtypes,
//! forward-compatible enums, the `Customer` union, maps with limits, required-and-nullable.

use serde_json::json;
use vipps_epayment::epayment::{
    AmountValue, CreatePaymentRequestPaymentDescription, Currency, Customer, Metadata, Msn, Reference, State, UnitInfo,
};
use vipps_epayment::support::Rule;

#[test]
fn newtypes_check_pattern_length_and_bounds_and_name_type_field_and_rule() {
    assert!(Reference::new("order-0001").is_ok());
    let err = Reference::new("short").unwrap_err();
    assert_eq!(err.type_name, "Reference");
    assert_eq!(err.rule, Rule::MinLength { min: 8, actual: 5 });
    let err = Reference::new("has spaces in it").unwrap_err();
    assert!(matches!(err.rule, Rule::Pattern(_)), "{err}");
    // ECMA `\d` is ASCII only: an Arabic-Indic digit is not a digit here.
    assert!(Msn::new("1234").is_ok());
    assert!(Msn::new("12\u{0663}4").is_err());
    let err = CreatePaymentRequestPaymentDescription::new("ab").unwrap_err();
    assert_eq!(err.field, "paymentDescription");
    assert_eq!(err.to_string(), "CreatePaymentRequestPaymentDescription (field `paymentDescription`): value length 2 is below minLength 3");
    assert!(AmountValue::new(65_000_000).is_ok());
    assert_eq!(AmountValue::new(65_000_001).unwrap_err().rule, Rule::Maximum { max: "65000000".into(), exclusive: false });
    assert!(AmountValue::new(-1).is_err());
}

#[test]
fn deserialization_checks_the_same_rules() {
    assert!(serde_json::from_value::<Reference>(json!("order-0001")).is_ok());
    let err = serde_json::from_value::<Reference>(json!("x")).unwrap_err().to_string();
    assert!(err.contains("Reference") && err.contains("minLength"), "{err}");
    let err = serde_json::from_value::<AmountValue>(json!(70_000_000)).unwrap_err().to_string();
    assert!(err.contains("maximum"), "{err}");
}

#[test]
fn enums_keep_values_the_spec_does_not_list() {
    let state: State = serde_json::from_value(json!("PARTIALLY_REFUNDED")).unwrap();
    assert_eq!(state, State::Unknown("PARTIALLY_REFUNDED".into()));
    assert!(!state.is_known());
    assert_eq!(serde_json::to_value(&state).unwrap(), json!("PARTIALLY_REFUNDED"));
    assert_eq!(serde_json::from_value::<Currency>(json!("NOK")).unwrap(), Currency::Nok);
    // The listed values are exactly the spec's, in its order, each known and read back as itself.
    let spec_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/epayment.yaml");
    let spec: serde_json::Value = yaml_serde::from_str(&std::fs::read_to_string(&spec_path).unwrap()).unwrap();
    let listed: Vec<&str> = spec["components"]["schemas"]["State"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let known: Vec<&str> = State::KNOWN.iter().map(State::as_str).collect();
    assert_eq!(known, listed);
    for wire in listed {
        let state: State = serde_json::from_value(json!(wire)).unwrap();
        assert!(state.is_known() && !matches!(state, State::Unknown(_)), "{wire}");
        assert_eq!(state.as_str(), wire);
    }
}

#[test]
fn customer_takes_exactly_one_of_its_branches() {
    let phone: Customer = serde_json::from_value(json!({ "phoneNumber": "4791234567" })).unwrap();
    assert!(matches!(phone, Customer::CustomerPhoneNumber(_)));
    assert_eq!(serde_json::to_value(&phone).unwrap(), json!({ "phoneNumber": "4791234567" }));
    let token: Customer = serde_json::from_value(json!({ "customerToken": "tok-1" })).unwrap();
    assert!(matches!(token, Customer::CustomerToken(_)));
    let two = serde_json::from_value::<Customer>(json!({ "phoneNumber": "4791234567", "customerToken": "tok-1" }));
    assert!(two.unwrap_err().to_string().contains("more than one"));
    let none = serde_json::from_value::<Customer>(json!({}));
    assert!(none.unwrap_err().to_string().contains("no branch"));
    // The chosen branch still checks its own rules.
    assert!(serde_json::from_value::<Customer>(json!({ "phoneNumber": "12" })).is_err());
}

#[test]
fn maps_enforce_max_properties() {
    let five: std::collections::BTreeMap<String, String> = (0..5).map(|i| (format!("k{i}"), "v".into())).collect();
    assert!(Metadata::new(five.clone()).is_ok());
    let mut six = five;
    six.insert("k5".into(), "v".into());
    assert_eq!(Metadata::new(six.clone()).unwrap_err().rule, Rule::MaxProperties { max: 5, actual: 6 });
    assert!(serde_json::from_value::<Metadata>(serde_json::to_value(&six).unwrap()).is_err());
}

#[test]
fn required_nullable_must_be_present_but_may_be_null() {
    let with_null: UnitInfo = serde_json::from_value(json!({ "unitPrice": null, "quantity": "2" })).unwrap();
    assert_eq!(with_null.unit_price, None);
    // Written back as an explicit null, never dropped.
    assert_eq!(serde_json::to_value(&with_null).unwrap()["unitPrice"], json!(null));
    let missing = serde_json::from_value::<UnitInfo>(json!({ "quantity": "2" }));
    assert!(missing.unwrap_err().to_string().contains("unitPrice"));
}

#[test]
fn string_enums_order_by_wire_value_not_declaration() {
    use vipps_epayment::epayment::State;
    // Declared CREATED, ABORTED, EXPIRED, AUTHORIZED, TERMINATED; ordered by the wire text, so a
    // value a later spec inserts cannot reorder these.
    let mut states = State::KNOWN.to_vec();
    states.sort();
    let wire: Vec<&str> = states.iter().map(State::as_str).collect();
    assert_eq!(wire, ["ABORTED", "AUTHORIZED", "CREATED", "EXPIRED", "TERMINATED"]);
    // An unlisted value with a listed value's text sorts right after it and is not equal to it.
    let unknown = State::Unknown("AUTHORIZED".to_string());
    assert!(State::Authorized < unknown && unknown < State::Created);
    assert_ne!(State::Authorized, unknown);
}

/// The system headers are defined alike by all three documents, so they are one type of the
/// crate (the generator's common module), reachable under each module's path; the rule still
/// holds (`maxLength` 30).
#[test]
fn a_system_header_type_is_one_type_under_every_module() {
    fn webhooks_from_epayment(value: vipps_epayment::epayment::VippsSystemName) -> vipps_epayment::webhooks::VippsSystemName {
        value
    }
    fn access_token_from_webhooks(value: vipps_epayment::webhooks::VippsSystemName2) -> vipps_epayment::access_token::VippsSystemName {
        value
    }
    let name = vipps_epayment::epayment::VippsSystemName::new("acme-shop").expect("within 30");
    assert_eq!(access_token_from_webhooks(webhooks_from_epayment(name)).as_str(), "acme-shop");
    let error = vipps_epayment::access_token::VippsSystemName::new("x".repeat(31)).expect_err("31 is over the limit");
    assert_eq!(error.rule, Rule::MaxLength { max: 30, actual: 31 });
    assert_eq!(error.type_name, "VippsSystemName");
}
