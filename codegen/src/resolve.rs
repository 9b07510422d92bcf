//! Resolve stage: bundle every `$ref` into one self-contained document.
//!
//! Refs into other local files and remote URLs (through the remote-ref map; nothing is fetched)
//! are imported into the root document's `components`, so later stages only ever see local refs.
//! Then every local ref is checked, chains of pure refs are checked for cycles, and the result is
//! read as an `openapiv3::OpenAPI`. Schema cycles through properties are fine here; the IR boxes them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Location};
use crate::load::{Document, escape_pointer_segment, load_document, pointer_join, push_pointer_segment, unescape_pointer_segment};
use crate::settings::RemoteRefMap;

/// A bundled document, ready to lower.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The root document as loaded: path, text and locations. Its tree was moved into
    /// `bundled` (its `value` is `Null`): read `bundled`.
    pub root: Document,
    /// The root with every external ref imported.
    pub bundled: Value,
    /// The bundled document, typed, except its component schemas and path items:
    /// `components.schemas` and `paths` are empty (see [`typed_view`]). Each was checked to
    /// read as what it is; [`Resolved::schema_names`] and [`Resolved::path_names`] list them,
    /// and lowering reads each from `bundled` where it uses it.
    pub openapi: openapiv3::OpenAPI,
    /// Imported components: bundled pointer -> (source document, pointer in it).
    imported: BTreeMap<String, (usize, String)>,
    /// External documents that were read (indexed by `imported`).
    externals: Vec<Arc<Document>>,
}

impl Resolved {
    /// Where a pointer of the bundled document came from, for messages.
    pub fn location(&self, pointer: &str) -> Location {
        for (prefix, (doc, source_pointer)) in self.imported.range(..=pointer.to_string()).rev() {
            if pointer == prefix || pointer.starts_with(&format!("{prefix}/")) {
                let rest = &pointer[prefix.len()..];
                return self.externals[*doc].location(&format!("{source_pointer}{rest}"));
            }
        }
        self.root.location(pointer)
    }

    /// The sha256 (hex) of the root document's bytes.
    pub fn sha256(&self) -> String {
        sha256_hex(self.root.text.as_bytes())
    }

    /// Every file this document was read from (the root and each imported document), with the
    /// sha256 of the text that was read.
    pub fn sources(&self) -> impl Iterator<Item = (&Path, String)> {
        std::iter::once(&self.root)
            .chain(self.externals.iter().map(|doc| doc.as_ref()))
            .map(|doc| (doc.path.as_path(), sha256_hex(doc.text.as_bytes())))
    }

    /// The node at a pointer of the bundled document.
    pub fn node(&self, pointer: &str) -> Option<&Value> {
        self.bundled.pointer(pointer)
    }

    /// The names of the component schemas, in document order.
    pub fn schema_names(&self) -> impl Iterator<Item = &String> {
        self.bundled.pointer(SCHEMAS_POINTER).and_then(Value::as_object).into_iter().flat_map(|schemas| schemas.keys())
    }

    /// The paths of the document, in document order: its `paths` keys that start with `/`, the
    /// ones openapiv3 reads as paths (`x-` keys are extensions, any other key is ignored).
    pub fn path_names(&self) -> impl Iterator<Item = &String> {
        let paths = self.bundled.pointer(PATHS_POINTER).and_then(Value::as_object);
        paths.into_iter().flat_map(|paths| paths.keys()).filter(|path| is_path_key(path))
    }
}

/// Where the component schemas are in a document.
const SCHEMAS_POINTER: &str = "/components/schemas";
/// Where the path items are in a document.
const PATHS_POINTER: &str = "/paths";

/// Whether a key of `paths` is a path, as openapiv3 reads them.
pub(crate) fn is_path_key(key: &str) -> bool {
    key.starts_with('/')
}

/// The typed view of a bundled document without its component schemas and path items, which
/// are nearly all of a document (nine tenths of ePayment's): holding them typed beside the JSON
/// tree was the largest part of the generator's peak memory (heaptrack, 100x spec: 117 MiB of
/// a 200 MiB peak heap), and lowering reads each from the JSON tree where it uses it anyway.
/// Each is still read as what it is here, one at a time, so a malformed one is refused where it
/// was before; on any failure the whole document is read as before, so the error (message and
/// path) is the same as reading it whole.
pub(crate) fn typed_view(bundled: &mut Value) -> Result<openapiv3::OpenAPI, serde_path_to_error::Error<serde_json::Error>> {
    use openapiv3::{PathItem, ReferenceOr, Schema};
    use serde::Deserialize;
    let mut take = |pointer: &str| {
        bundled.pointer_mut(pointer).filter(|slot| slot.is_object()).map(|slot| std::mem::replace(slot, Value::Object(Default::default())))
    };
    let (schemas, paths) = (take(SCHEMAS_POINTER), take(PATHS_POINTER));
    let skeleton = serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&*bundled);
    fn entries(taken: &Option<Value>) -> impl Iterator<Item = (&String, &Value)> {
        taken.as_ref().and_then(Value::as_object).into_iter().flatten()
    }
    let parts_read = entries(&schemas).all(|(_, schema)| ReferenceOr::<Schema>::deserialize(schema).is_ok())
        && entries(&paths).filter(|(path, _)| is_path_key(path)).all(|(_, item)| ReferenceOr::<PathItem>::deserialize(item).is_ok());
    for (pointer, taken) in [(SCHEMAS_POINTER, schemas), (PATHS_POINTER, paths)] {
        if let (Some(taken), Some(slot)) = (taken, bundled.pointer_mut(pointer)) {
            *slot = taken;
        }
    }
    match skeleton {
        Ok(skeleton) if parts_read => Ok(skeleton),
        _ => serde_path_to_error::deserialize(&*bundled),
    }
}

/// Hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Loads and resolves a document from disk.
pub fn resolve_file(path: &Path, remote_refs: &RemoteRefMap) -> Result<Resolved, Error> {
    resolve(load_document(path)?, remote_refs)
}

/// Resolves an already loaded document.
pub fn resolve(mut root: Document, remote_refs: &RemoteRefMap) -> Result<Resolved, Error> {
    let taken = component_pointers(&root.value);
    let mut bundler = Bundler {
        remote_refs,
        externals: Vec::new(),
        by_path: BTreeMap::new(),
        imports: BTreeMap::new(),
        imported: BTreeMap::new(),
        taken,
    };
    // The root's tree becomes the bundle (refs into the root stay as they are, so nothing reads
    // the root's own tree again): moved, not copied, so a document's tree is held once.
    let mut bundled = std::mem::take(&mut root.value);
    let mut pending: Vec<(Value, Option<usize>, String)> = Vec::new();
    bundler.rewrite(&mut bundled, None, &root, "", &mut pending)?;
    // Imported nodes may themselves hold refs into their own document: drain until fixpoint.
    while let Some((mut node, source, target_pointer)) = pending.pop() {
        // Shared, not copied: a document with many imports would otherwise be cloned per import.
        let external = source.map(|i| Arc::clone(&bundler.externals[i]));
        let source_doc: &Document = external.as_deref().unwrap_or(&root);
        bundler.rewrite(&mut node, source, source_doc, &target_pointer, &mut pending)?;
        insert_at(&mut bundled, &target_pointer, node);
    }
    let Bundler { externals, imported, .. } = bundler;
    let mut resolved = Resolved { root, bundled, openapi: openapiv3::OpenAPI::default(), imported, externals };
    check_refs(&resolved)?;
    check_version(&resolved)?;
    resolved.openapi = typed_view(&mut resolved.bundled).map_err(|err| {
        let pointer = path_to_pointer(err.path());
        Error::new(resolved.location(&pointer), ErrorKind::Shape(err.inner().to_string()))
    })?;
    Ok(resolved)
}

struct Bundler<'a> {
    remote_refs: &'a RemoteRefMap,
    externals: Vec<Arc<Document>>,
    by_path: BTreeMap<PathBuf, usize>,
    /// (document index, pointer) -> local pointer it was imported as.
    imports: BTreeMap<(usize, String), String>,
    imported: BTreeMap<String, (usize, String)>,
    /// Component pointers in use, so an import never shadows a root component.
    taken: BTreeSet<String>,
}

/// `/components/<section>/<name>` of every component the document declares.
fn component_pointers(root: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(Value::Object(sections)) = root.get("components") {
        for (section, entries) in sections {
            if let Value::Object(entries) = entries {
                for name in entries.keys() {
                    out.insert(pointer_join(&pointer_join("/components", section), name));
                }
            }
        }
    }
    out
}

impl Bundler<'_> {
    /// Rewrites every ref in `node` (which lives in `doc`, the root when `source` is None) so it is
    /// local to the bundle; queues imports in `pending`.
    fn rewrite(
        &mut self,
        node: &mut Value,
        source: Option<usize>,
        doc: &Document,
        pointer: &str,
        pending: &mut Vec<(Value, Option<usize>, String)>,
    ) -> Result<(), Error> {
        match node {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    let child_pointer = pointer_join(pointer, key);
                    if key == "$ref" {
                        if let Value::String(reference) = child
                            && let Some(local) = self.bundle_ref(reference, source, doc, &child_pointer, pending)?
                        {
                            *reference = local;
                        }
                    } else {
                        self.rewrite(child, source, doc, &child_pointer, pending)?;
                    }
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter_mut().enumerate() {
                    self.rewrite(child, source, doc, &format!("{pointer}/{index}"), pending)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Returns the new local ref for `reference`, or None when it stays as it is.
    fn bundle_ref(
        &mut self,
        reference: &str,
        source: Option<usize>,
        doc: &Document,
        site: &str,
        pending: &mut Vec<(Value, Option<usize>, String)>,
    ) -> Result<Option<String>, Error> {
        let site_location = || doc.location(site);
        let (target, fragment) = match reference.split_once('#') {
            Some((target, fragment)) => (target, fragment),
            None => (reference, ""),
        };
        let target_doc = if target.is_empty() {
            match source {
                None => return Ok(None),
                Some(index) => index,
            }
        } else if target.starts_with("http://") || target.starts_with("https://") {
            let entry = self
                .remote_refs
                .entries
                .get(target)
                .ok_or_else(|| Error::new(site_location(), ErrorKind::UnmappedRemoteRef(reference.to_string())))?;
            let index = self.external(&entry.file, site_location)?;
            if let Some(expected) = &entry.sha256 {
                let actual = sha256_hex(self.externals[index].text.as_bytes());
                if !actual.eq_ignore_ascii_case(expected) {
                    return Err(Error::new(
                        site_location(),
                        ErrorKind::ChecksumMismatch { file: entry.file.clone(), expected: expected.clone(), actual },
                    ));
                }
            }
            index
        } else if target.contains("://") {
            return Err(Error::new(site_location(), ErrorKind::Unsupported(format!("$ref scheme in '{reference}'"))));
        } else {
            let base = doc.path.parent().unwrap_or(Path::new("."));
            self.external(&base.join(target), site_location)?
        };
        if let Some(local) = self.imports.get(&(target_doc, fragment.to_string())) {
            return Ok(Some(format!("#{local}")));
        }
        let external = &self.externals[target_doc];
        let node = external
            .value
            .pointer(fragment)
            .cloned()
            .ok_or_else(|| Error::new(site_location(), ErrorKind::UnknownRef(reference.to_string())))?;
        let segments: Vec<String> = fragment.split('/').skip(1).map(unescape_pointer_segment).collect();
        let (section, name) = match segments.as_slice() {
            [components, section, name] if components == "components" => (section.clone(), name.clone()),
            _ => ("schemas".to_string(), segments.last().cloned().unwrap_or_else(|| "Imported".into())),
        };
        let local = self.free_name(&section, &name);
        self.taken.insert(local.clone());
        self.imports.insert((target_doc, fragment.to_string()), local.clone());
        self.imported.insert(local.clone(), (target_doc, fragment.to_string()));
        pending.push((node, Some(target_doc), local.clone()));
        Ok(Some(format!("#{local}")))
    }

    fn external(&mut self, path: &Path, site: impl Fn() -> Location) -> Result<usize, Error> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(&index) = self.by_path.get(&key) {
            return Ok(index);
        }
        let document = load_document(path).map_err(|err| match &err.kind {
            ErrorKind::Io(message) => Error::new(site(), ErrorKind::Io(format!("{}: {message}", path.display()))),
            _ => err,
        })?;
        self.externals.push(Arc::new(document));
        self.by_path.insert(key, self.externals.len() - 1);
        Ok(self.externals.len() - 1)
    }

    /// A pointer `/components/<section>/<name>` not used yet in the bundle.
    fn free_name(&self, section: &str, name: &str) -> String {
        let base = pointer_join("/components", section);
        let mut candidate = pointer_join(&base, name);
        let mut counter = 2;
        while self.taken.contains(&candidate) {
            candidate = pointer_join(&base, &format!("{name}{counter}"));
            counter += 1;
        }
        candidate
    }
}

/// Inserts `node` at `pointer` (of the form /components/section/name), creating parents.
fn insert_at(root: &mut Value, pointer: &str, node: Value) {
    let segments: Vec<String> = pointer.split('/').skip(1).map(unescape_pointer_segment).collect();
    let mut current = root;
    for (index, segment) in segments.iter().enumerate() {
        let Value::Object(map) = current else { return };
        if index + 1 == segments.len() {
            map.insert(segment.clone(), node);
            return;
        }
        current = map.entry(segment.clone()).or_insert_with(|| Value::Object(Default::default()));
    }
}

/// Calls `visit(site, reference)` for every `$ref` outside example data. The site pointer is
/// built in one buffer as the walk goes down, not allocated per node (two walks of a large
/// document allocating a pointer per key were a tenth of the generator's time).
fn for_each_ref(node: &Value, pointer: &mut String, visit: &mut dyn FnMut(&str, &str) -> Result<(), Error>) -> Result<(), Error> {
    let depth = pointer.len();
    match node {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    // `examples`/`x-examples` values are data, even when they hold a `$ref` key.
                    ("example" | "examples" | "x-examples", _) => continue,
                    (_, Value::Object(_) | Value::Array(_)) | ("$ref", Value::String(_)) => {}
                    _ => continue,
                }
                push_pointer_segment(pointer, key);
                match child {
                    Value::String(reference) => visit(pointer, reference)?,
                    _ => for_each_ref(child, pointer, visit)?,
                }
                pointer.truncate(depth);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                if child.is_object() || child.is_array() {
                    use std::fmt::Write as _;
                    let _ = write!(pointer, "/{index}");
                    for_each_ref(child, pointer, visit)?;
                    pointer.truncate(depth);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every `$ref` points at something, and no chain of `$ref`s comes back to itself (`A -> $ref
/// B -> $ref A`, with no schema in between, cannot mean anything). One walk for both rules; a
/// dangling reference anywhere is reported before any cycle, as the document reads in order.
fn check_refs(resolved: &Resolved) -> Result<(), Error> {
    let mut first_cycle: Option<Error> = None;
    for_each_ref(&resolved.bundled, &mut String::new(), &mut |site, reference| {
        let fragment = reference.strip_prefix('#').ok_or_else(|| {
            Error::new(resolved.location(site), ErrorKind::UnknownRef(reference.to_string()))
        })?;
        let Some(target) = resolved.bundled.pointer(fragment) else {
            return Err(Error::new(resolved.location(site), ErrorKind::UnknownRef(reference.to_string())));
        };
        if first_cycle.is_some() || !matches!(target.get("$ref"), Some(Value::String(_))) {
            return Ok(());
        }
        let mut seen = BTreeSet::new();
        let mut chain = vec![reference.to_string()];
        let mut current = fragment.to_string();
        while let Some(Value::String(next)) = resolved.bundled.pointer(&current).and_then(|n| n.get("$ref")) {
            if !seen.insert(current.clone()) {
                first_cycle = Some(Error::new(resolved.location(site), ErrorKind::RefCycle(chain)));
                break;
            }
            chain.push(next.clone());
            current = next.trim_start_matches('#').to_string();
        }
        Ok(())
    })?;
    first_cycle.map_or(Ok(()), Err)
}

fn check_version(resolved: &Resolved) -> Result<(), Error> {
    match resolved.bundled.get("openapi") {
        Some(Value::String(version)) if version.starts_with("3.0") => Ok(()),
        Some(other) => Err(Error::new(
            resolved.location("/openapi"),
            ErrorKind::Unsupported(format!("openapi version {other}: only 3.0.x documents are supported")),
        )),
        None => match resolved.bundled.get("swagger") {
            Some(version) => Err(Error::new(
                resolved.location("/swagger"),
                ErrorKind::Unsupported(format!(
                    "a Swagger {version} document is not OpenAPI 3: convert it first (for example with swagger2openapi), then generate from the result"
                )),
            )),
            None => Err(Error::new(resolved.location(""), ErrorKind::Shape("missing 'openapi' version".into()))),
        },
    }
}

/// serde_path_to_error's path as a JSON pointer.
fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape_pointer_segment(key))),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}

/// Resolves YAML text as a document `test.yaml` with no remote refs: for unit tests.
#[cfg(test)]
pub(crate) fn resolve_text(text: &str) -> Result<Resolved, Error> {
    resolve(crate::load::parse_document(PathBuf::from("test.yaml"), text.to_string())?, &RemoteRefMap::default())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;


    const HEAD: &str = "openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths: {}\ncomponents:\n  schemas:\n";

    #[test]
    fn the_typed_view_holds_no_schemas_or_path_items_and_the_names_keep_document_order() {
        let resolved = resolve_text(&format!("{HEAD}    Zeta: {{ type: string }}\n    Alpha: {{ type: integer }}\n    Mid: {{ $ref: '#/components/schemas/Alpha' }}\n"))
            .expect("resolves");
        assert!(resolved.openapi.components.as_ref().is_some_and(|components| components.schemas.is_empty()));
        assert!(resolved.openapi.paths.paths.is_empty());
        assert_eq!(resolved.schema_names().map(String::as_str).collect::<Vec<_>>(), ["Zeta", "Alpha", "Mid"]);
        assert_eq!(resolved.node("/components/schemas/Alpha/type"), Some(&Value::String("integer".into())), "the JSON tree is whole");
    }

    #[test]
    fn a_malformed_schema_is_refused_as_reading_the_whole_document_refuses_it() {
        let text = format!("{HEAD}    Fine: {{ type: string }}\n    Bad:\n      type: object\n      required: notalist\n");
        let err = resolve_text(&text).expect_err("refused");
        let mut whole = crate::load::parse_document(PathBuf::from("t.yaml"), text).expect("parses").value;
        let expected = serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&whole).expect_err("the whole document is refused too");
        assert_eq!(err.location.pointer, path_to_pointer(expected.path()));
        assert_eq!(err.location.pointer, "/components/schemas/Bad");
        assert!(matches!(&err.kind, ErrorKind::Shape(message) if *message == expected.inner().to_string()), "{err}");
        // And the split read gives back the tree it borrowed.
        let before = whole.clone();
        let _ = typed_view(&mut whole);
        assert_eq!(whole, before);
    }

    #[test]
    fn a_dangling_ref_is_reported_before_an_earlier_ref_cycle() {
        let text = format!(
            "{HEAD}    A: {{ $ref: '#/components/schemas/B' }}\n    B: {{ $ref: '#/components/schemas/A' }}\n    C: {{ $ref: '#/components/schemas/Nope' }}\n"
        );
        let err = resolve_text(&text).expect_err("refused");
        assert!(matches!(&err.kind, ErrorKind::UnknownRef(target) if target == "#/components/schemas/Nope"), "{err}");
        let err = resolve_text(&format!("{HEAD}    A: {{ $ref: '#/components/schemas/B' }}\n    B: {{ $ref: '#/components/schemas/A' }}\n"))
            .expect_err("refused");
        assert!(matches!(&err.kind, ErrorKind::RefCycle(chain) if chain.len() == 3), "{err}");
        assert_eq!(err.location.pointer, "/components/schemas/A/$ref");
    }
}
