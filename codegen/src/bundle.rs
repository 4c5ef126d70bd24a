//! Pulls everything that `$ref`s in other files point at into the root document, so that the
//! rest of the pipeline sees one self-contained document. Referenced schemas become entries of
//! `components.schemas` (`definitions` in Swagger 2.0), so recursive schemas across files stay
//! finite; other referenced objects (parameters, responses, path items, ...) are copied in place.
//!
//! Only files inside the root document's folder (or below it) are read, and remote
//! (`http`/`https`) references are refused unless the `allow_remote_refs` setting is on and
//! the generator was built with the `remote-refs` feature (the CLI is; the proc macro is not):
//! by default a document must not make the generator read or fetch anything its author's
//! folder does not hold. Fetched documents are read once per URL, bounded in time and size
//! (see `remote`), count towards [`MAX_REFERENCED_FILES`], and their own relative references
//! resolve against their URL: a remote document only ever leads to other http(s) URLs, never
//! to a local file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result, pointer_push};
use crate::load;
use crate::schema::fragment_pointer;

/// At most this many other files (local or remote) are read for one document.
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

/// A document that references point into: a (canonical) local file, or a remote document by
/// its absolute http(s) URL without fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Doc {
    File(PathBuf),
    Url(String),
}

impl Doc {
    /// How errors name the document.
    fn path(&self) -> PathBuf {
        match self {
            Doc::File(path) => path.clone(),
            Doc::Url(url) => PathBuf::from(url),
        }
    }

    fn stem(&self) -> Option<String> {
        match self {
            Doc::File(path) => path.file_stem().map(|s| s.to_string_lossy().into_owned()),
            Doc::Url(url) => {
                let last = url.rsplit('/').next().unwrap_or_default();
                let stem = last.split(['?', '.']).next().unwrap_or_default();
                (!stem.is_empty()).then(|| stem.to_owned())
            }
        }
    }
}

impl std::fmt::Display for Doc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Doc::File(path) => path.display().fmt(f),
            Doc::Url(url) => url.fmt(f),
        }
    }
}

struct Bundler {
    root_path: Doc,
    root_dir: PathBuf,
    home: SchemaHome,
    allow_remote: bool,
    #[cfg(feature = "remote-refs")]
    fetcher: Option<crate::remote::Fetcher>,
    /// URL a remote document was finally read from, where redirects made it differ from the
    /// URL it is known by: its relative references resolve against that.
    #[cfg(feature = "remote-refs")]
    redirected: HashMap<String, String>,
    files: HashMap<Doc, Value>,
    /// (document, fragment) → bundled schema name.
    schema_names: HashMap<(Doc, String), String>,
    taken: HashSet<String>,
    new_schemas: Vec<(String, Value)>,
    inlining: Vec<(Doc, String)>,
}

/// Replaces every reference into another file by a reference into (or a copy inside) `doc`.
/// `root_path` is the file `doc` was read from. Documents without such references are left
/// exactly as they were. `allow_remote` lets `http`/`https` references be fetched (which needs
/// the `remote-refs` feature; without it such references are an error either way).
pub fn bundle(
    root_path: &Path,
    doc: &mut Value,
    home: SchemaHome,
    allow_remote: bool,
) -> Result<()> {
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
    let root = Doc::File(canonical);
    let mut bundler = Bundler {
        root_path: root.clone(),
        root_dir,
        home,
        allow_remote,
        #[cfg(feature = "remote-refs")]
        fetcher: None,
        #[cfg(feature = "remote-refs")]
        redirected: HashMap::new(),
        files: HashMap::new(),
        schema_names: HashMap::new(),
        taken,
        new_schemas: Vec::new(),
        inlining: Vec::new(),
    };
    let mut tokens = Vec::new();
    bundler.walk(doc, &root, true, &mut tokens, 0)?;
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
    fn invalid(&self, file: &Doc, pointer: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            path: file.path(),
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
        file: &Doc,
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
        file: &Doc,
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
                    format!("`{reference}` points to nothing in {target_file}"),
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

    /// The document (a canonical file or a URL) and the fragment (`/a/b`, possibly empty) a
    /// reference designates.
    fn locate(&self, reference: &str, file: &Doc, at: &str) -> Result<(Doc, String)> {
        let (path_part, fragment) = match reference.split_once('#') {
            Some((p, f)) => (p, f.to_owned()),
            None => (reference, String::new()),
        };
        if path_part.is_empty() {
            return Ok((file.clone(), fragment));
        }
        let file_path = match file {
            Doc::File(path) => path,
            // Inside a remote document every reference is a URL relative to it.
            Doc::Url(base) => {
                let url = self.remote_url(base, path_part, reference, file, at)?;
                return Ok((Doc::Url(url), fragment));
            }
        };
        let lower = path_part.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
        {
            if !self.allow_remote {
                return Err(self.invalid(
                    file,
                    at,
                    format!(
                        "`{reference}` is a remote reference, and remote documents are fetched \
                         only when allowed: pass `--allow-remote-refs` to `cargo mcpgen` (or set \
                         `allow_remote_refs = true`), or download it next to the document and \
                         refer to it by a relative path"
                    ),
                ));
            }
            if lower.starts_with("//") {
                return Err(self.invalid(
                    file,
                    at,
                    format!("`{reference}` names no scheme; write `https:` or `http:` before it"),
                ));
            }
            let url = self.remote_url("", path_part, reference, file, at)?;
            return Ok((Doc::Url(url), fragment));
        }
        if lower.contains("://") {
            return Err(self.invalid(
                file,
                at,
                format!("`{reference}`: only relative file references are supported"),
            ));
        }
        let decoded = percent_decode(path_part);
        let base = file_path.parent().unwrap_or(Path::new("/"));
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
        Ok((Doc::File(canonical), fragment))
    }

    /// The absolute http(s) URL (without fragment) that `path_part` of `reference` names,
    /// relative to the remote document `base` (`""`: `path_part` must be absolute).
    #[cfg(feature = "remote-refs")]
    fn remote_url(
        &self,
        base: &str,
        path_part: &str,
        reference: &str,
        file: &Doc,
        at: &str,
    ) -> Result<String> {
        let resolved = if base.is_empty() {
            crate::remote::parse(path_part)
        } else {
            let base = self.redirected.get(base).map_or(base, String::as_str);
            crate::remote::join(base, path_part)
        };
        resolved.map_err(|e| self.invalid(file, at, format!("`{reference}` {e}")))
    }

    #[cfg(not(feature = "remote-refs"))]
    fn remote_url(
        &self,
        _base: &str,
        _path_part: &str,
        reference: &str,
        file: &Doc,
        at: &str,
    ) -> Result<String> {
        Err(self.invalid(
            file,
            at,
            format!(
                "`{reference}` is a remote reference, and this build of the generator cannot \
                 fetch documents (the `#[mcpgen::server]` macro never does: builds must not \
                 reach the network). Remote references need the CLI: \
                 `cargo mcpgen ... --allow-remote-refs`; or download the document next to the \
                 spec and refer to it by a relative path"
            ),
        ))
    }

    fn load(&mut self, target: &Doc, from: &Doc, at: &str) -> Result<()> {
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
        let value = match target {
            Doc::File(path) => load::load_file(path)?.value,
            Doc::Url(url) => self.fetch(url, from, at)?,
        };
        self.files.insert(target.clone(), value);
        Ok(())
    }

    #[cfg(feature = "remote-refs")]
    fn fetch(&mut self, url: &str, from: &Doc, at: &str) -> Result<Value> {
        let fetched = self
            .fetcher
            .get_or_insert_with(crate::remote::Fetcher::new)
            .fetch(url)
            .map_err(|e| self.invalid(from, at, format!("cannot fetch {url}: {e}")))?;
        let value = load::parse_text(Path::new(url), &fetched.text).map_err(|e| {
            self.invalid(
                from,
                at,
                format!("{url} is not a JSON or YAML document: {e}"),
            )
        })?;
        if fetched.final_url != url {
            self.redirected.insert(url.to_owned(), fetched.final_url);
        }
        Ok(value)
    }

    #[cfg(not(feature = "remote-refs"))]
    fn fetch(&mut self, url: &str, from: &Doc, at: &str) -> Result<Value> {
        // Unreachable: without the feature no `Doc::Url` is ever made.
        Err(self.invalid(from, at, format!("cannot fetch {url}")))
    }

    /// `schemas/Pet.yaml` → `Pet`; `common.yaml#/components/schemas/Error` → `Error`.
    fn allocate_name(&mut self, file: &Doc, tokens: &[String]) -> String {
        let stem = file.stem().unwrap_or_else(|| "schema".to_owned());
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
