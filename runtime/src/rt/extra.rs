//! Tools written by hand and served beside the generated ones: what `#[mcpgen::extra_tool]`
//! functions become, and what a program that builds its server itself can register with
//! [`GeneratedServer::with_extra_tools`](super::server::GeneratedServer::with_extra_tools).
//!
//! A standalone generated crate serves no hand-written tools: the API they are written against
//! (building an [`ExtraTool`], [`IntoToolResult`], [`ToolContext`]'s accessors) is unused
//! there, and allowed to be.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use rmcp::model::{
    CallToolResult, ClientCapabilities, ContentBlock, ElicitResult, GetPromptResult, JsonObject,
    Prompt, PromptArgument, Tool,
};
#[allow(deprecated)] // Sampling and roots (SEP-2577): still what a client may be asked for.
use rmcp::model::{CreateMessageResult, ListRootsResult};
use serde_json::Value;

use super::call::{Inbound, check_arguments};
use super::config::ConfigError;
use super::confirm::{NestedAsker, completed};
use super::descriptor::ToolHints;
use super::interaction::{Answer, Input};
use super::resource_server::Caller;
use super::server::GeneratedServer;
use super::validate::{ArgumentValidator, SchemaError};

/// The future a hand-written tool returns.
pub type ToolFuture = Pin<Box<dyn Future<Output = Answer<CallToolResult>> + Send + 'static>>;

type Handler = Arc<dyn Fn(Value, ToolContext) -> ToolFuture + Send + Sync>;

/// The future a hand-written prompt returns.
pub type PromptFuture =
    Pin<Box<dyn Future<Output = Result<Answer<GetPromptResult>, String>> + Send + 'static>>;

type PromptHandler = Arc<dyn Fn(JsonObject, ToolContext) -> PromptFuture + Send + Sync>;

/// What a hand-written tool gets besides its arguments: the server it runs in, so it can call
/// the generated tools, and the caller's HTTP headers (and, on a resource server, who the
/// caller is), so those calls carry the caller's own upstream credential exactly as direct
/// calls would.
#[derive(Clone)]
pub struct ToolContext {
    server: GeneratedServer,
    headers: Option<http::HeaderMap>,
    caller: Option<Caller>,
    /// How the calls it makes can ask the user to confirm them.
    asker: NestedAsker,
    /// The tool runs within a call the rate limits admitted: its own calls are not counted.
    admitted: bool,
    /// What the client answered to the tool's requests for input, and the tool's state.
    input: Input,
    /// What the client declared it can do, when a client is behind the call.
    capabilities: Option<Arc<ClientCapabilities>>,
    /// The task the call becomes at [`ToolContext::run_as_task`], when the tool supports
    /// tasks and the client takes them.
    task: Option<TaskSeed>,
}

/// How a call that may become a task says that it does: the sender is taken when it does.
#[derive(Clone)]
struct TaskSeed {
    detach: Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>,
}

impl ToolContext {
    /// A context for a call arriving at `server`, with the caller's headers when it came over
    /// HTTP.
    pub fn new(server: GeneratedServer, headers: Option<http::HeaderMap>) -> Self {
        ToolContext {
            server,
            headers,
            caller: None,
            asker: NestedAsker::default(),
            admitted: false,
            input: Input::default(),
            capabilities: None,
            task: None,
        }
    }

    /// The context of a call that becomes a task when the tool says so, sending on `detach`.
    pub(super) fn becoming_task(mut self, detach: tokio::sync::oneshot::Sender<()>) -> Self {
        self.task = Some(TaskSeed {
            detach: Arc::new(std::sync::Mutex::new(Some(detach))),
        });
        self
    }

    /// Whether the call became a task.
    pub(super) fn in_task(&self) -> bool {
        self.task.as_ref().is_some_and(|seed| {
            seed.detach
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none()
        })
    }

    /// The context of a call from a client that declared `capabilities`.
    pub(super) fn of_client(mut self, capabilities: Option<ClientCapabilities>) -> Self {
        self.capabilities = capabilities.map(Arc::new);
        self
    }

    /// The context of one attempt at the call, with what the client answered so far.
    pub(super) fn with_input(mut self, input: Input) -> Self {
        self.input = input;
        self
    }

    /// The context of a call from `caller`, whose access token the resource server verified:
    /// the generated tools this tool calls act for the same caller (its token exchanged, when
    /// the server exchanges tokens).
    pub(super) fn acting_for(mut self, caller: Option<Caller>) -> Self {
        self.caller = caller;
        self
    }

    /// The context of a call whose user can be asked through `asker`: a generated tool this
    /// tool calls that needs the user's confirmation asks the same way, where it can.
    pub(super) fn asking(mut self, asker: NestedAsker) -> Self {
        self.asker = asker;
        self
    }

    /// The context of a call the rate limits admitted: the tools this tool calls are part of
    /// that call, and not counted again (nor held back by the caller's concurrency cap, which
    /// the call itself already takes a place of).
    pub(super) fn within_admitted_call(mut self) -> Self {
        self.admitted = true;
        self
    }
}

#[allow(dead_code)]
impl ToolContext {
    /// The server the tool runs in.
    pub fn server(&self) -> &GeneratedServer {
        &self.server
    }

    /// The caller's HTTP request headers; `None` over stdio.
    pub fn headers(&self) -> Option<&http::HeaderMap> {
        self.headers.as_ref()
    }

    /// What the client declared it can do (`sampling`, `elicitation`, `roots`, ...); `None`
    /// when no client is behind the call.
    pub fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        self.capabilities.as_deref()
    }

    /// The client's answer to the request for input made under `key` in the previous round,
    /// as sent: `None` when there is none (the first round, or the client left it out).
    pub fn input_response(&self, key: &str) -> Option<&Value> {
        self.input.responses.as_ref()?.get(key)
    }

    /// The answer to the form asked under `key`, when the client sent one of that shape.
    pub fn elicited(&self, key: &str) -> Option<ElicitResult> {
        serde_json::from_value(self.input_response(key)?.clone()).ok()
    }

    /// The model's reply asked under `key`, when the client sent one of that shape.
    #[allow(deprecated)]
    pub fn sampled(&self, key: &str) -> Option<CreateMessageResult> {
        serde_json::from_value(self.input_response(key)?.clone()).ok()
    }

    /// The client's roots asked under `key`, when the client sent them.
    #[allow(deprecated)]
    pub fn roots(&self, key: &str) -> Option<ListRootsResult> {
        serde_json::from_value(self.input_response(key)?.clone()).ok()
    }

    /// The state the tool asked to get back with the answers
    /// ([`InputNeeded::with_state`](super::interaction::InputNeeded::with_state)), verified:
    /// a client can return it, not forge or change it.
    pub fn request_state(&self) -> Option<&str> {
        self.input.state.as_deref()
    }

    /// From here on, the call's work may outlast the request: a client that takes tasks gets
    /// a task at once, which follows the rest of the work; other clients wait for it within the
    /// call, as before. Whether the call is now a task. Only tools built
    /// [`with_task_support`](ExtraTool::with_task_support) become tasks; calling it again is
    /// harmless.
    pub fn run_as_task(&self) -> bool {
        let Some(seed) = &self.task else {
            return false;
        };
        if let Some(detach) = seed.detach.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = detach.send(());
        }
        true
    }

    /// Calls another tool of this server (generated or hand-written) on behalf of the same
    /// caller. `None` when no tool has that name.
    pub async fn call(&self, tool: &str, arguments: JsonObject) -> Option<CallToolResult> {
        let inbound = Inbound {
            headers: self.headers.as_ref(),
            caller: self.caller.as_ref(),
            extensions: None,
            asker: self.asker.asker(),
            admitted: self.admitted,
            // A hand-written tool waits for the work it asks for.
            tasks: false,
            // Only the outer call can ask the client for input.
            interaction: Default::default(),
        };
        self.server
            .dispatch(tool, Some(arguments), inbound)
            .await
            .map(|response| match response {
                Ok(response) => completed(response),
                Err(e) => CallToolResult::error(vec![ContentBlock::text(e.message.into_owned())]),
            })
    }
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Headers may hold credentials: only say whether there are any.
        f.debug_struct("ToolContext")
            .field("headers", &self.headers.as_ref().map(|h| h.len()))
            .field("caller", &self.caller.as_ref().map(|c| &c.subject))
            .finish_non_exhaustive()
    }
}

/// What a hand-written tool function may return. Errors become tool errors (`isError: true`)
/// carrying their text, so the model can read them.
#[allow(dead_code)]
pub trait IntoToolResult {
    /// Converts the value.
    fn into_tool_result(self) -> CallToolResult;
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> CallToolResult {
        self
    }
}

/// A JSON object is sent as text and as `structuredContent`; any other JSON value as text only,
/// because structured content must be an object.
impl IntoToolResult for Value {
    fn into_tool_result(self) -> CallToolResult {
        if self.is_object() {
            CallToolResult::structured(self)
        } else {
            CallToolResult::success(vec![ContentBlock::text(self.to_string())])
        }
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(self)])
    }
}

impl IntoToolResult for &str {
    fn into_tool_result(self) -> CallToolResult {
        self.to_owned().into_tool_result()
    }
}

impl<T: IntoToolResult, E: std::fmt::Display> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> CallToolResult {
        match self {
            Ok(value) => value.into_tool_result(),
            Err(error) => CallToolResult::error(vec![ContentBlock::text(error.to_string())]),
        }
    }
}

/// The tool error for arguments that passed the input schema but not the function's own
/// argument type.
#[allow(dead_code)]
pub fn argument_error(tool: &str, error: impl std::fmt::Display) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!(
        "Invalid arguments for `{tool}`: {error}. Fix these arguments (see the tool's \
         inputSchema) and call the tool again."
    ))])
}

/// A hand-written tool. Cheap to clone.
#[derive(Clone)]
pub struct ExtraTool {
    tool: Tool,
    handler: Handler,
    /// The input schema compiled on first use, or why it cannot be used.
    validator: Arc<OnceLock<Result<ArgumentValidator, SchemaError>>>,
    /// What the client must have declared for the tool to run (sampling, elicitation, ...).
    requires: Option<Arc<ClientCapabilities>>,
    /// Whether its calls may become tasks.
    task_support: TaskSupport,
}

/// Whether a hand-written tool's calls become tasks (see [`ToolContext::run_as_task`]).
#[allow(dead_code)] // A standalone crate serves no hand-written tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskSupport {
    /// Never: the call waits for the work.
    #[default]
    Forbidden,
    /// For clients that take tasks; others wait for the work.
    Optional,
    /// Only for clients that take tasks: others are refused with the protocol's "missing
    /// required client capability" error (-32021).
    Required,
}

impl std::fmt::Debug for ExtraTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtraTool")
            .field("name", &self.tool.name)
            .finish_non_exhaustive()
    }
}

#[allow(dead_code)]
impl ExtraTool {
    /// A tool named `name` that runs `handler` on the caller's arguments (a JSON object). Its
    /// input schema accepts any object until [`Self::with_input_schema`] says otherwise.
    pub fn new<F, Fut>(name: &str, description: &str, handler: F) -> Self
    where
        F: Fn(Value, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CallToolResult> + Send + 'static,
    {
        Self::interactive(name, description, move |args, context| {
            let result = handler(args, context);
            async move { Answer::Complete(result.await) }
        })
    }

    /// A tool that may ask the client for input before it answers (see
    /// [`interaction`](super::interaction)): `handler` answers
    /// [`Answer::InputRequired`] with its requests, and is called again with the answers in
    /// its [`ToolContext`].
    pub fn interactive<F, Fut>(name: &str, description: &str, handler: F) -> Self
    where
        F: Fn(Value, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer<CallToolResult>> + Send + 'static,
    {
        let mut schema = JsonObject::new();
        schema.insert("type".to_owned(), Value::String("object".to_owned()));
        ExtraTool {
            tool: Tool::new(name.to_owned(), description.to_owned(), Arc::new(schema)),
            handler: Arc::new(move |args, context| Box::pin(handler(args, context))),
            validator: Arc::new(OnceLock::new()),
            requires: None,
            task_support: TaskSupport::Forbidden,
        }
    }

    /// Lets calls of the tool become tasks where it calls [`ToolContext::run_as_task`].
    pub fn with_task_support(mut self, support: TaskSupport) -> Self {
        self.task_support = support;
        self
    }

    /// Declares client capabilities the tool cannot run without (for one, `sampling` for a
    /// tool that asks the client's model): a call from a client that did not declare them is
    /// refused with the protocol's "missing required client capability" error (-32021, HTTP
    /// 400) naming them, before the handler runs.
    pub fn requires_client_capabilities(mut self, required: ClientCapabilities) -> Self {
        self.requires = Some(Arc::new(required));
        self
    }

    /// Sets the input JSON Schema (2020-12); arguments are checked against it before the
    /// handler runs, as for generated tools.
    pub fn with_input_schema(mut self, schema: JsonObject) -> Self {
        self.tool.input_schema = Arc::new(schema);
        self.validator = Arc::new(OnceLock::new());
        self
    }

    /// Sets the input JSON Schema from JSON text. Text that is not a JSON object makes every
    /// call a tool error saying so (the attribute macro checks the text at compile time).
    pub fn with_input_schema_json(self, schema: &str) -> Self {
        let unusable = match serde_json::from_str::<Value>(schema) {
            Ok(Value::Object(object)) => return self.with_input_schema(object),
            Ok(_) => SchemaError::NotAnObject,
            Err(e) => SchemaError::NotJson(e.to_string()),
        };
        Self {
            validator: Arc::new(OnceLock::from(Err(unusable))),
            ..self
        }
    }

    /// Sets a human-readable title.
    pub fn with_title(mut self, title: &str) -> Self {
        self.tool.title = Some(title.to_owned());
        let mut annotations = self.tool.annotations.take().unwrap_or_default();
        annotations.title = Some(title.to_owned());
        self.tool.annotations = Some(annotations);
        self
    }

    /// Sets the behaviour hints clients show and use to ask for confirmation.
    pub fn with_hints(mut self, hints: ToolHints) -> Self {
        let mut annotations = self
            .tool
            .annotations
            .take()
            .unwrap_or_default()
            .read_only(hints.read_only)
            .idempotent(hints.idempotent);
        // The destructive hint means nothing for a read-only tool; leave it out as generated
        // tools do.
        if !hints.read_only {
            annotations = annotations.destructive(hints.destructive);
        }
        self.tool.annotations = Some(annotations);
        self
    }
}

impl ExtraTool {
    /// The tool as `tools/list` shows it.
    pub fn tool(&self) -> &Tool {
        &self.tool
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.tool.name
    }

    /// Whether its calls may become tasks.
    pub fn task_support(&self) -> TaskSupport {
        self.task_support
    }

    /// The client capabilities the tool needs that `declared` lacks; `None` when it has them
    /// all (or the tool needs none).
    pub fn missing_capabilities(
        &self,
        declared: Option<&ClientCapabilities>,
    ) -> Option<ClientCapabilities> {
        let required = self.requires.as_deref()?;
        // Compared as JSON: a capability is declared when its key is present.
        let keys = |caps: Option<&ClientCapabilities>| match caps.map(serde_json::to_value) {
            Some(Ok(Value::Object(map))) => map,
            _ => JsonObject::new(),
        };
        let declared = keys(declared);
        let missing = keys(Some(required))
            .keys()
            .any(|key| !declared.contains_key(key));
        missing.then(|| required.clone())
    }

    /// Checks the arguments against the input schema, then runs the handler. Never fails: a
    /// problem is a tool error the model can read.
    pub async fn call(
        &self,
        arguments: Option<JsonObject>,
        context: ToolContext,
    ) -> Answer<CallToolResult> {
        let args = Value::Object(arguments.unwrap_or_default());
        let validator = self.validator.get_or_init(|| {
            ArgumentValidator::new(&Value::Object(self.tool.input_schema.as_ref().clone()))
        });
        if let Err(e) = check_arguments(&self.tool.name, validator, &args) {
            return Answer::Complete(e.into());
        }
        (self.handler)(args, context).await
    }
}

/// Whether `name` is a valid MCP tool name: `^[A-Za-z0-9_.-]{1,64}$`.
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A hand-written prompt, served beside the generated ones. Cheap to clone.
#[derive(Clone)]
pub struct ExtraPrompt {
    prompt: Prompt,
    handler: PromptHandler,
}

impl std::fmt::Debug for ExtraPrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtraPrompt")
            .field("name", &self.prompt.name)
            .finish_non_exhaustive()
    }
}

#[allow(dead_code)]
impl ExtraPrompt {
    /// A prompt named `name` whose messages `handler` builds from the arguments given (their
    /// names checked against the declared ones, required ones present). The handler may ask
    /// the client for input as a tool can ([`ExtraTool::interactive`]); an `Err` is the
    /// `prompts/get` error's message.
    pub fn new<F, Fut>(name: &str, description: &str, handler: F) -> Self
    where
        F: Fn(JsonObject, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Answer<GetPromptResult>, String>> + Send + 'static,
    {
        ExtraPrompt {
            prompt: Prompt::new(name, Some(description), None),
            handler: Arc::new(move |args, context| Box::pin(handler(args, context))),
        }
    }

    /// Declares an argument.
    pub fn with_argument(mut self, name: &str, description: &str, required: bool) -> Self {
        let argument = PromptArgument::new(name)
            .with_description(description)
            .with_required(required);
        self.prompt
            .arguments
            .get_or_insert_with(Vec::new)
            .push(argument);
        self
    }

    /// Sets a human-readable title.
    pub fn with_title(mut self, title: &str) -> Self {
        self.prompt.title = Some(title.to_owned());
        self
    }
}

impl ExtraPrompt {
    /// The prompt as `prompts/list` shows it.
    pub fn prompt(&self) -> &Prompt {
        &self.prompt
    }

    /// The prompt's name.
    pub fn name(&self) -> &str {
        &self.prompt.name
    }

    /// Checks the argument names and required arguments, then runs the handler.
    pub async fn get(
        &self,
        arguments: Option<&JsonObject>,
        context: ToolContext,
    ) -> Result<Answer<GetPromptResult>, String> {
        let declared = self.prompt.arguments.as_deref().unwrap_or_default();
        let given = arguments.cloned().unwrap_or_default();
        if let Some(unknown) = given
            .keys()
            .find(|k| !declared.iter().any(|a| &a.name == *k))
        {
            return Err(format!(
                "prompt `{}` has no argument `{unknown}`; it takes {}",
                self.prompt.name,
                argument_list(declared)
            ));
        }
        if let Some(missing) = declared
            .iter()
            .find(|a| a.required == Some(true) && !given.contains_key(&a.name))
        {
            return Err(format!(
                "prompt `{}` needs the argument `{}`",
                self.prompt.name, missing.name
            ));
        }
        (self.handler)(given, context).await
    }
}

/// `` `a`, `b` ``, or "none".
fn argument_list(arguments: &[PromptArgument]) -> String {
    if arguments.is_empty() {
        return "none".to_owned();
    }
    arguments
        .iter()
        .map(|a| format!("`{}`", a.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The hand-written tools of one server, checked: valid names, unique among themselves and
/// against the generated tools.
#[derive(Debug, Clone, Default)]
pub struct ExtraTools {
    tools: Vec<ExtraTool>,
}

impl ExtraTools {
    /// Checks `tools` against each other and against `generated` tool names.
    pub fn new<'a>(
        tools: Vec<ExtraTool>,
        generated: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ConfigError> {
        let mut taken: HashSet<&str> = generated.into_iter().collect();
        for tool in &tools {
            let name = tool.name();
            if !is_valid_tool_name(name) {
                return Err(ConfigError::InvalidToolName {
                    name: name.to_owned(),
                });
            }
            if !taken.insert(name) {
                return Err(ConfigError::ToolNameTaken {
                    name: name.to_owned(),
                });
            }
        }
        Ok(ExtraTools { tools })
    }

    /// The tools, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &ExtraTool> {
        self.tools.iter()
    }

    /// The tool named `name`.
    pub fn get(&self, name: &str) -> Option<&ExtraTool> {
        self.tools.iter().find(|t| t.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(name: &str) -> ExtraTool {
        ExtraTool::new(name, "Echoes its arguments.", |args, _| async move {
            args.into_tool_result()
        })
    }

    #[test]
    fn names_are_checked() {
        assert!(ExtraTools::new(vec![echo("ping"), echo("pong")], ["listPets"]).is_ok());
        let clash = ExtraTools::new(vec![echo("listPets")], ["listPets"])
            .unwrap_err()
            .to_string();
        assert!(clash.contains("listPets"), "{clash}");
        assert!(ExtraTools::new(vec![echo("a"), echo("a")], []).is_err());
        assert!(ExtraTools::new(vec![echo("has space")], []).is_err());
        assert!(ExtraTools::new(vec![echo(&"x".repeat(65))], []).is_err());
    }

    #[test]
    fn results_convert() {
        let object = serde_json::json!({"a": 1}).into_tool_result();
        assert_eq!(object.structured_content, Some(serde_json::json!({"a": 1})));
        let array = serde_json::json!([1]).into_tool_result();
        assert!(array.structured_content.is_none());
        let err: Result<String, String> = Err("nope".to_owned());
        let err = err.into_tool_result();
        assert_eq!(err.is_error, Some(true));
        assert_eq!(
            err.content[0].as_text().map(|t| t.text.as_str()),
            Some("nope")
        );
    }

    #[tokio::test]
    async fn prompt_arguments_are_checked_before_the_handler_runs() {
        use super::super::descriptor::ApiDescriptor;
        use super::super::tests::{TOOL, api, config};
        static PLAIN: ApiDescriptor = api(&[TOOL]);
        let server = GeneratedServer::new(&PLAIN, config(None)).unwrap();
        let prompt = ExtraPrompt::new("greet", "Greets someone.", |args, _| async move {
            let text = format!("Hello, {}!", args["name"].as_str().unwrap_or("?"));
            Ok(Answer::Complete(GetPromptResult::new(vec![
                rmcp::model::PromptMessage::new_text(rmcp::model::Role::User, text),
            ])))
        })
        .with_argument("name", "Whom to greet", true)
        .with_argument("mood", "How", false);
        let get = |args: serde_json::Value| {
            let context = ToolContext::new(server.clone(), None);
            let args = args.as_object().cloned();
            let prompt = prompt.clone();
            async move { prompt.get(args.as_ref(), context).await }
        };
        let Ok(Answer::Complete(done)) = get(serde_json::json!({"name": "Ada"})).await else {
            panic!("a complete prompt");
        };
        assert_eq!(
            serde_json::to_value(&done.messages[0].content).unwrap()["text"],
            "Hello, Ada!"
        );
        let missing = get(serde_json::json!({"mood": "glad"})).await.unwrap_err();
        assert_eq!(missing, "prompt `greet` needs the argument `name`");
        let unknown = get(serde_json::json!({"name": "Ada", "tone": "x"}))
            .await
            .unwrap_err();
        assert_eq!(
            unknown,
            "prompt `greet` has no argument `tone`; it takes `name`, `mood`"
        );
    }

    #[test]
    fn hints_and_schema_text() {
        let tool = echo("t")
            .with_hints(ToolHints {
                read_only: true,
                destructive: true,
                idempotent: true,
            })
            .with_input_schema_json(r#"{"type":"object","required":["x"]}"#);
        let annotations = tool.tool().annotations.clone().unwrap();
        assert_eq!(annotations.read_only_hint, Some(true));
        assert_eq!(annotations.destructive_hint, None);
        assert_eq!(
            tool.tool().input_schema["required"],
            serde_json::json!(["x"])
        );
        let not_an_object = echo("t").with_input_schema_json("[]");
        assert!(matches!(
            not_an_object.validator.get(),
            Some(Err(SchemaError::NotAnObject))
        ));
    }
}
