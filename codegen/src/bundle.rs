//! Pulls everything that `$ref`s in other files point at into the root document, so that the
//! rest of the pipeline sees one self-contained document. Referenced schemas become entries of
//! `components.schemas` (`definitions` in Swagger 2.0), so recursive schemas across files stay
//! finite; other referenced objects (parameters, responses, path items, ...) are copied in place.
//!
//! What a document may make the generator read is set by a [`RefPolicy`]. Only regular files
//! under the *reference root* are read: the folder the user names (`--ref-root`), or by default
//! the root of the repository that holds the document (the nearest folder above it with
//! `.git`, `.hg`, `.svn` or `.jj`), else the nearest folder above it with a project manifest
//! (`Cargo.toml`, `package.json`, `pyproject.toml`, `setup.py`, `go.mod`), else the document's
//! own folder; markers in the filesystem root or the home folder do not count, so that the
//! default never widens to a whole home folder. So `spec/openapi.yaml` may refer to
//! `../common/errors.yaml` in the same repository, as projects lay their documents out. Never
//! read: a file outside the root (also when a symbolic link inside it leads out), a hidden one
//! (a path component below the root, and not already in the document's own path, that starts
//! with `.`, such as `.env` or `.git/config`), and remote (`http`/`https`) references: a
//! document must not make the generator read or fetch anything its project does not plainly
//! hold. Remote references are fetched
//! only when the policy allows them and the generator was built with the `remote-refs` feature
//! (the CLI is; the proc macro is not); see `remote` for how each fetch is bounded. Fetched
//! documents count towards [`MAX_REFERENCED_FILES`], and their own relative references resolve
//! against their URL: a remote document only ever leads to other http(s) URLs, never to a
//! local file.
//!
//! Copying in place is bounded, since references between copied objects can multiply (40
//! objects that each refer twice to the next would expand 2^40 times) or chain without end:
//! each referenced object is resolved once and reused, the nesting that copies build up is
//! limited to [`MAX_DEPTH`] levels, and all copies together to [`MAX_COPIED_NODES`] JSON nodes.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::load;
use crate::pointer;

/// At most this many other files (local or remote) are read for one document.
pub const MAX_REFERENCED_FILES: usize = 1_000;
/// Documents nested deeper than this (in JSON levels, counting each reference followed while
/// copying as one more) are refused. It is the one document nesting limit of the generator,
/// `limits::MAX_DOCUMENT_DEPTH`, whose documentation says why it has this value.
pub const MAX_DEPTH: usize = crate::limits::MAX_DOCUMENT_DEPTH;
/// At most this many JSON nodes (objects, arrays, strings, numbers, ...) are copied from
/// other files, over all references of one document. A reference used many times is copied
/// each time (serde_json values cannot share), so this is what bounds memory and time when
/// references multiply; a legitimate document split over files copies each part about once.
pub const MAX_COPIED_NODES: usize = 2_000_000;

/// What references in a document may reach, beyond regular files in its own folder.
///
/// The default allows nothing more: no remote documents, no hidden files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefPolicy {
    /// Fetch `http`/`https` references (which needs the `remote-refs` feature; without it such
    /// references are an error either way). Only https, and only public addresses, unless the
    /// host is in [`allowed_hosts`](Self::allowed_hosts).
    pub allow_remote: bool,
    /// Hosts (names or IP addresses, as written in the URL) that remote references may reach
    /// even though they resolve to loopback, private or link-local addresses, and over plain
    /// http: an internal spec server, or a test server on `127.0.0.1`. Only used with
    /// [`allow_remote`](Self::allow_remote).
    pub allowed_hosts: Vec<String>,
    /// Read referenced files whose path inside the reference root has a hidden component
    /// (a file or folder whose name starts with `.`, such as `.env` or `.kube/config`).
    pub allow_hidden: bool,
    /// The folder references may not leave; `None` for the default (see [`default_root`]).
    pub root: Option<PathBuf>,
}

/// Where the reference root came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootOrigin {
    /// Named by the user (`--ref-root`, `ref_root`).
    Setting,
    /// The repository that holds the document (the marker found, such as `.git`).
    Repository(&'static str),
    /// The project that holds the document (the manifest found, such as `package.json`).
    Project(&'static str),
    /// Neither was found above the document: its own folder.
    DocumentFolder,
}

impl RootOrigin {
    fn describe(&self) -> String {
        match self {
            RootOrigin::Setting => "the reference root set by `--ref-root` or `ref_root`".into(),
            RootOrigin::Repository(marker) => {
                format!("the root of the repository that holds the document (where `{marker}` is)")
            }
            RootOrigin::Project(manifest) => {
                format!("the root of the project that holds the document (where `{manifest}` is)")
            }
            RootOrigin::DocumentFolder => "the document's own folder (no repository or project \
                 root was found above it)"
                .into(),
        }
    }
}

/// Files and folders that mark the root of a repository.
const REPOSITORY_MARKERS: &[&str] = &[".git", ".hg", ".svn", ".jj"];
/// Files that mark the root of a project, when no repository holds the document.
const PROJECT_MANIFESTS: &[&str] = &[
    "Cargo.toml",
    "package.json",
    "pyproject.toml",
    "setup.py",
    "go.mod",
];

/// The default reference root for a document in the (canonical) folder `doc_dir`: the nearest
/// folder above it (itself included) with a repository marker; else the nearest with a project
/// manifest, where a `Cargo.toml` gives way to the workspace root above it; else `doc_dir`.
/// Markers in `/` and in the home folder are ignored: a root that wide would let a document
/// read anything a user keeps.
pub fn default_root(doc_dir: &Path) -> (PathBuf, RootOrigin) {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .and_then(|h| h.canonicalize().ok());
    let eligible = |dir: &Path| dir.parent().is_some() && Some(dir) != home.as_deref();
    for dir in doc_dir.ancestors().filter(|d| eligible(d)) {
        if let Some(marker) = REPOSITORY_MARKERS.iter().find(|m| dir.join(m).exists()) {
            return (dir.to_owned(), RootOrigin::Repository(marker));
        }
    }
    for dir in doc_dir.ancestors().filter(|d| eligible(d)) {
        if let Some(manifest) = PROJECT_MANIFESTS.iter().find(|m| dir.join(m).is_file()) {
            if *manifest == "Cargo.toml" {
                // A member crate's documents may refer to the workspace's shared files.
                let workspace = dir.ancestors().filter(|d| eligible(d)).find(|d| {
                    std::fs::read_to_string(d.join("Cargo.toml"))
                        .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
                });
                if let Some(workspace) = workspace {
                    return (workspace.to_owned(), RootOrigin::Project(manifest));
                }
            }
            return (dir.to_owned(), RootOrigin::Project(manifest));
        }
    }
    (doc_dir.to_owned(), RootOrigin::DocumentFolder)
}

/// `path` with `.` and `..` components resolved without reading the filesystem.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Stack of the bundling thread: `MAX_DEPTH` levels of copies need about 2.5 MiB unoptimised.
const BUNDLER_STACK_BYTES: usize = 16 * 1024 * 1024;

/// Where references to bundled schemas point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaHome {
    /// `#/components/schemas/<name>` (OpenAPI 3.x).
    Components,
    /// `#/definitions/<name>` (Swagger 2.0).
    Definitions,
}

impl SchemaHome {
    /// JSON depth of a schema in its section (`/components/schemas/X`, `/definitions/X`).
    fn depth(self) -> usize {
        match self {
            SchemaHome::Components => 3,
            SchemaHome::Definitions => 2,
        }
    }
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

/// Where a reference was written: its document and the pointer to its `$ref`.
#[derive(Debug, Clone)]
struct Site {
    file: Doc,
    at: String,
}

/// A schema that has its bundled name but is still to be copied. Schemas are copied one after
/// another from a queue rather than recursively where they are referenced, so that a long
/// chain of schemas across files needs no deep recursion.
struct PendingSchema {
    name: String,
    file: Doc,
    pointer: String,
    /// The first reference to it, which errors about copying it name.
    site: Site,
}

/// A non-schema object as copied once, with its references resolved: later references to the
/// same object reuse it.
struct Copied {
    value: Value,
    /// JSON nodes in `value`.
    nodes: usize,
    /// JSON levels in `value` (0 for a scalar).
    height: usize,
}

struct Bundler<'p> {
    root_path: Doc,
    /// The reference root, canonical.
    root_dir: PathBuf,
    root_origin: RootOrigin,
    /// The root document's folder below `root_dir`: hidden components in it were chosen by
    /// the user, who pointed at the document.
    doc_dir_inside: PathBuf,
    home: SchemaHome,
    policy: &'p RefPolicy,
    #[cfg(feature = "remote-refs")]
    fetcher: Option<crate::remote::Fetcher>,
    /// URL a remote document was finally read from, where redirects made it differ from the
    /// URL it is known by: its relative references resolve against that.
    #[cfg(feature = "remote-refs")]
    redirected: HashMap<String, String>,
    files: HashMap<Doc, Value>,
    /// (document, pointer) → bundled schema name.
    schema_names: HashMap<(Doc, String), String>,
    taken: HashSet<String>,
    pending_schemas: VecDeque<PendingSchema>,
    new_schemas: Vec<(String, Value)>,
    /// Non-schema objects being copied, outermost first: a reference back to one is a cycle.
    inlining: Vec<(Doc, String)>,
    /// Non-schema objects copied so far, by (document, pointer).
    copies: HashMap<(Doc, String), Copied>,
    /// JSON nodes copied so far, checked against [`MAX_COPIED_NODES`].
    copied_nodes: usize,
    /// What was forgiven, as `pointer: message` (the message names the file when it is not
    /// the root document).
    warnings: Vec<String>,
    /// `/definitions/<name>` and `/components/schemas/<name>` of the root document.
    root_definitions: HashSet<String>,
}

/// Replaces every reference into another file by a reference into (or a copy inside) `doc`.
/// `root_path` is the file `doc` was read from. Documents without such references are left
/// exactly as they were. `policy` says what references may reach. Returns what was forgiven
/// (see [`Bundler::locate`]), as `pointer: message` warnings.
pub fn bundle(
    root_path: &Path,
    doc: &mut Value,
    home: SchemaHome,
    policy: &RefPolicy,
) -> Result<Vec<String>> {
    if !has_external_ref(doc) {
        return Ok(Vec::new());
    }
    let canonical = root_path.canonicalize().map_err(|source| Error::Read {
        path: root_path.to_owned(),
        source,
    })?;
    let doc_dir = canonical
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("/"));
    let (root_dir, root_origin) = match &policy.root {
        Some(root) => {
            let canonical_root = root.canonicalize().map_err(|e| Error::Settings {
                path: root_path.to_owned(),
                setting: "ref_root",
                message: format!("the reference root {} cannot be read: {e}", root.display()),
            })?;
            if !doc_dir.starts_with(&canonical_root) {
                return Err(Error::Settings {
                    path: root_path.to_owned(),
                    setting: "ref_root",
                    message: format!(
                        "the reference root {} does not hold the document (in {}); name a \
                         folder above the document",
                        canonical_root.display(),
                        doc_dir.display()
                    ),
                });
            }
            (canonical_root, RootOrigin::Setting)
        }
        None => default_root(&doc_dir),
    };
    let doc_dir_inside = doc_dir
        .strip_prefix(&root_dir)
        .map(Path::to_owned)
        .unwrap_or_default();
    let mut taken = HashSet::new();
    let section = match home {
        SchemaHome::Components => doc.pointer("/components/schemas"),
        SchemaHome::Definitions => doc.pointer("/definitions"),
    };
    if let Some(Value::Object(existing)) = section {
        taken.extend(existing.keys().cloned());
    }
    let mut root_definitions = HashSet::new();
    for section in ["/definitions", "/components/schemas"] {
        if let Some(Value::Object(defs)) = doc.pointer(section) {
            root_definitions.extend(
                defs.keys()
                    .map(|k| format!("{section}/{}", pointer::escape_token(k))),
            );
        }
    }
    let root = Doc::File(canonical);
    let mut bundler = Bundler {
        root_path: root.clone(),
        root_dir,
        root_origin,
        doc_dir_inside,
        home,
        policy,
        #[cfg(feature = "remote-refs")]
        fetcher: None,
        #[cfg(feature = "remote-refs")]
        redirected: HashMap::new(),
        files: HashMap::new(),
        schema_names: HashMap::new(),
        taken,
        pending_schemas: VecDeque::new(),
        new_schemas: Vec::new(),
        inlining: Vec::new(),
        copies: HashMap::new(),
        copied_nodes: 0,
        warnings: Vec::new(),
        root_definitions,
    };
    // Copies nest the bundler's recursion up to `MAX_DEPTH` levels, and each takes a few
    // kilobytes of stack in an unoptimised build (the proc macro's, a test's): more than the
    // 2 MiB a thread gets by default. A thread of its own makes the limit, not the caller's
    // stack, decide where a document is refused.
    std::thread::scope(|scope| {
        let run = || -> Result<()> {
            let mut tokens = Vec::new();
            bundler.walk(doc, &root, true, &mut tokens, 0)?;
            bundler.copy_pending_schemas()
        };
        let thread = std::thread::Builder::new()
            .name("mcpgen-bundle".to_owned())
            .stack_size(BUNDLER_STACK_BYTES)
            .spawn_scoped(scope, run)
            .map_err(|e| Error::Read {
                path: root_path.to_owned(),
                source: std::io::Error::new(
                    e.kind(),
                    format!("cannot start a thread to bundle its references: {e}"),
                ),
            })?;
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
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
    Ok(bundler.warnings)
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

/// Whether a reference names a remote document (`http:`, `https:`, or `//host`).
fn is_remote(reference: &str) -> bool {
    let lower = reference.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
}

/// Whether a `$ref` at `tokens` stands for a parameter, a path item or a response: what the
/// model can leave out (or, for a response, read as one without content) when the reference
/// points to nothing. A parameter in a list or written alone in place of one, a section's
/// entry (`parameters`, `responses`, `pathItems`; Swagger 2.0's root `parameters` and
/// `responses`), an operation's response, or a path item.
fn is_omissible_position(tokens: &[String]) -> bool {
    match tokens {
        [.., last] if last == "parameters" => true,
        [.., parent, _] => matches!(
            parent.as_str(),
            "parameters" | "responses" | "paths" | "webhooks" | "pathItems"
        ),
        _ => false,
    }
}

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

impl Bundler<'_> {
    fn invalid(&self, file: &Doc, pointer: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            path: file.path(),
            line: None,
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    /// Rewrites the refs inside `value`, which lives in `file` and sits `depth` levels deep in
    /// the bundled document. In the root file local refs stay as they are; in another file
    /// they designate that file's content.
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
                &pointer::from_tokens(tokens),
                format!(
                    "the document is nested deeper than {MAX_DEPTH} levels (counting the \
                     references that objects copied from other files lead through)"
                ),
            ));
        }
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let reference = reference.clone();
                    if !(in_root && reference.starts_with('#')) {
                        let replacement = self.resolve(&reference, map, file, tokens, depth)?;
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

    /// The value that replaces `{"$ref": reference, ...siblings}` found in `file`, `depth`
    /// levels deep.
    fn resolve(
        &mut self,
        reference: &str,
        object: &Map<String, Value>,
        file: &Doc,
        tokens: &[String],
        depth: usize,
    ) -> Result<Value> {
        let at = pointer::push_token(&pointer::from_tokens(tokens), "$ref");
        if let Some(reason) = self.unreadable(reference, file) {
            if let Some(forgiven) = self.forgive(object, file, tokens, &at, &reason) {
                return Ok(forgiven);
            }
            // A remote reference is refused below, with the flag that reads it.
            if !is_remote(reference) {
                let what = match tokens.last().map(String::as_str) {
                    Some("requestBody") => "a request body",
                    _ => "an object that is not a schema, a parameter, a path item or a response",
                };
                return Err(self.invalid(
                    file,
                    &at,
                    format!(
                        "{reason}. It stands for {what}, which cannot be left out or read as \
                         accepting anything without guessing what the operation sends: add \
                         the file, or correct the reference"
                    ),
                ));
            }
        }
        let (target_file, fragment) = self.locate(reference, file, &at)?;
        // A reference back into the root document becomes a local one.
        if target_file == self.root_path {
            let mut out = object.clone();
            out.insert("$ref".into(), Value::String(format!("#{fragment}")));
            return Ok(Value::Object(out));
        }
        self.load(&target_file, file, &at)?;
        let mut target_pointer = pointer::decode_fragment(&fragment).ok_or_else(|| {
            self.invalid(
                file,
                &at,
                format!("`{reference}` has an invalid JSON pointer"),
            )
        })?;
        // `file.yaml#/` names the member with the empty key; written where no such member
        // exists, it means the whole file (as `file.yaml#` and `file.yaml` do).
        if target_pointer == "/" && self.target(&target_file, "/").is_none() {
            target_pointer.clear();
        }
        if self.target(&target_file, &target_pointer).is_none() {
            let reason = format!("`{reference}` points to nothing in {target_file}");
            if let Some(forgiven) = self.forgive(object, file, tokens, &at, &reason) {
                return Ok(forgiven);
            }
            return Err(self.invalid(file, &at, reason));
        }
        let site = Site {
            file: file.clone(),
            at,
        };
        let key = (target_file, target_pointer);

        if is_schema_position(tokens) {
            let name = match self.schema_names.get(&key) {
                Some(name) => name.clone(),
                None => {
                    let name = self.allocate_name(&key.0, &tokens_of(&key.1));
                    self.schema_names.insert(key.clone(), name.clone());
                    let (file, pointer) = key;
                    self.pending_schemas.push_back(PendingSchema {
                        name: name.clone(),
                        file,
                        pointer,
                        site,
                    });
                    name
                }
            };
            let section = match self.home {
                SchemaHome::Components => "#/components/schemas/",
                SchemaHome::Definitions => "#/definitions/",
            };
            let local = format!("{section}{}", pointer::fragment_token(&name));
            let mut out = object.clone();
            out.insert("$ref".into(), Value::String(local));
            return Ok(Value::Object(out));
        }

        // Any other object is copied in place, its own references resolved in its file: once,
        // and then reused wherever it is referenced again.
        if !self.copies.contains_key(&key) {
            let copied = self.copy_object(&key, reference, &site, depth)?;
            self.copies.insert(key.clone(), copied);
        }
        let Some(copied) = self.copies.get(&key) else {
            unreachable!("inserted above")
        };
        let (nodes, height) = (copied.nodes, copied.height);
        if depth + height > MAX_DEPTH {
            return Err(self.invalid(
                &site.file,
                &site.at,
                format!(
                    "`{reference}` copies an object {height} levels deep here, {depth} levels \
                     down: the document would be nested deeper than {MAX_DEPTH} levels. \
                     Parameters, responses, request bodies, examples and path items are \
                     copied where they are referenced; shorten the chain of references \
                     between them"
                ),
            ));
        }
        self.charge(nodes, &site, reference)?;
        let Some(copied) = self.copies.get(&key) else {
            unreachable!("inserted above")
        };
        let mut content = copied.value.clone();
        if let Value::Object(map) = &mut content {
            for (k, v) in object {
                if k != "$ref" {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(content)
    }

    /// The non-schema object `key` designates, with the references inside it resolved, as
    /// reached from `site` at `depth` levels.
    fn copy_object(
        &mut self,
        key: &(Doc, String),
        reference: &str,
        site: &Site,
        depth: usize,
    ) -> Result<Copied> {
        if self.inlining.contains(key) {
            return Err(self.invalid(
                &site.file,
                &site.at,
                format!(
                    "`{reference}` is part of a cycle of references between non-schema objects"
                ),
            ));
        }
        let mut content = self.take_target(key, site, reference)?;
        let mut tokens = tokens_of(&key.1);
        self.inlining.push(key.clone());
        // One level more per reference followed, so that a chain of objects that are only
        // references to the next one is bounded too.
        let result = self.walk(&mut content, &key.0, false, &mut tokens, depth + 1);
        self.inlining.pop();
        result?;
        let (nodes, height) = measure(&content);
        Ok(Copied {
            value: content,
            nodes,
            height,
        })
    }

    /// Copies the schemas named so far, and those their own references name, into
    /// `new_schemas`.
    fn copy_pending_schemas(&mut self) -> Result<()> {
        while let Some(pending) = self.pending_schemas.pop_front() {
            let key = (pending.file, pending.pointer);
            let reference = format!("{}#{}", key.0, key.1);
            let mut content = self.take_target(&key, &pending.site, &reference)?;
            let mut tokens = tokens_of(&key.1);
            self.walk(&mut content, &key.0, false, &mut tokens, self.home.depth())?;
            self.new_schemas.push((pending.name, content));
        }
        Ok(())
    }

    fn target(&self, file: &Doc, at: &str) -> Option<&Value> {
        self.files
            .get(file)
            .and_then(|doc| pointer::value_at(doc, at))
    }

    /// A copy of the value `key` designates, charged to the copy budget.
    fn take_target(&mut self, key: &(Doc, String), site: &Site, reference: &str) -> Result<Value> {
        let Some(target) = self.target(&key.0, &key.1) else {
            return Err(self.invalid(
                &site.file,
                &site.at,
                format!("`{reference}` points to nothing in {}", key.0),
            ));
        };
        let (nodes, _) = measure(target);
        let target = target.clone();
        self.charge(nodes, site, reference)?;
        Ok(target)
    }

    /// Counts `nodes` more copied nodes; `Err` once the total passes [`MAX_COPIED_NODES`].
    fn charge(&mut self, nodes: usize, site: &Site, reference: &str) -> Result<()> {
        self.copied_nodes = self.copied_nodes.saturating_add(nodes);
        if self.copied_nodes > MAX_COPIED_NODES {
            return Err(self.invalid(
                &site.file,
                &site.at,
                format!(
                    "`{reference}`: bundling would copy more than {MAX_COPIED_NODES} JSON nodes \
                     from referenced files, so it was stopped here. Parameters, responses, \
                     request bodies, examples and path items are copied wherever they are \
                     referenced, and the references between them here multiply (objects that \
                     each refer to the next one several times); make repeated parts schemas, \
                     or refer to fewer copies"
                ),
            ));
        }
        Ok(())
    }

    /// The document (a canonical file or a URL) and the fragment (`/a/b`, possibly empty) a
    /// reference designates.
    fn locate(&mut self, reference: &str, file: &Doc, at: &str) -> Result<(Doc, String)> {
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
        if is_remote(&lower) {
            if !self.policy.allow_remote {
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
                    format!("`{reference}` names no scheme; write `https:` before it"),
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
        // A path with an invalid escape is read as written (`100%.yaml`).
        let decoded = pointer::percent_decode(path_part).unwrap_or(Cow::Borrowed(path_part));
        let base = file_path.parent().unwrap_or(Path::new("/"));
        let candidate = base.join(decoded.as_ref());
        if let Some(local) = self.simple_ref(file, path_part, &candidate) {
            let place = if *file == self.root_path {
                String::new()
            } else {
                format!(" (in {file})")
            };
            self.warnings.push(format!(
                "{at}{place}: `{reference}` names no file; read as `#{local}`, the definition \
                 of that name (the short form Swagger 1.2 wrote, which swagger-parser also \
                 reads); write `#{local}` to say so"
            ));
            return Ok((file.clone(), local));
        }
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
        let Ok(inside) = canonical.strip_prefix(&self.root_dir) else {
            let through_link = lexical(&candidate).starts_with(&self.root_dir);
            let how = if through_link {
                format!(
                    "through a symbolic link, to {}, which is outside",
                    canonical.display()
                )
            } else {
                format!("to {}, outside", canonical.display())
            };
            return Err(self.invalid(
                file,
                at,
                format!(
                    "`{reference}` leads {how} the reference root {}: {}. Only files under \
                     it are read; pass `--ref-root DIR` (or set `ref_root`) to name a wider \
                     folder that holds both files{}",
                    self.root_dir.display(),
                    self.root_origin.describe(),
                    if through_link {
                        ", or copy the linked file into the project"
                    } else {
                        ""
                    }
                ),
            ));
        };
        let target = Doc::File(canonical.clone());
        if target == self.root_path {
            return Ok((target, fragment));
        }
        // Checked on the canonical path, so that a symbolic link cannot lead to a hidden file
        // under an innocent name.
        // Hidden folders the document itself sits in were chosen by the user: skip the part
        // of the path the target shares with the document's folder.
        let chosen = inside
            .components()
            .zip(self.doc_dir_inside.components())
            .take_while(|(a, b)| a == b)
            .count();
        if !self.policy.allow_hidden
            && let Some(hidden) = inside.components().skip(chosen).find_map(|c| match c {
                Component::Normal(name) if name.to_string_lossy().starts_with('.') => Some(name),
                _ => None,
            })
        {
            return Err(self.invalid(
                file,
                at,
                format!(
                    "`{reference}` names {}, and `{}` is hidden: files and folders whose names \
                     start with `.` (such as `.env` or `.git`) often hold credentials, so they \
                     are not read. Move the document part to a visible path, or pass \
                     `--allow-hidden-refs` to allow it",
                    canonical.display(),
                    hidden.to_string_lossy()
                ),
            ));
        }
        // A FIFO, device or folder would block the read or never end; `load` checks the
        // opened file again, so that nothing swapped in between gets read.
        let kind = std::fs::metadata(&canonical)
            .map(|m| load::kind_of(&m.file_type()))
            .map_err(|e| {
                self.invalid(
                    file,
                    at,
                    format!(
                        "`{reference}` names {}, which cannot be read: {e}",
                        canonical.display()
                    ),
                )
            })?;
        if let Some(kind) = kind {
            return Err(self.invalid(
                file,
                at,
                format!(
                    "`{reference}` names {}, which is {kind}, not a regular file; only regular \
                     files are read",
                    canonical.display()
                ),
            ));
        }
        Ok((target, fragment))
    }

    /// Why `reference`, found in `file`, cannot be read, when the reason is one a document
    /// may be forgiven for (see [`Bundler::forgive`]): a remote document while remote
    /// references are not allowed (nothing is fetched), or a file that does not exist at a
    /// path that is inside the reference root, not hidden, and not behind a symbolic link
    /// that leads out of the root. `None` for every other reference, which `locate` reads or
    /// refuses as before: what a document may not reach stays refused whether it exists or not.
    fn unreadable(&self, reference: &str, file: &Doc) -> Option<String> {
        let path_part = reference.split_once('#').map_or(reference, |(p, _)| p);
        let Doc::File(file_path) = file else {
            return None;
        };
        if path_part.is_empty() {
            return None;
        }
        if is_remote(path_part) {
            return (!self.policy.allow_remote).then(|| {
                format!(
                    "`{reference}` is a remote reference, and remote documents are fetched only \
                     when allowed (`--allow-remote-refs` for `cargo mcpgen`, or \
                     `allow_remote_refs = true`); it was not fetched"
                )
            });
        }
        if path_part.contains("://") {
            return None;
        }
        let decoded = pointer::percent_decode(path_part).unwrap_or(Cow::Borrowed(path_part));
        let base = file_path.parent().unwrap_or(Path::new("/"));
        let candidate = base.join(decoded.as_ref());
        if self.simple_ref(file, path_part, &candidate).is_some() {
            return None;
        }
        // Something is there (a dangling symbolic link included): `locate` judges it.
        let missing = match std::fs::symlink_metadata(&candidate) {
            Ok(_) => return None,
            Err(e) => e,
        };
        if !matches!(
            missing.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
        ) {
            return None;
        }
        let written = lexical(&candidate);
        let inside = written.strip_prefix(&self.root_dir).ok()?;
        // The nearest folder that exists must be inside the root once links are followed.
        let existing = written
            .ancestors()
            .find(|a| std::fs::symlink_metadata(a).is_ok())?;
        if !existing.canonicalize().ok()?.starts_with(&self.root_dir) {
            return None;
        }
        let chosen = inside
            .components()
            .zip(self.doc_dir_inside.components())
            .take_while(|(a, b)| a == b)
            .count();
        let hidden = inside.components().skip(chosen).any(
            |c| matches!(c, Component::Normal(name) if name.to_string_lossy().starts_with('.')),
        );
        if hidden && !self.policy.allow_hidden {
            return None;
        }
        let why = match missing.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_owned(),
            _ => format!("cannot be read ({missing})"),
        };
        Some(format!(
            "`{reference}` names {}, which {why}",
            written.display()
        ))
    }

    /// What replaces a reference that cannot be read for `reason` (a reference to nothing,
    /// in effect) where the document can do without what it names; `None` elsewhere. In a
    /// schema it is a schema that accepts any value, as a reference to nothing within the
    /// document is (the upstream API stays the judge). A parameter, a path item or a
    /// response, in place or as an entry of a section, keeps the reference: the model reads
    /// it as one to nothing, and leaves the parameter or path item out, or the response
    /// without content. Anything else (a request body, a security scheme, ...) stays refused:
    /// what the operation sends would be a guess.
    fn forgive(
        &mut self,
        object: &Map<String, Value>,
        file: &Doc,
        tokens: &[String],
        at: &str,
        reason: &str,
    ) -> Option<Value> {
        let place = if *file == self.root_path {
            String::new()
        } else {
            format!(" (in {file})")
        };
        if is_schema_position(tokens) {
            self.warnings.push(format!(
                "{at}{place}: {reason}; read as a schema that accepts any value (the upstream \
                 API stays the judge)"
            ));
            let mut rest = object.clone();
            rest.shift_remove("$ref");
            return Some(Value::Object(rest));
        }
        if is_omissible_position(tokens) {
            self.warnings.push(format!(
                "{at}{place}: {reason}; read as a reference to nothing: a parameter or path \
                 item it names is left out, a response has no content"
            ));
            return Some(Value::Object(object.clone()));
        }
        None
    }

    /// A reference written as a bare name (`$ref: Pet`) where no file of that name exists,
    /// but `file` defines a schema of that name: the pointer to that definition.
    fn simple_ref(&self, file: &Doc, path_part: &str, candidate: &Path) -> Option<String> {
        let is_name = !path_part.is_empty()
            && path_part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
        if !is_name || candidate.exists() {
            return None;
        }
        let token = pointer::escape_token(path_part);
        ["/definitions/", "/components/schemas/"]
            .iter()
            .map(|section| format!("{section}{token}"))
            .find(|at| {
                if *file == self.root_path {
                    // The root document is not in `files`: it is being rewritten.
                    self.root_definitions.contains(at)
                } else {
                    self.target(file, at).is_some()
                }
            })
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
        let policy = self.policy;
        let fetched = self
            .fetcher
            .get_or_insert_with(|| crate::remote::Fetcher::new(&policy.allowed_hosts))
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

/// The unescaped reference tokens of a JSON pointer.
fn tokens_of(at: &str) -> Vec<String> {
    pointer::tokens(at).map(Cow::into_owned).collect()
}

/// The number of JSON nodes in `value` and its height in levels (0 for a scalar). Iterative:
/// copies can be deep.
fn measure(value: &Value) -> (usize, usize) {
    let mut nodes = 0;
    let mut height = 0;
    let mut stack = vec![(value, 0)];
    while let Some((v, level)) = stack.pop() {
        nodes += 1;
        match v {
            Value::Object(map) if !map.is_empty() => {
                height = height.max(level + 1);
                stack.extend(map.values().map(|child| (child, level + 1)));
            }
            Value::Array(items) if !items.is_empty() => {
                height = height.max(level + 1);
                stack.extend(items.iter().map(|child| (child, level + 1)));
            }
            _ => {}
        }
    }
    (nodes, height)
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
