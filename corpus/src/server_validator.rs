//! The server's argument validator, compiled here from the runtime's own files (as the
//! generator compiles `pattern.rs`): depending on the runtime crate would bring its whole HTTP
//! stack into the corpus build.

#[path = "../../runtime/src/rt/pattern.rs"]
#[allow(dead_code)]
mod pattern;

#[path = "../../runtime/src/rt/json_schema.rs"]
#[allow(dead_code)]
mod json_schema;

/// A schema compiled by the server's validator.
pub struct ServerValidator(json_schema::CompiledSchema);

impl ServerValidator {
    /// Compiles `schema` as a generated server does; the error names the JSON pointer.
    pub fn new(schema: &serde_json::Value) -> Result<Self, String> {
        json_schema::CompiledSchema::compile(schema).map(ServerValidator)
    }

    /// Whether the server accepts `value`.
    pub fn accepts(&self, value: &serde_json::Value) -> bool {
        self.0.is_valid(value)
    }
}
