//! Crate-level part of the spec diff: which modules share a common type (`lower::common`).
//! A per-document diff cannot see it: when one document's `VippsSystemName` stops matching the
//! others', that document's diff shows a changed limit, but at the Rust level
//! `epayment::VippsSystemName` also stops being `webhooks::VippsSystemName`, and code passing
//! one as the other stops compiling. The reverse (two types becoming one) makes callers' trait
//! impls for both collide. Either way the crate needs a major version.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::ir::{Api, CommonTypes};
use crate::lower::common::share_common_types;
use crate::settings::{RemoteRefMap, Settings};

/// Modules whose type of one name were one type and no longer are, or the reverse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommonTypeChange {
    /// The Rust type name.
    pub name: String,
    /// Modules (present on both sides) that shared it before; empty when none did.
    pub old: Vec<String>,
    /// Modules (present on both sides) that share it now; empty when none do.
    pub new: Vec<String>,
}

impl fmt::Display for CommonTypeChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = |modules: &[String]| match modules {
            [] => "separate types".to_string(),
            _ => modules.iter().map(|module| format!("{module}::{}", self.name)).collect::<Vec<_>>().join(" = "),
        };
        write!(f, "one type {} -> {} (major: code that relies on which of them are one type stops compiling)", group(&self.old), group(&self.new))
    }
}

/// The changes in sharing between two crates' lowered modules, each side with its common
/// types (`lower::common::share_common_types`). Modules or types only on one side change no
/// caller's code that compiled, so only modules holding the type on both sides are compared.
pub fn common_type_changes(old: (&[Api], &CommonTypes), new: (&[Api], &CommonTypes)) -> Vec<CommonTypeChange> {
    let holders = |apis: &[Api], name: &str| -> BTreeSet<String> {
        apis.iter().filter(|api| api.types.contains_key(name)).map(|api| api.module.clone()).collect()
    };
    let names: BTreeSet<&String> = old.1.types.keys().chain(new.1.types.keys()).collect();
    let mut changes = Vec::new();
    for name in names {
        let on_both: BTreeSet<String> = holders(old.0, name).intersection(&holders(new.0, name)).cloned().collect();
        let sharing = |common: &CommonTypes| -> Vec<String> {
            let modules = common.types.get(name.as_str()).map(|shared| shared.modules.as_slice()).unwrap_or_default();
            let kept: Vec<String> = modules.iter().filter(|module| on_both.contains(*module)).cloned().collect();
            // One module alone shares its type with nobody that a caller could have mixed it with.
            if kept.len() > 1 { kept } else { Vec::new() }
        };
        let (before, after) = (sharing(old.1), sharing(new.1));
        if before != after {
            changes.push(CommonTypeChange { name: name.clone(), old: before, new: after });
        }
    }
    changes
}

/// One module of a crate on both sides of a diff: its old document (none for a module the old
/// crate did not have) and its new one.
#[derive(Debug, Clone)]
pub struct ModuleDocuments {
    /// The Rust module.
    pub module: String,
    /// The document the old crate was made from.
    pub old: Option<PathBuf>,
    /// The document the new crate is made from.
    pub new: PathBuf,
}

/// [`common_type_changes`] of two crates given by their documents: lowers every document of
/// each side and shares each side's common types as generation does.
pub fn common_type_changes_of_files(modules: &[ModuleDocuments], refs: &RemoteRefMap, settings: &Settings) -> Result<Vec<CommonTypeChange>, Error> {
    let lower_side = |documents: Vec<(&str, &Path)>| -> Result<(Vec<Api>, CommonTypes), Error> {
        let mut apis = documents.into_iter().map(|(module, path)| crate::lower_file(path, settings, module, refs).map(|(_, api)| api)).collect::<Result<Vec<_>, _>>()?;
        let common = share_common_types(&mut apis);
        Ok((apis, common))
    };
    let (old_apis, old) = lower_side(modules.iter().filter_map(|m| Some((m.module.as_str(), m.old.as_deref()?))).collect())?;
    let (new_apis, new) = lower_side(modules.iter().map(|m| (m.module.as_str(), m.new.as_path())).collect())?;
    Ok(common_type_changes((&old_apis, &old), (&new_apis, &new)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::lower_test_yaml;

    fn crate_of(limits: &[u32]) -> (Vec<Api>, CommonTypes) {
        let mut apis: Vec<Api> = limits
            .iter()
            .enumerate()
            .map(|(index, limit)| {
                let yaml = format!("openapi: 3.0.3\ninfo: {{ title: demo, version: '1' }}\npaths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n        - {{ name: X-Tag, in: header, schema: {{ type: string, maxLength: {limit} }} }}\n      responses: {{ '204': {{ description: ok }} }}\n");
                let mut api = lower_test_yaml(&yaml);
                api.module = format!("m{index}");
                api
            })
            .collect();
        let common = share_common_types(&mut apis);
        (apis, common)
    }

    #[test]
    fn a_common_type_that_splits_or_joins_is_reported_and_a_new_module_is_not() {
        let (old_apis, old) = crate_of(&[30, 30, 30]);
        let (split_apis, split) = crate_of(&[40, 30, 30]);
        let changes = common_type_changes((&old_apis, &old), (&split_apis, &split));
        assert_eq!(changes, [CommonTypeChange { name: "XTag".into(), old: vec!["m0".into(), "m1".into(), "m2".into()], new: vec!["m1".into(), "m2".into()] }]);
        assert_eq!(changes[0].to_string().split(" (major").next(), Some("one type m0::XTag = m1::XTag = m2::XTag -> m1::XTag = m2::XTag"));
        let joined = common_type_changes((&split_apis, &split), (&old_apis, &old));
        assert_eq!(joined.len(), 1, "{joined:?}");
        assert_eq!(joined[0].old, ["m1", "m2"]);
        // A module added alike joins without changing what the old ones were.
        let (grown_apis, grown) = crate_of(&[30, 30, 30, 30]);
        assert_eq!(common_type_changes((&old_apis, &old), (&grown_apis, &grown)), []);
        assert_eq!(grown.types["XTag"].modules, ["m0", "m1", "m2", "m3"]);
    }
}
