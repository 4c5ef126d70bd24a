//! OpenAPI Overlay 1.0 documents: a list of actions, each selecting nodes of the API document
//! with a JSONPath (RFC 9535) `target` and either merging an `update` into them or removing
//! them. Applied to the document as loaded, before anything else, so users can adapt a spec
//! they do not own without editing it.

use std::path::Path;

use serde_json::Value;
use serde_json_path::JsonPath;

use crate::error::{Error, Result};
use crate::load;
use crate::pointer::push_token as pointer_push;

/// Applies every action of the overlay at `overlay_path` to `doc`, in order.
pub fn apply(doc: &mut Value, overlay_path: &Path) -> Result<()> {
    let overlay = load::load_file(overlay_path)?.value;
    let invalid = |pointer: &str, message: String| Error::Invalid {
        path: overlay_path.to_owned(),
        line: None,
        pointer: pointer.to_owned(),
        message,
    };
    match overlay.get("overlay").and_then(Value::as_str) {
        Some(v) if v.starts_with("1.") => {}
        Some(v) => {
            return Err(invalid(
                "/overlay",
                format!("overlay version {v} is not supported; 1.x is"),
            ));
        }
        None => {
            return Err(invalid(
                "",
                "not an Overlay document: `overlay: 1.0.0` is missing".to_owned(),
            ));
        }
    }
    let Some(Value::Array(actions)) = overlay.get("actions") else {
        return Err(invalid("/actions", "`actions` must be an array".to_owned()));
    };
    for (i, action) in actions.iter().enumerate() {
        let at = pointer_push("/actions", &i.to_string());
        let target = action
            .get("target")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(&at, "an action needs a `target` JSONPath".to_owned()))?;
        let path = JsonPath::parse(target).map_err(|e| {
            invalid(
                &pointer_push(&at, "target"),
                format!("invalid JSONPath `{target}`: {e}"),
            )
        })?;
        let pointers: Vec<String> = path
            .query_located(doc)
            .locations()
            .map(|location| location.to_json_pointer())
            .collect();
        let remove = action
            .get("remove")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if remove {
            // Last first, so that removing an array element does not shift the others.
            for pointer in pointers.iter().rev() {
                remove_at(doc, pointer);
            }
        } else if let Some(update) = action.get("update") {
            for pointer in &pointers {
                if let Some(node) = doc.pointer_mut(pointer) {
                    merge(node, update);
                }
            }
        } else {
            return Err(invalid(
                &at,
                "an action needs `update` or `remove: true`".to_owned(),
            ));
        }
    }
    Ok(())
}

/// Merges `update` into `target`: objects member by member (recursively), arrays by
/// appending, anything else by replacing.
fn merge(target: &mut Value, update: &Value) {
    match (target, update) {
        (Value::Object(t), Value::Object(u)) => {
            for (k, v) in u {
                match t.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(u)) => t.extend(u.iter().cloned()),
        (t, u) => *t = u.clone(),
    }
}

fn remove_at(doc: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = crate::pointer::unescape_token(last);
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(key.as_ref());
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(doc: &mut Value, overlay: Value) -> Result<()> {
        let dir = std::env::temp_dir().join(format!("mcpgen-overlay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.json", overlay.to_string().len()));
        std::fs::write(&path, overlay.to_string()).unwrap();
        apply(doc, &path)
    }

    #[test]
    fn updates_and_removes() {
        let mut doc = json!({
            "paths": {
                "/a": {"get": {"summary": "A", "tags": ["x"]}, "delete": {"summary": "D"}},
                "/b": {"get": {"summary": "B"}}
            }
        });
        overlay(&mut doc, json!({
            "overlay": "1.0.0",
            "info": {"title": "t", "version": "1"},
            "actions": [
                {"target": "$.paths.*.get", "update": {"x-mcpgen": {"description": "changed"}, "tags": ["y"]}},
                {"target": "$.paths['/a'].delete", "remove": true}
            ]
        }))
        .unwrap();
        assert_eq!(
            doc["paths"]["/a"]["get"]["x-mcpgen"]["description"],
            "changed"
        );
        assert_eq!(doc["paths"]["/a"]["get"]["tags"], json!(["x", "y"]));
        assert_eq!(doc["paths"]["/b"]["get"]["tags"], json!(["y"]));
        assert!(doc["paths"]["/a"].get("delete").is_none());
    }

    #[test]
    fn bad_overlays_are_located_errors() {
        let mut doc = json!({});
        let e = overlay(&mut doc, json!({"actions": []}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an Overlay document"), "{e}");
        let e = overlay(
            &mut doc,
            json!({"overlay": "1.0.0", "actions": [{"target": "$[", "remove": true}]}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("/actions/0/target") && e.contains("invalid JSONPath"),
            "{e}"
        );
    }
}
