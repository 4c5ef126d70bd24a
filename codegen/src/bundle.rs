//! Pulls everything that `$ref`s in other files point at into the root document, so that the
//! rest of the pipeline sees one self-contained document. Referenced schemas become entries of
//! `components.schemas` (`definitions` in Swagger 2.0), so recursive schemas across files stay
//! finite; other referenced objects (parameters, responses, path items, ...) are copied in place.
//!
//! Only files inside the root document's folder (or below it) are read, and remote
//! references are refused: a document must not make the generator read or fetch anything its
//! author's folder does not hold.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result, pointer_push};
use crate::load;
use crate::schema::fragment_pointer;

/// At most this many other files are read for one document.
pub const MAX_REFERENCED_FILES: usize = 1_000;
/// Documents nested deeper than this (in JSON levels) are refused.
const MAX_DEPTH: usize = 512;

/// Where references to bundled schemas point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaHome {
    /// `#/components/schemas/<name>` (OpenAPI 3.x).
    Components,
    /// `#/definitions/<name>` (Swagger 2.0).
    Definitions,
}

struct Bundler {
    root_path: PathBuf,
    root_dir: PathBuf,
    home: SchemaHome,
    files: HashMap<PathBuf, Value>,
    /// (file, fragment) → bundled schema name.
    schema_names: HashMap<(PathBuf, String), String>,
    taken: HashSet<String>,
    new_schemas: Vec<(String, Value)>,
    inlining: Vec<(PathBuf, String)>,
}

/// Replaces every reference into another file by a reference into (or a copy inside) `doc`.
/// `root_path` is the file `doc` was read from. Documents without such references are left
/// exactly as they were.
pub fn bundle(root_path: &Path, doc: &mut Value, home: SchemaHome) -> Result<()> {
    if !has_external_ref(doc) {
        return Ok(());
    }
    let canonical = root_path.canonicalize().map_err(|source| Error::Read {
        path: root_path.to_owned(),
        source,
    })?;
    let root_dir = canonical
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("/"));
    let mut taken = HashSet::new();
    let section = match home {
        SchemaHome::Components => doc.pointer("/components/schemas"),
        SchemaHome::Definitions => doc.pointer("/definitions"),
    };
    if let Some(Value::Object(existing)) = section {
        taken.extend(existing.keys().cloned());
    }
    let mut bundler = Bundler {
        root_path: canonical.clone(),
        root_dir,
        home,
        files: HashMap::new(),
        schema_names: HashMap::new(),
        taken,
        new_schemas: Vec::new(),
        inlining: Vec::new(),
    };
    let mut tokens = Vec::new();
    bundler.walk(doc, &canonical, true, &mut tokens, 0)?;
    let new_schemas = std::mem::take(&mut bundler.new_schemas);
    if !new_schemas.is_empty() {
        let section = match home {
            SchemaHome::Components => ensure_object(ensure_object(doc, "components"), "schemas"),
            SchemaHome::Definitions => ensure_object(doc, "definitions"),
        };
        if let Value::Object(section) = section {
            for (name, schema) in new_schemas {
                section.insert(name, schema);
            }
        }
    }
    Ok(())
}

fn ensure_object<'v>(value: &'v mut Value, key: &str) -> &'v mut Value {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    let Value::Object(map) = value else {
        unreachable!("made an object above")
    };
    let entry = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry
}

/// Whether any `$ref` in `value` names another document. Iterative: documents can be deep.
fn has_external_ref(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref")
                    && !r.starts_with('#')
                {
                    return true;
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

/// Keys whose entries are objects of a kind other than Schema: a `$ref` directly under
/// `<key>/<name>` designates such an object, which is copied in place rather than made a schema.
const NON_SCHEMA_MAPS: &[&str] = &[
    "parameters",
    "responses",
    "headers",
    "examples",
    "links",
    "callbacks",
    "requestBodies",
    "securitySchemes",
    "pathItems",
    "paths",
    "webhooks",
];

fn is_schema_position(tokens: &[String]) -> bool {
    match tokens {
        [] => false,
        [.., last] if last == "requestBody" => false,
        [.., parent, _] => {
            // `properties/parameters` is a schema property that happens to be called so.
            let grandparent = tokens.len().checked_sub(3).map(|i| tokens[i].as_str());
            let under_properties = matches!(grandparent, Some("properties" | "patternProperties"));
            !NON_SCHEMA_MAPS.contains(&parent.as_str()) || under_properties
        }
        [_] => false,
    }
}

impl Bundler {
    fn invalid(&self, file: &Path, pointer: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            path: file.to_owned(),
            line: None,
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    /// Rewrites the refs inside `value`, which lives in `file`. In the root file local refs
    /// stay as they are; in another file they designate that file's content.
    fn walk(
        &mut self,
        value: &mut Value,
        file: &Path,
        in_root: bool,
        tokens: &mut Vec<String>,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self.invalid(
                file,
                &pointer_of(tokens),
                format!("the document is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let reference = reference.clone();
                    if !(in_root && reference.starts_with('#')) {
                        let replacement = self.resolve(&reference, map, file, tokens)?;
                        *value = replacement;
                        return Ok(());
                    }
                }
                for (key, child) in map.iter_mut() {
                    tokens.push(key.clone());
                    self.walk(child, file, in_root, tokens, depth + 1)?;
                    tokens.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    tokens.push(i.to_string());
                    self.walk(child, file, in_root, tokens, depth + 1)?;
                    tokens.pop();
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The value that replaces `{"$ref": reference, ...siblings}` found in `file`.
    fn resolve(
        &mut self,
        reference: &str,
        object: &Map<String, Value>,
        file: &Path,
        tokens: &[String],
    ) -> Result<Value> {
        let at = pointer_push(&pointer_of(tokens), "$ref");
        let (target_file, fragment) = self.locate(reference, file, &at)?;
        // A reference back into the root document becomes a local one.
        if target_file == self.root_path {
            let mut out = object.clone();
            out.insert("$ref".into(), Value::String(format!("#{fragment}")));
            return Ok(Value::Object(out));
        }
        self.load(&target_file, file, &at)?;
        let pointer = fragment_pointer(&format!("#{fragment}")).ok_or_else(|| {
            self.invalid(
                file,
                &at,
                format!("`{reference}` has an invalid JSON pointer"),
            )
        })?;
        let target = self
            .files
            .get(&target_file)
            .and_then(|doc| doc.pointer(&pointer))
            .cloned()
            .ok_or_else(|| {
                self.invalid(
                    file,
                    &at,
                    format!(
                        "`{reference}` points to nothing in {}",
                        target_file.display()
                    ),
                )
            })?;
        let mut target_tokens: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();

        if is_schema_position(tokens) {
            let key = (target_file.clone(), pointer.clone());
            let name = match self.schema_names.get(&key) {
                Some(name) => name.clone(),
                None => {
                    let name = self.allocate_name(&target_file, &target_tokens);
                    self.schema_names.insert(key, name.clone());
                    let mut content = target;
                    self.walk(&mut content, &target_file, false, &mut target_tokens, 0)?;
                    self.new_schemas.push((name.clone(), content));
                    name
                }
            };
            let local = match self.home {
                SchemaHome::Components => format!("#/components/schemas/{}", escape(&name)),
                SchemaHome::Definitions => format!("#/definitions/{}", escape(&name)),
            };
            let mut out = object.clone();
            out.insert("$ref".into(), Value::String(local));
            return Ok(Value::Object(out));
        }

        // Any other object is copied in place, its own references resolved in its file.
        let key = (target_file.clone(), pointer.clone());
        if self.inlining.contains(&key) {
            return Err(self.invalid(
                file,
                &at,
                format!(
                    "`{reference}` is part of a cycle of references between non-schema objects"
                ),
            ));
        }
        self.inlining.push(key);
        let mut content = target;
        let result = self.walk(&mut content, &target_file, false, &mut target_tokens, 0);
        self.inlining.pop();
        result?;
        if let Value::Object(map) = &mut content {
            for (k, v) in object {
                if k != "$ref" {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(content)
    }

    /// The canonical file and the fragment (`/a/b`, possibly empty) a reference designates.
    fn locate(&self, reference: &str, file: &Path, at: &str) -> Result<(PathBuf, String)> {
        let (path_part, fragment) = match reference.split_once('#') {
            Some((p, f)) => (p, f.to_owned()),
            None => (reference, String::new()),
        };
        if path_part.is_empty() {
            return Ok((file.to_owned(), fragment));
        }
        let lower = path_part.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
        {
            return Err(self.invalid(
                file,
                at,
                format!(
                    "`{reference}` is a remote reference; remote documents are never fetched. \
                     Download it next to the document and refer to it by a relative path"
                ),
            ));
        }
        if lower.contains("://") {
            return Err(self.invalid(
                file,
                at,
                format!("`{reference}`: only relative file references are supported"),
            ));
        }
        let decoded = percent_decode(path_part);
        let base = file.parent().unwrap_or(Path::new("/"));
        let candidate = base.join(&decoded);
        let canonical = candidate.canonicalize().map_err(|e| {
            self.invalid(
                file,
                at,
                format!(
                    "`{reference}` names {}, which cannot be read: {e}",
                    candidate.display()
                ),
            )
        })?;
        if !canonical.starts_with(&self.root_dir) {
            return Err(self.invalid(
                file,
                at,
                format!(
                    "`{reference}` points outside the document's folder {}; only files inside it are read",
                    self.root_dir.display()
                ),
            ));
        }
        Ok((canonical, fragment))
    }

    fn load(&mut self, target: &Path, from: &Path, at: &str) -> Result<()> {
        if self.files.contains_key(target) {
            return Ok(());
        }
        if self.files.len() >= MAX_REFERENCED_FILES {
            return Err(self.invalid(
                from,
                at,
                format!("more than {MAX_REFERENCED_FILES} files are referenced"),
            ));
        }
        let loaded = load::load_file(target)?;
        self.files.insert(target.to_owned(), loaded.value);
        Ok(())
    }

    /// `schemas/Pet.yaml` → `Pet`; `common.yaml#/components/schemas/Error` → `Error`.
    fn allocate_name(&mut self, file: &Path, tokens: &[String]) -> String {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "schema".to_owned());
        let base = tokens.last().cloned().unwrap_or(stem);
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

fn pointer_of(tokens: &[String]) -> String {
    tokens
        .iter()
        .fold(String::new(), |p, t| pointer_push(&p, t))
}

fn escape(name: &str) -> String {
    crate::schema::escape_fragment(name)
}

fn percent_decode(text: &str) -> String {
    fragment_pointer(&format!("#/{text}"))
        .map(|p| p[1..].to_owned())
        .unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_positions() {
        let t = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
        assert!(is_schema_position(&t("components/schemas/Pet")));
        assert!(is_schema_position(&t(
            "paths/~1a/get/responses/200/content/application~1json/schema"
        )));
        assert!(is_schema_position(&t(
            "components/schemas/A/properties/parameters"
        )));
        assert!(!is_schema_position(&t("paths/~1a/get/parameters/0")));
        assert!(!is_schema_position(&t("paths/~1a/get/responses/200")));
        assert!(!is_schema_position(&t("paths/~1a/get/requestBody")));
        assert!(!is_schema_position(&t("paths/~1a")));
    }
}
