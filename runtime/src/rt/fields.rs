//! Field selection: the optional `_fields` argument lets the model ask for parts of a JSON
//! answer instead of all of it, so a large object or a long list costs only the fields it
//! needs.
//!
//! A field is a dotted path (`items.name`, `owner.login`, `items[0].id`) or a JSON pointer
//! (`/items/0/name`). A name segment applied to an array applies to each element, so
//! `items.name` keeps the `name` of every item; a number selects one element; `*` matches
//! every key of an object or every element of an array. Several fields are merged into one
//! value that keeps the answer's structure.

use serde_json::{Map, Value};

/// The argument's name. The leading underscore keeps it apart from the API's own parameters;
/// an operation that has a parameter of that name keeps it, and is not offered the selection.
pub const FIELDS_ARG: &str = "_fields";

/// The JSON Schema of the argument, as tools list it.
pub fn fields_schema() -> Value {
    serde_json::json!({
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "description": "Optional: return only these fields of the JSON answer, e.g. [\"id\", \"items.name\"]. Dotted paths or JSON pointers; a name applies to each element of an array."
    })
}

/// A parsed field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    segments: Vec<String>,
}

impl FieldPath {
    /// Parses a dotted path or a JSON pointer.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("a field must not be empty".to_owned());
        }
        let segments: Vec<String> = if let Some(pointer) = trimmed.strip_prefix('/') {
            pointer
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect()
        } else {
            let mut out = Vec::new();
            for part in trimmed.split('.') {
                // `items[0]` and `items[]` are `items` then `0` or `*`.
                let (name, mut rest) = match part.find('[') {
                    Some(i) => (&part[..i], &part[i..]),
                    None => (part, ""),
                };
                if !name.is_empty() {
                    out.push(name.to_owned());
                }
                while let Some(open) = rest.strip_prefix('[') {
                    let Some(close) = open.find(']') else {
                        return Err(format!("`{trimmed}` has a `[` without a closing `]`"));
                    };
                    let inner = open[..close].trim();
                    out.push(if inner.is_empty() { "*" } else { inner }.to_owned());
                    rest = &open[close + 1..];
                }
                if !rest.is_empty() {
                    return Err(format!("`{trimmed}` has text after `]`"));
                }
                if name.is_empty() && part.is_empty() {
                    return Err(format!("`{trimmed}` has an empty segment"));
                }
            }
            out
        };
        if segments.iter().any(String::is_empty) {
            return Err(format!("`{trimmed}` has an empty segment"));
        }
        Ok(FieldPath {
            text: trimmed.to_owned(),
            segments,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The same path below `segment` (used to reach into `{"result": ...}`).
    pub fn under(&self, segment: &str) -> Self {
        let mut segments = vec![segment.to_owned()];
        segments.extend(self.segments.iter().cloned());
        FieldPath {
            text: self.text.clone(),
            segments,
        }
    }

    /// The segments: object keys, element indices and `*`.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The first segment.
    pub fn first(&self) -> Option<&str> {
        self.segments.first().map(String::as_str)
    }
}

/// Reads the `_fields` argument: a list of paths, or one path as a string.
pub(super) fn parse_fields(value: &Value) -> Result<Vec<FieldPath>, String> {
    let texts: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| format!("`{FIELDS_ARG}` must hold strings, found {item}"))
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "`{FIELDS_ARG}` must be a list of field paths, found {other}"
            ));
        }
    };
    if texts.is_empty() {
        return Err(format!(
            "`{FIELDS_ARG}` is empty; leave it out to get the whole answer"
        ));
    }
    texts.into_iter().map(FieldPath::parse).collect()
}

/// The selection tree of several paths: shared prefixes are walked once, and a path that ends
/// at a node keeps everything below it.
#[derive(Debug, Default)]
struct Node {
    whole: bool,
    children: Vec<(String, Node)>,
}

impl Node {
    fn from_paths<'a>(paths: impl IntoIterator<Item = &'a FieldPath>) -> Node {
        let mut root = Node::default();
        for path in paths {
            let mut node = &mut root;
            for segment in &path.segments {
                let position = node.children.iter().position(|(s, _)| s == segment);
                let index = match position {
                    Some(i) => i,
                    None => {
                        node.children.push((segment.clone(), Node::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[index].1;
            }
            node.whole = true;
        }
        root
    }
}

/// What `paths` select of `value`, or `None` when they select nothing.
pub fn select(value: &Value, paths: &[FieldPath]) -> Option<Value> {
    walk(value, &Node::from_paths(paths))
}

/// The paths that select nothing in `value`, for telling the model which names were wrong.
pub fn unmatched<'a>(value: &Value, paths: &'a [FieldPath]) -> Vec<&'a str> {
    paths
        .iter()
        .filter(|p| walk(value, &Node::from_paths([*p])).is_none())
        .map(FieldPath::as_str)
        .collect()
}

fn walk(value: &Value, node: &Node) -> Option<Value> {
    if node.whole {
        return Some(value.clone());
    }
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (segment, child) in &node.children {
                if segment == "*" {
                    for (key, v) in map {
                        if let Some(selected) = walk(v, child) {
                            merge_into(&mut out, key, selected);
                        }
                    }
                } else if let Some(v) = map.get(segment)
                    && let Some(selected) = walk(v, child)
                {
                    merge_into(&mut out, segment, selected);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            let mut matched = false;
            for (i, item) in items.iter().enumerate() {
                // Each element sees the node's name segments (applied to every element) and
                // the index segments naming it.
                let mut element = Node::default();
                let mut indexed = false;
                for (segment, child) in &node.children {
                    match segment.parse::<usize>() {
                        Ok(n) if n == i => {
                            indexed = true;
                            if child.whole {
                                element.whole = true;
                            }
                            element.children.extend(clone_children(child));
                        }
                        Ok(_) => {}
                        Err(_) if segment == "*" => {
                            if child.whole {
                                element.whole = true;
                            }
                            element.children.extend(clone_children(child));
                        }
                        Err(_) => element.children.push((segment.clone(), clone_node(child))),
                    }
                }
                let applies_to_all = node
                    .children
                    .iter()
                    .any(|(s, _)| s.parse::<usize>().is_err());
                if !applies_to_all && !indexed {
                    continue;
                }
                match walk(item, &element) {
                    Some(selected) => {
                        matched = true;
                        out.push(selected);
                    }
                    // Keep the list's length where every element was asked for, so that the
                    // model can still count them.
                    None if applies_to_all => out.push(Value::Null),
                    None => {}
                }
            }
            matched.then_some(Value::Array(out))
        }
        _ => None,
    }
}

fn clone_node(node: &Node) -> Node {
    Node {
        whole: node.whole,
        children: clone_children(node),
    }
}

fn clone_children(node: &Node) -> Vec<(String, Node)> {
    node.children
        .iter()
        .map(|(s, n)| (s.clone(), clone_node(n)))
        .collect()
}

/// Adds `value` under `key`, merging objects that two paths both reached.
fn merge_into(out: &mut Map<String, Value>, key: &str, value: Value) {
    match (out.get_mut(key), value) {
        (Some(Value::Object(existing)), Value::Object(more)) => {
            for (k, v) in more {
                merge_into(existing, &k, v);
            }
        }
        (_, value) => {
            out.insert(key.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(texts: &[&str]) -> Vec<FieldPath> {
        texts.iter().map(|t| FieldPath::parse(t).unwrap()).collect()
    }

    fn answer() -> Value {
        json!({
            "total": 2,
            "owner": {"login": "octo", "id": 1, "site": "x"},
            "items": [
                {"id": 1, "name": "Rex", "tags": ["dog"], "meta": {"a": 1, "b": 2}},
                {"id": 2, "name": "Tom", "meta": {"a": 3}}
            ]
        })
    }

    #[test]
    fn dotted_paths_and_pointers_select_fields() {
        assert_eq!(
            select(&answer(), &paths(&["total", "owner.login"])),
            Some(json!({"total": 2, "owner": {"login": "octo"}}))
        );
        assert_eq!(
            select(&answer(), &paths(&["/owner/id"])),
            Some(json!({"owner": {"id": 1}}))
        );
    }

    #[test]
    fn names_apply_to_each_element_and_numbers_pick_one() {
        assert_eq!(
            select(&answer(), &paths(&["items.name", "items.meta.a"])),
            Some(
                json!({"items": [{"name": "Rex", "meta": {"a": 1}}, {"name": "Tom", "meta": {"a": 3}}]})
            )
        );
        assert_eq!(
            select(&answer(), &paths(&["items[1].name"])),
            Some(json!({"items": [{"name": "Tom"}]}))
        );
        assert_eq!(
            select(&answer(), &paths(&["items.tags"])),
            Some(json!({"items": [{"tags": ["dog"]}, null]})),
            "elements without the field keep their place"
        );
        assert_eq!(
            select(&json!([{"a": 1, "b": 2}, {"a": 3}]), &paths(&["a"])),
            Some(json!([{"a": 1}, {"a": 3}]))
        );
        assert_eq!(
            select(&answer(), &paths(&["owner.*"])),
            Some(answer()["owner"].clone()).map(|o| json!({"owner": o}))
        );
    }

    #[test]
    fn nothing_selected_is_reported() {
        let p = paths(&["total", "nope", "owner.missing"]);
        assert_eq!(unmatched(&answer(), &p), ["nope", "owner.missing"]);
        assert_eq!(select(&answer(), &paths(&["nope"])), None);
        assert_eq!(select(&json!(5), &paths(&["a"])), None);
    }

    #[test]
    fn bad_paths_and_arguments_are_refused() {
        assert!(FieldPath::parse("").is_err());
        assert!(FieldPath::parse("a..b").is_err());
        assert!(FieldPath::parse("a[0").is_err());
        assert!(parse_fields(&json!([])).is_err());
        assert!(parse_fields(&json!([1])).is_err());
        assert!(parse_fields(&json!({"a": 1})).is_err());
        assert_eq!(parse_fields(&json!("a.b")).unwrap().len(), 1);
        assert_eq!(
            FieldPath::parse("items[].id").unwrap().segments,
            ["items", "*", "id"]
        );
        assert_eq!(FieldPath::parse("/a~1b/c").unwrap().segments, ["a/b", "c"]);
    }
}
