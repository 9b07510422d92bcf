//! How parameter values go on the wire, decided in lowering (`ir::ParamEncoding`): scalars as
//! text, arrays per item (query, exploded `form`: the default) or comma-joined (path and header
//! `simple`, or `explode: false`), `content` parameters as JSON text.

use vipps_codegen::ir::{ParamEncoding, TypeRef};
use vipps_codegen::{HeaderRoles, Lint, RemoteRefMap, Settings, lower_file};

#[test]
fn each_parameter_gets_the_encoding_of_its_style() {
    let settings = Settings::defaults_for(HeaderRoles::default());
    let path = std::path::Path::new("tests/fixtures/constructs/real_world.yaml");
    let (_, api) = lower_file(path, &settings, "api", &RemoteRefMap::default()).expect("the fixture lowers");
    let encodings: Vec<(String, String, ParamEncoding)> =
        api.operations.iter().flat_map(|op| op.params.iter().map(move |p| (op.id.clone(), p.wire_name.clone(), p.encoding))).collect();
    let expected = [
        ("listThings", "sort", ParamEncoding::Text),
        ("listThings", "kinds", ParamEncoding::Exploded),
        ("getThings", "ids", ParamEncoding::Joined),
        ("getThings", "X-Tags", ParamEncoding::Joined),
        ("getThings", "pick", ParamEncoding::Joined),
        ("getThings", "since", ParamEncoding::Text),
        ("getThings", "batch", ParamEncoding::Exploded),
        ("getThings", "some", ParamEncoding::Exploded),
        ("getThings", "filter", ParamEncoding::Json),
    ];
    assert_eq!(encodings, expected.map(|(op, name, encoding)| (op.to_string(), name.to_string(), encoding)));
    let kinds = &api.operations[0].params[1];
    assert!(matches!(&kinds.ty, TypeRef::Vec(inner) if **inner == TypeRef::Named("KindsItem".into())), "an inline enum of items is a type: {:?}", kinds.ty);
    let param = |op: usize, name: &str| api.operations[op].params.iter().find(|p| p.wire_name == name).expect("declared").clone();
    assert!(param(1, "since").rfc3339, "a date-time is written as RFC 3339");
    assert!(!param(1, "batch").via_slice, "an alias of an array is the array");
    assert!(param(1, "some").via_slice, "an array with minItems is a validated newtype, read with as_slice");
    let filter = &api.operations[1].params[6];
    assert_eq!(filter.ty, TypeRef::Named("Cat".into()), "a content parameter is typed by its media type's schema");
    assert!(api.warnings.iter().all(|w| w.lint != Lint::Ignored || !w.location.pointer.starts_with("/paths/")), "no parameter needed a fallback");
}
