//! Lower stage: resolved OpenAPI -> IR. Every naming and shape decision is made here.

pub mod common;
mod cycles;
pub mod glue;
pub mod method;
mod operation;
mod pattern;
mod schema;
mod security;
pub mod strategies;
mod unions;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use openapiv3::ReferenceOr;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind, Lint, Warning};
use crate::ir::{Api, RepeatedType, Server, TypeDef, TypeRef};
use crate::load::pointer_join;
use crate::names::{Namespace, type_name};
use crate::resolve::Resolved;
use crate::settings::Settings;

pub use pattern::ecma_to_rust_regex;

/// Names the generated code itself uses at module level; spec types never take them.
const RESERVED_TYPE_NAMES: &[&str] = &["ValidationError", "Client", "ClientBuilder", "Error", "Result", "Option", "Some", "None", "Ok", "Err", "Vec", "String", "Box"];

/// Lowers a resolved document into the IR of `module`.
///
/// The settings' overrides for `module` are applied first (`crate::overrides`).
pub fn lower(resolved: &Resolved, settings: &Settings, module: &str) -> Result<Api, Error> {
    let overrides = settings.specs.iter().find(|spec| spec.module == module).map(|spec| spec.overrides.as_slice()).unwrap_or_default();
    if overrides.is_empty() {
        return lower_resolved(resolved, settings, module, Vec::new());
    }
    let (patched, notes) = crate::overrides::apply(resolved, overrides)?;
    lower_resolved(&patched, settings, module, notes)
}

/// Stack of the example check's thread: what a main thread has on Linux.
const LINT_STACK_BYTES: usize = 8 << 20;

fn lower_resolved(resolved: &Resolved, settings: &Settings, module: &str, notes: Vec<Warning>) -> Result<Api, Error> {
    // The example check reads the document only and decides nothing of the IR: it runs on a
    // second thread beside lowering (it was a third of lowering's wall time at 100x).
    std::thread::scope(|scope| {
        // The check recurses as deep as the document nests: the main thread's stack size, not a
        // spawned thread's smaller default. Where no thread can be had, it runs after lowering.
        let spawned = std::thread::Builder::new().stack_size(LINT_STACK_BYTES).spawn_scoped(scope, || crate::lint::lint_examples(resolved));
        let lowered = lower_types(resolved, settings, module, notes);
        let examples = match spawned {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => crate::lint::lint_examples(resolved),
        };
        lowered.map(|mut api| {
            api.warnings.extend(examples);
            api.warnings.sort();
            api.warnings.dedup();
            api
        })
    })
}

/// Lowering proper: types, operations and plans, with the warnings they raise.
fn lower_types(resolved: &Resolved, settings: &Settings, module: &str, notes: Vec<Warning>) -> Result<Api, Error> {
    let mut lowerer = Lowerer::new(resolved, settings);
    lowerer.warnings = notes;
    lowerer.claim_component_names();
    lowerer.problem_schemas = operation::problem_body_schemas(&lowerer)?;
    lowerer.lower_components()?;
    let operations = operation::lower_operations(&mut lowerer)?;
    cycles::box_cycles(&mut lowerer.types);
    unions::add_branch_constructors(&mut lowerer.types);
    let openapi = &resolved.openapi;
    let warnings = lowerer.warnings;
    let mut repeated = lowerer.repeated;
    repeated.sort_by(|a, b| a.name.cmp(&b.name));
    let mut api = Api {
        module: module.to_string(),
        title: openapi.info.title.clone(),
        version: openapi.info.version.clone(),
        servers: openapi
            .servers
            .iter()
            .map(|s| Server { url: s.url.clone(), description: s.description.clone() })
            .collect(),
        types: lowerer.types,
        repeated,
        common: BTreeSet::new(),
        operations,
        schema_index: lowerer.schema_index,
        warnings,
        strategies: Default::default(),
    };
    api.strategies = strategies::plan(&api);
    Ok(api)
}

/// Lowers a YAML document under default settings as module `demo`: for unit tests of lowering.
#[cfg(test)]
pub(crate) fn lower_test_yaml(yaml: &str) -> Api {
    let resolved = crate::resolve::resolve_text(yaml).expect("resolves");
    let settings = Settings::defaults_for(crate::settings::HeaderRoles::default());
    lower(&resolved, &settings, "demo").expect("lowers")
}

/// State of one lowering run.
pub(crate) struct Lowerer<'a> {
    pub resolved: &'a Resolved,
    pub settings: &'a Settings,
    /// Type names in use.
    pub names: Namespace,
    /// Names claimed up front for component schemas, by pointer.
    pub component_names: BTreeMap<String, String>,
    /// Named types made so far.
    pub types: BTreeMap<String, TypeDef>,
    /// Schemas already lowered by pointer (ref targets), so each becomes one type.
    pub by_pointer: BTreeMap<String, TypeRef>,
    /// Every schema site -> its type.
    pub schema_index: BTreeMap<String, TypeRef>,
    /// Schemas served as RFC 7807 error bodies: they keep unknown members.
    pub problem_schemas: BTreeSet<String>,
    /// sha256 of an inline type's name and definition -> the first type made so.
    pub first_of_shape: HashMap<[u8; 32], String>,
    /// Inline schemas that repeat another's type, by the name each would have had.
    pub repeated: Vec<RepeatedType>,
    pub warnings: Vec<Warning>,
}

impl<'a> Lowerer<'a> {
    fn new(resolved: &'a Resolved, settings: &'a Settings) -> Self {
        Self {
            resolved,
            settings,
            names: Namespace::with_reserved(RESERVED_TYPE_NAMES),
            component_names: BTreeMap::new(),
            types: BTreeMap::new(),
            by_pointer: BTreeMap::new(),
            schema_index: BTreeMap::new(),
            problem_schemas: BTreeSet::new(),
            first_of_shape: HashMap::new(),
            repeated: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Component schemas own their names; inline titles never take them.
    fn claim_component_names(&mut self) {
        for key in self.resolved.schema_names() {
            let pointer = pointer_join("/components/schemas", key);
            let name = self.names.claim(&type_name(key));
            self.component_names.insert(pointer, name);
        }
    }

    fn lower_components(&mut self) -> Result<(), Error> {
        for key in self.resolved.schema_names() {
            let pointer = pointer_join("/components/schemas", key);
            self.lower_pointer(&pointer)?;
        }
        Ok(())
    }

    /// A warning at a pointer of the bundled document.
    pub fn warn(&mut self, pointer: &str, lint: Lint, message: impl Into<String>) {
        self.warnings.push(Warning { location: self.resolved.location(pointer), lint, message: message.into() });
    }

    /// An error at a pointer of the bundled document.
    pub fn error(&self, pointer: &str, kind: ErrorKind) -> Error {
        Error::new(self.resolved.location(pointer), kind)
    }

    /// Reads the node at `pointer` as `T`, following `$ref` chains; returns it with its pointer.
    pub fn deref<T: DeserializeOwned + Clone>(&self, item: &ReferenceOr<T>, pointer: &str) -> Result<(T, String), Error> {
        match item {
            ReferenceOr::Item(value) => Ok((value.clone(), pointer.to_string())),
            ReferenceOr::Reference { reference } => self.read_at(reference.trim_start_matches('#'), pointer),
        }
    }

    /// Reads the node at `target` as `T`, following `$ref` chains (cycles were ruled out when resolving).
    pub fn read_at<T: DeserializeOwned>(&self, target: &str, site: &str) -> Result<(T, String), Error> {
        let mut current = target.to_string();
        loop {
            let node = self
                .resolved
                .node(&current)
                .ok_or_else(|| self.error(site, ErrorKind::UnknownRef(format!("#{current}"))))?;
            if let Some(serde_json::Value::String(next)) = node.get("$ref") {
                current = next.trim_start_matches('#').to_string();
                continue;
            }
            // The plain read first: tracking the path of every node costs as much again, and
            // is only needed to place an error, so a failed read is read again with it.
            if let Ok(value) = T::deserialize(node) {
                return Ok((value, current));
            }
            let value = serde_path_to_error::deserialize(node).map_err(|err| {
                let mut pointer = current.clone();
                for segment in err.path().iter() {
                    if let serde_path_to_error::Segment::Map { key } = segment {
                        pointer = pointer_join(&pointer, key);
                    } else if let serde_path_to_error::Segment::Seq { index } = segment {
                        pointer = format!("{pointer}/{index}");
                    }
                }
                self.error(&pointer, ErrorKind::Shape(err.inner().to_string()))
            })?;
            return Ok((value, current));
        }
    }
}
