//! OpenAPI 3.0 to 3.1: JSON Schema 2020-12 spells some schema keywords differently. `nullable`
//! becomes a `null` type (or an `anyOf` with one, beside a reference or composition), boolean
//! `exclusiveMinimum`/`exclusiveMaximum` take the bound's number, `example` becomes
//! `examples`, and binary and base64 formats gain the content keywords that say so.

use serde_json::Value;

use super::value::{discard, object};
use super::walk::{Loc, walk_document};
use super::{Object, UpgradeError, expected, root_error};

/// Converts an OpenAPI 3.0 document to 3.1: the version, and every schema.
pub(super) fn convert(
    doc: &mut Value,
    warnings: &mut Vec<UpgradeError>,
) -> Result<(), UpgradeError> {
    let Value::Object(root) = doc else {
        return Err(root_error(doc));
    };
    root.insert("openapi".to_owned(), Value::String("3.1.0".to_owned()));
    walk_document(root, warnings, visit_31);
    Ok(())
}

fn visit_31(schema: &mut Object, loc: &Loc<'_>, warnings: &mut Vec<UpgradeError>) -> bool {
    // Most schemas hold none of the keywords rewritten below: one look at the keys (a few, in
    // general) is cheaper than a hashed lookup for each keyword.
    let rewritten = |k: &String| {
        matches!(
            k.as_str(),
            "$ref" | "exclusiveMinimum" | "exclusiveMaximum" | "example" | "format" | "nullable"
        )
    };
    if !schema.keys().any(rewritten) {
        return false;
    }
    // In 3.0 the siblings of `$ref` are ignored; in 3.1 they would start to count (and some
    // documents put invalid values there). Keep only the annotations 3.1 allows beside a ref.
    if schema.contains_key("$ref") {
        schema.retain(|k, _| {
            matches!(k.as_str(), "$ref" | "description" | "summary" | "nullable")
                || k.starts_with("x-")
        });
    }
    convert_exclusive_bound(schema, "exclusiveMinimum", "minimum", loc, warnings);
    convert_exclusive_bound(schema, "exclusiveMaximum", "maximum", loc, warnings);
    convert_example(schema, loc, warnings);
    annotate_content_format(schema);
    // Last, because wrapping moves the keywords the steps above rewrite.
    convert_nullable(schema, loc, warnings)
}

fn convert_exclusive_bound(
    schema: &mut Object,
    flag: &str,
    bound: &str,
    loc: &Loc<'_>,
    warnings: &mut Vec<UpgradeError>,
) {
    match schema.get(flag) {
        Some(Value::Bool(true)) => match schema.get(bound) {
            Some(Value::Number(_)) => {
                if let Some(limit) = schema.shift_remove(bound) {
                    schema.insert(flag.to_owned(), limit);
                }
            }
            Some(other) => loc.warn(warnings, bound, expected("a number", other)),
            None => {
                schema.shift_remove(flag);
                loc.warn(
                    warnings,
                    flag,
                    format!("`{flag}: true` without `{bound}` has no effect; dropped"),
                );
            }
        },
        Some(Value::Bool(false)) => {
            schema.shift_remove(flag);
        }
        Some(Value::Number(_)) | None => {}
        Some(other) => loc.warn(warnings, flag, expected("a boolean or a number", other)),
    }
}

fn convert_example(schema: &mut Object, loc: &Loc<'_>, warnings: &mut Vec<UpgradeError>) {
    let Some(position) = schema.keys().position(|k| k == "example") else {
        return;
    };
    match schema.get("examples") {
        None => {
            if let Some(example) = schema.shift_remove("example") {
                let position = position.min(schema.len());
                schema.shift_insert(position, "examples".to_owned(), Value::Array(vec![example]));
            }
        }
        Some(Value::Array(_)) => {
            if let Some(example) = schema.shift_remove("example")
                && let Some(Value::Array(list)) = schema.get_mut("examples")
            {
                list.push(example);
            }
        }
        // `example` is still allowed (deprecated) in 3.1, so keeping it loses nothing.
        Some(other) => loc.warn(
            warnings,
            "examples",
            format!(
                "{}; `example` was left in place",
                expected("an array", other)
            ),
        ),
    }
}

fn annotate_content_format(schema: &mut Object) {
    let (key, value) = match schema.get("format").and_then(Value::as_str) {
        Some("binary") => ("contentMediaType", "application/octet-stream"),
        Some("base64") => ("contentEncoding", "base64"),
        _ => return,
    };
    if !schema.contains_key(key) {
        schema.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

fn convert_nullable(schema: &mut Object, loc: &Loc<'_>, warnings: &mut Vec<UpgradeError>) -> bool {
    match schema.shift_remove("nullable") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => make_nullable(schema, loc, warnings),
        Some(other) => {
            loc.warn(
                warnings,
                "nullable",
                format!("{}; dropped", expected("a boolean", &other)),
            );
            discard(other);
            false
        }
    }
}

const COMPOSITION_KEYWORDS: [&str; 5] = ["$ref", "allOf", "anyOf", "oneOf", "not"];

/// Annotations describe the whole value, null included, so they stay on the
/// outer schema when it is wrapped.
const ANNOTATION_KEYWORDS: [&str; 11] = [
    "title",
    "description",
    "default",
    "examples",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
    "externalDocs",
    "xml",
    "$comment",
];

fn make_nullable(schema: &mut Object, loc: &Loc<'_>, warnings: &mut Vec<UpgradeError>) -> bool {
    if COMPOSITION_KEYWORDS.iter().any(|k| schema.contains_key(*k)) {
        // A referenced or combined subschema rejects null by itself, so adding
        // "null" to a sibling `type` would not make the whole schema accept null.
        let original = std::mem::take(schema);
        let mut inner = Object::new();
        for (key, value) in original {
            if ANNOTATION_KEYWORDS.contains(&key.as_str()) || key.starts_with("x-") {
                schema.insert(key, value);
            } else {
                inner.insert(key, value);
            }
        }
        let null_schema = object([("type", Value::String("null".to_owned()))]);
        schema.insert(
            "anyOf".to_owned(),
            Value::Array(vec![Value::Object(inner), null_schema]),
        );
        return true;
    }
    // Without `type` the schema already admits null, unless an enum says otherwise.
    if let Some(slot) = schema.get_mut("type") {
        match slot {
            Value::String(name) if name != "null" => {
                let name = std::mem::take(name);
                *slot = Value::Array(vec![Value::String(name), Value::String("null".to_owned())]);
            }
            Value::String(_) => {}
            Value::Array(types) => {
                if !types.iter().any(|t| t.as_str() == Some("null")) {
                    types.push(Value::String("null".to_owned()));
                }
            }
            other => loc.warn(warnings, "type", expected("a string or an array", other)),
        }
    }
    match schema.get_mut("enum") {
        Some(Value::Array(values)) if !values.iter().any(Value::is_null) => {
            values.push(Value::Null);
        }
        Some(Value::Array(_)) | None => {}
        Some(other) => loc.warn(warnings, "enum", expected("an array", other)),
    }
    false
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::upgrade::test_support::*;
    use crate::upgrade::{SourceVersion, upgrade_to_31};

    #[test]
    fn openapi_30_version_becomes_310() {
        let mut doc = openapi30(json!({}));
        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::OpenApi30);
        assert!(warnings.is_empty());
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc.as_object().unwrap().keys().next().map(String::as_str),
            Some("openapi")
        );
    }

    #[test]
    fn nullable_with_type_becomes_type_array() {
        let (doc, _) = upgrade(schemas30(json!({
            "A": {"type": "string", "nullable": true},
            "B": {"type": "integer", "nullable": false},
            "C": {"type": "string", "enum": ["a", "b"], "nullable": true},
            "D": {"type": ["string", "integer"], "nullable": true},
            "E": {"type": "null", "nullable": true}
        })));
        let s = &doc["components"]["schemas"];
        assert_eq!(s["A"], json!({"type": ["string", "null"]}));
        assert_eq!(s["B"], json!({"type": "integer"}));
        assert_eq!(
            s["C"],
            json!({"type": ["string", "null"], "enum": ["a", "b", null]})
        );
        assert_eq!(s["D"], json!({"type": ["string", "integer", "null"]}));
        assert_eq!(s["E"], json!({"type": "null"}));
    }

    #[test]
    fn nullable_without_type() {
        let (doc, _) = upgrade(schemas30(json!({
            "Enum": {"enum": ["a", null], "nullable": true},
            "Enum2": {"enum": ["a"], "nullable": true},
            "Any": {"description": "anything", "nullable": true}
        })));
        let s = &doc["components"]["schemas"];
        assert_eq!(s["Enum"], json!({"enum": ["a", null]}));
        assert_eq!(s["Enum2"], json!({"enum": ["a", null]}));
        assert_eq!(s["Any"], json!({"description": "anything"}));
    }

    #[test]
    fn nullable_ref_and_composition_are_wrapped_in_any_of() {
        let (doc, _) = upgrade(schemas30(json!({
            "R": {"$ref": "#/components/schemas/X", "nullable": true, "description": "d", "x-e": 1},
            "All": {"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": true, "title": "t"},
            "One": {"type": "object", "oneOf": [{"$ref": "#/components/schemas/X"}], "discriminator": {"propertyName": "k"}, "nullable": true, "example": {"k": "x"}}
        })));
        let s = &doc["components"]["schemas"];
        assert_eq!(
            s["R"],
            json!({"description": "d", "x-e": 1, "anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]})
        );
        assert_eq!(
            s["All"],
            json!({"title": "t", "anyOf": [{"allOf": [{"$ref": "#/components/schemas/X"}]}, {"type": "null"}]})
        );
        assert_eq!(
            s["One"],
            json!({
                "examples": [{"k": "x"}],
                "anyOf": [
                    {"type": "object", "oneOf": [{"$ref": "#/components/schemas/X"}], "discriminator": {"propertyName": "k"}},
                    {"type": "null"}
                ]
            })
        );
    }

    #[test]
    fn nested_nullable_everywhere() {
        let (doc, _) = upgrade(openapi30(json!({
            "components": {
                "schemas": {"Outer": {
                    "type": "object",
                    "properties": {
                        "a": {"type": "string", "nullable": true},
                        "list": {"type": "array", "items": {"type": "integer", "nullable": true}},
                        "map": {"type": "object", "additionalProperties": {"type": "number", "nullable": true}},
                        "pat": {"patternProperties": {"^x": {"type": "boolean", "nullable": true}}},
                        "neg": {"not": {"type": "string", "nullable": true}}
                    },
                    "allOf": [{"properties": {"b": {"type": "string", "nullable": true}}}],
                    "anyOf": [{"type": "string", "nullable": true}],
                    "oneOf": [{"type": "string", "nullable": true}]
                }},
                "parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "string", "nullable": true}}},
                "headers": {"H": {"schema": {"type": "string", "nullable": true}}},
                "requestBodies": {"B": {"content": {"application/json": {"schema": {"type": "string", "nullable": true}}}}},
                "responses": {"R": {"description": "r",
                    "headers": {"X": {"schema": {"type": "string", "nullable": true}}},
                    "content": {"application/json": {"schema": {"type": "string", "nullable": true},
                        "encoding": {"f": {"headers": {"E": {"schema": {"type": "string", "nullable": true}}}}}}}}},
                "callbacks": {"C": {"{$request.body#/url}": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "string", "nullable": true}}}}}}}}
            },
            "paths": {"/a": {
                "parameters": [{"name": "q", "in": "query", "content": {"application/json": {"schema": {"type": "string", "nullable": true}}}}],
                "trace": {"responses": {"200": {"description": "ok", "content": {"a/b": {"schema": {"type": "string", "nullable": true}}}}}},
                "post": {
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "nullable": true}}],
                    "requestBody": {"content": {"application/json": {"schema": {"type": "string", "nullable": true}}}},
                    "responses": {"default": {"description": "d", "content": {"application/json": {"schema": {"type": "string", "nullable": true}}}}},
                    "callbacks": {"cb": {"{$url}": {"get": {"responses": {"200": {"description": "ok", "content": {"a/b": {"schema": {"type": "string", "nullable": true}}}}}}}}}
                }
            }}
        })));
        let nullable_string = json!({"type": ["string", "null"]});
        let c = &doc["components"];
        let outer = &c["schemas"]["Outer"];
        assert_eq!(outer["properties"]["a"], nullable_string);
        assert_eq!(
            outer["properties"]["list"]["items"],
            json!({"type": ["integer", "null"]})
        );
        assert_eq!(
            outer["properties"]["map"]["additionalProperties"],
            json!({"type": ["number", "null"]})
        );
        assert_eq!(
            outer["properties"]["pat"]["patternProperties"]["^x"],
            json!({"type": ["boolean", "null"]})
        );
        assert_eq!(outer["properties"]["neg"]["not"], nullable_string);
        assert_eq!(outer["allOf"][0]["properties"]["b"], nullable_string);
        assert_eq!(outer["anyOf"][0], nullable_string);
        assert_eq!(outer["oneOf"][0], nullable_string);
        assert_eq!(c["parameters"]["P"]["schema"], nullable_string);
        assert_eq!(c["headers"]["H"]["schema"], nullable_string);
        assert_eq!(
            c["requestBodies"]["B"]["content"]["application/json"]["schema"],
            nullable_string
        );
        let r = &c["responses"]["R"];
        assert_eq!(r["headers"]["X"]["schema"], nullable_string);
        assert_eq!(r["content"]["application/json"]["schema"], nullable_string);
        assert_eq!(
            r["content"]["application/json"]["encoding"]["f"]["headers"]["E"]["schema"],
            nullable_string
        );
        assert_eq!(
            c["callbacks"]["C"]["{$request.body#/url}"]["post"]["requestBody"]["content"]["application/json"]
                ["schema"],
            nullable_string
        );
        let a = &doc["paths"]["/a"];
        assert_eq!(
            a["parameters"][0]["content"]["application/json"]["schema"],
            nullable_string
        );
        assert_eq!(
            a["trace"]["responses"]["200"]["content"]["a/b"]["schema"],
            nullable_string
        );
        let post = &a["post"];
        assert_eq!(post["parameters"][0]["schema"], nullable_string);
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"],
            nullable_string
        );
        assert_eq!(
            post["responses"]["default"]["content"]["application/json"]["schema"],
            nullable_string
        );
        assert_eq!(
            post["callbacks"]["cb"]["{$url}"]["get"]["responses"]["200"]["content"]["a/b"]["schema"],
            nullable_string
        );
    }

    #[test]
    fn wrapped_schema_children_are_still_upgraded() {
        let (doc, _) = upgrade(schemas30(json!({
            "W": {"allOf": [{"type": "string", "nullable": true}], "properties": {"p": {"type": "integer", "nullable": true}}, "nullable": true}
        })));
        assert_eq!(
            doc["components"]["schemas"]["W"],
            json!({"anyOf": [
                {"allOf": [{"type": ["string", "null"]}], "properties": {"p": {"type": ["integer", "null"]}}},
                {"type": "null"}
            ]})
        );
    }

    #[test]
    fn properties_named_like_keywords_are_not_keywords() {
        let original = json!({
            "type": "object",
            "properties": {
                "nullable": {"type": "boolean"},
                "example": {"type": "string"},
                "exclusiveMinimum": {"type": "boolean"},
                "format": {"type": "string"},
                "properties": {"type": "object", "properties": {"nullable": {"type": "string", "nullable": true}}}
            },
            "required": ["nullable", "example"]
        });
        let (doc, warnings) = upgrade(schemas30(json!({"S": original})));
        let s = &doc["components"]["schemas"]["S"];
        assert_eq!(s["properties"]["nullable"], json!({"type": "boolean"}));
        assert_eq!(s["properties"]["example"], json!({"type": "string"}));
        assert_eq!(
            s["properties"]["exclusiveMinimum"],
            json!({"type": "boolean"})
        );
        assert_eq!(
            s["properties"]["properties"]["properties"]["nullable"],
            json!({"type": ["string", "null"]})
        );
        assert_eq!(s["required"], json!(["nullable", "example"]));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn exclusive_bounds_become_numbers() {
        let (doc, warnings) = upgrade(schemas30(json!({
            "A": {"type": "number", "minimum": 1, "exclusiveMinimum": true, "maximum": 9, "exclusiveMaximum": true},
            "B": {"type": "number", "minimum": 1, "exclusiveMinimum": false, "maximum": 9, "exclusiveMaximum": false},
            "C": {"type": "number", "exclusiveMinimum": true},
            "D": {"type": "number", "exclusiveMaximum": 5},
            "E": {"type": "number", "exclusiveMinimum": "yes"}
        })));
        let s = &doc["components"]["schemas"];
        assert_eq!(
            s["A"],
            json!({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 9})
        );
        assert_eq!(
            s["B"],
            json!({"type": "number", "minimum": 1, "maximum": 9})
        );
        assert_eq!(s["C"], json!({"type": "number"}));
        assert_warning(
            &warnings,
            "/components/schemas/C/exclusiveMinimum",
            "without `minimum`",
        );
        assert_eq!(s["D"], json!({"type": "number", "exclusiveMaximum": 5}));
        assert_warning(
            &warnings,
            "/components/schemas/E/exclusiveMinimum",
            "expected a boolean or a number",
        );
    }

    #[test]
    fn example_becomes_examples() {
        let (doc, warnings) = upgrade(schemas30(json!({
            "A": {"type": "string", "example": "x", "description": "d"},
            "B": {"type": "string", "example": "x", "examples": ["y"]},
            "C": {"type": "string", "example": null},
            "D": {"type": "string", "example": "x", "examples": {"a": 1}}
        })));
        let s = &doc["components"]["schemas"];
        let a_keys: Vec<&str> = s["A"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(a_keys, ["type", "examples", "description"]);
        assert_eq!(s["A"]["examples"], json!(["x"]));
        assert_eq!(s["B"], json!({"type": "string", "examples": ["y", "x"]}));
        assert_eq!(s["C"], json!({"type": "string", "examples": [null]}));
        assert_eq!(
            s["D"],
            json!({"type": "string", "example": "x", "examples": {"a": 1}})
        );
        assert_warning(
            &warnings,
            "/components/schemas/D/examples",
            "expected an array",
        );
    }

    #[test]
    fn media_type_examples_are_not_schema_examples() {
        let (doc, _) = upgrade(openapi30(
            json!({"paths": {"/a": {"get": {"responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"type": "string"}, "example": "x"}}
            }}}}}}),
        ));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"],
            json!({"schema": {"type": "string"}, "example": "x"})
        );
    }

    #[test]
    fn binary_and_base64_formats_gain_content_keywords() {
        let (doc, _) = upgrade(openapi30(json!({"paths": {"/a": {"post": {
            "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"},
                "data": {"type": "string", "format": "base64"},
                "png": {"type": "string", "format": "binary", "contentMediaType": "image/png"}
            }}}}},
            "responses": {}
        }}}})));
        let props = &doc["paths"]["/a"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
            ["properties"];
        assert_eq!(
            props["file"],
            json!({"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"})
        );
        assert_eq!(
            props["data"],
            json!({"type": "string", "format": "base64", "contentEncoding": "base64"})
        );
        assert_eq!(props["png"]["contentMediaType"], "image/png");
    }

    #[test]
    fn openapi_30_wrong_types_warn() {
        let (doc, warnings) = upgrade(openapi30(json!({
            "paths": 5
        })));
        assert_eq!(doc["paths"], 5);
        assert_warning(&warnings, "/paths", "expected an object, found a number");

        let (_, warnings) = upgrade(openapi30(json!({
            "paths": {"/a": {"get": {"parameters": {}, "responses": {"200": "x"}}, "parameters": [1]}},
            "components": {"schemas": {
                "A": {"properties": 5, "items": 3, "allOf": {}, "nullable": "yes"},
                "B": 7,
                "C": true,
                "D": {"type": 5, "nullable": true},
                "E": {"enum": "x", "nullable": true}
            }}
        })));
        assert_warnings(
            &warnings,
            &[
                (
                    "/paths/~1a/get/parameters",
                    "expected an array, found an object",
                ),
                ("/paths/~1a/get/responses/200", "found a string"),
                ("/paths/~1a/parameters/0", "found a number"),
                ("/components/schemas/A/properties", "expected an object"),
                ("/components/schemas/A/items", "expected a schema object"),
                ("/components/schemas/A/allOf", "expected an array"),
                ("/components/schemas/A/nullable", "expected a boolean"),
                (
                    "/components/schemas/B",
                    "expected a schema object, found a number",
                ),
                (
                    "/components/schemas/D/type",
                    "expected a string or an array",
                ),
                ("/components/schemas/E/enum", "expected an array"),
            ],
        );
        assert!(
            !warnings
                .iter()
                .any(|w| w.pointer == "/components/schemas/C")
        );

        let (_, warnings) = upgrade(openapi30(json!({"components": []})));
        assert_warning(&warnings, "/components", "found an array");
    }

    #[test]
    fn openapi_30_type_confusion_never_panics() {
        survives_type_confusion(&openapi30(json!({
            "components": {
                "schemas": {"A": {"type": "object", "nullable": true, "example": {}, "properties": {
                    "b": {"$ref": "#/components/schemas/A", "nullable": true},
                    "c": {"type": "integer", "minimum": 1, "exclusiveMinimum": true, "enum": [1], "nullable": true},
                    "d": {"type": "string", "format": "binary"}},
                    "allOf": [{"nullable": true, "oneOf": [{}]}], "items": {"type": "string"}}},
                "parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "string", "nullable": true}}},
                "callbacks": {"C": {"{$url}": {"post": {"responses": {"200": {"description": "ok"}}}}}}
            },
            "paths": {"/a": {"parameters": [{"$ref": "#/components/parameters/P"}], "get": {
                "requestBody": {"content": {"a/b": {"schema": {"nullable": true}, "encoding": {"e": {"headers": {"h": {"schema": {}}}}}}}},
                "responses": {"200": {"description": "ok", "headers": {"h": {"schema": {"nullable": true}}}}},
                "callbacks": {"c": {"{$url}": {"get": {"responses": {}}}}}
            }}}
        })));
    }

    // ---- deep nesting -----------------------------------------------------

    fn nullable_object(child: Value) -> Value {
        let mut map = Object::new();
        map.insert("type".into(), json!("object"));
        map.insert("nullable".into(), json!(true));
        map.insert("example".into(), json!({}));
        map.insert("properties".into(), single("child", child));
        Value::Object(map)
    }

    #[test]
    fn deeply_nested_openapi_30_schema_does_not_overflow() {
        let leaf = json!({"type": "string", "nullable": true, "example": "x"});
        let mut schema = nest(leaf, DEEP, nullable_object);
        // Also nest through $ref wrapping, allOf and items so each walker branch is deep.
        schema = nest(schema, DEEP / 4, |v| {
            let mut map = Object::new();
            map.insert(
                "allOf".into(),
                Value::Array(vec![v, json!({"$ref": "#/components/schemas/X"})]),
            );
            map.insert("nullable".into(), json!(true));
            Value::Object(map)
        });
        schema = nest(schema, DEEP / 4, |v| single("items", v));
        let mut doc = schemas30(Value::Object(Object::from_iter([(
            "Deep".to_owned(),
            schema,
        )])));
        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::OpenApi30);
        assert!(warnings.is_empty());

        let mut cursor = &doc["components"]["schemas"]["Deep"];
        for _ in 0..DEEP / 4 {
            cursor = &cursor["items"];
        }
        for _ in 0..DEEP / 4 {
            assert_eq!(cursor["anyOf"][1], json!({"type": "null"}));
            cursor = &cursor["anyOf"][0]["allOf"][0];
        }
        for _ in 0..DEEP {
            assert_eq!(cursor["type"], json!(["object", "null"]));
            assert_eq!(cursor["examples"], json!([{}]));
            assert!(cursor.get("nullable").is_none());
            cursor = &cursor["properties"]["child"];
        }
        assert_eq!(
            cursor,
            &json!({"type": ["string", "null"], "examples": ["x"]})
        );
        discard(doc);
    }
}
