//! The rules every generated tool must follow: a valid, unique name, and input and output
//! schemas that are valid JSON Schema 2020-12, compile, describe an object, and refer only to
//! locations inside themselves.

use std::collections::HashSet;

use mcpgen_codegen::ToolSpec;
use mcpgen_codegen::schema::{SCHEMA_KEYWORDS, SCHEMA_LIST_KEYWORDS, SCHEMA_MAP_KEYWORDS, kind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::instances::instances;
use crate::server_validator::ServerValidator;

/// One broken rule, or one thing that went wrong while running a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of problem: `name`, `input-schema-meta`, `panic`, `generate`, ...
    pub kind: String,
    /// The tool concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Finding {
    /// A finding that concerns no particular tool.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            tool: None,
            message: message.into(),
        }
    }
}

/// Whether `name` matches `^[A-Za-z0-9_.-]{1,64}$`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks the tools of one document.
pub fn check_tools(tools: &[ToolSpec]) -> Vec<Finding> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut push = |kind: String, tool: &str, message: String| {
        out.push(Finding {
            kind,
            tool: Some(tool.to_owned()),
            message,
        })
    };
    for tool in tools {
        if !valid_name(&tool.name) {
            push(
                "name".into(),
                &tool.name,
                format!(
                    "tool name {:?} does not match ^[A-Za-z0-9_.-]{{1,64}}$",
                    tool.name
                ),
            );
        }
        if !seen.insert(tool.name.as_str()) {
            push(
                "name-duplicate".into(),
                &tool.name,
                format!("tool name {:?} is used more than once", tool.name),
            );
        }
        for problem in check_schema(&tool.input_schema) {
            push(
                format!("input-schema-{}", problem.kind),
                &tool.name,
                problem.message,
            );
        }
        if let Some(output) = &tool.output_schema {
            for problem in check_schema(output) {
                push(
                    format!("output-schema-{}", problem.kind),
                    &tool.name,
                    problem.message,
                );
            }
        }
    }
    out
}

/// A rule one schema breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    /// `root` (not `"type": "object"`), `ref` (a `$ref` that does not resolve inside the
    /// schema), `meta` (invalid against the 2020-12 meta-schema), `compile` (rejected by the
    /// validator the runtime uses) or `verdict` (that validator and the reference one disagree
    /// on a value).
    pub kind: &'static str,
    /// What is wrong, and where.
    pub message: String,
}

/// Checks one tool schema.
pub fn check_schema(schema: &Value) -> Vec<SchemaProblem> {
    let mut out = Vec::new();
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        other => out.push(SchemaProblem {
            kind: "root",
            message: format!(
                "the root has {}, not \"type\": \"object\"",
                match other {
                    None => "no `type`".to_owned(),
                    Some(t) => format!("\"type\": {t}"),
                }
            ),
        }),
    }
    for message in unresolved_refs(schema) {
        out.push(SchemaProblem {
            kind: "ref",
            message,
        });
    }
    match jsonschema::draft202012::meta::validate(schema) {
        Err(e) => out.push(SchemaProblem {
            kind: "meta",
            message: format!("at {}: {}", pointer_or_root(e.instance_path()), e.masked()),
        }),
        Ok(()) => match ServerValidator::new(schema) {
            Err(e) => out.push(SchemaProblem {
                kind: "compile",
                message: e,
            }),
            Ok(server) => out.extend(compare_verdicts(schema, &server)),
        },
    }
    out
}

/// The server's validator and the reference validator (the `jsonschema` crate) must agree on
/// every value [`instances`] builds for the schema.
fn compare_verdicts(schema: &Value, server: &ServerValidator) -> Option<SchemaProblem> {
    // The reference's regex engine refuses some patterns JavaScript reads without its `u` flag
    // (`[\d-_]`: a digit, `-` or `_`), which the server reads as JavaScript does: nothing to
    // compare with then.
    let reference = jsonschema::draft202012::new(schema).ok()?;
    instances(schema).into_iter().find_map(|value| {
        let ours = server.accepts(&value);
        (ours != reference.is_valid(&value)).then(|| SchemaProblem {
            kind: "verdict",
            message: format!(
                "the server's validator {} {value}, the reference validator does not",
                if ours { "accepts" } else { "refuses" }
            ),
        })
    })
}

fn pointer_or_root(location: &impl std::fmt::Display) -> String {
    let text = location.to_string();
    if text.is_empty() {
        "/".to_owned()
    } else {
        text
    }
}

/// Every `$ref` and `$dynamicRef` in `schema` that does not resolve to a schema inside it, as
/// `pointer: message`. Only schema positions are searched, so a `$ref` key inside an `enum`,
/// `const`, `default` or `examples` value is data, not a reference.
pub fn unresolved_refs(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(schema, schema, String::new(), &mut out);
    out
}

fn walk(root: &Value, node: &Value, at: String, out: &mut Vec<String>) {
    let Value::Object(map) = node else {
        return;
    };
    for key in ["$ref", "$dynamicRef"] {
        match map.get(key) {
            None => {}
            Some(Value::String(target)) => {
                if let Err(why) = resolve(root, target) {
                    out.push(format!("{at}/{key}: {target:?} {why}"));
                }
            }
            Some(other) => out.push(format!("{at}/{key}: is {}, not a string", kind(other))),
        }
    }
    let child = |key: &str| format!("{at}/{}", escape(key));
    for &key in SCHEMA_KEYWORDS {
        if let Some(sub) = map.get(key) {
            if key == "items"
                && let Value::Array(items) = sub
            {
                walk_array(root, items, &child(key), out);
                continue;
            }
            walk(root, sub, child(key), out);
        }
    }
    for &key in SCHEMA_LIST_KEYWORDS {
        if let Some(Value::Array(items)) = map.get(key) {
            walk_array(root, items, &child(key), out);
        }
    }
    for &key in SCHEMA_MAP_KEYWORDS {
        if let Some(Value::Object(entries)) = map.get(key) {
            walk_map(root, entries, &child(key), out);
        }
    }
}

fn walk_array(root: &Value, items: &[Value], at: &str, out: &mut Vec<String>) {
    for (i, item) in items.iter().enumerate() {
        walk(root, item, format!("{at}/{i}"), out);
    }
}

fn walk_map(root: &Value, entries: &Map<String, Value>, at: &str, out: &mut Vec<String>) {
    for (name, sub) in entries {
        walk(root, sub, format!("{at}/{}", escape(name)), out);
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Resolves a reference against the schema that contains it: `#`, `#/json/pointer` (percent-
/// encoded as URI fragments are) or `#anchor` naming a `$anchor` in the schema.
pub fn resolve<'v>(root: &'v Value, target: &str) -> Result<&'v Value, String> {
    let Some(fragment) = target.strip_prefix('#') else {
        return Err("is not a reference inside the schema (it does not start with `#`)".into());
    };
    let fragment = percent_decode(fragment).ok_or("has a malformed percent escape")?;
    let found = if fragment.is_empty() {
        Some(root)
    } else if fragment.starts_with('/') {
        root.pointer(&fragment)
    } else {
        find_anchor(root, &fragment)
    };
    match found {
        None => Err("points at nothing in the schema".into()),
        Some(v @ (Value::Object(_) | Value::Bool(_))) => Ok(v),
        Some(other) => Err(format!("points at {}, not a schema", kind(other))),
    }
}

fn find_anchor<'v>(node: &'v Value, anchor: &str) -> Option<&'v Value> {
    match node {
        Value::Object(map) => {
            if map.get("$anchor").and_then(Value::as_str) == Some(anchor) {
                return Some(node);
            }
            map.values().find_map(|v| find_anchor(v, anchor))
        }
        Value::Array(items) => items.iter().find_map(|v| find_anchor(v, anchor)),
        _ => None,
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("get_pets_by_petId"));
        assert!(valid_name("a.b-c"));
        assert!(valid_name(&"x".repeat(64)));
        assert!(!valid_name(&"x".repeat(65)));
        assert!(!valid_name(""));
        assert!(!valid_name("get pets"));
        assert!(!valid_name("é"));
    }

    #[test]
    fn local_refs_resolve() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"$ref": "#/$defs/A"},
                "b": {"$ref": "#/$defs/B%20C"},
                "c": {"$ref": "#/$defs/D~1E"},
                "d": {"$ref": "#here"},
                "e": {"$ref": "#"}
            },
            "$defs": {
                "A": {"type": "string"},
                "B C": true,
                "D/E": {"$anchor": "here"}
            }
        });
        assert_eq!(unresolved_refs(&schema), Vec::<String>::new());
        assert!(check_schema(&schema).is_empty());
    }

    #[test]
    fn dangling_refs_are_found() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"$ref": "#/$defs/Missing"},
                "b": {"$ref": "#/components/schemas/B"},
                "c": {"items": [{"$ref": "other.json#/X"}]},
                "d": {"$ref": "#/properties/x/type"},
                "$ref": {"type": "string"}
            },
            "enum": [{"$ref": "not a reference, just data"}]
        });
        let found = unresolved_refs(&schema);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found[0].starts_with("/properties/a/$ref: \"#/$defs/Missing\""));
        assert!(found[2].starts_with("/properties/c/items/0/$ref"));
        let kinds: Vec<_> = check_schema(&schema).iter().map(|p| p.kind).collect();
        assert!(kinds.contains(&"ref"), "{kinds:?}");
    }

    #[test]
    fn root_must_be_an_object_schema() {
        let kinds: Vec<_> = check_schema(&json!({"type": "array"}))
            .iter()
            .map(|p| p.kind)
            .collect();
        assert_eq!(kinds, ["root"]);
        let kinds: Vec<_> = check_schema(&json!({"properties": {}}))
            .iter()
            .map(|p| p.kind)
            .collect();
        assert_eq!(kinds, ["root"]);
    }

    #[test]
    fn meta_and_compile_errors() {
        let bad_type =
            check_schema(&json!({"type": "object", "properties": {"a": {"type": "int"}}}));
        assert_eq!(bad_type.len(), 1);
        assert_eq!(bad_type[0].kind, "meta");
        assert!(
            bad_type[0].message.contains("/properties/a/type"),
            "{bad_type:?}"
        );
        let bad_pattern =
            check_schema(&json!({"type": "object", "properties": {"a": {"pattern": "(("}}}));
        assert_eq!(bad_pattern.len(), 1, "{bad_pattern:?}");
    }
}
