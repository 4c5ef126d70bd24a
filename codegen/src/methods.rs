//! HTTP methods: which fields of a Path Item hold operations, and what each method promises
//! (safe, idempotent, destructive). Every stage that walks operations or derives annotations
//! reads this one list.

use serde_json::{Map, Value};

/// The Path Item fields that hold one operation each, in the order operations are read (and
/// so named): the eight of OpenAPI 3.0 and 3.1, then 3.2's `query`.
pub const FIXED: [&str; 9] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace", "query",
];

/// The OpenAPI 3.2 Path Item field whose map holds operations of other methods, keyed by the
/// method name.
pub const ADDITIONAL: &str = "additionalOperations";

/// What a method promises, as MCP tool annotations state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Semantics {
    /// Safe: the call changes nothing (RFC 9110, section 9.2.1).
    pub read_only: bool,
    /// The call may destroy or overwrite data.
    pub destructive: bool,
    /// Repeating the call has no further effect (RFC 9110, section 9.2.2).
    pub idempotent: bool,
}

const fn semantics(read_only: bool, destructive: bool, idempotent: bool) -> Semantics {
    Semantics {
        read_only,
        destructive,
        idempotent,
    }
}

/// The semantics of `method` (any case). Methods of the HTTP core, QUERY, and the registered
/// methods an `additionalOperations` entry is likely to use (WebDAV, LINK/UNLINK, PURGE) are
/// known; any other method promises nothing.
pub fn semantics_of(method: &str) -> Semantics {
    match method.to_ascii_uppercase().as_str() {
        // Safe methods; QUERY is GET with a body (draft-ietf-httpbis-safe-method-w-body),
        // PROPFIND, REPORT and SEARCH read WebDAV resources.
        "GET" | "HEAD" | "OPTIONS" | "TRACE" | "QUERY" | "PROPFIND" | "REPORT" | "SEARCH" => {
            semantics(true, false, true)
        }
        "PUT" => semantics(false, false, true),
        // Each removes or replaces something, and repeating it changes nothing more.
        "DELETE" | "PURGE" | "UNLINK" | "MOVE" => semantics(false, true, true),
        "LINK" | "COPY" | "MKCOL" | "PROPPATCH" | "UNLOCK" | "MKCALENDAR" | "BIND" | "UNBIND"
        | "REBIND" => semantics(false, false, true),
        _ => semantics(false, false, false),
    }
}

/// Whether `name` is an HTTP method token (RFC 9110, section 9.1: a `token`).
pub fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// One operation of a Path Item.
pub struct Entry<'a> {
    /// The method, lower case.
    pub method: String,
    /// The JSON pointer tokens from the Path Item to the operation: one for a fixed field,
    /// two (`additionalOperations`, the key) for another method.
    pub tokens: Vec<&'a str>,
    /// The operation object.
    pub operation: &'a Value,
}

/// The operations of a Path Item, in the order they are read: the fixed fields, then
/// `additionalOperations` in document order.
pub fn operations(item: &Map<String, Value>) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    for method in FIXED {
        if let Some((key, operation)) = item.get_key_value(method) {
            out.push(Entry {
                method: method.to_owned(),
                tokens: vec![key.as_str()],
                operation,
            });
        }
    }
    if let Some(Value::Object(more)) = item.get(ADDITIONAL) {
        for (key, operation) in more {
            out.push(Entry {
                method: key.to_ascii_lowercase(),
                tokens: vec![ADDITIONAL, key.as_str()],
                operation,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_safe_and_other_methods_follow_their_definitions() {
        assert_eq!(semantics_of("query"), semantics(true, false, true));
        assert_eq!(semantics_of("PURGE"), semantics(false, true, true));
        assert_eq!(semantics_of("link"), semantics(false, false, true));
        assert_eq!(semantics_of("FROBNICATE"), semantics(false, false, false));
        assert_eq!(semantics_of("post"), semantics(false, false, false));
    }

    #[test]
    fn tokens() {
        assert!(is_token("PURGE"));
        assert!(is_token("M-SEARCH"));
        assert!(!is_token("BAD METHOD"));
        assert!(!is_token(""));
    }

    #[test]
    fn operations_come_in_reading_order() {
        let item = serde_json::json!({
            "additionalOperations": {"PURGE": {}, "LINK": {}},
            "query": {}, "get": {}, "parameters": []
        });
        let methods: Vec<String> = operations(item.as_object().unwrap())
            .into_iter()
            .map(|e| e.method)
            .collect();
        assert_eq!(methods, ["get", "query", "purge", "link"]);
    }
}
