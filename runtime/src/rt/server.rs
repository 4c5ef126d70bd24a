//! The MCP server: lists the generated tools (or, in search mode, the three tools that reach
//! every operation) and executes a call as validate → credentials → build request → send
//! (with retries where safe) → convert → select fields. Upstream failures of every kind are
//! tool errors; protocol errors are only for calls that name no known tool.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use rmcp::ErrorData as McpError;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    Resource, ResourceContents, ResourcesCapability, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::credentials::{
    Credential, EnvCredentials, Secret, insecure_credentials_message, may_send_credentials,
    passed_through,
};
use super::descriptor::{ApiDescriptor, HttpMethod, SecurityKind, ServeMode, ToolDescriptor};
use super::discovery::{self, DISCOVERY_TOOLS, OperationIndex};
use super::extra::{ExtraTool, ExtraTools, ToolContext};
use super::fields::{self, FIELDS_ARG, FieldPath};
use super::oauth::{OAuthTokens, TokenUrlOverride};
use super::request::{self, PreparedRequest, Upstream, client_builder};
use super::response::{UpstreamAnswer, is_stream_media, to_tool_result};
use super::retry::{self, RetryPolicy};
use super::validate::ArgumentValidator;

/// How the server talks to the upstream.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where every request goes.
    pub upstream: Upstream,
    /// Deadline for one upstream call, body included.
    pub timeout: Duration,
    /// Upstream bodies are cut after this many bytes.
    pub max_response_bytes: usize,
    /// At most this many upstream calls run at once; more wait their turn.
    pub max_concurrent_calls: usize,
    /// Forward the caller's own upstream credential (HTTP transport only).
    pub passthrough: bool,
    /// When failed requests of idempotent methods are repeated.
    pub retry: RetryPolicy,
    /// How operations are offered; `None` keeps the mode the server was generated with.
    pub mode: Option<ServeMode>,
    /// Offer the `_fields` argument on tools whose answer is JSON.
    pub field_selection: bool,
    /// Serve GET operations that need no argument as resources too.
    pub get_resources: bool,
    /// Token URLs that replace those of the document's OAuth 2.0 schemes.
    pub oauth_token_urls: Vec<TokenUrlOverride>,
    /// Extra form fields of every token request (`audience`, `resource`, ...).
    pub oauth_params: Vec<(String, String)>,
    /// Send credentials over plain http to a host other than this machine, where anyone on
    /// the network path can read them.
    pub allow_insecure_credentials: bool,
}

impl RuntimeConfig {
    /// Defaults for everything but the upstream.
    pub fn new(upstream: Upstream) -> Self {
        RuntimeConfig {
            upstream,
            timeout: Duration::from_secs(30),
            max_response_bytes: 1024 * 1024,
            max_concurrent_calls: 64,
            passthrough: true,
            retry: RetryPolicy::default(),
            mode: None,
            field_selection: true,
            get_resources: false,
            oauth_token_urls: Vec::new(),
            oauth_params: Vec::new(),
            allow_insecure_credentials: false,
        }
    }
}

/// An MCP server for one generated API. Cheap to clone: every clone shares one HTTP client,
/// one tool table and one set of compiled validators.
#[derive(Clone)]
pub struct GeneratedServer {
    state: Arc<State>,
}

/// Marks a `tools/list` request whose answer the transport completes with
/// [`GeneratedServer::tools_json`]: the handler answers it with an empty list.
#[derive(Debug, Clone, Copy)]
pub struct SpliceTools;

/// What a listed tool name leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listed {
    /// The generated operation at this index.
    Operation(usize),
    /// One of the search tools (search and mixed modes).
    Discovery(usize),
    /// A hand-written tool.
    Extra,
}

struct State {
    api: &'static ApiDescriptor,
    config: RuntimeConfig,
    mode: ServeMode,
    client: reqwest::Client,
    env_credentials: EnvCredentials,
    /// Whether credentials may go to the upstream: over TLS, to this machine, or as the
    /// operator allowed.
    credentials_may_travel: bool,
    oauth: OAuthTokens,
    by_name: HashMap<&'static str, usize>,
    /// Per operation: whether it takes the `_fields` argument.
    offers_fields: Box<[bool]>,
    /// Per operation: its tool as listed, built when first asked for alone.
    listed_tools: Box<[OnceLock<Tool>]>,
    /// The search tools, in search and mixed modes.
    discovery_tools: Vec<Tool>,
    /// The listed tools as JSON text, built once (see [`GeneratedServer::tools_json`]).
    tools_json: OnceLock<Option<Box<str>>>,
    validators: Box<[OnceLock<Result<ArgumentValidator, String>>]>,
    output_validators: Box<[OnceLock<Result<ArgumentValidator, String>>]>,
    index: OnceLock<OperationIndex>,
    resources: OnceLock<Vec<Resource>>,
    permits: Semaphore,
    extra_tools: ExtraTools,
}

/// Credentials chosen for one call.
struct ChosenCredentials {
    /// What the request carries.
    applied: Vec<(usize, Credential)>,
    /// OAuth 2.0 tokens fetched for it (scheme, `Authorization` value), to be retired when
    /// the upstream refuses them.
    fetched: Vec<(usize, Secret)>,
}

/// What came back from the upstream for one call.
enum Exchange {
    Answer {
        /// `METHOD /path` as sent, for messages.
        request: String,
        status: http::StatusCode,
        content_type: Option<String>,
        body: Vec<u8>,
        truncated: bool,
        retry_after: Option<Duration>,
    },
    Failed(String),
}

impl GeneratedServer {
    /// Builds the server. Credentials are read from the process environment once, here.
    pub fn new(api: &'static ApiDescriptor, config: RuntimeConfig) -> Result<Self, String> {
        let env_credentials =
            EnvCredentials::load(api.security_schemes, |name| std::env::var(name).ok());
        Self::with_credentials(api, config, env_credentials)
    }

    /// Builds the server with explicitly given environment credentials.
    pub fn with_credentials(
        api: &'static ApiDescriptor,
        config: RuntimeConfig,
        env_credentials: EnvCredentials,
    ) -> Result<Self, String> {
        let mode = config.mode.unwrap_or(api.mode);
        check_mode(api, mode)?;
        let upstream = config.upstream.clone();
        // Follow redirects only within the configured origin and below the base path: a
        // redirect elsewhere must not carry the caller's credentials, nor make the server a
        // proxy to another host or to parts of the host the operator did not configure. A
        // redirect that is not followed is returned to the model as it is.
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if upstream.may_redirect_to(attempt.url()) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let client = client_builder(config.timeout, config.upstream.is_https())
            .redirect(redirect)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let oauth = OAuthTokens::new(
            api.security_schemes,
            &config.upstream,
            &config.oauth_token_urls,
            config.oauth_params.clone(),
            config.timeout,
        )?;
        // Every request goes to the upstream's origin (request building checks the final URL),
        // so whether credentials may travel is decided once, here.
        let credentials_may_travel =
            config.allow_insecure_credentials || may_send_credentials(config.upstream.url());
        if !credentials_may_travel && !env_credentials.is_empty() {
            return Err(insecure_credentials_message(config.upstream.url()));
        }
        // A client id and secret that can never be used are a configuration mistake: say so
        // now rather than on the first call.
        for (i, scheme) in api.security_schemes.iter().enumerate() {
            if let (Some(Credential::ClientCredentials(_)), Some(Err(e))) =
                (env_credentials.get(i), oauth.token_url(i))
            {
                let advice = if e.contains("--oauth-token-url") {
                    ""
                } else {
                    "; pass --oauth-token-url"
                };
                return Err(format!(
                    "the OAuth 2.0 scheme `{}`: {e}{advice}",
                    scheme.name
                ));
            }
        }
        let by_name = api
            .tools
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name, i))
            .collect();
        let offers_fields = api
            .tools
            .iter()
            .map(|t| config.field_selection && t.output_schema.is_some() && !has_own_fields_arg(t))
            .collect();
        let validators = api.tools.iter().map(|_| OnceLock::new()).collect();
        let output_validators = api.tools.iter().map(|_| OnceLock::new()).collect();
        let permits = Semaphore::new(config.max_concurrent_calls.max(1));
        Ok(GeneratedServer {
            state: Arc::new(State {
                api,
                config,
                mode,
                client,
                env_credentials,
                credentials_may_travel,
                oauth,
                by_name,
                offers_fields,
                listed_tools: api.tools.iter().map(|_| OnceLock::new()).collect(),
                discovery_tools: if mode == ServeMode::Tools {
                    Vec::new()
                } else {
                    discovery::discovery_tools(api.title)
                },
                tools_json: OnceLock::new(),
                validators,
                output_validators,
                index: OnceLock::new(),
                resources: OnceLock::new(),
                permits,
                extra_tools: ExtraTools::default(),
            }),
        })
    }

    /// The places the server sends requests to, one line each and without secrets: the
    /// upstream, and the token URL of every OAuth 2.0 client-credentials scheme.
    pub fn destinations(&self) -> Vec<String> {
        let mut lines = vec![format!("upstream: {}", self.state.config.upstream.url())];
        for (scheme, url) in self.state.oauth.destinations() {
            lines.push(format!("OAuth 2.0 token URL of `{scheme}`: {url}"));
        }
        lines
    }

    /// Adds hand-written tools, listed after the generated ones. Fails when a name is invalid
    /// or taken, or when the server has already been cloned (add them before serving).
    pub fn with_extra_tools(mut self, tools: Vec<ExtraTool>) -> Result<Self, String> {
        let state = Arc::get_mut(&mut self.state)
            .ok_or("extra tools must be added before the server is cloned or served")?;
        let reserved: &[&str] = if state.mode == ServeMode::Tools {
            &[]
        } else {
            &DISCOVERY_TOOLS
        };
        let taken = state
            .api
            .tools
            .iter()
            .map(|t| t.name)
            .chain(reserved.iter().copied());
        state.extra_tools = ExtraTools::new(tools, taken)?;
        state.tools_json = OnceLock::new();
        Ok(self)
    }

    /// How the server offers its operations.
    pub fn mode(&self) -> ServeMode {
        self.state.mode
    }

    /// The tools as listed, built afresh: generated operations (those that are tools of their
    /// own in this mode), then the search tools, then the hand-written ones.
    pub fn tools(&self) -> Vec<Tool> {
        let mut tools = Vec::new();
        self.each_tool(|tool| tools.push(tool.clone()));
        tools
    }

    /// Calls `f` with every listed tool in order, building (and dropping) one operation's
    /// tool at a time, so that a 1,000-operation API never holds all its parsed schemas.
    fn each_tool(&self, mut f: impl FnMut(&Tool)) {
        let state = &self.state;
        for (i, t) in state.api.tools.iter().enumerate() {
            if self.is_direct(t) {
                match state.listed_tools[i].get() {
                    Some(tool) => f(tool),
                    None => f(&mcp_tool(t, state.offers_fields[i])),
                }
            }
        }
        state.discovery_tools.iter().for_each(&mut f);
        state.extra_tools.iter().for_each(|t| f(t.tool()));
    }

    /// The listed tools as a JSON array, exactly what serialising [`Self::tools`] gives; built
    /// once, tool by tool, and kept as text: the parsed schemas of a large API take ten times
    /// the memory of their text. `None` when some output schema's root is not an object, which
    /// rmcp drops for clients of older protocol versions: such a list cannot be shared by all.
    pub fn tools_json(&self) -> Option<&str> {
        self.state
            .tools_json
            .get_or_init(|| {
                let mut out = String::from("[");
                let mut shareable = true;
                self.each_tool(|tool| {
                    shareable &= tool.output_schema.as_ref().is_none_or(|schema| {
                        schema.get("type").and_then(Value::as_str) == Some("object")
                    });
                    if out.len() > 1 {
                        out.push(',');
                    }
                    // A `Tool` is plain data with string keys; serialising it cannot fail.
                    out.push_str(&serde_json::to_string(tool).unwrap_or_default());
                });
                out.push(']');
                shareable.then(|| out.into_boxed_str())
            })
            .as_deref()
    }

    /// What a listed tool name leads to; `None` for names that are not listed (unknown, or
    /// reached only through search).
    fn listed(&self, name: &str) -> Option<Listed> {
        let state = &self.state;
        if let Some(&i) = state.by_name.get(name) {
            return self
                .is_direct(&state.api.tools[i])
                .then_some(Listed::Operation(i));
        }
        if let Some(i) = state.discovery_tools.iter().position(|t| t.name == name) {
            return Some(Listed::Discovery(i));
        }
        state.extra_tools.get(name).map(|_| Listed::Extra)
    }

    /// Whether an operation is a tool of its own in the current mode.
    fn is_direct(&self, tool: &ToolDescriptor) -> bool {
        match self.state.mode {
            ServeMode::Tools | ServeMode::Mixed => !tool.search_only,
            ServeMode::Search => false,
        }
    }

    /// The search index over the operations the search tools reach, built on first use.
    fn index(&self) -> &OperationIndex {
        self.state.index.get_or_init(|| {
            let api = self.state.api;
            let searched = api
                .tools
                .iter()
                .enumerate()
                .filter(|(_, t)| self.state.mode == ServeMode::Search || t.search_only)
                .map(|(i, _)| i)
                .collect();
            OperationIndex::build(api.tools, searched)
        })
    }

    /// Executes one call of any tool: a generated operation (whether listed or reached through
    /// search), a search tool, or a hand-written tool. `headers` are the caller's HTTP request
    /// headers, when the call came over HTTP. `None` when no tool has that name; every other
    /// problem is a tool error the model can read.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        headers: Option<&http::HeaderMap>,
    ) -> Option<CallToolResult> {
        if let Some(&index) = self.state.by_name.get(name) {
            let tool = &self.state.api.tools[index];
            let strict = self.is_direct(tool);
            return Some(
                self.call_tool_at(index, tool, arguments, headers, strict)
                    .await,
            );
        }
        if self.state.mode != ServeMode::Tools && DISCOVERY_TOOLS.contains(&name) {
            return Some(
                self.call_discovery_tool(name, arguments.unwrap_or_default(), headers)
                    .await,
            );
        }
        let extra = self.state.extra_tools.get(name)?;
        let context = ToolContext::new(self.clone(), headers.cloned());
        Some(extra.call(arguments, context).await)
    }

    async fn call_discovery_tool(
        &self,
        name: &str,
        arguments: JsonObject,
        headers: Option<&http::HeaderMap>,
    ) -> CallToolResult {
        let api = self.state.api;
        let bad = |e: String| {
            tool_error(format!(
                "Invalid arguments for `{name}`: {e}. Fix them and call the tool again."
            ))
        };
        match name {
            discovery::SEARCH_TOOL => {
                let checked = discovery::check_known(&arguments, &["query", "limit"])
                    .and_then(|()| discovery::string_arg(&arguments, "query"))
                    .and_then(|q| discovery::limit(&arguments).map(|l| (q, l)));
                let (query, limit) = match checked {
                    Ok(found) => found,
                    Err(e) => return bad(e),
                };
                let found = self.index().search(query, limit);
                discovery::search_result(api.tools, &found, query)
            }
            discovery::DESCRIBE_TOOL => {
                let checked = discovery::check_known(&arguments, &["name"])
                    .and_then(|()| discovery::string_arg(&arguments, "name"));
                let operation = match checked {
                    Ok(found) => found,
                    Err(e) => return bad(e),
                };
                match self.state.by_name.get(operation) {
                    Some(&index) => {
                        let tool = &api.tools[index];
                        let schema = input_schema(tool, self.state.offers_fields[index]);
                        discovery::describe(tool, &schema)
                    }
                    None => self.unknown_operation(operation),
                }
            }
            _ => {
                let checked = discovery::check_known(&arguments, &["name", "arguments"])
                    .and_then(|()| discovery::string_arg(&arguments, "name"));
                let operation = match checked {
                    Ok(found) => found,
                    Err(e) => return bad(e),
                };
                let args = match arguments.get("arguments") {
                    None | Some(Value::Null) => JsonObject::new(),
                    Some(Value::Object(map)) => map.clone(),
                    Some(other) => {
                        return bad(format!("`arguments` must be an object, found {other}"));
                    }
                };
                match self.state.by_name.get(operation) {
                    Some(&index) => {
                        let tool = &api.tools[index];
                        // call_operation declares no output schema, so its structured result
                        // may be whatever the field selection leaves.
                        self.call_tool_at(index, tool, Some(args), headers, false)
                            .await
                    }
                    None => self.unknown_operation(operation),
                }
            }
        }
    }

    fn unknown_operation(&self, name: &str) -> CallToolResult {
        let api = self.state.api;
        let suggestions: Vec<&str> = self
            .index()
            .search(name, 3)
            .into_iter()
            .map(|i| api.tools[i].name)
            .collect();
        discovery::unknown_operation(name, &suggestions)
    }

    /// Runs operation `index`. `strict_output`: the result must match the operation's output
    /// schema (it was called as a tool that declares it), which limits field selection.
    async fn call_tool_at(
        &self,
        index: usize,
        tool: &'static ToolDescriptor,
        arguments: Option<JsonObject>,
        headers: Option<&http::HeaderMap>,
        strict_output: bool,
    ) -> CallToolResult {
        let mut args = arguments.unwrap_or_default();
        let selection = if self.state.offers_fields[index] {
            match args.remove(FIELDS_ARG) {
                Some(value) => match fields::parse_fields(&value) {
                    Ok(paths) => Some(paths),
                    Err(e) => {
                        return tool_error(format!(
                            "Invalid arguments for `{}`:\n- {e}\nFix these arguments (see the \
                             tool's inputSchema) and call the tool again.",
                            tool.name
                        ));
                    }
                },
                None => None,
            }
        } else {
            None
        };
        let args = Value::Object(args);
        let validator = self.state.validators[index].get_or_init(|| {
            parse_schema(tool.input_schema).and_then(|s| ArgumentValidator::new(&s))
        });
        match validator {
            Ok(validator) => {
                if let Err(problems) = validator.check(&args) {
                    return tool_error(format!(
                        "Invalid arguments for `{}`:\n- {}\nFix these arguments (see the tool's \
                         inputSchema) and call the tool again.",
                        tool.name,
                        problems.join("\n- ")
                    ));
                }
            }
            Err(e) => {
                return tool_error(format!(
                    "The input schema of `{}` cannot be used: {e}",
                    tool.name
                ));
            }
        }
        let Value::Object(args) = args else {
            return tool_error("arguments must be an object".to_owned());
        };

        let mut credentials = match self.credentials_for(tool, headers).await {
            Ok(found) => found,
            Err(e) => return tool_error(e),
        };
        let Ok(_permit) = self.state.permits.acquire().await else {
            return tool_error("the server is shutting down".to_owned());
        };
        let (mut exchange, mut attempts) = match self.send(tool, &args, &credentials).await {
            Ok(sent) => sent,
            Err(e) => return tool_error(e),
        };
        // An OAuth token can be revoked or expire early: fetch a new one, once.
        if matches!(exchange, Exchange::Answer { status, .. } if status == http::StatusCode::UNAUTHORIZED)
            && !credentials.fetched.is_empty()
        {
            for (scheme, used) in &credentials.fetched {
                self.state
                    .oauth
                    .invalidate(*scheme, tool.plan.oauth_scopes, used)
                    .await;
            }
            credentials = match self.credentials_for(tool, headers).await {
                Ok(found) => found,
                Err(e) => return tool_error(e),
            };
            (exchange, attempts) = match self.send(tool, &args, &credentials).await {
                Ok(sent) => sent,
                Err(e) => return tool_error(e),
            };
        }
        let described = format!("{} {}", tool.plan.method.as_str(), tool.plan.path);
        let denied = matches!(
            &exchange,
            Exchange::Answer { status, .. }
                if *status == http::StatusCode::UNAUTHORIZED || *status == http::StatusCode::FORBIDDEN
        );
        let (mut result, retry_after) = match &exchange {
            Exchange::Answer {
                request,
                status,
                content_type,
                body,
                truncated,
                retry_after,
            } => (
                to_tool_result(
                    tool,
                    &UpstreamAnswer {
                        status: *status,
                        content_type: content_type.as_deref(),
                        body,
                        truncated: *truncated,
                        request,
                    },
                ),
                *retry_after,
            ),
            Exchange::Failed(message) => (tool_error(message.clone()), None),
        };
        if result.is_error == Some(true) {
            if attempts > 1 {
                result.content.push(ContentBlock::text(format!(
                    "The request was sent {attempts} times ({described} is safe to repeat); \
                     every attempt failed."
                )));
            }
            if let Some(wait) = retry_after {
                result.content.push(ContentBlock::text(format!(
                    "The upstream asks to wait {} s before trying again.",
                    wait.as_secs()
                )));
            }
            if denied && credentials.applied.is_empty() {
                self.add_credential_hint(tool, &mut result);
            }
        } else if let Some(paths) = selection {
            self.select_fields(index, tool, &mut result, &paths, strict_output);
        }
        result
    }

    /// Builds and sends the request with `credentials`, repeating it where safe. Returns what
    /// came back and how many attempts were made.
    async fn send(
        &self,
        tool: &ToolDescriptor,
        args: &JsonObject,
        credentials: &ChosenCredentials,
    ) -> Result<(Exchange, u32), String> {
        let mut prepared = request::build(
            &tool.plan,
            args,
            &self.state.config.upstream,
            self.state.api.security_schemes,
            &credentials.applied,
        )
        .map_err(|e| format!("Cannot build the request: {e}"))?;
        // A stream is asked for by its media type, unless a parameter already chose one.
        if let Some(format) = tool.stream
            && !prepared.headers.contains_key(http::header::ACCEPT)
        {
            prepared.headers.insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static(format.media_type()),
            );
        }
        // A caller's credential too: the request's origin is the upstream's, and redirects
        // never change it.
        if !credentials.applied.is_empty() && !self.state.credentials_may_travel {
            return Err(insecure_credentials_message(&prepared.url));
        }
        Ok(self
            .send_with_retries(&prepared, tool.plan.method.is_idempotent())
            .await)
    }

    /// Chooses the first security alternative whose every scheme has a credential: the
    /// caller's own (pass-through) first, then the environment's; OAuth 2.0 client
    /// credentials are exchanged for an access token.
    async fn credentials_for(
        &self,
        tool: &ToolDescriptor,
        headers: Option<&http::HeaderMap>,
    ) -> Result<ChosenCredentials, String> {
        // TRACE never carries credentials (the upstream echoes the request): fetch none.
        if tool.plan.method == HttpMethod::Trace {
            return Ok(ChosenCredentials {
                applied: Vec::new(),
                fetched: Vec::new(),
            });
        }
        let schemes = self.state.api.security_schemes;
        let lookup = |index: usize| -> Option<Credential> {
            let scheme = schemes.get(index)?;
            let passed = match headers {
                Some(h) if self.state.config.passthrough => passed_through(scheme, h),
                _ => None,
            };
            passed.or_else(|| self.state.env_credentials.get(index).cloned())
        };
        let mut chosen = Vec::new();
        for alternative in tool.plan.security {
            let found: Option<Vec<_>> = alternative
                .iter()
                .map(|&i| lookup(i).map(|c| (i, c)))
                .collect();
            if let Some(found) = found {
                chosen = found;
                break;
            }
        }
        let mut applied = Vec::with_capacity(chosen.len());
        let mut fetched = Vec::new();
        for (index, credential) in chosen {
            match credential {
                Credential::ClientCredentials(client) => {
                    let header = self
                        .state
                        .oauth
                        .authorization(index, &client, tool.plan.oauth_scopes)
                        .await?;
                    fetched.push((index, header.clone()));
                    applied.push((index, Credential::Authorization(header)));
                }
                other => applied.push((index, other)),
            }
        }
        Ok(ChosenCredentials { applied, fetched })
    }

    /// Tells the model, after a 401 or 403 to a call sent without credentials, which ones the
    /// operator can configure.
    fn add_credential_hint(&self, tool: &ToolDescriptor, result: &mut CallToolResult) {
        let schemes = self.state.api.security_schemes;
        let mut options: Vec<String> = Vec::new();
        for alternative in tool.plan.security {
            for &i in *alternative {
                if let Some(s) = schemes.get(i) {
                    let option = match s.kind {
                        SecurityKind::Bearer | SecurityKind::Basic => format!(
                            "set {} or send an Authorization header to this server",
                            s.env.join(" and ")
                        ),
                        SecurityKind::OAuth2ClientCredentials { .. } => format!(
                            "set {} and {} (or an access token in {}), or send an \
                             Authorization header to this server",
                            s.env.get(1).copied().unwrap_or_default(),
                            s.env.get(2).copied().unwrap_or_default(),
                            s.env.first().copied().unwrap_or_default()
                        ),
                        SecurityKind::ApiKey(..) => format!("set {}", s.env.join(" and ")),
                    };
                    options.push(option);
                }
            }
        }
        if !options.is_empty() {
            result.content.push(ContentBlock::text(format!(
                "No upstream credential was configured for this call. The server's operator \
                 can {}.",
                options.join("; or ")
            )));
        }
    }

    /// Sends `prepared`, repeating it after a 429, 502, 503 or 504 answer or a failure to
    /// connect when the method is idempotent, as the retry policy allows. Returns the last
    /// exchange and the number of attempts.
    async fn send_with_retries(
        &self,
        prepared: &PreparedRequest,
        idempotent: bool,
    ) -> (Exchange, u32) {
        let policy = self.state.config.retry;
        let started = Instant::now();
        // Durations, not instants: a huge `Retry-After` must not overflow a clock reading.
        let fits = |wait: Duration| started.elapsed().saturating_add(wait) <= policy.budget;
        let described = prepared.describe();
        let mut retries = 0u32;
        loop {
            let may_retry = idempotent && retries < policy.max_retries;
            let mut builder = self
                .state
                .client
                .request(prepared.method.clone(), prepared.url.clone())
                .headers(prepared.headers.clone());
            if let Some(body) = &prepared.body {
                builder = builder.body(body.clone());
            }
            let wait = match builder.send().await {
                Ok(response) => {
                    let status = response.status();
                    let asked = retry::retry_after(response.headers(), SystemTime::now());
                    let wait = asked.unwrap_or_else(|| retry::backoff(retries));
                    if !(may_retry && retry::is_retryable_status(status) && fits(wait)) {
                        let retry_after = asked.filter(|_| retry::is_retryable_status(status));
                        return (
                            self.read_answer(response, &described, retry_after).await,
                            retries + 1,
                        );
                    }
                    tracing::debug!(
                        request = %described,
                        status = status.as_u16(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    wait
                }
                Err(e) => {
                    let wait = retry::backoff(retries);
                    if !(may_retry && is_connection_failure(&e) && fits(wait)) {
                        return (
                            Exchange::Failed(transport_error(&described, &e)),
                            retries + 1,
                        );
                    }
                    tracing::debug!(request = %described, "retrying after a connection failure");
                    wait
                }
            };
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    async fn read_answer(
        &self,
        mut response: reqwest::Response,
        described: &str,
        retry_after: Option<Duration>,
    ) -> Exchange {
        let status = response.status();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let limit = self.state.config.max_response_bytes;
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // A stream that stops (or runs past the timeout) after some items keeps them:
                // they are returned with a notice that the stream was cut.
                Err(_) if !body.is_empty() && is_stream_media(content_type.as_deref()) => {
                    truncated = true;
                    break;
                }
                Err(e) => return Exchange::Failed(transport_error(described, &e)),
            }
        }
        Exchange::Answer {
            request: described.to_owned(),
            status,
            content_type,
            body,
            truncated,
            retry_after,
        }
    }

    /// Replaces a successful JSON result by the fields `paths` select. The text the model
    /// reads is always the selection; the structured content is too, unless the tool declares
    /// an output schema that the selection no longer matches (strict clients check it), in
    /// which case it stays whole.
    fn select_fields(
        &self,
        index: usize,
        tool: &ToolDescriptor,
        result: &mut CallToolResult,
        paths: &[FieldPath],
        strict_output: bool,
    ) {
        let Some(structured) = result.structured_content.as_ref() else {
            return;
        };
        // The model sees `{"result": ...}` around answers that are not objects; paths may
        // start inside it or with `result`.
        let paths: Vec<FieldPath> = if tool.output_wrapped {
            paths
                .iter()
                .map(|p| {
                    if p.first() == Some("result") {
                        p.clone()
                    } else {
                        p.under("result")
                    }
                })
                .collect()
        } else {
            paths.to_vec()
        };
        let missing = fields::unmatched(structured, &paths);
        let selected =
            fields::select(structured, &paths).unwrap_or_else(|| Value::Object(JsonObject::new()));
        let shown = if tool.output_wrapped {
            selected.get("result").cloned().unwrap_or(Value::Null)
        } else {
            selected.clone()
        };
        let mut content = vec![ContentBlock::text(shown.to_string())];
        if !missing.is_empty() {
            content.push(ContentBlock::text(format!(
                "No field matched {}. The answer's fields are: {}.",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                field_names(structured, tool.output_wrapped)
            )));
        }
        result.content = content;
        let conforms = !strict_output || self.output_conforms(index, tool, &selected);
        if conforms {
            result.structured_content = Some(selected);
        }
    }

    fn output_conforms(&self, index: usize, tool: &ToolDescriptor, value: &Value) -> bool {
        let Some(schema) = tool.output_schema else {
            return true;
        };
        let validator = self.state.output_validators[index]
            .get_or_init(|| parse_schema(schema).and_then(|s| ArgumentValidator::new(&s)));
        validator.as_ref().is_ok_and(|v| v.check(value).is_ok())
    }

    /// The resources the server offers, built once.
    fn resources(&self) -> &[Resource] {
        self.state.resources.get_or_init(|| {
            let api = self.state.api;
            let mut out = Vec::new();
            if let Some(spec) = api.openapi {
                out.push(discovery::spec_resource(api.title, spec.len()));
            }
            if self.state.config.get_resources {
                for tool in api.tools {
                    let schema = parse_object(tool.input_schema);
                    if discovery::is_resource_operation(tool, &schema) {
                        out.push(discovery::operation_resource(tool));
                    }
                }
            }
            out
        })
    }

    /// Reads a resource: the API document, or the answer of a GET operation.
    pub async fn read(
        &self,
        uri: &str,
        headers: Option<&http::HeaderMap>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        let api = self.state.api;
        if uri == discovery::SPEC_URI
            && let Some(spec) = api.openapi
        {
            return Ok(vec![ResourceContents::TextResourceContents {
                uri: uri.to_owned(),
                mime_type: Some("application/json".to_owned()),
                text: spec.to_owned(),
                meta: None,
            }]);
        }
        let operation = uri
            .strip_prefix(discovery::OPERATION_URI_PREFIX)
            .filter(|_| self.state.config.get_resources)
            .and_then(|name| self.state.by_name.get(name).copied())
            .filter(|&i| {
                discovery::is_resource_operation(
                    &api.tools[i],
                    &parse_object(api.tools[i].input_schema),
                )
            });
        let Some(index) = operation else {
            return Err(McpError::resource_not_found(
                format!("no resource has the URI `{uri}`"),
                None,
            ));
        };
        let tool = &api.tools[index];
        let result = self.call_tool_at(index, tool, None, headers, false).await;
        if result.is_error == Some(true) {
            let text = result
                .content
                .iter()
                .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
                .collect::<Vec<_>>()
                .join("\n");
            return Err(McpError::internal_error(text, None));
        }
        Ok(discovery::resource_contents(uri, result))
    }
}

/// Refuses a mode that cannot work with this table.
fn check_mode(api: &ApiDescriptor, mode: ServeMode) -> Result<(), String> {
    if mode == ServeMode::Tools {
        return Ok(());
    }
    if mode == ServeMode::Mixed && !api.tools.iter().any(|t| t.search_only) {
        return Err(
            "mixed mode needs operations that are reached only through search, and this \
             server has none: generate it with --mode mixed and --include-tag or \
             --include-operation choosing the tools of their own, or use --mode search"
                .to_owned(),
        );
    }
    let direct = |t: &&ToolDescriptor| mode == ServeMode::Mixed && !t.search_only;
    if let Some(clash) = api
        .tools
        .iter()
        .filter(direct)
        .find(|t| DISCOVERY_TOOLS.contains(&t.name))
    {
        return Err(format!(
            "the operation `{}` has the name of a search tool; give it another name (with \
             x-mcpgen or a tool prefix) to serve it in {mode} mode",
            clash.name
        ));
    }
    Ok(())
}

/// Whether the operation itself has an argument named `_fields`, which then keeps its meaning.
fn has_own_fields_arg(tool: &ToolDescriptor) -> bool {
    tool.plan.params.iter().any(|p| p.arg == FIELDS_ARG)
        || match tool.plan.body {
            Some(body) => match body.shape {
                super::descriptor::BodyShape::Flattened(names) => names.contains(&FIELDS_ARG),
                super::descriptor::BodyShape::Whole(arg) => arg == FIELDS_ARG,
            },
            None => false,
        }
}

/// The top-level field names of an answer (of its first element, for a list), for messages.
fn field_names(structured: &Value, wrapped: bool) -> String {
    let value = if wrapped {
        structured.get("result").unwrap_or(structured)
    } else {
        structured
    };
    let object = match value {
        Value::Array(items) => items.first(),
        other => Some(other),
    };
    match object.and_then(Value::as_object) {
        Some(map) if !map.is_empty() => {
            let mut names: Vec<String> = map.keys().take(30).map(|k| format!("`{k}`")).collect();
            if map.len() > 30 {
                names.push("...".to_owned());
            }
            names.join(", ")
        }
        _ => "none (the answer is not an object)".to_owned(),
    }
}

fn tool_error(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// Whether the request failed before any answer arrived, in a way a new connection may not
/// (refused, reset, closed): repeating an idempotent request is then safe. Timeouts are not
/// among them: the time is spent, and the upstream may still be working on it.
fn is_connection_failure(error: &reqwest::Error) -> bool {
    if error.is_timeout() || error.is_body() || error.is_decode() || error.is_redirect() {
        return false;
    }
    error.is_connect() || error.is_request()
}

/// Describes a failed exchange without the URL: reqwest's own message would include the query
/// string, which may hold an API key.
fn transport_error(described: &str, error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect to the upstream API"
    } else if error.is_redirect() {
        "was redirected too often"
    } else if error.is_body() || error.is_decode() {
        "failed while reading the response body"
    } else {
        "failed"
    };
    let mut source = std::error::Error::source(error);
    let mut cause = String::new();
    while let Some(err) = source {
        cause = err.to_string();
        source = err.source();
    }
    if cause.is_empty() || cause.contains("://") {
        format!("The request {described} {what}.")
    } else {
        format!("The request {described} {what}: {cause}.")
    }
}

fn parse_schema(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid embedded schema: {e}"))
}

fn parse_object(text: &str) -> JsonObject {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => JsonObject::new(),
    }
}

/// The input schema as listed: the operation's own, plus `_fields` where it is offered.
fn input_schema(tool: &ToolDescriptor, offers_fields: bool) -> JsonObject {
    let mut schema = parse_object(tool.input_schema);
    if offers_fields && let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert(FIELDS_ARG.to_owned(), fields::fields_schema());
    }
    schema
}

fn mcp_tool(tool: &'static ToolDescriptor, offers_fields: bool) -> Tool {
    let mut annotations = ToolAnnotations::new()
        .read_only(tool.hints.read_only)
        .idempotent(tool.hints.idempotent)
        .open_world(true);
    if !tool.hints.read_only {
        annotations = annotations.destructive(tool.hints.destructive);
    }
    if let Some(title) = tool.title {
        annotations.title = Some(title.to_owned());
    }
    let mut mcp = Tool::new(
        tool.name,
        tool.description,
        Arc::new(input_schema(tool, offers_fields)),
    )
    .with_annotations(annotations);
    if let Some(title) = tool.title {
        mcp = mcp.with_title(title);
    }
    if let Some(schema) = tool.output_schema {
        mcp = mcp.with_raw_output_schema(Arc::new(parse_object(schema)));
    }
    mcp
}

impl ServerHandler for GeneratedServer {
    fn get_info(&self) -> ServerConfig {
        let api = self.state.api;
        let mut capabilities = ServerCapabilities::builder().enable_tools().build();
        if !self.resources().is_empty() {
            capabilities.resources = Some(ResourcesCapability::default());
        }
        let mut instructions = api.instructions.to_owned();
        match self.state.mode {
            ServeMode::Tools => {}
            ServeMode::Search => instructions.push_str(&format!(
                " The operations are reached through search: {} finds operations for a task, \
                 {} shows one operation's arguments, {} runs it.",
                discovery::SEARCH_TOOL,
                discovery::DESCRIBE_TOOL,
                discovery::CALL_TOOL
            )),
            ServeMode::Mixed => instructions.push_str(&format!(
                " Some operations are tools of their own; {} finds the others, {} shows their \
                 arguments and {} runs them.",
                discovery::SEARCH_TOOL,
                discovery::DESCRIBE_TOOL,
                discovery::CALL_TOOL
            )),
        }
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new(api.server_name, api.server_version).with_title(api.title),
            )
            .with_instructions(instructions)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        // The transport (stdio, or the HTTP layer) puts the tools into the answer itself,
        // from `tools_json`.
        let over_http = context
            .extensions
            .get::<http::request::Parts>()
            .is_some_and(|parts| parts.extensions.get::<SpliceTools>().is_some());
        if over_http || context.extensions.get::<SpliceTools>().is_some() {
            return Ok(ListToolsResult::with_all_items(Vec::new()));
        }
        // Built for this answer and dropped with it.
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let state = &self.state;
        match self.listed(name)? {
            Listed::Operation(i) => Some(
                state.listed_tools[i]
                    .get_or_init(|| mcp_tool(&state.api.tools[i], state.offers_fields[i]))
                    .clone(),
            ),
            Listed::Discovery(i) => state.discovery_tools.get(i).cloned(),
            Listed::Extra => state.extra_tools.get(name).map(|t| t.tool().clone()),
        }
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let headers = context
            .extensions
            .get::<http::request::Parts>()
            .map(|parts| &parts.headers);
        // Only listed tools may be called directly; operations reached through search are
        // called with call_operation.
        if self.listed(&request.name).is_none() {
            return Err(McpError::invalid_params(
                format!("unknown tool `{}`", request.name),
                None,
            ));
        }
        // Boxed: rmcp spawns a task per request around this future, and tokio moves a task's
        // future several times; a pointer is cheaper to move than the whole call's state.
        match Box::pin(self.call(&request.name, request.arguments, headers)).await {
            Some(result) => Ok(result.into()),
            None => Err(McpError::invalid_params(
                format!("unknown tool `{}`", request.name),
                None,
            )),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        if self.resources().is_empty() {
            return Err(McpError::method_not_found::<
                rmcp::model::ListResourcesRequestMethod,
            >());
        }
        Ok(ListResourcesResult::with_all_items(
            self.resources().to_vec(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        if self.resources().is_empty() {
            return Err(McpError::method_not_found::<
                rmcp::model::ListResourceTemplatesRequestMethod,
            >());
        }
        Ok(ListResourceTemplatesResult::with_all_items(Vec::new()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let headers = context
            .extensions
            .get::<http::request::Parts>()
            .map(|parts| &parts.headers);
        let contents = self.read(&request.uri, headers).await?;
        Ok(ReadResourceResult::new(contents).into())
    }
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::{CallPlan, HttpMethod, ToolHints};
    use super::*;
    use serde_json::json;

    const fn tool(name: &'static str, search_only: bool) -> ToolDescriptor {
        ToolDescriptor {
            name,
            title: None,
            description: "Gets the thing.",
            input_schema: r#"{"type":"object","properties":{},"additionalProperties":false}"#,
            output_schema: Some(
                r#"{"type":"object","required":["id"],"properties":{"id":{"type":"string"},"name":{"type":"string"}}}"#,
            ),
            output_wrapped: false,
            hints: ToolHints {
                read_only: true,
                destructive: false,
                idempotent: true,
            },
            stream: None,
            plan: CallPlan {
                method: HttpMethod::Get,
                path: "/thing",
                params: &[],
                body: None,
                security: &[],
                oauth_scopes: &[],
            },
            tags: &[],
            search_only,
        }
    }

    const fn api(tools: &'static [ToolDescriptor], openapi: Option<&'static str>) -> ApiDescriptor {
        ApiDescriptor {
            server_name: "t",
            server_version: "1",
            title: "T",
            instructions: "",
            default_base_url: None,
            env_prefix: "T",
            security_schemes: &[],
            tools,
            mode: ServeMode::Tools,
            openapi,
        }
    }

    static PLAIN: ApiDescriptor = api(&[tool("getThing", false)], None);
    static WITH_SPEC: ApiDescriptor = api(&[tool("getThing", false)], Some("{}"));
    static CLASHING: ApiDescriptor =
        api(&[tool("call_operation", false), tool("other", true)], None);

    fn config(mode: Option<ServeMode>) -> RuntimeConfig {
        let mut config =
            RuntimeConfig::new(Upstream::parse("http://127.0.0.1:9").expect("a valid URL"));
        config.mode = mode;
        config
    }

    #[test]
    fn resources_are_advertised_only_when_there_are_some() {
        let plain = GeneratedServer::new(&PLAIN, config(None)).unwrap();
        assert!(plain.get_info().capabilities.resources.is_none());
        let mut with_gets = config(None);
        with_gets.get_resources = true;
        let gets = GeneratedServer::new(&PLAIN, with_gets).unwrap();
        assert!(gets.get_info().capabilities.resources.is_some());
        let spec = GeneratedServer::new(&WITH_SPEC, config(None)).unwrap();
        assert!(spec.get_info().capabilities.resources.is_some());
    }

    #[test]
    fn modes_that_cannot_work_are_refused() {
        let err = GeneratedServer::new(&PLAIN, config(Some(ServeMode::Mixed)))
            .err()
            .unwrap();
        assert!(err.contains("mixed mode needs"), "{err}");
        let err = GeneratedServer::new(&CLASHING, config(Some(ServeMode::Mixed)))
            .err()
            .unwrap();
        assert!(err.contains("`call_operation`"), "{err}");
        // In search mode nothing is a tool of its own, so nothing clashes.
        assert!(GeneratedServer::new(&CLASHING, config(Some(ServeMode::Search))).is_ok());
        let extra = ExtraTool::new("search_operations", "Mine.", |_, _| async {
            CallToolResult::success(Vec::new())
        });
        let search = GeneratedServer::new(&PLAIN, config(Some(ServeMode::Search))).unwrap();
        assert!(search.with_extra_tools(vec![extra.clone()]).is_err());
        let tools = GeneratedServer::new(&PLAIN, config(None)).unwrap();
        assert!(tools.with_extra_tools(vec![extra]).is_ok());
    }

    #[test]
    fn the_listing_follows_the_mode() {
        let names = |mode| {
            GeneratedServer::new(&PLAIN, config(Some(mode)))
                .unwrap()
                .tools()
                .iter()
                .map(|t| t.name.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(ServeMode::Tools), ["getThing"]);
        assert_eq!(
            names(ServeMode::Search),
            ["search_operations", "describe_operation", "call_operation"]
        );
        let server = GeneratedServer::new(&PLAIN, config(None)).unwrap();
        let listed = &server.tools()[0];
        assert_eq!(
            server.tools_json(),
            Some(serde_json::to_string(&server.tools()).unwrap().as_str())
        );
        assert!(listed.input_schema["properties"]["_fields"].is_object());
    }

    #[test]
    fn selections_that_break_the_output_schema_leave_the_structure_whole() {
        let server = GeneratedServer::new(&PLAIN, config(None)).unwrap();
        let answer = json!({"id": "1", "name": "Rex", "extra": true});
        let select = |fields: &[&str], strict: bool| {
            let mut result = CallToolResult::structured(answer.clone());
            let paths: Vec<FieldPath> = fields
                .iter()
                .map(|f| FieldPath::parse(f).unwrap())
                .collect();
            server.select_fields(0, &PLAIN.tools[0], &mut result, &paths, strict);
            result
        };
        let kept = select(&["id", "name"], true);
        assert_eq!(
            kept.structured_content,
            Some(json!({"id": "1", "name": "Rex"}))
        );
        let names_only = select(&["name"], true);
        assert_eq!(names_only.structured_content, Some(answer.clone()));
        assert_eq!(
            names_only.content[0].as_text().map(|t| t.text.as_str()),
            Some(r#"{"name":"Rex"}"#)
        );
        let loose = select(&["name"], false);
        assert_eq!(loose.structured_content, Some(json!({"name": "Rex"})));
    }
}
