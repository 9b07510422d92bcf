//! The generated crate's layout, decided here only: which file holds which module, what the
//! modules are called, and which folders hold nothing but generated files (so anything else
//! found there is stale). The generation path, the writer, the stamp, the glue plan and the
//! commands all ask this module.

use std::path::PathBuf;

/// Where the project's generated crate lives, relative to the workspace root.
pub const PROJECT_CRATE_DIR: &str = "generated";
/// The folder of the generated modules inside a crate.
pub const GENERATED_DIR: &str = "src/generated";
/// The folder of the spec copies inside a crate (read by `spec diff`).
pub const SPEC_COPY_DIR: &str = "spec";
/// The folder of the project's generated example round-trip dispatch.
pub const ROUNDTRIP_DIR: &str = "tests/roundtrip";
/// Folders of the project's crate that hold only generated files.
pub const PROJECT_OWNED_DIRS: &[&str] = &[GENERATED_DIR, ROUNDTRIP_DIR, SPEC_COPY_DIR];
/// Folders of a standalone crate that hold only generated files (it is generated whole).
pub const STANDALONE_OWNED_DIRS: &[&str] = &["src", SPEC_COPY_DIR];

/// The private module holding the types several documents define alike (`lower::common`);
/// each models module re-exports its own, so rustdoc shows them in place.
pub const COMMON_MODULE: &str = "common";
/// The support module every generated module uses.
pub const SUPPORT_MODULE: &str = "support";
/// The support module of the strategies.
pub const STRATEGY_SUPPORT_MODULE: &str = "strategy_support";
/// The generated tree's root module (`mod.rs`).
pub const ROOT_MODULE: &str = "mod";

/// Why a crate cannot have these models modules: a name taken twice, by the generated tree's
/// own modules or by another document's client or strategies module. `None` when they fit.
pub fn module_clash(modules: &[String]) -> Option<String> {
    let mut taken: std::collections::BTreeMap<String, String> =
        [COMMON_MODULE, SUPPORT_MODULE, STRATEGY_SUPPORT_MODULE, ROOT_MODULE].iter().map(|name| (name.to_string(), format!("the generated tree's own module '{name}'"))).collect();
    for module in modules {
        for (name, what) in [(module.clone(), format!("the models of '{module}'")), (client_module(module), format!("the client of '{module}'")), (strategies_module(module), format!("the strategies of '{module}'"))] {
            if let Some(holder) = taken.get(&name) {
                return Some(format!("'{name}' (for {what}) is already taken by {holder}"));
            }
            taken.insert(name, what);
        }
    }
    None
}

/// The client module of an API's models module.
pub fn client_module(module: &str) -> String {
    format!("{module}_client")
}

/// The strategies module of an API's models module.
pub fn strategies_module(module: &str) -> String {
    format!("{module}_strategies")
}

/// A module of the generated tree, as a file of the crate.
pub fn module_file(module: &str) -> PathBuf {
    PathBuf::from(GENERATED_DIR).join(format!("{module}.rs"))
}

/// The spec copy of a document, by its file name.
pub fn spec_copy(file_name: &std::path::Path) -> PathBuf {
    PathBuf::from(SPEC_COPY_DIR).join(file_name)
}

/// The round-trip dispatch of one API's module (`mod` for the folder's `mod.rs`).
pub fn roundtrip_file(module: &str) -> PathBuf {
    PathBuf::from(ROUNDTRIP_DIR).join(format!("{module}.rs"))
}
