//! Documents and assertions the unit tests of every upgrade step share.

use serde_json::{Value, json};

use super::{Object, UpgradeError, upgrade_to_31};
use crate::pointer::push_token;

/// Nesting depth for the tests that check nothing recurses.
pub(super) const DEEP: usize = 10_000;

/// `doc` upgraded, with its warnings; panics when the upgrade fails.
pub(super) fn upgrade(mut doc: Value) -> (Value, Vec<UpgradeError>) {
    let (_, warnings) = upgrade_to_31(&mut doc).expect("upgrade should succeed");
    (doc, warnings)
}

/// A minimal document whose version field is `field: version`, with the members of `extra`
/// added (or replaced).
fn minimal(field: &str, version: &str, extra: Value) -> Value {
    let mut doc = json!({
        field: version,
        "info": {"title": "t", "version": "1"},
        "paths": {}
    });
    if let (Value::Object(doc), Value::Object(extra)) = (&mut doc, extra) {
        for (k, v) in extra {
            doc.insert(k, v);
        }
    }
    doc
}

/// A Swagger 2.0 document with the members of `extra`.
pub(super) fn swagger(extra: Value) -> Value {
    minimal("swagger", "2.0", extra)
}

/// An OpenAPI 3.0 document with the members of `extra`.
pub(super) fn openapi30(extra: Value) -> Value {
    minimal("openapi", "3.0.3", extra)
}

/// Built by moving `schemas` in, since `json!` would serialize (recursively) a deep value.
pub(super) fn schemas30(schemas: Value) -> Value {
    openapi30(single("components", single("schemas", schemas)))
}

#[track_caller]
pub(super) fn assert_warning(warnings: &[UpgradeError], pointer: &str, needle: &str) {
    assert!(
        warnings
            .iter()
            .any(|w| w.pointer == pointer && w.message.contains(needle)),
        "no warning at {pointer:?} containing {needle:?} in {warnings:#?}"
    );
}

/// [`assert_warning`] for each `(pointer, needle)` of `expected`.
#[track_caller]
pub(super) fn assert_warnings(warnings: &[UpgradeError], expected: &[(&str, &str)]) {
    for (pointer, needle) in expected {
        assert_warning(warnings, pointer, needle);
    }
}

/// `{key: value}`, without `json!` (which would serialize a deep value recursively).
pub(super) fn single(key: &str, value: Value) -> Value {
    let mut map = Object::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

/// Every pointer of a small document, collected without recursion.
fn all_pointers(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), doc)];
    while let Some((ptr, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    stack.push((push_token(&ptr, k), v));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    stack.push((format!("{ptr}/{i}"), v));
                }
            }
            _ => {}
        }
        out.push(ptr);
    }
    out
}

/// Replaces each node in turn by each JSON type; the upgrade must never panic.
pub(super) fn survives_type_confusion(doc: &Value) {
    let replacements = [
        json!(null),
        json!(7),
        json!("s"),
        json!(true),
        json!([]),
        json!({}),
        json!([1, {}]),
    ];
    for ptr in all_pointers(doc) {
        for replacement in &replacements {
            let mut mutated = doc.clone();
            if let Some(slot) = mutated.pointer_mut(&ptr) {
                *slot = replacement.clone();
            }
            let _ = upgrade_to_31(&mut mutated);
        }
    }
}

/// Builds `depth` levels of `wrap` around `leaf` without recursion.
pub(super) fn nest(leaf: Value, depth: usize, mut wrap: impl FnMut(Value) -> Value) -> Value {
    let mut value = leaf;
    for _ in 0..depth {
        value = wrap(value);
    }
    value
}
