//! Finds every Schema Object of an OpenAPI 3.0 document (the shape a Swagger 2.0 document has
//! once converted), without recursion, and keeps the pointer of each for warnings.

use serde_json::Value;

use super::{Object, UpgradeError, expected, warn};
use crate::pointer::{escape_token_into, push_token};
use crate::schema::{SCHEMA_KEYWORDS, SCHEMA_LIST_KEYWORDS, SCHEMA_MAP_KEYWORDS};

/// Pointers for a walk, stored as parent links so that a node 10,000 levels
/// deep costs one token rather than a 10,000-token string; the full pointer
/// is only rendered when a warning needs it. The escaped tokens share one
/// buffer: a node is its parent and the range of its token there.
struct Pointers {
    nodes: Vec<(usize, std::ops::Range<usize>)>,
    tokens: String,
}

impl Pointers {
    fn new() -> Self {
        Self {
            nodes: vec![(0, 0..0)],
            tokens: String::new(),
        }
    }

    fn child(&mut self, parent: usize, token: &str) -> usize {
        let start = self.tokens.len();
        escape_token_into(token, &mut self.tokens);
        self.nodes.push((parent, start..self.tokens.len()));
        self.nodes.len() - 1
    }

    fn child_index(&mut self, parent: usize, index: usize) -> usize {
        use std::fmt::Write as _;
        let start = self.tokens.len();
        let _ = write!(self.tokens, "{index}");
        self.nodes.push((parent, start..self.tokens.len()));
        self.nodes.len() - 1
    }

    fn render(&self, mut index: usize) -> String {
        let mut tokens = Vec::new();
        while index != 0 {
            let Some((parent, token)) = self.nodes.get(index) else {
                break;
            };
            tokens.push(&self.tokens[token.clone()]);
            // Parents are always pushed before their children; this guards the loop anyway.
            if *parent >= index {
                break;
            }
            index = *parent;
        }
        let mut out = String::new();
        for token in tokens.iter().rev() {
            out.push('/');
            out.push_str(token);
        }
        out
    }
}

const OPERATION_METHODS: [&str; 9] = crate::methods::FIXED;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    PathItem,
    Operation,
    Callback,
    Parameter,
    Header,
    RequestBody,
    Response,
    MediaType,
    Encoding,
    Schema,
}

struct Item<'a> {
    kind: Kind,
    value: &'a mut Value,
    ptr: usize,
}

/// Where a schema being visited sits; rendering is deferred until a warning needs it.
pub(super) struct Loc<'p> {
    pointers: &'p Pointers,
    index: usize,
}

impl Loc<'_> {
    /// Records a warning about the keyword `key` of the schema here.
    pub(super) fn warn(&self, warnings: &mut Vec<UpgradeError>, key: &str, message: String) {
        let pointer = || push_token(&self.pointers.render(self.index), key);
        warn(warnings, pointer, message);
    }
}

struct Walk<'a, 'w> {
    pointers: Pointers,
    pending: Vec<Item<'a>>,
    warnings: &'w mut Vec<UpgradeError>,
}

impl<'a> Walk<'a, '_> {
    fn warn(&mut self, ptr: usize, message: String) {
        let pointers = &self.pointers;
        warn(self.warnings, || pointers.render(ptr), message);
    }

    fn one(&mut self, value: &'a mut Value, parent: usize, key: &str, kind: Kind) {
        let ptr = self.pointers.child(parent, key);
        self.pending.push(Item { kind, value, ptr });
    }

    fn entries(
        &mut self,
        value: &'a mut Value,
        parent: usize,
        key: &str,
        kind: Kind,
        skip_extensions: bool,
    ) {
        let ptr = self.pointers.child(parent, key);
        match value {
            Value::Object(map) => {
                for (name, child) in map.iter_mut() {
                    if skip_extensions && name.starts_with("x-") {
                        continue;
                    }
                    let child_ptr = self.pointers.child(ptr, name);
                    self.pending.push(Item {
                        kind,
                        value: child,
                        ptr: child_ptr,
                    });
                }
            }
            other => self.warn(ptr, expected("an object", other)),
        }
    }

    fn elements(&mut self, value: &'a mut Value, parent: usize, key: &str, kind: Kind) {
        let ptr = self.pointers.child(parent, key);
        match value {
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    let child_ptr = self.pointers.child_index(ptr, i);
                    self.pending.push(Item {
                        kind,
                        value: child,
                        ptr: child_ptr,
                    });
                }
            }
            other => self.warn(ptr, expected("an array", other)),
        }
    }
}

/// Calls `visit` on every Schema Object of an OpenAPI 3.0 document, parents
/// before children. `visit` returns true when it wrapped the schema as
/// `anyOf: [original, {type: null}]`; the walk then continues inside the
/// original, keeping its pointer, so nested warnings still match the input.
pub(super) fn walk_document<F>(root: &mut Object, warnings: &mut Vec<UpgradeError>, mut visit: F)
where
    F: FnMut(&mut Object, &Loc<'_>, &mut Vec<UpgradeError>) -> bool,
{
    let mut walk = Walk {
        pointers: Pointers::new(),
        pending: Vec::new(),
        warnings,
    };
    for (key, value) in root.iter_mut() {
        match key.as_str() {
            "paths" | "webhooks" => walk.entries(value, 0, key, Kind::PathItem, true),
            "components" => {
                let ptr = walk.pointers.child(0, key);
                match value {
                    Value::Object(sections) => {
                        for (section, entries) in sections.iter_mut() {
                            let kind = match section.as_str() {
                                "schemas" => Kind::Schema,
                                "responses" => Kind::Response,
                                "parameters" => Kind::Parameter,
                                "requestBodies" => Kind::RequestBody,
                                "headers" => Kind::Header,
                                "callbacks" => Kind::Callback,
                                "pathItems" => Kind::PathItem,
                                _ => continue,
                            };
                            walk.entries(entries, ptr, section, kind, false);
                        }
                    }
                    other => walk.warn(ptr, expected("an object", other)),
                }
            }
            _ => {}
        }
    }

    let mut stack: Vec<Item<'_>> = walk.pending.drain(..).rev().collect();
    while let Some(Item { kind, value, ptr }) = stack.pop() {
        if kind == Kind::Schema {
            let map = match value {
                Value::Object(map) => map,
                // Boolean schemas are valid JSON Schema and need no upgrade.
                Value::Bool(_) => continue,
                other => {
                    walk.warn(ptr, expected("a schema object", other));
                    continue;
                }
            };
            let loc = Loc {
                pointers: &walk.pointers,
                index: ptr,
            };
            let wrapped = visit(map, &loc, walk.warnings);
            let target = if wrapped {
                match map
                    .get_mut("anyOf")
                    .and_then(|list| list.get_mut(0))
                    .and_then(Value::as_object_mut)
                {
                    Some(inner) => inner,
                    None => continue,
                }
            } else {
                map
            };
            for (key, child) in target.iter_mut() {
                let name = key.as_str();
                if SCHEMA_MAP_KEYWORDS.contains(&name) {
                    walk.entries(child, ptr, key, Kind::Schema, false);
                } else if SCHEMA_LIST_KEYWORDS.contains(&name)
                    || (name == "items" && child.is_array())
                {
                    // `items` as an array is the pre-2020 tuple form.
                    walk.elements(child, ptr, key, Kind::Schema);
                } else if SCHEMA_KEYWORDS.contains(&name) {
                    walk.one(child, ptr, key, Kind::Schema);
                }
            }
        } else {
            let map = match value {
                Value::Object(map) => map,
                other => {
                    walk.warn(ptr, expected("an object", other));
                    continue;
                }
            };
            for (key, child) in map.iter_mut() {
                match (kind, key.as_str()) {
                    (Kind::PathItem | Kind::Operation, "parameters") => {
                        // One parameter without the list around it: the list of it.
                        if crate::model::is_one_parameter(child) {
                            let at = walk.pointers.child(ptr, key);
                            walk.warn(at, crate::model::ONE_PARAMETER_WARNING.to_owned());
                            *child = Value::Array(vec![std::mem::take(child)]);
                        }
                        walk.elements(child, ptr, key, Kind::Parameter);
                    }
                    (Kind::PathItem, method) if OPERATION_METHODS.contains(&method) => {
                        walk.one(child, ptr, key, Kind::Operation);
                    }
                    (Kind::PathItem, crate::methods::ADDITIONAL) => {
                        walk.entries(child, ptr, key, Kind::Operation, true);
                    }
                    (Kind::Operation, "requestBody") => {
                        walk.one(child, ptr, key, Kind::RequestBody);
                    }
                    (Kind::Operation, "responses") => {
                        walk.entries(child, ptr, key, Kind::Response, true);
                    }
                    (Kind::Operation, "callbacks") => {
                        walk.entries(child, ptr, key, Kind::Callback, false);
                    }
                    (Kind::Callback, expression) if !expression.starts_with("x-") => {
                        walk.one(child, ptr, key, Kind::PathItem);
                    }
                    (Kind::Parameter | Kind::Header | Kind::MediaType, "schema") => {
                        walk.one(child, ptr, key, Kind::Schema);
                    }
                    (
                        Kind::Parameter | Kind::Header | Kind::RequestBody | Kind::Response,
                        "content",
                    ) => walk.entries(child, ptr, key, Kind::MediaType, false),
                    (Kind::Response | Kind::Encoding, "headers") => {
                        walk.entries(child, ptr, key, Kind::Header, false);
                    }
                    (Kind::MediaType, "encoding") => {
                        walk.entries(child, ptr, key, Kind::Encoding, false);
                    }
                    _ => {}
                }
            }
        }
        // Reversed so that the stack pops children in document order.
        stack.extend(walk.pending.drain(..).rev());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::upgrade::test_support::*;

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let (_, warnings) = upgrade(schemas30(
            json!({"a/b~c": {"properties": {"x/y": {"nullable": 1}}}}),
        ));
        assert_warning(
            &warnings,
            "/components/schemas/a~1b~0c/properties/x~1y/nullable",
            "expected a boolean",
        );
    }
}
