//! Finds the OpenAPI and Swagger documents inside unpacked registry packages, for the second
//! corpus (`scripts/corpus2.sh`): every `.json`, `.yaml` and `.yml` file whose top level is an
//! object with an `openapi` or `swagger` field and `paths` or `webhooks`, minus the documents
//! the first corpus already has (same content, or same `info.title`) and repeats of one
//! another (same content).
//!
//! "Same content" compares the parsed value with its object keys sorted, so a document
//! published both as JSON and as YAML counts once. Documents a test suite keeps as examples of
//! broken input (a path component such as `invalid` or `bad`) are left out: nobody means to
//! serve them.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Files larger than this are not looked at.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Path components (compared without case, and before a `-`, `_` or `.`) that mark a test
/// suite's deliberately broken inputs.
const BROKEN_MARKS: &[&str] = &[
    "invalid",
    "bad",
    "broken",
    "error",
    "errors",
    "fail",
    "failing",
    "failure",
    "failures",
    "malformed",
    "negative",
    "wrong",
];

/// One document found in a package.
#[derive(Debug, Clone)]
pub struct Found {
    /// The file.
    pub path: PathBuf,
    /// `openapi` or `swagger` field, as text.
    pub version: String,
    /// `info.title`, trimmed.
    pub title: String,
    /// SHA-256 of the parsed value with sorted keys, in hex.
    pub hash: String,
}

/// The identity of a document for deduplication: its content hash and normalised title.
#[derive(Debug, Default)]
pub struct Seen {
    hashes: HashSet<String>,
    titles: HashSet<String>,
}

impl Seen {
    /// Remembers `found`.
    pub fn add(&mut self, found: &Found) {
        self.hashes.insert(found.hash.clone());
        if !found.title.is_empty() {
            self.titles.insert(normal_title(&found.title));
        }
    }

    /// Whether a document with the same content was seen.
    pub fn has_content(&self, found: &Found) -> bool {
        self.hashes.contains(&found.hash)
    }

    /// Whether a document with the same title was seen.
    pub fn has_title(&self, found: &Found) -> bool {
        !found.title.is_empty() && self.titles.contains(&normal_title(&found.title))
    }
}

fn normal_title(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Reads `path` and returns it as a document if it is one. A byte-order mark is skipped, and
/// a file that does not parse as a whole is not a document.
pub fn examine(path: &Path) -> Option<Found> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    let bytes = fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // Cheap test before parsing: the field must be somewhere in the text.
    if !text.contains("openapi") && !text.contains("swagger") {
        return None;
    }
    let value = mcpgen_codegen::load::parse_text(path, text).ok()?;
    let top = value.as_object()?;
    let version = top.get("openapi").or_else(|| top.get("swagger"))?;
    let version = match version {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if !top.contains_key("paths") && !top.contains_key("webhooks") {
        return None;
    }
    let title = top
        .get("info")
        .and_then(|i| i.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    Some(Found {
        path: path.to_owned(),
        version,
        title,
        hash: content_hash(&value),
    })
}

/// SHA-256 (hex) of `value` written as JSON with every object's keys sorted.
pub fn content_hash(value: &Value) -> String {
    // Iterative, and written token by token: documents can be deep.
    enum Item<'v> {
        Value(&'v Value),
        Key(&'v str),
        Text(&'static str),
    }
    let mut hasher = Sha256::new();
    let mut items = vec![Item::Value(value)];
    while let Some(item) = items.pop() {
        match item {
            Item::Text(t) => hasher.update(t.as_bytes()),
            Item::Key(k) => hasher.update(Value::from(k).to_string().as_bytes()),
            Item::Value(Value::Object(map)) => {
                let sorted: BTreeMap<&String, &Value> = map.iter().collect();
                hasher.update(b"{");
                items.push(Item::Text("}"));
                for (k, v) in sorted.into_iter().rev() {
                    items.push(Item::Text(","));
                    items.push(Item::Value(v));
                    items.push(Item::Text(":"));
                    items.push(Item::Key(k));
                }
            }
            Item::Value(Value::Array(list)) => {
                hasher.update(b"[");
                items.push(Item::Text("]"));
                for v in list.iter().rev() {
                    items.push(Item::Text(","));
                    items.push(Item::Value(v));
                }
            }
            Item::Value(scalar) => hasher.update(scalar.to_string().as_bytes()),
        }
    }
    let digest = hasher.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a path component marks a deliberately broken test input.
pub fn marks_broken(component: &str) -> bool {
    let lower = component.to_ascii_lowercase();
    let first = lower.split(['-', '_', '.']).next().unwrap_or("");
    BROKEN_MARKS.contains(&lower.as_str()) || BROKEN_MARKS.contains(&first)
}

/// The candidate files under `root` (`.json`, `.yaml`, `.yml`), sorted, skipping hidden
/// entries, `node_modules`, symbolic links and folders that mark broken inputs.
pub fn candidates(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                if !marks_broken(&name) {
                    pending.push(path);
                }
            } else if kind.is_file() {
                let ext = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .map(str::to_ascii_lowercase);
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                if matches!(ext.as_deref(), Some("json" | "yaml" | "yml")) && !marks_broken(stem) {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `count` of `items`, evenly spread over them in order (all of them when there are fewer).
pub fn spread<T: Clone>(items: &[T], count: usize) -> Vec<T> {
    if items.len() <= count {
        return items.to_vec();
    }
    (0..count)
        .map(|i| items[i * items.len() / count].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_hash_ignores_key_order() {
        let a = json!({"a": 1, "b": [1, {"x": "y", "z": null}]});
        let b = json!({"b": [1, {"z": null, "x": "y"}], "a": 1});
        let c = json!({"b": [{"z": null, "x": "y"}, 1], "a": 1});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
        assert_ne!(
            content_hash(&json!({"a": "1"})),
            content_hash(&json!({"a": 1}))
        );
    }

    #[test]
    fn broken_marks() {
        assert!(marks_broken("invalid"));
        assert!(marks_broken("Invalid-Refs"));
        assert!(marks_broken("bad_spec"));
        assert!(!marks_broken("badges"));
        assert!(!marks_broken("petstore"));
    }

    #[test]
    fn spreads_evenly() {
        let items: Vec<usize> = (0..10).collect();
        assert_eq!(spread(&items, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(spread(&items, 20), items);
    }

    #[test]
    fn finds_documents() {
        let dir = std::env::temp_dir().join(format!("mcpgen-collect-{}", std::process::id()));
        fs::create_dir_all(dir.join("invalid")).unwrap();
        fs::write(
            dir.join("a.yaml"),
            "\u{feff}openapi: 3.0.0\ninfo: {title: ' A  '}\npaths: {}\n",
        )
        .unwrap();
        fs::write(dir.join("b.json"), r#"{"swagger": "2.0", "info": {}}"#).unwrap();
        fs::write(dir.join("invalid/c.yaml"), "openapi: 3.0.0\npaths: {}\n").unwrap();
        let found: Vec<_> = candidates(&dir)
            .unwrap()
            .iter()
            .filter_map(|p| examine(p))
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].title, "A");
        assert_eq!(found[0].version, "3.0.0");
        fs::remove_dir_all(&dir).unwrap();
    }
}
