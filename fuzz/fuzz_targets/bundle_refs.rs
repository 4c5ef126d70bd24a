//! Small trees of files with `$ref`s between them (chains, cycles, fan-out, references in
//! schema and non-schema positions, references that must be refused), through bundling and
//! then the whole generator: no panic, no stack overflow, no hang, and bounded work.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpgen_codegen::bundle::{self, RefPolicy, SchemaHome};
use mcpgen_codegen::{Settings, load, map_document};
use mcpgen_fuzz::refs;
use serde_json::Value;

/// JSON nodes in `value`, and its depth in levels.
fn measure(value: &Value) -> (usize, usize) {
    let mut nodes = 0;
    let mut depth = 0;
    let mut stack = vec![(value, 0)];
    while let Some((v, level)) = stack.pop() {
        nodes += 1;
        depth = depth.max(level);
        match v {
            Value::Object(map) => stack.extend(map.values().map(|c| (c, level + 1))),
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, level + 1))),
            _ => {}
        }
    }
    (nodes, depth)
}

fuzz_target!(|data: &[u8]| {
    mcpgen_fuzz::catch_stack_overflow();
    let tree = refs::tree(data);
    let root = refs::write(&tree);
    let policy = RefPolicy {
        allow_hidden: tree.allow_hidden,
        ..Default::default()
    };
    let mut doc = load::load_file(&root)
        .expect("the root document is valid JSON")
        .value;
    let (root_nodes, _) = measure(&doc);
    if bundle::bundle(&root, &mut doc, SchemaHome::Components, &policy).is_ok() {
        let (nodes, depth) = measure(&doc);
        // Whatever the references, what bundling adds is bounded by its copy budget, and
        // copies nest no deeper than its limit.
        assert!(
            nodes <= root_nodes + bundle::MAX_COPIED_NODES,
            "{nodes} nodes after bundling"
        );
        assert!(
            depth <= bundle::MAX_DEPTH + 1,
            "bundled {depth} levels deep"
        );
        let text = doc.to_string();
        assert!(
            !text.contains(refs::OUTSIDE_MARK),
            "a file outside the folder was read"
        );
        assert!(
            tree.allow_hidden || !text.contains(refs::HIDDEN_MARK),
            "a hidden file was read"
        );
    }
    // The whole generator (with the default policy) must not panic either.
    let _ = map_document(&root, &Settings::new());
});
