//! Every example in our spec documents and in the official ePayment 1.8.1 document round-trips
//! through its generated type: deserialize, serialize, compare the JSON. Examples that break
//! their own schema are listed below with the reason; the list is checked both ways (a listed
//! example that starts to pass must be removed from it).

mod roundtrip;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vipps_codegen::ir::TypeRef;
use vipps_codegen::lint::example_sites;
use vipps_codegen::{HeaderRoles, RemoteRefMap, Settings, lower_file};

type Dispatch = fn(&str, Value) -> Option<Result<Value, String>>;

/// Official 1.8.1 examples that do not satisfy their own schema, so cannot round-trip.
const OFFICIAL_1_8_1_BREAKS: &[(&str, &str)] = &[
    ("/components/schemas/State/example", "a list given as the example of a string enum"),
    ("/components/schemas/BottomLine/x-examples/BottomLineExample", "the example value is a list holding a $ref, not an object"),
    ("/components/schemas/CreatePaymentRequest/x-examples/example with order lines", "order lines are $ref objects inside the value, not data"),
    ("/components/schemas/Receipt/x-examples/ReceiptExample", "order lines are $ref objects inside the value, not data"),
    ("/components/schemas/OrderLine/x-examples/OrderLineExample", "the example value is a $ref object, not an order line"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn roundtrip_as<T: serde::de::DeserializeOwned + serde::Serialize>(value: Value) -> Result<Value, String> {
    let parsed: T = serde_json::from_value(value).map_err(|err| err.to_string())?;
    serde_json::to_value(&parsed).map_err(|err| err.to_string())
}

fn roundtrip_ref(ty: &TypeRef, value: Value, dispatch: Dispatch) -> Result<Value, String> {
    match ty {
        TypeRef::Named(name) => dispatch(name, value).unwrap_or_else(|| Err(format!("no generated type {name}"))),
        TypeRef::String => roundtrip_as::<String>(value),
        TypeRef::Bool => roundtrip_as::<bool>(value),
        TypeRef::I32 => roundtrip_as::<i32>(value),
        TypeRef::I64 => roundtrip_as::<i64>(value),
        TypeRef::F32 => roundtrip_as::<f32>(value),
        TypeRef::F64 => roundtrip_as::<f64>(value),
        TypeRef::DateTime => roundtrip_as::<chrono::DateTime<chrono::Utc>>(value),
        TypeRef::Date => roundtrip_as::<chrono::NaiveDate>(value),
        TypeRef::Uuid => roundtrip_as::<uuid::Uuid>(value),
        TypeRef::Json => Ok(value),
        TypeRef::Vec(inner) => match value {
            Value::Array(items) => items.into_iter().map(|item| roundtrip_ref(inner, item, dispatch)).collect::<Result<_, _>>().map(Value::Array),
            other => Err(format!("expected an array, got {other}")),
        },
        TypeRef::Map(inner) => match value {
            Value::Object(map) => map
                .into_iter()
                .map(|(key, item)| roundtrip_ref(inner, item, dispatch).map(|item| (key, item)))
                .collect::<Result<_, _>>()
                .map(Value::Object),
            other => Err(format!("expected an object, got {other}")),
        },
    }
}

/// Equal as JSON, where an absent member equals `null` and two date-times are equal when they
/// name the same instant (`...:00Z` and `...:00.000+00:00`).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| same_json(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(l, r)| same_json(l, r)),
        (Value::String(x), Value::String(y)) if x != y => {
            match (chrono::DateTime::parse_from_rfc3339(x), chrono::DateTime::parse_from_rfc3339(y)) {
                (Ok(l), Ok(r)) => l == r,
                _ => false,
            }
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Round-trips every example of a document; returns pointer -> failure.
fn failures(path: &Path, module: &str, dispatch: Dispatch) -> (usize, BTreeMap<String, String>) {
    let settings = Settings::defaults_for(HeaderRoles::default());
    let (resolved, api) = lower_file(path, &settings, module, &RemoteRefMap::default()).expect("spec lowers");
    let sites = example_sites(&resolved.bundled);
    let mut failed = BTreeMap::new();
    for site in &sites {
        let Some(ty) = api.schema_index.get(&site.schema_pointer) else {
            failed.insert(site.pointer.clone(), format!("no generated type for the schema at {}", site.schema_pointer));
            continue;
        };
        match roundtrip_ref(ty, site.value.clone(), dispatch) {
            Ok(back) if same_json(site.value, &back) => {}
            Ok(back) => {
                failed.insert(site.pointer.clone(), format!("changed in the round trip: {} -> {back}", site.value));
            }
            Err(err) => {
                failed.insert(site.pointer.clone(), err);
            }
        }
    }
    (sites.len(), failed)
}

#[test]
fn every_example_of_our_epayment_spec_round_trips() {
    let (count, failed) = failures(&workspace().join("spec/epayment.yaml"), "epayment", roundtrip::epayment::roundtrip);
    assert!(count > 50, "expected our spec's examples, found {count}");
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn every_example_of_our_access_token_spec_round_trips() {
    let (count, failed) = failures(&workspace().join("spec/access-token.yaml"), "access_token", roundtrip::access_token::roundtrip);
    assert!(count > 5, "expected our spec's examples, found {count}");
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn every_example_of_our_webhooks_spec_round_trips() {
    let (count, failed) = failures(&workspace().join("spec/webhooks.yaml"), "webhooks", roundtrip::webhooks::roundtrip);
    assert_eq!(count, 29, "our webhooks spec's examples");
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn every_official_1_8_1_example_round_trips_except_the_listed_schema_breakers() {
    let Some(path) = vipps_codegen::shared::official_document(&workspace(), "epayment-1.8.1.yaml") else { return };
    let (count, failed) = failures(&path, "epayment", roundtrip::epayment::roundtrip);
    assert!(count > 50, "expected the official examples, found {count}");
    let listed: BTreeMap<String, String> = OFFICIAL_1_8_1_BREAKS.iter().map(|(p, r)| (p.to_string(), r.to_string())).collect();
    let unexpected: Vec<(&String, &String)> = failed.iter().filter(|(p, _)| !listed.contains_key(*p)).collect();
    assert!(unexpected.is_empty(), "examples that fail without a listed reason: {unexpected:#?}");
    let now_passing: Vec<&String> = listed.keys().filter(|p| !failed.contains_key(*p)).collect();
    assert!(now_passing.is_empty(), "listed as breaking but they round-trip now; remove them from the list: {now_passing:?}");
}
