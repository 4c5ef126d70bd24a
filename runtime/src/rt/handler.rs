//! The MCP side of a server: `initialize`, the tool list (the generated operations that are
//! tools of their own, or the three search tools that reach every operation, then the
//! hand-written tools), `tools/call` dispatch, and resources. Protocol errors are only for
//! calls that name no known tool; what a call of an operation does after dispatch is in
//! [`call`](super::call).

use std::sync::Arc;

use rmcp::ErrorData as McpError;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
    Implementation, InputResponses, JsonObject, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Reference, Resource, ResourceContents,
    ResourcesCapability, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, GetPromptRequestParams,
    GetPromptResponse, ResourceUpdatedNotificationParam, SubscribeRequestMethod,
    SubscribeRequestParams, UnsubscribeRequestMethod, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::Value;

use super::call::{CallError, Inbound, tool_outcome};
use super::config::{discovery_tools_of, lists_own_tool};
use super::confirm::{Asker, NestedAsker, completed};
use super::descriptor::{ServeMode, ToolDescriptor};
use super::discovery::{self, OperationIndex};
use super::extra::{ExtraTool, TaskSupport, ToolContext};
use super::fields::{self, FIELDS_ARG};
use super::interaction::{self, Answer, ConverseError, Conversed, Interaction};
use super::local_tasks::{self, LocalTask};
use super::notify;
use super::pages;
use super::resource_server::Caller;
use super::resources::{OperationResources, parse_object};
use super::server::GeneratedServer;
use super::subscriptions;
use super::templates::{self, Templates};
use super::trace::RequestId;

/// How long a client may reuse a list (tools, resources, templates, prompts) before asking
/// again (MCP 2026-07-28 cache hints). The lists are fixed for a server's life and the same
/// for every caller; five minutes bounds how long a client keeps a list after a new version
/// of the server is rolled out.
const LIST_TTL_MS: u64 = 5 * 60 * 1000;

/// Sets the cache hints of a list result.
macro_rules! cacheable {
    ($result:expr) => {{
        let mut result = $result.with_ttl_ms(LIST_TTL_MS);
        result.cache_scope = Some(CacheScope::Public);
        result
    }};
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

impl GeneratedServer {
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
                    None => f(&mcp_tool(t, state.offers_fields[i], self.output_schema(i))),
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

    /// Whether `name` is a generated operation listed as a tool of its own.
    pub(super) fn is_listed_operation(&self, name: &str) -> bool {
        matches!(self.listed(name), Some(Listed::Operation(_)))
    }

    /// Whether an operation is a tool of its own in the current mode (and served at all).
    pub(super) fn is_direct(&self, tool: &ToolDescriptor) -> bool {
        if !self.is_served(tool) {
            return false;
        }
        lists_own_tool(self.state.mode, tool, self.state.mixed_table)
    }

    /// The search index over the operations the search tools reach, built on first use.
    fn index(&self) -> &OperationIndex {
        self.state.index.get_or_init(|| {
            let api = self.state.api;
            let searched = api
                .tools
                .iter()
                .enumerate()
                .filter(|(_, t)| {
                    matches!(self.state.mode, ServeMode::Search | ServeMode::Code) || t.search_only
                })
                .filter(|(_, t)| self.is_served(t))
                .map(|(i, _)| i)
                .collect();
            OperationIndex::build(api.tools, searched)
        })
    }

    /// Executes one call of any tool: a generated operation (whether listed or reached through
    /// search), a search tool, or a hand-written tool. `headers` are the caller's HTTP request
    /// headers, when the call came over HTTP. `None` when no tool has that name; every other
    /// problem is a tool error the model can read.
    // For programs that drive a server themselves (tests, a server embedded in another
    // program); the transports use `dispatch`, so a standalone crate leaves it unused.
    #[allow(dead_code)]
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        headers: Option<&http::HeaderMap>,
    ) -> Option<CallToolResult> {
        self.dispatch(name, arguments, Inbound::from_headers(headers))
            .await
            .map(|response| {
                response.map_or_else(
                    |e| CallToolResult::error(vec![ContentBlock::text(e.message.into_owned())]),
                    completed,
                )
            })
    }

    /// [`Self::call`] for a request the transport knows more of: the caller its access token
    /// speaks for, and how the user can be asked to confirm it. The answer is input-required
    /// when the user must confirm first and the client is asked that way.
    pub(super) async fn dispatch(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        inbound: Inbound<'_>,
    ) -> Option<Result<CallToolResponse, McpError>> {
        if let Some(&index) = self.state.by_name.get(name) {
            let tool = &self.state.api.tools[index];
            let strict = self.is_direct(tool);
            return Some(Ok(self
                .call_operation(index, tool, arguments, inbound, strict)
                .await));
        }
        if discovery_tools_of(self.state.mode).contains(&name) {
            let started = std::time::Instant::now();
            let summary = self.audit_arguments(arguments.as_ref(), &JsonObject::new());
            let (result, audited) = self
                .call_discovery_tool(name, arguments.unwrap_or_default(), inbound)
                .await;
            // A call that reached an operation has its line from `call_operation`.
            if let (false, CallToolResponse::Complete(result)) = (audited, &result) {
                self.audit_tool(name, summary, tool_outcome(result), inbound, started);
            }
            return Some(Ok(result));
        }
        let extra = self.state.extra_tools.get(name)?;
        let started = std::time::Instant::now();
        let summary = self.audit_arguments(arguments.as_ref(), &extra.tool().input_schema);
        let (response, outcome) = match self.admit(name, &[], inbound) {
            Ok(_admission) => {
                let context = self.extra_context(inbound).within_admitted_call();
                let caller = super::tasks::bound_caller(inbound.caller_id());
                let tasks = inbound.tasks && extra.task_support() != TaskSupport::Forbidden;
                let conversed = interaction::converse(
                    inbound.interaction,
                    name,
                    &caller,
                    &self.state.confirm_key,
                    |input| {
                        let context = context.clone().with_input(input);
                        self.attempt_extra(extra, arguments.clone(), context, tasks, &caller)
                    },
                )
                .await;
                match conversed {
                    Ok(Conversed::Complete(CallToolResponse::Complete(result))) => {
                        let outcome = tool_outcome(&result);
                        (Ok(result.into()), outcome)
                    }
                    Ok(Conversed::Complete(response)) => (Ok(response), "ok"),
                    Ok(Conversed::InputRequired(asked)) => (Ok(asked.into()), "input_required"),
                    // A requestState that does not verify is the client's protocol error.
                    Err(e @ ConverseError::State { .. }) => (
                        Err(McpError::invalid_params(e.to_string(), None)),
                        "refused",
                    ),
                    Err(e) => (
                        Ok(CallToolResult::error(vec![ContentBlock::text(e.to_string())]).into()),
                        "tool_error",
                    ),
                }
            }
            Err(refused) => (Ok(CallToolResult::from(refused).into()), "rate_limited"),
        };
        self.audit_tool(name, summary, outcome, inbound, started);
        Some(response)
    }

    /// One attempt at a call of the hand-written tool `extra`. With `tasks` (the tool
    /// supports them and the client takes them), the tool runs on a task of its own: if it
    /// calls `run_as_task` before it answers, the call is answered with a task at once and the
    /// tool goes on under it.
    async fn attempt_extra(
        &self,
        extra: &ExtraTool,
        arguments: Option<JsonObject>,
        context: ToolContext,
        tasks: bool,
        caller: &str,
    ) -> Answer<CallToolResponse> {
        let into_response = |answer: Answer<CallToolResult>| match answer {
            Answer::Complete(result) => Answer::Complete(result.into()),
            Answer::InputRequired(needed) => Answer::InputRequired(needed),
        };
        if !tasks {
            return into_response(extra.call(arguments, context).await);
        }
        let task = LocalTask::new(caller.to_owned());
        let (detach, detached) = tokio::sync::oneshot::channel();
        let context = context.becoming_task(detach);
        let mut work = tokio::spawn(drive_task(
            extra.clone(),
            arguments,
            context,
            Arc::clone(&task),
        ));
        task.set_work(work.abort_handle());
        tokio::select! {
            joined = &mut work => match joined {
                Ok(Some(answer)) => return into_response(answer),
                // Answered within its task: it became one, and has already ended.
                Ok(None) => {}
                Err(e) => {
                    return Answer::Complete(
                        CallToolResult::error(vec![ContentBlock::text(format!(
                            "`{}` stopped without an answer: {e}",
                            extra.name()
                        ))])
                        .into(),
                    );
                }
            },
            // The sender is dropped unsent when the tool answers without becoming a task.
            Ok(()) = detached => {}
        }
        if !self.state.local_tasks.add(Arc::clone(&task)) {
            task.cancel();
            return Answer::Complete(
                CallToolResult::error(vec![ContentBlock::text(format!(
                    "The server runs as many tasks as it can ({}); nothing more was done. Try \
                     again later.",
                    local_tasks::MAX_TASKS
                ))])
                .into(),
            );
        }
        Answer::Complete(task.created().into())
    }

    /// The session a request to subscribe belongs to; `None` when it has none to hold a
    /// subscription (a stateless request, or MCP 2026-07-28).
    fn subscriber_session(&self, context: &RequestContext<RoleServer>) -> Option<String> {
        if !self.state.config.subscriptions || notify::is_revision_2026(context) {
            return None;
        }
        notify::session_of(context)
    }

    /// The task of a hand-written tool `id` names; `None` when `id` is not of that kind, an
    /// error when it is and there is no such task for this caller.
    fn local_task(
        &self,
        id: &str,
        inbound: Inbound<'_>,
    ) -> Result<Option<Arc<LocalTask>>, McpError> {
        if !id.starts_with(local_tasks::ID_PREFIX) {
            return Ok(None);
        }
        let caller = super::tasks::bound_caller(inbound.caller_id());
        self.state
            .local_tasks
            .get(id, &caller)
            .map(Some)
            .ok_or_else(|| local_tasks::unknown(id))
    }

    /// Whether some prompt, generated or hand-written, takes arguments to complete.
    fn completes_prompts(&self) -> bool {
        self.has_prompts() || !self.state.extra_prompts.is_empty()
    }

    /// The context a hand-written tool or prompt runs in for a request `inbound`.
    fn extra_context(&self, inbound: Inbound<'_>) -> ToolContext {
        ToolContext::new(self.clone(), inbound.headers.cloned())
            .acting_for(inbound.caller.cloned())
            .asking(NestedAsker::of(inbound.asker))
            .of_client(inbound.interaction.client_capabilities())
    }

    async fn call_discovery_tool(
        &self,
        name: &str,
        arguments: JsonObject,
        inbound: Inbound<'_>,
    ) -> (CallToolResponse, bool) {
        let api = self.state.api;
        let bad = |problem: String| {
            (
                CallToolResult::from(CallError::SearchArguments {
                    tool: name.to_owned(),
                    problem,
                })
                .into(),
                false,
            )
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
                (
                    discovery::search_result(api.tools, &found, query).into(),
                    false,
                )
            }
            discovery::DESCRIBE_TOOL => {
                let checked = discovery::check_known(&arguments, &["name"])
                    .and_then(|()| discovery::string_arg(&arguments, "name"));
                let operation = match checked {
                    Ok(found) => found,
                    Err(e) => return bad(e),
                };
                match self.state.by_name.get(operation) {
                    #[cfg(feature = "code-mode")]
                    Some(&index) if self.state.mode == ServeMode::Code => {
                        let tool = &api.tools[index];
                        let schema = input_schema(tool, self.state.offers_fields[index]);
                        let declaration = super::typescript::declaration(
                            tool,
                            &schema,
                            self.output_schema(index),
                        );
                        (
                            CallToolResult::success(vec![rmcp::model::ContentBlock::text(
                                declaration,
                            )])
                            .into(),
                            false,
                        )
                    }
                    Some(&index) => {
                        let tool = &api.tools[index];
                        let schema = input_schema(tool, self.state.offers_fields[index]);
                        (
                            discovery::describe(tool, &schema, self.output_schema(index)).into(),
                            false,
                        )
                    }
                    None => (self.unknown_operation(operation).into(), false),
                }
            }
            #[cfg(feature = "code-mode")]
            discovery::EXECUTE_TOOL => {
                // The code as written, not trimmed: errors name its lines.
                let checked = discovery::check_known(&arguments, &["code"])
                    .and_then(|()| discovery::string_arg(&arguments, "code"))
                    .map(|_| {
                        arguments
                            .get("code")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                    });
                match checked {
                    Ok(code) => (self.execute(code, inbound).await.into(), false),
                    Err(e) => bad(e),
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
                        let result = self
                            .call_operation(index, tool, Some(args), inbound, false)
                            .await;
                        (result, true)
                    }
                    None => (self.unknown_operation(operation).into(), false),
                }
            }
        }
    }

    pub(super) fn unknown_operation(&self, name: &str) -> CallToolResult {
        let api = self.state.api;
        let suggestions: Vec<&str> = self
            .index()
            .search(name, 3)
            .into_iter()
            .map(|i| api.tools[i].name)
            .collect();
        discovery::unknown_operation(name, &suggestions)
    }

    /// The resources the server offers, built once: the API documents, then the operations'.
    fn resources(&self) -> &[Resource] {
        self.state.resources.get_or_init(|| {
            let api = self.state.api;
            let mut out = Vec::new();
            if let Some(spec) = api.openapi {
                out.push(discovery::spec_resource(api.title, spec.len()));
            }
            for upstream in api.apis {
                if let Some(spec) = upstream.openapi {
                    out.push(discovery::api_spec_resource(
                        discovery::api_spec_uri(upstream.name),
                        format!("openapi-{}", upstream.name),
                        upstream.title,
                        spec.len(),
                    ));
                }
            }
            out.extend(self.operation_resources().listed(api));
            out
        })
    }

    /// The resources and templates of the operations served, built once.
    pub(super) fn operation_resources(&self) -> &OperationResources {
        self.state.operation_resources.get_or_init(|| {
            OperationResources::build(self.state.api, self.state.config.get_resources, |tool| {
                self.state.by_name.contains_key(tool.name)
            })
        })
    }

    /// The resource templates of the GET operations served.
    fn templates(&self) -> &Templates {
        &self.operation_resources().templates
    }

    /// Reads a resource: the API document, or the answer of a GET operation.
    // Like `call`: the transports use `read_as`.
    #[allow(dead_code)]
    pub async fn read(
        &self,
        uri: &str,
        headers: Option<&http::HeaderMap>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        self.read_as(uri, Inbound::from_headers(headers)).await
    }

    /// The API document a URI names, if it names one.
    fn document_at(&self, uri: &str) -> Option<&'static str> {
        let api = self.state.api;
        match uri {
            discovery::SPEC_URI => api.openapi,
            _ => api
                .apis
                .iter()
                .find(|a| discovery::api_spec_uri(a.name) == uri)
                .and_then(|a| a.openapi),
        }
    }

    /// Whether `uri` names a resource of this server (without reading it).
    pub(super) fn has_resource(&self, uri: &str) -> bool {
        self.document_at(uri).is_some() || self.operation_resources().resolve(uri).is_some()
    }

    /// [`Self::read`] for a request the transport knows more of.
    pub(super) async fn read_as(
        &self,
        uri: &str,
        inbound: Inbound<'_>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        if let Some(spec) = self.document_at(uri) {
            return Ok(vec![ResourceContents::TextResourceContents {
                uri: uri.to_owned(),
                mime_type: Some("application/json".to_owned()),
                text: spec.to_owned(),
                meta: None,
            }]);
        }
        let Some((index, arguments)) = self.operation_resources().resolve(uri) else {
            return Err(McpError::resource_not_found(
                format!("no resource has the URI `{uri}`"),
                Some(serde_json::json!({ "uri": uri })),
            ));
        };
        let tool = &self.state.api.tools[index];
        let result = completed(
            self.call_operation(index, tool, arguments, inbound, false)
                .await,
        );
        if result.is_error == Some(true) {
            let text = result
                .content
                .iter()
                .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
                .collect::<Vec<_>>()
                .join("\n");
            return Err(McpError::internal_error(text, None));
        }
        Ok(discovery::resource_contents(uri, tool, result))
    }
}

/// Runs a hand-written tool that may become a task: until it calls `run_as_task`, its answer
/// is the call's (`Some`); after, its answers go to `task` (`None`): its result, or requests
/// for input the task waits on before the tool is called again with the answers.
async fn drive_task(
    extra: ExtraTool,
    arguments: Option<JsonObject>,
    mut context: ToolContext,
    task: Arc<LocalTask>,
) -> Option<Answer<CallToolResult>> {
    for _ in 0..interaction::MAX_ROUNDS {
        let answer = extra.call(arguments.clone(), context.clone()).await;
        if !context.in_task() {
            return Some(answer);
        }
        let needed = match answer {
            Answer::Complete(result) => {
                task.complete(result);
                return None;
            }
            Answer::InputRequired(needed) => needed,
        };
        let checked =
            interaction::check_requests(extra.name(), &needed, context.client_capabilities());
        match (checked, needed.into_parts()) {
            (Ok(()), Ok((requests, state))) => {
                let input = task.ask(requests, state).await;
                context = context.with_input(input);
            }
            (Err(e), _) => {
                task.fail(&e.to_string());
                return None;
            }
            (_, Err(problem)) => {
                task.fail(&format!(
                    "`{}` built an input request that cannot be sent: {problem}",
                    extra.name()
                ));
                return None;
            }
        }
    }
    task.fail(&format!(
        "`{}` asked for input more than {} times",
        extra.name(),
        interaction::MAX_ROUNDS
    ));
    None
}

/// The input schema as listed: the operation's own, plus `_fields` where it is offered and
/// `_pages` where the answers come in pages.
fn input_schema(tool: &ToolDescriptor, offers_fields: bool) -> JsonObject {
    let mut schema = parse_object(tool.input_schema);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        if offers_fields {
            properties.insert(FIELDS_ARG.to_owned(), fields::fields_schema());
        }
        if tool.pagination.is_some() {
            properties.insert(pages::PAGES_ARG.to_owned(), pages::pages_schema());
        }
    }
    schema
}

fn mcp_tool(
    tool: &'static ToolDescriptor,
    offers_fields: bool,
    output_schema: Option<&str>,
) -> Tool {
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
    if let Some(schema) = output_schema {
        mcp = mcp.with_raw_output_schema(Arc::new(parse_object(schema)));
    }
    mcp
}

/// What the transport knows of the request: its HTTP headers when it came over HTTP, the
/// caller the resource server verified (see `resource_server::require_access_token`), and how
/// the user can be asked to confirm a call (worked out only when some operation of this
/// server asks: `confirms`). `retry`: a tool call's input responses and request state (`None`
/// for other requests, which cannot carry them).
fn inbound<'a>(
    context: &'a RequestContext<RoleServer>,
    confirms: bool,
    retry: Option<(Option<&'a InputResponses>, Option<&'a str>)>,
) -> Inbound<'a> {
    let parts = context.extensions.get::<http::request::Parts>();
    let asker = if confirms {
        // Over HTTP without a session (no --sessions, or a 2026-07-28 request) the answer is
        // the only message the server can send.
        Asker::for_client(
            &context.peer,
            context.client_capabilities().as_ref(),
            notify::is_revision_2026(context),
            notify::session_of(context).is_none(),
            retry,
        )
    } else {
        Asker::default()
    };
    Inbound {
        headers: parts.map(|parts| &parts.headers),
        caller: parts.and_then(|parts| parts.extensions.get::<Caller>()),
        extensions: parts.map(|parts| &parts.extensions),
        asker,
        admitted: false,
        tasks: context
            .client_capabilities()
            .is_some_and(|capabilities| capabilities.supports_tasks()),
        interaction: Interaction::of(context, retry),
    }
}

impl ServerHandler for GeneratedServer {
    fn get_info(&self) -> ServerConfig {
        let api = self.state.api;
        // Prompts are offered even when there are none, so that `prompts/list` answers (an
        // empty list) with its cache hints instead of "method not found".
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .build();
        if !self.resources().is_empty() || !self.templates().is_empty() {
            let mut resources = ResourcesCapability::default();
            // Where clients have sessions to hold them.
            resources.subscribe = self.state.config.subscriptions.then_some(true);
            capabilities.resources = Some(resources);
        }
        if !self.templates().is_empty() || self.completes_prompts() {
            capabilities.completions = Some(JsonObject::new());
        }
        // Log messages about calls, at the level a session (or, on 2026-07-28, a request)
        // asks for; see `notify`.
        capabilities.logging = Some(JsonObject::new());
        // Long-running operations are tasks for the clients that take them.
        if self.has_long_running() || self.has_task_tools() {
            capabilities
                .extensions
                .get_or_insert_with(Default::default)
                .insert(
                    rmcp::model::TASKS_EXTENSION_ID.to_owned(),
                    JsonObject::new(),
                );
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
            ServeMode::Code => instructions.push_str(&format!(
                " The operations are called from programs: {} finds operations for a task, {} \
                 shows one as a TypeScript declaration, and {} runs a short JavaScript program \
                 that calls them (`await api.<name>(args)`) and returns only what you need.",
                discovery::SEARCH_TOOL,
                discovery::DESCRIBE_TOOL,
                discovery::EXECUTE_TOOL
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
            return Ok(cacheable!(ListToolsResult::with_all_items(Vec::new())));
        }
        // Built for this answer and dropped with it.
        Ok(cacheable!(ListToolsResult::with_all_items(self.tools())))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let state = &self.state;
        match self.listed(name)? {
            Listed::Operation(i) => Some(
                state.listed_tools[i]
                    .get_or_init(|| {
                        mcp_tool(
                            &state.api.tools[i],
                            state.offers_fields[i],
                            self.output_schema(i),
                        )
                    })
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
        let unknown = || McpError::invalid_params(format!("unknown tool `{}`", request.name), None);
        // Only listed tools may be called directly; operations reached through search are
        // called with call_operation.
        match self.listed(&request.name) {
            None => return Err(unknown()),
            Some(Listed::Extra) => {
                let declared = context.client_capabilities();
                if let Some(missing) = self
                    .state
                    .extra_tools
                    .get(&request.name)
                    .and_then(|tool| tool.missing_capabilities(declared.as_ref()))
                {
                    return Err(McpError::missing_required_client_capability(missing));
                }
                let takes_tasks = declared.as_ref().is_some_and(|c| c.supports_tasks());
                if !takes_tasks
                    && self
                        .state
                        .extra_tools
                        .get(&request.name)
                        .map(ExtraTool::task_support)
                        == Some(TaskSupport::Required)
                {
                    return Err(McpError::missing_required_client_capability(
                        rmcp::model::ClientCapabilities::builder()
                            .enable_tasks()
                            .build(),
                    ));
                }
            }
            Some(_) => {}
        }
        // Boxed, as an operation's upstream exchange is (`call_operation`) and the task and
        // prompt work below: rmcp spawns a task per request around the future of whichever
        // handler it calls, sized for the largest, and tokio moves a task's future several
        // times; a pointer is cheaper to move than a call's state.
        let retry = Some((
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        ));
        let inbound = inbound(&context, self.state.confirms, retry);
        // rmcp runs each request as a task of its own, outside the HTTP layer's span: the
        // call's log lines get the request's id here.
        let span = match context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestId>())
        {
            Some(id) => tracing::error_span!("request", id = %id),
            None => tracing::Span::none(),
        };
        let session_level = notify::session_of(&context)
            .and_then(|session| self.state.session_levels.get(&session));
        let reporter = notify::Reporter::for_request(&context, session_level);
        let call = Box::pin(notify::Reporter::scope(
            reporter,
            self.dispatch(&request.name, request.arguments, inbound),
        ));
        match tracing::Instrument::instrument(call, span).await {
            Some(response) => response,
            None => Err(unknown()),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        if self.resources().is_empty() && self.templates().is_empty() {
            return Err(McpError::method_not_found::<
                rmcp::model::ListResourcesRequestMethod,
            >());
        }
        Ok(cacheable!(ListResourcesResult::with_all_items(
            self.resources().to_vec(),
        )))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        if self.resources().is_empty() && self.templates().is_empty() {
            return Err(McpError::method_not_found::<
                rmcp::model::ListResourceTemplatesRequestMethod,
            >());
        }
        Ok(cacheable!(ListResourceTemplatesResult::with_all_items(
            self.templates().listed(self.state.api)
        )))
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        if self.templates().is_empty() && !self.completes_prompts() {
            return Err(McpError::method_not_found::<
                rmcp::model::CompleteRequestMethod,
            >());
        }
        let argument = &request.argument;
        match &request.r#ref {
            Reference::Resource(reference) => {
                let Some(template) = self.templates().by_uri_template(&reference.uri) else {
                    return Err(McpError::invalid_params(
                        format!(
                            "no resource template is `{}`; resources/templates/list gives them",
                            reference.uri
                        ),
                        None,
                    ));
                };
                let tool = &self.state.api.tools[template.index];
                // A variable of a template the document names is a path parameter's name.
                let arg = template
                    .argument_of(&argument.name)
                    .unwrap_or(&argument.name);
                Ok(CompleteResult::new(templates::complete(
                    tool,
                    arg,
                    &argument.value,
                )))
            }
            // A hand-written prompt's arguments have no known values.
            Reference::Prompt(reference) if self.extra_prompt(&reference.name).is_some() => {
                Ok(CompleteResult::new(CompletionInfo::default()))
            }
            Reference::Prompt(reference) => Ok(CompleteResult::new(
                self.complete_prompt_argument(&reference.name, &argument.name, &argument.value)?,
            )),
            // A kind of reference this server does not know: nothing to offer.
            _ => Ok(CompleteResult::new(CompletionInfo::default())),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let mut prompts = self.prompts();
        prompts.extend(self.state.extra_prompts.iter().map(|p| p.prompt().clone()));
        Ok(cacheable!(ListPromptsResult::with_all_items(prompts)))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let Some(extra) = self.extra_prompt(&request.name) else {
            // The resources a prompt embeds are read as `resources/read` reads them.
            let inbound = inbound(&context, self.state.confirms, None);
            return self
                .get_prompt(&request.name, request.arguments.as_ref(), inbound)
                .await
                .map(Into::into);
        };
        let retry = Some((
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        ));
        let inbound = inbound(&context, false, retry);
        let prompt_context = self.extra_context(inbound);
        let caller = super::tasks::bound_caller(inbound.caller_id());
        // The handler's own error ends the conversation as its result.
        let conversed = Box::pin(interaction::converse(
            inbound.interaction,
            &request.name,
            &caller,
            &self.state.confirm_key,
            |input| {
                let got = extra.get(
                    request.arguments.as_ref(),
                    prompt_context.clone().with_input(input),
                );
                async move {
                    match got.await {
                        Ok(Answer::Complete(result)) => Answer::Complete(Ok(result)),
                        Ok(Answer::InputRequired(needed)) => Answer::InputRequired(needed),
                        Err(message) => Answer::Complete(Err(message)),
                    }
                }
            },
        ))
        .await
        .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
        match conversed {
            Conversed::Complete(Ok(result)) => Ok(result.into()),
            Conversed::Complete(Err(message)) => Err(McpError::invalid_params(message, None)),
            Conversed::InputRequired(asked) => Ok(asked.into()),
        }
    }

    async fn get_task(
        &self,
        request: rmcp::model::GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetTaskResult, McpError> {
        let inbound = inbound(&context, false, None);
        if let Some(task) = self.local_task(&request.task_id, inbound)? {
            return Ok(task.detailed());
        }
        Box::pin(self.task_status(&request.task_id, inbound)).await
    }

    async fn cancel_task(
        &self,
        request: rmcp::model::CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let inbound = inbound(&context, false, None);
        if let Some(task) = self.local_task(&request.task_id, inbound)? {
            task.cancel();
            return Ok(());
        }
        Box::pin(GeneratedServer::cancel_task(
            self,
            &request.task_id,
            inbound,
        ))
        .await
    }

    async fn update_task(
        &self,
        request: rmcp::model::UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let inbound = inbound(&context, false, None);
        match self.local_task(&request.task_id, inbound)? {
            Some(task) => task.update(request.input_responses),
            // The work of a long-running operation never waits for input: nothing to answer,
            // for a task that is there.
            None => {
                Box::pin(self.task_status(&request.task_id, inbound)).await?;
            }
        }
        Ok(())
    }

    #[allow(deprecated)] // Logging is deprecated in MCP 2026-07-28 (SEP-2577), and still served.
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        // A stateless request has no session to remember the level in: on 2026-07-28 the
        // level rides on each request instead.
        if let Some(session) = notify::session_of(&context) {
            self.state.session_levels.set(&session, request.level);
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let Some(session) = self.subscriber_session(&context) else {
            return Err(McpError::method_not_found::<SubscribeRequestMethod>());
        };
        // Only a resource that can be read now is watched.
        let first = self
            .read_as(&request.uri, inbound(&context, false, None))
            .await?;
        let parts = context.extensions.get::<http::request::Parts>();
        let headers = parts.map(|parts| parts.headers.clone());
        let caller = parts.and_then(|parts| parts.extensions.get::<Caller>().cloned());
        let (server, peer, uri) = (self.clone(), context.peer.clone(), request.uri.clone());
        let interval = self.state.config.subscription_poll;
        let watch = async move {
            let mut last = subscriptions::fingerprint(&first);
            loop {
                tokio::time::sleep(interval).await;
                if peer.is_transport_closed() {
                    return;
                }
                let inbound = Inbound {
                    headers: headers.as_ref(),
                    caller: caller.as_ref(),
                    ..Inbound::default()
                };
                // A failed read is tried again at the next interval.
                let Ok(contents) = server.read_as(&uri, inbound).await else {
                    continue;
                };
                let now = subscriptions::fingerprint(&contents);
                if now != last {
                    last = now;
                    let updated = ResourceUpdatedNotificationParam::new(uri.clone());
                    if peer.notify_resource_updated(updated).await.is_err() {
                        return;
                    }
                }
            }
        };
        self.state
            .subscriptions
            .add(&session, &request.uri, watch)
            .map_err(|e| McpError::invalid_request(e.to_string(), None))?;
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let Some(session) = self.subscriber_session(&context) else {
            return Err(McpError::method_not_found::<UnsubscribeRequestMethod>());
        };
        // Unsubscribing from what is not watched is no error: the result is the same.
        self.state.subscriptions.remove(&session, &request.uri);
        Ok(())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let contents = self
            .read_as(&request.uri, inbound(&context, self.state.confirms, None))
            .await?;
        Ok(ReadResourceResult::new(contents).into())
    }
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::ApiDescriptor;
    use super::super::tests::{TOOL, api, config};
    use super::*;

    static PLAIN: ApiDescriptor = api(&[TOOL]);
    static WITH_SPEC: ApiDescriptor = ApiDescriptor {
        openapi: Some("{}"),
        ..api(&[TOOL])
    };

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
}
