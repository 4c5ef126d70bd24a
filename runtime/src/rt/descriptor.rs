//! The static description of a generated server: its tools, what each one sends upstream, and
//! the credentials it knows about. Generated code fills these tables with plain constant data, so
//! that a spec with a thousand operations compiles as fast as a table of strings.

/// The layout of the tables below. Generated code carries the layout it was written for and
/// refuses to compile against a runtime of another (the generator's `DESCRIPTOR_FORMAT`,
/// kept equal to this one by a test), with a message that says to regenerate.
pub const DESCRIPTOR_FORMAT: u32 = 5;

/// Everything the runtime needs to know about one generated API.
#[derive(Debug)]
pub struct ApiDescriptor {
    /// The server's name in `initialize` (the generated crate's name).
    pub server_name: &'static str,
    /// The server's version in `initialize` (the API document's `info.version`).
    pub server_version: &'static str,
    /// A human-readable title (the API document's `info.title`).
    pub title: &'static str,
    /// Instructions sent in `initialize`: what the API is and how it authenticates.
    pub instructions: &'static str,
    /// The first server URL of the document, used when no base URL is configured.
    pub default_base_url: Option<&'static str>,
    /// Prefix of the environment variables this server reads (`<PREFIX>_BASE_URL`, ...).
    pub env_prefix: &'static str,
    /// The security schemes operations refer to, by index.
    pub security_schemes: &'static [SecuritySchemeDescriptor],
    /// One entry per operation: a tool of its own, or one reached through search (see
    /// [`ToolDescriptor::search_only`]).
    pub tools: &'static [ToolDescriptor],
    /// How operations are offered to the model, unless the command line says otherwise.
    pub mode: ServeMode,
    /// The API document the tools come from (OpenAPI 3.1, limited to the operations of this
    /// table), as compact JSON text: served as the resource `openapi://spec`.
    pub openapi: Option<&'static str>,
    /// The guardrails the generation settings chose; the server's flags and environment
    /// override them.
    pub guardrails: Guardrails,
    /// Prompts: a guide per tag, and workflows from the settings, `x-mcpgen` or Arazzo.
    pub prompts: &'static [PromptDescriptor],
    /// The APIs of a server generated from several documents, in the order of their tools
    /// and security schemes: each owns the next [`UpstreamApi::tool_count`] entries of
    /// `tools` and [`UpstreamApi::scheme_count`] of `security_schemes`, and has its own base
    /// URL and API document. Empty for a server of one API, which the fields above describe
    /// (its `default_base_url`, `env_prefix` and `openapi`).
    pub apis: &'static [UpstreamApi],
}

/// One API of a server that serves several: where its requests go and what its document is.
/// Its tools and security schemes are a run of the server's tables (they were generated
/// together), so no entry of those tables names its API.
#[derive(Debug)]
pub struct UpstreamApi {
    /// Its namespace: the prefix of its tool names (before `_`), and the `NAME` of
    /// `--base-url NAME=URL`.
    pub name: &'static str,
    /// Its document's `info.title`.
    pub title: &'static str,
    /// The first server URL of its document, used when no base URL is configured.
    pub default_base_url: Option<&'static str>,
    /// Prefix of its environment variables (`<PREFIX>_BASE_URL`); its credentials' variables
    /// are in its security schemes.
    pub env_prefix: &'static str,
    /// Its document (limited to the operations served), served as `openapi://<name>/spec`.
    pub openapi: Option<&'static str>,
    /// How many entries of [`ApiDescriptor::tools`] are its, after those of the APIs before.
    pub tool_count: usize,
    /// How many entries of [`ApiDescriptor::security_schemes`] are its, likewise.
    pub scheme_count: usize,
}

impl ApiDescriptor {
    /// How many APIs the server serves (one when [`ApiDescriptor::apis`] is empty).
    pub fn api_count(&self) -> usize {
        self.apis.len().max(1)
    }

    /// For each tool, the index of its API (all 0 for a server of one API).
    pub fn tool_apis(&self) -> Vec<usize> {
        owners(self.apis.iter().map(|a| a.tool_count), self.tools.len())
    }

    /// For each security scheme, the index of its API.
    pub fn scheme_apis(&self) -> Vec<usize> {
        owners(
            self.apis.iter().map(|a| a.scheme_count),
            self.security_schemes.len(),
        )
    }

    /// Whether the counts of [`ApiDescriptor::apis`] add up to the tables' lengths.
    pub fn apis_cover_tables(&self) -> bool {
        self.apis.is_empty()
            || (self.apis.iter().map(|a| a.tool_count).sum::<usize>() == self.tools.len()
                && self.apis.iter().map(|a| a.scheme_count).sum::<usize>()
                    == self.security_schemes.len())
    }
}

/// Index of the run each of `len` entries falls in, runs of the given lengths in order
/// (entries past the runs, which [`ApiDescriptor::apis_cover_tables`] refuses, fall in the
/// last).
fn owners(counts: impl Iterator<Item = usize>, len: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(len);
    let mut last = 0;
    for (api, count) in counts.enumerate() {
        out.extend(std::iter::repeat_n(api, count.min(len - out.len())));
        last = api;
    }
    out.resize(len, last);
    out
}

/// A prompt. Its text message is rendered at `prompts/get` from [`PromptPart`]s, so that the
/// tools it names read right in the mode the server serves in; the resources it embeds are read
/// then too, each a message of its own before the text.
#[derive(Debug)]
pub struct PromptDescriptor {
    /// `[A-Za-z0-9_.-]{1,64}`, unique.
    pub name: &'static str,
    /// A human-readable title.
    pub title: Option<&'static str>,
    /// What it is for.
    pub description: &'static str,
    /// Its arguments.
    pub arguments: &'static [PromptArgumentDescriptor],
    /// The text of its message.
    pub parts: &'static [PromptPart],
    /// The URIs of the server's own resources it embeds, each literal text and arguments'
    /// values ([`PromptPart::Text`] and [`PromptPart::Argument`]); one whose argument was not
    /// given is left out.
    pub resources: &'static [&'static [PromptPart]],
    /// Offered only when every tool it names is served (a workflow); otherwise (a guide) the
    /// tools that are not served are left out.
    pub needs_every_tool: bool,
}

/// One argument of a prompt.
#[derive(Debug)]
pub struct PromptArgumentDescriptor {
    /// Its name.
    pub name: &'static str,
    /// What to give.
    pub description: Option<&'static str>,
    /// Whether `prompts/get` needs it.
    pub required: bool,
    /// Values `completion/complete` offers.
    pub values: &'static [&'static str],
}

/// A piece of a prompt's text.
#[derive(Debug)]
pub enum PromptPart {
    /// Literal text.
    Text(&'static str),
    /// The value of an argument, or `<name>` when it was not given.
    Argument(&'static str),
    /// The text, then the argument's value, only when the argument was given.
    Given {
        /// The argument.
        argument: &'static str,
        /// What comes before its value.
        text: &'static str,
    },
    /// The tool at this index of [`ApiDescriptor::tools`]: how to call it and what it needs.
    Tool(usize),
    /// The same as a list item of its own line, left out when the tool is not served.
    ToolItem(usize),
}

/// Guardrails of the whole server, as the generation settings chose them (`[masking]`,
/// `[rate_limits]`, `[audit]` and `confirm` in `mcpgen.toml`). Every value is text the
/// runtime parses at start, exactly as it parses the flag that overrides it.
#[derive(Debug, Clone, Copy)]
pub struct Guardrails {
    /// Fields masked in every tool's answers (`PATH` or `PATH=redact|remove|last4`; `--mask`).
    pub masked_fields: &'static [&'static str],
    /// Detectors of secrets in every answer (`card`, `iban`, `bearer`, `api_key`;
    /// `--mask-detector`).
    pub mask_detectors: &'static [&'static str],
    /// Calls per caller over all tools (`N/s`, `N/m`, `N/h`; `--rate-limit`).
    pub rate_limit: Option<&'static str>,
    /// Calls of all callers together (`--global-rate-limit`).
    pub global_rate_limit: Option<&'static str>,
    /// Calls one caller may have under way at once (`--max-concurrent-per-caller`).
    pub max_concurrent_per_caller: Option<usize>,
    /// HTTP requests without valid credentials per peer address
    /// (`--unauthenticated-rate-limit`).
    pub unauthenticated_rate_limit: Option<&'static str>,
    /// Where the audit log goes: a path, or `-` for stderr (`--audit-log`).
    pub audit_log: Option<&'static str>,
    /// Which calls need the user's confirmation: `none`, `destructive` or `writes`
    /// (`--confirm`).
    pub confirm: Option<&'static str>,
}

impl Guardrails {
    /// No guardrail set at generation time.
    pub const NONE: Guardrails = Guardrails {
        masked_fields: &[],
        mask_detectors: &[],
        rate_limit: None,
        global_rate_limit: None,
        max_concurrent_per_caller: None,
        unauthenticated_rate_limit: None,
        audit_log: None,
        confirm: None,
    };
}

/// Guardrails of one tool, on top of the server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolGuardrails {
    /// Fields masked in this tool's answers: those `[masking.<operation or tag:NAME>]` names,
    /// and the properties of its answer schema marked `x-mcpgen-mask` or of a masked `format`
    /// (JSON pointers).
    pub masked_fields: &'static [&'static str],
    /// Calls per caller of this tool (`[rate_limits.<operation or tag:NAME>]`).
    pub rate_limit: Option<&'static str>,
    /// Whether calls need the user's confirmation whenever `--confirm` is not `none`, whatever
    /// the method (`confirm_operations`, or `x-mcpgen` `confirm: true`).
    pub confirm: bool,
}

impl ToolGuardrails {
    /// Nothing beyond the server's guardrails.
    pub const NONE: ToolGuardrails = ToolGuardrails {
        masked_fields: &[],
        rate_limit: None,
        confirm: false,
    };
}

/// How a server offers its operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ServeMode {
    /// One tool per operation.
    #[default]
    Tools,
    /// Three tools (`search_operations`, `describe_operation`, `call_operation`) reach every
    /// operation: the tool list stays small however large the API is.
    Search,
    /// Operations not marked `search_only` (see `ToolDescriptor`) are tools of their own; the
    /// three search tools reach the others.
    Mixed,
    /// Three tools (`search_operations`, `describe_operation`, `execute`): the model finds
    /// operations, reads their TypeScript declarations and runs a short JavaScript program
    /// that calls them in a sandbox inside the server. Operations not marked `search_only`
    /// stay tools of their own when some operation is (a table generated in mixed mode, or
    /// in code mode with includes). Needs the runtime's `code-mode` feature.
    Code,
}

impl ServeMode {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ServeMode::Tools => "tools",
            ServeMode::Search => "search",
            ServeMode::Mixed => "mixed",
            ServeMode::Code => "code",
        }
    }
}

impl std::str::FromStr for ServeMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tools" => Ok(ServeMode::Tools),
            "search" => Ok(ServeMode::Search),
            "mixed" => Ok(ServeMode::Mixed),
            "code" => Ok(ServeMode::Code),
            other => Err(format!(
                "`{other}` is not a mode: use tools, search, mixed or code"
            )),
        }
    }
}

impl std::fmt::Display for ServeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One MCP tool and the HTTP call behind it.
#[derive(Debug)]
pub struct ToolDescriptor {
    /// Tool name, unique, matching `^[A-Za-z0-9_-]{1,64}$` (or MCP's own rule,
    /// `^[A-Za-z0-9_.-]{1,128}$`, for a server generated with `tool_names = "mcp"`).
    pub name: &'static str,
    /// Short human-readable title (the operation's summary).
    pub title: Option<&'static str>,
    /// Description shown to the model.
    pub description: &'static str,
    /// Input JSON Schema (2020-12), as JSON text.
    pub input_schema: &'static str,
    /// Output JSON Schema (2020-12) of a successful answer, as JSON text, when it is JSON.
    pub output_schema: Option<&'static str>,
    /// Whether the successful JSON answer is wrapped as `{"result": <answer>}` in the
    /// structured content (output schemas must be objects, answers need not be).
    pub output_wrapped: bool,
    /// Behaviour hints derived from the HTTP method.
    pub hints: ToolHints,
    /// The successful answer is a stream of items in this format (an OpenAPI 3.2
    /// `itemSchema`): read up to the response limit and returned as a list, wrapped as
    /// `{"result": [...]}`.
    pub stream: Option<StreamFormat>,
    /// The HTTP request this tool sends.
    pub plan: CallPlan,
    /// The operation's tags, which operation search matches.
    pub tags: &'static [&'static str],
    /// In [`ServeMode::Mixed`], the operation is reached only through the search tools (it
    /// was not among the operations selected as tools of their own).
    pub search_only: bool,
    /// Masking, rate limit and confirmation of this tool beyond the server's.
    pub guardrails: ToolGuardrails,
    /// How to read further pages of the answer (the `_pages` argument), when the operation
    /// pages its answers in a way the generator recognised.
    pub pagination: Option<Pagination>,
    /// The operation runs long: it answers 202 Accepted with a status URL, which the server
    /// polls (as an MCP task when the client takes tasks).
    pub long_running: bool,
    /// The resource the document makes of the operation (`x-mcpgen: {resource: URI}`): listed
    /// and read whatever the server's options.
    pub resource: Option<ResourceDescriptor>,
}

/// The resource a GET operation is, as its document names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceDescriptor {
    /// A URI, when the operation needs no argument; otherwise a URI template whose variables
    /// (`{name}`) are exactly the operation's path parameters, by their names in the path.
    pub uri: &'static str,
    /// The media type of the operation's documented answer, when it documents one.
    pub mime_type: Option<&'static str>,
}

/// How an operation's answers come in pages, and how the next one is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// How the next page is asked for.
    pub next: NextPage,
    /// Where a page's items are: `""` when the answer is the list, or a JSON pointer to it.
    pub items: &'static str,
}

/// How the next page of an answer is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextPage {
    /// The URL of the answer's `Link` header with `rel="next"` (followed only on the
    /// upstream's origin, below its base path).
    Link,
    /// The URL at this pointer of the answer (followed on the same terms as a `Link`).
    NextUrl(&'static str),
    /// The argument `arg` takes the value at pointer `cursor` of the answer; no value, no
    /// next page.
    Cursor {
        /// The argument (a query parameter) that takes the cursor.
        arg: &'static str,
        /// Where the answer holds the next page's cursor.
        cursor: &'static str,
    },
    /// The argument `arg` takes the field `id` of the last item while the answer's flag at
    /// pointer `more` is true (Stripe's `starting_after` and `has_more`).
    AfterLast {
        /// The argument that takes the last item's id.
        arg: &'static str,
        /// The field of an item that identifies it.
        id: &'static str,
        /// Where the answer says whether there are more.
        more: &'static str,
    },
    /// The argument `arg` is a page number, one more for each page (from `first` when it was
    /// not given).
    Page {
        /// The page-number argument.
        arg: &'static str,
        /// The number of the first page.
        first: i64,
    },
    /// The argument `arg` is the number of items to skip: it grows by each page's items.
    Offset {
        /// The offset argument.
        arg: &'static str,
    },
}

/// MCP tool annotations derived from the HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolHints {
    /// The call does not change anything (GET, HEAD, OPTIONS).
    pub read_only: bool,
    /// The call may destroy data (DELETE).
    pub destructive: bool,
    /// Repeating the call has no further effect (GET, HEAD, OPTIONS, PUT, DELETE).
    pub idempotent: bool,
}

/// A sequential media type whose items a tool returns as a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// `text/event-stream`: each event as `{"data", "event", "id", "retry"}`, `data` as text.
    Events,
    /// `text/event-stream`: each event as an object whose `data` is parsed from JSON.
    EventsJson,
    /// `text/event-stream`: each event's `data`, parsed from JSON.
    EventData,
    /// JSON Lines (`application/jsonl`, `application/x-ndjson`): one JSON value a line.
    JsonLines,
    /// JSON text sequences (`application/json-seq`, RFC 7464): values after `RS` bytes.
    JsonSeq,
}

impl StreamFormat {
    /// The media type asked for in `Accept`.
    pub fn media_type(self) -> &'static str {
        match self {
            StreamFormat::Events | StreamFormat::EventsJson | StreamFormat::EventData => {
                "text/event-stream"
            }
            StreamFormat::JsonLines => "application/jsonl, application/x-ndjson",
            StreamFormat::JsonSeq => "application/json-seq",
        }
    }
}

/// HTTP methods an operation can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// HEAD
    Head,
    /// PATCH
    Patch,
    /// TRACE
    Trace,
    /// QUERY: a safe, idempotent request with a body (OpenAPI 3.2's `query` operation).
    Query,
    /// Another method, as sent on the wire (an OpenAPI 3.2 `additionalOperations` entry).
    Other(&'static str),
}

impl HttpMethod {
    /// The method as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Head => "HEAD",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Trace => "TRACE",
            HttpMethod::Query => "QUERY",
            HttpMethod::Other(name) => name,
        }
    }

    /// Whether sending the request twice has the effect of sending it once, so that a failed
    /// attempt may be repeated (RFC 9110, section 9.2.2).
    pub fn is_idempotent(self) -> bool {
        match self {
            HttpMethod::Get
            | HttpMethod::Head
            | HttpMethod::Put
            | HttpMethod::Delete
            | HttpMethod::Options
            | HttpMethod::Query => true,
            // Registered methods defined as idempotent (RFC 4918, 5323, 3253, 2068's LINK).
            HttpMethod::Other(name) => [
                "PROPFIND",
                "REPORT",
                "SEARCH",
                "PURGE",
                "LINK",
                "UNLINK",
                "COPY",
                "MOVE",
                "MKCOL",
                "PROPPATCH",
                "UNLOCK",
            ]
            .iter()
            .any(|m| m.eq_ignore_ascii_case(name)),
            HttpMethod::Post | HttpMethod::Patch | HttpMethod::Trace => false,
        }
    }
}

/// How to turn validated arguments into one HTTP request.
#[derive(Debug)]
pub struct CallPlan {
    /// The method.
    pub method: HttpMethod,
    /// The path template relative to the base URL, e.g. `/pets/{petId}`.
    pub path: &'static str,
    /// Path, query, header and cookie parameters.
    pub params: &'static [ParamPlan],
    /// The request body, if the operation has one.
    pub body: Option<BodyPlan>,
    /// Security requirements: alternatives, each a set of indices into
    /// [`ApiDescriptor::security_schemes`] that must all be applied. Empty means no auth; an
    /// empty alternative means auth is optional.
    pub security: &'static [&'static [usize]],
    /// The scopes the operation's security requirements ask of OAuth 2.0 client-credentials
    /// schemes (their union), requested with the access token.
    pub oauth_scopes: &'static [&'static str],
    /// The scopes a caller's access token must carry when the server is an OAuth resource
    /// server: those of the operation's first security alternative that names any.
    pub caller_scopes: &'static [&'static str],
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParamLocation {
    /// Substituted into the path template.
    Path,
    /// Added to the query string.
    Query,
    /// Sent as a request header.
    Header,
    /// Sent in the `Cookie` header.
    Cookie,
    /// The whole query string (OpenAPI 3.2 `in: querystring`): an object sent as
    /// form-encoded pairs, JSON text when the plan says `json`, or a string sent as it is
    /// (characters that would end the query are encoded).
    QueryString,
}

impl ParamLocation {
    /// The name OpenAPI gives the location (the parameter's `in`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            ParamLocation::Cookie => "cookie",
            ParamLocation::QueryString => "querystring",
        }
    }

    /// The style a parameter here has when its document names none.
    pub const fn default_style(self) -> ParamStyle {
        match self {
            ParamLocation::Path | ParamLocation::Header => ParamStyle::Simple,
            ParamLocation::Query | ParamLocation::Cookie | ParamLocation::QueryString => {
                ParamStyle::Form
            }
        }
    }
}

/// OpenAPI serialisation styles for parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `a,b` (path and header default).
    Simple,
    /// `.a.b` or `.a,b`.
    Label,
    /// `;id=a;id=b` or `;id=a,b`.
    Matrix,
    /// `id=a&id=b` or `id=a,b` (query and cookie default).
    Form,
    /// `id=a%20b`.
    SpaceDelimited,
    /// `id=a|b`.
    PipeDelimited,
    /// `id[k]=v`.
    DeepObject,
}

impl ParamStyle {
    /// The style OpenAPI names `name`; an unknown name reads as `simple`.
    pub fn from_name(name: &str) -> ParamStyle {
        match name {
            "label" => ParamStyle::Label,
            "matrix" => ParamStyle::Matrix,
            "form" => ParamStyle::Form,
            "spaceDelimited" => ParamStyle::SpaceDelimited,
            "pipeDelimited" => ParamStyle::PipeDelimited,
            "deepObject" => ParamStyle::DeepObject,
            _ => ParamStyle::Simple,
        }
    }

    /// The name OpenAPI gives the style.
    pub const fn as_str(self) -> &'static str {
        match self {
            ParamStyle::Simple => "simple",
            ParamStyle::Label => "label",
            ParamStyle::Matrix => "matrix",
            ParamStyle::Form => "form",
            ParamStyle::SpaceDelimited => "spaceDelimited",
            ParamStyle::PipeDelimited => "pipeDelimited",
            ParamStyle::DeepObject => "deepObject",
        }
    }

    /// Whether arrays and objects are exploded when the document does not say (only `form`).
    pub const fn explodes_by_default(self) -> bool {
        matches!(self, ParamStyle::Form)
    }
}

/// One parameter of a call.
#[derive(Debug)]
pub struct ParamPlan {
    /// The argument's name in the input schema (differs from `name` on collisions).
    pub arg: &'static str,
    /// The parameter's name on the wire.
    pub name: &'static str,
    /// Where it goes.
    pub location: ParamLocation,
    /// How it is serialised.
    pub style: ParamStyle,
    /// Whether arrays and objects are exploded into several values.
    pub explode: bool,
    /// Whether reserved characters are sent unencoded in the query.
    pub allow_reserved: bool,
    /// The value is sent as JSON text (the parameter uses `content: application/json`).
    pub json: bool,
    /// A value fixed by the document's author (JSON text): always sent, not an argument.
    pub fixed: Option<&'static str>,
}

/// Generated tables write a parameter as one of these calls: the location's constructor,
/// then only what differs from OpenAPI's defaults
/// (`ParamPlan::query("id").argument("id_query").styled(ParamStyle::PipeDelimited, false)`).
impl ParamPlan {
    /// The parameter `name`, also the argument's name, sent in `location` with the location's
    /// default style and explode, percent-encoded, as it is (not JSON), and not fixed.
    pub const fn new(name: &'static str, location: ParamLocation) -> Self {
        let style = location.default_style();
        ParamPlan {
            arg: name,
            name,
            location,
            style,
            explode: style.explodes_by_default(),
            allow_reserved: false,
            json: false,
            fixed: None,
        }
    }
    /// A path parameter with the defaults of [`ParamPlan::new`].
    pub const fn path(name: &'static str) -> Self {
        Self::new(name, ParamLocation::Path)
    }
    /// A query parameter with the defaults of [`ParamPlan::new`].
    pub const fn query(name: &'static str) -> Self {
        Self::new(name, ParamLocation::Query)
    }
    /// A header with the defaults of [`ParamPlan::new`].
    pub const fn header(name: &'static str) -> Self {
        Self::new(name, ParamLocation::Header)
    }
    /// A cookie with the defaults of [`ParamPlan::new`].
    pub const fn cookie(name: &'static str) -> Self {
        Self::new(name, ParamLocation::Cookie)
    }
    /// The whole query string with the defaults of [`ParamPlan::new`].
    pub const fn query_string(name: &'static str) -> Self {
        Self::new(name, ParamLocation::QueryString)
    }
    /// Taken from the argument `arg` (another parameter has the same name).
    pub const fn argument(self, arg: &'static str) -> Self {
        ParamPlan { arg, ..self }
    }
    /// Serialised in `style`, exploded or not.
    pub const fn styled(self, style: ParamStyle, explode: bool) -> Self {
        ParamPlan {
            style,
            explode,
            ..self
        }
    }
    /// Reserved characters go unencoded in the query (`allowReserved`).
    pub const fn reserved(self) -> Self {
        ParamPlan {
            allow_reserved: true,
            ..self
        }
    }
    /// Sent as JSON text (`content: application/json`).
    pub const fn json_text(self) -> Self {
        ParamPlan { json: true, ..self }
    }
    /// Always sent with the value `json` (JSON text); not an argument.
    pub const fn fixed_to(self, json: &'static str) -> Self {
        ParamPlan {
            fixed: Some(json),
            ..self
        }
    }
}

/// How the body is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// JSON (`application/json` or any `+json` type).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// Plain text; the argument is a string.
    Text,
    /// `multipart/form-data`: each property is a part; file fields carry base64 content.
    Multipart,
    /// Raw bytes (`application/octet-stream`, images, ...), given as base64 or a data URI.
    Binary,
}

/// Where the body's value comes from in the arguments.
#[derive(Debug, Clone, Copy)]
pub enum BodyShape {
    /// The body object's properties are top-level arguments with these names.
    Flattened(&'static [&'static str]),
    /// The whole body is the value of one argument.
    Whole(&'static str),
}

/// The request body of a call.
#[derive(Debug, Clone, Copy)]
pub struct BodyPlan {
    /// The media type sent as `Content-Type`.
    pub media_type: &'static str,
    /// How the value is encoded.
    pub encoding: BodyEncoding,
    /// Where the value comes from.
    pub shape: BodyShape,
    /// Whether the operation requires a body.
    pub required: bool,
    /// Multipart fields that are files: their argument is `{content, filename, contentType}`
    /// (or an array of those), `content` being base64 or a data URI.
    pub file_fields: &'static [&'static str],
}

/// A credential the upstream accepts.
#[derive(Debug)]
pub struct SecuritySchemeDescriptor {
    /// The scheme's key under `components.securitySchemes`.
    pub name: &'static str,
    /// How the credential is sent.
    pub kind: SecurityKind,
    /// Environment variables holding the credential: one for a token or key, two (user name,
    /// password) for basic auth, three (token, client id, client secret) for OAuth 2.0 client
    /// credentials.
    pub env: &'static [&'static str],
}

/// How a credential is sent upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityKind {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: Basic <base64(user:password)>`.
    Basic,
    /// An API key in a header, query parameter or cookie with this name.
    ApiKey(ParamLocation, &'static str),
    /// OAuth 2.0 client credentials: an access token fetched from the token URL with the
    /// client id and secret, sent as `Authorization: Bearer <token>`.
    OAuth2ClientCredentials {
        /// The flow's `tokenUrl`, possibly relative to the upstream base URL.
        token_url: &'static str,
    },
}

impl SecurityKind {
    /// Whether the credential travels as `Authorization: Bearer <token>`.
    pub fn is_bearer(self) -> bool {
        matches!(
            self,
            SecurityKind::Bearer | SecurityKind::OAuth2ClientCredentials { .. }
        )
    }
}
