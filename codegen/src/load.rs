//! Load stage: read a YAML or JSON document into a `serde_json::Value`, keeping its text so
//! later stages can turn a JSON pointer back into a line number.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Location};
use crate::locate::LineIndex;

/// One parsed document and the text it came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// Path as given (used in messages).
    pub path: PathBuf,
    /// The raw text.
    pub text: String,
    /// The parsed tree, key order preserved.
    pub value: serde_json::Value,
    /// Pointer -> line, built on first use.
    lines: std::sync::OnceLock<LineIndex>,
}

impl Document {
    /// The location of a JSON pointer (`/components/schemas/X`) in this document.
    pub fn location(&self, pointer: &str) -> Location {
        Location {
            file: self.path.clone(),
            line: Some(self.lines.get_or_init(|| LineIndex::new(&self.text)).line(pointer)),
            column: None,
            pointer: pointer.to_string(),
        }
    }
}

/// Reads and parses a document from disk.
pub fn load_document(path: &Path) -> Result<Document, Error> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Error::new(
            Location { file: path.to_path_buf(), line: None, column: None, pointer: String::new() },
            ErrorKind::Io(err.to_string()),
        )
    })?;
    parse_document(path.to_path_buf(), text)
}

/// Parses document text. YAML is a superset of JSON, so both go through the YAML parser.
pub fn parse_document(path: PathBuf, text: String) -> Result<Document, Error> {
    let value: serde_json::Value = yaml_serde::from_str(&text).map_err(|err| {
        let (line, column) = match err.location() {
            Some(at) => (Some(at.line()), Some(at.column())),
            None => (None, None),
        };
        Error::new(
            Location { file: path.clone(), line, column, pointer: String::new() },
            ErrorKind::Syntax(strip_yaml_position(&err.to_string())),
        )
    })?;
    if !value.is_object() {
        return Err(Error::new(
            Location { file: path, line: Some(1), column: Some(1), pointer: String::new() },
            ErrorKind::Shape("the top level must be a mapping".into()),
        ));
    }
    Ok(Document { path, text, value, lines: std::sync::OnceLock::new() })
}

/// yaml_serde appends " at line L column C" to its messages; the location carries that already.
fn strip_yaml_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_pointer_segment(segment: &str) -> String {
    if !segment.contains(['~', '/']) {
        return segment.to_string();
    }
    segment.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON pointer segment (RFC 6901).
pub fn unescape_pointer_segment(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The JSON property a schema at `pointer` describes: the last `properties/<name>` of the
/// pointer, or empty when there is none (a parameter's schema). Validation errors name it.
pub fn property_of_pointer(pointer: &str) -> String {
    let segments: Vec<&str> = pointer.split('/').collect();
    segments.windows(2).rev().find(|pair| pair[0] == "properties").map(|pair| unescape_pointer_segment(pair[1])).unwrap_or_default()
}

/// Joins a pointer and a segment.
pub fn pointer_join(pointer: &str, segment: &str) -> String {
    let mut joined = String::with_capacity(pointer.len() + segment.len() + 1);
    joined.push_str(pointer);
    push_pointer_segment(&mut joined, segment);
    joined
}

/// Appends `/segment`, escaped (RFC 6901), to a pointer in place: for walks that build the
/// pointer of every node in one buffer.
pub fn push_pointer_segment(pointer: &mut String, segment: &str) {
    pointer.push('/');
    if segment.contains(['~', '/']) {
        pointer.push_str(&escape_pointer_segment(segment));
    } else {
        pointer.push_str(segment);
    }
}
