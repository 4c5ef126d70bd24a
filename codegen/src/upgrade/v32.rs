//! OpenAPI 3.2 onto the 3.1 shape. A 3.2 document's schemas already are JSON Schema 2020-12,
//! so it keeps its version; `$self` is applied to every reference, references to reusable
//! Media Type Objects are inlined, and the `cookie` style becomes `form`.

use serde_json::Value;

use super::value::clone_object;
use super::{Object, UpgradeError, decode_token, root_error, warn};
use crate::limits::MAX_REF_HOPS;
use crate::pointer::push_token;

/// The prefix of references to reusable Media Type Objects (new in 3.2).
const MEDIA_TYPE_REF: &str = "#/components/mediaTypes/";

/// Maps an OpenAPI 3.2 document onto the 3.1 shape (it keeps its version).
pub(super) fn convert(
    doc: &mut Value,
    warnings: &mut Vec<UpgradeError>,
) -> Result<(), UpgradeError> {
    if !doc.is_object() {
        return Err(root_error(doc));
    }
    // Usually done before bundling (see `apply_self`); a no-op the second time.
    apply_self(doc);
    let media_types = doc
        .pointer("/components/mediaTypes")
        .and_then(Value::as_object)
        .map(clone_object);
    // One pass over every object: media type references are inlined, and 3.2's `cookie`
    // style (the `form` style with `; ` between pairs, which is how cookies are sent anyway)
    // becomes `form`.
    let mut stack: Vec<(&mut Value, String, bool)> = vec![(doc, String::new(), false)];
    while let Some((value, pointer, in_content)) = stack.pop() {
        match value {
            Value::Object(map) => {
                // `map` is a `content` map: its members are Media Type Objects.
                for (media, member) in map.iter_mut().filter(|_| in_content) {
                    let Value::Object(media_type) = member else {
                        continue;
                    };
                    let Some(Value::String(reference)) = media_type.get("$ref") else {
                        continue;
                    };
                    let Some(name) = reference.strip_prefix(MEDIA_TYPE_REF) else {
                        continue;
                    };
                    match inline_media_type(media_types.as_ref(), &decode_token(name)) {
                        Some(target) => *media_type = target,
                        None => warn(
                            warnings,
                            || push_token(&push_token(&pointer, media), "$ref"),
                            format!("`{reference}` names no media type of `components/mediaTypes`"),
                        ),
                    }
                }
                if map.get("in").and_then(Value::as_str) == Some("cookie")
                    && map.get("style").and_then(Value::as_str) == Some("cookie")
                {
                    map.insert("style".to_owned(), Value::String("form".to_owned()));
                }
                for (key, child) in map.iter_mut() {
                    if child.is_object() || child.is_array() {
                        let here = push_token(&pointer, key);
                        stack.push((child, here, key == "content"));
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    if child.is_object() || child.is_array() {
                        stack.push((child, push_token(&pointer, &i.to_string()), false));
                    }
                }
            }
            _ => {}
        }
    }
    if let Value::Object(root) = doc {
        root.remove("$self");
    }
    Ok(())
}

/// The media type `name` of `components/mediaTypes`, its own reference chain followed.
fn inline_media_type(media_types: Option<&Object>, name: &str) -> Option<Object> {
    let media_types = media_types?;
    let mut current = name.to_owned();
    for _ in 0..MAX_REF_HOPS {
        let target = media_types.get(&current)?.as_object()?;
        match target.get("$ref").and_then(Value::as_str) {
            Some(next) => current = decode_token(next.strip_prefix(MEDIA_TYPE_REF)?),
            None => return Some(clone_object(target)),
        }
    }
    None
}

/// OpenAPI 3.2's `$self` names the document's own URI, the base its relative references
/// resolve against. A document is read from a file whose name need not match it, so every
/// `$ref` is rewritten to what the file-based stages expect: one that resolves to the document
/// itself becomes a local `#...` reference; one that resolves into `$self`'s folder (or below
/// it) becomes a path relative to this file, where the same files sit; any other becomes the
/// absolute URI it resolves to (remote, so fetched only when remote references are allowed).
/// Nothing happens without a string `$self`. Call it before bundling.
pub fn apply_self(doc: &mut Value) {
    let Some(base) = doc.get("$self").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let base = base.split('#').next().unwrap_or_default().to_owned();
    let folder = match base.rfind('/') {
        Some(i) => base[..=i].to_owned(),
        None => String::new(),
    };
    let mut stack = vec![doc];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get_mut("$ref")
                    && !reference.starts_with('#')
                {
                    let (target, fragment) = match reference.split_once('#') {
                        Some((t, f)) => (t.to_owned(), format!("#{f}")),
                        None => (reference.clone(), String::new()),
                    };
                    let resolved = resolve_uri(&base, &target);
                    *reference = if resolved == base {
                        if fragment.is_empty() {
                            "#".to_owned()
                        } else {
                            fragment
                        }
                    } else if let Some(rest) =
                        resolved.strip_prefix(&folder).filter(|r| !r.is_empty())
                    {
                        format!("{rest}{fragment}")
                    } else {
                        format!("{resolved}{fragment}")
                    };
                }
                stack.extend(map.values_mut().filter(|v| v.is_object() || v.is_array()));
            }
            Value::Array(items) => {
                stack.extend(items.iter_mut().filter(|v| v.is_object() || v.is_array()));
            }
            _ => {}
        }
    }
}

/// Resolves the URI reference `reference` (no fragment) against `base` (RFC 3986, section
/// 5.2, for the forms references take: absolute, network-path, absolute-path and relative).
fn resolve_uri(base: &str, reference: &str) -> String {
    if reference.is_empty() {
        return base.to_owned();
    }
    let has_scheme = |text: &str| {
        text.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
    };
    if has_scheme(reference) {
        return normalize_dots(reference);
    }
    // `scheme:` and `scheme://authority` of the base, when it has them.
    let scheme_end = if has_scheme(base) {
        base.find(':').map_or(0, |i| i + 1)
    } else {
        0
    };
    let origin_end = match base[scheme_end..].strip_prefix("//") {
        Some(rest) => scheme_end + 2 + rest.find('/').unwrap_or(rest.len()),
        None => scheme_end,
    };
    if let Some(rest) = reference.strip_prefix("//") {
        return format!("{}//{}", &base[..scheme_end], normalize_dots(rest));
    }
    let (origin, path) = base.split_at(origin_end);
    let path = path.split('?').next().unwrap_or_default();
    let merged = if reference.starts_with('/') {
        reference.to_owned()
    } else {
        let folder = match path.rfind('/') {
            Some(i) => &path[..=i],
            None if origin.is_empty() => "",
            None => "/",
        };
        format!("{folder}{reference}")
    };
    format!("{origin}{}", normalize_dots(&merged))
}

/// Removes `.` and `..` segments from a path (RFC 3986, section 5.2.4).
fn normalize_dots(path: &str) -> String {
    let (prefix, path) = match path.find("://") {
        Some(i) => {
            let after = i + 3;
            let end = path[after..].find('/').map_or(path.len(), |j| after + j);
            path.split_at(end)
        }
        None => ("", path),
    };
    let absolute = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > usize::from(absolute) {
                    out.pop();
                } else if !absolute {
                    out.push("..");
                }
                if last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    format!("{prefix}{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::upgrade::{SourceVersion, upgrade_to_31};

    #[test]
    fn openapi_32_keeps_what_tools_need_and_inlines_media_types() {
        let mut doc = json!({
            "openapi": "3.2.0",
            "$self": "https://example.com/api/openapi.yaml",
            "tags": [{"name": "pets", "kind": "nav"}, {"name": "cats", "parent": "pets"}],
            "paths": {"/pets": {
                "query": {"requestBody": {"content": {
                    "application/json": {"$ref": "#/components/mediaTypes/Filter"}
                }}, "responses": {"200": {"description": "ok"}}},
                "additionalOperations": {"PURGE": {"responses": {"204": {"description": "gone"}}}},
                "get": {
                    "parameters": [
                        {"name": "q", "in": "querystring", "content": {
                            "application/x-www-form-urlencoded": {"schema": {"type": "object"}}
                        }},
                        {"name": "c", "in": "cookie", "style": "cookie", "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "ok", "content": {
                        "text/event-stream": {"itemSchema": {"$ref": "https://example.com/api/openapi.yaml#/components/schemas/Event"}}
                    }}}
                }
            }},
            "components": {
                "mediaTypes": {
                    "Filter": {"$ref": "#/components/mediaTypes/Plain"},
                    "Plain": {"schema": {"type": "object"}}
                },
                "schemas": {"Event": {"type": "object"}}
            }
        });
        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::OpenApi32);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(doc["openapi"], "3.2.0");
        assert!(doc.get("$self").is_none());
        let item = &doc["paths"]["/pets"];
        assert_eq!(
            item["query"]["requestBody"]["content"]["application/json"],
            json!({"schema": {"type": "object"}})
        );
        assert!(item["additionalOperations"]["PURGE"].is_object());
        assert_eq!(item["get"]["parameters"][0]["in"], "querystring");
        assert_eq!(item["get"]["parameters"][1]["style"], "form");
        assert_eq!(
            item["get"]["responses"]["200"]["content"]["text/event-stream"]["itemSchema"]["$ref"],
            "#/components/schemas/Event"
        );
        assert_eq!(doc["tags"][1]["parent"], "pets");
    }

    #[test]
    fn self_is_the_base_of_relative_references() {
        let mut doc = json!({
            "openapi": "3.2.0",
            "$self": "https://example.com/api/v1/openapi.yaml",
            "a": {"$ref": "openapi.yaml#/components/schemas/A"},
            "b": {"$ref": "schemas/b.yaml#/B"},
            "c": {"$ref": "../shared.yaml#/C"},
            "d": {"$ref": "https://example.com/api/v1/openapi.yaml"},
            "e": {"$ref": "/api/v1/./x/../y.yaml"},
            "f": {"$ref": "#/local"},
            "g": {"$ref": "https://other.example/z.yaml#/Z"}
        });
        apply_self(&mut doc);
        let r = |k: &str| doc[k]["$ref"].as_str().unwrap().to_owned();
        assert_eq!(r("a"), "#/components/schemas/A");
        assert_eq!(r("b"), "schemas/b.yaml#/B");
        assert_eq!(r("c"), "https://example.com/api/shared.yaml#/C");
        assert_eq!(r("d"), "#");
        assert_eq!(r("e"), "y.yaml");
        assert_eq!(r("f"), "#/local");
        assert_eq!(r("g"), "https://other.example/z.yaml#/Z");

        // A relative `$self` works the same way.
        let mut doc = json!({"$self": "/specs/api.yaml", "a": {"$ref": "api.yaml#/X"}, "b": {"$ref": "../b.yaml"}});
        apply_self(&mut doc);
        assert_eq!(doc["a"]["$ref"], "#/X");
        assert_eq!(doc["b"]["$ref"], "/b.yaml");
    }
}
