//! The manifest of a standalone crate. Dependency versions come from one place, the
//! workspace's `[workspace.dependencies]` (embedded at build time), so a standalone crate
//! builds against what the project's SDK is tested with; the runtime is a path dependency on
//! `codegen/runtime` until it is published.

/// The workspace manifest this generator was built in.
const WORKSPACE_MANIFEST: &str = include_str!("../../Cargo.toml");

/// The runtime crate, by path.
const RUNTIME_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/runtime");

/// What generated code uses: models (serde, serde_json, regex, chrono, uuid).
const DEPENDENCIES: &[&str] = &["serde", "serde_json", "regex", "chrono", "uuid"];

/// `Cargo.toml` of a standalone crate named `name`, with `header` as comment lines.
pub fn cargo_toml(name: &str, header: &[String]) -> String {
    let mut out: String = header.iter().map(|line| format!("# {}\n", line.trim_start_matches("// "))).collect();
    out.push_str(&format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n"));
    for dependency in DEPENDENCIES {
        out.push_str(&format!("{dependency} = {}\n", workspace_dependency(dependency)));
    }
    out.push_str(&format!("vipps-runtime = {{ path = {:?} }}\n", RUNTIME_PATH));
    out.push_str(&format!("# Proptest strategies of the request models (`strategies`).\nproptest = {}\n", optional(&workspace_dependency("proptest"))));
    out.push_str("\n[features]\nproptest = [\"dep:proptest\"]\n\n# Not part of any enclosing workspace.\n[workspace]\n");
    out
}

/// The workspace's specification of `name` (a version string or an inline table).
fn workspace_dependency(name: &str) -> String {
    let mut in_section = false;
    for line in WORKSPACE_MANIFEST.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[workspace.dependencies]";
            continue;
        }
        if in_section
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == name
        {
            return value.trim().to_string();
        }
    }
    // The list above names only dependencies the workspace has; a test keeps it so.
    "\"*\"".to_string()
}

/// `spec` made optional.
fn optional(spec: &str) -> String {
    match spec.strip_prefix('{') {
        Some(rest) => format!("{{ optional = true,{rest}"),
        None => format!("{{ version = {spec}, optional = true }}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dependency_comes_from_the_workspace_manifest() {
        for name in DEPENDENCIES.iter().chain(&["proptest"]) {
            assert_ne!(workspace_dependency(name), "\"*\"", "{name} is not in [workspace.dependencies]");
        }
        let manifest = cargo_toml("demo", &["// @generated".to_string()]);
        assert!(manifest.starts_with("# @generated\n[package]\nname = \"demo\""), "{manifest}");
        assert!(manifest.contains(&format!("chrono = {}\n", workspace_dependency("chrono"))), "{manifest}");
        assert!(manifest.contains("proptest = { version = \"1\", optional = true }"), "{manifest}");
        assert_eq!(optional("{ version = \"1\", features = [\"x\"] }"), "{ optional = true, version = \"1\", features = [\"x\"] }");
    }
}
