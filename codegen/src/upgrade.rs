//! Upgrades Swagger 2.0 and OpenAPI 3.0 documents to OpenAPI 3.1, and maps OpenAPI 3.2
//! documents onto the same shape.
//!
//! A 3.2 document's schemas already are JSON Schema 2020-12, so it keeps its version and
//! everything 3.2 adds that changes a tool (`query` and `additionalOperations` operations,
//! `in: querystring` parameters, `itemSchema`, tag hierarchies) for the later stages to read;
//! what has no place in the 3.1 shape is resolved here: `$self` (see [`apply_self`]) and
//! references to reusable Media Type Objects, which are inlined.
//!
//! The upgrade works on `serde_json::Value` rather than a typed model so that
//! everything it does not understand (unknown fields, `x-` extensions, key
//! order) passes through untouched.
//!
//! Two rules shape the code:
//! - A fatal [`UpgradeError`] is only returned before the document is
//!   modified, so a caller that gets `Err` still holds its original document.
//!   Every later problem becomes a warning and the offending value is left as
//!   it was (or, for fields that have no place in 3.x, dropped).
//! - Nothing recurses over the document. Schemas may be nested arbitrarily
//!   deep, so walks use an explicit stack, and subtrees that might be deep are
//!   copied with `deep_clone` and thrown away with `discard`, because
//!   serde_json's own `Clone` and `Drop` recurse.

use std::collections::HashSet;

use serde_json::{Map, Value};

type Object = Map<String, Value>;

/// A problem found while upgrading, located by a JSON pointer into the input document.
///
/// The same type carries fatal errors and non-fatal warnings. Warnings raised
/// while upgrading schemas of a Swagger 2.0 document point into the
/// intermediate OpenAPI 3.0 form (for example `/components/schemas/Pet`
/// rather than `/definitions/Pet`), because that is where the schema lives by
/// the time it is inspected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct UpgradeError {
    /// RFC 6901 JSON pointer (`~0`/`~1` escaped); empty for the document root.
    pub pointer: String,
    /// What was wrong, or what was changed or dropped.
    pub message: String,
}

impl UpgradeError {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Which dialect the input document was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceVersion {
    /// Swagger 2.0 (`swagger: "2.0"`).
    Swagger2,
    /// OpenAPI 3.0.x (`openapi: "3.0.*"`).
    OpenApi30,
    /// OpenAPI 3.1.x (`openapi: "3.1.*"`).
    OpenApi31,
    /// OpenAPI 3.2.x (`openapi: "3.2.*"`).
    OpenApi32,
}

/// Detects the version from `swagger`/`openapi` fields; errors name what was found.
pub fn detect_version(doc: &Value) -> Result<SourceVersion, UpgradeError> {
    let root = doc.as_object().ok_or_else(|| root_error(doc))?;
    match (root.get("swagger"), root.get("openapi")) {
        (Some(_), Some(_)) => Err(UpgradeError::new(
            "",
            "both `swagger` and `openapi` are present, so the version is ambiguous",
        )),
        (Some(version), None) => swagger_version(version),
        (None, Some(version)) => openapi_version(version),
        (None, None) => Err(UpgradeError::new(
            "",
            "missing version field: expected `swagger: \"2.0\"` or `openapi: \"3.x.y\"`",
        )),
    }
}

/// Upgrades a document in place to OpenAPI 3.1 (whose schemas are JSON Schema 2020-12).
/// Returns non-fatal warnings (pointer + message), e.g. features dropped.
///
/// On `Err` the document has not been modified. A 3.1 document is returned
/// unchanged.
pub fn upgrade_to_31(doc: &mut Value) -> Result<(SourceVersion, Vec<UpgradeError>), UpgradeError> {
    let version = detect_version(doc)?;
    let mut warnings = Vec::new();
    match version {
        SourceVersion::Swagger2 => {
            upgrade_swagger2(doc, &mut warnings)?;
            upgrade_30_to_31(doc, &mut warnings)?;
        }
        SourceVersion::OpenApi30 => upgrade_30_to_31(doc, &mut warnings)?,
        SourceVersion::OpenApi31 => {}
        SourceVersion::OpenApi32 => upgrade_32(doc, &mut warnings)?,
    }
    let truncated = warnings.len() >= MAX_WARNINGS;
    let mut warnings = dedup(warnings);
    if truncated {
        warnings.push(UpgradeError::new(
            "",
            format!("warning limit of {MAX_WARNINGS} reached; the rest were not recorded"),
        ));
    }
    Ok((version, warnings))
}

fn swagger_version(version: &Value) -> Result<SourceVersion, UpgradeError> {
    match version {
        Value::String(s) if s == "2.0" => Ok(SourceVersion::Swagger2),
        // Unquoted `swagger: 2.0` is common in real YAML files and parses as a number.
        Value::Number(n) if n.as_f64() == Some(2.0) => Ok(SourceVersion::Swagger2),
        Value::String(s) => Err(UpgradeError::new(
            "/swagger",
            format!("unsupported Swagger version {s:?}; only \"2.0\" is supported"),
        )),
        Value::Number(n) => Err(UpgradeError::new(
            "/swagger",
            format!("unsupported Swagger version {n}; only \"2.0\" is supported"),
        )),
        other => Err(UpgradeError::new(
            "/swagger",
            expected("the version as a string", other),
        )),
    }
}

fn openapi_version(version: &Value) -> Result<SourceVersion, UpgradeError> {
    match version {
        Value::String(s) if is_minor(s, "3.0") => Ok(SourceVersion::OpenApi30),
        Value::String(s) if is_minor(s, "3.1") => Ok(SourceVersion::OpenApi31),
        Value::String(s) if is_minor(s, "3.2") => Ok(SourceVersion::OpenApi32),
        Value::String(s) => Err(UpgradeError::new(
            "/openapi",
            format!(
                "unsupported OpenAPI version {s:?}; supported are 3.0.x, 3.1.x, 3.2.x and Swagger 2.0"
            ),
        )),
        other => Err(UpgradeError::new(
            "/openapi",
            expected("the version as a string", other),
        )),
    }
}

/// `3.1` must not match `3.10.0`, hence the explicit dot.
fn is_minor(version: &str, minor: &str) -> bool {
    version == minor
        || version
            .strip_prefix(minor)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|patch| !patch.is_empty())
}

fn root_error(doc: &Value) -> UpgradeError {
    UpgradeError::new("", expected("the document root to be an object", doc))
}

/// One wording for every type mismatch, so the same problem seen by several
/// passes deduplicates into one warning.
fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", crate::schema::kind(found))
}

/// Rendering a pointer costs its depth, so a deep document with a problem at
/// every level would otherwise cost quadratic time and memory in warnings alone.
const MAX_WARNINGS: usize = 1000;

fn warn_at(warnings: &mut Vec<UpgradeError>, loc: &Loc<'_>, key: &str, message: String) {
    if warnings.len() < MAX_WARNINGS {
        warnings.push(UpgradeError::new(loc.at(key), message));
    }
}

fn dedup(warnings: Vec<UpgradeError>) -> Vec<UpgradeError> {
    let mut seen = HashSet::new();
    warnings
        .into_iter()
        .filter(|w| seen.insert((w.pointer.clone(), w.message.clone())))
        .collect()
}

// ---------------------------------------------------------------------------
// JSON pointers

fn push_token(base: &str, token: &str) -> String {
    crate::error::pointer_push(base, token)
}

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
        crate::error::push_escaped_token(token, &mut self.tokens);
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

// ---------------------------------------------------------------------------
// Non-recursive clone and drop

/// Clones a value without recursion (serde_json's `Clone` recurses per level).
fn deep_clone(value: &Value) -> Value {
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

fn clone_object(map: &Object) -> Object {
    map.iter()
        .map(|(k, v)| (k.clone(), deep_clone(v)))
        .collect()
}

/// Drops a value without recursion (serde_json's `Drop` recurses per level).
fn discard(value: Value) {
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
fn distribute(value: Value, n: usize) -> Vec<Value> {
    if n == 0 {
        discard(value);
        return Vec::new();
    }
    let mut out: Vec<Value> = (1..n).map(|_| deep_clone(&value)).collect();
    out.push(value);
    out
}

fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

// ---------------------------------------------------------------------------
// Walking an OpenAPI 3.0 document

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
struct Loc<'p> {
    pointers: &'p Pointers,
    index: usize,
}

impl Loc<'_> {
    fn pointer(&self) -> String {
        self.pointers.render(self.index)
    }

    fn at(&self, key: &str) -> String {
        push_token(&self.pointer(), key)
    }
}

struct Walk<'a, 'w> {
    pointers: Pointers,
    pending: Vec<Item<'a>>,
    warnings: &'w mut Vec<UpgradeError>,
}

impl<'a> Walk<'a, '_> {
    fn warn(&mut self, ptr: usize, message: String) {
        if self.warnings.len() >= MAX_WARNINGS {
            return;
        }
        let pointer = self.pointers.render(ptr);
        self.warnings.push(UpgradeError::new(pointer, message));
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
fn walk_document<F>(root: &mut Object, warnings: &mut Vec<UpgradeError>, mut visit: F)
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
                match key.as_str() {
                    "properties" | "patternProperties" | "definitions" | "$defs"
                    | "dependentSchemas" => walk.entries(child, ptr, key, Kind::Schema, false),
                    "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                        walk.elements(child, ptr, key, Kind::Schema);
                    }
                    "items" if child.is_array() => walk.elements(child, ptr, key, Kind::Schema),
                    "items"
                    | "additionalProperties"
                    | "additionalItems"
                    | "not"
                    | "contains"
                    | "propertyNames"
                    | "if"
                    | "then"
                    | "else"
                    | "unevaluatedItems"
                    | "unevaluatedProperties"
                    | "contentSchema" => {
                        walk.one(child, ptr, key, Kind::Schema);
                    }
                    _ => {}
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

// ---------------------------------------------------------------------------
// OpenAPI 3.2 -> the 3.1 shape

/// The prefix of references to reusable Media Type Objects (new in 3.2).
const MEDIA_TYPE_REF: &str = "#/components/mediaTypes/";

fn upgrade_32(doc: &mut Value, warnings: &mut Vec<UpgradeError>) -> Result<(), UpgradeError> {
    if !doc.is_object() {
        return Err(root_error(doc));
    }
    // Usually done before bundling (see `apply_self`); a no-op the second time.
    apply_self(doc);
    let media_types = doc
        .pointer("/components/mediaTypes")
        .and_then(Value::as_object)
        .map(clone_object);
    // One pass over every object: media type references are inlined, and 3.2's `cookie`
    // style (the `form` style with `; ` between pairs, which is how cookies are sent anyway)
    // becomes `form`.
    let mut stack: Vec<(&mut Value, String, bool)> = vec![(doc, String::new(), false)];
    while let Some((value, pointer, in_content)) = stack.pop() {
        match value {
            Value::Object(map) => {
                // `map` is a `content` map: its members are Media Type Objects.
                for (media, member) in map.iter_mut().filter(|_| in_content) {
                    let Value::Object(media_type) = member else {
                        continue;
                    };
                    let Some(Value::String(reference)) = media_type.get("$ref") else {
                        continue;
                    };
                    let Some(name) = reference.strip_prefix(MEDIA_TYPE_REF) else {
                        continue;
                    };
                    match inline_media_type(media_types.as_ref(), &decode_token(name)) {
                        Some(target) => *media_type = target,
                        None if warnings.len() < MAX_WARNINGS => {
                            warnings.push(UpgradeError::new(
                                push_token(&push_token(&pointer, media), "$ref"),
                                format!(
                                    "`{reference}` names no media type of `components/mediaTypes`"
                                ),
                            ));
                        }
                        None => {}
                    }
                }
                if map.get("in").and_then(Value::as_str) == Some("cookie")
                    && map.get("style").and_then(Value::as_str) == Some("cookie")
                {
                    map.insert("style".to_owned(), Value::String("form".to_owned()));
                }
                for (key, child) in map.iter_mut() {
                    if child.is_object() || child.is_array() {
                        let here = push_token(&pointer, key);
                        stack.push((child, here, key == "content"));
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    if child.is_object() || child.is_array() {
                        stack.push((child, push_token(&pointer, &i.to_string()), false));
                    }
                }
            }
            _ => {}
        }
    }
    if let Value::Object(root) = doc {
        root.remove("$self");
    }
    Ok(())
}

/// The media type `name` of `components/mediaTypes`, its own reference chain followed.
fn inline_media_type(media_types: Option<&Object>, name: &str) -> Option<Object> {
    let media_types = media_types?;
    let mut current = name.to_owned();
    for _ in 0..16 {
        let target = media_types.get(&current)?.as_object()?;
        match target.get("$ref").and_then(Value::as_str) {
            Some(next) => current = decode_token(next.strip_prefix(MEDIA_TYPE_REF)?),
            None => return Some(clone_object(target)),
        }
    }
    None
}

/// OpenAPI 3.2's `$self` names the document's own URI, the base its relative references
/// resolve against. A document is read from a file whose name need not match it, so every
/// `$ref` is rewritten to what the file-based stages expect: one that resolves to the document
/// itself becomes a local `#...` reference; one that resolves into `$self`'s folder (or below
/// it) becomes a path relative to this file, where the same files sit; any other becomes the
/// absolute URI it resolves to (remote, so fetched only when remote references are allowed).
/// Nothing happens without a string `$self`. Call it before bundling.
pub fn apply_self(doc: &mut Value) {
    let Some(base) = doc.get("$self").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let base = base.split('#').next().unwrap_or_default().to_owned();
    let folder = match base.rfind('/') {
        Some(i) => base[..=i].to_owned(),
        None => String::new(),
    };
    let mut stack = vec![doc];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get_mut("$ref")
                    && !reference.starts_with('#')
                {
                    let (target, fragment) = match reference.split_once('#') {
                        Some((t, f)) => (t.to_owned(), format!("#{f}")),
                        None => (reference.clone(), String::new()),
                    };
                    let resolved = resolve_uri(&base, &target);
                    *reference = if resolved == base {
                        if fragment.is_empty() {
                            "#".to_owned()
                        } else {
                            fragment
                        }
                    } else if let Some(rest) =
                        resolved.strip_prefix(&folder).filter(|r| !r.is_empty())
                    {
                        format!("{rest}{fragment}")
                    } else {
                        format!("{resolved}{fragment}")
                    };
                }
                stack.extend(map.values_mut().filter(|v| v.is_object() || v.is_array()));
            }
            Value::Array(items) => {
                stack.extend(items.iter_mut().filter(|v| v.is_object() || v.is_array()));
            }
            _ => {}
        }
    }
}

/// Resolves the URI reference `reference` (no fragment) against `base` (RFC 3986, section
/// 5.2, for the forms references take: absolute, network-path, absolute-path and relative).
fn resolve_uri(base: &str, reference: &str) -> String {
    if reference.is_empty() {
        return base.to_owned();
    }
    let has_scheme = |text: &str| {
        text.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
    };
    if has_scheme(reference) {
        return normalize_dots(reference);
    }
    // `scheme:` and `scheme://authority` of the base, when it has them.
    let scheme_end = if has_scheme(base) {
        base.find(':').map_or(0, |i| i + 1)
    } else {
        0
    };
    let origin_end = match base[scheme_end..].strip_prefix("//") {
        Some(rest) => scheme_end + 2 + rest.find('/').unwrap_or(rest.len()),
        None => scheme_end,
    };
    if let Some(rest) = reference.strip_prefix("//") {
        return format!("{}//{}", &base[..scheme_end], normalize_dots(rest));
    }
    let (origin, path) = base.split_at(origin_end);
    let path = path.split('?').next().unwrap_or_default();
    let merged = if reference.starts_with('/') {
        reference.to_owned()
    } else {
        let folder = match path.rfind('/') {
            Some(i) => &path[..=i],
            None if origin.is_empty() => "",
            None => "/",
        };
        format!("{folder}{reference}")
    };
    format!("{origin}{}", normalize_dots(&merged))
}

/// Removes `.` and `..` segments from a path (RFC 3986, section 5.2.4).
fn normalize_dots(path: &str) -> String {
    let (prefix, path) = match path.find("://") {
        Some(i) => {
            let after = i + 3;
            let end = path[after..].find('/').map_or(path.len(), |j| after + j);
            path.split_at(end)
        }
        None => ("", path),
    };
    let absolute = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > usize::from(absolute) {
                    out.pop();
                } else if !absolute {
                    out.push("..");
                }
                if last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    format!("{prefix}{}", out.join("/"))
}

// ---------------------------------------------------------------------------
// OpenAPI 3.0 -> 3.1

fn upgrade_30_to_31(doc: &mut Value, warnings: &mut Vec<UpgradeError>) -> Result<(), UpgradeError> {
    let Value::Object(root) = doc else {
        return Err(root_error(doc));
    };
    root.insert("openapi".to_owned(), Value::String("3.1.0".to_owned()));
    walk_document(root, warnings, visit_31);
    Ok(())
}

fn visit_31(schema: &mut Object, loc: &Loc<'_>, warnings: &mut Vec<UpgradeError>) -> bool {
    // Most schemas hold none of the keywords rewritten below: one look at the keys (a few, in
    // general) is cheaper than a hashed lookup for each keyword.
    let rewritten = |k: &String| {
        matches!(
            k.as_str(),
            "$ref" | "exclusiveMinimum" | "exclusiveMaximum" | "example" | "format" | "nullable"
        )
    };
    if !schema.keys().any(rewritten) {
        return false;
    }
    // In 3.0 the siblings of `$ref` are ignored; in 3.1 they would start to count (and some
    // documents put invalid values there). Keep only the annotations 3.1 allows beside a ref.
    if schema.contains_key("$ref") {
        schema.retain(|k, _| {
            matches!(k.as_str(), "$ref" | "description" | "summary" | "nullable")
                || k.starts_with("x-")
        });
    }
    convert_exclusive_bound(schema, "exclusiveMinimum", "minimum", loc, warnings);
    convert_exclusive_bound(schema, "exclusiveMaximum", "maximum", loc, warnings);
    convert_example(schema, loc, warnings);
    annotate_content_format(schema);
    // Last, because wrapping moves the keywords the steps above rewrite.
    convert_nullable(schema, loc, warnings)
}

fn convert_exclusive_bound(
    schema: &mut Object,
    flag: &str,
    bound: &str,
    loc: &Loc<'_>,
    warnings: &mut Vec<UpgradeError>,
) {
    match schema.get(flag) {
        Some(Value::Bool(true)) => match schema.get(bound) {
            Some(Value::Number(_)) => {
                if let Some(limit) = schema.shift_remove(bound) {
                    schema.insert(flag.to_owned(), limit);
                }
            }
            Some(other) => warn_at(warnings, loc, bound, expected("a number", other)),
            None => {
                schema.shift_remove(flag);
                warn_at(
                    warnings,
                    loc,
                    flag,
                    format!("`{flag}: true` without `{bound}` has no effect; dropped"),
                );
            }
        },
        Some(Value::Bool(false)) => {
            schema.shift_remove(flag);
        }
        Some(Value::Number(_)) | None => {}
        Some(other) => warn_at(
            warnings,
            loc,
            flag,
            expected("a boolean or a number", other),
        ),
    }
}

fn convert_example(schema: &mut Object, loc: &Loc<'_>, warnings: &mut Vec<UpgradeError>) {
    let Some(position) = schema.keys().position(|k| k == "example") else {
        return;
    };
    match schema.get("examples") {
        None => {
            if let Some(example) = schema.shift_remove("example") {
                let position = position.min(schema.len());
                schema.shift_insert(position, "examples".to_owned(), Value::Array(vec![example]));
            }
        }
        Some(Value::Array(_)) => {
            if let Some(example) = schema.shift_remove("example")
                && let Some(Value::Array(list)) = schema.get_mut("examples")
            {
                list.push(example);
            }
        }
        // `example` is still allowed (deprecated) in 3.1, so keeping it loses nothing.
        Some(other) => warn_at(
            warnings,
            loc,
            "examples",
            format!(
                "{}; `example` was left in place",
                expected("an array", other)
            ),
        ),
    }
}

fn annotate_content_format(schema: &mut Object) {
    let (key, value) = match schema.get("format").and_then(Value::as_str) {
        Some("binary") => ("contentMediaType", "application/octet-stream"),
        Some("base64") => ("contentEncoding", "base64"),
        _ => return,
    };
    if !schema.contains_key(key) {
        schema.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

fn convert_nullable(schema: &mut Object, loc: &Loc<'_>, warnings: &mut Vec<UpgradeError>) -> bool {
    match schema.shift_remove("nullable") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => make_nullable(schema, loc, warnings),
        Some(other) => {
            warn_at(
                warnings,
                loc,
                "nullable",
                format!("{}; dropped", expected("a boolean", &other)),
            );
            discard(other);
            false
        }
    }
}

const COMPOSITION_KEYWORDS: [&str; 5] = ["$ref", "allOf", "anyOf", "oneOf", "not"];

/// Annotations describe the whole value, null included, so they stay on the
/// outer schema when it is wrapped.
const ANNOTATION_KEYWORDS: [&str; 11] = [
    "title",
    "description",
    "default",
    "examples",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
    "externalDocs",
    "xml",
    "$comment",
];

fn make_nullable(schema: &mut Object, loc: &Loc<'_>, warnings: &mut Vec<UpgradeError>) -> bool {
    if COMPOSITION_KEYWORDS.iter().any(|k| schema.contains_key(*k)) {
        // A referenced or combined subschema rejects null by itself, so adding
        // "null" to a sibling `type` would not make the whole schema accept null.
        let original = std::mem::take(schema);
        let mut inner = Object::new();
        for (key, value) in original {
            if ANNOTATION_KEYWORDS.contains(&key.as_str()) || key.starts_with("x-") {
                schema.insert(key, value);
            } else {
                inner.insert(key, value);
            }
        }
        let null_schema = object([("type", Value::String("null".to_owned()))]);
        schema.insert(
            "anyOf".to_owned(),
            Value::Array(vec![Value::Object(inner), null_schema]),
        );
        return true;
    }
    // Without `type` the schema already admits null, unless an enum says otherwise.
    if let Some(slot) = schema.get_mut("type") {
        match slot {
            Value::String(name) if name != "null" => {
                let name = std::mem::take(name);
                *slot = Value::Array(vec![Value::String(name), Value::String("null".to_owned())]);
            }
            Value::String(_) => {}
            Value::Array(types) => {
                if !types.iter().any(|t| t.as_str() == Some("null")) {
                    types.push(Value::String("null".to_owned()));
                }
            }
            other => warn_at(
                warnings,
                loc,
                "type",
                expected("a string or an array", other),
            ),
        }
    }
    match schema.get_mut("enum") {
        Some(Value::Array(values)) if !values.iter().any(Value::is_null) => {
            values.push(Value::Null);
        }
        Some(Value::Array(_)) | None => {}
        Some(other) => warn_at(warnings, loc, "enum", expected("an array", other)),
    }
    false
}

// ---------------------------------------------------------------------------
// Swagger 2.0 -> OpenAPI 3.0

const SWAGGER_METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Fields of a Swagger non-body parameter or header that OpenAPI 3 moves into `schema`.
const SCHEMA_FIELDS: [&str; 16] = [
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
];

fn upgrade_swagger2(doc: &mut Value, warnings: &mut Vec<UpgradeError>) -> Result<(), UpgradeError> {
    let Value::Object(root) = doc else {
        return Err(root_error(doc));
    };
    let body_params = {
        let mut swagger = Swagger::new(root, warnings);
        let mut components = match root.shift_remove("components") {
            Some(Value::Object(existing)) => existing,
            Some(other) => {
                swagger.warn("/components", expected("an object", &other));
                discard(other);
                Object::new()
            }
            None => Object::new(),
        };
        swagger.build_components(root, &mut components);
        match root.get_mut("paths") {
            Some(Value::Object(paths)) => {
                for (path, item) in paths.iter_mut() {
                    if path.starts_with("x-") {
                        continue;
                    }
                    let ptr = push_token("/paths", path);
                    match item {
                        Value::Object(item) => swagger.upgrade_path_item(item, &ptr),
                        other => swagger.warn(ptr, expected("an object", other)),
                    }
                }
            }
            Some(other) => swagger.warn("/paths", expected("an object", other)),
            None => {}
        }
        let servers = swagger.servers();
        reorder_root(root, servers, components);
        discard(Value::Object(std::mem::take(&mut swagger.form_params)));
        std::mem::take(&mut swagger.body_params)
    };
    walk_document(root, warnings, |schema, loc, warnings| {
        visit_swagger_schema(schema, loc, warnings, &body_params)
    });
    Ok(())
}

/// Puts `openapi` where `swagger` was and `servers` after `info`, so the
/// output reads like a hand-written 3.0 document.
fn reorder_root(root: &mut Object, servers: Value, components: Object) {
    let old = std::mem::take(root);
    let mut servers = Some(servers);
    for (key, value) in old {
        if key == "swagger" {
            discard(value);
            root.insert("openapi".to_owned(), Value::String("3.0.3".to_owned()));
            continue;
        }
        let is_info = key == "info";
        root.insert(key, value);
        if is_info && let Some(servers) = servers.take() {
            root.insert("servers".to_owned(), servers);
        }
    }
    if let Some(servers) = servers {
        root.insert("servers".to_owned(), servers);
    }
    if !components.is_empty() {
        root.insert("components".to_owned(), Value::Object(components));
    }
}

fn visit_swagger_schema(
    schema: &mut Object,
    loc: &Loc<'_>,
    warnings: &mut Vec<UpgradeError>,
    body_params: &HashSet<String>,
) -> bool {
    if let Some(Value::String(reference)) = schema.get_mut("$ref")
        && let Some(rewritten) = rewrite_ref(reference, body_params)
    {
        *reference = rewritten;
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".to_owned(), Value::String("string".to_owned()));
        schema.insert("format".to_owned(), Value::String("binary".to_owned()));
    }
    match schema.get("x-nullable") {
        Some(Value::Bool(nullable)) => {
            let nullable = *nullable;
            schema.shift_remove("x-nullable");
            if nullable && !schema.contains_key("nullable") {
                schema.insert("nullable".to_owned(), Value::Bool(true));
            }
        }
        Some(other) => warn_at(warnings, loc, "x-nullable", expected("a boolean", other)),
        None => {}
    }
    if let Some(Value::String(property)) = schema.get_mut("discriminator") {
        let property = std::mem::take(property);
        schema.insert(
            "discriminator".to_owned(),
            object([("propertyName", Value::String(property))]),
        );
    }
    false
}

/// Rewrites the fragment of a Swagger `$ref` to its OpenAPI 3 location, for
/// local and external references alike. Returns `None` when nothing changes.
fn rewrite_ref(reference: &str, body_params: &HashSet<String>) -> Option<String> {
    let (file, fragment) = reference.split_once('#')?;
    let mapped = if let Some(rest) = fragment.strip_prefix("/definitions/") {
        format!("/components/schemas/{rest}")
    } else if let Some(rest) = fragment.strip_prefix("/parameters/") {
        // Only local body parameters are known; an external file is not read.
        let name = decode_token(rest.split('/').next().unwrap_or(rest));
        if file.is_empty() && body_params.contains(&name) {
            format!("/components/requestBodies/{rest}")
        } else {
            format!("/components/parameters/{rest}")
        }
    } else if let Some(rest) = fragment.strip_prefix("/responses/") {
        format!("/components/responses/{rest}")
    } else {
        return None;
    };
    Some(format!("{file}#{mapped}"))
}

/// The name a `#/parameters/NAME` reference points at, if it is local and direct.
fn local_parameter_name(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix("#/parameters/")?;
    (!rest.contains('/')).then(|| decode_token(rest))
}

/// Undoes URI percent-encoding and then RFC 6901 escaping of a fragment token.
fn decode_token(token: &str) -> String {
    let bytes = token.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = |offset: usize| {
            bytes
                .get(i + offset)
                .and_then(|b| char::from(*b).to_digit(16))
        };
        match (byte, hex(1), hex(2)) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits are at most 255, so the cast is lossless.
                decoded.push((high * 16 + low) as u8);
                i += 3;
            }
            _ => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    let text = String::from_utf8(decoded).unwrap_or_else(|_| token.to_owned());
    text.replace("~1", "/").replace("~0", "~")
}

enum BodyParam {
    Inline(Object, String),
    Ref(String),
}

impl BodyParam {
    fn copy(&self) -> Self {
        match self {
            Self::Inline(param, ptr) => Self::Inline(clone_object(param), ptr.clone()),
            Self::Ref(reference) => Self::Ref(reference.clone()),
        }
    }

    fn discard(self) {
        if let Self::Inline(param, _) = self {
            discard(Value::Object(param));
        }
    }
}

/// Body and formData parameters pulled out of a parameter list; both become a `requestBody`.
#[derive(Default)]
struct Extracted {
    body: Option<BodyParam>,
    forms: Vec<(Object, String)>,
}

impl Extracted {
    fn is_empty(&self) -> bool {
        self.body.is_none() && self.forms.is_empty()
    }

    fn discard_forms(&mut self) {
        for (field, _) in self.forms.drain(..) {
            discard(Value::Object(field));
        }
    }

    fn discard(mut self) {
        self.discard_forms();
        if let Some(body) = self.body.take() {
            body.discard();
        }
    }
}

enum Classified {
    Body(BodyParam),
    Form(Object, String),
    Other(Value),
}

struct Swagger<'w> {
    consumes: Vec<String>,
    produces: Vec<String>,
    host: Option<String>,
    base_path: String,
    schemes: Vec<String>,
    body_params: HashSet<String>,
    form_params: Object,
    known_params: HashSet<String>,
    warnings: &'w mut Vec<UpgradeError>,
}

impl<'w> Swagger<'w> {
    /// Takes the root fields that have no place in 3.0 and only feed the conversion.
    fn new(root: &mut Object, warnings: &'w mut Vec<UpgradeError>) -> Self {
        let mut swagger = Self {
            consumes: Vec::new(),
            produces: Vec::new(),
            host: None,
            base_path: "/".to_owned(),
            schemes: Vec::new(),
            body_params: HashSet::new(),
            form_params: Object::new(),
            known_params: HashSet::new(),
            warnings,
        };
        match root.shift_remove("host") {
            Some(Value::String(host)) => swagger.host = Some(host),
            Some(other) => {
                swagger.warn(
                    "/host",
                    format!("{}; ignored", expected("a string", &other)),
                );
                discard(other);
            }
            None => {}
        }
        match root.shift_remove("basePath") {
            Some(Value::String(base)) => swagger.base_path = base,
            Some(other) => {
                swagger.warn(
                    "/basePath",
                    format!("{}; ignored", expected("a string", &other)),
                );
                discard(other);
            }
            None => {}
        }
        swagger.schemes = swagger
            .string_list(root, "schemes", "")
            .unwrap_or_else(|| vec!["https".to_owned()]);
        swagger.consumes = swagger
            .string_list(root, "consumes", "")
            .unwrap_or_else(|| vec!["application/json".to_owned()]);
        swagger.produces = swagger
            .string_list(root, "produces", "")
            .unwrap_or_else(|| vec!["application/json".to_owned()]);
        swagger
    }

    fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(UpgradeError::new(pointer, message));
        }
    }

    /// Removes `key` and returns its strings; `None` when absent, invalid or
    /// empty, so callers fall back to the next level of defaults.
    fn string_list(&mut self, obj: &mut Object, key: &str, base: &str) -> Option<Vec<String>> {
        let ptr = push_token(base, key);
        match obj.shift_remove(key)? {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s),
                        other => {
                            self.warn(
                                format!("{ptr}/{i}"),
                                format!("{}; ignored", expected("a string", &other)),
                            );
                            discard(other);
                        }
                    }
                }
                (!out.is_empty()).then_some(out)
            }
            other => {
                self.warn(ptr, format!("{}; ignored", expected("an array", &other)));
                discard(other);
                None
            }
        }
    }

    fn servers(&mut self) -> Value {
        if let Some(host) = &self.host
            && host.contains("://")
        {
            self.warnings.push(UpgradeError::new(
                "/host",
                "host should not include a scheme; used as given",
            ));
        }
        let urls = server_urls(self.host.as_deref(), &self.base_path, &self.schemes);
        Value::Array(
            urls.into_iter()
                .map(|url| object([("url", Value::String(url))]))
                .collect(),
        )
    }

    /// Takes an object-valued root field; anything else is left in place.
    fn take_object(&mut self, root: &mut Object, key: &str) -> Option<Object> {
        match root.get(key)? {
            Value::Object(_) => match root.shift_remove(key) {
                Some(Value::Object(map)) => Some(map),
                _ => None,
            },
            other => {
                let message = expected("an object", other);
                self.warn(push_token("", key), message);
                None
            }
        }
    }

    fn build_components(&mut self, root: &mut Object, components: &mut Object) {
        if let Some(definitions) = self.take_object(root, "definitions") {
            components.insert("schemas".to_owned(), Value::Object(definitions));
        }
        if let Some(params) = self.take_object(root, "parameters") {
            self.global_parameters(params, components);
        }
        if let Some(mut responses) = self.take_object(root, "responses") {
            let produces = self.produces.clone();
            for (name, response) in responses.iter_mut() {
                let ptr = push_token("/responses", name);
                match response {
                    Value::Object(response) => self.convert_response(response, &produces, &ptr),
                    other => self.warn(ptr, expected("an object", other)),
                }
            }
            components.insert("responses".to_owned(), Value::Object(responses));
        }
        if let Some(mut schemes) = self.take_object(root, "securityDefinitions") {
            for (name, scheme) in schemes.iter_mut() {
                let ptr = push_token("/securityDefinitions", name);
                match scheme {
                    Value::Object(scheme) => self.convert_security_scheme(scheme, &ptr),
                    other => self.warn(ptr, expected("an object", other)),
                }
            }
            components.insert("securitySchemes".to_owned(), Value::Object(schemes));
        }
    }

    fn global_parameters(&mut self, params: Object, components: &mut Object) {
        // Classified up front because any parameter may be referenced before it is converted.
        for (name, param) in &params {
            self.known_params.insert(name.clone());
            if param.get("in").and_then(Value::as_str) == Some("body") {
                self.body_params.insert(name.clone());
            }
        }
        let consumes = self.consumes.clone();
        let mut parameters = Object::new();
        let mut request_bodies = Object::new();
        for (name, param) in params {
            let ptr = push_token("/parameters", &name);
            let Value::Object(mut param) = param else {
                self.warn(&ptr, expected("an object", &param));
                parameters.insert(name, param);
                continue;
            };
            if let Some(Value::String(reference)) = param.get_mut("$ref") {
                if let Some(rewritten) = rewrite_ref(reference, &self.body_params) {
                    *reference = rewritten;
                }
                parameters.insert(name, Value::Object(param));
                continue;
            }
            match param.get("in").and_then(Value::as_str) {
                Some("body") => {
                    let body = self.json_request_body(param, &consumes, &ptr);
                    request_bodies.insert(name, body);
                }
                // A form field is not a parameter in 3.0; references to it are inlined.
                Some("formData") => {
                    self.form_params.insert(name, Value::Object(param));
                }
                Some(location) => {
                    let location = location.to_owned();
                    self.move_into_schema(&mut param, &location, &ptr);
                    parameters.insert(name, Value::Object(param));
                }
                None => {
                    self.warn(&ptr, "parameter has no `in` location; left as-is");
                    parameters.insert(name, Value::Object(param));
                }
            }
        }
        if !parameters.is_empty() {
            components.insert("parameters".to_owned(), Value::Object(parameters));
        }
        if !request_bodies.is_empty() {
            components.insert("requestBodies".to_owned(), Value::Object(request_bodies));
        }
    }

    fn upgrade_path_item(&mut self, item: &mut Object, ptr: &str) {
        if let Some(Value::String(reference)) = item.get_mut("$ref")
            && let Some(rewritten) = rewrite_ref(reference, &self.body_params)
        {
            *reference = rewritten;
        }
        let params_ptr = push_token(ptr, "parameters");
        let mut shared = Extracted::default();
        if let Some(params) = item.get_mut("parameters") {
            self.extract_parameters(params, &params_ptr, &mut shared);
        }
        remove_if_empty_array(item, "parameters");
        if shared.body.is_some() && !shared.forms.is_empty() {
            self.warn(
                &params_ptr,
                "a body parameter and formData parameters cannot be combined; the formData parameters were dropped",
            );
            shared.discard_forms();
        }
        let mut any_operation = false;
        for (method, operation) in item.iter_mut() {
            if !SWAGGER_METHODS.contains(&method.as_str()) {
                continue;
            }
            let op_ptr = push_token(ptr, method);
            match operation {
                Value::Object(operation) => {
                    any_operation = true;
                    self.upgrade_operation(operation, &op_ptr, &shared);
                }
                other => self.warn(op_ptr, expected("an object", other)),
            }
        }
        if !any_operation && !shared.is_empty() {
            self.warn(
                &params_ptr,
                "path-level body or formData parameters apply to no operation; dropped",
            );
        }
        shared.discard();
    }

    /// Converts non-body parameters in place and moves body/formData ones into `out`.
    fn extract_parameters(&mut self, params: &mut Value, ptr: &str, out: &mut Extracted) {
        let Value::Array(list) = params else {
            self.warn(ptr, expected("an array", params));
            return;
        };
        for (i, param) in std::mem::take(list).into_iter().enumerate() {
            let param_ptr = format!("{ptr}/{i}");
            match self.classify(param, &param_ptr) {
                Classified::Body(body) => {
                    if out.body.is_some() {
                        self.warn(
                            &param_ptr,
                            "only one body parameter is allowed; this one was dropped",
                        );
                        body.discard();
                    } else {
                        out.body = Some(body);
                    }
                }
                Classified::Form(field, field_ptr) => out.forms.push((field, field_ptr)),
                Classified::Other(value) => list.push(value),
            }
        }
    }

    fn classify(&mut self, param: Value, ptr: &str) -> Classified {
        let Value::Object(mut param) = param else {
            self.warn(ptr, expected("an object", &param));
            return Classified::Other(param);
        };
        if let Some(reference) = param.get("$ref") {
            let ref_ptr = push_token(ptr, "$ref");
            let Value::String(reference) = reference else {
                let message = expected("a string", reference);
                self.warn(ref_ptr, message);
                return Classified::Other(Value::Object(param));
            };
            let reference = reference.clone();
            let rewritten = rewrite_ref(&reference, &self.body_params);
            if let Some(name) = local_parameter_name(&reference) {
                if self.body_params.contains(&name) {
                    discard(Value::Object(param));
                    return Classified::Body(BodyParam::Ref(rewritten.unwrap_or(reference)));
                }
                if let Some(field) = self.form_params.get(&name).and_then(Value::as_object) {
                    let field = clone_object(field);
                    discard(Value::Object(param));
                    return Classified::Form(field, push_token("/parameters", &name));
                }
                if !self.known_params.contains(&name) {
                    self.warn(&ref_ptr, format!("refers to undefined parameter {name:?}"));
                }
            } else if !reference.starts_with('#') && reference.contains("#/parameters/") {
                self.warn(
                    &ref_ptr,
                    "cannot tell whether this external parameter is a body parameter; assumed it is not",
                );
            }
            if let Some(rewritten) = rewritten {
                param.insert("$ref".to_owned(), Value::String(rewritten));
            }
            return Classified::Other(Value::Object(param));
        }
        match param.get("in").and_then(Value::as_str) {
            Some("body") => Classified::Body(BodyParam::Inline(param, ptr.to_owned())),
            Some("formData") => Classified::Form(param, ptr.to_owned()),
            Some(location) => {
                let location = location.to_owned();
                self.move_into_schema(&mut param, &location, ptr);
                Classified::Other(Value::Object(param))
            }
            None => {
                self.warn(ptr, "parameter has no `in` location; left as-is");
                Classified::Other(Value::Object(param))
            }
        }
    }

    fn upgrade_operation(&mut self, operation: &mut Object, ptr: &str, shared: &Extracted) {
        let consumes = self
            .string_list(operation, "consumes", ptr)
            .unwrap_or_else(|| self.consumes.clone());
        let produces = self
            .string_list(operation, "produces", ptr)
            .unwrap_or_else(|| self.produces.clone());
        self.operation_servers(operation, ptr);

        let params_ptr = push_token(ptr, "parameters");
        let mut own = Extracted::default();
        if let Some(params) = operation.get_mut("parameters") {
            self.extract_parameters(params, &params_ptr, &mut own);
        }
        remove_if_empty_array(operation, "parameters");
        if own.body.is_some() && !own.forms.is_empty() {
            self.warn(
                &params_ptr,
                "a body parameter and formData parameters cannot be combined; the formData parameters were dropped",
            );
            own.discard_forms();
        }

        // Operation parameters override path-level ones, and a body excludes form fields.
        let body = match own.body.take() {
            Some(body) => Some(body),
            None if own.forms.is_empty() => shared.body.as_ref().map(BodyParam::copy),
            None => None,
        };
        let request_body = match body {
            Some(BodyParam::Ref(reference)) => Some(object([("$ref", Value::String(reference))])),
            Some(BodyParam::Inline(param, param_ptr)) => {
                Some(self.json_request_body(param, &consumes, &param_ptr))
            }
            None => {
                let own_names: HashSet<String> = own
                    .forms
                    .iter()
                    .filter_map(|(f, _)| field_name(f))
                    .collect();
                let mut fields: Vec<(Object, String)> = shared
                    .forms
                    .iter()
                    .filter(|(f, _)| field_name(f).is_none_or(|name| !own_names.contains(&name)))
                    .map(|(f, p)| (clone_object(f), p.clone()))
                    .collect();
                fields.append(&mut own.forms);
                (!fields.is_empty()).then(|| self.form_request_body(fields, &consumes))
            }
        };
        if let Some(request_body) = request_body {
            if operation.contains_key("requestBody") {
                self.warn(
                    push_token(ptr, "requestBody"),
                    "already present; the body built from parameters was dropped",
                );
                discard(request_body);
            } else {
                let keys = || operation.keys();
                let index = keys()
                    .position(|k| k == "parameters")
                    .map(|i| i + 1)
                    .or_else(|| keys().position(|k| k == "responses"))
                    .unwrap_or(operation.len());
                operation.shift_insert(index, "requestBody".to_owned(), request_body);
            }
        }

        let responses_ptr = push_token(ptr, "responses");
        match operation.get_mut("responses") {
            Some(Value::Object(responses)) => {
                for (code, response) in responses.iter_mut() {
                    if code.starts_with("x-") {
                        continue;
                    }
                    let response_ptr = push_token(&responses_ptr, code);
                    match response {
                        Value::Object(response) => {
                            self.convert_response(response, &produces, &response_ptr);
                        }
                        other => self.warn(response_ptr, expected("an object", other)),
                    }
                }
            }
            Some(other) => self.warn(responses_ptr, expected("an object", other)),
            None => {}
        }
    }

    /// Operation-level `schemes` override the global ones; 3.0 says that with operation `servers`.
    fn operation_servers(&mut self, operation: &mut Object, ptr: &str) {
        let Some(schemes) = self.string_list(operation, "schemes", ptr) else {
            return;
        };
        if schemes == self.schemes {
            return;
        }
        if self.host.is_none() {
            self.warn(
                push_token(ptr, "schemes"),
                "operation schemes need a host to form a server URL; dropped",
            );
            return;
        }
        let urls = server_urls(self.host.as_deref(), &self.base_path, &schemes);
        let servers = urls
            .into_iter()
            .map(|url| object([("url", Value::String(url))]))
            .collect();
        operation.insert("servers".to_owned(), Value::Array(servers));
    }

    fn json_request_body(&mut self, mut param: Object, consumes: &[String], ptr: &str) -> Value {
        let mut body = Object::new();
        if let Some(description) = param.shift_remove("description") {
            body.insert("description".to_owned(), description);
        }
        let schema = param.shift_remove("schema").unwrap_or_else(|| {
            self.warn(ptr, "body parameter has no schema; any content is accepted");
            Value::Object(Object::new())
        });
        let content = consumes
            .iter()
            .zip(distribute(schema, consumes.len()))
            .map(|(media_type, schema)| (media_type.clone(), object([("schema", schema)])))
            .collect();
        body.insert("content".to_owned(), Value::Object(content));
        if let Some(required) = param.shift_remove("required") {
            body.insert("required".to_owned(), required);
        }
        // 3.0 bodies are nameless; code generators use this extension to name the argument.
        if let Some(name) = param.get("name").and_then(Value::as_str) {
            body.insert(
                "x-codegen-request-body-name".to_owned(),
                Value::String(name.to_owned()),
            );
        }
        move_extensions(param, &mut body);
        Value::Object(body)
    }

    fn form_request_body(&mut self, fields: Vec<(Object, String)>, consumes: &[String]) -> Value {
        let mut properties = Object::new();
        let mut required = Vec::new();
        let mut encoding = Object::new();
        let mut any_file = false;
        for (mut field, ptr) in fields {
            let Some(name) = field_name(&field) else {
                self.warn(&ptr, "formData parameter has no name; dropped");
                discard(Value::Object(field));
                continue;
            };
            let mut schema = Object::new();
            if let Some(description) = field.shift_remove("description") {
                schema.insert("description".to_owned(), description);
            }
            schema.append(&mut self.extract_schema(&mut field, &ptr));
            if is_file(&schema) {
                schema.insert("type".to_owned(), Value::String("string".to_owned()));
                schema.insert("format".to_owned(), Value::String("binary".to_owned()));
                any_file = true;
            }
            if schema
                .get("items")
                .and_then(Value::as_object)
                .is_some_and(is_file)
            {
                any_file = true;
            }
            let collection_format = field.shift_remove("collectionFormat");
            if is_array(&schema) {
                let (style, explode) = self.collection_style(collection_format, "formData", &ptr);
                let mut entry = Object::new();
                entry.insert("style".to_owned(), Value::String(style.to_owned()));
                if let Some(explode) = explode {
                    entry.insert("explode".to_owned(), Value::Bool(explode));
                }
                encoding.insert(name.clone(), Value::Object(entry));
            } else if let Some(format) = collection_format {
                discard(format);
            }
            if field.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(Value::String(name.clone()));
            }
            if field.contains_key("allowEmptyValue") {
                self.warn(
                    push_token(&ptr, "allowEmptyValue"),
                    "allowEmptyValue has no equivalent for request body fields; dropped",
                );
            }
            move_extensions(field, &mut schema);
            properties.insert(name, Value::Object(schema));
        }
        let multipart = any_file
            || consumes
                .iter()
                .any(|m| m.starts_with("multipart/form-data"));
        let media_type = if multipart {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut schema = Object::new();
        schema.insert("type".to_owned(), Value::String("object".to_owned()));
        schema.insert("properties".to_owned(), Value::Object(properties));
        let any_required = !required.is_empty();
        if any_required {
            schema.insert("required".to_owned(), Value::Array(required));
        }
        let mut media = Object::new();
        media.insert("schema".to_owned(), Value::Object(schema));
        // 3.0 ignores style/explode for multipart, and its form default is explode: true,
        // unlike Swagger's csv default, so urlencoded arrays need it spelled out.
        if !multipart && !encoding.is_empty() {
            media.insert("encoding".to_owned(), Value::Object(encoding));
        }
        let mut body = Object::new();
        let mut content = Object::new();
        content.insert(media_type.to_owned(), Value::Object(media));
        body.insert("content".to_owned(), Value::Object(content));
        if any_required {
            body.insert("required".to_owned(), Value::Bool(true));
        }
        Value::Object(body)
    }

    /// Moves the type information of a non-body parameter or header into `schema`.
    fn move_into_schema(&mut self, target: &mut Object, location: &str, ptr: &str) {
        let schema = self.extract_schema(target, ptr);
        let collection_format = target.shift_remove("collectionFormat");
        if is_array(&schema) {
            let (style, explode) = self.collection_style(collection_format, location, ptr);
            target.insert("style".to_owned(), Value::String(style.to_owned()));
            if let Some(explode) = explode {
                target.insert("explode".to_owned(), Value::Bool(explode));
            }
        } else if let Some(format) = collection_format {
            discard(format);
        }
        target.insert("schema".to_owned(), Value::Object(schema));
    }

    fn extract_schema(&mut self, source: &mut Object, ptr: &str) -> Object {
        let mut schema = Object::new();
        for key in SCHEMA_FIELDS {
            if let Some(value) = source.shift_remove(key) {
                schema.insert(key.to_owned(), value);
            }
        }
        // Nullability belongs to the value, so it follows the type into the schema.
        if let Some(value) = source.shift_remove("x-nullable") {
            schema.insert("x-nullable".to_owned(), value);
        }
        let mut depth = 0;
        let mut warned = false;
        let mut current = schema.get_mut("items");
        while let Some(Value::Object(items)) = current {
            depth += 1;
            if let Some(format) = items.shift_remove("collectionFormat") {
                // Once per parameter: the pointer grows with depth, so more would be quadratic.
                if !warned {
                    warned = true;
                    self.warn(
                        format!("{ptr}{}/collectionFormat", "/items".repeat(depth)),
                        "collectionFormat of nested arrays has no OpenAPI 3 equivalent; dropped",
                    );
                }
                discard(format);
            }
            current = items.get_mut("items");
        }
        schema
    }

    /// Maps a Swagger collectionFormat to OpenAPI 3 `style`/`explode`.
    fn collection_style(
        &mut self,
        format: Option<Value>,
        location: &str,
        ptr: &str,
    ) -> (&'static str, Option<bool>) {
        let at = push_token(ptr, "collectionFormat");
        let format = match format {
            None => "csv".to_owned(),
            Some(Value::String(format)) => format,
            Some(other) => {
                self.warn(
                    &at,
                    format!("{}; treated as csv", expected("a string", &other)),
                );
                discard(other);
                "csv".to_owned()
            }
        };
        let query_like = matches!(location, "query" | "formData" | "cookie");
        let delimited_ok = matches!(location, "query" | "formData");
        let csv = if query_like {
            ("form", Some(false))
        } else {
            ("simple", None)
        };
        match format.as_str() {
            "csv" => csv,
            "multi" if query_like => ("form", Some(true)),
            "ssv" if delimited_ok => ("spaceDelimited", None),
            "pipes" if delimited_ok => ("pipeDelimited", None),
            "tsv" => {
                self.warn(&at, "tsv has no OpenAPI 3 equivalent; treated as csv");
                csv
            }
            "multi" | "ssv" | "pipes" => {
                self.warn(
                    &at,
                    format!("{format} is not supported for {location} values in OpenAPI 3; treated as csv"),
                );
                csv
            }
            other => {
                self.warn(
                    &at,
                    format!("unknown collectionFormat {other:?}; treated as csv"),
                );
                csv
            }
        }
    }

    fn convert_response(&mut self, response: &mut Object, produces: &[String], ptr: &str) {
        if let Some(reference) = response.get_mut("$ref") {
            if let Value::String(reference) = reference
                && let Some(rewritten) = rewrite_ref(reference, &self.body_params)
            {
                *reference = rewritten;
            }
            return;
        }
        let schema = response.shift_remove("schema");
        let examples = match response.shift_remove("examples") {
            Some(Value::Object(examples)) => examples,
            Some(other) => {
                self.warn(
                    push_token(ptr, "examples"),
                    format!(
                        "{}; dropped",
                        expected("an object keyed by media type", &other)
                    ),
                );
                discard(other);
                Object::new()
            }
            None => Object::new(),
        };
        let mut media_types: Vec<String> = produces.to_vec();
        for media_type in examples.keys() {
            if !media_types.contains(media_type) {
                media_types.push(media_type.clone());
            }
        }
        let mut content = Object::new();
        if let Some(schema) = schema {
            for (media_type, schema) in media_types
                .iter()
                .zip(distribute(schema, media_types.len()))
            {
                content.insert(media_type.clone(), object([("schema", schema)]));
            }
        }
        for (media_type, example) in examples {
            let entry = content
                .entry(media_type)
                .or_insert_with(|| Value::Object(Object::new()));
            if let Value::Object(entry) = entry {
                entry.insert("example".to_owned(), example);
            }
        }
        let headers_ptr = push_token(ptr, "headers");
        match response.get_mut("headers") {
            Some(Value::Object(headers)) => {
                for (name, header) in headers.iter_mut() {
                    let header_ptr = push_token(&headers_ptr, name);
                    match header {
                        Value::Object(header) => {
                            self.move_into_schema(header, "header", &header_ptr)
                        }
                        other => self.warn(header_ptr, expected("an object", other)),
                    }
                }
            }
            Some(other) => self.warn(headers_ptr, expected("an object", other)),
            None => {}
        }
        if !content.is_empty() {
            response.insert("content".to_owned(), Value::Object(content));
        }
    }

    fn convert_security_scheme(&mut self, scheme: &mut Object, ptr: &str) {
        match scheme.get("type").and_then(Value::as_str) {
            Some("basic") => {
                scheme.insert("type".to_owned(), Value::String("http".to_owned()));
                scheme.insert("scheme".to_owned(), Value::String("basic".to_owned()));
            }
            Some("apiKey") => {}
            Some("oauth2") => self.convert_oauth2(scheme, ptr),
            _ => self.warn(
                push_token(ptr, "type"),
                "unknown security scheme type; left as-is",
            ),
        }
    }

    fn convert_oauth2(&mut self, scheme: &mut Object, ptr: &str) {
        let (flow, needs_authorization, needs_token) =
            match scheme.get("flow").and_then(Value::as_str) {
                Some("implicit") => ("implicit", true, false),
                Some("password") => ("password", false, true),
                Some("application") => ("clientCredentials", false, true),
                Some("accessCode") => ("authorizationCode", true, true),
                _ => {
                    self.warn(push_token(ptr, "flow"), "unknown oauth2 flow; left as-is");
                    return;
                }
            };
        let mut flow_object = Object::new();
        let fields = [
            ("authorizationUrl", needs_authorization),
            ("tokenUrl", needs_token),
        ];
        for (field, needed) in fields {
            match scheme.shift_remove(field) {
                Some(url) if needed => {
                    flow_object.insert(field.to_owned(), url);
                }
                Some(unused) => discard(unused),
                None if needed => self.warn(
                    ptr,
                    format!("oauth2 flow {flow} requires {field}, which is missing"),
                ),
                None => {}
            }
        }
        // 3.0 makes `scopes` required, so an absent one becomes empty.
        let scopes = scheme
            .shift_remove("scopes")
            .unwrap_or_else(|| Value::Object(Object::new()));
        flow_object.insert("scopes".to_owned(), scopes);
        scheme.shift_remove("flow");
        scheme.insert(
            "flows".to_owned(),
            object([(flow, Value::Object(flow_object))]),
        );
    }
}

fn server_urls(host: Option<&str>, base_path: &str, schemes: &[String]) -> Vec<String> {
    // Paths are appended to the server URL, so a trailing slash would produce `//`.
    let trimmed = base_path.trim_end_matches('/');
    let path = if trimmed.is_empty() || trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    };
    match host {
        None if path.is_empty() => vec!["/".to_owned()],
        None => vec![path],
        Some(host) if host.contains("://") => vec![format!("{}{path}", host.trim_end_matches('/'))],
        Some(host) => {
            let host = host.trim_end_matches('/');
            schemes
                .iter()
                .map(|scheme| format!("{scheme}://{host}{path}"))
                .collect()
        }
    }
}

fn field_name(field: &Object) -> Option<String> {
    field.get("name").and_then(Value::as_str).map(str::to_owned)
}

fn is_file(schema: &Object) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("file")
}

fn is_array(schema: &Object) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("array")
}

fn remove_if_empty_array(obj: &mut Object, key: &str) {
    if obj
        .get(key)
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        obj.shift_remove(key);
    }
}

/// Keeps `x-` extensions of a consumed object; the rest of it has no 3.0 place.
fn move_extensions(source: Object, target: &mut Object) {
    for (key, value) in source {
        if key.starts_with("x-") {
            target.insert(key, value);
        } else {
            discard(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEEP: usize = 10_000;

    fn upgrade(mut doc: Value) -> (Value, Vec<UpgradeError>) {
        let (_, warnings) = upgrade_to_31(&mut doc).expect("upgrade should succeed");
        (doc, warnings)
    }

    fn swagger(extra: Value) -> Value {
        let mut doc = json!({
            "swagger": "2.0",
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

    fn openapi30(extra: Value) -> Value {
        let mut doc = json!({
            "openapi": "3.0.3",
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

    /// Built by moving `schemas` in, since `json!` would serialize (recursively) a deep value.
    fn schemas30(schemas: Value) -> Value {
        openapi30(single("components", single("schemas", schemas)))
    }

    fn has_warning(warnings: &[UpgradeError], pointer: &str, needle: &str) -> bool {
        warnings
            .iter()
            .any(|w| w.pointer == pointer && w.message.contains(needle))
    }

    #[track_caller]
    fn assert_warning(warnings: &[UpgradeError], pointer: &str, needle: &str) {
        assert!(
            has_warning(warnings, pointer, needle),
            "no warning at {pointer:?} containing {needle:?} in {warnings:#?}"
        );
    }

    fn single(key: &str, value: Value) -> Value {
        let mut map = Object::new();
        map.insert(key.to_owned(), value);
        Value::Object(map)
    }

    // ---- detect_version -------------------------------------------------

    #[test]
    fn detects_swagger_2_as_string_and_unquoted_number() {
        assert_eq!(
            detect_version(&json!({"swagger": "2.0"})),
            Ok(SourceVersion::Swagger2)
        );
        assert_eq!(
            detect_version(&json!({"swagger": 2.0})),
            Ok(SourceVersion::Swagger2)
        );
    }

    #[test]
    fn detects_openapi_30_and_31() {
        for v in ["3.0", "3.0.0", "3.0.3", "3.0.4-rc1"] {
            assert_eq!(
                detect_version(&json!({"openapi": v})),
                Ok(SourceVersion::OpenApi30),
                "{v}"
            );
        }
        for v in ["3.1", "3.1.0", "3.1.1"] {
            assert_eq!(
                detect_version(&json!({"openapi": v})),
                Ok(SourceVersion::OpenApi31),
                "{v}"
            );
        }
        for v in ["3.2", "3.2.0", "3.2.1"] {
            assert_eq!(
                detect_version(&json!({"openapi": v})),
                Ok(SourceVersion::OpenApi32),
                "{v}"
            );
        }
    }

    #[test]
    fn openapi_32_keeps_what_tools_need_and_inlines_media_types() {
        let mut doc = json!({
            "openapi": "3.2.0",
            "$self": "https://example.com/api/openapi.yaml",
            "tags": [{"name": "pets", "kind": "nav"}, {"name": "cats", "parent": "pets"}],
            "paths": {"/pets": {
                "query": {"requestBody": {"content": {
                    "application/json": {"$ref": "#/components/mediaTypes/Filter"}
                }}, "responses": {"200": {"description": "ok"}}},
                "additionalOperations": {"PURGE": {"responses": {"204": {"description": "gone"}}}},
                "get": {
                    "parameters": [
                        {"name": "q", "in": "querystring", "content": {
                            "application/x-www-form-urlencoded": {"schema": {"type": "object"}}
                        }},
                        {"name": "c", "in": "cookie", "style": "cookie", "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "ok", "content": {
                        "text/event-stream": {"itemSchema": {"$ref": "https://example.com/api/openapi.yaml#/components/schemas/Event"}}
                    }}}
                }
            }},
            "components": {
                "mediaTypes": {
                    "Filter": {"$ref": "#/components/mediaTypes/Plain"},
                    "Plain": {"schema": {"type": "object"}}
                },
                "schemas": {"Event": {"type": "object"}}
            }
        });
        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::OpenApi32);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(doc["openapi"], "3.2.0");
        assert!(doc.get("$self").is_none());
        let item = &doc["paths"]["/pets"];
        assert_eq!(
            item["query"]["requestBody"]["content"]["application/json"],
            json!({"schema": {"type": "object"}})
        );
        assert!(item["additionalOperations"]["PURGE"].is_object());
        assert_eq!(item["get"]["parameters"][0]["in"], "querystring");
        assert_eq!(item["get"]["parameters"][1]["style"], "form");
        assert_eq!(
            item["get"]["responses"]["200"]["content"]["text/event-stream"]["itemSchema"]["$ref"],
            "#/components/schemas/Event"
        );
        assert_eq!(doc["tags"][1]["parent"], "pets");
    }

    #[test]
    fn self_is_the_base_of_relative_references() {
        let mut doc = json!({
            "openapi": "3.2.0",
            "$self": "https://example.com/api/v1/openapi.yaml",
            "a": {"$ref": "openapi.yaml#/components/schemas/A"},
            "b": {"$ref": "schemas/b.yaml#/B"},
            "c": {"$ref": "../shared.yaml#/C"},
            "d": {"$ref": "https://example.com/api/v1/openapi.yaml"},
            "e": {"$ref": "/api/v1/./x/../y.yaml"},
            "f": {"$ref": "#/local"},
            "g": {"$ref": "https://other.example/z.yaml#/Z"}
        });
        apply_self(&mut doc);
        let r = |k: &str| doc[k]["$ref"].as_str().unwrap().to_owned();
        assert_eq!(r("a"), "#/components/schemas/A");
        assert_eq!(r("b"), "schemas/b.yaml#/B");
        assert_eq!(r("c"), "https://example.com/api/shared.yaml#/C");
        assert_eq!(r("d"), "#");
        assert_eq!(r("e"), "y.yaml");
        assert_eq!(r("f"), "#/local");
        assert_eq!(r("g"), "https://other.example/z.yaml#/Z");

        // A relative `$self` works the same way.
        let mut doc = json!({"$self": "/specs/api.yaml", "a": {"$ref": "api.yaml#/X"}, "b": {"$ref": "../b.yaml"}});
        apply_self(&mut doc);
        assert_eq!(doc["a"]["$ref"], "#/X");
        assert_eq!(doc["b"]["$ref"], "/b.yaml");
    }

    #[test]
    fn missing_version_is_an_error_at_the_root() {
        let err = detect_version(&json!({"info": {}})).unwrap_err();
        assert_eq!(err.pointer, "");
        assert!(err.message.contains("missing version"), "{err}");
    }

    #[test]
    fn unknown_openapi_version_names_what_was_found() {
        for v in ["4.0", "3.10.0", "3.", "2.0", "3.20.0", "3.3.0"] {
            let err = detect_version(&json!({"openapi": v})).unwrap_err();
            assert_eq!(err.pointer, "/openapi");
            assert!(err.message.contains(&format!("{v:?}")), "{err}");
        }
        let err = detect_version(&json!({"openapi": 3.1})).unwrap_err();
        assert_eq!(err.pointer, "/openapi");
        assert!(err.message.contains("found a number"), "{err}");
    }

    #[test]
    fn unknown_swagger_version_names_what_was_found() {
        let err = detect_version(&json!({"swagger": "1.2"})).unwrap_err();
        assert_eq!(err.pointer, "/swagger");
        assert!(err.message.contains("\"1.2\""), "{err}");
        let err = detect_version(&json!({"swagger": 3})).unwrap_err();
        assert!(err.message.contains('3'), "{err}");
        let err = detect_version(&json!({"swagger": ["2.0"]})).unwrap_err();
        assert!(err.message.contains("found an array"), "{err}");
    }

    #[test]
    fn both_version_fields_are_ambiguous() {
        let err = detect_version(&json!({"swagger": "2.0", "openapi": "3.0.0"})).unwrap_err();
        assert_eq!(err.pointer, "");
        assert!(err.message.contains("ambiguous"), "{err}");
    }

    #[test]
    fn non_object_roots_are_errors_and_left_untouched() {
        for (root, found) in [
            (json!(null), "null"),
            (json!(true), "a boolean"),
            (json!(1), "a number"),
            (json!("swagger: 2.0"), "a string"),
            (json!([{"swagger": "2.0"}]), "an array"),
        ] {
            let mut doc = root.clone();
            let err = upgrade_to_31(&mut doc).unwrap_err();
            assert_eq!(err.pointer, "");
            assert!(err.message.contains(found), "{err}");
            assert_eq!(doc, root);
        }
    }

    #[test]
    fn error_display_is_pointer_then_message() {
        let err = UpgradeError::new("/a~1b", "bad");
        assert_eq!(err.to_string(), "/a~1b: bad");
    }

    #[test]
    fn failed_upgrade_leaves_document_untouched() {
        let original = json!({"openapi": "4.0", "paths": {"/a": {}}});
        let mut doc = original.clone();
        assert!(upgrade_to_31(&mut doc).is_err());
        assert_eq!(doc, original);
    }

    // ---- Swagger 2.0: root, servers, components ------------------------

    #[test]
    fn swagger_version_field_becomes_openapi_in_place() {
        let (doc, _) = upgrade(swagger(json!({})));
        let keys: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["openapi", "info", "servers", "paths"]);
        assert_eq!(doc["openapi"], "3.1.0");
    }

    #[test]
    fn upgrade_swagger2_alone_produces_openapi_303() {
        let mut doc =
            swagger(json!({"definitions": {"A": {"type": "string", "x-nullable": true}}}));
        let mut warnings = Vec::new();
        upgrade_swagger2(&mut doc, &mut warnings).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        assert!(doc.get("swagger").is_none());
        assert_eq!(
            doc["components"]["schemas"]["A"],
            json!({"type": "string", "nullable": true})
        );
    }

    #[test]
    fn servers_one_per_scheme() {
        let (doc, _) = upgrade(swagger(json!({
            "host": "api.example.com",
            "basePath": "/v1",
            "schemes": ["http", "https"]
        })));
        assert_eq!(
            doc["servers"],
            json!([{"url": "http://api.example.com/v1"}, {"url": "https://api.example.com/v1"}])
        );
        assert!(
            doc.get("host").is_none()
                && doc.get("basePath").is_none()
                && doc.get("schemes").is_none()
        );
    }

    #[test]
    fn servers_default_to_https_and_root_base_path() {
        let (doc, _) = upgrade(swagger(json!({"host": "api.example.com"})));
        assert_eq!(doc["servers"], json!([{"url": "https://api.example.com"}]));
        let (doc, _) = upgrade(swagger(json!({"host": "h.io:8080", "basePath": "/api/"})));
        assert_eq!(doc["servers"], json!([{"url": "https://h.io:8080/api"}]));
    }

    #[test]
    fn servers_without_host_are_relative_base_path() {
        let (doc, _) = upgrade(swagger(json!({"basePath": "/v2", "schemes": ["http"]})));
        assert_eq!(doc["servers"], json!([{"url": "/v2"}]));
        let (doc, _) = upgrade(swagger(json!({})));
        assert_eq!(doc["servers"], json!([{"url": "/"}]));
    }

    #[test]
    fn invalid_server_fields_warn_and_fall_back() {
        let (doc, warnings) = upgrade(swagger(
            json!({"host": 5, "basePath": [], "schemes": "http"}),
        ));
        assert_eq!(doc["servers"], json!([{"url": "/"}]));
        assert_warning(&warnings, "/host", "expected a string, found a number");
        assert_warning(&warnings, "/basePath", "found an array");
        assert_warning(&warnings, "/schemes", "expected an array");
        let (doc, warnings) = upgrade(swagger(json!({"host": "http://h.io"})));
        assert_eq!(doc["servers"], json!([{"url": "http://h.io"}]));
        assert_warning(&warnings, "/host", "scheme");
    }

    #[test]
    fn definitions_become_component_schemas_with_refs_rewritten() {
        let (doc, _) = upgrade(swagger(json!({
            "definitions": {
                "Pet": {
                    "type": "object",
                    "properties": {
                        "owner": {"$ref": "#/definitions/Person"},
                        "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}},
                        "extra": {"additionalProperties": {"$ref": "#/definitions/Tag"}},
                        "remote": {"$ref": "other.yaml#/definitions/Remote"},
                        "whole": {"$ref": "other.yaml"}
                    },
                    "allOf": [{"$ref": "#/definitions/Base"}]
                },
                "Person": {"type": "object"}, "Tag": {"type": "string"}, "Base": {}
            }
        })));
        assert!(doc.get("definitions").is_none());
        let pet = &doc["components"]["schemas"]["Pet"];
        assert_eq!(
            pet["properties"]["owner"]["$ref"],
            "#/components/schemas/Person"
        );
        assert_eq!(
            pet["properties"]["tags"]["items"]["$ref"],
            "#/components/schemas/Tag"
        );
        assert_eq!(
            pet["properties"]["extra"]["additionalProperties"]["$ref"],
            "#/components/schemas/Tag"
        );
        assert_eq!(
            pet["properties"]["remote"]["$ref"],
            "other.yaml#/components/schemas/Remote"
        );
        assert_eq!(pet["properties"]["whole"]["$ref"], "other.yaml");
        assert_eq!(pet["allOf"][0]["$ref"], "#/components/schemas/Base");
    }

    #[test]
    fn ref_strings_inside_examples_and_extensions_are_data() {
        let (doc, _) = upgrade(swagger(json!({
            "definitions": {"A": {
                "example": {"$ref": "#/definitions/A"},
                "x-meta": {"$ref": "#/definitions/A"}
            }}
        })));
        let a = &doc["components"]["schemas"]["A"];
        assert_eq!(a["examples"][0]["$ref"], "#/definitions/A");
        assert_eq!(a["x-meta"]["$ref"], "#/definitions/A");
    }

    #[test]
    fn global_parameters_split_into_parameters_and_request_bodies() {
        let (doc, _) = upgrade(swagger(json!({
            "consumes": ["application/json", "application/xml"],
            "parameters": {
                "limit": {"name": "limit", "in": "query", "type": "integer", "maximum": 100},
                "PetBody": {
                    "name": "pet", "in": "body", "required": true, "description": "A pet",
                    "schema": {"$ref": "#/definitions/Pet"}, "x-extra": 1
                }
            },
            "definitions": {"Pet": {"type": "object"}}
        })));
        let components = &doc["components"];
        assert_eq!(
            components["parameters"]["limit"],
            json!({"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}})
        );
        assert_eq!(
            components["requestBodies"]["PetBody"],
            json!({
                "description": "A pet",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
                    "application/xml": {"schema": {"$ref": "#/components/schemas/Pet"}}
                },
                "required": true,
                "x-codegen-request-body-name": "pet",
                "x-extra": 1
            })
        );
        assert!(components["parameters"].get("PetBody").is_none());
    }

    #[test]
    fn refs_to_body_parameters_become_request_body_refs() {
        let (doc, warnings) = upgrade(swagger(json!({
            "parameters": {
                "PetBody": {"name": "pet", "in": "body", "schema": {"type": "object"}},
                "limit": {"name": "limit", "in": "query", "type": "integer"}
            },
            "paths": {"/pets": {"post": {
                "parameters": [
                    {"$ref": "#/parameters/PetBody"},
                    {"$ref": "#/parameters/limit"},
                    {"$ref": "#/parameters/missing"},
                    {"$ref": "common.yaml#/parameters/shared"}
                ],
                "responses": {"200": {"description": "ok"}}
            }}}
        })));
        let op = &doc["paths"]["/pets"]["post"];
        assert_eq!(
            op["requestBody"],
            json!({"$ref": "#/components/requestBodies/PetBody"})
        );
        assert_eq!(
            op["parameters"],
            json!([
                {"$ref": "#/components/parameters/limit"},
                {"$ref": "#/components/parameters/missing"},
                {"$ref": "common.yaml#/components/parameters/shared"}
            ])
        );
        let keys: Vec<&str> = op.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["parameters", "requestBody", "responses"]);
        assert_warning(
            &warnings,
            "/paths/~1pets/post/parameters/2/$ref",
            "undefined parameter",
        );
        assert_warning(
            &warnings,
            "/paths/~1pets/post/parameters/3/$ref",
            "external parameter",
        );
    }

    #[test]
    fn ref_rewriting_decodes_escaped_names() {
        let body = HashSet::from(["a/b".to_owned(), "c d".to_owned()]);
        assert_eq!(
            rewrite_ref("#/parameters/a~1b", &body).as_deref(),
            Some("#/components/requestBodies/a~1b")
        );
        assert_eq!(
            rewrite_ref("#/parameters/c%20d", &body).as_deref(),
            Some("#/components/requestBodies/c%20d")
        );
        assert_eq!(
            rewrite_ref("#/responses/R", &body).as_deref(),
            Some("#/components/responses/R")
        );
        assert_eq!(rewrite_ref("#/components/schemas/A", &body), None);
        assert_eq!(rewrite_ref("plain.yaml", &body), None);
        assert_eq!(decode_token("%zz%4"), "%zz%4");
    }

    #[test]
    fn global_responses_become_components_and_refs_follow() {
        let (doc, _) = upgrade(swagger(json!({
            "produces": ["application/xml"],
            "responses": {"NotFound": {"description": "nope", "schema": {"$ref": "#/definitions/Error"}}},
            "paths": {"/a": {"get": {"responses": {"404": {"$ref": "#/responses/NotFound"}}}}}
        })));
        assert_eq!(
            doc["components"]["responses"]["NotFound"],
            json!({"description": "nope", "content": {"application/xml": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        );
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["404"],
            json!({"$ref": "#/components/responses/NotFound"})
        );
    }

    #[test]
    fn security_definitions_become_security_schemes() {
        let (doc, warnings) = upgrade(swagger(json!({
            "securityDefinitions": {
                "basic": {"type": "basic", "description": "b"},
                "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
                "implicit": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a", "scopes": {"r": "read"}},
                "password": {"type": "oauth2", "flow": "password", "tokenUrl": "https://t"},
                "app": {"type": "oauth2", "flow": "application", "tokenUrl": "https://t", "scopes": {}},
                "code": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a", "tokenUrl": "https://t", "scopes": {"w": "write"}, "x-ext": true},
                "broken": {"type": "oauth2", "flow": "accessCode", "scopes": {}},
                "odd": {"type": "oauth2", "flow": "device"},
                "weird": {"type": "saml"}
            },
            "security": [{"basic": []}]
        })));
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(
            schemes["basic"],
            json!({"type": "http", "description": "b", "scheme": "basic"})
        );
        assert_eq!(
            schemes["key"],
            json!({"type": "apiKey", "name": "X-Key", "in": "header"})
        );
        assert_eq!(
            schemes["implicit"],
            json!({"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://a", "scopes": {"r": "read"}}}})
        );
        assert_eq!(
            schemes["password"],
            json!({"type": "oauth2", "flows": {"password": {"tokenUrl": "https://t", "scopes": {}}}})
        );
        assert_eq!(
            schemes["app"],
            json!({"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://t", "scopes": {}}}})
        );
        assert_eq!(
            schemes["code"],
            json!({"type": "oauth2", "x-ext": true, "flows": {"authorizationCode": {
                "authorizationUrl": "https://a", "tokenUrl": "https://t", "scopes": {"w": "write"}}}})
        );
        assert_warning(
            &warnings,
            "/securityDefinitions/broken",
            "requires authorizationUrl",
        );
        assert_warning(
            &warnings,
            "/securityDefinitions/broken",
            "requires tokenUrl",
        );
        assert_warning(
            &warnings,
            "/securityDefinitions/odd/flow",
            "unknown oauth2 flow",
        );
        assert_eq!(schemes["odd"], json!({"type": "oauth2", "flow": "device"}));
        assert_warning(
            &warnings,
            "/securityDefinitions/weird/type",
            "unknown security scheme",
        );
        assert_eq!(doc["security"], json!([{"basic": []}]));
        assert!(doc.get("securityDefinitions").is_none());
    }

    #[test]
    fn top_level_metadata_and_extensions_are_kept() {
        let (doc, _) = upgrade(swagger(json!({
            "tags": [{"name": "pets", "x-display": "Pets"}],
            "externalDocs": {"url": "https://docs"},
            "security": [{"key": []}],
            "x-logo": {"url": "logo.png"},
            "paths": {"x-paths-ext": 1, "/a": {"x-item": 2, "get": {"x-op": 3, "tags": ["pets"], "security": [], "responses": {"x-r": 4}}}}
        })));
        assert_eq!(doc["tags"], json!([{"name": "pets", "x-display": "Pets"}]));
        assert_eq!(doc["externalDocs"], json!({"url": "https://docs"}));
        assert_eq!(doc["security"], json!([{"key": []}]));
        assert_eq!(doc["x-logo"], json!({"url": "logo.png"}));
        assert_eq!(doc["info"], json!({"title": "t", "version": "1"}));
        assert_eq!(doc["paths"]["x-paths-ext"], 1);
        assert_eq!(doc["paths"]["/a"]["x-item"], 2);
        assert_eq!(
            doc["paths"]["/a"]["get"],
            json!({"x-op": 3, "tags": ["pets"], "security": [], "responses": {"x-r": 4}})
        );
    }

    // ---- Swagger 2.0: request bodies ------------------------------------

    #[test]
    fn body_parameter_becomes_request_body_per_operation_consumes() {
        let (doc, _) = upgrade(swagger(json!({
            "consumes": ["application/xml"],
            "paths": {"/pets": {
                "post": {
                    "consumes": ["application/json", "text/plain"],
                    "parameters": [{"name": "pet", "in": "body", "required": true, "description": "d",
                                    "schema": {"$ref": "#/definitions/Pet"}}],
                    "responses": {}
                },
                "put": {
                    "parameters": [{"name": "pet", "in": "body", "schema": {"type": "string"}}],
                    "responses": {}
                }
            }}
        })));
        let post = &doc["paths"]["/pets"]["post"];
        assert_eq!(
            post["requestBody"],
            json!({
                "description": "d",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
                    "text/plain": {"schema": {"$ref": "#/components/schemas/Pet"}}
                },
                "required": true,
                "x-codegen-request-body-name": "pet"
            })
        );
        assert!(post.get("parameters").is_none() && post.get("consumes").is_none());
        let put = &doc["paths"]["/pets"]["put"];
        assert_eq!(
            put["requestBody"]["content"],
            json!({"application/xml": {"schema": {"type": "string"}}})
        );
    }

    #[test]
    fn body_media_type_defaults_to_json() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "b", "in": "body", "schema": {"type": "object"}},
                           {"name": "c", "in": "body"}],
            "responses": {}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"],
            json!({"application/json": {"schema": {"type": "object"}}})
        );
        assert_warning(
            &warnings,
            "/paths/~1a/post/parameters/1",
            "only one body parameter",
        );
    }

    #[test]
    fn body_without_schema_warns() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "b", "in": "body"}], "responses": {}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"],
            json!({"application/json": {"schema": {}}})
        );
        assert_warning(&warnings, "/paths/~1a/post/parameters/0", "no schema");
    }

    #[test]
    fn form_data_becomes_urlencoded_object_schema() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/login": {"post": {
            "parameters": [
                {"name": "user", "in": "formData", "type": "string", "required": true, "description": "who", "minLength": 1},
                {"name": "remember", "in": "formData", "type": "boolean", "default": false, "allowEmptyValue": true},
                {"name": "ids", "in": "formData", "type": "array", "items": {"type": "integer"}, "collectionFormat": "multi"},
                {"name": "tags", "in": "formData", "type": "array", "items": {"type": "string"}},
                {"name": "q", "in": "query", "type": "string"}
            ],
            "responses": {}
        }}}})));
        let op = &doc["paths"]["/login"]["post"];
        assert_eq!(
            op["requestBody"],
            json!({
                "content": {"application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "user": {"description": "who", "type": "string", "minLength": 1},
                            "remember": {"type": "boolean", "default": false},
                            "ids": {"type": "array", "items": {"type": "integer"}},
                            "tags": {"type": "array", "items": {"type": "string"}}
                        },
                        "required": ["user"]
                    },
                    "encoding": {
                        "ids": {"style": "form", "explode": true},
                        "tags": {"style": "form", "explode": false}
                    }
                }},
                "required": true
            })
        );
        assert_eq!(
            op["parameters"],
            json!([{"name": "q", "in": "query", "schema": {"type": "string"}}])
        );
        assert_warning(
            &warnings,
            "/paths/~1login/post/parameters/1/allowEmptyValue",
            "dropped",
        );
    }

    #[test]
    fn form_data_with_file_becomes_multipart_binary() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/upload": {"post": {
            "consumes": ["application/x-www-form-urlencoded"],
            "parameters": [
                {"name": "file", "in": "formData", "type": "file", "required": true},
                {"name": "note", "in": "formData", "type": "string"}
            ],
            "responses": {}
        }}}})));
        let content = &doc["paths"]["/upload"]["post"]["requestBody"]["content"];
        assert_eq!(
            content,
            &json!({"multipart/form-data": {"schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"},
                    "note": {"type": "string"}
                },
                "required": ["file"]
            }}})
        );
    }

    #[test]
    fn form_data_uses_multipart_when_consumes_says_so() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "consumes": ["multipart/form-data"],
            "parameters": [{"name": "n", "in": "formData", "type": "array", "items": {"type": "string"}}],
            "responses": {}
        }}}})));
        let body = &doc["paths"]["/a"]["post"]["requestBody"];
        assert!(body["content"]["multipart/form-data"].is_object());
        assert!(
            body["content"]["multipart/form-data"]
                .get("encoding")
                .is_none()
        );
        assert!(body.get("required").is_none());
    }

    #[test]
    fn form_data_array_of_files_is_multipart() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "files", "in": "formData", "type": "array", "items": {"type": "file"}}],
            "responses": {}
        }}}})));
        let media = &doc["paths"]["/a"]["post"]["requestBody"]["content"]["multipart/form-data"];
        assert_eq!(
            media["schema"]["properties"]["files"]["items"]["type"],
            "string"
        );
        assert_eq!(
            media["schema"]["properties"]["files"]["items"]["format"],
            "binary"
        );
    }

    #[test]
    fn path_level_form_data_merges_into_each_operation() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/items/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": true, "type": "string"},
                {"name": "shared", "in": "formData", "type": "string", "required": true},
                {"name": "over", "in": "formData", "type": "string"}
            ],
            "post": {"parameters": [{"name": "own", "in": "formData", "type": "integer"}], "responses": {}},
            "put": {"parameters": [{"name": "over", "in": "formData", "type": "number"}], "responses": {}},
            "patch": {"parameters": [{"name": "b", "in": "body", "schema": {"type": "object"}}], "responses": {}},
            "get": {"responses": {}}
        }}})));
        let item = &doc["paths"]["/items/{id}"];
        assert_eq!(
            item["parameters"],
            json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}])
        );
        let post =
            &item["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        assert_eq!(
            post["properties"],
            json!({"shared": {"type": "string"}, "over": {"type": "string"}, "own": {"type": "integer"}})
        );
        assert_eq!(post["required"], json!(["shared"]));
        let put =
            &item["put"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        assert_eq!(
            put["properties"],
            json!({"shared": {"type": "string"}, "over": {"type": "number"}})
        );
        assert_eq!(
            item["patch"]["requestBody"]["content"],
            json!({"application/json": {"schema": {"type": "object"}}})
        );
        assert!(
            item["get"]["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object()
        );
    }

    #[test]
    fn path_level_body_merges_into_operations_without_their_own() {
        let (doc, _) = upgrade(swagger(json!({
            "parameters": {"Shared": {"name": "s", "in": "body", "schema": {"type": "string"}}},
            "paths": {
                "/a": {
                    "parameters": [{"name": "p", "in": "body", "schema": {"$ref": "#/definitions/P"}}],
                    "post": {"consumes": ["text/xml"], "responses": {}},
                    "put": {"parameters": [{"name": "own", "in": "body", "schema": {"type": "integer"}}], "responses": {}},
                    "patch": {"parameters": [{"name": "f", "in": "formData", "type": "string"}], "responses": {}}
                },
                "/b": {"parameters": [{"$ref": "#/parameters/Shared"}], "post": {"responses": {}}}
            }
        })));
        let a = &doc["paths"]["/a"];
        assert!(a.get("parameters").is_none());
        assert_eq!(
            a["post"]["requestBody"]["content"],
            json!({"text/xml": {"schema": {"$ref": "#/components/schemas/P"}}})
        );
        assert_eq!(a["post"]["requestBody"]["x-codegen-request-body-name"], "p");
        assert_eq!(
            a["put"]["requestBody"]["content"]["application/json"]["schema"]["type"],
            "integer"
        );
        assert!(
            a["patch"]["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object()
        );
        assert_eq!(
            doc["paths"]["/b"]["post"]["requestBody"],
            json!({"$ref": "#/components/requestBodies/Shared"})
        );
    }

    #[test]
    fn path_level_body_without_operations_warns() {
        let (_, warnings) = upgrade(swagger(json!({"paths": {"/a": {
            "parameters": [{"name": "p", "in": "body", "schema": {}}]
        }}})));
        assert_warning(&warnings, "/paths/~1a/parameters", "apply to no operation");
    }

    #[test]
    fn body_and_form_data_together_keep_the_body() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "f", "in": "formData", "type": "string"},
                           {"name": "b", "in": "body", "schema": {"type": "object"}}],
            "responses": {}
        }}}})));
        assert!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"]["application/json"].is_object()
        );
        assert_warning(
            &warnings,
            "/paths/~1a/post/parameters",
            "cannot be combined",
        );
    }

    #[test]
    fn refs_to_global_form_data_parameters_are_inlined() {
        let (doc, _) = upgrade(swagger(json!({
            "parameters": {"Upload": {"name": "upload", "in": "formData", "type": "file", "required": true}},
            "paths": {"/a": {"post": {"parameters": [{"$ref": "#/parameters/Upload"}], "responses": {}}}}
        })));
        let schema =
            &doc["paths"]["/a"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"];
        assert_eq!(schema["properties"]["upload"]["format"], "binary");
        assert_eq!(schema["required"], json!(["upload"]));
        assert!(doc["components"].get("parameters").is_none());
    }

    // ---- Swagger 2.0: non-body parameters -------------------------------

    #[test]
    fn non_body_parameter_type_info_moves_into_schema() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "parameters": [{
                "name": "q", "in": "query", "description": "d", "required": false, "allowEmptyValue": true,
                "type": "integer", "format": "int32", "enum": [1, 2], "default": 1,
                "minimum": 0, "maximum": 10, "exclusiveMinimum": true, "exclusiveMaximum": false,
                "multipleOf": 1, "x-example": 2
            }, {
                "name": "s", "in": "header", "type": "string", "minLength": 1, "maxLength": 5, "pattern": "^a"
            }, {
                "name": "arr", "in": "query", "type": "array", "items": {"type": "string"},
                "minItems": 1, "maxItems": 3, "uniqueItems": true
            }],
            "responses": {}
        }}}})));
        let params = &doc["paths"]["/a"]["get"]["parameters"];
        assert_eq!(
            params[0],
            json!({
                "name": "q", "in": "query", "description": "d", "required": false, "allowEmptyValue": true,
                "x-example": 2,
                "schema": {"type": "integer", "format": "int32", "enum": [1, 2], "default": 1,
                           "exclusiveMinimum": 0, "maximum": 10, "multipleOf": 1}
            })
        );
        assert_eq!(
            params[1]["schema"],
            json!({"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^a"})
        );
        assert_eq!(
            params[2],
            json!({"name": "arr", "in": "query", "style": "form", "explode": false, "schema": {
                "type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3, "uniqueItems": true}})
        );
    }

    fn param_style(location: &str, format: Option<&str>) -> (Value, Vec<UpgradeError>) {
        let mut param = json!({"name": "p", "in": location, "required": true, "type": "array", "items": {"type": "string"}});
        if let Some(format) = format {
            param["collectionFormat"] = json!(format);
        }
        let (doc, warnings) = upgrade(swagger(
            json!({"paths": {"/a": {"get": {"parameters": [param], "responses": {}}}}}),
        ));
        let param = doc["paths"]["/a"]["get"]["parameters"][0].clone();
        assert!(param.get("collectionFormat").is_none());
        let style = json!({"style": param.get("style"), "explode": param.get("explode")});
        (style, warnings)
    }

    #[test]
    fn collection_formats_map_to_style_and_explode() {
        let cases = [
            ("query", None, json!({"style": "form", "explode": false})),
            (
                "query",
                Some("csv"),
                json!({"style": "form", "explode": false}),
            ),
            (
                "path",
                Some("csv"),
                json!({"style": "simple", "explode": null}),
            ),
            ("header", None, json!({"style": "simple", "explode": null})),
            (
                "query",
                Some("ssv"),
                json!({"style": "spaceDelimited", "explode": null}),
            ),
            (
                "query",
                Some("pipes"),
                json!({"style": "pipeDelimited", "explode": null}),
            ),
            (
                "query",
                Some("multi"),
                json!({"style": "form", "explode": true}),
            ),
        ];
        for (location, format, expected_style) in cases {
            let (style, warnings) = param_style(location, format);
            assert_eq!(style, expected_style, "{location} {format:?}");
            assert!(warnings.is_empty(), "{location} {format:?}: {warnings:?}");
        }
    }

    #[test]
    fn unsupported_collection_formats_warn() {
        let pointer = "/paths/~1a/get/parameters/0/collectionFormat";
        let (style, warnings) = param_style("query", Some("tsv"));
        assert_eq!(style, json!({"style": "form", "explode": false}));
        assert_warning(&warnings, pointer, "tsv has no OpenAPI 3 equivalent");
        let (style, warnings) = param_style("path", Some("tsv"));
        assert_eq!(style, json!({"style": "simple", "explode": null}));
        assert_warning(&warnings, pointer, "tsv");
        let (style, warnings) = param_style("path", Some("multi"));
        assert_eq!(style, json!({"style": "simple", "explode": null}));
        assert_warning(&warnings, pointer, "multi is not supported for path");
        let (style, warnings) = param_style("header", Some("pipes"));
        assert_eq!(style, json!({"style": "simple", "explode": null}));
        assert_warning(&warnings, pointer, "pipes");
        let (style, warnings) = param_style("query", Some("semicolons"));
        assert_eq!(style, json!({"style": "form", "explode": false}));
        assert_warning(&warnings, pointer, "unknown collectionFormat");
    }

    #[test]
    fn collection_format_on_scalars_is_dropped_and_nested_ones_warn() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "parameters": [
                {"name": "s", "in": "query", "type": "string", "collectionFormat": "csv"},
                {"name": "m", "in": "query", "type": "array", "collectionFormat": "pipes",
                 "items": {"type": "array", "collectionFormat": "csv", "items": {"type": "integer"}}}
            ],
            "responses": {}
        }}}})));
        let params = &doc["paths"]["/a"]["get"]["parameters"];
        assert_eq!(
            params[0],
            json!({"name": "s", "in": "query", "schema": {"type": "string"}})
        );
        assert_eq!(
            params[1]["schema"]["items"],
            json!({"type": "array", "items": {"type": "integer"}})
        );
        assert_eq!(params[1]["style"], "pipeDelimited");
        assert_warning(
            &warnings,
            "/paths/~1a/get/parameters/1/items/collectionFormat",
            "nested arrays",
        );
    }

    #[test]
    fn parameter_x_nullable_becomes_nullable_schema() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "parameters": [{"name": "q", "in": "query", "type": "string", "x-nullable": true}],
            "responses": {}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"][0]["schema"],
            json!({"type": ["string", "null"]})
        );
    }

    #[test]
    fn operation_schemes_become_operation_servers() {
        let (doc, warnings) = upgrade(swagger(json!({
            "host": "h.io", "basePath": "/v1", "schemes": ["https"],
            "paths": {"/a": {
                "get": {"schemes": ["http"], "responses": {}},
                "put": {"schemes": ["https"], "responses": {}}
            }}
        })));
        assert_eq!(
            doc["paths"]["/a"]["get"]["servers"],
            json!([{"url": "http://h.io/v1"}])
        );
        assert!(doc["paths"]["/a"]["get"].get("schemes").is_none());
        assert!(doc["paths"]["/a"]["put"].get("servers").is_none());
        assert!(warnings.is_empty(), "{warnings:?}");
        let (_, warnings) = upgrade(swagger(
            json!({"paths": {"/a": {"get": {"schemes": ["ws"], "responses": {}}}}}),
        ));
        assert_warning(&warnings, "/paths/~1a/get/schemes", "need a host");
    }

    // ---- Swagger 2.0: responses and schemas ------------------------------

    #[test]
    fn response_schema_goes_into_content_per_produces() {
        let (doc, _) = upgrade(swagger(json!({
            "produces": ["application/xml"],
            "paths": {"/a": {
                "get": {"produces": ["application/json", "text/csv"], "responses": {
                    "200": {"description": "ok", "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}},
                    "204": {"description": "none"}
                }},
                "put": {"responses": {"200": {"description": "ok", "schema": {"type": "string"}}}}
            }}
        })));
        let get = &doc["paths"]["/a"]["get"];
        assert_eq!(
            get["responses"]["200"]["content"],
            json!({
                "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}},
                "text/csv": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}
            })
        );
        assert_eq!(get["responses"]["204"], json!({"description": "none"}));
        assert!(get.get("produces").is_none());
        assert_eq!(
            doc["paths"]["/a"]["put"]["responses"]["200"]["content"],
            json!({"application/xml": {"schema": {"type": "string"}}})
        );
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {"responses": {
            "200": {"description": "ok", "schema": {"type": "string"}}}}}}})));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"],
            json!({"application/json": {"schema": {"type": "string"}}})
        );
    }

    #[test]
    fn response_examples_become_media_type_examples() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "produces": ["application/json"],
            "responses": {"200": {
                "description": "ok",
                "schema": {"type": "object"},
                "examples": {"application/json": {"id": 1}, "application/xml": "<id>1</id>"}
            }}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"],
            json!({
                "application/json": {"schema": {"type": "object"}, "example": {"id": 1}},
                "application/xml": {"schema": {"type": "object"}, "example": "<id>1</id>"}
            })
        );
    }

    #[test]
    fn response_headers_move_type_into_schema() {
        let (doc, _) = upgrade(swagger(
            json!({"paths": {"/a": {"get": {"responses": {"200": {
                "description": "ok",
                "headers": {
                    "X-Rate": {"type": "integer", "format": "int32", "description": "r"},
                    "X-List": {"type": "array", "items": {"type": "string"}, "collectionFormat": "csv"}
                }
            }}}}}}),
        ));
        let headers = &doc["paths"]["/a"]["get"]["responses"]["200"]["headers"];
        assert_eq!(
            headers["X-Rate"],
            json!({"description": "r", "schema": {"type": "integer", "format": "int32"}})
        );
        assert_eq!(
            headers["X-List"],
            json!({"style": "simple", "schema": {"type": "array", "items": {"type": "string"}}})
        );
    }

    #[test]
    fn file_response_becomes_binary_string() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "produces": ["application/pdf"],
            "responses": {"200": {"description": "ok", "schema": {"type": "file"}}}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/pdf"]["schema"],
            json!({"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"})
        );
    }

    #[test]
    fn swagger_schema_keywords_are_translated() {
        let (doc, _) = upgrade(swagger(json!({"definitions": {
            "Pet": {
                "type": "object",
                "discriminator": "kind",
                "properties": {
                    "kind": {"type": "string"},
                    "name": {"type": "string", "x-nullable": true},
                    "file": {"type": "file"},
                    "plain": {"type": "string", "x-nullable": false}
                }
            }
        }})));
        let pet = &doc["components"]["schemas"]["Pet"];
        assert_eq!(pet["discriminator"], json!({"propertyName": "kind"}));
        assert_eq!(
            pet["properties"]["name"],
            json!({"type": ["string", "null"]})
        );
        assert_eq!(pet["properties"]["file"]["format"], "binary");
        assert_eq!(pet["properties"]["plain"], json!({"type": "string"}));
    }

    // ---- Swagger 2.0: wrong types ----------------------------------------

    #[test]
    fn swagger_wrong_types_warn_and_are_left_in_place() {
        let (doc, warnings) = upgrade(swagger(
            json!({"paths": 5, "definitions": 5, "responses": [], "consumes": "x"}),
        ));
        assert_eq!(doc["paths"], 5);
        assert_eq!(doc["definitions"], 5);
        assert_warning(&warnings, "/paths", "expected an object, found a number");
        assert_warning(
            &warnings,
            "/definitions",
            "expected an object, found a number",
        );
        assert_warning(&warnings, "/responses", "found an array");
        assert_warning(&warnings, "/consumes", "expected an array");
        assert_eq!(
            warnings.iter().filter(|w| w.pointer == "/paths").count(),
            1,
            "{warnings:?}"
        );
    }

    #[test]
    fn swagger_wrong_types_inside_paths() {
        let (doc, warnings) = upgrade(swagger(json!({
            "parameters": {"bad": 5, "noin": {"name": "x"}},
            "paths": {
                "/a": {"get": {"parameters": {}, "responses": {"200": 5}}, "put": "nope"},
                "/b": [],
                "/c": {"parameters": [5, {"$ref": 7}], "post": {"responses": [], "consumes": 3}}
            }
        })));
        assert_eq!(doc["paths"]["/a"]["get"]["parameters"], json!({}));
        assert_warning(
            &warnings,
            "/paths/~1a/get/parameters",
            "expected an array, found an object",
        );
        assert_warning(&warnings, "/paths/~1a/get/responses/200", "found a number");
        assert_warning(&warnings, "/paths/~1a/put", "found a string");
        assert_warning(&warnings, "/paths/~1b", "found an array");
        assert_warning(&warnings, "/paths/~1c/parameters/0", "found a number");
        assert_warning(
            &warnings,
            "/paths/~1c/parameters/1/$ref",
            "expected a string",
        );
        assert_warning(&warnings, "/paths/~1c/post/responses", "found an array");
        assert_warning(&warnings, "/paths/~1c/post/consumes", "expected an array");
        assert_warning(&warnings, "/parameters/bad", "found a number");
        assert_warning(&warnings, "/parameters/noin", "no `in`");
    }

    // ---- OpenAPI 3.0 -> 3.1 ----------------------------------------------

    #[test]
    fn openapi_30_version_becomes_310() {
        let mut doc = openapi30(json!({}));
        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::OpenApi30);
        assert!(warnings.is_empty());
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc.as_object().unwrap().keys().next().map(String::as_str),
            Some("openapi")
        );
    }

    #[test]
    fn nullable_with_type_becomes_type_array() {
        let (doc, _) = upgrade(schemas30(json!({
            "A": {"type": "string", "nullable": true},
            "B": {"type": "integer", "nullable": false},
            "C": {"type": "string", "enum": ["a", "b"], "nullable": true},
            "D": {"type": ["string", "integer"], "nullable": true},
            "E": {"type": "null", "nullable": true}
        })));
        let s = &doc["components"]["schemas"];
        assert_eq!(s["A"], json!({"type": ["string", "null"]}));
        assert_eq!(s["B"], json!({"type": "integer"}));
        assert_eq!(
            s["C"],
            json!({"type": ["string", "null"], "enum": ["a", "b", null]})
        );
        assert_eq!(s["D"], json!({"type": ["string", "integer", "null"]}));
        assert_eq!(s["E"], json!({"type": "null"}));
    }

    #[test]
    fn nullable_without_type() {
        let (doc, _) = upgrade(schemas30(json!({
            "Enum": {"enum": ["a", null], "nullable": true},
            "Enum2": {"enum": ["a"], "nullable": true},
            "Any": {"description": "anything", "nullable": true}
        })));
        let s = &doc["components"]["schemas"];
        assert_eq!(s["Enum"], json!({"enum": ["a", null]}));
        assert_eq!(s["Enum2"], json!({"enum": ["a", null]}));
        assert_eq!(s["Any"], json!({"description": "anything"}));
    }

    #[test]
    fn nullable_ref_and_composition_are_wrapped_in_any_of() {
        let (doc, _) = upgrade(schemas30(json!({
            "R": {"$ref": "#/components/schemas/X", "nullable": true, "description": "d", "x-e": 1},
            "All": {"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": true, "title": "t"},
            "One": {"type": "object", "oneOf": [{"$ref": "#/components/schemas/X"}], "discriminator": {"propertyName": "k"}, "nullable": true, "example": {"k": "x"}}
        })));
        let s = &doc["components"]["schemas"];
        assert_eq!(
            s["R"],
            json!({"description": "d", "x-e": 1, "anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]})
        );
        assert_eq!(
            s["All"],
            json!({"title": "t", "anyOf": [{"allOf": [{"$ref": "#/components/schemas/X"}]}, {"type": "null"}]})
        );
        assert_eq!(
            s["One"],
            json!({
                "examples": [{"k": "x"}],
                "anyOf": [
                    {"type": "object", "oneOf": [{"$ref": "#/components/schemas/X"}], "discriminator": {"propertyName": "k"}},
                    {"type": "null"}
                ]
            })
        );
    }

    #[test]
    fn nested_nullable_everywhere() {
        let (doc, _) = upgrade(openapi30(json!({
            "components": {
                "schemas": {"Outer": {
                    "type": "object",
                    "properties": {
                        "a": {"type": "string", "nullable": true},
                        "list": {"type": "array", "items": {"type": "integer", "nullable": true}},
                        "map": {"type": "object", "additionalProperties": {"type": "number", "nullable": true}},
                        "pat": {"patternProperties": {"^x": {"type": "boolean", "nullable": true}}},
                        "neg": {"not": {"type": "string", "nullable": true}}
                    },
                    "allOf": [{"properties": {"b": {"type": "string", "nullable": true}}}],
                    "anyOf": [{"type": "string", "nullable": true}],
                    "oneOf": [{"type": "string", "nullable": true}]
                }},
                "parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "string", "nullable": true}}},
                "headers": {"H": {"schema": {"type": "string", "nullable": true}}},
                "requestBodies": {"B": {"content": {"application/json": {"schema": {"type": "string", "nullable": true}}}}},
                "responses": {"R": {"description": "r",
                    "headers": {"X": {"schema": {"type": "string", "nullable": true}}},
                    "content": {"application/json": {"schema": {"type": "string", "nullable": true},
                        "encoding": {"f": {"headers": {"E": {"schema": {"type": "string", "nullable": true}}}}}}}}},
                "callbacks": {"C": {"{$request.body#/url}": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "string", "nullable": true}}}}}}}}
            },
            "paths": {"/a": {
                "parameters": [{"name": "q", "in": "query", "content": {"application/json": {"schema": {"type": "string", "nullable": true}}}}],
                "trace": {"responses": {"200": {"description": "ok", "content": {"a/b": {"schema": {"type": "string", "nullable": true}}}}}},
                "post": {
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "nullable": true}}],
                    "requestBody": {"content": {"application/json": {"schema": {"type": "string", "nullable": true}}}},
                    "responses": {"default": {"description": "d", "content": {"application/json": {"schema": {"type": "string", "nullable": true}}}}},
                    "callbacks": {"cb": {"{$url}": {"get": {"responses": {"200": {"description": "ok", "content": {"a/b": {"schema": {"type": "string", "nullable": true}}}}}}}}}
                }
            }}
        })));
        let nullable_string = json!({"type": ["string", "null"]});
        let c = &doc["components"];
        let outer = &c["schemas"]["Outer"];
        assert_eq!(outer["properties"]["a"], nullable_string);
        assert_eq!(
            outer["properties"]["list"]["items"],
            json!({"type": ["integer", "null"]})
        );
        assert_eq!(
            outer["properties"]["map"]["additionalProperties"],
            json!({"type": ["number", "null"]})
        );
        assert_eq!(
            outer["properties"]["pat"]["patternProperties"]["^x"],
            json!({"type": ["boolean", "null"]})
        );
        assert_eq!(outer["properties"]["neg"]["not"], nullable_string);
        assert_eq!(outer["allOf"][0]["properties"]["b"], nullable_string);
        assert_eq!(outer["anyOf"][0], nullable_string);
        assert_eq!(outer["oneOf"][0], nullable_string);
        assert_eq!(c["parameters"]["P"]["schema"], nullable_string);
        assert_eq!(c["headers"]["H"]["schema"], nullable_string);
        assert_eq!(
            c["requestBodies"]["B"]["content"]["application/json"]["schema"],
            nullable_string
        );
        let r = &c["responses"]["R"];
        assert_eq!(r["headers"]["X"]["schema"], nullable_string);
        assert_eq!(r["content"]["application/json"]["schema"], nullable_string);
        assert_eq!(
            r["content"]["application/json"]["encoding"]["f"]["headers"]["E"]["schema"],
            nullable_string
        );
        assert_eq!(
            c["callbacks"]["C"]["{$request.body#/url}"]["post"]["requestBody"]["content"]["application/json"]
                ["schema"],
            nullable_string
        );
        let a = &doc["paths"]["/a"];
        assert_eq!(
            a["parameters"][0]["content"]["application/json"]["schema"],
            nullable_string
        );
        assert_eq!(
            a["trace"]["responses"]["200"]["content"]["a/b"]["schema"],
            nullable_string
        );
        let post = &a["post"];
        assert_eq!(post["parameters"][0]["schema"], nullable_string);
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"],
            nullable_string
        );
        assert_eq!(
            post["responses"]["default"]["content"]["application/json"]["schema"],
            nullable_string
        );
        assert_eq!(
            post["callbacks"]["cb"]["{$url}"]["get"]["responses"]["200"]["content"]["a/b"]["schema"],
            nullable_string
        );
    }

    #[test]
    fn wrapped_schema_children_are_still_upgraded() {
        let (doc, _) = upgrade(schemas30(json!({
            "W": {"allOf": [{"type": "string", "nullable": true}], "properties": {"p": {"type": "integer", "nullable": true}}, "nullable": true}
        })));
        assert_eq!(
            doc["components"]["schemas"]["W"],
            json!({"anyOf": [
                {"allOf": [{"type": ["string", "null"]}], "properties": {"p": {"type": ["integer", "null"]}}},
                {"type": "null"}
            ]})
        );
    }

    #[test]
    fn properties_named_like_keywords_are_not_keywords() {
        let original = json!({
            "type": "object",
            "properties": {
                "nullable": {"type": "boolean"},
                "example": {"type": "string"},
                "exclusiveMinimum": {"type": "boolean"},
                "format": {"type": "string"},
                "properties": {"type": "object", "properties": {"nullable": {"type": "string", "nullable": true}}}
            },
            "required": ["nullable", "example"]
        });
        let (doc, warnings) = upgrade(schemas30(json!({"S": original})));
        let s = &doc["components"]["schemas"]["S"];
        assert_eq!(s["properties"]["nullable"], json!({"type": "boolean"}));
        assert_eq!(s["properties"]["example"], json!({"type": "string"}));
        assert_eq!(
            s["properties"]["exclusiveMinimum"],
            json!({"type": "boolean"})
        );
        assert_eq!(
            s["properties"]["properties"]["properties"]["nullable"],
            json!({"type": ["string", "null"]})
        );
        assert_eq!(s["required"], json!(["nullable", "example"]));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn exclusive_bounds_become_numbers() {
        let (doc, warnings) = upgrade(schemas30(json!({
            "A": {"type": "number", "minimum": 1, "exclusiveMinimum": true, "maximum": 9, "exclusiveMaximum": true},
            "B": {"type": "number", "minimum": 1, "exclusiveMinimum": false, "maximum": 9, "exclusiveMaximum": false},
            "C": {"type": "number", "exclusiveMinimum": true},
            "D": {"type": "number", "exclusiveMaximum": 5},
            "E": {"type": "number", "exclusiveMinimum": "yes"}
        })));
        let s = &doc["components"]["schemas"];
        assert_eq!(
            s["A"],
            json!({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 9})
        );
        assert_eq!(
            s["B"],
            json!({"type": "number", "minimum": 1, "maximum": 9})
        );
        assert_eq!(s["C"], json!({"type": "number"}));
        assert_warning(
            &warnings,
            "/components/schemas/C/exclusiveMinimum",
            "without `minimum`",
        );
        assert_eq!(s["D"], json!({"type": "number", "exclusiveMaximum": 5}));
        assert_warning(
            &warnings,
            "/components/schemas/E/exclusiveMinimum",
            "expected a boolean or a number",
        );
    }

    #[test]
    fn example_becomes_examples() {
        let (doc, warnings) = upgrade(schemas30(json!({
            "A": {"type": "string", "example": "x", "description": "d"},
            "B": {"type": "string", "example": "x", "examples": ["y"]},
            "C": {"type": "string", "example": null},
            "D": {"type": "string", "example": "x", "examples": {"a": 1}}
        })));
        let s = &doc["components"]["schemas"];
        let a_keys: Vec<&str> = s["A"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(a_keys, ["type", "examples", "description"]);
        assert_eq!(s["A"]["examples"], json!(["x"]));
        assert_eq!(s["B"], json!({"type": "string", "examples": ["y", "x"]}));
        assert_eq!(s["C"], json!({"type": "string", "examples": [null]}));
        assert_eq!(
            s["D"],
            json!({"type": "string", "example": "x", "examples": {"a": 1}})
        );
        assert_warning(
            &warnings,
            "/components/schemas/D/examples",
            "expected an array",
        );
    }

    #[test]
    fn media_type_examples_are_not_schema_examples() {
        let (doc, _) = upgrade(openapi30(
            json!({"paths": {"/a": {"get": {"responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"type": "string"}, "example": "x"}}
            }}}}}}),
        ));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"],
            json!({"schema": {"type": "string"}, "example": "x"})
        );
    }

    #[test]
    fn binary_and_base64_formats_gain_content_keywords() {
        let (doc, _) = upgrade(openapi30(json!({"paths": {"/a": {"post": {
            "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"},
                "data": {"type": "string", "format": "base64"},
                "png": {"type": "string", "format": "binary", "contentMediaType": "image/png"}
            }}}}},
            "responses": {}
        }}}})));
        let props = &doc["paths"]["/a"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
            ["properties"];
        assert_eq!(
            props["file"],
            json!({"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"})
        );
        assert_eq!(
            props["data"],
            json!({"type": "string", "format": "base64", "contentEncoding": "base64"})
        );
        assert_eq!(props["png"]["contentMediaType"], "image/png");
    }

    #[test]
    fn openapi_30_wrong_types_warn() {
        let (doc, warnings) = upgrade(openapi30(json!({
            "paths": 5
        })));
        assert_eq!(doc["paths"], 5);
        assert_warning(&warnings, "/paths", "expected an object, found a number");

        let (_, warnings) = upgrade(openapi30(json!({
            "paths": {"/a": {"get": {"parameters": {}, "responses": {"200": "x"}}, "parameters": [1]}},
            "components": {"schemas": {
                "A": {"properties": 5, "items": 3, "allOf": {}, "nullable": "yes"},
                "B": 7,
                "C": true,
                "D": {"type": 5, "nullable": true},
                "E": {"enum": "x", "nullable": true}
            }}
        })));
        assert_warning(
            &warnings,
            "/paths/~1a/get/parameters",
            "expected an array, found an object",
        );
        assert_warning(&warnings, "/paths/~1a/get/responses/200", "found a string");
        assert_warning(&warnings, "/paths/~1a/parameters/0", "found a number");
        assert_warning(
            &warnings,
            "/components/schemas/A/properties",
            "expected an object",
        );
        assert_warning(
            &warnings,
            "/components/schemas/A/items",
            "expected a schema object",
        );
        assert_warning(
            &warnings,
            "/components/schemas/A/allOf",
            "expected an array",
        );
        assert_warning(
            &warnings,
            "/components/schemas/A/nullable",
            "expected a boolean",
        );
        assert_warning(
            &warnings,
            "/components/schemas/B",
            "expected a schema object, found a number",
        );
        assert_warning(
            &warnings,
            "/components/schemas/D/type",
            "expected a string or an array",
        );
        assert_warning(&warnings, "/components/schemas/E/enum", "expected an array");
        assert!(
            !warnings
                .iter()
                .any(|w| w.pointer == "/components/schemas/C")
        );

        let (_, warnings) = upgrade(openapi30(json!({"components": []})));
        assert_warning(&warnings, "/components", "found an array");
    }

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

    #[test]
    fn openapi_31_is_returned_unchanged() {
        let original = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "components": {"schemas": {"A": {"type": "string", "nullable": true, "example": 1}}}
        });
        let mut doc = original.clone();
        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::OpenApi31);
        assert!(warnings.is_empty());
        assert_eq!(doc, original);
    }

    #[test]
    fn upgrading_twice_is_idempotent() {
        let inputs = [
            schemas30(json!({
                "A": {"$ref": "#/components/schemas/B", "nullable": true},
                "B": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "example": 3, "nullable": true}
            })),
            swagger(json!({
                "host": "h.io",
                "definitions": {"P": {"type": "object", "x-nullable": true, "properties": {"f": {"type": "file"}}}},
                "paths": {"/a": {"post": {
                    "parameters": [{"name": "f", "in": "formData", "type": "file"}, {"name": "q", "in": "query", "type": "array", "items": {"type": "string"}}],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/P"}}}
                }}}
            })),
        ];
        for input in inputs {
            let (once, _) = upgrade(input);
            let mut twice = once.clone();
            let (version, warnings) = upgrade_to_31(&mut twice).unwrap();
            assert_eq!(version, SourceVersion::OpenApi31);
            assert!(warnings.is_empty());
            assert_eq!(once, twice);
        }
    }

    #[test]
    fn warnings_are_deduplicated() {
        let warnings = dedup(vec![
            UpgradeError::new("/a", "x"),
            UpgradeError::new("/a", "x"),
            UpgradeError::new("/a", "y"),
        ]);
        assert_eq!(
            warnings,
            [UpgradeError::new("/a", "x"), UpgradeError::new("/a", "y")]
        );
    }

    // ---- robustness -------------------------------------------------------

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
    fn survives_type_confusion(doc: &Value) {
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

    #[test]
    fn swagger_type_confusion_never_panics() {
        survives_type_confusion(&swagger(json!({
            "host": "h.io", "basePath": "/v", "schemes": ["http"], "consumes": ["application/json"], "produces": ["application/xml"],
            "definitions": {"P": {"type": "object", "discriminator": "k", "x-nullable": true,
                "properties": {"k": {"type": "string"}, "l": {"type": "array", "items": {"$ref": "#/definitions/P"}}}}},
            "parameters": {"B": {"name": "b", "in": "body", "schema": {"$ref": "#/definitions/P"}},
                           "F": {"name": "f", "in": "formData", "type": "file"},
                           "Q": {"name": "q", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "ssv"}},
            "responses": {"R": {"description": "r", "schema": {"type": "file"}, "headers": {"H": {"type": "integer"}}}},
            "securityDefinitions": {"o": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "a", "tokenUrl": "t", "scopes": {}}},
            "paths": {"/a/{id}": {
                "parameters": [{"name": "id", "in": "path", "type": "string"}, {"name": "s", "in": "formData", "type": "string"}, {"$ref": "#/parameters/F"}],
                "post": {"consumes": ["multipart/form-data"], "produces": ["text/plain"], "schemes": ["https"],
                    "parameters": [{"$ref": "#/parameters/Q"}, {"name": "x", "in": "formData", "type": "array", "items": {"type": "integer"}, "collectionFormat": "multi"}],
                    "responses": {"200": {"description": "ok", "schema": {"type": "string"}, "examples": {"text/plain": "hi"}}, "404": {"$ref": "#/responses/R"}}},
                "put": {"parameters": [{"$ref": "#/parameters/B"}], "responses": {}}
            }}
        })));
    }

    #[test]
    fn openapi_30_type_confusion_never_panics() {
        survives_type_confusion(&openapi30(json!({
            "components": {
                "schemas": {"A": {"type": "object", "nullable": true, "example": {}, "properties": {
                    "b": {"$ref": "#/components/schemas/A", "nullable": true},
                    "c": {"type": "integer", "minimum": 1, "exclusiveMinimum": true, "enum": [1], "nullable": true},
                    "d": {"type": "string", "format": "binary"}},
                    "allOf": [{"nullable": true, "oneOf": [{}]}], "items": {"type": "string"}}},
                "parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "string", "nullable": true}}},
                "callbacks": {"C": {"{$url}": {"post": {"responses": {"200": {"description": "ok"}}}}}}
            },
            "paths": {"/a": {"parameters": [{"$ref": "#/components/parameters/P"}], "get": {
                "requestBody": {"content": {"a/b": {"schema": {"nullable": true}, "encoding": {"e": {"headers": {"h": {"schema": {}}}}}}}},
                "responses": {"200": {"description": "ok", "headers": {"h": {"schema": {"nullable": true}}}}},
                "callbacks": {"c": {"{$url}": {"get": {"responses": {}}}}}
            }}}
        })));
    }

    // ---- deep nesting -----------------------------------------------------

    /// Builds `depth` levels of `{key: {...}}` around `leaf` without recursion.
    fn nest(leaf: Value, depth: usize, mut wrap: impl FnMut(Value) -> Value) -> Value {
        let mut value = leaf;
        for _ in 0..depth {
            value = wrap(value);
        }
        value
    }

    fn nullable_object(child: Value) -> Value {
        let mut map = Object::new();
        map.insert("type".into(), json!("object"));
        map.insert("nullable".into(), json!(true));
        map.insert("example".into(), json!({}));
        map.insert("properties".into(), single("child", child));
        Value::Object(map)
    }

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

    #[test]
    fn deeply_nested_openapi_30_schema_does_not_overflow() {
        let leaf = json!({"type": "string", "nullable": true, "example": "x"});
        let mut schema = nest(leaf, DEEP, nullable_object);
        // Also nest through $ref wrapping, allOf and items so each walker branch is deep.
        schema = nest(schema, DEEP / 4, |v| {
            let mut map = Object::new();
            map.insert(
                "allOf".into(),
                Value::Array(vec![v, json!({"$ref": "#/components/schemas/X"})]),
            );
            map.insert("nullable".into(), json!(true));
            Value::Object(map)
        });
        schema = nest(schema, DEEP / 4, |v| single("items", v));
        let mut doc = schemas30(Value::Object(Object::from_iter([(
            "Deep".to_owned(),
            schema,
        )])));
        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::OpenApi30);
        assert!(warnings.is_empty());

        let mut cursor = &doc["components"]["schemas"]["Deep"];
        for _ in 0..DEEP / 4 {
            cursor = &cursor["items"];
        }
        for _ in 0..DEEP / 4 {
            assert_eq!(cursor["anyOf"][1], json!({"type": "null"}));
            cursor = &cursor["anyOf"][0]["allOf"][0];
        }
        for _ in 0..DEEP {
            assert_eq!(cursor["type"], json!(["object", "null"]));
            assert_eq!(cursor["examples"], json!([{}]));
            assert!(cursor.get("nullable").is_none());
            cursor = &cursor["properties"]["child"];
        }
        assert_eq!(
            cursor,
            &json!({"type": ["string", "null"], "examples": ["x"]})
        );
        discard(doc);
    }

    #[test]
    fn warnings_are_capped_for_deep_documents_with_a_problem_at_every_level() {
        let schema = nest(json!({}), DEEP, |child| {
            let mut map = Object::new();
            map.insert("nullable".into(), json!("yes"));
            map.insert("properties".into(), single("p", child));
            Value::Object(map)
        });
        let mut doc = schemas30(single("Deep", schema));
        let (_, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(warnings.len(), MAX_WARNINGS + 1);
        assert_warning(
            &warnings,
            "/components/schemas/Deep/nullable",
            "expected a boolean",
        );
        assert_warning(&warnings, "", "the rest were not recorded");
        discard(doc);
    }

    #[test]
    fn deeply_nested_swagger_schemas_are_cloned_and_dropped_safely() {
        let leaf = json!({"$ref": "#/definitions/Leaf", "x-nullable": true});
        let deep = || {
            nest(leaf.clone(), DEEP, |v| {
                let mut map = Object::new();
                map.insert("type".into(), json!("array"));
                map.insert("items".into(), v);
                Value::Object(map)
            })
        };
        let mut doc = swagger(json!({"definitions": {"Leaf": {"type": "string"}}}));
        doc["definitions"]["Deep"] = deep();
        let mut body = json!({"name": "b", "in": "body"});
        body["schema"] = deep();
        let mut response = json!({"description": "ok"});
        response["schema"] = deep();
        let mut item = Object::new();
        item.insert("parameters".into(), Value::Array(vec![body]));
        let mut operation = json!({"consumes": ["application/json", "application/xml"], "produces": ["application/json", "text/plain"]});
        operation["responses"] = single("200", response);
        item.insert("post".into(), deep_clone(&operation));
        item.insert("put".into(), operation);
        doc["paths"] = single("/deep", Value::Object(item));

        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::Swagger2);
        assert!(warnings.is_empty(), "{warnings:?}");

        let check = |mut cursor: &Value| {
            for _ in 0..DEEP {
                assert_eq!(cursor["type"], "array");
                cursor = &cursor["items"];
            }
            assert_eq!(
                cursor,
                &json!({"anyOf": [{"$ref": "#/components/schemas/Leaf"}, {"type": "null"}]})
            );
        };
        check(&doc["components"]["schemas"]["Deep"]);
        for method in ["post", "put"] {
            let op = &doc["paths"]["/deep"][method];
            for media in ["application/json", "application/xml"] {
                check(&op["requestBody"]["content"][media]["schema"]);
            }
            for media in ["application/json", "text/plain"] {
                check(&op["responses"]["200"]["content"][media]["schema"]);
            }
        }
        discard(doc);
    }
}
