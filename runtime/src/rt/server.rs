//! The MCP server: lists the generated tools and executes a call as validate → build request
//! → send → convert. Upstream failures of every kind are tool errors; protocol errors are
//! only for calls that name no known tool.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rmcp::ErrorData as McpError;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::credentials::{Credential, EnvCredentials, passed_through};
use super::descriptor::{ApiDescriptor, SecurityKind, ToolDescriptor};
use super::extra::{ExtraTool, ExtraTools, ToolContext};
use super::request::{self, PreparedRequest, Upstream};
use super::response::{UpstreamAnswer, to_tool_result};
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
        }
    }
}

/// An MCP server for one generated API. Cheap to clone: every clone shares one HTTP client,
/// one tool table and one set of compiled validators.
#[derive(Clone)]
pub struct GeneratedServer {
    state: Arc<State>,
}

struct State {
    api: &'static ApiDescriptor,
    config: RuntimeConfig,
    client: reqwest::Client,
    env_credentials: EnvCredentials,
    by_name: HashMap<&'static str, usize>,
    tools: OnceLock<Vec<Tool>>,
    validators: Box<[OnceLock<Result<ArgumentValidator, String>>]>,
    permits: Semaphore,
    extra_tools: ExtraTools,
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
        let upstream = config.upstream.clone();
        // Follow redirects only within the configured origin: a redirect elsewhere must not
        // carry the caller's credentials, nor make the server a proxy to another host.
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if upstream.same_origin(attempt.url()) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .redirect(redirect)
            .user_agent(concat!("mcpgen-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let by_name = api
            .tools
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name, i))
            .collect();
        let validators = api.tools.iter().map(|_| OnceLock::new()).collect();
        let permits = Semaphore::new(config.max_concurrent_calls.max(1));
        Ok(GeneratedServer {
            state: Arc::new(State {
                api,
                config,
                client,
                env_credentials,
                by_name,
                tools: OnceLock::new(),
                validators,
                permits,
                extra_tools: ExtraTools::default(),
            }),
        })
    }

    /// Adds hand-written tools, listed after the generated ones. Fails when a name is invalid
    /// or taken, or when the server has already been cloned (add them before serving).
    pub fn with_extra_tools(mut self, tools: Vec<ExtraTool>) -> Result<Self, String> {
        let state = Arc::get_mut(&mut self.state)
            .ok_or("extra tools must be added before the server is cloned or served")?;
        state.extra_tools = ExtraTools::new(tools, state.api.tools.iter().map(|t| t.name))?;
        state.tools = OnceLock::new();
        Ok(self)
    }

    /// The tool list, built once.
    pub fn tools(&self) -> &[Tool] {
        self.state.tools.get_or_init(|| {
            let extra = self.state.extra_tools.iter().map(|t| t.tool().clone());
            self.state
                .api
                .tools
                .iter()
                .map(mcp_tool)
                .chain(extra)
                .collect()
        })
    }

    /// Executes one call. `headers` are the caller's HTTP request headers, when the call came
    /// over HTTP. Never fails: every problem is a tool error the model can read.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        headers: Option<&http::HeaderMap>,
    ) -> Option<CallToolResult> {
        let Some(&index) = self.state.by_name.get(name) else {
            let extra = self.state.extra_tools.get(name)?;
            let context = ToolContext::new(self.clone(), headers.cloned());
            return Some(extra.call(arguments, context).await);
        };
        let tool = &self.state.api.tools[index];
        Some(self.call_tool_at(index, tool, arguments, headers).await)
    }

    async fn call_tool_at(
        &self,
        index: usize,
        tool: &'static ToolDescriptor,
        arguments: Option<JsonObject>,
        headers: Option<&http::HeaderMap>,
    ) -> CallToolResult {
        let args = Value::Object(arguments.unwrap_or_default());
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

        let credentials = self.credentials_for(tool, headers);
        let prepared = match request::build(
            &tool.plan,
            &args,
            &self.state.config.upstream,
            self.state.api.security_schemes,
            &credentials,
        ) {
            Ok(prepared) => prepared,
            Err(e) => return tool_error(format!("Cannot build the request: {e}")),
        };
        let Ok(_permit) = self.state.permits.acquire().await else {
            return tool_error("the server is shutting down".to_owned());
        };
        let mut result = self.send(tool, prepared).await;
        if result.is_error == Some(true) && credentials.is_empty() {
            self.add_credential_hint(tool, &mut result);
        }
        result
    }

    /// Chooses the first security alternative whose every scheme has a credential: the
    /// caller's own (pass-through) first, then the environment's.
    fn credentials_for(
        &self,
        tool: &ToolDescriptor,
        headers: Option<&http::HeaderMap>,
    ) -> Vec<(usize, Credential)> {
        let schemes = self.state.api.security_schemes;
        let lookup = |index: usize| -> Option<Credential> {
            let scheme = schemes.get(index)?;
            let passed = match headers {
                Some(h) if self.state.config.passthrough => passed_through(scheme, h),
                _ => None,
            };
            passed.or_else(|| self.state.env_credentials.get(index).cloned())
        };
        for alternative in tool.plan.security {
            let found: Option<Vec<_>> = alternative
                .iter()
                .map(|&i| lookup(i).map(|c| (i, c)))
                .collect();
            if let Some(found) = found {
                return found;
            }
        }
        Vec::new()
    }

    fn add_credential_hint(&self, tool: &ToolDescriptor, result: &mut CallToolResult) {
        let text = result
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.as_str())
            .unwrap_or_default();
        if !(text.contains("HTTP 401") || text.contains("HTTP 403")) {
            return;
        }
        let schemes = self.state.api.security_schemes;
        let mut options: Vec<String> = Vec::new();
        for alternative in tool.plan.security {
            for &i in *alternative {
                if let Some(s) = schemes.get(i) {
                    let how = match s.kind {
                        SecurityKind::Bearer | SecurityKind::Basic => {
                            "or send an Authorization header to this server"
                        }
                        _ => "",
                    };
                    options.push(
                        format!("set {} {how}", s.env.join(" and "))
                            .trim()
                            .to_owned(),
                    );
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

    async fn send(&self, tool: &ToolDescriptor, prepared: PreparedRequest) -> CallToolResult {
        let described = prepared.describe();
        let mut builder = self
            .state
            .client
            .request(prepared.method, prepared.url)
            .headers(prepared.headers);
        if let Some(body) = prepared.body {
            builder = builder.body(body);
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return tool_error(transport_error(&described, &e)),
        };
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
                Err(e) => return tool_error(transport_error(&described, &e)),
            }
        }
        to_tool_result(
            tool,
            &UpstreamAnswer {
                status,
                content_type: content_type.as_deref(),
                body: &body,
                truncated,
                request: &described,
            },
        )
    }
}

fn tool_error(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
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

fn parse_object(text: &str) -> Arc<JsonObject> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

fn mcp_tool(tool: &'static ToolDescriptor) -> Tool {
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
    let mut mcp = Tool::new(tool.name, tool.description, parse_object(tool.input_schema))
        .with_annotations(annotations);
    if let Some(title) = tool.title {
        mcp = mcp.with_title(title);
    }
    if let Some(schema) = tool.output_schema {
        mcp = mcp.with_raw_output_schema(parse_object(schema));
    }
    mcp
}

impl ServerHandler for GeneratedServer {
    fn get_info(&self) -> ServerConfig {
        let api = self.state.api;
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new(api.server_name, api.server_version).with_title(api.title),
            )
            .with_instructions(api.instructions)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        match self.state.by_name.get(name) {
            Some(&index) => self.tools().get(index).cloned(),
            None => self.state.extra_tools.get(name).map(|t| t.tool().clone()),
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
        match self.call(&request.name, request.arguments, headers).await {
            Some(result) => Ok(result.into()),
            None => Err(McpError::invalid_params(
                format!("unknown tool `{}`", request.name),
                None,
            )),
        }
    }
}
