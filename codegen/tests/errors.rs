//! Bad input gets a located error naming the rule, never a panic; refs across files and mapped
//! remote URLs resolve.

use std::path::PathBuf;

use vipps_codegen::load::parse_document;
use vipps_codegen::settings::RemoteRefEntry;
use vipps_codegen::{Error, ErrorKind, HeaderRoles, RemoteRefMap, Settings, generate_module_source, sha256_hex};

const REMOTE: &str = "https://example.invalid/specs/receipt.yaml";

fn generate(text: &str) -> Result<String, Error> {
    generate_with(text, &RemoteRefMap::default())
}

fn generate_with(text: &str, refs: &RemoteRefMap) -> Result<String, Error> {
    let document = parse_document(PathBuf::from("inline.yaml"), text.to_string())?;
    let settings = Settings::defaults_for(HeaderRoles::default());
    generate_module_source(document, &settings, "api", refs).map(|(_, source)| source)
}

const HEAD: &str = "openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths: {}\n";

#[test]
fn malformed_yaml_names_line_and_column() {
    let err = generate("openapi: 3.0.3\ninfo:\n  title: [unclosed\n  version: 1\n").unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Syntax(_)), "{err}");
    assert_eq!(err.location.line, Some(4), "{err}");
    assert!(err.location.column.is_some(), "{err}");
    assert!(err.to_string().starts_with("inline.yaml:4:"), "{err}");
}

#[test]
fn unknown_ref_names_the_site_and_the_target() {
    let text = format!("{HEAD}components:\n  schemas:\n    A:\n      type: object\n      properties:\n        b:\n          $ref: '#/components/schemas/Missing'\n");
    let err = generate(&text).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownRef("#/components/schemas/Missing".into()));
    assert_eq!(err.location.pointer, "/components/schemas/A/properties/b/$ref");
    assert_eq!(err.location.line, Some(10), "{err}");
}

#[test]
fn pure_ref_cycle_is_an_error() {
    let text = format!("{HEAD}components:\n  schemas:\n    A:\n      $ref: '#/components/schemas/B'\n    B:\n      $ref: '#/components/schemas/A'\n");
    let err = generate(&text).unwrap_err();
    assert!(matches!(&err.kind, ErrorKind::RefCycle(chain) if chain.len() >= 2), "{err}");
    assert!(err.location.pointer.starts_with("/components/schemas/"), "{err}");
}

#[test]
fn recursion_through_properties_is_fine_and_boxed() {
    let text = format!("{HEAD}components:\n  schemas:\n    A:\n      type: object\n      properties:\n        next:\n          $ref: '#/components/schemas/A'\n");
    let source = generate(&text).expect("recursive schema generates");
    assert!(source.contains("pub next: Option<Box<A>>"), "{source}");
}

#[test]
fn unsupported_construct_names_the_pointer() {
    let text = format!("{HEAD}components:\n  schemas:\n    A:\n      type: object\n      properties:\n        b:\n          not:\n            type: string\n");
    let err = generate(&text).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Unsupported(_)), "{err}");
    assert_eq!(err.location.pointer, "/components/schemas/A/properties/b");
    assert_eq!(err.location.line, Some(9), "{err}");
}

#[test]
fn a_pattern_the_regex_engine_cannot_compile_is_a_located_warning_and_not_checked() {
    // The value still has a Rust shape (a String); only the rule cannot be checked.
    let text = format!("{HEAD}components:\n  schemas:\n    A:\n      type: string\n      pattern: '(?<=a)b'\n");
    let source = generate(&text).expect("generates");
    assert!(!source.contains("fn check("), "no newtype that checks nothing:\n{source}");
    let pattern_line = text.lines().position(|line| line.trim_start().starts_with("pattern:")).map(|index| index + 1);
    let document = parse_document("inline.yaml".into(), text).expect("parses");
    let resolved = vipps_codegen::resolve(document, &RemoteRefMap::default()).expect("resolves");
    let api = vipps_codegen::lower::lower(&resolved, &Settings::defaults_for(HeaderRoles::default()), "inline").expect("lowers");
    let warning = api.warnings.iter().find(|w| w.location.pointer == "/components/schemas/A/pattern").expect("a warning at the pattern");
    assert_eq!(warning.lint, vipps_codegen::Lint::Ignored);
    assert_eq!(warning.location.line, pattern_line);
    assert!(warning.message.contains("does not compile") && warning.message.contains("not checked"), "{}", warning.message);
}

#[test]
fn a_swagger_2_document_is_refused_with_what_would_make_it_work() {
    let text = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n".to_string();
    let err = generate(&text).unwrap_err();
    assert!(matches!(&err.kind, ErrorKind::Unsupported(m) if m.contains("Swagger \"2.0\" document is not OpenAPI 3") && m.contains("convert it")), "{err}");
    assert_eq!((err.location.pointer.as_str(), err.location.line), ("/swagger", Some(1)));
}

#[test]
fn wrong_shape_is_located() {
    let text = format!("{HEAD}components:\n  schemas:\n    A:\n      type: object\n      required: notalist\n");
    let err = generate(&text).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Shape(_)), "{err}");
    assert!(err.location.pointer.starts_with("/components/schemas/A"), "{err}");
}

#[test]
fn openapi_31_is_refused() {
    let err = generate("openapi: 3.1.0\ninfo: { title: t, version: '1' }\npaths: {}\n").unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Unsupported(ref m) if m.contains("3.0")), "{err}");
}

fn refs_fixture() -> (PathBuf, String) {
    let path = PathBuf::from("tests/fixtures/refs/main.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

fn generate_refs(refs: &RemoteRefMap) -> Result<String, Error> {
    let (path, text) = refs_fixture();
    let document = parse_document(path, text)?;
    let settings = Settings::defaults_for(HeaderRoles::default());
    generate_module_source(document, &settings, "api", refs).map(|(_, source)| source)
}

#[test]
fn unmapped_remote_ref_names_the_url_and_the_pointer() {
    let err = generate_refs(&RemoteRefMap::default()).unwrap_err();
    assert!(matches!(&err.kind, ErrorKind::UnmappedRemoteRef(url) if url.starts_with(REMOTE)), "{err}");
    assert_eq!(err.location.pointer, "/components/schemas/Order/properties/receipt/$ref");
    assert_eq!(err.location.file, PathBuf::from("tests/fixtures/refs/main.yaml"));
}

fn mapped(sha256: Option<String>) -> RemoteRefMap {
    let mut refs = RemoteRefMap::default();
    refs.entries.insert(REMOTE.into(), RemoteRefEntry { file: "tests/fixtures/refs/receipt.yaml".into(), sha256 });
    refs
}

#[test]
fn mapped_remote_and_local_file_refs_are_bundled() {
    let sha = sha256_hex(&std::fs::read("tests/fixtures/refs/receipt.yaml").unwrap());
    let source = generate_refs(&mapped(Some(sha))).expect("mapped refs generate");
    for wanted in ["pub struct Receipt", "pub struct Line", "pub struct Address", "pub struct Country(String)", "pub receipt: Option<Receipt>"] {
        assert!(source.contains(wanted), "missing {wanted}:\n{source}");
    }
}

#[test]
fn a_mapped_file_with_another_checksum_is_refused() {
    let err = generate_refs(&mapped(Some("00".repeat(32)))).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::ChecksumMismatch { .. }), "{err}");
}

#[test]
fn errors_inside_an_imported_file_point_into_that_file() {
    let dir = std::env::temp_dir().join(format!("vipps-codegen-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("other.yaml"), "components:\n  schemas:\n    X:\n      type: object\n      properties:\n        y:\n          $ref: '#/components/schemas/Nope'\n").unwrap();
    let main = format!("{HEAD}components:\n  schemas:\n    A:\n      $ref: 'other.yaml#/components/schemas/X'\n");
    let document = parse_document(dir.join("main.yaml"), main).unwrap();
    let settings = Settings::defaults_for(HeaderRoles::default());
    let err = generate_module_source(document, &settings, "api", &RemoteRefMap::default()).unwrap_err();
    assert_eq!(err.location.file, dir.join("other.yaml"), "{err}");
    assert_eq!(err.location.line, Some(7), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Module names that would put two modules in one file of the generated tree are refused when
/// the settings load, naming the settings file and both holders.
#[test]
fn settings_whose_modules_clash_are_refused_with_both_names() {
    let dir = std::env::temp_dir().join(format!("vipps-settings-clash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cases = [
        ("  - { file: a.yaml, module: common }\n", "'common' (for the models of 'common') is already taken by the generated tree's own module 'common'"),
        ("  - { file: a.yaml, module: pay }\n  - { file: b.yaml, module: pay_client }\n", "'pay_client' (for the models of 'pay_client') is already taken by the client of 'pay'"),
        ("  - { file: a.yaml, module: pay }\n  - { file: b.yaml, module: pay }\n", "'pay' (for the models of 'pay') is already taken by the models of 'pay'"),
    ];
    for (specs, expected) in cases {
        let path = dir.join("codegen.yaml");
        std::fs::write(&path, format!("headers:\n  authorization: Authorization\n  subscription_key: Ocp-Apim-Subscription-Key\n  merchant_serial_number: Merchant-Serial-Number\n  idempotency_key: Idempotency-Key\n  system_header_prefix: Vipps-System-\nspecs:\n{specs}")).expect("write settings");
        let error = vipps_codegen::load_settings(&path).expect_err(specs);
        assert_eq!(error.location.file, path);
        match &error.kind {
            ErrorKind::Settings(message) => assert_eq!(message, &format!("the specs' modules clash: {expected}")),
            other => panic!("not a settings error: {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
