//! Checks tool arguments against the tool's input schema before anything is sent, and turns
//! failures into messages that tell the model how to fix its call.

use serde_json::Value;

use super::json_schema::CompiledSchema;

/// At most this many problems are reported for one call; the model fixes them in rounds.
const MAX_REPORTED: usize = 8;
/// Messages quote the offending value; a huge value must not flood the model's context.
const MAX_MESSAGE_CHARS: usize = 300;

/// Why a tool's schema cannot be used to check values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A generated table's schema text is not JSON.
    #[error("invalid embedded schema: {0}")]
    Embedded(String),
    /// A hand-written tool's schema text is not JSON.
    #[error("the input schema is not JSON: {0}")]
    NotJson(String),
    /// A hand-written tool's schema is JSON, but not an object.
    #[error("the input schema is not a JSON object")]
    NotAnObject,
    /// The schema is not a JSON Schema 2020-12 the validator can compile.
    #[error("{0}")]
    Invalid(String),
}

/// A compiled input schema.
pub struct ArgumentValidator {
    inner: CompiledSchema,
}

impl std::fmt::Debug for ArgumentValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArgumentValidator")
    }
}

impl ArgumentValidator {
    /// Compiles a JSON Schema 2020-12 document.
    pub fn new(schema: &Value) -> Result<Self, SchemaError> {
        CompiledSchema::compile(schema)
            .map(|inner| ArgumentValidator { inner })
            .map_err(SchemaError::Invalid)
    }

    /// Compiles a schema a generated table carries as JSON text.
    pub fn from_embedded(text: &str) -> Result<Self, SchemaError> {
        let schema: Value =
            serde_json::from_str(text).map_err(|e| SchemaError::Embedded(e.to_string()))?;
        Self::new(&schema)
    }

    /// Returns `Ok` when the arguments are valid, or the problems, one line each.
    pub fn check(&self, args: &Value) -> Result<(), Vec<String>> {
        if self.inner.is_valid(args) {
            return Ok(());
        }
        let problems: Vec<String> = self
            .inner
            .problems(args, MAX_REPORTED)
            .into_iter()
            .map(|problem| {
                let message = truncate(&problem.message);
                if problem.pointer.is_empty() {
                    message
                } else {
                    format!("`{}`: {message}", pointer_to_dotted(&problem.pointer))
                }
            })
            .collect();
        if problems.is_empty() {
            // The quick check and the full one disagree only through a bug; say so rather
            // than report success.
            return Err(vec![
                "the arguments do not match the input schema".to_owned(),
            ]);
        }
        Err(problems)
    }
}

/// `/tags/0` becomes `tags[0]`, the way a model writes it.
fn pointer_to_dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validator() -> ArgumentValidator {
        ArgumentValidator::new(&json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "limit": {"type": "integer", "maximum": 100},
                "tags": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["id"],
            "additionalProperties": false
        }))
        .unwrap()
    }

    /// Input schemas mark header parameters with `x-mcp-header` (MCP 2026-07-28); the
    /// validator must take it for the annotation it is, neither refusing the schema nor the
    /// arguments.
    #[test]
    fn header_marks_are_ignored() {
        let marked = ArgumentValidator::new(&json!({
            "type": "object",
            "properties": {
                "X-Request-Id": {"type": "string", "x-mcp-header": "X-Request-Id"},
                "X-Page": {"$ref": "#/$defs/Page", "type": "integer", "x-mcp-header": "X-Page"}
            },
            "additionalProperties": false,
            "$defs": {"Page": {"type": "integer", "minimum": 1}}
        }))
        .unwrap();
        assert!(
            marked
                .check(&json!({"X-Request-Id": "r-1", "X-Page": 2}))
                .is_ok()
        );
        assert!(marked.check(&json!({})).is_ok());
        // The other keywords still apply.
        assert!(marked.check(&json!({"X-Request-Id": 5})).is_err());
        assert!(marked.check(&json!({"X-Page": 0})).is_err());
        assert!(
            marked
                .check(&json!({"x-mcp-header": "X-Request-Id"}))
                .is_err()
        );
    }

    #[test]
    fn valid_arguments_pass() {
        assert!(
            validator()
                .check(&json!({"id": "1", "tags": ["a"]}))
                .is_ok()
        );
    }

    #[test]
    fn problems_name_the_argument() {
        let errs = validator()
            .check(&json!({"limit": 1000, "tags": ["a", 5], "bogus": 1}))
            .unwrap_err();
        let all = errs.join("\n");
        assert!(all.contains("\"id\" is a required property"), "{all}");
        assert!(
            all.contains("`limit`: 1000 is greater than the maximum of 100"),
            "{all}"
        );
        assert!(all.contains("`tags[1]`"), "{all}");
        assert!(all.contains("bogus"), "{all}");
    }

    #[test]
    fn huge_values_are_not_echoed_whole() {
        let big = "x".repeat(10_000);
        let errs = validator()
            .check(&json!({"id": 1, "limit": big}))
            .unwrap_err();
        assert!(
            errs.iter()
                .all(|e| e.chars().count() <= MAX_MESSAGE_CHARS + 20)
        );
    }
}
