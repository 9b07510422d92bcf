//! Snapshot of the emitted code and the lint warnings for one small spec per construct
//! (fixtures/constructs/*.yaml). That each fixture also compiles is checked by
//! `xtask/tests/standalone.rs`.

use std::path::{Path, PathBuf};

use vipps_codegen::load::load_document;
use vipps_codegen::{HeaderRoles, RemoteRefMap, Settings, generate_module_source};

fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/fixtures/constructs")
        .expect("fixture folder")
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Emitted source followed by the warnings, one per line.
fn render(path: &Path) -> String {
    let settings = Settings::defaults_for(HeaderRoles::default());
    let document = load_document(path).expect("fixture loads");
    let (api, source) =
        generate_module_source(document, &settings, "api", &RemoteRefMap::default()).expect("fixture generates");
    let warnings: Vec<String> = api.warnings.iter().map(ToString::to_string).collect();
    format!("{source}\n// ---- warnings ----\n{}\n", warnings.join("\n"))
}

#[test]
fn every_construct_fixture_matches_its_snapshot() {
    let files = fixtures();
    assert!(files.len() >= 10, "expected the construct fixtures, found {}", files.len());
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(name, render(&path));
    }
}

#[test]
fn generation_is_deterministic() {
    for path in fixtures() {
        assert_eq!(render(&path), render(&path), "{} differs between two runs", path.display());
    }
}
