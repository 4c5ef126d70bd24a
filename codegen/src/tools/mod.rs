//! Maps each operation to one MCP tool: its name, description, input and output schemas,
//! annotations, and the call plan the runtime executes.

pub mod headers;
pub mod naming;
pub mod overrides;
pub mod pagination;

use serde_json::{Map, Value, json};

use crate::model::extension::ParamOverride;
use crate::model::{
    Api, Body, BodyEncoding, Location, Operation, Param, ParamStyle, SchemeKind, StreamKind,
};
use crate::pointer::fragment_token as escape_fragment;
use crate::schema::{SchemaError, SchemaSet, is_object_schema, open_refs};
use naming::{NameAllocator, ToolNames};

/// Bytes of `$defs` an input schema may carry: far more than any real request body needs,
/// so nothing a caller must send is left out in practice; it only stops pathological growth.
pub const INPUT_DEFS_BUDGET: usize = 256 * 1024;
/// Bytes of `$defs` an output schema may carry. Output schemas document answers; beyond this,
/// nested objects are described by name only, which keeps `tools/list` of large APIs usable.
pub const OUTPUT_DEFS_BUDGET: usize = 32 * 1024;

/// Everything generated for one API.
#[derive(Debug, Clone)]
pub struct ApiSpec {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// The server name sent in `initialize`.
    pub server_name: String,
    /// Instructions sent in `initialize`.
    pub instructions: String,
    /// The first absolute server URL of the document.
    pub default_base_url: Option<String>,
    /// Prefix of the server's environment variables.
    pub env_prefix: String,
    /// Security schemes, indexed by the call plans.
    pub schemes: Vec<SchemeSpec>,
    /// One tool per operation.
    pub tools: Vec<ToolSpec>,
    /// Schema keywords left out and operations skipped, by pointer.
    pub warnings: Vec<SchemaError>,
    /// How the server offers its operations.
    pub mode: crate::Mode,
    /// The document the tools come from, limited to their operations, as compact JSON: the
    /// server's `openapi://spec` resource.
    pub openapi: Option<String>,
    /// The server's guardrails, as the settings chose them.
    pub guardrails: crate::guardrails::GuardrailSettings,
    /// The prompts: guides per tag and workflows.
    pub prompts: Vec<crate::prompts::PromptSpec>,
    /// The APIs of a server of several documents, owning runs of `tools` and `schemes` in
    /// order; empty for a server of one document.
    pub apis: Vec<UpstreamApiSpec>,
}

/// One API of a server of several documents.
#[derive(Debug, Clone)]
pub struct UpstreamApiSpec {
    /// Its namespace: its tools' prefix (before `_`), and the `NAME` of `--base-url NAME=URL`.
    pub name: String,
    /// Its document's `info.title`.
    pub title: String,
    /// The first absolute server URL of its document.
    pub default_base_url: Option<String>,
    /// Prefix of its environment variables (`<PREFIX>_BASE_URL`).
    pub env_prefix: String,
    /// Its document, limited to its tools' operations, as compact JSON.
    pub openapi: Option<String>,
    /// How many of the server's tools, after those of the APIs before, are its.
    pub tool_count: usize,
    /// How many of the server's security schemes are its, likewise.
    pub scheme_count: usize,
}

/// A security scheme and the environment variables that configure it.
#[derive(Debug, Clone)]
pub struct SchemeSpec {
    /// Its key in the document.
    pub key: String,
    /// How the credential is sent.
    pub kind: SchemeKind,
    /// Variable names: one, or two (user, password) for basic auth.
    pub env: Vec<String>,
}

/// One MCP tool.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// Unique valid name.
    pub name: String,
    /// The operation's summary.
    pub title: Option<String>,
    /// What the model reads.
    pub description: String,
    /// Input JSON Schema.
    pub input_schema: Value,
    /// Output JSON Schema, when the success response is JSON.
    pub output_schema: Option<Value>,
    /// Whether the structured result is `{"result": <answer>}`.
    pub output_wrapped: bool,
    /// Behaviour hints.
    pub hints: Hints,
    /// The successful answer is a stream of items (OpenAPI 3.2 `itemSchema`) in this format;
    /// the output schema is then `{"result": [item, ...]}`.
    pub stream: Option<StreamKind>,
    /// The HTTP call.
    pub plan: PlanSpec,
    /// Tags of the operation, for documentation and operation search.
    pub tags: Vec<String>,
    /// Reached only through the search tools (mixed mode: not among the selected operations).
    pub search_only: bool,
    /// Masking, rate limit and confirmation beyond the server's (see [`crate::guardrails`]).
    pub guardrails: ToolGuardrailSpec,
    /// How its answers come in pages, when they recognisably do.
    pub pagination: Option<pagination::PaginationSpec>,
    /// The operation runs long: it answers 202 Accepted with a status URL to poll.
    pub long_running: bool,
    /// The resource the document (or the settings) make of the operation.
    pub resource: Option<ResourceSpec>,
}

/// The resource a GET operation is (see [`crate::resources`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    /// A URI, or a URI template whose variables are the operation's path parameters.
    pub uri: String,
    /// The media type of the operation's documented answer.
    pub mime_type: Option<String>,
}

/// Guardrails of one tool beyond the server's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolGuardrailSpec {
    /// Fields masked in its answers (`PATH` or `PATH=ACTION`).
    pub masked_fields: Vec<String>,
    /// Calls per caller (`N/s`).
    pub rate_limit: Option<String>,
    /// Needs confirmation whatever its method, when confirmation is on.
    pub confirm: bool,
}

/// Annotations derived from the method (as RFC 9110 defines its safety and idempotence).
pub use crate::descriptor::ToolHints as Hints;

/// The HTTP call behind a tool.
#[derive(Debug, Clone)]
pub struct PlanSpec {
    /// Upper-case method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Parameters.
    pub params: Vec<ParamSpec>,
    /// Body.
    pub body: Option<BodySpec>,
    /// Security alternatives as scheme indices.
    pub security: Vec<Vec<usize>>,
    /// Scopes the security requirements ask of OAuth 2.0 client-credentials schemes.
    pub oauth_scopes: Vec<String>,
    /// Scopes a caller's access token must carry (in resource-server mode): those of the
    /// first security alternative that names scopes.
    pub caller_scopes: Vec<String>,
}

/// One parameter of the call.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    /// Argument name.
    pub arg: String,
    /// Wire name.
    pub name: String,
    /// Location.
    pub location: Location,
    /// How the value is serialised.
    pub style: ParamStyle,
    /// explode.
    pub explode: bool,
    /// allowReserved.
    pub allow_reserved: bool,
    /// JSON-encoded value.
    pub json: bool,
    /// A value fixed by `x-mcpgen`: always sent, not an argument.
    pub fixed: Option<Value>,
}

/// Where the body comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyShapeSpec {
    /// Top-level arguments with these names are the body's properties.
    Flattened(Vec<String>),
    /// This argument is the whole body.
    Whole(String),
}

/// The request body of the call.
#[derive(Debug, Clone)]
pub struct BodySpec {
    /// Content type.
    pub media_type: String,
    /// Encoding.
    pub encoding: BodyEncoding,
    /// Shape.
    pub shape: BodyShapeSpec,
    /// Required.
    pub required: bool,
    /// Multipart fields that are files.
    pub file_fields: Vec<String>,
}

/// Options that change the mapping.
#[derive(Debug, Clone)]
pub struct MappingOptions {
    /// Server name in `initialize`.
    pub server_name: String,
    /// Environment variable prefix.
    pub env_prefix: String,
    /// Leave out, with a warning, an operation whose schemas cannot be converted.
    pub skip_broken: bool,
    /// Which tool names are given and accepted.
    pub tool_names: ToolNames,
}

/// Builds every tool of `api`, whose schemas live in `doc`.
/// The most JSON nodes the input and output schemas of all tools may hold together. Each tool
/// carries its own copy of what it uses, so a small document whose large parameter is shared
/// by thousands of operations would otherwise take gigabytes. The largest real APIs (Stripe:
/// a 16 MB tool list) stay well under it.
pub const MAX_TOOL_SCHEMA_NODES: usize = 5_000_000;

/// Nodes in `value`, counted without recursion.
fn node_count(value: &Value) -> usize {
    let mut count = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        count += 1;
        match v {
            Value::Object(map) => stack.extend(map.values()),
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    count
}

pub fn build_api(api: &Api, doc: &Value, options: &MappingOptions) -> Result<ApiSpec, SchemaError> {
    let mut schemas = SchemaSet::new(doc);
    let mut names = NameAllocator::for_tools(options.tool_names);
    let schemes: Vec<SchemeSpec> = api
        .security_schemes
        .iter()
        .map(|s| SchemeSpec {
            key: s.key.clone(),
            kind: s.kind.clone(),
            env: env_names(&options.env_prefix, &s.key, &s.kind),
        })
        .collect();
    let mut tools = Vec::with_capacity(api.operations.len());
    let mut skipped = Vec::new();
    let mut schema_nodes = 0usize;
    for op in &api.operations {
        let name = match (&op.extension.name, &op.operation_id) {
            (Some(name), _) => {
                options
                    .tool_names
                    .check(name)
                    .map_err(|message| SchemaError {
                        pointer: extension_name_pointer(doc, op),
                        message,
                    })?;
                names.allocate_given(name)
            }
            (None, Some(id)) => names.allocate(id),
            (None, None) => names.allocate(&naming::from_method_and_path(&op.method, &op.path)),
        };
        match build_tool(op, name, &mut schemas, &schemes) {
            Ok(mut tool) => {
                tool.pagination = pagination::detect(op, &tool, doc);
                tool.long_running = op
                    .extension
                    .task
                    .unwrap_or_else(|| answers_accepted(op, doc));
                if tool.long_running {
                    // What a call finally gives is the status URL's answer, which the
                    // document does not describe: no schema is promised for it.
                    tool.output_schema = None;
                }
                schema_nodes += node_count(&tool.input_schema)
                    + tool.output_schema.as_ref().map_or(0, node_count);
                if schema_nodes > MAX_TOOL_SCHEMA_NODES {
                    return Err(SchemaError {
                        pointer: op.pointer.clone(),
                        message: format!(
                            "the tools' schemas up to this operation hold more than \
                             {MAX_TOOL_SCHEMA_NODES} JSON nodes together (every tool carries its \
                             own copy of the parameters and schemas it uses, so a large shared \
                             parameter multiplies by the operations using it); select fewer \
                             operations (--include-tag, --include-operation) or shrink the \
                             shared schemas with an overlay"
                        ),
                    });
                }
                tools.push(tool)
            }
            Err(e) if options.skip_broken => skipped.push(SchemaError {
                pointer: e.pointer,
                message: format!(
                    "{} (operation {} {} left out)",
                    e.message,
                    op.method.to_ascii_uppercase(),
                    op.path
                ),
            }),
            Err(e) => return Err(e),
        }
    }
    let mut warnings = skipped;
    warnings.append(&mut schemas.warnings);
    Ok(ApiSpec {
        title: api.title.clone(),
        version: api.version.clone(),
        description: api.description.clone(),
        server_name: options.server_name.clone(),
        instructions: instructions(api, &schemes),
        default_base_url: api
            .servers
            .iter()
            .find(|u| u.starts_with("http://") || u.starts_with("https://"))
            .cloned(),
        env_prefix: options.env_prefix.clone(),
        schemes,
        tools,
        warnings,
        guardrails: crate::guardrails::GuardrailSettings::default(),
        prompts: Vec::new(),
        mode: crate::Mode::Tools,
        openapi: None,
        apis: Vec::new(),
    })
}

/// Whether `op` documents a 202 Accepted answer: work that goes on after the answer.
fn answers_accepted(op: &Operation, doc: &Value) -> bool {
    crate::pointer::value_at(doc, &format!("{}/responses", op.pointer))
        .and_then(Value::as_object)
        .is_some_and(|responses| responses.contains_key("202"))
}

/// Where the `x-mcpgen` `name` of `op` is written: on the operation, else on its path item.
fn extension_name_pointer(doc: &Value, op: &Operation) -> String {
    let on = |at: &str| {
        let here = crate::pointer::push_token(
            &crate::pointer::push_token(at, crate::model::extension::KEY),
            "name",
        );
        crate::pointer::value_at(doc, &here).map(|_| here)
    };
    on(&op.pointer)
        .or_else(|| on(&crate::pointer::push_token("/paths", &op.path)))
        .unwrap_or_else(|| op.pointer.clone())
}

/// `bearerAuth` → `PREFIX_BEARER_AUTH_TOKEN`; basic auth gets `_USERNAME` and `_PASSWORD`.
pub(crate) fn env_names(prefix: &str, key: &str, kind: &SchemeKind) -> Vec<String> {
    let base = format!("{prefix}_{}", upper_snake(key));
    let with = |suffix: &str| {
        if base.ends_with(&format!("_{suffix}")) || base == suffix {
            base.clone()
        } else {
            format!("{base}_{suffix}")
        }
    };
    match kind {
        SchemeKind::Bearer => vec![with("TOKEN")],
        SchemeKind::Basic => vec![format!("{base}_USERNAME"), format!("{base}_PASSWORD")],
        SchemeKind::ApiKey { .. } => vec![with("KEY")],
        SchemeKind::OAuth2ClientCredentials { .. } => vec![
            with("TOKEN"),
            format!("{base}_CLIENT_ID"),
            format!("{base}_CLIENT_SECRET"),
        ],
    }
}

/// `bearerAuth` → `BEARER_AUTH`, `api-key` → `API_KEY`.
pub fn upper_snake(text: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.is_empty() {
        "API".to_owned()
    } else {
        out
    }
}

fn instructions(api: &Api, schemes: &[SchemeSpec]) -> String {
    let mut text = format!("Tools for the {} API (version {}).", api.title, api.version);
    if let Some(d) = &api.description {
        let paragraph = d.trim().split("\n\n").next().unwrap_or_default();
        let first = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        if !first.is_empty() {
            text.push(' ');
            text.push_str(&first);
            if !first.ends_with(['.', '!', '?']) {
                text.push('.');
            }
        }
    }
    text.push_str(" Each tool is one HTTP operation; upstream errors come back as tool errors with the HTTP status and body.");
    if !schemes.is_empty() {
        text.push_str(
            " Authentication is configured by the server's operator, not passed as tool arguments.",
        );
    }
    text
}

fn hints(method: &str) -> Hints {
    let known = crate::methods::semantics_of(method);
    Hints {
        read_only: known.read_only,
        destructive: known.destructive,
        idempotent: known.idempotent,
    }
}

fn description(op: &Operation) -> String {
    if let Some(d) = &op.extension.description {
        return d.trim().to_owned();
    }
    let mut parts: Vec<&str> = Vec::new();
    if let Some(s) = &op.summary {
        parts.push(s.trim());
    }
    if let Some(d) = &op.description {
        let d = d.trim();
        if parts.first() != Some(&d) {
            parts.push(d);
        }
    }
    let mut text = parts.join("\n\n");
    if text.is_empty() {
        text = format!("{} {}", op.method.to_ascii_uppercase(), op.path);
    }
    if op.deprecated {
        text = format!("Deprecated. {text}");
    }
    text
}

fn build_tool(
    op: &Operation,
    name: String,
    schemas: &mut SchemaSet<'_>,
    schemes: &[SchemeSpec],
) -> Result<ToolSpec, SchemaError> {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut refs: Vec<String> = Vec::new();
    let mut args = NameAllocator::new();
    let mut params = Vec::with_capacity(op.params.len());
    let mut header_marks = headers::HeaderMarks::new(schemes);

    // Path parameters claim their names first, then query, header, cookie: a parameter that
    // meets a name already taken is suffixed with its location (`id_query`).
    let mut ordered: Vec<&Param> = op.params.iter().collect();
    ordered.sort_by_key(|p| p.location);
    for p in ordered {
        let fixed = match op.extension.for_param(p) {
            Some(ParamOverride::Fixed(value)) => Some(value.clone()),
            Some(ParamOverride::Hide) if p.required => {
                return Err(SchemaError {
                    pointer: p.pointer.clone(),
                    message: format!(
                        "`{}` is required, so it cannot be hidden; give it a fixed `value` in `x-mcpgen` instead",
                        p.name
                    ),
                });
            }
            Some(ParamOverride::Hide) => continue,
            None => None,
        };
        if let Some(value) = fixed {
            // Not an argument: the value the document's author chose is always sent.
            params.push(ParamSpec {
                arg: String::new(),
                name: p.name.clone(),
                location: p.location,
                style: p.style,
                explode: p.explode,
                allow_reserved: p.allow_reserved,
                json: p.json,
                fixed: Some(value),
            });
            continue;
        }
        let plain = naming::shorten(&naming::sanitize(&p.name, "param"), naming::MAX_NAME_LEN);
        let arg = if args.contains(&plain) {
            args.allocate(&format!("{plain}_{}", p.location.as_str()))
        } else {
            args.allocate(&plain)
        };
        let converted = schemas.convert(&p.schema, &p.schema_pointer)?;
        refs.extend(converted.refs);
        let mut schema = converted.value;
        annotate(&mut schema, p.description.as_deref(), p.deprecated, |s| {
            if p.name != arg {
                format!(
                    "{s} Sent as the {} parameter `{}`.",
                    p.location.as_str(),
                    p.name
                )
            } else {
                s.to_owned()
            }
        });
        // Clients of MCP 2026-07-28 mirror a header parameter's argument into an
        // `Mcp-Param-<name>` header, named after the parameter even when the argument is not.
        header_marks.mark(p, &mut schema, schemas);
        if p.required {
            required.push(Value::String(arg.clone()));
        }
        properties.insert(arg.clone(), schema);
        params.push(ParamSpec {
            arg,
            name: p.name.clone(),
            location: p.location,
            style: p.style,
            explode: p.explode,
            allow_reserved: p.allow_reserved,
            json: p.json,
            fixed: None,
        });
    }

    let body = match &op.body {
        Some(body) => Some(add_body(
            body,
            schemas,
            &mut args,
            &mut properties,
            &mut required,
            &mut refs,
        )?),
        None => None,
    };

    let mut input = Map::new();
    input.insert("type".into(), json!("object"));
    input.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        input.insert("required".into(), Value::Array(required));
    }
    // Unknown arguments are refused, so a misspelt optional argument is reported instead of
    // silently dropped.
    input.insert("additionalProperties".into(), json!(false));
    let (defs, left_out) = schemas.defs_within(&refs, INPUT_DEFS_BUDGET)?;
    if !defs.is_empty() {
        input.insert("$defs".into(), Value::Object(defs));
    }
    let mut input = Value::Object(input);
    if !left_out.is_empty() {
        open_refs(&mut input, &left_out, 0);
    }

    let (output_schema, output_wrapped) = match &op.response {
        Some(response) if response.stream.is_some() => {
            // Items of a stream come back as a list.
            let list = json!({"type": "array", "items": response.schema});
            let (schema, _) = output_schema(&list, &response.pointer, schemas)?;
            (Some(schema), true)
        }
        Some(response) => {
            let (schema, wrapped) = output_schema(&response.schema, &response.pointer, schemas)?;
            (Some(schema), wrapped)
        }
        None => (None, false),
    };

    let security = op
        .security
        .iter()
        .filter_map(|alternative| {
            alternative
                .iter()
                .map(|(key, _)| schemes.iter().position(|s| &s.key == key))
                .collect::<Option<Vec<usize>>>()
        })
        .collect();
    let mut oauth_scopes: Vec<String> = Vec::new();
    for (key, scopes) in op.security.iter().flatten() {
        let client_credentials = schemes
            .iter()
            .any(|s| &s.key == key && matches!(s.kind, SchemeKind::OAuth2ClientCredentials { .. }));
        if client_credentials {
            for scope in scopes {
                if !oauth_scopes.contains(scope) {
                    oauth_scopes.push(scope.clone());
                }
            }
        }
    }

    // Who may call the operation: what x-mcpgen says, else the document's security: the
    // scopes of its preferred (first) alternative that asks for any.
    let caller_scopes = op.extension.scopes.clone().unwrap_or_else(|| {
        op.security
            .iter()
            .map(|alternative| {
                let mut scopes: Vec<String> = Vec::new();
                for scope in alternative.iter().flat_map(|(_, scopes)| scopes) {
                    if !scopes.contains(scope) {
                        scopes.push(scope.clone());
                    }
                }
                scopes
            })
            .find(|scopes| !scopes.is_empty())
            .unwrap_or_default()
    });

    Ok(ToolSpec {
        name,
        title: op.summary.clone(),
        description: description(op),
        input_schema: input,
        output_schema,
        output_wrapped,
        hints: hints(&op.method),
        stream: op.response.as_ref().and_then(|r| r.stream),
        plan: PlanSpec {
            method: op.method.to_ascii_uppercase(),
            path: op.path.clone(),
            params,
            body,
            security,
            oauth_scopes,
            caller_scopes,
        },
        tags: op.tags.clone(),
        search_only: false,
        guardrails: ToolGuardrailSpec::default(),
        pagination: None,
        long_running: false,
        resource: None,
    })
}

/// Adds a description (and `deprecated`) to a converted schema without overwriting one the
/// schema already has.
fn annotate(
    schema: &mut Value,
    description: Option<&str>,
    deprecated: bool,
    extend: impl Fn(&str) -> String,
) {
    let Value::Object(map) = schema else {
        if let Some(d) = description {
            *schema = json!({"description": extend(d)});
        }
        return;
    };
    if let Some(d) = description {
        if !map.contains_key("description") {
            map.insert("description".into(), Value::String(extend(d.trim())));
        }
    } else if let Some(Value::String(existing)) = map.get("description") {
        let extended = extend(existing);
        map.insert("description".into(), Value::String(extended));
    } else {
        let extended = extend("").trim().to_owned();
        if !extended.is_empty() {
            map.insert("description".into(), Value::String(extended));
        }
    }
    if deprecated {
        map.insert("deprecated".into(), json!(true));
    }
}

fn add_body(
    body: &Body,
    schemas: &mut SchemaSet<'_>,
    args: &mut NameAllocator,
    properties: &mut Map<String, Value>,
    required: &mut Vec<Value>,
    refs: &mut Vec<String>,
) -> Result<BodySpec, SchemaError> {
    let schema_at = crate::pointer::push_token(&body.pointer, "schema");
    let multipart = body.encoding == BodyEncoding::Multipart;
    let mut file_fields = Vec::new();
    let object_like = matches!(
        body.encoding,
        BodyEncoding::Json | BodyEncoding::Form | BodyEncoding::Multipart
    );
    let body_required = crate::schema::string_list(
        schemas
            .resolve(&body.schema)
            .and_then(|r| r.get("required")),
    );

    // Flatten a plain object body into top-level arguments when nothing collides; otherwise
    // the body is one argument, so that a parameter and a body property with the same name
    // both survive.
    if object_like && let Some(props) = flattenable(schemas, &body.schema, args, false) {
        let mut names = Vec::with_capacity(props.len());
        for (prop, prop_schema) in props {
            let at = crate::pointer::push_token(&schema_at, &prop);
            let value = if multipart && let Some(file) = file_schema(schemas, &prop_schema) {
                file_fields.push(prop.clone());
                file
            } else {
                let converted = schemas.convert(&prop_schema, &at)?;
                refs.extend(converted.refs);
                converted.value
            };
            args.allocate(&prop);
            if body.required && body_required.contains(&prop) {
                required.push(Value::String(prop.clone()));
            }
            properties.insert(prop.clone(), value);
            names.push(prop);
        }
        return Ok(BodySpec {
            media_type: body.media_type.clone(),
            encoding: body.encoding,
            shape: BodyShapeSpec::Flattened(names),
            required: body.required,
            file_fields,
        });
    }
    let arg = ["body", "request_body", "requestBody"]
        .iter()
        .find(|n| !args.contains(n))
        .map(|n| args.allocate(n))
        .unwrap_or_else(|| args.allocate("body"));
    let mut schema = match (
        multipart,
        flattenable(schemas, &body.schema, &NameAllocator::new(), true),
    ) {
        // A multipart body that cannot be flattened is still an object of fields, some of
        // them files: spell it out so the file fields get their content schema.
        (true, Some(props)) => {
            let mut fields = Map::new();
            for (prop, prop_schema) in props {
                let value = match file_schema(schemas, &prop_schema) {
                    Some(file) => {
                        file_fields.push(prop.clone());
                        file
                    }
                    None => {
                        let at = crate::pointer::push_token(&schema_at, &prop);
                        let converted = schemas.convert(&prop_schema, &at)?;
                        refs.extend(converted.refs);
                        converted.value
                    }
                };
                fields.insert(prop, value);
            }
            let mut object = Map::new();
            object.insert("type".into(), json!("object"));
            object.insert("properties".into(), Value::Object(fields));
            if !body_required.is_empty() {
                object.insert("required".into(), json!(body_required));
            }
            Value::Object(object)
        }
        _ => {
            let converted = schemas.convert(&body.schema, &schema_at)?;
            refs.extend(converted.refs);
            converted.value
        }
    };
    let what = format!("The request body ({}).", body.media_type);
    annotate(
        &mut schema,
        Some(body.description.as_deref().unwrap_or(&what)),
        false,
        |s| s.to_owned(),
    );
    if body.required {
        required.push(Value::String(arg.clone()));
    }
    properties.insert(arg.clone(), schema);
    Ok(BodySpec {
        media_type: body.media_type.clone(),
        encoding: body.encoding,
        shape: BodyShapeSpec::Whole(arg),
        required: body.required,
        file_fields,
    })
}

/// The argument schema of a multipart file field, when `schema` describes file content (a
/// binary string, or an array of them).
fn file_schema(schemas: &SchemaSet<'_>, schema: &Value) -> Option<Value> {
    let resolved = schemas.resolve(schema)?;
    let is_file = |s: &Value| {
        let s = schemas.resolve(s).unwrap_or(s);
        s.get("format").and_then(Value::as_str) == Some("binary")
            || s.get("contentMediaType").is_some()
            || s.get("contentEncoding").is_some()
    };
    let description = resolved.get("description").and_then(Value::as_str);
    let file = |description: Option<&str>| {
        let mut file = json!({
            "type": "object",
            "properties": {
                "content": {
                    "type": "string",
                    "description": "The file's bytes: base64, or a data URI (data:<type>;base64,<data>)."
                },
                "filename": {"type": "string", "description": "The file name sent upstream."},
                "contentType": {"type": "string", "description": "The file's media type (default: from the data URI, else application/octet-stream)."}
            },
            "required": ["content"],
            "additionalProperties": false
        });
        if let Some(d) = description {
            file["description"] = Value::String(d.to_owned());
        }
        file
    };
    if is_file(resolved) {
        return Some(file(description));
    }
    let items = resolved.get("items")?;
    if resolved.get("type").and_then(Value::as_str) == Some("array") && is_file(items) {
        let mut array = json!({"type": "array", "items": file(None)});
        if let Some(d) = description {
            array["description"] = Value::String(d.to_owned());
        }
        return Some(array);
    }
    None
}

/// The body's properties, when the body is a plain object whose property names are valid,
/// unclaimed argument names.
fn flattenable(
    schemas: &SchemaSet<'_>,
    schema: &Value,
    args: &NameAllocator,
    any_names: bool,
) -> Option<Vec<(String, Value)>> {
    let resolved = schemas.resolve(schema)?;
    let o = resolved.as_object()?;
    if o.get("type").and_then(Value::as_str) != Some("object") {
        return None;
    }
    let complex = [
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "patternProperties",
        "discriminator",
    ];
    if complex.iter().any(|k| o.contains_key(*k)) {
        return None;
    }
    if o.get("additionalProperties")
        .is_some_and(|extra| extra != &Value::Bool(false))
    {
        return None;
    }
    let props = o.get("properties")?.as_object()?;
    if props.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(props.len());
    for (name, s) in props {
        let valid = naming::sanitize(name, "") == *name && name.len() <= naming::MAX_NAME_LEN;
        if !any_names && (!valid || args.contains(name)) {
            return None;
        }
        // Inputs never carry what the server alone writes.
        if s.get("readOnly") == Some(&Value::Bool(true)) {
            continue;
        }
        out.push((name.clone(), s.clone()));
    }
    Some(out)
}

/// The output schema: the response schema itself when it is always an object, else the
/// schema wrapped as `{"result": ...}` (MCP output schemas must describe objects).
fn output_schema(
    schema: &Value,
    at: &str,
    schemas: &mut SchemaSet<'_>,
) -> Result<(Value, bool), SchemaError> {
    let converted = schemas.convert(schema, at)?;
    let (defs, left_out) = schemas.defs_within(&converted.refs, OUTPUT_DEFS_BUDGET)?;
    let object = is_object_schema(schemas, schema);
    let mut root = if object {
        // Put the object's own keywords at the root, so that clients see `type: object`
        // without following a reference.
        match converted.value.get("$ref").and_then(Value::as_str) {
            Some(r) if converted.value.as_object().is_some_and(|o| o.len() == 1) => {
                let name = r.trim_start_matches("#/$defs/");
                defs.iter()
                    .find(|(k, _)| escape_fragment(k) == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(converted.value.clone())
            }
            _ => converted.value.clone(),
        }
    } else {
        json!({
            "type": "object",
            "properties": {"result": converted.value},
            "required": ["result"]
        })
    };
    if let Value::Object(map) = &mut root {
        if object {
            map.insert("type".into(), json!("object"));
        }
        if !defs.is_empty() {
            map.insert("$defs".into(), Value::Object(defs));
        }
    }
    if !left_out.is_empty() {
        open_refs(&mut root, &left_out, 0);
    }
    Ok((root, !object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::read_api;

    fn spec(doc: &Value) -> ApiSpec {
        let api = read_api(doc, false).unwrap();
        build_api(
            &api,
            doc,
            &MappingOptions {
                server_name: "t".into(),
                env_prefix: "T".into(),
                skip_broken: false,
                tool_names: ToolNames::Portable,
            },
        )
        .unwrap()
    }

    #[test]
    fn same_name_in_every_location_survives() {
        let doc = json!({
            "openapi": "3.1.0",
            "paths": {"/items/{id}": {"post": {
                "operationId": "make",
                "parameters": [
                    {"name": "id", "in": "query", "schema": {"type": "integer"}},
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "id", "in": "header", "schema": {"type": "string"}},
                    {"name": "id", "in": "cookie", "schema": {"type": "string"}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["id"], "properties": {"id": {"type": "number"}}
                }}}},
                "responses": {"200": {"description": "ok"}}
            }}}
        });
        let tool = &spec(&doc).tools[0];
        let props = tool.input_schema["properties"].as_object().unwrap();
        let keys: Vec<&str> = props.keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "id_query", "id_header", "id_cookie", "body"]);
        assert_eq!(tool.input_schema["required"], json!(["id", "body"]));
        assert_eq!(props["body"]["properties"]["id"]["type"], "number");
        let args: Vec<(&str, &str, Location)> = tool
            .plan
            .params
            .iter()
            .map(|p| (p.arg.as_str(), p.name.as_str(), p.location))
            .collect();
        assert_eq!(
            args,
            [
                ("id", "id", Location::Path),
                ("id_query", "id", Location::Query),
                ("id_header", "id", Location::Header),
                ("id_cookie", "id", Location::Cookie)
            ]
        );
        assert_eq!(
            tool.plan.body.as_ref().unwrap().shape,
            BodyShapeSpec::Whole("body".into())
        );
    }

    #[test]
    fn plain_object_bodies_are_flattened() {
        let doc = json!({
            "openapi": "3.1.0",
            "paths": {"/items": {"post": {
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "id": {"type": "string", "readOnly": true}}
                }}}},
                "responses": {"201": {"description": "ok", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"type": "string"}}
                }}}}
            }}}
        });
        let tool = &spec(&doc).tools[0];
        assert_eq!(tool.name, "post_items");
        assert_eq!(
            tool.input_schema["properties"],
            json!({"name": {"type": "string"}})
        );
        assert_eq!(tool.input_schema["required"], json!(["name"]));
        assert!(tool.output_wrapped);
        assert_eq!(
            tool.output_schema.as_ref().unwrap()["properties"]["result"]["type"],
            "array"
        );
        assert_eq!(
            tool.hints,
            Hints {
                read_only: false,
                destructive: false,
                idempotent: false
            }
        );
    }

    /// The `(argument, header)` pairs of the `x-mcp-header` marks of a tool, in order.
    fn header_marks(tool: &ToolSpec) -> Vec<(String, String)> {
        tool.input_schema["properties"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(arg, s)| {
                s.get(headers::KEYWORD)
                    .map(|h| (arg.clone(), h.as_str().unwrap().to_owned()))
            })
            .collect()
    }

    fn one_operation(parameters: Value) -> Value {
        json!({
            "openapi": "3.1.0",
            "components": {
                "schemas": {
                    "Region": {"type": "string", "enum": ["eu", "us"]},
                    "Page": {"type": "integer"},
                    "Filter": {"type": "object", "properties": {"a": {"type": "string"}}}
                },
                "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Partner"}}
            },
            "paths": {"/items/{id}": {"post": {
                "operationId": "make",
                "parameters": parameters,
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"X-Body": {"type": "string"}}
                }}}},
                "responses": {"200": {"description": "ok"}}
            }}}
        })
    }

    #[test]
    fn string_integer_and_boolean_headers_are_marked_with_their_name() {
        let doc = one_operation(json!([
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Page", "in": "header", "required": true, "schema": {"type": "integer"}},
            {"name": "X-Dry-Run", "in": "header", "schema": {"type": "boolean"}},
            {"name": "q", "in": "query", "schema": {"type": "string"}},
            {"name": "c", "in": "cookie", "schema": {"type": "string"}}
        ]));
        let tool = &spec(&doc).tools[0];
        assert_eq!(
            header_marks(tool),
            [
                ("X-Request-Id".to_owned(), "X-Request-Id".to_owned()),
                ("X-Page".to_owned(), "X-Page".to_owned()),
                ("X-Dry-Run".to_owned(), "X-Dry-Run".to_owned()),
            ]
        );
        let props = &tool.input_schema["properties"];
        assert_eq!(
            props["X-Page"],
            json!({"type": "integer", "x-mcp-header": "X-Page"})
        );
        // Path, query and cookie parameters and body properties are never marked.
        for arg in ["id", "q", "c", "X-Body"] {
            assert!(props[arg].is_object(), "{arg}");
            assert!(props[arg].get(headers::KEYWORD).is_none(), "{arg}");
        }
    }

    #[test]
    fn headers_of_other_shapes_are_not_marked() {
        let doc = one_operation(json!([
            {"name": "X-Tags", "in": "header", "schema": {"type": "array", "items": {"type": "string"}}},
            {"name": "X-Filter", "in": "header", "schema": {"type": "object"}},
            {"name": "X-Ratio", "in": "header", "schema": {"type": "number"}},
            {"name": "X-Maybe", "in": "header", "schema": {"type": ["string", "null"]}},
            {"name": "X-Either", "in": "header", "schema": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            {"name": "X-Anything", "in": "header"},
            {"name": "X-Obj-Ref", "in": "header", "schema": {"$ref": "#/components/schemas/Filter"}},
            {"name": "X-Json", "in": "header", "content": {"application/json": {"schema": {"type": "object"}}}}
        ]));
        let tool = &spec(&doc).tools[0];
        assert_eq!(header_marks(tool), []);
        assert_eq!(
            tool.input_schema["properties"]["X-Obj-Ref"],
            json!({"$ref": "#/$defs/Filter"}),
            "a reference to an object stays as it is"
        );
    }

    #[test]
    fn a_reference_to_a_primitive_is_marked_with_its_type_beside_it() {
        let doc = one_operation(json!([
            {"name": "X-Region", "in": "header", "schema": {"$ref": "#/components/schemas/Region"}},
            {"name": "X-Page", "in": "header", "schema": {"$ref": "#/components/schemas/Page"}}
        ]));
        let tool = &spec(&doc).tools[0];
        let props = &tool.input_schema["properties"];
        assert_eq!(
            props["X-Region"],
            json!({"$ref": "#/$defs/Region", "type": "string", "x-mcp-header": "X-Region"})
        );
        assert_eq!(
            props["X-Page"],
            json!({"$ref": "#/$defs/Page", "type": "integer", "x-mcp-header": "X-Page"})
        );
    }

    #[test]
    fn a_header_name_is_marked_once_whatever_its_case() {
        let doc = one_operation(json!([
            {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
            {"name": "x-trace", "in": "header", "schema": {"type": "string"}},
            {"name": "X-TRACE", "in": "header", "schema": {"type": "integer"}},
            // Not marked itself, so it does not claim the name ...
            {"name": "X-Zone", "in": "header", "schema": {"type": "array"}},
            // ... which this one then takes.
            {"name": "x-zone", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Other", "in": "header", "schema": {"type": "string"}}
        ]));
        let tool = &spec(&doc).tools[0];
        let marks: Vec<String> = header_marks(tool).into_iter().map(|(_, h)| h).collect();
        assert_eq!(marks, ["X-Trace", "x-zone", "X-Other"]);
        assert!(tool.input_schema["properties"]["x-trace"].is_object());
    }

    #[test]
    fn a_renamed_argument_is_marked_with_the_real_header_name() {
        let doc = one_operation(json!([
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "id", "in": "query", "schema": {"type": "string"}},
            {"name": "id", "in": "header", "schema": {"type": "string"}},
            {"name": "id", "in": "cookie", "schema": {"type": "string"}}
        ]));
        let tool = &spec(&doc).tools[0];
        assert_eq!(
            header_marks(tool),
            [("id_header".to_owned(), "id".to_owned())]
        );
    }

    #[test]
    fn credentials_and_headers_the_server_owns_are_not_marked() {
        let doc = one_operation(json!([
            // The document's API key header, declared again as a parameter.
            {"name": "x-partner", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Auth-Token", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Api-Key", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Pin", "in": "header", "schema": {"type": "string", "format": "password"}},
            {"name": "X-Code", "in": "header", "schema": {"type": "string", "writeOnly": true}},
            {"name": "Mcp-Session-Id", "in": "header", "schema": {"type": "string"}},
            {"name": "Cookie", "in": "header", "schema": {"type": "string"}},
            {"name": "Host", "in": "header", "schema": {"type": "string"}},
            {"name": "X Spaced", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Région", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Tenant", "in": "header", "schema": {"type": "string"}}
        ]));
        let tool = &spec(&doc).tools[0];
        assert_eq!(
            header_marks(tool),
            [("X-Tenant".to_owned(), "X-Tenant".to_owned())]
        );
    }

    #[test]
    fn fixed_and_hidden_headers_are_not_arguments_and_not_marked() {
        let mut doc = one_operation(json!([
            {"name": "X-Fixed", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Hidden", "in": "header", "schema": {"type": "string"}},
            {"name": "X-Open", "in": "header", "schema": {"type": "string"}}
        ]));
        doc["paths"]["/items/{id}"]["post"]["x-mcpgen"] = json!({
            "parameters": {"X-Fixed": {"value": "v"}, "X-Hidden": {"hide": true}}
        });
        let tool = &spec(&doc).tools[0];
        assert_eq!(
            header_marks(tool),
            [("X-Open".to_owned(), "X-Open".to_owned())]
        );
    }

    #[test]
    fn callers_need_the_scopes_of_the_security_requirement_or_of_x_mcpgen() {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "T", "version": "1"},
            "components": {"securitySchemes": {
                "oauth": {"type": "oauth2", "flows": {"authorizationCode": {
                    "authorizationUrl": "https://idp/a", "tokenUrl": "https://idp/t",
                    "scopes": {"read": "", "write": ""}}}},
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"}
            }},
            "security": [{"key": []}, {"oauth": ["read"]}],
            "paths": {
                "/a": {
                    "get": {"operationId": "plain", "responses": {"200": {"description": "ok"}}},
                    "post": {"operationId": "writes", "security": [{"oauth": ["read", "write"]}],
                             "responses": {"200": {"description": "ok"}}}
                },
                "/b": {
                    "x-mcpgen": {"scopes": ["b:all"]},
                    "get": {"operationId": "fromItem", "responses": {"200": {"description": "ok"}}},
                    "put": {"operationId": "own", "x-mcpgen": {"scopes": []},
                            "responses": {"200": {"description": "ok"}}}
                }
            }
        });
        let api = spec(&doc);
        let scopes = |name: &str| {
            api.tools
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.plan.caller_scopes.clone())
                .unwrap()
        };
        // The first alternative that names scopes, past one that names none.
        assert_eq!(scopes("plain"), ["read"]);
        assert_eq!(scopes("writes"), ["read", "write"]);
        // x-mcpgen on the path item, and the operation's own (here: none needed) over it.
        assert_eq!(scopes("fromItem"), ["b:all"]);
        assert!(scopes("own").is_empty());
    }

    #[test]
    fn scopes_in_x_mcpgen_must_be_scope_names() {
        use crate::model::extension::read;
        for bad in [
            json!("read"),
            json!([1]),
            json!([""]),
            json!(["a\"b"]),
            json!(["a b"]),
        ] {
            let operation = json!({"x-mcpgen": {"scopes": bad}});
            let err = read(operation.as_object().unwrap(), "/paths/~1a/get").unwrap_err();
            assert!(
                err.message.contains("`scopes` must be a list"),
                "{bad}: {}",
                err.message
            );
            assert_eq!(err.pointer, "/paths/~1a/get/x-mcpgen/scopes");
        }
        let good = json!({"x-mcpgen": {"scopes": ["pets:read", "https://api/x.y"]}});
        let read_back = read(good.as_object().unwrap(), "").unwrap().scopes;
        assert_eq!(read_back.unwrap(), ["pets:read", "https://api/x.y"]);
    }

    #[test]
    fn env_names_read_well() {
        assert_eq!(
            env_names("PET", "bearerAuth", &SchemeKind::Bearer),
            ["PET_BEARER_AUTH_TOKEN"]
        );
        assert_eq!(
            env_names(
                "PET",
                "api_key",
                &SchemeKind::ApiKey {
                    location: Location::Header,
                    name: "k".into()
                }
            ),
            ["PET_API_KEY"]
        );
        assert_eq!(
            env_names("PET", "basic", &SchemeKind::Basic),
            ["PET_BASIC_USERNAME", "PET_BASIC_PASSWORD"]
        );
        assert_eq!(upper_snake("x-api-key"), "X_API_KEY");
    }
}
