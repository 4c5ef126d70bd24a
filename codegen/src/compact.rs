//! Makes tool schemas smaller without losing anything a caller needs: properties the server
//! alone writes are not inputs, properties a caller alone sends are not outputs, single-member
//! `allOf` wrappers are unwrapped, and example lists are bounded. Optional, lossy steps (cut
//! descriptions, inlined references) are chosen by the user.

use serde_json::{Map, Value};

use crate::limits::MAX_DOCUMENT_DEPTH;
use crate::schema::{SCHEMA_KEYWORDS, SCHEMA_LIST_KEYWORDS, SCHEMA_MAP_KEYWORDS};
use crate::tools::ToolSpec;

/// How far to compact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compaction {
    /// Cut tool and schema descriptions to this many characters (an ellipsis marks the cut).
    pub max_description_chars: Option<usize>,
    /// Replace `$ref`s by the schemas they name, for clients that reject references; recursive
    /// schemas keep their references.
    pub inline_refs: bool,
    /// Leave out output schemas (structured content is then not promised).
    pub no_output_schemas: bool,
}

/// Examples kept per schema: one shows the shape; more cost tokens on every `tools/list`.
const MAX_EXAMPLES: usize = 1;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Input,
    Output,
}

/// Compacts one tool in place.
pub fn compact_tool(tool: &mut ToolSpec, options: &Compaction) {
    compact(&mut tool.input_schema, Side::Input, options, 0);
    if options.no_output_schemas {
        tool.output_schema = None;
        tool.output_wrapped = false;
    }
    if let Some(output) = &mut tool.output_schema {
        compact(output, Side::Output, options, 0);
    }
    if options.inline_refs {
        inline_refs(&mut tool.input_schema);
        if let Some(output) = &mut tool.output_schema {
            inline_refs(output);
        }
    }
    if let Some(max) = options.max_description_chars {
        tool.description = cut(&tool.description, max);
    }
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Compacts `schema`, `depth` schema levels down. Tool schemas are far shallower than
/// [`MAX_DOCUMENT_DEPTH`] (the converter refuses deeper ones); the bound only guards the stack.
fn compact(schema: &mut Value, side: Side, options: &Compaction, depth: usize) {
    if depth > MAX_DOCUMENT_DEPTH {
        return;
    }
    let Value::Object(map) = schema else {
        return;
    };
    // What one side never sees: inputs do not carry server-written properties, outputs do
    // not carry caller-only ones (passwords and the like).
    let hidden = match side {
        Side::Input => "readOnly",
        Side::Output => "writeOnly",
    };
    // One look at the (few, in general) keys saves a hashed lookup per keyword below.
    let (mut properties, mut examples, mut description, mut all_of) = (false, false, false, false);
    for key in map.keys() {
        match key.as_str() {
            "properties" => properties = true,
            "examples" => examples = true,
            "description" => description = true,
            "allOf" => all_of = true,
            _ => {}
        }
    }
    if properties && let Some(Value::Object(props)) = map.get_mut("properties") {
        let dropped: Vec<String> = props
            .iter()
            .filter(|(_, s)| member(s, hidden) == Some(&Value::Bool(true)))
            .map(|(k, _)| k.clone())
            .collect();
        for name in &dropped {
            props.shift_remove(name);
        }
        if !dropped.is_empty()
            && let Some(Value::Array(required)) = map.get_mut("required")
        {
            required.retain(|r| !r.as_str().is_some_and(|r| dropped.iter().any(|d| d == r)));
            if required.is_empty() {
                map.shift_remove("required");
            }
        }
    }
    if examples && let Some(Value::Array(examples)) = map.get_mut("examples") {
        examples.truncate(MAX_EXAMPLES);
    }
    if description
        && let Some(max) = options.max_description_chars
        && let Some(Value::String(d)) = map.get_mut("description")
    {
        *d = cut(d, max);
    }
    for (key, value) in map.iter_mut() {
        let key = key.as_str();
        match value {
            Value::Object(children) if SCHEMA_MAP_KEYWORDS.contains(&key) => {
                for child in children.values_mut() {
                    compact(child, side, options, depth + 1);
                }
            }
            Value::Array(children) if SCHEMA_LIST_KEYWORDS.contains(&key) => {
                for child in children {
                    compact(child, side, options, depth + 1);
                }
            }
            child if SCHEMA_KEYWORDS.contains(&key) => compact(child, side, options, depth + 1),
            _ => {}
        }
    }
    if all_of {
        unwrap_single_all_of(map);
    }
}

/// `schema.get(key)`, looking through the keys of a small object rather than hashing `key`.
fn member<'v>(schema: &'v Value, key: &str) -> Option<&'v Value> {
    let map = schema.as_object()?;
    if map.len() > 8 {
        return map.get(key);
    }
    map.iter().find_map(|(k, v)| (k == key).then_some(v))
}

/// `{"allOf": [X], ...annotations}` → X with the annotations, when nothing collides.
fn unwrap_single_all_of(map: &mut Map<String, Value>) {
    let single = matches!(map.get("allOf"), Some(Value::Array(all)) if all.len() == 1);
    if !single {
        return;
    }
    let Some(Value::Array(mut all)) = map.shift_remove("allOf") else {
        return;
    };
    let Some(Value::Object(inner)) = all.pop() else {
        return;
    };
    if inner.keys().any(|k| map.contains_key(k)) {
        map.insert("allOf".into(), Value::Array(vec![Value::Object(inner)]));
        return;
    }
    let siblings = std::mem::take(map);
    map.extend(inner);
    map.extend(siblings);
}

/// Replaces `#/$defs/...` references by copies of their targets, except references inside a
/// cycle, which must stay references. `$defs` entries no longer referenced are removed.
fn inline_refs(schema: &mut Value) {
    let Some(Value::Object(defs)) = schema.get("$defs").cloned() else {
        return;
    };
    let mut stack = Vec::new();
    let mut budget = MAX_INLINED_BYTES;
    inline_in(schema, &defs, &mut stack, &mut budget, 0);
    // Keep only the definitions still referenced (from cycles).
    let mut used = std::collections::BTreeSet::new();
    collect_refs(schema, &mut used, 0);
    let mut grew = true;
    while grew {
        grew = false;
        for name in used.clone() {
            if let Some(def) = defs.get(&name) {
                let before = used.len();
                collect_refs(def, &mut used, 0);
                grew |= used.len() > before;
            }
        }
    }
    if let Value::Object(root) = schema {
        if used.is_empty() {
            root.shift_remove("$defs");
        } else if let Some(Value::Object(kept)) = root.get_mut("$defs") {
            kept.retain(|k, _| used.contains(k));
        }
    }
}

fn def_name(reference: &str) -> Option<String> {
    crate::pointer::decode_fragment_token(reference.strip_prefix("#/$defs/")?)
}

/// At most this much schema text (as JSON) is copied in place of references in one schema:
/// beyond it references stay references, so that definitions referring to each other many
/// times over cannot make the copies grow exponentially.
const MAX_INLINED_BYTES: usize = 1 << 20;

/// Inlines the references in `value`, `depth` JSON levels down; copies nest no deeper than
/// [`MAX_DOCUMENT_DEPTH`], below which references stay references.
fn inline_in(
    value: &mut Value,
    defs: &Map<String, Value>,
    stack: &mut Vec<String>,
    budget: &mut usize,
    depth: usize,
) {
    if depth > MAX_DOCUMENT_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(def_name)
                && !stack.contains(&name)
                && let Some(Value::Object(target)) = defs.get(&name)
                && let Some(left) = budget.checked_sub(target_size(target))
            {
                *budget = left;
                let mut replacement = Value::Object(target.clone());
                stack.push(name);
                inline_in(&mut replacement, defs, stack, budget, depth + 1);
                stack.pop();
                map.shift_remove("$ref");
                if let Value::Object(inner) = replacement {
                    for (k, v) in inner {
                        map.entry(k).or_insert(v);
                    }
                }
                return;
            }
            for (key, child) in map.iter_mut() {
                if key != "$defs" {
                    inline_in(child, defs, stack, budget, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for child in items {
                inline_in(child, defs, stack, budget, depth + 1);
            }
        }
        _ => {}
    }
}

fn target_size(target: &Map<String, Value>) -> usize {
    serde_json::to_vec(target).map_or(usize::MAX, |text| text.len())
}

fn collect_refs(value: &Value, used: &mut std::collections::BTreeSet<String>, depth: usize) {
    if depth > MAX_DOCUMENT_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(def_name) {
                used.insert(name);
            }
            for (key, child) in map {
                if key != "$defs" {
                    collect_refs(child, used, depth + 1);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|c| collect_refs(c, used, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn read_only_inputs_and_write_only_outputs_are_dropped() {
        let mut input = json!({
            "type": "object",
            "properties": {"id": {"type": "string", "readOnly": true}, "name": {"type": "string"}},
            "required": ["id", "name"],
            "$defs": {"P": {"properties": {"created": {"readOnly": true}, "pw": {"writeOnly": true}}, "required": ["created"]}}
        });
        compact(&mut input, Side::Input, &Compaction::default(), 0);
        assert_eq!(input["properties"], json!({"name": {"type": "string"}}));
        assert_eq!(input["required"], json!(["name"]));
        assert_eq!(
            input["$defs"]["P"],
            json!({"properties": {"pw": {"writeOnly": true}}})
        );
        let mut output = json!({"properties": {"pw": {"writeOnly": true}, "a": {}}});
        compact(&mut output, Side::Output, &Compaction::default(), 0);
        assert_eq!(output, json!({"properties": {"a": {}}}));
    }

    #[test]
    fn single_all_of_is_unwrapped_and_examples_bounded() {
        let mut s =
            json!({"allOf": [{"$ref": "#/$defs/A"}], "description": "d", "examples": [1, 2, 3]});
        compact(&mut s, Side::Input, &Compaction::default(), 0);
        assert_eq!(
            s,
            json!({"$ref": "#/$defs/A", "description": "d", "examples": [1]})
        );
        let mut clash = json!({"allOf": [{"description": "inner"}], "description": "outer"});
        compact(&mut clash, Side::Input, &Compaction::default(), 0);
        assert_eq!(clash["allOf"][0]["description"], "inner");
    }

    #[test]
    fn refs_are_inlined_except_in_cycles() {
        let mut s = json!({
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A"}, "n": {"$ref": "#/$defs/Node"}},
            "$defs": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
                "B": {"type": "string"},
                "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}
            }
        });
        inline_refs(&mut s);
        assert_eq!(
            s["properties"]["a"],
            json!({"type": "object", "properties": {"b": {"type": "string"}}})
        );
        assert_eq!(
            s["properties"]["n"]["properties"]["next"],
            json!({"$ref": "#/$defs/Node"})
        );
        assert_eq!(
            s["$defs"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["Node"]
        );
    }

    /// What clients mirror into `Mcp-Param-*` headers is a tool's contract: compaction, even
    /// the lossy kind, keeps the marks where they are.
    #[test]
    fn header_marks_survive_every_compaction() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "X-Region": {
                    "allOf": [{"$ref": "#/$defs/Region"}],
                    "type": "string",
                    "x-mcp-header": "X-Region"
                },
                "X-Request-Id": {
                    "type": "string",
                    "description": "A correlation id echoed back by the upstream.",
                    "examples": ["a", "b"],
                    "x-mcp-header": "X-Request-Id"
                }
            },
            "$defs": {"Region": {"type": "string", "enum": ["eu", "us"]}}
        });
        let options = Compaction {
            max_description_chars: Some(5),
            inline_refs: true,
            no_output_schemas: true,
        };
        compact(&mut s, Side::Input, &options, 0);
        inline_refs(&mut s);
        assert_eq!(
            s["properties"]["X-Region"],
            json!({"type": "string", "enum": ["eu", "us"], "x-mcp-header": "X-Region"})
        );
        assert_eq!(
            s["properties"]["X-Request-Id"]["x-mcp-header"],
            "X-Request-Id"
        );
        assert!(s.get("$defs").is_none());
    }

    #[test]
    fn descriptions_are_cut_on_request() {
        let mut s = json!({"description": "abcdefghij", "properties": {"x": {"description": "0123456789"}}});
        let options = Compaction {
            max_description_chars: Some(5),
            ..Compaction::default()
        };
        compact(&mut s, Side::Input, &options, 0);
        assert_eq!(s["description"], "abcd…");
        assert_eq!(s["properties"]["x"]["description"], "0123…");
    }
}
