//! Small trees of files whose `$ref`s point at each other, built from fuzzer bytes: chains,
//! cycles, fan-out, references in schema and non-schema positions, and references that must be
//! refused (out of the folder, into hidden files, at a FIFO, remote). Used by `bundle_refs`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arbitrary::Unstructured;
use serde_json::{Map, Value, json};

/// The files a tree may hold, besides the root `openapi.json`. References may also name the
/// entries of [`OTHER_TARGETS`], which are never written by a tree.
pub const FILES: &[&str] = &["a.json", "sub/b.json", "c.json", ".hidden.json"];

/// Documents that a reference may name but never bundle: outside the folder, a FIFO, missing,
/// remote. `../outside.json` and `pipe.json` are made once per process.
const OTHER_TARGETS: &[&str] = &[
    "../outside.json",
    "pipe.json",
    "missing.json",
    "sub/../a.json",
    "./c.json",
    "https://example.com/x.json",
];

/// Text in files that bundling must never copy: the hidden file (unless hidden files are
/// allowed) and the file outside the folder.
pub const HIDDEN_MARK: &str = "HIDDEN-FILE-CONTENT";
pub const OUTSIDE_MARK: &str = "OUTSIDE-FILE-CONTENT";

/// Keys of objects: the maps whose entries are non-schema objects, the keys that hold
/// schemas, and plain ones.
const KEYS: &[&str] = &[
    "responses",
    "parameters",
    "examples",
    "links",
    "headers",
    "requestBodies",
    "pathItems",
    "callbacks",
    "properties",
    "items",
    "schema",
    "allOf",
    "value",
    "description",
    "content",
    "x-extra",
];

/// Entry names under each map, so that references have something to hit.
const NAMES: &[&str] = &["R0", "R1", "R2", "E0"];

/// A tree of files: the root document's text, and each other file's text or `None` when the
/// tree has no such file.
pub struct Tree {
    pub root: String,
    pub files: Vec<(&'static str, Option<String>)>,
    pub allow_hidden: bool,
}

/// Builds a tree from `data`.
pub fn tree(data: &[u8]) -> Tree {
    let mut u = Unstructured::new(data);
    let allow_hidden = u.ratio(1, 8).unwrap_or(false);
    let mut budget = 400usize;
    let mut files = Vec::new();
    for &name in FILES {
        let present = u.ratio(3, 4).unwrap_or(false);
        let text = present.then(|| {
            let mut doc = Map::new();
            for map in ["responses", "parameters", "examples", "links"] {
                let mut entries = Map::new();
                for entry in NAMES {
                    if u.ratio(1, 2).unwrap_or(false) {
                        entries.insert((*entry).to_owned(), node(&mut u, 0, &mut budget));
                    }
                }
                doc.insert(map.to_owned(), Value::Object(entries));
            }
            for entry in ["S0", "S1"] {
                doc.insert(entry.to_owned(), node(&mut u, 0, &mut budget));
            }
            if name == ".hidden.json" {
                doc.insert("secret".to_owned(), json!(HIDDEN_MARK));
            }
            Value::Object(doc).to_string()
        });
        files.push((name, text));
    }
    let response = node(&mut u, 0, &mut budget);
    let parameter = node(&mut u, 0, &mut budget);
    let schema = node(&mut u, 0, &mut budget);
    let component = node(&mut u, 0, &mut budget);
    let path_item = node(&mut u, 0, &mut budget);
    let root = json!({
        "openapi": "3.0.3",
        "info": {"title": "refs", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "operationId": "a",
                    "parameters": [parameter],
                    "responses": {"200": response}
                },
                "post": {
                    "operationId": "b",
                    "requestBody": {"content": {"application/json": {"schema": schema}}},
                    "responses": {"200": {"description": "ok"}}
                }
            },
            "/b": path_item
        },
        "components": {"responses": {"C": component}}
    });
    Tree {
        root: root.to_string(),
        files,
        allow_hidden,
    }
}

/// One value: mostly references and objects, so that chains and fan-out are common.
fn node(u: &mut Unstructured, depth: usize, budget: &mut usize) -> Value {
    if *budget == 0 {
        return json!("end");
    }
    *budget -= 1;
    let choice = if depth >= 5 {
        0
    } else {
        u.int_in_range(0..=5).unwrap_or(0)
    };
    match choice {
        0 | 1 => reference(u),
        2 | 3 => {
            let mut map = Map::new();
            let n = u.int_in_range(0..=3).unwrap_or(0);
            for _ in 0..n {
                let key = *u.choose(KEYS).unwrap_or(&"x");
                let child = if ["responses", "parameters", "examples", "links", "properties"]
                    .contains(&key)
                {
                    // A map of named entries, as those keys hold.
                    let mut entries = Map::new();
                    for _ in 0..u.int_in_range(1..=2).unwrap_or(1) {
                        let name = *u.choose(NAMES).unwrap_or(&"R0");
                        entries.insert(name.to_owned(), node(u, depth + 2, budget));
                    }
                    Value::Object(entries)
                } else {
                    node(u, depth + 1, budget)
                };
                map.insert(key.to_owned(), child);
            }
            if u.ratio(1, 4).unwrap_or(false)
                && let Value::String(r) = reference(u)["$ref"].take()
            {
                // A reference with siblings.
                map.insert("$ref".to_owned(), Value::String(r));
            }
            Value::Object(map)
        }
        4 => {
            let n = u.int_in_range(0..=3).unwrap_or(0);
            Value::Array((0..n).map(|_| node(u, depth + 1, budget)).collect())
        }
        _ => json!({"type": "string", "description": "leaf"}),
    }
}

/// `{"$ref": ...}` into one of the files (or the same one), at an entry that may or may not
/// exist.
fn reference(u: &mut Unstructured) -> Value {
    let file = match u.int_in_range(0..=9).unwrap_or(0) {
        0 | 1 => "",
        2..=6 => *u.choose(FILES).unwrap_or(&"a.json"),
        _ => *u.choose(OTHER_TARGETS).unwrap_or(&"missing.json"),
    };
    let pointer = match u.int_in_range(0..=7).unwrap_or(0) {
        0 => String::new(),
        1 => "/S0".to_owned(),
        2 => "/S1".to_owned(),
        3 => "/bad~2".to_owned(),
        _ => {
            let map = *u
                .choose(&["responses", "parameters", "examples", "links"])
                .unwrap_or(&"responses");
            let name = *u.choose(NAMES).unwrap_or(&"R0");
            format!("/{map}/{name}")
        }
    };
    json!({"$ref": format!("{file}#{pointer}")})
}

/// A private folder for trees, with a file outside it and a FIFO inside it that references
/// may name but bundling must never read.
pub fn workdir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let parent = std::env::temp_dir().join(format!("mcpgen-fuzz-refs-{}", std::process::id()));
        let dir = parent.join("spec");
        std::fs::create_dir_all(dir.join("sub")).expect("temporary folder is writable");
        let outside = json!({"responses": {"R0": {"description": OUTSIDE_MARK}}, "S0": {"description": OUTSIDE_MARK}});
        std::fs::write(parent.join("outside.json"), outside.to_string())
            .expect("temporary folder is writable");
        let fifo = std::ffi::CString::new(dir.join("pipe.json").as_os_str().as_encoded_bytes())
            .expect("temporary paths have no NUL");
        // SAFETY: `fifo` is a valid NUL-terminated path.
        let made = unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) };
        assert_eq!(made, 0, "cannot make a FIFO in {}", dir.display());
        dir
    })
}

/// Writes `tree` into [`workdir`] (removing the files it does not have) and returns the root
/// document's path.
pub fn write(tree: &Tree) -> PathBuf {
    let dir = workdir();
    for (name, text) in &tree.files {
        let path = dir.join(name);
        match text {
            Some(text) => std::fs::write(&path, text).expect("temporary folder is writable"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let root = dir.join("openapi.json");
    std::fs::write(&root, &tree.root).expect("temporary folder is writable");
    root
}
