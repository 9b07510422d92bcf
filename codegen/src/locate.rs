//! Maps a JSON pointer back to a line of block-style YAML text, so errors and warnings can say
//! `file:line`. Best effort: flow collections and exotic keys fall back to the nearest ancestor
//! that was found (the parsers we use keep no spans on successful parses).

use crate::load::unescape_pointer_segment;

/// One structural entry of the text: a mapping key or a list-item marker.
#[derive(Debug)]
struct Entry<'a> {
    line: usize,
    indent: usize,
    key: Option<&'a str>,
}

/// The 1-based line where the node at `pointer` starts, or the nearest ancestor's line.
pub fn line_of_pointer(text: &str, pointer: &str) -> Option<usize> {
    let entries = scan_entries(text);
    let segments: Vec<String> = pointer
        .trim_start_matches('#')
        .split('/')
        .skip(1)
        .map(unescape_pointer_segment)
        .collect();
    if segments.is_empty() {
        return Some(1);
    }
    // `parent` is the index of the entry we are inside; None is the document root.
    let mut parent: Option<usize> = None;
    let mut found_line = None;
    for segment in &segments {
        let (start, parent_indent) = match parent {
            Some(index) => (index + 1, Some(entries[index].indent)),
            None => (0, None),
        };
        let children = direct_children(&entries, start, parent_indent);
        let next = if children.first().is_some_and(|&i| entries[i].key.is_none()) {
            segment.parse::<usize>().ok().and_then(|n| children.get(n).copied())
        } else {
            children.into_iter().find(|&i| entries[i].key == Some(segment.as_str()))
        };
        match next {
            Some(index) => {
                found_line = Some(entries[index].line);
                parent = Some(index);
            }
            None => break,
        }
    }
    found_line.or(Some(1))
}

/// Indices of the entries directly below the entry ending at `start - 1` (or the root).
fn direct_children(entries: &[Entry<'_>], start: usize, parent_indent: Option<usize>) -> Vec<usize> {
    let mut child_indent = None;
    let mut out = Vec::new();
    for (index, entry) in entries.iter().enumerate().skip(start) {
        if parent_indent.is_some_and(|p| entry.indent <= p) {
            break;
        }
        match child_indent {
            None => {
                child_indent = Some(entry.indent);
                out.push(index);
            }
            Some(indent) if entry.indent == indent => out.push(index),
            Some(indent) if entry.indent < indent => break,
            Some(_) => {}
        }
    }
    out
}

fn scan_entries(text: &str) -> Vec<Entry<'_>> {
    let mut entries = Vec::new();
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
            entries.push(Entry { line, indent, key: None });
            let inner = after.trim_start();
            indent += rest.len() - inner.len();
            rest = inner;
        }
        if let Some(key) = mapping_key(rest) {
            entries.push(Entry { line, indent, key: Some(key) });
            let value = rest[rest.find(':').map_or(rest.len(), |i| i + 1)..].trim();
            if value.starts_with('|') || value.starts_with('>') {
                block_scalar_indent = Some(indent);
            }
        }
    }
    entries
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
    use super::line_of_pointer;

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
    fn block_scalars_do_not_look_like_keys_and_misses_fall_back_to_the_ancestor() {
        assert_eq!(line_of_pointer(TEXT, "/paths/~1v1~1a~1{b}/get/text"), Some(4));
        assert_eq!(line_of_pointer(TEXT, "/nothing"), Some(1));
    }
}
