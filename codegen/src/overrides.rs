//! Settings overrides: reviewed changes to a resolved document (`specs[].overrides` in the
//! settings), applied before lowering. Each applied one is a `settings-override` lint; one whose
//! place is gone, or whose value the document now has itself, is a `stale-override` lint, so a
//! new document version shows which decisions to review. Never an error: the document reads the
//! same without them.

use serde_json::Value;

use crate::error::{Error, ErrorKind, Lint, Warning};
use crate::load::unescape_pointer_segment;
use crate::resolve::Resolved;
use crate::settings::Override;

/// `resolved` with `overrides` applied, and the lints saying what happened to each.
pub fn apply(resolved: &Resolved, overrides: &[Override]) -> Result<(Resolved, Vec<Warning>), Error> {
    let mut patched = resolved.clone();
    let mut warnings = Vec::new();
    let mut applied = 0;
    for item in overrides {
        let warn = |lint, message: String| Warning { location: resolved.location(&item.pointer), lint, message };
        let Some((parent, last)) = item.pointer.rsplit_once('/') else {
            warnings.push(warn(Lint::StaleOverride, format!("override of {:?} not applied: not a JSON pointer below the root ({})", item.pointer, item.why)));
            continue;
        };
        let key = unescape_pointer_segment(last);
        let before = patched.bundled.pointer(&item.pointer).cloned();
        if before.as_ref() == Some(&item.value) {
            warnings.push(warn(
                Lint::StaleOverride,
                format!("the document itself now sets {} to {}: the override can go ({})", item.pointer, item.value, item.why),
            ));
            continue;
        }
        let slot = match patched.bundled.pointer_mut(parent) {
            Some(Value::Object(map)) => map.entry(key).or_insert(Value::Null),
            Some(Value::Array(items)) => match key.parse::<usize>().ok().and_then(|index| items.get_mut(index)) {
                Some(slot) => slot,
                None => {
                    warnings.push(warn(Lint::StaleOverride, format!("override of {} not applied: no item {key} ({})", item.pointer, item.why)));
                    continue;
                }
            },
            _ => {
                warnings.push(warn(
                    Lint::StaleOverride,
                    format!("override of {} not applied: the document has no {parent} ({})", item.pointer, item.why),
                ));
                continue;
            }
        };
        *slot = item.value.clone();
        applied += 1;
        let was = before.map(|value| value.to_string()).unwrap_or_else(|| "unset".to_string());
        warnings.push(warn(Lint::SettingsOverride, format!("set to {} (the document: {was}) by the settings: {}", item.value, item.why)));
    }
    if applied == 0 {
        // Nothing changed: the typed document already read is still the right one.
        return Ok((patched, warnings));
    }
    patched.openapi = crate::resolve::typed_view(&mut patched.bundled).map_err(|err| {
        let pointer = overrides.first().map(|o| o.pointer.as_str()).unwrap_or("");
        Error::new(
            resolved.location(pointer),
            ErrorKind::Shape(format!("the document with the settings' overrides is not OpenAPI 3 at {}: {}", err.path(), err.inner())),
        )
    })?;
    Ok((patched, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::resolve;

    const DOC: &str = "openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /things:
    post:
      operationId: makeThing
      requestBody:
        content:
          application/json:
            schema: {type: string}
      responses:
        '204': {description: done}
";

    fn doc() -> Resolved {
        let document = crate::load::parse_document("things.yaml".into(), DOC.to_string()).expect("parses");
        resolve(document, &Default::default()).expect("resolves")
    }

    fn item(pointer: &str, value: Value) -> Override {
        Override { pointer: pointer.to_string(), value, why: "the server needs it".to_string() }
    }

    #[test]
    fn an_override_sets_the_value_and_says_so_with_its_place() {
        let pointer = "/paths/~1things/post/requestBody/required";
        let (patched, warnings) = apply(&doc(), &[item(pointer, Value::Bool(true))]).expect("applies");
        assert_eq!(patched.bundled.pointer(pointer), Some(&Value::Bool(true)));
        let item: openapiv3::PathItem = serde_json::from_value(patched.bundled["paths"]["/things"].clone()).expect("a path item");
        let body = item.post.as_ref().and_then(|o| o.request_body.as_ref());
        assert!(matches!(body, Some(openapiv3::ReferenceOr::Item(b)) if b.required), "the patched document reads as the override says");
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].lint, Lint::SettingsOverride);
        assert_eq!(warnings[0].location.pointer, pointer);
        assert_eq!(warnings[0].location.line, Some(7), "the line of its parent, requestBody");
        assert!(warnings[0].message.contains("(the document: unset) by the settings: the server needs it"), "{}", warnings[0].message);
    }

    #[test]
    fn a_stale_override_is_a_warning_and_changes_nothing() {
        let gone = item("/paths/~1others/post/requestBody/required", Value::Bool(true));
        let same = item("/paths/~1things/post/operationId", Value::String("makeThing".into()));
        let original = doc();
        let (patched, warnings) = apply(&original, &[gone, same]).expect("applies");
        assert_eq!(patched.bundled, original.bundled);
        let lints: Vec<_> = warnings.iter().map(|w| (w.lint, w.message.split(':').next().unwrap_or("").to_string())).collect();
        assert_eq!(
            lints,
            [
                (Lint::StaleOverride, "override of /paths/~1others/post/requestBody/required not applied".to_string()),
                (Lint::StaleOverride, "the document itself now sets /paths/~1things/post/operationId to \"makeThing\"".to_string()),
            ]
        );
    }

    #[test]
    fn an_override_that_breaks_the_document_is_a_located_error() {
        let error = apply(&doc(), &[item("/paths/~1things/post/requestBody/required", Value::String("yes".into()))]).expect_err("not a bool");
        assert!(matches!(&error.kind, ErrorKind::Shape(message) if message.contains("overrides is not OpenAPI 3")), "{error}");
        assert_eq!(error.location.pointer, "/paths/~1things/post/requestBody/required");
    }
}
