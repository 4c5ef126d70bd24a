//! Header parameters that clients mirror into HTTP headers (MCP 2026-07-28, SEP-2243).
//!
//! A tool's input schema may mark a property with `"x-mcp-header": "<Name>"`; a client calling
//! the tool over streamable HTTP then sends the argument's value as `Mcp-Param-<Name>` too, so
//! that load balancers and gateways can route on it without reading the body, and the server
//! refuses a call whose header and body disagree. The document's own header parameters are
//! exactly such values, so they are marked with their header name.
//!
//! Clients drop a tool whose marks break the rules (rmcp's client, for one, removes it from
//! `tools/list`), so only marks that are valid by those rules are written: on a top-level
//! property, a non-empty RFC 9110 token, unique case-insensitively within the tool, on a
//! property whose `type` is exactly `"string"`, `"integer"` or `"boolean"`. The specification
//! also says sensitive values should not be marked, as intermediaries see headers: credentials
//! and what looks like one are left unmarked.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::model::{Location, Param, SchemeKind};
use crate::schema::SchemaSet;

use super::SchemeSpec;

/// The schema keyword that names the header.
pub const KEYWORD: &str = "x-mcp-header";

/// Headers the runtime sets or refuses itself: a parameter of that name is never sent as
/// given, so there is nothing to mirror.
const CONTROLLED: &[&str] = &[
    "accept",
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "cookie",
    "host",
    "last-event-id",
    "proxy-authorization",
    "transfer-encoding",
];

/// Parts of a header name (lower case, separators removed) that mark a credential, a session
/// or a signature: values that must not be shown to every intermediary.
const SENSITIVE: &[&str] = &[
    "auth",
    "cookie",
    "credential",
    "passwd",
    "password",
    "secret",
    "session",
    "signature",
    "token",
];

/// The header marks of one tool's input schema.
pub struct HeaderMarks {
    /// Header names marked so far, in lower case.
    taken: HashSet<String>,
    /// Headers that carry an API key of the document's security schemes, in lower case.
    credentials: HashSet<String>,
}

impl HeaderMarks {
    /// Marks for a new tool of an API with `schemes`.
    pub fn new(schemes: &[SchemeSpec]) -> Self {
        let credentials = schemes
            .iter()
            .filter_map(|s| match &s.kind {
                SchemeKind::ApiKey {
                    location: Location::Header,
                    name,
                } => Some(name.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        HeaderMarks {
            taken: HashSet::new(),
            credentials,
        }
    }

    /// Marks `schema`, the converted schema of the argument of `param`, with the parameter's
    /// header name when a client may mirror it. A property whose schema is only a reference to
    /// a string, integer or boolean schema gets that `type` beside the reference, since
    /// clients look for the type on the property itself. Returns whether it was marked.
    pub fn mark(&mut self, param: &Param, schema: &mut Value, schemas: &SchemaSet<'_>) -> bool {
        if param.location != Location::Header {
            return false;
        }
        let name = param.name.as_str();
        let lower = name.to_ascii_lowercase();
        if !is_token(name)
            || CONTROLLED.contains(&lower.as_str())
            || lower.starts_with("mcp-")
            || self.credentials.contains(&lower)
            || looks_sensitive(&lower)
            || self.taken.contains(&lower)
        {
            return false;
        }
        // The document's schema, behind any references, for what the converted one does not
        // say at its root.
        let declared = schemas.resolve(&param.schema);
        let secret = |s: &Value| {
            s.get("format").and_then(Value::as_str) == Some("password")
                || s.get("writeOnly") == Some(&Value::Bool(true))
        };
        if secret(schema) || declared.is_some_and(secret) {
            return false;
        }
        let Value::Object(map) = schema else {
            return false;
        };
        let primitive = |t: Option<&Value>| {
            t.and_then(Value::as_str)
                .filter(|t| matches!(*t, "string" | "integer" | "boolean"))
                .map(str::to_owned)
        };
        match map.get("type") {
            Some(t) if primitive(Some(t)).is_some() => {}
            Some(_) => return false,
            // A reference to a string, integer or boolean schema: every valid value has that
            // type, so saying it beside the reference changes nothing but lets clients see it.
            None if map.contains_key("$ref") => {
                match declared.and_then(|d| primitive(d.get("type"))) {
                    Some(t) => {
                        map.insert("type".into(), json!(t));
                    }
                    None => return false,
                }
            }
            None => return false,
        }
        map.insert(KEYWORD.into(), json!(name));
        self.taken.insert(lower);
        true
    }
}

/// An RFC 9110 token (`1*tchar`), which header names are.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Whether a header name (in lower case) reads as a credential: `X-Auth-Token`,
/// `X-Api-Key`, `Ocp-Apim-Subscription-Key`, `X-Session-Id`, ...
fn looks_sensitive(lower: &str) -> bool {
    let squashed: String = lower
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect();
    SENSITIVE.iter().any(|s| squashed.contains(s)) || squashed.ends_with("key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_header_names() {
        assert!(is_token("X-Request-Id"));
        assert!(is_token("a!#$%&'*+-.^_`|~9"));
        for bad in [
            "",
            "X Request",
            "X:Y",
            "Région",
            "a\r\nb",
            "(x)",
            "a/b",
            "a\"b",
        ] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn credential_names_read_as_sensitive() {
        for name in [
            "x-api-key",
            "x-auth-token",
            "authorization",
            "x-csrf-token",
            "ocp-apim-subscription-key",
            "x-session-id",
            "x-amz-security-token",
            "x-hub-signature-256",
            "x-client-secret",
            "apikey",
        ] {
            assert!(looks_sensitive(name), "{name}");
        }
        for name in ["x-request-id", "x-tenant", "if-match", "x-region", "prefer"] {
            assert!(!looks_sensitive(name), "{name}");
        }
    }
}
