//! Turns OpenAPI 3.1 Schema Objects into self-contained JSON Schema 2020-12 documents for tool
//! definitions: `$ref`s into the document become `#/$defs/...` entries (so cycles stay finite
//! and shared schemas are written once per tool), and keywords only documentation generators
//! read are dropped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use serde_json::{Map, Value};

use crate::limits::{MAX_DOCUMENT_DEPTH, MAX_REF_HOPS, MAX_SCHEMA_DEPTH, MAX_WARNINGS};
use crate::pointer::{push_token, unescape_token, value_at};
// How references name schemas: `$ref` fragments decoded, and `$defs` names written as ones.
use crate::pointer::{fragment_pointer, fragment_token as escape_fragment};

/// A problem in a schema, located by JSON pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    /// Where.
    pub pointer: String,
    /// What.
    pub message: String,
}

/// A schema converted once and reused by every tool that refers to it.
#[derive(Debug)]
struct Converted {
    value: Value,
    /// Pointers of the document schemas this one refers to.
    refs: Vec<String>,
}

/// A converted schema together with the document schemas it needs in `$defs`.
#[derive(Debug, Clone)]
pub struct ToolSchema {
    /// The schema, refs rewritten to `#/$defs/<name>`.
    pub value: Value,
    /// Pointers of referenced document schemas.
    pub refs: Vec<String>,
}

/// Converts schemas of one document, caching every referenced schema.
pub struct SchemaSet<'d> {
    doc: &'d Value,
    cache: HashMap<String, Rc<Converted>>,
    names: HashMap<String, String>,
    taken: HashSet<String>,
    /// Each distinct pattern's verdict: why the server could not check it, if it could not.
    patterns: HashMap<String, Option<String>>,
    sizes: HashMap<String, usize>,
    /// Keywords left out because their value was invalid, by pointer.
    pub warnings: Vec<SchemaError>,
}

/// The values `type` may take.
const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "string", "integer",
];

/// Keywords whose value is one schema.
pub const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
    "contentSchema",
];
/// Keywords whose value is a map of schemas.
pub const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
/// Keywords whose value is a list of schemas.
pub const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords dropped from tool schemas: they are for documentation generators or would change
/// how the tool schema's own references resolve.
const DROPPED_KEYWORDS: &[&str] = &[
    "discriminator",
    "xml",
    "externalDocs",
    "example",
    "nullable",
    "$id",
    "$schema",
    "$comment",
];

impl<'d> SchemaSet<'d> {
    /// A converter for schemas of `doc` (an OpenAPI 3.1 document).
    pub fn new(doc: &'d Value) -> Self {
        let mut taken = HashSet::new();
        if let Some(Value::Object(schemas)) = doc.pointer("/components/schemas") {
            taken.extend(schemas.keys().cloned());
        }
        SchemaSet {
            doc,
            cache: HashMap::new(),
            names: HashMap::new(),
            taken,
            patterns: HashMap::new(),
            sizes: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Converts the schema found at `at` (used in errors).
    pub fn convert(&mut self, schema: &Value, at: &str) -> Result<ToolSchema, SchemaError> {
        let mut refs = Vec::new();
        let value = self.walk(schema, at, 0, &mut refs)?;
        Ok(ToolSchema { value, refs })
    }

    /// Follows `$ref` chains from `schema` to the schema they finally point at, for questions
    /// about its shape (is it an object? which properties?). Returns `None` on broken refs.
    pub fn resolve<'s>(&self, mut schema: &'s Value) -> Option<&'s Value>
    where
        'd: 's,
    {
        for _ in 0..MAX_REF_HOPS {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => schema = value_at(self.doc, &fragment_pointer(r)?)?,
                None => return Some(schema),
            }
        }
        None
    }

    /// The `$defs` a tool schema needs: every schema reachable from `refs`, by name, sorted.
    pub fn defs_for(&mut self, refs: &[String]) -> Result<Map<String, Value>, SchemaError> {
        self.defs_within(refs, usize::MAX).map(|(defs, _)| defs)
    }

    /// Like [`SchemaSet::defs_for`], but stops adding definitions once they take `budget`
    /// bytes: definitions are taken breadth first (nearest the root first), and those left
    /// out are returned so that references to them can be replaced by open schemas. This
    /// bounds the size of tools over richly interlinked schemas (a 20 MB document can
    /// otherwise give every tool megabytes of `$defs`).
    pub fn defs_within(
        &mut self,
        refs: &[String],
        budget: usize,
    ) -> Result<(Map<String, Value>, LeftOut), SchemaError> {
        let mut out = BTreeMap::new();
        let mut left_out = LeftOut::new();
        let mut level: Vec<String> = refs.to_vec();
        level.sort();
        level.dedup();
        let mut seen: HashSet<String> = level.iter().cloned().collect();
        let mut used = 0usize;
        while !level.is_empty() {
            let mut next = Vec::new();
            for pointer in level {
                let converted = self.converted(&pointer)?;
                let name = self.name_for(&pointer);
                let size = match self.sizes.get(&pointer) {
                    Some(size) => *size,
                    None => {
                        let size = crate::json::len(&converted.value);
                        self.sizes.insert(pointer.clone(), size);
                        size
                    }
                };
                if used.saturating_add(size) > budget {
                    left_out.insert(escape_fragment(&name), name);
                    continue;
                }
                used += size;
                for r in &converted.refs {
                    if seen.insert(r.clone()) {
                        next.push(r.clone());
                    }
                }
                out.insert(name, converted.value.clone());
            }
            next.sort();
            level = next;
        }
        if !left_out.is_empty() {
            for value in out.values_mut() {
                open_refs(value, &left_out, 0);
            }
        }
        Ok((out.into_iter().collect(), left_out))
    }

    /// The `$defs` name of the document schema at `pointer`.
    fn name_for(&mut self, pointer: &str) -> String {
        if let Some(name) = self.names.get(pointer) {
            return name.clone();
        }
        let name = match pointer.strip_prefix("/components/schemas/") {
            Some(rest) if !rest.contains('/') => unescape_token(rest).into_owned(),
            _ => {
                let base: String = pointer
                    .trim_start_matches('/')
                    .replace("~1", "_")
                    .replace("~0", "_")
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let mut candidate = format!("ref_{base}");
                let mut n = 2;
                while self.taken.contains(&candidate) {
                    candidate = format!("ref_{base}_{n}");
                    n += 1;
                }
                candidate
            }
        };
        self.taken.insert(name.clone());
        self.names.insert(pointer.to_owned(), name.clone());
        name
    }

    fn converted(&mut self, pointer: &str) -> Result<Rc<Converted>, SchemaError> {
        if let Some(c) = self.cache.get(pointer) {
            return Ok(c.clone());
        }
        let target = value_at(self.doc, pointer).ok_or_else(|| SchemaError {
            pointer: pointer.to_owned(),
            message: "a $ref points here, but nothing is there".to_owned(),
        })?;
        let mut refs = Vec::new();
        let value = self.walk(target, pointer, 0, &mut refs)?;
        let converted = Rc::new(Converted { value, refs });
        self.cache.insert(pointer.to_owned(), converted.clone());
        Ok(converted)
    }

    fn walk(
        &mut self,
        schema: &Value,
        at: &str,
        depth: usize,
        refs: &mut Vec<String>,
    ) -> Result<Value, SchemaError> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(SchemaError {
                pointer: at.to_owned(),
                message: format!(
                    "schemas nested deeper than {MAX_SCHEMA_DEPTH} levels are not supported"
                ),
            });
        }
        let object = match schema {
            Value::Bool(_) => return Ok(schema.clone()),
            Value::Object(o) => o,
            // Written where a generator had no schema to give: nothing is known of the value.
            Value::Null => {
                self.warn(
                    at,
                    "the schema is `null`; read as a schema that accepts any value".to_owned(),
                );
                return Ok(Value::Object(Map::new()));
            }
            other => {
                return Err(SchemaError {
                    pointer: at.to_owned(),
                    message: format!("expected a schema (an object), found {}", kind(other)),
                });
            }
        };
        let mut out = Map::with_capacity(object.len());
        for (key, value) in object {
            let here = push_token(at, key);
            if key == crate::guardrails::MASK_MARK {
                // Read (and then removed) where the tools' guardrails are set.
                out.insert(key.clone(), value.clone());
                continue;
            }
            if key.starts_with("x-") || DROPPED_KEYWORDS.contains(&key.as_str()) {
                continue;
            }
            let is_dynamic = key == "$dynamicRef";
            let converted = if key == "$ref" || is_dynamic {
                let Some(reference) = value.as_str() else {
                    return Err(SchemaError {
                        pointer: here,
                        message: format!("{key} must be a string"),
                    });
                };
                if is_dynamic && object.contains_key("$ref") {
                    // Both: the `$ref` says what the value is.
                    continue;
                }
                // A reference that leads nowhere says nothing about the value: the tool
                // accepts any value there, and the upstream API is the judge of it.
                let target = match self.final_target(reference, &here) {
                    Ok(target) => target,
                    // Another document's content is bundled in before this runs.
                    Err(e) if !reference.starts_with('#') => return Err(e),
                    Err(e) => {
                        self.warn(
                            &here,
                            format!("{}; read as a schema that accepts any value", e.message),
                        );
                        continue;
                    }
                };
                if !refs.contains(&target) {
                    refs.push(target.clone());
                }
                let name = self.name_for(&target);
                let local = Value::String(format!("#/$defs/{}", escape_fragment(&name)));
                if is_dynamic {
                    // Without a `$dynamicAnchor` to bind it, a `$dynamicRef` is a `$ref`
                    // (JSON Schema 2020-12, 8.2.3.2); the tool schema has no dynamic scope.
                    out.insert("$ref".to_owned(), local);
                    continue;
                }
                local
            } else if SCHEMA_KEYWORDS.contains(&key.as_str()) {
                match value {
                    // `items` as an array is the pre-2020 tuple form.
                    Value::Array(list) if key == "items" => {
                        out.insert(
                            "prefixItems".to_owned(),
                            self.walk_list(list, &here, depth, refs)?,
                        );
                        continue;
                    }
                    _ => self.walk(value, &here, depth + 1, refs)?,
                }
            } else if SCHEMA_MAP_KEYWORDS.contains(&key.as_str()) {
                let Value::Object(map) = value else {
                    return Err(SchemaError {
                        pointer: here,
                        message: format!("`{key}` must be an object of schemas"),
                    });
                };
                let mut converted = Map::with_capacity(map.len());
                for (name, sub) in map {
                    let sub_at = push_token(&here, name);
                    if key == "patternProperties"
                        && let Some(why) = self.pattern_problem(name)
                    {
                        self.warn(&sub_at, format!("pattern `{name}` is left out: {why}"));
                        continue;
                    }
                    converted.insert(name.clone(), self.walk(sub, &sub_at, depth + 1, refs)?);
                }
                Value::Object(converted)
            } else if SCHEMA_LIST_KEYWORDS.contains(&key.as_str()) {
                let Value::Array(list) = value else {
                    return Err(SchemaError {
                        pointer: here,
                        message: format!("`{key}` must be an array of schemas"),
                    });
                };
                self.walk_list(list, &here, depth, refs)?
            } else {
                match self.checked_keyword(key, value, &here) {
                    Some(v) => v,
                    None => continue,
                }
            };
            out.insert(key.clone(), converted);
        }
        // Draft-04 boolean bounds (left in documents that declare an old `$schema`) become
        // the numeric form 2020-12 requires.
        for (exclusive, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(Value::Bool(flag)) = out.get(exclusive).cloned() {
                out.remove(exclusive);
                if flag && let Some(limit) = out.remove(bound) {
                    out.insert(exclusive.to_owned(), limit);
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// Checks the value of a keyword whose value is not a schema, returning what the tool
    /// schema keeps: the value, a repaired value, or nothing (with a warning) when the
    /// document's value is not valid JSON Schema. Real documents carry such mistakes
    /// (`required: true` on a property, `pattern: 0`, an `examples` map); copying them would
    /// make the whole tool schema invalid.
    fn checked_keyword(&mut self, key: &str, value: &Value, here: &str) -> Option<Value> {
        let keep = match key {
            "type" => match value {
                Value::String(t) => TYPES.contains(&t.as_str()),
                Value::Array(ts) => {
                    !ts.is_empty()
                        && ts
                            .iter()
                            .all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t)))
                }
                _ => false,
            },
            "required" => value
                .as_array()
                .is_some_and(|r| r.iter().all(Value::is_string)),
            "enum" => value.is_array(),
            "pattern" => match value.as_str() {
                Some(p) => match self.pattern_problem(p) {
                    None => true,
                    Some(why) => {
                        self.warn(here, format!("pattern `{p}` is left out: {why}"));
                        return None;
                    }
                },
                None => false,
            },
            "examples" => {
                return match value {
                    Value::Array(_) => Some(value.clone()),
                    // An OpenAPI `examples` map ({name: {value}}) in a schema: keep the values.
                    Value::Object(map) => Some(Value::Array(
                        map.values()
                            .map(|e| e.get("value").cloned().unwrap_or_else(|| e.clone()))
                            .collect(),
                    )),
                    _ => None,
                };
            }
            "minimum" | "maximum" => value.is_number(),
            // Booleans are converted once the whole schema is read.
            "exclusiveMinimum" | "exclusiveMaximum" => value.is_number() || value.is_boolean(),
            "multipleOf" => value.as_f64().is_some_and(|n| n > 0.0),
            "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
            | "maxProperties" | "minContains" | "maxContains" => value.as_u64().is_some(),
            "uniqueItems" | "readOnly" | "writeOnly" | "deprecated" => value.is_boolean(),
            "title" | "description" | "format" | "contentMediaType" | "contentEncoding" => {
                value.is_string()
            }
            "dependentRequired" => value.as_object().is_some_and(|m| {
                m.values()
                    .all(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
            }),
            _ => true,
        };
        if keep {
            Some(value.clone())
        } else {
            self.warn(
                here,
                format!(
                    "`{key}` has an invalid value ({}); it is left out",
                    kind(value)
                ),
            );
            None
        }
    }

    /// Why the runtime's validator could not check `pattern`, if it could not; checked once
    /// per distinct pattern.
    fn pattern_problem(&mut self, pattern: &str) -> Option<String> {
        if let Some(verdict) = self.patterns.get(pattern) {
            return verdict.clone();
        }
        let verdict = crate::pattern::compile(pattern)
            .err()
            .map(|e| e.to_string());
        self.patterns.insert(pattern.to_owned(), verdict.clone());
        verdict
    }

    fn warn(&mut self, pointer: &str, message: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(SchemaError {
                pointer: pointer.to_owned(),
                message,
            });
        }
    }

    fn walk_list(
        &mut self,
        list: &[Value],
        at: &str,
        depth: usize,
        refs: &mut Vec<String>,
    ) -> Result<Value, SchemaError> {
        let mut items = Vec::with_capacity(list.len());
        for (i, sub) in list.iter().enumerate() {
            items.push(self.walk(sub, &push_token(at, &i.to_string()), depth + 1, refs)?);
        }
        Ok(Value::Array(items))
    }

    /// The pointer a `$ref` finally designates, following refs that are nothing but another
    /// ref, so that aliases do not become `$defs` entries of their own.
    fn final_target(&mut self, reference: &str, at: &str) -> Result<String, SchemaError> {
        let mut pointer = self.local_pointer(reference, at)?;
        let mut hops = 0;
        loop {
            let Some(target) = value_at(self.doc, &pointer) else {
                return Err(SchemaError {
                    pointer: at.to_owned(),
                    message: format!("$ref `{reference}` points to nothing"),
                });
            };
            match target.as_object() {
                Some(o) if o.len() == 1 && o.contains_key("$ref") => {
                    hops += 1;
                    if hops > MAX_REF_HOPS {
                        return Err(SchemaError {
                            pointer: at.to_owned(),
                            message: format!("$ref `{reference}` is a loop of references"),
                        });
                    }
                    let next = o["$ref"].as_str().unwrap_or_default().to_owned();
                    pointer = self.local_pointer(&next, &pointer)?;
                }
                _ => return Ok(pointer),
            }
        }
    }

    fn local_pointer(&self, reference: &str, at: &str) -> Result<String, SchemaError> {
        if !reference.starts_with('#') {
            return Err(SchemaError {
                pointer: at.to_owned(),
                message: format!(
                    "$ref `{reference}` points into another document; only references within \
                     the document are supported"
                ),
            });
        }
        if let Some(pointer) = fragment_pointer(reference) {
            return Ok(pointer);
        }
        // `#name`: a JSON Schema anchor (`$anchor: name`, or `$dynamicAnchor`) somewhere in
        // the document.
        let name = &reference[1..];
        find_anchor(self.doc, name).ok_or_else(|| SchemaError {
            pointer: at.to_owned(),
            message: format!(
                "$ref `{reference}` is neither a JSON pointer nor the name of an `$anchor` in \
                 the document"
            ),
        })
    }
}

/// The pointer of the first object in `doc` whose `$anchor` (or `$dynamicAnchor`) is `name`.
/// Iterative: documents can be deep.
fn find_anchor(doc: &Value, name: &str) -> Option<String> {
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let mut stack = vec![(doc, String::new())];
    while let Some((value, at)) = stack.pop() {
        match value {
            Value::Object(map) => {
                let named = |k: &str| map.get(k).and_then(Value::as_str) == Some(name);
                if named("$anchor") || named("$dynamicAnchor") {
                    return Some(at);
                }
                for (k, v) in map.iter().rev() {
                    stack.push((v, push_token(&at, k)));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate().rev() {
                    stack.push((v, push_token(&at, &i.to_string())));
                }
            }
            _ => {}
        }
    }
    None
}

/// Definitions left out of a tool schema: escaped name (as in `#/$defs/...`) → name.
pub type LeftOut = BTreeMap<String, String>;

/// Replaces references to the definitions in `left_out` (escaped name → name) by an open
/// schema that says what it stands for.
pub fn open_refs(value: &mut Value, left_out: &LeftOut, depth: usize) {
    if depth > MAX_DOCUMENT_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| left_out.get(name));
            if let Some(name) = target {
                let note = format!("A `{name}` (its schema is left out to keep this tool small).");
                map.shift_remove("$ref");
                map.entry("description").or_insert(Value::String(note));
                return;
            }
            for child in map.values_mut() {
                open_refs(child, left_out, depth + 1);
            }
        }
        Value::Array(items) => {
            for child in items {
                open_refs(child, left_out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The names a schema's `required` lists (strings only; nothing when it lists none).
pub fn required_names(schema: &Value) -> Vec<&str> {
    strings(schema.get("required"))
}

/// The strings of a JSON array (`required`, `enum` of names, ...); anything else gives none.
pub fn string_list(value: Option<&Value>) -> Vec<String> {
    strings(value).into_iter().map(str::to_owned).collect()
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A short name for a JSON value's kind, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether instances of `schema` (after following refs) are always JSON objects.
pub fn is_object_schema(set: &SchemaSet<'_>, schema: &Value) -> bool {
    object_schema(set, schema, 0, &mut HashSet::new())
}

/// `allOf` members are visited once each and at most [`MAX_SCHEMA_DEPTH`] deep: a schema that
/// is its own `allOf` member would otherwise recurse forever, and shared members would be
/// visited exponentially often. A member met again answered `false` the first time, or is
/// being answered (a cycle, which says nothing about objects).
fn object_schema(
    set: &SchemaSet<'_>,
    schema: &Value,
    depth: usize,
    seen: &mut HashSet<*const Value>,
) -> bool {
    let Some(schema) = set.resolve(schema) else {
        return false;
    };
    if depth > MAX_SCHEMA_DEPTH || !seen.insert(schema as *const Value) {
        return false;
    }
    match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(_) => false,
        None => {
            schema.get("properties").is_some()
                || schema.get("additionalProperties").is_some()
                || schema
                    .get("allOf")
                    .and_then(Value::as_array)
                    .is_some_and(|all| all.iter().any(|s| object_schema(set, s, depth + 1, seen)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "components": {"schemas": {
                "Node": {"type": "object", "properties": {
                    "next": {"$ref": "#/components/schemas/Node"},
                    "xml": {"type": "string", "xml": {"name": "x"}},
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}}
                }, "x-internal": true, "discriminator": {"propertyName": "t"}},
                "Tag": {"type": "string", "example": "a"},
                "Alias": {"$ref": "#/components/schemas/Tag"},
                "a/b": {"type": "integer"},
                "Loop1": {"$ref": "#/components/schemas/Loop2"},
                "Loop2": {"$ref": "#/components/schemas/Loop1"}
            }}
        })
    }

    #[test]
    fn cycles_become_defs_and_doc_keywords_are_dropped() {
        let d = doc();
        let mut set = SchemaSet::new(&d);
        let s = set
            .convert(&json!({"$ref": "#/components/schemas/Node"}), "/x")
            .unwrap();
        assert_eq!(s.value, json!({"$ref": "#/$defs/Node"}));
        let defs = set.defs_for(&s.refs).unwrap();
        assert_eq!(
            Value::Object(defs),
            json!({
                "Node": {"type": "object", "properties": {
                    "next": {"$ref": "#/$defs/Node"},
                    "xml": {"type": "string"},
                    "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}}
                }},
                "Tag": {"type": "string"}
            })
        );
    }

    #[test]
    fn defs_beyond_the_budget_become_open_schemas() {
        let d = json!({"components": {"schemas": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
            "B": {"type": "object", "properties": {"c": {"$ref": "#/components/schemas/C"}}},
            "C": {"type": "string", "description": "a long description that makes C large enough to exceed the budget"}
        }}});
        let mut set = SchemaSet::new(&d);
        let s = set
            .convert(&json!({"$ref": "#/components/schemas/A"}), "/x")
            .unwrap();
        let (all, none_left) = set.defs_within(&s.refs, usize::MAX).unwrap();
        assert_eq!(all.len(), 3);
        assert!(none_left.is_empty());
        // A and B fit, C does not: B's reference to C becomes an open schema naming it.
        let budget = all["A"].to_string().len() + all["B"].to_string().len();
        let (some, left) = set.defs_within(&s.refs, budget).unwrap();
        assert_eq!(some.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(left.values().collect::<Vec<_>>(), ["C"]);
        assert_eq!(
            some["B"]["properties"]["c"],
            json!({"description": "A `C` (its schema is left out to keep this tool small)."})
        );
    }

    #[test]
    fn aliases_are_followed_and_names_escaped() {
        let d = doc();
        let mut set = SchemaSet::new(&d);
        let s = set
            .convert(&json!({"$ref": "#/components/schemas/Alias"}), "/x")
            .unwrap();
        assert_eq!(s.value, json!({"$ref": "#/$defs/Tag"}));
        let s = set
            .convert(&json!({"$ref": "#/components/schemas/a~1b"}), "/x")
            .unwrap();
        assert_eq!(s.value, json!({"$ref": "#/$defs/a~1b"}));
        assert!(set.defs_for(&s.refs).unwrap().contains_key("a/b"));
    }

    #[test]
    fn broken_refs_are_located_warnings_or_errors() {
        let d = doc();
        let mut set = SchemaSet::new(&d);
        // A reference to nothing says nothing of the value: any value, and a warning.
        let s = set
            .convert(&json!({"properties": {"a": {"$ref": "#/nope"}}}), "/s")
            .unwrap();
        assert_eq!(s.value, json!({"properties": {"a": {}}}));
        let s = set
            .convert(&json!({"$ref": "#/components/schemas/Loop1"}), "/s")
            .unwrap();
        assert_eq!(s.value, json!({}));
        let warnings: Vec<_> = set
            .warnings
            .iter()
            .map(|w| (w.pointer.as_str(), w.message.as_str()))
            .collect();
        assert_eq!(warnings[0].0, "/s/properties/a/$ref");
        assert!(
            warnings[0]
                .1
                .contains("points to nothing; read as a schema that accepts any value"),
            "{warnings:?}"
        );
        assert!(warnings[1].1.contains("loop"), "{warnings:?}");
        let e = set
            .convert(&json!({"$ref": "other.yaml#/A"}), "/s")
            .unwrap_err();
        assert!(e.message.contains("another document"), "{e:?}");
        let e = set.convert(&json!({"items": 5}), "/s").unwrap_err();
        assert_eq!(e.pointer, "/s/items");
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let mut s = json!({"type": "string"});
        for _ in 0..5000 {
            let mut wrapper = Map::new();
            wrapper.insert("items".into(), s);
            s = Value::Object(wrapper);
        }
        let d = json!({});
        let e = SchemaSet::new(&d).convert(&s, "/s").unwrap_err();
        assert!(e.message.contains("nested deeper"));
        // Dropping a 5,000-level value recurses too; keep it out of the test's stack.
        std::mem::forget(s);
    }

    #[test]
    fn object_detection_follows_refs_and_allof() {
        let d = json!({"components": {"schemas": {
            "A": {"type": "object"},
            "B": {"allOf": [{"$ref": "#/components/schemas/A"}]},
            "C": {"type": ["object", "null"]}
        }}});
        let set = SchemaSet::new(&d);
        assert!(is_object_schema(
            &set,
            &json!({"$ref": "#/components/schemas/B"})
        ));
        assert!(!is_object_schema(
            &set,
            &json!({"$ref": "#/components/schemas/C"})
        ));
        assert!(!is_object_schema(&set, &json!({"type": "array"})));
    }
}
