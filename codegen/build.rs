//! Two jobs, both about what the generator embeds:
//! - its fingerprint: a sha256 over its own sources, its manifest and the workspace's lock file
//!   (dependency versions, e.g. of prettyplease, shape the output too). The generation stamp
//!   records it, so a changed generator never passes the stamp's fast freshness check;
//! - the support modules formatted once: `src/emit/*.rs.in` are spec-independent, so they are
//!   parsed and printed with prettyplease here, as the format stage would, and the generator
//!   writes the text as it is instead of formatting the same thousand lines on every run.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The spec-independent modules the generator emits as they are, formatted here.
const FORMATTED_TEMPLATES: &[&str] = &["support.rs.in", "strategy_support.rs.in"];

/// Formats a template exactly as the format stage formats emitted tokens.
fn format_template(name: &str, text: &str) -> String {
    let tokens: proc_macro2::TokenStream = text.parse().unwrap_or_else(|err| panic!("src/emit/{name} does not tokenize: {err}"));
    let file: syn::File = syn::parse2(tokens).unwrap_or_else(|err| panic!("src/emit/{name} does not parse as Rust: {err}"));
    prettyplease::unparse(&file)
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_under(&manifest_dir.join("src"), &mut files);
    files.push(manifest_dir.join("Cargo.toml"));
    files.push(manifest_dir.join("../Cargo.lock"));
    files.sort();
    let mut hasher = Sha256::new();
    for file in &files {
        let relative = file.strip_prefix(&manifest_dir).unwrap_or(file);
        hasher.update(relative.to_string_lossy().replace('\\', "/").as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(file).unwrap_or_default());
        hasher.update([0]);
    }
    let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=VIPPS_CODEGEN_FINGERPRINT={digest}");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for name in FORMATTED_TEMPLATES {
        let path = manifest_dir.join("src/emit").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
        std::fs::write(out_dir.join(name), format_template(name, &text)).expect("writing to OUT_DIR");
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=../Cargo.lock");
}
