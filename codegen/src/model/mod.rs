//! Reads an OpenAPI 3.1 document (as a JSON value) into the operations, parameters, bodies,
//! responses and security schemes the tool builder works with. References to components are
//! followed here; schemas stay as they are (the schema module converts them).

pub mod extension;

use serde_json::{Map, Value};

use crate::pointer::fragment_pointer;
use crate::pointer::push_token as pointer_push;
use crate::schema::kind;

/// A problem found while reading the document, located by JSON pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    /// Where.
    pub pointer: String,
    /// What.
    pub message: String,
}

fn err(pointer: &str, message: impl Into<String>) -> ModelError {
    ModelError {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// The parts of an API document the generator uses.
#[derive(Debug, Clone)]
pub struct Api {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// Absolute server URLs, variables filled with their defaults.
    pub servers: Vec<String>,
    /// `components.securitySchemes`, in document order.
    pub security_schemes: Vec<SecurityScheme>,
    /// Every operation, in document order.
    pub operations: Vec<Operation>,
    /// The document's `tags`, with OpenAPI 3.2's hierarchy (`parent`, `kind`, `summary`).
    pub tags: Vec<Tag>,
    /// Things that were skipped or simplified, for the user.
    pub warnings: Vec<ModelError>,
}

/// One entry of the document's `tags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// `name`.
    pub name: String,
    /// `parent` (3.2): the name of the tag this one is nested under.
    pub parent: Option<String>,
    /// `kind` (3.2), e.g. `nav`, `badge` or `audience`.
    pub kind: Option<String>,
    /// `summary` (3.2): a short title.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
}

impl Api {
    /// `tag` and every tag nested under it through `parent`, at any depth (a loop of parents
    /// ends where it closes).
    pub fn tag_with_descendants(&self, tag: &str) -> Vec<String> {
        let mut out = vec![tag.to_owned()];
        let mut i = 0;
        while i < out.len() {
            for child in &self.tags {
                if child.parent.as_deref() == Some(out[i].as_str()) && !out.contains(&child.name) {
                    out.push(child.name.clone());
                }
            }
            i += 1;
        }
        out
    }
}

/// How a security scheme sends its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeKind {
    /// A bearer token in `Authorization` (http bearer, and the access token of oauth2 schemes
    /// without a client-credentials flow and of openIdConnect schemes).
    Bearer,
    /// An oauth2 scheme with a `clientCredentials` flow: the server fetches its access token
    /// from the token URL with a client id and secret, and sends it as a bearer token.
    OAuth2ClientCredentials {
        /// The flow's `tokenUrl` (may be relative to the server URL).
        token_url: String,
        /// The scopes the flow declares.
        scopes: Vec<String>,
    },
    /// http basic.
    Basic,
    /// An API key in a header, query parameter or cookie.
    ApiKey {
        /// Where.
        location: Location,
        /// The header, parameter or cookie name.
        name: String,
    },
}

/// One security alternative: the keys of the schemes that apply together, each with the
/// scopes it asks for (scopes mean something only to oauth2 and openIdConnect schemes).
pub type Requirement = Vec<(String, Vec<String>)>;

/// One entry of `components.securitySchemes`.
#[derive(Debug, Clone)]
pub struct SecurityScheme {
    /// Its key.
    pub key: String,
    /// How it is sent.
    pub kind: SchemeKind,
}

pub use crate::descriptor::{ParamLocation as Location, ParamStyle};

/// An operation: one method on one path.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Pointer to the operation object.
    pub pointer: String,
    /// Lower-case method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// `operationId`.
    pub operation_id: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// Path-level and operation-level parameters, merged.
    pub params: Vec<Param>,
    /// The request body, if any.
    pub body: Option<Body>,
    /// The JSON schema of the first successful response, if it has one.
    pub response: Option<ResponseSchema>,
    /// Security alternatives: each the schemes that apply together.
    pub security: Vec<Requirement>,
    /// The `x-mcpgen` settings of the operation and its path item.
    pub extension: crate::model::extension::Extension,
}

/// A parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Pointer to the parameter object (after following its `$ref`).
    pub pointer: String,
    /// Wire name.
    pub name: String,
    /// Location.
    pub location: Location,
    /// `required` (always true for path parameters).
    pub required: bool,
    /// `description`.
    pub description: Option<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// The schema, or `{}` when none is given.
    pub schema: Value,
    /// Pointer of the schema, for errors.
    pub schema_pointer: String,
    /// `style`, defaulted by location.
    pub style: ParamStyle,
    /// `explode`, defaulted by style.
    pub explode: bool,
    /// `allowReserved`.
    pub allow_reserved: bool,
    /// Serialised as JSON text (`content: application/json`).
    pub json: bool,
}

pub use crate::descriptor::BodyEncoding;

/// A request body.
#[derive(Debug, Clone)]
pub struct Body {
    /// Pointer of the chosen media type object.
    pub pointer: String,
    /// The chosen media type.
    pub media_type: String,
    /// Its encoding.
    pub encoding: BodyEncoding,
    /// The schema (`{}` when none).
    pub schema: Value,
    /// `required`.
    pub required: bool,
    /// `description`.
    pub description: Option<String>,
}

/// The schema of a successful JSON response.
#[derive(Debug, Clone)]
pub struct ResponseSchema {
    /// The schema: of the whole answer, or of each item of a stream.
    pub schema: Value,
    /// Pointer of the schema.
    pub pointer: String,
    /// The answer is a sequence of items (an OpenAPI 3.2 `itemSchema`), in this format.
    pub stream: Option<StreamKind>,
}

/// A sequential media type whose items an OpenAPI 3.2 `itemSchema` describes.
pub use crate::descriptor::StreamFormat as StreamKind;

/// The stream format of media type `media` (any case, parameters allowed), if it is one of
/// the sequential media types.
pub fn stream_media(media: &str) -> Option<StreamKind> {
    match media_essence(media).as_str() {
        "text/event-stream" => Some(StreamKind::Events),
        "application/jsonl"
        | "application/x-jsonl"
        | "application/jsonlines"
        | "application/x-jsonlines"
        | "application/x-ndjson"
        | "application/ndjson" => Some(StreamKind::JsonLines),
        "application/json-seq" => Some(StreamKind::JsonSeq),
        _ => None,
    }
}

/// Reads the document. Only structural problems that make the whole document unusable are
/// errors; an operation that cannot be read is an error too unless `skip_broken` is set, in
/// which case it is left out with a warning.
pub fn read_api(doc: &Value, skip_broken: bool) -> Result<Api, ModelError> {
    let root = doc.as_object().ok_or_else(|| {
        err(
            "",
            format!("the document must be an object, found {}", kind(doc)),
        )
    })?;
    let info = root.get("info").and_then(Value::as_object);
    let text = |o: Option<&Map<String, Value>>, key: &str| {
        o.and_then(|o| o.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut warnings = Vec::new();
    let title = text(info, "title").unwrap_or_else(|| "API".to_owned());
    let version = text(info, "version").unwrap_or_else(|| "0.0.0".to_owned());
    let description = text(info, "description");
    let servers = read_servers(root.get("servers"));
    let security_schemes = read_security_schemes(doc, &mut warnings);
    let global_security = match root.get("security") {
        Some(s) => read_security(s, "/security", &security_schemes, &mut warnings)?,
        None => Vec::new(),
    };

    let mut operations = Vec::new();
    match root.get("paths") {
        None | Some(Value::Null) => {}
        Some(Value::Object(paths)) => {
            for (path, item) in paths {
                let item_at = pointer_push("/paths", path);
                if path.starts_with("x-") {
                    continue;
                }
                let result = read_path_item(
                    doc,
                    path,
                    item,
                    &item_at,
                    &global_security,
                    &security_schemes,
                    &mut warnings,
                    skip_broken,
                );
                match result {
                    Ok(ops) => operations.extend(ops),
                    Err(e) if skip_broken => warnings.push(e),
                    Err(e) => return Err(e),
                }
            }
        }
        Some(other) => {
            return Err(err(
                "/paths",
                format!("`paths` must be an object, found {}", kind(other)),
            ));
        }
    }
    let tags = read_tags(root.get("tags"), &mut warnings);
    Ok(Api {
        title,
        version,
        description,
        servers,
        security_schemes,
        operations,
        tags,
        warnings,
    })
}

/// The document's `tags`; an entry that is not an object with a name is skipped with a
/// warning, and so is a `parent` that names no tag.
fn read_tags(tags: Option<&Value>, warnings: &mut Vec<ModelError>) -> Vec<Tag> {
    let Some(Value::Array(list)) = tags else {
        return Vec::new();
    };
    let mut out: Vec<Tag> = Vec::with_capacity(list.len());
    for (i, tag) in list.iter().enumerate() {
        let at = pointer_push("/tags", &i.to_string());
        let text = |key: &str| tag.get(key).and_then(Value::as_str).map(str::to_owned);
        let Some(name) = text("name") else {
            warnings.push(err(&at, "a tag needs a `name`; this one is ignored"));
            continue;
        };
        out.push(Tag {
            name,
            parent: text("parent"),
            kind: text("kind"),
            summary: text("summary"),
            description: text("description"),
        });
    }
    for (i, tag) in out.iter_mut().enumerate() {
        if let Some(parent) = &tag.parent
            && !list
                .iter()
                .any(|t| t.get("name").and_then(Value::as_str) == Some(parent.as_str()))
        {
            warnings.push(err(
                &pointer_push(&pointer_push("/tags", &i.to_string()), "parent"),
                format!("`parent` names the tag `{parent}`, which the document does not define; the tag is read as a top-level tag"),
            ));
            tag.parent = None;
        }
    }
    out
}

fn read_servers(servers: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(list)) = servers else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|server| {
            let mut url = server.get("url")?.as_str()?.to_owned();
            if let Some(Value::Object(vars)) = server.get("variables") {
                for (name, var) in vars {
                    let default = var
                        .get("default")
                        .map(|d| match d {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default();
                    url = url.replace(&format!("{{{name}}}"), &default);
                }
            }
            Some(url)
        })
        .collect()
}

fn read_security_schemes(doc: &Value, warnings: &mut Vec<ModelError>) -> Vec<SecurityScheme> {
    let Some(Value::Object(schemes)) = doc.pointer("/components/securitySchemes") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, scheme) in schemes {
        let at = pointer_push("/components/securitySchemes", key);
        let (scheme, at) = match follow(doc, scheme, &at) {
            Ok(found) => found,
            Err(e) => {
                warnings.push(e);
                continue;
            }
        };
        let field = |k: &str| scheme.get(k).and_then(Value::as_str).unwrap_or_default();
        let kind = match field("type") {
            "http" if field("scheme").eq_ignore_ascii_case("bearer") => Some(SchemeKind::Bearer),
            "http" if field("scheme").eq_ignore_ascii_case("basic") => Some(SchemeKind::Basic),
            "oauth2" => Some(oauth2_kind(scheme)),
            "openIdConnect" => Some(SchemeKind::Bearer),
            "apiKey" => {
                let location = match field("in") {
                    "header" => Some(Location::Header),
                    "query" => Some(Location::Query),
                    "cookie" => Some(Location::Cookie),
                    _ => None,
                };
                match (location, field("name")) {
                    (Some(location), name) if !name.is_empty() => Some(SchemeKind::ApiKey {
                        location,
                        name: name.to_owned(),
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        match kind {
            Some(kind) => out.push(SecurityScheme {
                key: key.clone(),
                kind,
            }),
            None => warnings.push(err(
                &at,
                "this security scheme is not supported; operations that need it are called \
                 without it",
            )),
        }
    }
    out
}

/// An oauth2 scheme's kind: client credentials when it has that flow with a token URL (the
/// only flow a server can run on its own), else a bearer token supplied by the operator.
///
/// The other flows need a person: `authorizationCode` and `implicit` a browser, and OpenAPI
/// 3.2's `deviceAuthorization` (RFC 8628) someone who enters a code on another device. A
/// server answering tool calls can do neither, so it never runs them and never asks for a
/// credential in tool arguments: the operator runs the flow (the API's own CLI, say) and gives
/// the server the access token it ends with, which is sent as a bearer token. The flow's
/// `deviceAuthorizationUrl` and `tokenUrl` are never contacted.
fn oauth2_kind(scheme: &Value) -> SchemeKind {
    let flow = scheme.pointer("/flows/clientCredentials");
    let token_url = flow
        .and_then(|f| f.get("tokenUrl"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|u| !u.is_empty());
    match token_url {
        Some(token_url) => SchemeKind::OAuth2ClientCredentials {
            token_url: token_url.to_owned(),
            scopes: flow
                .and_then(|f| f.get("scopes"))
                .and_then(Value::as_object)
                .map(|s| s.keys().cloned().collect())
                .unwrap_or_default(),
        },
        None => SchemeKind::Bearer,
    }
}

fn read_security(
    value: &Value,
    at: &str,
    schemes: &[SecurityScheme],
    warnings: &mut Vec<ModelError>,
) -> Result<Vec<Requirement>, ModelError> {
    // One requirement written without the list around it (`security: {api_key: []}`) means
    // that requirement: swagger-parser and kin-openapi read it so too.
    let wrapped;
    let list = match value {
        Value::Array(list) => list,
        Value::Object(_) => {
            warnings.push(err(
                at,
                "`security` is an object, not an array of requirements; read as a list of \
                 that one requirement",
            ));
            wrapped = vec![value.clone()];
            &wrapped
        }
        Value::String(_) if scheme_named(value, schemes).is_some() => {
            wrapped = vec![value.clone()];
            &wrapped
        }
        _ => {
            return Err(err(
                at,
                format!(
                    "`security` must be an array of security requirements (objects), found \
                     {}; write e.g. `security: [{{api_key: []}}]`",
                    kind(value)
                ),
            ));
        }
    };
    let mut out = Vec::new();
    for (i, requirement) in list.iter().enumerate() {
        let here = pointer_push(at, &i.to_string());
        // The name of a defined scheme (or a list of just that name) where its requirement
        // belongs can only mean that scheme without scopes; a list of several names could
        // mean all of them or any one, so it stays refused.
        let named;
        let requirement = match scheme_named(requirement, schemes) {
            Some(scheme) => {
                let written = if requirement.is_array() {
                    format!("[{scheme}]")
                } else {
                    format!("`{scheme}`")
                };
                let place = if value.is_array() { &here } else { at };
                warnings.push(err(
                    place,
                    format!(
                        "a security requirement is an object of scheme names; {written} is read \
                         as `{{{scheme}: []}}`, the defined scheme `{scheme}` without scopes"
                    ),
                ));
                named = Value::Object(Map::from_iter([(
                    scheme.to_owned(),
                    Value::Array(Vec::new()),
                )]));
                &named
            }
            None => requirement,
        };
        let Value::Object(map) = requirement else {
            return Err(err(
                &here,
                format!(
                    "a security requirement must be an object of scheme names and their \
                     scopes, found {}; write e.g. `{{api_key: []}}` (all the schemes of one \
                     object are needed together; list objects for alternatives)",
                    kind(requirement)
                ),
            ));
        };
        if let Some(unknown) = map.keys().find(|k| !schemes.iter().any(|s| &s.key == *k)) {
            warnings.push(err(
                &here,
                format!("security scheme `{unknown}` is not defined or not supported; this alternative is ignored"),
            ));
            continue;
        }
        let requirement = map
            .iter()
            .map(|(key, scopes)| {
                let scopes = scopes
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                (key.clone(), scopes)
            })
            .collect();
        out.push(requirement);
    }
    Ok(out)
}

/// Where a `$ref` chain from a value ends.
pub(crate) enum Followed<'v> {
    /// At this value, found at this pointer.
    Found(&'v Value, String),
    /// At a reference that points to nothing: a pointer into the document that designates
    /// no value, or a reference into another file that the bundler could not read (it kept
    /// such references only where what they name may be left out, and said why).
    Nothing {
        /// The reference, as written.
        reference: String,
        /// The pointer to its `$ref` member.
        at: String,
    },
}

/// Follows a `$ref` chain from `value` within the document, telling a reference to nothing
/// apart from other problems: where the object it names may be left out (a parameter, a path
/// item, a response), the caller forgives it.
pub(crate) fn follow_lenient<'v>(
    doc: &'v Value,
    value: &'v Value,
    at: &str,
) -> Result<Followed<'v>, ModelError> {
    let mut current = value;
    let mut pointer = at.to_owned();
    for _ in 0..crate::limits::MAX_REF_HOPS {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return Ok(Followed::Found(current, pointer));
        };
        let ref_at = pointer_push(&pointer, "$ref");
        if !reference.starts_with('#') {
            // Bundling replaced every reference to another file it could read.
            return Ok(Followed::Nothing {
                reference: reference.to_owned(),
                at: ref_at,
            });
        }
        let target = fragment_pointer(reference).ok_or_else(|| {
            err(
                &pointer,
                format!("$ref `{reference}` is not a valid JSON pointer"),
            )
        })?;
        let Some(next) = crate::pointer::value_at(doc, &target) else {
            return Ok(Followed::Nothing {
                reference: reference.to_owned(),
                at: ref_at,
            });
        };
        current = next;
        pointer = target;
    }
    Err(err(at, "a loop of references"))
}

/// For a warning about a reference to nothing: what kind of nothing. A reference to another
/// file survives bundling only when that file could not be read (the bundler's warning says
/// why).
fn unread(reference: &str) -> &'static str {
    if reference.starts_with('#') {
        ""
    } else {
        " that could be read"
    }
}

/// The scheme a requirement names when it is written as a defined scheme's name, or as a list
/// of just that name, instead of an object.
fn scheme_named<'v>(requirement: &'v Value, schemes: &[SecurityScheme]) -> Option<&'v str> {
    let name = match requirement {
        Value::String(name) => name,
        Value::Array(names) => match names.as_slice() {
            [Value::String(name)] => name,
            _ => return None,
        },
        _ => return None,
    };
    schemes
        .iter()
        .any(|s| &s.key == name)
        .then_some(name.as_str())
}

/// Follows a `$ref` chain from `value` within the document.
pub fn follow<'v>(
    doc: &'v Value,
    value: &'v Value,
    at: &str,
) -> Result<(&'v Value, String), ModelError> {
    match follow_lenient(doc, value, at)? {
        Followed::Found(value, pointer) => Ok((value, pointer)),
        Followed::Nothing { reference, at } if !reference.starts_with('#') => Err(err(
            &at,
            format!(
                "$ref `{reference}` points into another document that could not be read; \
                 only references within the document are supported here"
            ),
        )),
        Followed::Nothing { reference, at } => {
            Err(err(&at, format!("$ref `{reference}` points to nothing")))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn read_path_item(
    doc: &Value,
    path: &str,
    item: &Value,
    at: &str,
    global_security: &[Requirement],
    schemes: &[SecurityScheme],
    warnings: &mut Vec<ModelError>,
    skip_broken: bool,
) -> Result<Vec<Operation>, ModelError> {
    let (item, item_at) = match follow_lenient(doc, item, at)? {
        Followed::Found(item, item_at) => (item, item_at),
        // Nothing to read operations from: the other paths are generated without it, as
        // swagger-parser and kin-openapi keep the document with a message.
        Followed::Nothing { reference, at } => {
            warnings.push(err(
                &at,
                format!(
                    "$ref `{reference}` points to nothing{}; this path item is left out (no \
                     tools for `{path}`)",
                    unread(&reference)
                ),
            ));
            return Ok(Vec::new());
        }
    };
    let Value::Object(item) = item else {
        return Err(err(
            &item_at,
            format!("a path item must be an object, found {}", kind(item)),
        ));
    };
    let shared = match item.get("parameters") {
        Some(p) => read_params(
            doc,
            path,
            p,
            &pointer_push(&item_at, "parameters"),
            warnings,
        )?,
        None => Vec::new(),
    };
    let item_extension = crate::model::extension::read(item, &item_at)?;
    if item_extension.resource.is_some() {
        return Err(err(
            &pointer_push(
                &pointer_push(&item_at, crate::model::extension::KEY),
                "resource",
            ),
            "a resource URI names one operation: put `resource` in the `x-mcpgen` of the \
             path item's GET operation",
        ));
    }
    if let Some(more) = item.get(crate::methods::ADDITIONAL) {
        check_additional_operations(more, &pointer_push(&item_at, crate::methods::ADDITIONAL))?;
    }
    let mut ops = Vec::new();
    for entry in crate::methods::operations(item) {
        let op = entry.operation;
        let method = entry.method.as_str();
        let op_at = entry
            .tokens
            .iter()
            .fold(item_at.clone(), |at, token| pointer_push(&at, token));
        let result = read_operation(
            doc,
            path,
            method,
            op,
            &op_at,
            &shared,
            global_security,
            schemes,
            warnings,
        )
        .and_then(|mut op| {
            let own = match crate::pointer::value_at(doc, &op_at).and_then(Value::as_object) {
                Some(o) => crate::model::extension::read(o, &op_at)?,
                None => Default::default(),
            };
            op.extension = item_extension.merged_with(own);
            let unknown = op.extension.unknown_params(&op.params);
            if let Some(first) = unknown.first() {
                return Err(err(
                    &pointer_push(
                        &pointer_push(&op_at, crate::model::extension::KEY),
                        "parameters",
                    ),
                    format!("`{first}` names no parameter of this operation"),
                ));
            }
            Ok(op)
        });
        match result {
            Ok(op) if op.extension.exclude => {}
            Ok(op) => ops.push(op),
            Err(e) if skip_broken => warnings.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok(ops)
}

/// Checks an OpenAPI 3.2 `additionalOperations` map: keyed by HTTP method tokens, none of
/// which has a field of its own (`get`, `query`, ...).
fn check_additional_operations(more: &Value, at: &str) -> Result<(), ModelError> {
    let Value::Object(map) = more else {
        return Err(err(
            at,
            format!(
                "`additionalOperations` must be an object keyed by HTTP method, found {}",
                kind(more)
            ),
        ));
    };
    for method in map.keys() {
        let here = pointer_push(at, method);
        if !crate::methods::is_token(method) {
            return Err(err(
                &here,
                format!(
                    "`{method}` is not an HTTP method name (letters, digits and !#$%&'*+-.^_`|~ only)"
                ),
            ));
        }
        let lower = method.to_ascii_lowercase();
        if crate::methods::FIXED.contains(&lower.as_str()) {
            return Err(err(
                &here,
                format!(
                    "{method} has a field of its own: write this operation as `{lower}` of the path item, not in `additionalOperations`"
                ),
            ));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn read_operation(
    doc: &Value,
    path: &str,
    method: &str,
    op: &Value,
    at: &str,
    shared: &[Param],
    global_security: &[Requirement],
    schemes: &[SecurityScheme],
    warnings: &mut Vec<ModelError>,
) -> Result<Operation, ModelError> {
    let Value::Object(o) = op else {
        return Err(err(
            at,
            format!("an operation must be an object, found {}", kind(op)),
        ));
    };
    let text = |key: &str| o.get(key).and_then(Value::as_str).map(str::to_owned);
    let own = match o.get("parameters") {
        Some(p) => read_params(doc, path, p, &pointer_push(at, "parameters"), warnings)?,
        None => Vec::new(),
    };
    // Operation-level parameters override path-level ones with the same name and location.
    let mut params: Vec<Param> = shared
        .iter()
        .filter(|s| {
            !own.iter()
                .any(|p| p.name == s.name && p.location == s.location)
        })
        .cloned()
        .collect();
    params.extend(own);
    check_querystring(&params, at)?;
    for name in template_names(path) {
        if !params
            .iter()
            .any(|p| p.location == Location::Path && p.name == name)
        {
            // Real documents forget these; the call cannot work without the value, so make it
            // a required string argument rather than refusing the operation.
            warnings.push(err(
                at,
                format!("path parameter `{name}` is used in the path but not declared; treating it as a required string"),
            ));
            params.push(Param {
                pointer: at.to_owned(),
                name: name.clone(),
                location: Location::Path,
                required: true,
                description: None,
                deprecated: false,
                schema: serde_json::json!({"type": "string"}),
                schema_pointer: at.to_owned(),
                style: ParamStyle::Simple,
                explode: false,
                allow_reserved: false,
                json: false,
            });
        }
    }
    let body = match o.get("requestBody") {
        Some(b) => read_body(doc, b, &pointer_push(at, "requestBody"), warnings)?,
        None => None,
    };
    let response = match o.get("responses") {
        Some(r) => read_response(doc, r, &pointer_push(at, "responses"), warnings)?,
        None => None,
    };
    let security = match o.get("security") {
        Some(s) => read_security(s, &pointer_push(at, "security"), schemes, warnings)?,
        None => global_security.to_vec(),
    };
    let tags = o
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Operation {
        pointer: at.to_owned(),
        method: method.to_owned(),
        path: path.to_owned(),
        operation_id: text("operationId").filter(|s| !s.trim().is_empty()),
        summary: text("summary").filter(|s| !s.trim().is_empty()),
        description: text("description").filter(|s| !s.trim().is_empty()),
        tags,
        deprecated: o
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        params,
        body,
        response,
        security,
        extension: Default::default(),
    })
}

/// An `in: querystring` parameter is the whole query string: it comes alone, without another
/// of its kind or any `in: query` parameter.
fn check_querystring(params: &[Param], at: &str) -> Result<(), ModelError> {
    let mut whole = params
        .iter()
        .filter(|p| p.location == Location::QueryString);
    let Some(first) = whole.next() else {
        return Ok(());
    };
    if let Some(second) = whole.next() {
        return Err(err(
            &second.pointer,
            format!(
                "`{}` is a second `in: querystring` parameter of {at}; one describes the whole query string",
                second.name
            ),
        ));
    }
    if let Some(query) = params.iter().find(|p| p.location == Location::Query) {
        return Err(err(
            &query.pointer,
            format!(
                "`{}` is an `in: query` parameter, but `{}` (in: querystring) already describes the whole query string",
                query.name, first.name
            ),
        ));
    }
    Ok(())
}

/// The `{name}`s of a path template, in order.
pub fn template_names(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push(rest[start + 1..start + len].to_owned());
        rest = &rest[start + len + 1..];
    }
    out
}

/// Whether `value`, found where a list of parameters belongs, is one Parameter Object (or a
/// reference to one) written without the list around it: an object with `$ref`, or with `name`
/// and `in`. A map of named parameters is not one.
pub(crate) fn is_one_parameter(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.get("$ref").is_some_and(Value::is_string)
            || (o.get("name").is_some_and(Value::is_string)
                && o.get("in").is_some_and(Value::is_string))
    })
}

/// The warning for a parameter written without the list around it.
pub(crate) const ONE_PARAMETER_WARNING: &str =
    "`parameters` is one parameter object, not an array; read as a list of that one parameter";

/// Whether `value` has a string `name` or `in`: what a parameter has and a schema has not.
fn has_parameter_fields(value: &Value) -> bool {
    ["name", "in"]
        .iter()
        .any(|k| value.get(*k).is_some_and(Value::is_string))
}

/// `{name, in, $ref, ...}` where `$ref` names a schema (or nothing) rather than a parameter:
/// the parameter its own fields describe, with the reference as its schema. Swagger 2
/// documents write this (go-openapi's issue 342), meaning "a parameter of this type".
fn parameter_around_schema_ref(object: &Value, reference: &str) -> Option<Value> {
    let o = object.as_object()?;
    let named = o
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !named || !o.get("in").is_some_and(Value::is_string) {
        return None;
    }
    let mut param: Map<String, Value> = o
        .iter()
        .filter(|(k, _)| k.as_str() != "$ref")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !param.contains_key("content") {
        param
            .entry("schema")
            .or_insert_with(|| serde_json::json!({ "$ref": reference }));
    }
    Some(Value::Object(param))
}

fn read_params(
    doc: &Value,
    path: &str,
    list: &Value,
    at: &str,
    warnings: &mut Vec<ModelError>,
) -> Result<Vec<Param>, ModelError> {
    // One parameter written without the list around it means that parameter, as one security
    // requirement without its list does (see `read_security`).
    let wrapped;
    let list = if is_one_parameter(list) {
        warnings.push(err(at, ONE_PARAMETER_WARNING));
        wrapped = Value::Array(vec![list.clone()]);
        &wrapped
    } else {
        list
    };
    let Value::Array(list) = list else {
        return Err(err(
            at,
            format!("`parameters` must be an array, found {}", kind(list)),
        ));
    };
    let mut out: Vec<Param> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let item_at = pointer_push(at, &i.to_string());
        let reference = item.get("$ref").and_then(Value::as_str);
        // A parameter that names a schema or nothing is read from its own fields when it has
        // them; without them the tool cannot send it, and leaving it out is the one reading
        // that does not invent a name or a location (the upstream API stays the judge).
        let around_ref;
        let mut around = false;
        let (p, p_at) = match follow_lenient(doc, item, &item_at)? {
            Followed::Found(target, target_at) => match reference {
                Some(reference) if !has_parameter_fields(target) => {
                    if let Some(param) = parameter_around_schema_ref(item, reference) {
                        warnings.push(err(
                            &pointer_push(&item_at, "$ref"),
                            format!(
                                "$ref `{reference}` names no parameter (it has neither `name` \
                                 nor `in`); read as the schema of the parameter that the \
                                 fields beside it describe"
                            ),
                        ));
                        around_ref = param;
                        around = true;
                        (&around_ref, item_at)
                    } else {
                        warnings.push(err(
                            &pointer_push(&item_at, "$ref"),
                            format!(
                                "$ref `{reference}` names no parameter (it has neither `name` \
                                 nor `in`, as a schema has), so the tool cannot send it; it \
                                 is left out"
                            ),
                        ));
                        continue;
                    }
                }
                _ => (target, target_at),
            },
            Followed::Nothing {
                reference,
                at: ref_at,
            } => {
                if let Some(param) = parameter_around_schema_ref(item, &reference) {
                    warnings.push(err(
                        &ref_at,
                        format!(
                            "$ref `{reference}` points to nothing{}; read as the schema of \
                             the parameter that the fields beside it describe",
                            unread(&reference)
                        ),
                    ));
                    around_ref = param;
                    around = true;
                    (&around_ref, item_at)
                } else {
                    warnings.push(err(
                        &ref_at,
                        format!(
                            "$ref `{reference}` points to nothing{}; this parameter is left \
                             out (the tool does not send it)",
                            unread(&reference)
                        ),
                    ));
                    continue;
                }
            }
        };
        let Value::Object(o) = p else {
            return Err(err(
                &p_at,
                format!("a parameter must be an object, found {}", kind(p)),
            ));
        };
        let field = |k: &str| o.get(k).and_then(Value::as_str);
        let name = match field("name").filter(|n| !n.is_empty()) {
            Some(name) => name.to_owned(),
            // The whole query string goes without a name; its argument needs one.
            None if field("in") == Some("querystring") => {
                warnings.push(err(
                    &p_at,
                    "an `in: querystring` parameter has no `name`; its argument is called \
                     `querystring`",
                ));
                "querystring".to_owned()
            }
            None => {
                warnings.push(err(
                    &p_at,
                    "a parameter needs a non-empty `name` to be sent; this one is left out \
                     (the tool does not send it)",
                ));
                continue;
            }
        };
        let location = match field("in") {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            Some("header") => Location::Header,
            Some("cookie") => Location::Cookie,
            Some("querystring") => Location::QueryString,
            // Only a path parameter may be named in the path template, and one named there
            // must be declared: the template says where it goes.
            None if template_names(path).contains(&name) => {
                warnings.push(err(
                    &p_at,
                    format!(
                        "parameter `{name}` has no `in`; read as `in: path`, since the path \
                         template names `{{{name}}}`"
                    ),
                ));
                Location::Path
            }
            other => {
                // Where to send it would be a guess: refused, saying what to write.
                let found = match other {
                    Some(text) => format!("`{text}`"),
                    None => "no `in`".to_owned(),
                };
                return Err(err(
                    &pointer_push(&p_at, "in"),
                    format!(
                        "`in` must be path, query, querystring, header or cookie, found {found}; \
                         add the location the API expects (or pass `--skip-broken` to leave \
                         the operation out)"
                    ),
                ));
            }
        };
        if location == Location::QueryString
            && !matches!(o.get("content"), Some(Value::Object(c)) if c.len() == 1)
        {
            return Err(err(
                &p_at,
                "an `in: querystring` parameter describes the whole query string with `content`: one media type and its schema",
            ));
        }
        // OpenAPI says these header parameters are ignored: the transport sets them.
        if location == Location::Header
            && ["accept", "content-type", "authorization"]
                .contains(&name.to_ascii_lowercase().as_str())
        {
            continue;
        }
        // The schema of a parameter read around a reference is that reference, written at
        // the parameter itself.
        let schema_home = if around {
            p_at.clone()
        } else {
            pointer_push(&p_at, "schema")
        };
        let (mut schema, mut schema_pointer, mut json) =
            (serde_json::json!({}), schema_home, false);
        if let Some(s) = o.get("schema") {
            schema = s.clone();
        } else if let Some(Value::Object(content)) = o.get("content")
            && let Some((media, m)) = content.iter().next()
        {
            schema_pointer = pointer_push(
                &pointer_push(&pointer_push(&p_at, "content"), media),
                "schema",
            );
            schema = m
                .get("schema")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({}));
            json = media.contains("json");
        }
        let style = field("style").map_or(location.default_style(), ParamStyle::from_name);
        let explode = o
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style.explodes_by_default());
        let param = Param {
            pointer: p_at.clone(),
            name,
            location,
            required: location == Location::Path
                || o.get("required").and_then(Value::as_bool).unwrap_or(false),
            description: field("description").map(str::to_owned),
            deprecated: o
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            schema,
            schema_pointer,
            style,
            explode,
            allow_reserved: o
                .get("allowReserved")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            json,
        };
        // A later duplicate (same name and location) replaces the earlier one.
        out.retain(|q| !(q.name == param.name && q.location == param.location));
        out.push(param);
    }
    Ok(out)
}

/// A media type without its parameters, in lower case: `Application/JSON; charset=utf-8` is
/// `application/json`.
fn media_essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_json_media(media: &str) -> bool {
    let m = media_essence(media);
    m == "application/json" || m.ends_with("+json") || m == "*/*" || m == "application/*"
}

fn media_rank(m: &str) -> u8 {
    if is_json_media(m) && m != "*/*" {
        0
    } else if m.starts_with("application/x-www-form-urlencoded") {
        1
    } else if m.starts_with("multipart/form-data") {
        2
    } else if m.starts_with("text/plain") {
        3
    } else if m == "*/*" {
        4
    } else if body_encoding(m) == BodyEncoding::Text {
        5
    } else {
        6
    }
}

/// How a request body of media type `m` (lower case) is encoded.
fn body_encoding(m: &str) -> BodyEncoding {
    if is_json_media(m) {
        BodyEncoding::Json
    } else if m.starts_with("application/x-www-form-urlencoded") {
        BodyEncoding::Form
    } else if m.starts_with("multipart/") {
        BodyEncoding::Multipart
    } else if m.starts_with("text/")
        || m.contains("xml")
        || m.contains("yaml")
        || m.contains("javascript")
        || m.contains("graphql")
        || m.contains("csv")
    {
        BodyEncoding::Text
    } else {
        BodyEncoding::Binary
    }
}

fn read_body(
    doc: &Value,
    body: &Value,
    at: &str,
    warnings: &mut Vec<ModelError>,
) -> Result<Option<Body>, ModelError> {
    let (body, body_at) = follow(doc, body, at)?;
    let Value::Object(o) = body else {
        return Err(err(
            &body_at,
            format!("a request body must be an object, found {}", kind(body)),
        ));
    };
    let Some(Value::Object(content)) = o.get("content") else {
        return Ok(None);
    };
    // JSON first, then forms, then text, then raw bytes: the order in which models produce
    // correct values most easily.
    let ranked = content
        .iter()
        .min_by_key(|(media, _)| (media_rank(&media.to_ascii_lowercase()), media.len()));
    let Some((media, media_object)) = ranked else {
        return Ok(None);
    };
    let m = media.to_ascii_lowercase();
    let encoding = body_encoding(&m);
    let _ = warnings;
    let media_at = pointer_push(&pointer_push(&body_at, "content"), media);
    let schema = match encoding {
        BodyEncoding::Text => serde_json::json!({"type": "string"}),
        BodyEncoding::Binary => serde_json::json!({
            "type": "string",
            "contentEncoding": "base64",
            "description": format!("The {media} content: base64, or a data URI (data:<type>;base64,<data>).")
        }),
        _ => media_object
            .get("schema")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({})),
    };
    Ok(Some(Body {
        pointer: media_at,
        media_type: if media == "*/*" {
            "application/json".to_owned()
        } else {
            media.clone()
        },
        encoding,
        schema,
        required: o.get("required").and_then(Value::as_bool).unwrap_or(false),
        description: o
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }))
}

fn read_response(
    doc: &Value,
    responses: &Value,
    at: &str,
    warnings: &mut Vec<ModelError>,
) -> Result<Option<ResponseSchema>, ModelError> {
    let Value::Object(map) = responses else {
        return Err(err(
            at,
            format!("`responses` must be an object, found {}", kind(responses)),
        ));
    };
    let mut codes: Vec<&String> = map
        .keys()
        .filter(|k| k.starts_with('2') && k.len() == 3)
        .collect();
    // Explicit codes before ranges (`2XX`), lowest first.
    codes.sort_by_key(|k| (k.contains(['X', 'x']), (*k).clone()));
    let Some(code) = codes.first() else {
        return Ok(None);
    };
    let response_at = pointer_push(at, code);
    let (response, response_at) = match follow_lenient(doc, &map[*code], &response_at)? {
        Followed::Found(response, response_at) => (response, response_at),
        // What the answer looks like is unknown, which is no reason to refuse the call: the
        // tool describes no output, as for a response without content.
        Followed::Nothing { reference, at } => {
            warnings.push(err(
                &at,
                format!(
                    "$ref `{reference}` points to nothing{}; the `{code}` response is read as \
                     one without content (the tool has no output schema)",
                    unread(&reference)
                ),
            ));
            return Ok(None);
        }
    };
    let Some(Value::Object(content)) = response.get("content") else {
        return Ok(None);
    };
    let json = content
        .iter()
        .filter(|(m, _)| is_json_media(m))
        .min_by_key(|(m, _)| (m.as_str() == "*/*", m.len()));
    let schema_at = |media: &str, key: &str| {
        pointer_push(
            &pointer_push(&pointer_push(&response_at, "content"), media),
            key,
        )
    };
    let whole = json.and_then(|(media, m)| {
        m.get("schema").map(|schema| ResponseSchema {
            schema: schema.clone(),
            pointer: schema_at(media, "schema"),
            stream: None,
        })
    });
    if whole.is_some() {
        return Ok(whole);
    }
    // OpenAPI 3.2: a sequential media type whose `itemSchema` describes each item.
    let stream = content.iter().find_map(|(media, m)| {
        let kind = stream_media(media)?;
        let items = m.get("itemSchema")?;
        Some((media, kind, items))
    });
    Ok(stream.map(|(media, kind, items)| {
        let kind = match kind {
            StreamKind::Events => event_stream_kind(doc, items),
            other => other,
        };
        ResponseSchema {
            schema: items.clone(),
            pointer: schema_at(media, "itemSchema"),
            stream: Some(kind),
        }
    }))
}

/// How the items of a `text/event-stream` answer look, from its `itemSchema`: event objects
/// (`data`, `event`, `id`, `retry`) with text or JSON `data`, or the JSON data of each event
/// when the schema describes no event fields.
fn event_stream_kind(doc: &Value, items: &Value) -> StreamKind {
    let resolved = follow(doc, items, "").map_or(items, |(v, _)| v);
    let properties = resolved.get("properties").and_then(Value::as_object);
    let is_event = properties.is_some_and(|p| {
        ["data", "event", "id", "retry"]
            .iter()
            .any(|k| p.contains_key(*k))
    });
    if !is_event {
        return StreamKind::EventData;
    }
    let data = properties
        .and_then(|p| p.get("data"))
        .map(|d| follow(doc, d, "").map_or(d, |(v, _)| v));
    let Some(data) = data else {
        return StreamKind::Events;
    };
    // A string (the wire form, possibly with `contentMediaType`/`contentSchema`), or a schema
    // that says nothing of the shape, stays text; any other shape is parsed from JSON.
    let shaped = [
        "type",
        "properties",
        "items",
        "allOf",
        "anyOf",
        "oneOf",
        "$ref",
        "enum",
        "const",
    ]
    .iter()
    .any(|k| data.get(*k).is_some());
    match data.get("type") {
        Some(Value::String(t)) if t == "string" => StreamKind::Events,
        _ if !shaped => StreamKind::Events,
        _ => StreamKind::EventsJson,
    }
}
