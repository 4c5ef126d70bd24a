//! Chooses which operations become tools: by tag or by operation, included or excluded. The
//! choice is made on the model, before any tool is built, so that a left-out operation costs
//! nothing (its schemas are never converted) and cannot fail the document.

pub mod document;
pub mod mode;

use std::collections::BTreeSet;

use crate::model::{Api, Operation};
use crate::tools::naming;

/// Which operations to keep. With no includes every operation is kept; with includes, only
/// those that carry an included tag or are named in `include_operations`. Excludes are
/// applied last and always win.
///
/// Operations are named by their `operationId`, or by `METHOD /path` (e.g.
/// `GET /store/inventory`), which also names operations that have no `operationId`. Tool names
/// are given among the kept operations only, so leaving out one of two operations whose names
/// clash gives the other the plain name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Keep operations with at least one of these tags.
    pub include_tags: Vec<String>,
    /// Drop operations with any of these tags.
    pub exclude_tags: Vec<String>,
    /// Keep these operations.
    pub include_operations: Vec<String>,
    /// Drop these operations.
    pub exclude_operations: Vec<String>,
}

impl Selection {
    /// Whether the selection keeps every operation.
    pub fn is_everything(&self) -> bool {
        *self == Selection::default()
    }
}

/// A selector that names nothing, or a selection that keeps nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionError {
    /// The setting at fault (`include_tags`, `exclude_operations`, ...), or `selection` when
    /// the settings together keep no operation.
    pub setting: &'static str,
    /// What is wrong, and what would be right.
    pub message: String,
}

/// Whether `selector` names `op`: its `operationId`, or `METHOD /path` with the method in
/// any case and any run of spaces between the two.
pub fn names_operation(selector: &str, op: &Operation) -> bool {
    if op.operation_id.as_deref() == Some(selector) {
        return true;
    }
    match selector.trim().split_once(char::is_whitespace) {
        Some((method, path)) => method.eq_ignore_ascii_case(&op.method) && path.trim() == op.path,
        None => false,
    }
}

/// The operations `selector` names, as indices into `operations`, or an error saying what
/// the selector may have meant.
pub fn resolve_operation(
    selector: &str,
    operations: &[Operation],
    setting: &'static str,
) -> Result<Vec<usize>, SelectionError> {
    let found: Vec<usize> = operations
        .iter()
        .enumerate()
        .filter(|(_, op)| names_operation(selector, op))
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        return Err(SelectionError {
            setting,
            message: format!(
                "no operation is named `{selector}`{}",
                operation_hint(selector, operations)
            ),
        });
    }
    Ok(found)
}

/// A hint for an operation selector that names nothing: the likely intended operation, or
/// how operations are named.
fn operation_hint(selector: &str, operations: &[Operation]) -> String {
    let folded = selector.to_ascii_lowercase();
    for op in operations {
        if op
            .operation_id
            .as_deref()
            .is_some_and(|id| id.to_ascii_lowercase() == folded)
        {
            return format!(
                "; did you mean `{}`? (operationIds are case-sensitive)",
                op.operation_id.as_deref().unwrap_or_default()
            );
        }
        // The tool name of an operation without an operationId is derived from its method
        // and path; users who copied it from tools/list get pointed at the selector form.
        if op.operation_id.is_none()
            && naming::from_method_and_path(&op.method, &op.path) == selector
        {
            return format!(
                "; the operation without an operationId behind the tool `{selector}` is named \
                 `{} {}`",
                op.method.to_ascii_uppercase(),
                op.path
            );
        }
    }
    "; name an operation by its operationId or as `METHOD /path`".to_owned()
}

fn check_tags(
    tags: &[String],
    known: &BTreeSet<&str>,
    setting: &'static str,
) -> Result<(), SelectionError> {
    for tag in tags {
        if !known.contains(tag.as_str()) {
            let listed: Vec<&str> = known.iter().copied().take(20).collect();
            let more = if known.len() > listed.len() {
                ", ..."
            } else {
                ""
            };
            return Err(SelectionError {
                setting,
                message: if known.is_empty() {
                    format!(
                        "no operation has the tag `{tag}`: the document's operations have no tags"
                    )
                } else {
                    format!(
                        "no operation has the tag `{tag}` (tags in use: {}{more})",
                        listed.join(", ")
                    )
                },
            });
        }
    }
    Ok(())
}

/// Keeps the operations `selection` selects, in document order. Every tag and operation it
/// names must exist (a misspelt selector would otherwise silently change the server), and at
/// least one operation must remain.
pub fn select_operations(api: &mut Api, selection: &Selection) -> Result<(), SelectionError> {
    if selection.is_everything() {
        return Ok(());
    }
    let used: BTreeSet<&str> = api
        .operations
        .iter()
        .flat_map(|op| op.tags.iter().map(String::as_str))
        .collect();
    // A tag selects the operations of the tags nested under it (OpenAPI 3.2 `parent`), so a
    // parent that no operation carries itself is a valid selector when a child's is used.
    let expand = |tags: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for tag in tags {
            for t in api.tag_with_descendants(tag) {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    };
    let mut known_tags = used.clone();
    for tag in &api.tags {
        if api
            .tag_with_descendants(&tag.name)
            .iter()
            .any(|t| used.contains(t.as_str()))
        {
            known_tags.insert(tag.name.as_str());
        }
    }
    check_tags(&selection.include_tags, &known_tags, "include_tags")?;
    check_tags(&selection.exclude_tags, &known_tags, "exclude_tags")?;
    let include_tags = expand(&selection.include_tags);
    let exclude_tags = expand(&selection.exclude_tags);
    let mut included = vec![false; api.operations.len()];
    let mut excluded = vec![false; api.operations.len()];
    for selector in &selection.include_operations {
        for i in resolve_operation(selector, &api.operations, "include_operations")? {
            included[i] = true;
        }
    }
    for selector in &selection.exclude_operations {
        for i in resolve_operation(selector, &api.operations, "exclude_operations")? {
            excluded[i] = true;
        }
    }
    let has_includes =
        !selection.include_tags.is_empty() || !selection.include_operations.is_empty();
    let mut index = 0;
    api.operations.retain(|op| {
        let i = index;
        index += 1;
        let has = |tags: &[String]| op.tags.iter().any(|t| tags.contains(t));
        let kept = !has_includes || included[i] || has(&include_tags);
        kept && !excluded[i] && !has(&exclude_tags)
    });
    if api.operations.is_empty() {
        return Err(SelectionError {
            setting: "selection",
            message: "the selection keeps no operation, so the server would have no tools"
                .to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: Option<&str>, method: &str, path: &str, tags: &[&str]) -> Operation {
        Operation {
            pointer: String::new(),
            method: method.to_owned(),
            path: path.to_owned(),
            operation_id: id.map(str::to_owned),
            summary: None,
            description: None,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            deprecated: false,
            params: Vec::new(),
            body: None,
            response: None,
            security: Vec::new(),
            extension: Default::default(),
        }
    }

    fn api() -> Api {
        Api {
            title: "T".into(),
            version: "1".into(),
            description: None,
            servers: Vec::new(),
            security_schemes: Vec::new(),
            operations: vec![
                op(Some("listPets"), "get", "/pets", &["pets"]),
                op(Some("createPet"), "post", "/pets", &["pets", "write"]),
                op(Some("getUser"), "get", "/users/{id}", &["users"]),
                op(None, "get", "/store/inventory", &[]),
            ],
            tags: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn kept(selection: Selection) -> Vec<String> {
        let mut api = api();
        select_operations(&mut api, &selection).unwrap();
        api.operations
            .iter()
            .map(|o| format!("{} {}", o.method, o.path))
            .collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn nothing_selected_keeps_everything() {
        assert_eq!(kept(Selection::default()).len(), 4);
    }

    #[test]
    fn includes_then_excludes() {
        let selection = Selection {
            include_tags: strings(&["pets"]),
            include_operations: strings(&["GET /store/inventory"]),
            exclude_operations: strings(&["createPet"]),
            ..Selection::default()
        };
        assert_eq!(kept(selection), ["get /pets", "get /store/inventory"]);

        let selection = Selection {
            exclude_tags: strings(&["write", "users"]),
            ..Selection::default()
        };
        assert_eq!(kept(selection), ["get /pets", "get /store/inventory"]);
    }

    #[test]
    fn method_and_path_selectors_ignore_method_case() {
        let selection = Selection {
            include_operations: strings(&["post  /pets", "get /users/{id}"]),
            ..Selection::default()
        };
        assert_eq!(kept(selection), ["post /pets", "get /users/{id}"]);
    }

    #[test]
    fn unknown_selectors_are_errors_with_hints() {
        let mut a = api();
        let err = select_operations(
            &mut a,
            &Selection {
                include_tags: strings(&["pet"]),
                ..Selection::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.setting, "include_tags");
        assert!(
            err.message.contains("tags in use: pets, users, write"),
            "{}",
            err.message
        );

        let err = select_operations(
            &mut a,
            &Selection {
                exclude_operations: strings(&["listpets"]),
                ..Selection::default()
            },
        )
        .unwrap_err();
        assert!(
            err.message.contains("did you mean `listPets`"),
            "{}",
            err.message
        );

        let err = select_operations(
            &mut a,
            &Selection {
                exclude_operations: strings(&["get_store_inventory"]),
                ..Selection::default()
            },
        )
        .unwrap_err();
        assert!(
            err.message.contains("`GET /store/inventory`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_parent_tag_selects_its_children() {
        let tag = |name: &str, parent: Option<&str>| crate::model::Tag {
            name: name.to_owned(),
            parent: parent.map(str::to_owned),
            kind: Some("nav".to_owned()),
            summary: None,
            description: None,
        };
        let with_tree = || {
            let mut a = api();
            // `animals` has no operation of its own; `pets` is its child, `write` its grandchild.
            a.tags = vec![
                tag("animals", None),
                tag("pets", Some("animals")),
                tag("write", Some("pets")),
                tag("users", None),
            ];
            a
        };
        let run = |selection: Selection| {
            let mut a = with_tree();
            select_operations(&mut a, &selection).map(|()| {
                a.operations
                    .iter()
                    .map(|o| format!("{} {}", o.method, o.path))
                    .collect::<Vec<_>>()
            })
        };
        let included = run(Selection {
            include_tags: strings(&["animals"]),
            ..Selection::default()
        });
        assert_eq!(included.unwrap(), ["get /pets", "post /pets"]);
        let excluded = run(Selection {
            exclude_tags: strings(&["animals"]),
            ..Selection::default()
        });
        assert_eq!(
            excluded.unwrap(),
            ["get /users/{id}", "get /store/inventory"]
        );
        // A child does not select its parent.
        let child = run(Selection {
            include_tags: strings(&["write"]),
            ..Selection::default()
        });
        assert_eq!(child.unwrap(), ["post /pets"]);
    }

    #[test]
    fn keeping_nothing_is_an_error() {
        let mut a = api();
        let err = select_operations(
            &mut a,
            &Selection {
                include_tags: strings(&["users"]),
                exclude_operations: strings(&["getUser"]),
                ..Selection::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.setting, "selection");
    }
}

/// A document with operations under several tags, shared components, a webhook and a security
/// scheme, which the selection tests narrow down.
#[cfg(test)]
pub(crate) mod fixtures {
    use serde_json::{Value, json};

    pub(crate) fn doc() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "T", "version": "1"},
            "paths": {
                "/pets": {
                    "parameters": [{"$ref": "#/components/parameters/Trace"}],
                    "get": {"operationId": "listPets", "tags": ["pets"], "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}}}}},
                    "post": {"operationId": "createPet", "tags": ["pets"], "responses": {"201": {"description": "ok"}}}
                },
                "/users": {
                    "get": {"operationId": "listUsers", "tags": ["users"], "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}}
                },
                "/admin": {
                    "delete": {"operationId": "wipe", "tags": ["admin"], "responses": {"204": {"description": "ok"}}}
                }
            },
            "webhooks": {"ping": {"post": {"responses": {"200": {"description": "ok"}}}}},
            "components": {
                "schemas": {
                    "Pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                    "Pet": {"oneOf": [{"$ref": "#/components/schemas/Dog"}], "discriminator": {"propertyName": "kind", "mapping": {"dog": "#/components/schemas/Dog"}}},
                    "Dog": {"type": "object"},
                    "User": {"type": "object"}
                },
                "parameters": {"Trace": {"name": "t", "in": "header", "schema": {"type": "string"}}},
                "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "k"}}
            }
        })
    }
}
