//! RFC 7807 problem bodies, as the runtime reads them from any document's error responses: the
//! standard members, every other member kept as JSON, and [`Problem::decode`] to read the body as
//! the document's own generated problem type (for ePayment's documents `Problem`, whose
//! `extraDetails` are typed). The runtime names no generated type, so one `Error::Problem`
//! serves every API of the client.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// An `application/problem+json` body.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `type`: a URI naming the kind of problem (RFC 7807 says `about:blank` when absent).
    pub type_: String,
    /// `title`: a short summary of the kind of problem (empty when absent).
    pub title: String,
    /// `status`, as the body states it.
    pub status: Option<i64>,
    /// `detail`: this occurrence, in words.
    pub detail: Option<String>,
    /// `instance`: a URI naming this occurrence.
    pub instance: Option<String>,
    /// Every other member (extensions such as ePayment's `extraDetails` and `traceId`).
    pub extensions: BTreeMap<String, Value>,
}

impl Problem {
    /// Reads a problem from a JSON object; members of the wrong type are kept as extensions
    /// rather than failing, since a server's error body should never hide the error. `None` when
    /// the body is not a JSON object.
    pub(crate) fn from_json(body: &[u8]) -> Option<Self> {
        let Ok(Value::Object(members)) = serde_json::from_slice::<Value>(body) else { return None };
        let mut problem = Problem {
            type_: "about:blank".to_string(),
            title: String::new(),
            status: None,
            detail: None,
            instance: None,
            extensions: BTreeMap::new(),
        };
        for (name, value) in members {
            match (name.as_str(), value) {
                ("type", Value::String(text)) => problem.type_ = text,
                ("title", Value::String(text)) => problem.title = text,
                ("status", Value::Number(number)) if number.is_i64() => problem.status = number.as_i64(),
                ("detail", Value::String(text)) => problem.detail = Some(text),
                ("instance", Value::String(text)) => problem.instance = Some(text),
                (_, value) => {
                    problem.extensions.insert(name, value);
                }
            }
        }
        Some(problem)
    }

    /// The body read as `T`, such as the document's generated problem type.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.to_json()))
    }

    fn to_json(&self) -> serde_json::Map<String, Value> {
        let mut members: serde_json::Map<String, Value> = self.extensions.clone().into_iter().collect();
        // A member of the wrong type was kept as an extension under its own name: it wins, so the
        // body decodes as it was received.
        members.entry("type").or_insert_with(|| Value::String(self.type_.clone()));
        members.entry("title").or_insert_with(|| Value::String(self.title.clone()));
        if let Some(status) = self.status {
            members.entry("status").or_insert_with(|| Value::from(status));
        }
        if let Some(detail) = &self.detail {
            members.entry("detail").or_insert_with(|| Value::String(detail.clone()));
        }
        if let Some(instance) = &self.instance {
            members.entry("instance").or_insert_with(|| Value::String(instance.clone()));
        }
        members
    }

    /// An extension member.
    pub fn extension(&self, name: &str) -> Option<&Value> {
        self.extensions.get(name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn standard_members_are_read_and_the_rest_kept() {
        let body = json!({
            "type": "https://example.org/problems/too-high",
            "title": "Too high",
            "status": 409,
            "detail": "only 50 left",
            "traceId": "abc",
            "extraDetails": [{"name": "amount", "reason": "too high"}]
        });
        let problem = Problem::from_json(body.to_string().as_bytes()).expect("an object");
        assert_eq!(problem.type_, "https://example.org/problems/too-high");
        assert_eq!((problem.title.as_str(), problem.status, problem.detail.as_deref()), ("Too high", Some(409), Some("only 50 left")));
        assert_eq!(problem.extension("traceId"), Some(&json!("abc")));
        assert_eq!(problem.decode::<Value>().expect("decodes"), body, "nothing is lost");
    }

    #[test]
    fn odd_members_do_not_hide_the_problem() {
        let problem = Problem::from_json(br#"{"status":"409","title":7}"#).expect("an object");
        assert_eq!((problem.type_.as_str(), problem.title.as_str(), problem.status), ("about:blank", "", None));
        assert_eq!(problem.extension("status"), Some(&json!("409")));
        assert_eq!(problem.extension("title"), Some(&json!(7)));
        assert_eq!(problem.decode::<Value>().expect("decodes"), json!({"status": "409", "title": 7, "type": "about:blank"}));
        assert_eq!(Problem::from_json(b"[1,2]"), None);
        assert_eq!(Problem::from_json(b"not json"), None);
    }
}
