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
use crate::load::{Document, escape_pointer_segment, load_document, pointer_join, unescape_pointer_segment};
use crate::settings::RemoteRefMap;

/// A bundled document, ready to lower.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The root document as loaded: path, text and locations. Its tree was moved into
    /// `bundled` (its `value` is `Null`): read `bundled`.
    pub root: Document,
    /// The root with every external ref imported.
    pub bundled: Value,
    /// The bundled document, typed.
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
    check_local_refs(&resolved)?;
    check_ref_cycles(&resolved)?;
    check_version(&resolved)?;
    resolved.openapi = serde_path_to_error::deserialize(&resolved.bundled).map_err(|err| {
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

fn for_each_ref(node: &Value, pointer: &str, visit: &mut dyn FnMut(&str, &str) -> Result<(), Error>) -> Result<(), Error> {
    match node {
        Value::Object(map) => {
            for (key, child) in map {
                let child_pointer = pointer_join(pointer, key);
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => visit(&child_pointer, reference)?,
                    // `examples`/`x-examples` values are data, even when they hold a `$ref` key.
                    ("example" | "examples" | "x-examples", _) => {}
                    _ => for_each_ref(child, &child_pointer, visit)?,
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                for_each_ref(child, &format!("{pointer}/{index}"), visit)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_local_refs(resolved: &Resolved) -> Result<(), Error> {
    for_each_ref(&resolved.bundled, "", &mut |site, reference| {
        let fragment = reference.strip_prefix('#').ok_or_else(|| {
            Error::new(resolved.location(site), ErrorKind::UnknownRef(reference.to_string()))
        })?;
        if resolved.bundled.pointer(fragment).is_none() {
            return Err(Error::new(resolved.location(site), ErrorKind::UnknownRef(reference.to_string())));
        }
        Ok(())
    })
}

/// A chain `A -> $ref B -> $ref A` with no schema in between cannot mean anything.
fn check_ref_cycles(resolved: &Resolved) -> Result<(), Error> {
    for_each_ref(&resolved.bundled, "", &mut |site, reference| {
        let mut seen = BTreeSet::new();
        let mut chain = vec![reference.to_string()];
        let mut current = reference.trim_start_matches('#').to_string();
        while let Some(Value::String(next)) = resolved.bundled.pointer(&current).and_then(|n| n.get("$ref")) {
            if !seen.insert(current.clone()) {
                return Err(Error::new(resolved.location(site), ErrorKind::RefCycle(chain)));
            }
            chain.push(next.clone());
            current = next.trim_start_matches('#').to_string();
        }
        Ok(())
    })
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
