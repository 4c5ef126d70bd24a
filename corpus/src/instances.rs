//! Values to check a tool's schema with: one built to be valid from the schema itself (its
//! `const`, `enum`, `default` and `examples`, the smallest strings, numbers and arrays its
//! limits allow, every required and optional property), and variations of it that break one
//! thing each (a property missing, of the wrong type or unknown). The server's validator and
//! the reference validator must give the same verdict on each.

use serde_json::{Map, Value, json};

/// How deep a built value may nest; recursive schemas stop here.
const MAX_DEPTH: usize = 6;

/// The values to check `schema` with.
pub fn instances(schema: &Value) -> Vec<Value> {
    let mut out = vec![json!({}), Value::Null];
    let built = build(schema, schema, 0, true);
    let minimal = build(schema, schema, 0, false);
    for base in [built, minimal] {
        if let Value::Object(map) = &base {
            for (name, value) in map {
                let mut without = map.clone();
                without.remove(name);
                out.push(Value::Object(without));
                let mut wrong = map.clone();
                wrong.insert(name.clone(), wrong_type(value));
                out.push(Value::Object(wrong));
            }
            let mut extra = map.clone();
            extra.insert("zz_unknown".to_owned(), json!(1));
            out.push(Value::Object(extra));
        }
        out.push(base);
    }
    out
}

/// A value of another type than `value`.
fn wrong_type(value: &Value) -> Value {
    match value {
        Value::String(_) => json!(12),
        Value::Number(_) => json!("12"),
        Value::Bool(_) => json!("true"),
        Value::Null => json!(false),
        Value::Array(items) => items.first().cloned().unwrap_or(json!("x")),
        Value::Object(_) => json!([]),
    }
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..16 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => match reference.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(target) if schema.as_object().is_some_and(|m| m.len() == 1) => {
                    schema = target;
                }
                _ => break,
            },
            None => break,
        }
    }
    schema
}

/// A value meant to satisfy `schema` (optional properties too when `full`).
fn build(root: &Value, schema: &Value, depth: usize, full: bool) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let schema = resolve(root, schema);
    let Value::Object(map) = schema else {
        return json!("x");
    };
    if let Some(value) = map.get("const") {
        return value.clone();
    }
    if let Some(first) = map.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    for key in ["default", "example"] {
        if let Some(value) = map.get(key) {
            return value.clone();
        }
    }
    if let Some(first) = map.get("examples").and_then(|e| e.get(0)) {
        return first.clone();
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = map.get(key) {
            let parts: Vec<Value> = match key {
                "allOf" => list
                    .iter()
                    .map(|s| build(root, s, depth + 1, full))
                    .collect(),
                _ => list
                    .iter()
                    .take(1)
                    .map(|s| build(root, s, depth + 1, full))
                    .collect(),
            };
            if parts.iter().all(Value::is_object) && map.get("type").is_none_or(|t| t == "object") {
                let mut merged = Map::new();
                for part in parts {
                    if let Value::Object(part) = part {
                        merged.extend(part);
                    }
                }
                if let Value::Object(own) = own_object(root, map, depth, full) {
                    merged.extend(own);
                }
                return Value::Object(merged);
            }
            if let Some(first) = parts.into_iter().next() {
                return first;
            }
        }
    }
    let kind = match map.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types.iter().find_map(Value::as_str).unwrap_or("string"),
        None if map.contains_key("properties") => "object",
        None if map.contains_key("items") => "array",
        None => "string",
        _ => "string",
    };
    let number = |key: &str| map.get(key).and_then(Value::as_f64);
    match kind {
        "object" => own_object(root, map, depth, full),
        "array" => {
            let count = map
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .min(3);
            let item = match map.get("items") {
                Some(items) if depth < MAX_DEPTH => build(root, items, depth + 1, full),
                _ => json!("x"),
            };
            if map.get("uniqueItems") == Some(&Value::Bool(true)) && count > 1 {
                return Value::Array(vec![item]);
            }
            Value::Array(vec![item; count as usize])
        }
        "integer" | "number" => {
            let low = number("minimum").or(number("exclusiveMinimum").map(|m| m + 1.0));
            let value = low.unwrap_or(1.0).ceil();
            if kind == "integer" || value.fract() == 0.0 {
                json!(value as i64)
            } else {
                json!(value)
            }
        }
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => {
            let length = map
                .get("minLength")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, 64);
            json!("a".repeat(length as usize))
        }
    }
}

/// The object a schema's `properties` and `required` describe.
fn own_object(root: &Value, map: &Map<String, Value>, depth: usize, full: bool) -> Value {
    let mut object = Map::new();
    if depth >= MAX_DEPTH {
        return Value::Object(object);
    }
    let required: Vec<&str> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(Value::Object(properties)) = map.get("properties") {
        for (name, schema) in properties {
            if full || required.contains(&name.as_str()) {
                object.insert(name.clone(), build(root, schema, depth + 1, full));
            }
        }
    }
    for name in required {
        object.entry(name.to_owned()).or_insert_with(|| json!("x"));
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values cover both verdicts: the built one is valid, its variations are not.
    #[test]
    fn built_values_are_valid_and_their_variations_are_not() {
        let schema = json!({
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 3},
                "name": {"type": "string", "minLength": 2},
                "kind": {"enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "minItems": 2},
                "owner": {"allOf": [{"$ref": "#/$defs/Person"}, {"properties": {"age": {"type": "integer"}}}]}
            },
            "required": ["id", "name"],
            "additionalProperties": false,
            "$defs": {
                "Tag": {"type": "string"},
                "Person": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
            }
        });
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let values = instances(&schema);
        let built = values.last().unwrap();
        assert!(validator.is_valid(built), "{built}");
        let invalid = values.iter().filter(|v| !validator.is_valid(v)).count();
        assert!(invalid >= 6, "{invalid} of {} invalid", values.len());
    }

    /// A schema that includes itself through `allOf` (as Brex's `Card` does) stops at the
    /// depth limit instead of overflowing the stack.
    #[test]
    fn self_including_schemas_stop() {
        let schema = json!({
            "type": "object",
            "properties": {"card": {"$ref": "#/$defs/Card"}},
            "$defs": {"Card": {"allOf": [{"$ref": "#/$defs/Card"}, {"properties": {"id": {"type": "string"}}}]}}
        });
        assert!(instances(&schema).len() > 3);
    }
}
