//! Copies and drops values without recursion: serde_json's own `Clone` and `Drop` recurse once
//! per level, so a deeply nested document would overflow the stack.

use serde_json::Value;

use super::Object;

/// Clones a value without recursion (serde_json's `Clone` recurses per level).
pub(super) fn deep_clone(value: &Value) -> Value {
    enum Frame<'a> {
        Array(std::slice::Iter<'a, Value>, Vec<Value>),
        // The `String` is the key under which the child being built will go.
        Object(serde_json::map::Iter<'a>, Object, String),
    }
    fn open(value: &Value) -> Result<Frame<'_>, Value> {
        match value {
            Value::Array(items) => Ok(Frame::Array(items.iter(), Vec::with_capacity(items.len()))),
            Value::Object(map) => Ok(Frame::Object(map.iter(), Object::new(), String::new())),
            scalar => Err(scalar.clone()),
        }
    }

    let mut stack = match open(value) {
        Ok(frame) => vec![frame],
        Err(scalar) => return scalar,
    };
    loop {
        let next = match stack.last_mut() {
            None => return Value::Null,
            Some(Frame::Array(iter, _)) => iter.next(),
            Some(Frame::Object(iter, _, key)) => iter.next().map(|(k, v)| {
                key.clone_from(k);
                v
            }),
        };
        let finished = match next {
            Some(child) => match open(child) {
                Ok(frame) => {
                    stack.push(frame);
                    continue;
                }
                Err(scalar) => scalar,
            },
            None => match stack.pop() {
                Some(Frame::Array(_, items)) => Value::Array(items),
                Some(Frame::Object(_, map, _)) => Value::Object(map),
                None => return Value::Null,
            },
        };
        match stack.last_mut() {
            None => return finished,
            Some(Frame::Array(_, items)) => items.push(finished),
            Some(Frame::Object(_, map, key)) => {
                map.insert(std::mem::take(key), finished);
            }
        }
    }
}

/// Clones an object without recursion.
pub(super) fn clone_object(map: &Object) -> Object {
    map.iter()
        .map(|(k, v)| (k.clone(), deep_clone(v)))
        .collect()
}

/// Drops a value without recursion (serde_json's `Drop` recurses per level).
pub(super) fn discard(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Gives `n` independent copies, moving the original into the last slot.
pub(super) fn distribute(value: Value, n: usize) -> Vec<Value> {
    if n == 0 {
        discard(value);
        return Vec::new();
    }
    let mut out: Vec<Value> = (1..n).map(|_| deep_clone(&value)).collect();
    out.push(value);
    out
}

/// An object of `pairs`, in their order.
pub(super) fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::upgrade::test_support::{DEEP, nest, single};

    #[test]
    fn deep_clone_and_discard_handle_deep_values() {
        let small = json!({"a": [1, {"b": null, "c": [true, "x"]}], "d": {}});
        assert_eq!(deep_clone(&small), small);
        assert_eq!(
            clone_object(small.as_object().unwrap()),
            small.as_object().unwrap().clone()
        );
        let deep = nest(json!("leaf"), DEEP, |v| Value::Array(vec![single("k", v)]));
        let copy = deep_clone(&deep);
        let mut cursor = &copy;
        let mut levels = 0;
        while let Some(next) = cursor.get(0).and_then(|v| v.get("k")) {
            cursor = next;
            levels += 1;
        }
        assert_eq!(levels, DEEP);
        assert_eq!(cursor, "leaf");
        discard(copy);
        discard(deep);
    }
}
