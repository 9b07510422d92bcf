//! Spec diff: compares two OpenAPI documents after resolving their refs and classifies every
//! change twice, for the generated crate's users (semver) and for the wire (an old client against
//! a new server).
//!
//! `walk` pairs the operations and component schemas of the two documents and records
//! [`Change`]s (kinds in `change`); `rules` is the one table that classifies a kind by the
//! direction its data travels; `report` renders text, Markdown and JSON. Names are taken from the
//! IR (`lower`), so a report speaks of the Rust types users see.

mod change;
mod common;
mod report;
mod rules;
mod schema;
mod walk;

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Location};
use crate::resolve::{Resolved, resolve_file};
use crate::settings::{HeaderRoles, RemoteRefMap, Settings};

pub use change::{Direction, Kind, Semver, Wire};
pub use common::{CommonTypeChange, ModuleDocuments, common_type_changes, common_type_changes_of_files};
pub use report::{Format, render};
pub use rules::{Class, RULES, Rule, classify, markdown_table, rule_of};

/// A place in one of the two documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// The document (an imported remote document when the place came from one).
    pub file: String,
    /// 1-based line, when found.
    pub line: Option<usize>,
    /// JSON pointer in the bundled document.
    pub pointer: String,
}

impl Site {
    fn from_location(location: Location, pointer: &str) -> Self {
        Site { file: location.file.display().to_string().replace('\\', "/"), line: location.line, pointer: pointer.to_string() }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        Ok(())
    }
}

/// What a change is reported under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Group {
    /// Info, servers, global security, security schemes.
    Document,
    /// One operation (or a callback of one).
    Operation {
        /// HTTP method, upper case.
        method: String,
        /// Path template (the callback expression for callbacks).
        path: String,
        /// `operationId`.
        operation_id: Option<String>,
        /// `callbackName of parentOperationId` for callback operations.
        callback: Option<String>,
    },
    /// One component schema.
    Schema {
        /// The key in `components/schemas`.
        name: String,
        /// The Rust type name, when it differs from the key.
        rust_name: Option<String>,
        /// Where the schema travels.
        usage: Direction,
    },
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Group::Document => write!(f, "document (info, servers, security)"),
            Group::Operation { method, path, operation_id, callback } => {
                match callback {
                    Some(callback) => write!(f, "callback {callback}: {method} {path}")?,
                    None => write!(f, "operation {method} {path}")?,
                }
                if let Some(id) = operation_id {
                    write!(f, " ({id})")?;
                }
                Ok(())
            }
            Group::Schema { name, rust_name, usage } => {
                write!(f, "schema {name}")?;
                if let Some(rust_name) = rust_name {
                    write!(f, " (Rust {rust_name})")?;
                }
                let usage = match usage {
                    Direction::Request => "sent in requests",
                    Direction::Response => "received in responses",
                    Direction::Both => "sent and received",
                    Direction::Unused => "not used by any operation",
                    Direction::Api => "",
                };
                write!(f, ", {usage}")
            }
        }
    }
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What it is reported under.
    pub group: Group,
    /// The place, as a readable path (`CreatePaymentRequest.amount.value`, `header X-Request-Id`).
    pub subject: String,
    /// What kind of change.
    pub kind: Kind,
    /// What exactly (`maxLength 50 -> 30`).
    pub detail: String,
    /// Which way the data at the place travels.
    pub direction: Direction,
    /// For the crate's users.
    pub semver: Semver,
    /// For an old client against a new server.
    pub wire: Wire,
    /// The place in the old document (its parent, for additions).
    pub old: Option<Site>,
    /// The place in the new document (its parent, for removals).
    pub new: Option<Site>,
}

impl Change {
    /// Documentation-only changes (descriptions, examples...) are listed apart.
    pub fn is_documentation(&self) -> bool {
        self.kind == Kind::DocumentationChanged
    }
}

/// Which document a side of the diff is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentInfo {
    /// The file as given.
    pub file: String,
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// sha256 of the file's bytes.
    pub sha256: String,
}

/// Counts over the changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every change.
    pub total: usize,
    /// Changes that are not documentation only.
    pub structural: usize,
    /// Documentation-only changes.
    pub documentation: usize,
    /// Semver major changes.
    pub major: usize,
    /// Semver minor changes.
    pub minor: usize,
    /// Semver patch changes (documentation included).
    pub patch: usize,
    /// Changes that break an old client.
    pub breaking: usize,
    /// The bump the generated crate needs: the largest semver of any change (none when empty).
    pub suggested_bump: Option<Semver>,
}

/// The diff of two documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecDiff {
    /// The old document.
    pub old: DocumentInfo,
    /// The new document.
    pub new: DocumentInfo,
    /// Counts.
    pub summary: Summary,
    /// Every change, grouped: document, operations (old document order, then added ones),
    /// component schemas by name.
    pub changes: Vec<Change>,
}

impl SpecDiff {
    fn new(old: DocumentInfo, new: DocumentInfo, changes: Vec<Change>) -> Self {
        let mut summary = Summary { total: changes.len(), ..Summary::default() };
        for change in &changes {
            if change.is_documentation() {
                summary.documentation += 1;
            } else {
                summary.structural += 1;
            }
            match change.semver {
                Semver::Major => summary.major += 1,
                Semver::Minor => summary.minor += 1,
                Semver::Patch => summary.patch += 1,
            }
            if change.wire == Wire::Breaking {
                summary.breaking += 1;
            }
        }
        summary.suggested_bump = changes.iter().map(|c| c.semver).max();
        SpecDiff { old, new, summary, changes }
    }

    /// True when the documents are the same after resolving.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// True when some change breaks an old client.
    pub fn has_breaking(&self) -> bool {
        self.summary.breaking > 0
    }

    /// Changes that are not documentation only.
    pub fn structural(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| !c.is_documentation())
    }

    /// `3 changes (1 major, 2 patch), 1 breaking on the wire; suggested bump: major`.
    pub fn one_line_summary(&self) -> String {
        let s = &self.summary;
        if s.total == 0 {
            return "no changes".to_string();
        }
        let mut parts = Vec::new();
        for (count, name) in [(s.major, "major"), (s.minor, "minor"), (s.patch, "patch")] {
            if count > 0 {
                parts.push(format!("{count} {name}"));
            }
        }
        let plural = if s.total == 1 { "" } else { "s" };
        let mut line = format!("{} change{plural} ({})", s.total, parts.join(", "));
        if s.documentation > 0 {
            line.push_str(&format!(", {} documentation only", s.documentation));
        }
        if s.breaking > 0 {
            line.push_str(&format!(", {} breaking on the wire", s.breaking));
        }
        if let Some(bump) = s.suggested_bump {
            line.push_str(&format!("; suggested bump: {bump}"));
        }
        line
    }
}

/// Settings used when no settings file is given: the common header names, no merchant tags.
pub fn default_settings() -> Settings {
    Settings::defaults_for(HeaderRoles::default())
}

/// Loads, resolves and compares two documents with the default settings.
pub fn diff_files(old: &Path, new: &Path, refs: &RemoteRefMap) -> Result<SpecDiff, Error> {
    diff_files_with(old, new, refs, &default_settings())
}

/// Loads, resolves and compares two documents; `settings` gives the header roles and the
/// merchant-served tags (as in `spec/codegen.yaml`).
pub fn diff_files_with(old: &Path, new: &Path, refs: &RemoteRefMap, settings: &Settings) -> Result<SpecDiff, Error> {
    let old = resolve_file(old, refs)?;
    let new = resolve_file(new, refs)?;
    diff_resolved_with(&old, &new, settings)
}

/// Compares two resolved documents with the default settings.
pub fn diff_resolved(old: &Resolved, new: &Resolved) -> Result<SpecDiff, Error> {
    diff_resolved_with(old, new, &default_settings())
}

/// Compares two resolved documents.
pub fn diff_resolved_with(old: &Resolved, new: &Resolved, settings: &Settings) -> Result<SpecDiff, Error> {
    let old_api = crate::lower::lower(old, settings, "old")?;
    let new_api = crate::lower::lower(new, settings, "new")?;
    let changes = walk::walk(old, &old_api, new, &new_api, settings);
    Ok(SpecDiff::new(document_info(old), document_info(new), changes))
}

fn document_info(resolved: &Resolved) -> DocumentInfo {
    DocumentInfo {
        file: resolved.root.path.display().to_string().replace('\\', "/"),
        title: resolved.openapi.info.title.clone(),
        version: resolved.openapi.info.version.clone(),
        sha256: resolved.sha256(),
    }
}
