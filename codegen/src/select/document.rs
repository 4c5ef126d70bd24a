//! The API document a server serves as the resource `openapi://spec`: the bundled, upgraded
//! document limited to the selected operations and to the components they use.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::model::Operation;
use crate::pointer::fragment_pointer;

const METHODS: [&str; 9] = crate::methods::FIXED;

/// The document limited to `operations`, as compact JSON text: other operations, path items
/// left empty and webhooks are removed, and of the components only those the rest refers to
/// (directly or through other components) are kept, besides every security scheme. Written
/// straight from `doc`, without copying the (possibly tens of megabytes of) values kept; the
/// same text as serde_json writes for [`selected_document`].
pub fn selected_document_json(doc: &Value, operations: &[Operation]) -> String {
    let mut out = Vec::new();
    selection(doc, operations).write_json(&mut out);
    // Only whole UTF-8 strings and ASCII are written.
    String::from_utf8(out).unwrap_or_default()
}

/// The document [`selected_document_json`] writes, as a value.
#[cfg(test)]
pub fn selected_document(doc: &Value, operations: &[Operation]) -> Value {
    selection(doc, operations).to_value()
}

/// A part of the selected document: a value of the document kept whole, or an object of
/// selected members.
enum Part<'a> {
    Whole(&'a Value),
    Object(Vec<(&'a str, Part<'a>)>),
}

impl Part<'_> {
    #[cfg(test)]
    fn to_value(&self) -> Value {
        match self {
            Part::Whole(value) => (*value).clone(),
            Part::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// Compact JSON, byte for byte as serde_json writes the value [`Part::to_value`] gives.
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Part::Whole(value) => crate::json::write(value, out),
            Part::Object(members) => {
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    crate::json::write_str(k, out);
                    out.push(b':');
                    v.write_json(out);
                }
                out.push(b'}');
            }
        }
    }
}

fn selection<'a>(doc: &'a Value, operations: &[Operation]) -> Part<'a> {
    let Value::Object(root) = doc else {
        return Part::Whole(doc);
    };
    let kept: HashSet<(&str, &str)> = operations
        .iter()
        .map(|op| (op.path.as_str(), op.method.as_str()))
        .collect();
    let kept_paths: HashSet<&str> = operations.iter().map(|op| op.path.as_str()).collect();
    let mut out: Vec<(&str, Part<'_>)> = Vec::with_capacity(root.len());
    for (name, value) in root {
        match name.as_str() {
            "webhooks" | "components" => {}
            "paths" => {
                let Value::Object(paths) = value else {
                    continue;
                };
                let mut selected = Vec::with_capacity(paths.len());
                for (path, whole) in paths {
                    let Value::Object(item) = whole else {
                        continue;
                    };
                    if item.contains_key("$ref") {
                        // Its operations live elsewhere; keep it whole when one of them is kept.
                        if kept_paths.contains(path.as_str()) {
                            selected.push((path.as_str(), Part::Whole(whole)));
                        }
                        continue;
                    }
                    let mut methods = 0;
                    let mut narrowed = Vec::with_capacity(item.len());
                    for (field, v) in item {
                        if METHODS.contains(&field.as_str()) {
                            if !kept.contains(&(path.as_str(), field.as_str())) {
                                continue;
                            }
                            methods += 1;
                        }
                        if field == crate::methods::ADDITIONAL
                            && let Value::Object(more) = v
                        {
                            // Keyed by method in any case; operations are kept by lower case.
                            let own: Vec<(&str, Part<'_>)> = more
                                .iter()
                                .filter(|(method, _)| {
                                    kept.contains(&(
                                        path.as_str(),
                                        method.to_ascii_lowercase().as_str(),
                                    ))
                                })
                                .map(|(method, op)| (method.as_str(), Part::Whole(op)))
                                .collect();
                            if own.is_empty() {
                                continue;
                            }
                            methods += own.len();
                            narrowed.push((field.as_str(), Part::Object(own)));
                            continue;
                        }
                        narrowed.push((field.as_str(), Part::Whole(v)));
                    }
                    if methods > 0 {
                        selected.push((path.as_str(), Part::Object(narrowed)));
                    }
                }
                out.push((name.as_str(), Part::Object(selected)));
            }
            _ => out.push((name.as_str(), Part::Whole(value))),
        }
    }
    if let Some(Value::Object(components)) = root.get("components") {
        // The components wanted, by kind: those the rest refers to, and those they refer to.
        let mut wanted: HashMap<String, HashSet<String>> = HashMap::new();
        let mut pending: Vec<(String, String)> = Vec::new();
        for (name, part) in &out {
            collect_part_refs(name, part, &mut pending);
        }
        while let Some((kind, name)) = pending.pop() {
            let target = components.get(&kind).and_then(|k| k.get(&name));
            if !wanted.entry(kind).or_default().insert(name) {
                continue;
            }
            if let Some(target) = target {
                collect_refs(target, &mut pending);
            }
        }
        let mut selected = Vec::new();
        for (kind, entries) in components {
            let Value::Object(entries) = entries else {
                continue;
            };
            let names = wanted.get(kind.as_str());
            let narrowed: Vec<(&str, Part<'_>)> = entries
                .iter()
                .filter(|(name, _)| {
                    kind == "securitySchemes" || names.is_some_and(|n| n.contains(name.as_str()))
                })
                .map(|(name, v)| (name.as_str(), Part::Whole(v)))
                .collect();
            if !narrowed.is_empty() {
                selected.push((kind.as_str(), Part::Object(narrowed)));
            }
        }
        if !selected.is_empty() {
            out.push(("components", Part::Object(selected)));
        }
    }
    Part::Object(out)
}

/// [`collect_refs`] of the member `key` of an object, whose value is `part`.
fn collect_part_refs(key: &str, part: &Part<'_>, out: &mut Vec<(String, String)>) {
    match part {
        Part::Whole(value) => collect_member_refs(key, value, out),
        Part::Object(members) => {
            for (k, v) in members {
                // As `collect_member_refs` reads the object this part stands for.
                if key == "mapping"
                    && let Part::Whole(Value::String(reference)) = v
                {
                    push_component(reference, out);
                }
                collect_part_refs(k, v, out);
            }
        }
    }
}

/// Adds the components `value` refers to, as (kind, name): every `$ref`, and the targets of
/// discriminator mappings, which name schemes by reference without `$ref`.
fn collect_refs(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_member_refs(k, v, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_refs(item, out);
            }
        }
        _ => {}
    }
}

/// [`collect_refs`] of the member `key` of an object, whose value is `value`.
fn collect_member_refs(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match (key, value) {
        ("$ref", Value::String(reference)) => push_component(reference, out),
        ("mapping", Value::Object(mapping)) => {
            for target in mapping.values() {
                if let Value::String(reference) = target {
                    push_component(reference, out);
                }
            }
            collect_refs(value, out);
        }
        _ => collect_refs(value, out),
    }
}

fn push_component(reference: &str, out: &mut Vec<(String, String)>) {
    let Some(pointer) = fragment_pointer(reference) else {
        return;
    };
    let mut tokens = crate::pointer::tokens(&pointer);
    if tokens.next().as_deref() != Some("components") {
        return;
    }
    if let (Some(kind), Some(name)) = (tokens.next(), tokens.next()) {
        out.push((kind.into_owned(), name.into_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::read_api;
    use crate::select::fixtures::doc;
    use serde_json::json;

    #[test]
    fn the_selected_document_keeps_what_the_operations_use() {
        let doc = doc();
        let api = read_api(&doc, false).unwrap();
        let pets: Vec<Operation> = api
            .operations
            .iter()
            .filter(|o| o.operation_id.as_deref() == Some("listPets"))
            .cloned()
            .collect();
        let selected = selected_document(&doc, &pets);
        assert_eq!(
            selected["paths"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["/pets"]
        );
        assert!(selected["paths"]["/pets"]["post"].is_null());
        assert!(selected["paths"]["/pets"]["parameters"].is_array());
        assert!(selected.get("webhooks").is_none());
        let schemas: Vec<&String> = selected["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(schemas, ["Pets", "Pet", "Dog"], "User is not used");
        assert!(selected["components"]["parameters"]["Trace"].is_object());
        assert!(selected["components"]["securitySchemes"]["key"].is_object());
    }

    /// The selection as it was first written (cloning the whole document, then collecting
    /// references from the copy), to check the one written from borrowed parts against.
    #[allow(clippy::all)]
    mod reference {
        use super::super::*;
        use serde_json::Map;
        use std::collections::BTreeSet;

        pub fn reference_selected_document(doc: &Value, operations: &[Operation]) -> Value {
            let Value::Object(root) = doc else {
                return doc.clone();
            };
            let kept: HashSet<(&str, &str)> = operations
                .iter()
                .map(|op| (op.path.as_str(), op.method.as_str()))
                .collect();
            let kept_paths: HashSet<&str> = operations.iter().map(|op| op.path.as_str()).collect();
            let mut out = Map::new();
            for (name, value) in root {
                match name.as_str() {
                    "webhooks" | "components" => {}
                    "paths" => {
                        let Value::Object(paths) = value else {
                            continue;
                        };
                        let mut selected = Map::new();
                        for (path, item) in paths {
                            let Value::Object(item) = item else {
                                continue;
                            };
                            if item.contains_key("$ref") {
                                // Its operations live elsewhere; keep it whole when one of them is kept.
                                if kept_paths.contains(path.as_str()) {
                                    selected.insert(path.clone(), Value::Object(item.clone()));
                                }
                                continue;
                            }
                            let mut methods = 0;
                            let mut narrowed = Map::new();
                            for (field, v) in item {
                                if METHODS.contains(&field.as_str()) {
                                    if !kept.contains(&(path.as_str(), field.as_str())) {
                                        continue;
                                    }
                                    methods += 1;
                                }
                                narrowed.insert(field.clone(), v.clone());
                            }
                            if methods > 0 {
                                selected.insert(path.clone(), Value::Object(narrowed));
                            }
                        }
                        out.insert(name.clone(), Value::Object(selected));
                    }
                    _ => {
                        out.insert(name.clone(), value.clone());
                    }
                }
            }
            if let Some(Value::Object(components)) = root.get("components") {
                let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
                let mut pending: Vec<(String, String)> = Vec::new();
                reference_collect_refs(&Value::Object(out.clone()), &mut pending);
                while let Some(entry) = pending.pop() {
                    if !wanted.insert(entry.clone()) {
                        continue;
                    }
                    if let Some(target) = components.get(&entry.0).and_then(|k| k.get(&entry.1)) {
                        reference_collect_refs(target, &mut pending);
                    }
                }
                let mut selected = Map::new();
                for (kind, entries) in components {
                    let Value::Object(entries) = entries else {
                        continue;
                    };
                    let narrowed: Map<String, Value> = entries
                        .iter()
                        .filter(|(name, _)| {
                            kind == "securitySchemes"
                                || wanted.contains(&(kind.clone(), (*name).clone()))
                        })
                        .map(|(name, v)| (name.clone(), v.clone()))
                        .collect();
                    if !narrowed.is_empty() {
                        selected.insert(kind.clone(), Value::Object(narrowed));
                    }
                }
                if !selected.is_empty() {
                    out.insert("components".to_owned(), Value::Object(selected));
                }
            }
            Value::Object(out)
        }

        fn reference_collect_refs(value: &Value, out: &mut Vec<(String, String)>) {
            match value {
                Value::Object(map) => {
                    for (k, v) in map {
                        match (k.as_str(), v) {
                            ("$ref", Value::String(reference)) => push_component(reference, out),
                            ("mapping", Value::Object(mapping)) => {
                                for target in mapping.values() {
                                    if let Value::String(reference) = target {
                                        push_component(reference, out);
                                    }
                                }
                                reference_collect_refs(v, out);
                            }
                            _ => reference_collect_refs(v, out),
                        }
                    }
                }
                Value::Array(items) => {
                    for item in items {
                        reference_collect_refs(item, out);
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_selected_document_is_written_as_it_was_built() {
        let mut tricky = doc();
        // A path named `mapping` whose summary reads as a reference, a path item by
        // reference, and root members that are not objects.
        tricky["paths"]["mapping"] = json!({
            "summary": "#/components/schemas/User",
            "get": {"operationId": "m", "responses": {"200": {"description": "ok"}}}
        });
        tricky["paths"]["/alias"] = json!({"$ref": "#/paths/~1users"});
        tricky["x-list"] = json!([1, "two", {"$ref": "#/components/parameters/Trace"}]);
        tricky["components"]["schemas"]["a/b~c"] = json!({"type": "string"});
        tricky["components"]["schemas"]["User"] =
            json!({"properties": {"x": {"$ref": "#/components/schemas/a~1b~0c"}}});
        for doc in [doc(), tricky, json!([1, 2]), json!({"paths": 5})] {
            let api = read_api(&doc, true)
                .map(|a| a.operations)
                .unwrap_or_default();
            let mut subsets = vec![Vec::new(), api.clone()];
            for op in &api {
                subsets.push(vec![op.clone()]);
            }
            for operations in &subsets {
                let expected = reference::reference_selected_document(&doc, operations);
                assert_eq!(selected_document(&doc, operations), expected);
                assert_eq!(
                    selected_document_json(&doc, operations),
                    serde_json::to_string(&expected).unwrap()
                );
            }
        }
    }
}
