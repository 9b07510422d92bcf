//! Maps a JSON pointer back to a line of block-style YAML text, so errors and warnings can say
//! `file:line`. Best effort: flow collections and exotic keys fall back to the nearest ancestor
//! that was found (the parsers we use keep no spans on successful parses).


/// One structural entry of the text: a mapping key or a list-item marker.
#[derive(Debug)]
struct Entry<'a> {
    line: usize,
    indent: usize,
    key: Option<&'a str>,
}

/// Pointer -> line of every key and list item in a text, built in one pass so each lookup is
/// a hash probe (warnings can be many; rescanning the text per warning is quadratic).
///
/// Keyed by a 64-bit hash of the pointer, not the pointer itself: a document's pointers are
/// long and many (the index of a 100x copy of ePayment held 22 MiB of them), and a line is
/// a best-effort hint beside the exact pointer every message names.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    lines: std::collections::HashMap<u64, u32>,
}

/// The index's key of a pointer (SipHash with fixed keys: the same in every run).
fn pointer_key(pointer: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    pointer.hash(&mut hasher);
    hasher.finish()
}

impl LineIndex {
    /// Indexes block-style YAML text.
    pub fn new(text: &str) -> Self {
        struct Frame {
            indent: usize,
            pointer: String,
            next_item: usize,
        }
        let mut lines = std::collections::HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        scan_entries(text, |entry| {
            // Items sit half a level deeper than a key at the same column, so a compact list
            // (`key:` then `- item` at the key's column) still belongs to that key.
            let indent = entry.indent * 2 + usize::from(entry.key.is_none());
            while stack.last().is_some_and(|top| top.indent >= indent) {
                stack.pop();
            }
            let pointer = match (entry.key, stack.last_mut()) {
                (Some(key), parent) => {
                    let base = parent.map(|p| p.pointer.as_str()).unwrap_or("");
                    crate::load::pointer_join(base, key)
                }
                (None, Some(parent)) => {
                    let index = parent.next_item;
                    parent.next_item += 1;
                    format!("{}/{index}", parent.pointer)
                }
                (None, None) => "/0".to_string(),
            };
            lines.entry(pointer_key(&pointer)).or_insert(u32::try_from(entry.line).unwrap_or(u32::MAX));
            stack.push(Frame { indent, pointer, next_item: 0 });
        });
        Self { lines }
    }

    /// The line of `pointer`, or of its nearest indexed ancestor (1 for the document).
    pub fn line(&self, pointer: &str) -> usize {
        let mut current = pointer.trim_start_matches('#');
        loop {
            if current.is_empty() {
                return 1;
            }
            if let Some(line) = self.lines.get(&pointer_key(current)) {
                return *line as usize;
            }
            current = &current[..current.rfind('/').unwrap_or(0)];
        }
    }
}

/// Calls `visit` with every key and list-item marker of the text, in order.
fn scan_entries<'a>(text: &'a str, mut visit: impl FnMut(Entry<'a>)) {
    let mut block_scalar_indent: Option<usize> = None;
    for (number, raw) in text.lines().enumerate() {
        let line = number + 1;
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        if let Some(scalar_indent) = block_scalar_indent {
            if indent > scalar_indent {
                continue;
            }
            block_scalar_indent = None;
        }
        let mut rest = trimmed;
        while let Some(after) = rest.strip_prefix("- ").or_else(|| (rest == "-").then_some("")) {
            visit(Entry { line, indent, key: None });
            let inner = after.trim_start();
            indent += rest.len() - inner.len();
            rest = inner;
        }
        if let Some(key) = mapping_key(rest) {
            visit(Entry { line, indent, key: Some(key) });
            let value = rest[rest.find(':').map_or(rest.len(), |i| i + 1)..].trim();
            if value.starts_with('|') || value.starts_with('>') {
                block_scalar_indent = Some(indent);
            }
        }
    }
}

/// The key of a `key: value` line, without quotes.
fn mapping_key(rest: &str) -> Option<&str> {
    for quote in ['\'', '"'] {
        if let Some(inner) = rest.strip_prefix(quote) {
            let end = inner.find(quote)?;
            return inner[end + 1..].starts_with(':').then_some(&inner[..end]);
        }
    }
    let colon = rest.find(": ").or_else(|| rest.ends_with(':').then(|| rest.len() - 1))?;
    let key = &rest[..colon];
    (!key.starts_with('{') && !key.starts_with('[')).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    fn line_of_pointer(text: &str, pointer: &str) -> Option<usize> {
        Some(LineIndex::new(text).line(pointer))
    }

    const TEXT: &str = "openapi: 3.0.0\npaths:\n  /v1/a/{b}:\n    get:\n      description: >-\n        text: here\n      parameters:\n        - name: x\n          in: query\n        - $ref: '#/y'\n      responses:\n        '200':\n          description: ok\n";

    #[test]
    fn finds_keys_list_items_and_escaped_segments() {
        assert_eq!(line_of_pointer(TEXT, "/openapi"), Some(1));
        assert_eq!(line_of_pointer(TEXT, "/paths/~1v1~1a~1{b}/get"), Some(4));
        assert_eq!(line_of_pointer(TEXT, "/paths/~1v1~1a~1{b}/get/parameters/1/$ref"), Some(10));
        assert_eq!(line_of_pointer(TEXT, "/paths/~1v1~1a~1{b}/get/parameters/0/in"), Some(9));
        assert_eq!(line_of_pointer(TEXT, "/paths/~1v1~1a~1{b}/get/responses/200/description"), Some(13));
    }

    #[test]
    fn compact_lists_belong_to_the_key_above_them() {
        let text = "a:\n  required:\n  - x\n  - y\n  next: 1\nitems:\n- name: p\n  in: q\n- name: r\n";
        assert_eq!(line_of_pointer(text, "/a/required/1"), Some(4));
        assert_eq!(line_of_pointer(text, "/a/next"), Some(5));
        assert_eq!(line_of_pointer(text, "/items/0/in"), Some(8));
        assert_eq!(line_of_pointer(text, "/items/1/name"), Some(9));
    }

    #[test]
    fn block_scalars_do_not_look_like_keys_and_misses_fall_back_to_the_ancestor() {
        assert_eq!(line_of_pointer(TEXT, "/paths/~1v1~1a~1{b}/get/text"), Some(4));
        assert_eq!(line_of_pointer(TEXT, "/nothing"), Some(1));
    }
}
