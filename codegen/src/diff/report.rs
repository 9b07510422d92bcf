//! Renders a [`SpecDiff`]: a terminal report, a pull-request description (Markdown) and JSON.
//! Structural changes are listed per group; documentation-only changes are counted and listed
//! briefly at the end.

use std::fmt::Write as _;

use super::{Change, Group, SpecDiff, Wire};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text for a terminal.
    Text,
    /// Markdown for a pull-request description.
    Markdown,
    /// JSON for tools.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(Format::Text),
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format '{other}' (text, markdown or json)")),
        }
    }
}

/// Documentation changes listed one by one before the rest is only counted.
const DOCUMENTATION_LISTED: usize = 40;

/// Renders a diff in a format.
pub fn render(diff: &SpecDiff, format: Format) -> String {
    match format {
        Format::Text => text(diff),
        Format::Markdown => markdown(diff),
        Format::Json => {
            let mut out = serde_json::to_string_pretty(diff).unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
            out.push('\n');
            out
        }
    }
}

/// Structural changes by group, in report order.
fn groups(diff: &SpecDiff) -> Vec<(&Group, Vec<&Change>)> {
    let mut out: Vec<(&Group, Vec<&Change>)> = Vec::new();
    for change in diff.structural() {
        match out.iter_mut().find(|(group, _)| **group == change.group) {
            Some((_, list)) => list.push(change),
            None => out.push((&change.group, vec![change])),
        }
    }
    out
}

fn documentation(diff: &SpecDiff) -> Vec<&Change> {
    diff.changes.iter().filter(|c| c.is_documentation()).collect()
}

/// Where to point the reader: the new place, or the old one for removals.
fn site(change: &Change) -> String {
    let removed = change.kind.name().contains("removed");
    let pick = if removed { change.old.as_ref().or(change.new.as_ref()) } else { change.new.as_ref().or(change.old.as_ref()) };
    pick.map(|s| s.to_string()).unwrap_or_default()
}

/// A short name for a documentation change: `createPayment header X`, `Amount.value`.
fn doc_subject(change: &Change) -> String {
    match &change.group {
        Group::Operation { method, path, operation_id, .. } => {
            let label = operation_id.clone().unwrap_or_else(|| format!("{method} {path}"));
            match change.subject.as_str() {
                "operation" => label,
                subject => format!("{label} {subject}"),
            }
        }
        _ => change.subject.clone(),
    }
}

fn text(diff: &SpecDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "spec diff: {} ({} {}) -> {} ({} {})",
        diff.old.file, diff.old.title, diff.old.version, diff.new.file, diff.new.title, diff.new.version
    );
    let _ = writeln!(out, "{}", diff.one_line_summary());
    for (group, changes) in groups(diff) {
        let _ = writeln!(out, "\n{group}");
        for change in changes {
            let _ = writeln!(
                out,
                "  {:<5}  {:<10}  {}  {}: {}  ({})",
                change.semver.name(),
                change.wire.name(),
                change.kind,
                change.subject,
                change.detail,
                site(change)
            );
        }
    }
    let docs = documentation(diff);
    if !docs.is_empty() {
        let _ = writeln!(out, "\ndocumentation only: {} change{} (patch, compatible)", docs.len(), if docs.len() == 1 { "" } else { "s" });
        for change in docs.iter().take(DOCUMENTATION_LISTED) {
            let _ = writeln!(out, "  {}: {}", doc_subject(change), change.detail);
        }
        if docs.len() > DOCUMENTATION_LISTED {
            let _ = writeln!(out, "  ... and {} more (see --format json)", docs.len() - DOCUMENTATION_LISTED);
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown(diff: &SpecDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Spec diff: `{}` ({} {}) → `{}` ({} {})\n",
        diff.old.file, diff.old.title, diff.old.version, diff.new.file, diff.new.title, diff.new.version
    );
    let s = &diff.summary;
    match s.suggested_bump {
        Some(bump) => {
            let _ = writeln!(out, "**Suggested version bump: {bump}**\n");
        }
        None => {
            let _ = writeln!(out, "**No changes.**");
            return out;
        }
    }
    let _ = writeln!(out, "| | major | minor | patch | breaking on the wire | documentation only |\n|---|---|---|---|---|---|");
    let _ = writeln!(out, "| changes | {} | {} | {} | {} | {} |", s.major, s.minor, s.patch, s.breaking, s.documentation);
    for (group, changes) in groups(diff) {
        let _ = writeln!(out, "\n### {}\n", cell(&group.to_string()));
        let _ = writeln!(out, "| semver | wire | change | where | detail | source |\n|---|---|---|---|---|---|");
        for change in changes {
            let wire = match change.wire {
                Wire::Breaking => "**breaking**",
                Wire::Compatible => "compatible",
            };
            let _ = writeln!(
                out,
                "| {} | {wire} | `{}` | {} | {} | `{}` |",
                change.semver,
                change.kind,
                cell(&change.subject),
                cell(&change.detail),
                cell(&site(change))
            );
        }
    }
    let docs = documentation(diff);
    if !docs.is_empty() {
        let _ = writeln!(out, "\n<details><summary>Documentation only: {} changes (patch, compatible)</summary>\n", docs.len());
        for change in docs.iter().take(DOCUMENTATION_LISTED) {
            let _ = writeln!(out, "- {}: {}", cell(&doc_subject(change)), cell(&change.detail));
        }
        if docs.len() > DOCUMENTATION_LISTED {
            let _ = writeln!(out, "- ... and {} more", docs.len() - DOCUMENTATION_LISTED);
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}
