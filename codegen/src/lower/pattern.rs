//! OpenAPI patterns are ECMA-262 regexes; the `regex` crate reads `\d`, `\w` as Unicode classes.
//! Translate those to their ASCII meaning so `^\d{9,15}$` accepts exactly what the spec means.

/// Rewrites ECMA shorthand classes to ASCII sets; everything else is passed through.
pub fn ecma_to_rust_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let (inside, outside) = match next {
                    'd' => ("0-9", "[0-9]"),
                    'D' => ("", "[^0-9]"),
                    'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]"),
                    'W' => ("", "[^0-9A-Za-z_]"),
                    _ => {
                        out.push('\\');
                        out.push(next);
                        continue;
                    }
                };
                if !in_class {
                    out.push_str(outside);
                } else if !inside.is_empty() {
                    out.push_str(inside);
                } else {
                    // A negated shorthand inside a class has no simple ASCII spelling: keep it.
                    out.push('\\');
                    out.push(next);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ecma_to_rust_regex;

    #[test]
    fn shorthand_classes_become_ascii() {
        assert_eq!(ecma_to_rust_regex(r"^\d{9,15}$"), "^[0-9]{9,15}$");
        assert_eq!(ecma_to_rust_regex(r"^[\d.]+\w$"), "^[0-9.]+[0-9A-Za-z_]$");
        assert_eq!(ecma_to_rust_regex(r"^\\d\.$"), r"^\\d\.$");
        assert_eq!(ecma_to_rust_regex(r"^[a-zA-Z0-9-]{8,64}$"), "^[a-zA-Z0-9-]{8,64}$");
    }
}
