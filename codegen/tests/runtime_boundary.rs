//! The runtime names no generated item: no source file of `codegen/runtime` uses the name of a
//! module the settings generate (`epayment`, `epayment_client`, ...), the `generated` tree, or a
//! type lowered from one of the project's documents that the runtime does not define itself,
//! and its manifest depends on no generated crate. Code is read as tokens, so prose in doc
//! comments (string literals) may mention ePayment's types; code may not.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{TokenStream, TokenTree};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("codegen/ is inside the workspace").to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reads the runtime's sources") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What a token stream names and defines.
#[derive(Default)]
struct Names {
    /// Identifiers used as the first segments of a path (`x` in `x::y`).
    path_prefixes: Vec<String>,
    /// Identifiers used otherwise, except those after `Known::` (a variant or associated item
    /// of a type the stream defines) and field accesses (`.x`).
    plain: Vec<String>,
    /// Names the stream defines: items (after `struct`, `enum`, `fn`, `type`, `mod`, `trait`,
    /// `const`, `static`, `as`) and enum variants.
    defined: BTreeSet<String>,
}

const DEFINING: &[&str] = &["struct", "enum", "fn", "type", "mod", "trait", "const", "static", "as"];

fn scan(tokens: TokenStream, names: &mut Names) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let is_colons = |i: usize| {
        matches!((trees.get(i), trees.get(i + 1)), (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
    };
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) => {
                // `enum Name { A, #[attr] B(..), C { .. } }`: the variants are defined names.
                let after_enum = i >= 2 && matches!(&trees[i - 2], TokenTree::Ident(k) if k == "enum");
                if after_enum && group.delimiter() == proc_macro2::Delimiter::Brace {
                    let mut entry_start = true;
                    for inner in group.stream() {
                        match &inner {
                            TokenTree::Punct(p) if p.as_char() == ',' => entry_start = true,
                            TokenTree::Punct(p) if p.as_char() == '#' => {}
                            TokenTree::Group(_) if entry_start => {}
                            TokenTree::Ident(ident) if entry_start => {
                                names.defined.insert(ident.to_string());
                                entry_start = false;
                            }
                            _ => entry_start = false,
                        }
                    }
                }
                scan(group.stream(), names);
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                let previous_ident = |back: usize| match i.checked_sub(back).map(|j| &trees[j]) {
                    Some(TokenTree::Ident(p)) => Some(p.to_string()),
                    _ => None,
                };
                if previous_ident(1).is_some_and(|p| DEFINING.contains(&p.as_str())) {
                    names.defined.insert(name.clone());
                }
                let after_dot = matches!(i.checked_sub(1).map(|j| &trees[j]), Some(TokenTree::Punct(p)) if p.as_char() == '.');
                let after_colons = i >= 2 && is_colons(i - 2);
                if is_colons(i + 1) {
                    names.path_prefixes.push(name);
                } else if after_colons {
                    // `Known::Variant` is the runtime's own; `module::Type` was judged by its prefix,
                    // and the type is judged here too.
                    if !previous_ident(3).is_some_and(|p| names.defined.contains(&p)) {
                        names.plain.push(name);
                    }
                } else if !after_dot {
                    names.plain.push(name);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn no_runtime_source_names_a_generated_module_or_type() {
    let root = workspace();
    let generation = vipps_codegen::generate_project(&root, &root.join("spec/codegen.yaml"), &Default::default()).expect("the project generates");
    let mut generated_modules: BTreeSet<String> = BTreeSet::from(["generated".to_string()]);
    let mut generated_types = BTreeSet::new();
    for api in &generation.apis {
        for suffix in ["", "_client", "_strategies"] {
            generated_modules.insert(format!("{}{suffix}", api.module));
        }
        generated_types.extend(api.types.keys().cloned());
        generated_types.extend(api.operations.iter().map(|op| op.fn_name.clone()));
    }
    assert!(generated_types.contains("GetPaymentResponse") && generated_modules.contains("epayment_client"), "the check sees the project's names");

    let mut files = Vec::new();
    rust_files(&root.join("codegen/runtime/src"), &mut files);
    assert!(files.len() >= 10, "the runtime's sources are found: {files:?}");
    let mut scanned = Vec::new();
    let mut defined = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("reads a runtime source");
        let tokens = TokenStream::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        let mut names = Names::default();
        scan(tokens, &mut names);
        defined.extend(names.defined.iter().cloned());
        scanned.push((file.clone(), names));
    }
    let mut offences = BTreeSet::new();
    for (file, names) in &scanned {
        let shown = file.strip_prefix(&root).unwrap_or(file).display().to_string();
        for name in &names.path_prefixes {
            if generated_modules.contains(name) {
                offences.insert(format!("{shown}: module `{name}`"));
            }
        }
        for name in &names.plain {
            if generated_types.contains(name) && !defined.contains(name) {
                offences.insert(format!("{shown}: `{name}`"));
            }
        }
    }
    assert!(offences.is_empty(), "the runtime names generated items:\n{}", offences.into_iter().collect::<Vec<_>>().join("\n"));

    let manifest = std::fs::read_to_string(root.join("codegen/runtime/Cargo.toml")).expect("reads the runtime's manifest");
    let sdk = std::fs::read_to_string(root.join("generated/Cargo.toml")).expect("reads the SDK's manifest");
    let sdk_name = sdk.lines().find_map(|l| l.strip_prefix("name = ")).expect("the SDK has a name").trim_matches('"');
    assert!(!manifest.contains(sdk_name), "the runtime depends on the SDK ({sdk_name})");
}

#[test]
fn the_check_catches_a_generated_name_in_code_but_not_in_prose() {
    let code = "/// Reads an `epayment::State`.\nenum Role { Plain, IdempotencyKey }\nfn read(x: X) -> crate::epayment::State { let _ = Role::IdempotencyKey; x.access_token; GetPaymentResponse }";
    let mut names = Names::default();
    scan(TokenStream::from_str(code).expect("tokenizes"), &mut names);
    assert_eq!(names.path_prefixes, ["crate", "epayment", "Role"], "the path counts, the doc comment does not");
    assert!(names.plain.contains(&"State".to_string()) && names.plain.contains(&"GetPaymentResponse".to_string()));
    assert!(!names.plain.contains(&"access_token".to_string()), "a field access is not a name of an item");
    assert_eq!(names.plain.iter().filter(|n| *n == "IdempotencyKey").count(), 1, "the definition only: `Role::IdempotencyKey` is the runtime's own variant");
    assert!(names.defined.contains("read") && names.defined.contains("IdempotencyKey") && !names.defined.contains("State"));
}
