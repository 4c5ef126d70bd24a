//! Prompts: a guide per tag and workflows, as the generator wrote them. A prompt is offered
//! when the tools it names are served (a workflow needs every one, a guide at least one) and
//! the resources it names are the server's, and its message is rendered at `prompts/get` for
//! the mode the server serves in: a tool of its own is named as such, an operation reached
//! through search says how to reach it. The resources it embeds are read then, exactly as
//! `resources/read` reads them (the caller's credentials, the same call path), each a message
//! of its own before the text; a URI that is not one of the server's own resources is refused,
//! never fetched.

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CompletionInfo, GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role,
};
use serde_json::Value;

use super::call::Inbound;
use super::descriptor::{PromptDescriptor, PromptPart, ToolDescriptor};
use super::discovery;
use super::resources::prompt_content;
use super::search::one_line_summary;
use super::server::GeneratedServer;
use super::templates;

/// An argument value longer than this is refused: a prompt's message is for a model to read.
const MAX_ARGUMENT_CHARS: usize = 10_000;
/// At most this many optional arguments are named for a tool.
const MAX_OPTIONAL_NAMED: usize = 6;
/// At most this many of the server's resources are named in the message about a URI that is
/// none of them.
const MAX_URIS_NAMED: usize = 10;

impl GeneratedServer {
    /// The prompts offered, in the table's order.
    pub(super) fn prompts(&self) -> Vec<Prompt> {
        self.offered_prompts().map(listed_prompt).collect()
    }

    /// Whether any prompt is offered.
    pub(super) fn has_prompts(&self) -> bool {
        self.offered_prompts().next().is_some()
    }

    fn offered_prompts(&self) -> impl Iterator<Item = &'static PromptDescriptor> + '_ {
        self.state
            .api
            .prompts
            .iter()
            .filter(|prompt| self.offers(prompt))
    }

    fn offers(&self, prompt: &PromptDescriptor) -> bool {
        let mut tools = prompt.parts.iter().filter_map(|part| match part {
            PromptPart::Tool(i) | PromptPart::ToolItem(i) => self.state.api.tools.get(*i),
            _ => None,
        });
        let tools_served = if prompt.needs_every_tool {
            tools.all(|tool| self.is_served(tool))
        } else {
            tools.any(|tool| self.is_served(tool))
        };
        // A URI that takes no argument names a resource or not whatever is given.
        let no_arguments = JsonObject::new();
        tools_served
            && prompt.resources.iter().all(|parts| {
                let literal = !parts.iter().any(|p| matches!(p, PromptPart::Argument(_)));
                !literal || filled_uri(parts, &no_arguments).is_some_and(|u| self.has_resource(&u))
            })
    }

    fn offered_prompt(&self, name: &str) -> Result<&'static PromptDescriptor, McpError> {
        self.offered_prompts()
            .find(|prompt| prompt.name == name)
            .ok_or_else(|| {
                McpError::invalid_params(
                    format!("no prompt is named `{name}`; prompts/list gives them"),
                    None,
                )
            })
    }

    /// `prompts/get`: the resources the prompt embeds, read as `inbound` would read them with
    /// `resources/read`, then its text, with the arguments given.
    pub(super) async fn get_prompt(
        &self,
        name: &str,
        arguments: Option<&JsonObject>,
        inbound: Inbound<'_>,
    ) -> Result<GetPromptResult, McpError> {
        let prompt = self.offered_prompt(name)?;
        let empty = JsonObject::new();
        let given = arguments.unwrap_or(&empty);
        let declared = || {
            prompt
                .arguments
                .iter()
                .map(|a| format!("`{}`", a.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (key, value) in given {
            if !prompt.arguments.iter().any(|a| a.name == key) {
                let known = if prompt.arguments.is_empty() {
                    "it takes none".to_owned()
                } else {
                    format!("it takes {}", declared())
                };
                return Err(McpError::invalid_params(
                    format!("prompt `{name}` has no argument `{key}`; {known}"),
                    None,
                ));
            }
            if text_of(value).chars().count() > MAX_ARGUMENT_CHARS {
                return Err(McpError::invalid_params(
                    format!("argument `{key}` is longer than {MAX_ARGUMENT_CHARS} characters"),
                    None,
                ));
            }
        }
        if let Some(missing) = prompt
            .arguments
            .iter()
            .find(|a| a.required && !given.contains_key(a.name))
        {
            return Err(McpError::invalid_params(
                format!(
                    "prompt `{name}` needs the argument `{}`{}",
                    missing.name,
                    missing
                        .description
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
                None,
            ));
        }
        let uris = self.embedded_uris(prompt, given)?;
        let mut messages = Vec::new();
        for uri in uris {
            let contents = self.read_as(&uri, inbound).await.map_err(|e| {
                McpError::new(
                    e.code,
                    format!(
                        "prompt `{name}` embeds the resource `{uri}`, which could not be read: {}",
                        e.message
                    ),
                    e.data,
                )
            })?;
            messages.extend(
                contents
                    .into_iter()
                    .map(|c| PromptMessage::new(Role::User, prompt_content(c))),
            );
        }
        let text = self.render(prompt, given);
        if !text.is_empty() || messages.is_empty() {
            messages.push(PromptMessage::new_text(Role::User, text));
        }
        Ok(GetPromptResult::new(messages).with_description(prompt.description))
    }

    /// The OAuth scopes `prompts/get` of the prompt `name` with `arguments` needs from its
    /// caller: those of the operations its embedded resources read.
    pub fn prompt_scopes(&self, name: &str, arguments: Option<&Value>) -> Vec<&'static str> {
        let Some(prompt) = self.offered_prompts().find(|p| p.name == name) else {
            return Vec::new();
        };
        let given = arguments
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut scopes: Vec<&'static str> = Vec::new();
        for uri in prompt
            .resources
            .iter()
            .filter_map(|parts| filled_uri(parts, &given))
        {
            for scope in self.resource_scopes(&uri) {
                if !scopes.contains(scope) {
                    scopes.push(scope);
                }
            }
        }
        scopes
    }

    /// The URIs of the resources `prompt` embeds with the arguments `given` (one whose
    /// argument was not given is left out); an error for one that is not a resource of this
    /// server, which is never read.
    fn embedded_uris(
        &self,
        prompt: &PromptDescriptor,
        given: &JsonObject,
    ) -> Result<Vec<String>, McpError> {
        let mut uris = Vec::new();
        for parts in prompt.resources {
            let Some(uri) = filled_uri(parts, given) else {
                continue;
            };
            if !self.has_resource(&uri) {
                return Err(McpError::invalid_params(
                    format!(
                        "prompt `{}` embeds only this server's own resources, and `{uri}` is \
                         none of them; {}",
                        prompt.name,
                        self.resource_uris_hint()
                    ),
                    Some(serde_json::json!({ "uri": uri })),
                ));
            }
            uris.push(uri);
        }
        Ok(uris)
    }

    /// Which URIs this server reads, for a message: its resources and templates.
    fn resource_uris_hint(&self) -> String {
        let resources = self.resource_uris();
        let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
        let templates: Vec<&str> = self
            .operation_resources()
            .templates
            .uri_templates()
            .collect();
        let list = |items: &[&str]| {
            let mut named: Vec<String> = items
                .iter()
                .take(MAX_URIS_NAMED)
                .map(|u| format!("`{u}`"))
                .collect();
            if items.len() > MAX_URIS_NAMED {
                named.push("…".to_owned());
            }
            named.join(", ")
        };
        match (resources.is_empty(), templates.is_empty()) {
            (true, true) => "this server has no resources".to_owned(),
            (false, true) => format!("its resources are {}", list(&resources)),
            (true, false) => format!("its resource templates are {}", list(&templates)),
            (false, false) => format!(
                "its resources are {} and its resource templates {}",
                list(&resources),
                list(&templates)
            ),
        }
    }

    /// The URIs of the server's resources (not templates).
    fn resource_uris(&self) -> Vec<String> {
        let api = self.state.api;
        let documents = api
            .openapi
            .map(|_| discovery::SPEC_URI.to_owned())
            .into_iter()
            .chain(
                api.apis
                    .iter()
                    .filter(|a| a.openapi.is_some())
                    .map(|a| discovery::api_spec_uri(a.name)),
            );
        documents
            .chain(self.operation_resources().uris().map(str::to_owned))
            .collect()
    }

    /// The prompt's message.
    fn render(&self, prompt: &PromptDescriptor, given: &JsonObject) -> String {
        let mut out = String::new();
        for part in prompt.parts {
            match part {
                PromptPart::Text(text) => out.push_str(text),
                PromptPart::Argument(name) => match given.get(*name) {
                    Some(value) => out.push_str(&text_of(value)),
                    None => {
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                    }
                },
                PromptPart::Given { argument, text } => {
                    if let Some(value) = given.get(*argument) {
                        out.push_str(text);
                        out.push_str(&text_of(value));
                    }
                }
                PromptPart::Tool(i) => {
                    if let Some(tool) = self.state.api.tools.get(*i) {
                        self.describe_tool(tool, &mut out);
                    }
                }
                PromptPart::ToolItem(i) => {
                    if let Some(tool) = self.state.api.tools.get(*i)
                        && self.is_served(tool)
                    {
                        out.push_str("- ");
                        self.describe_tool(tool, &mut out);
                        out.push('\n');
                    }
                }
            }
        }
        out
    }

    /// One line on a tool: its name and how it is reached, its method and path, what it does,
    /// and the arguments it needs.
    fn describe_tool(&self, tool: &ToolDescriptor, out: &mut String) {
        out.push('`');
        out.push_str(tool.name);
        out.push_str("` (");
        out.push_str(tool.plan.method.as_str());
        out.push(' ');
        out.push_str(tool.plan.path);
        if !self.is_direct(tool) {
            out.push_str(&format!(
                "; reached through `{}` with `name`, `{}` shows its arguments",
                discovery::CALL_TOOL,
                discovery::DESCRIBE_TOOL
            ));
        }
        out.push(')');
        let summary = match tool.title {
            Some(title) => title.to_owned(),
            None => one_line_summary(tool.description, 160),
        };
        if !summary.is_empty() {
            out.push_str(": ");
            out.push_str(summary.trim_end_matches('.'));
        }
        let schema: JsonObject = serde_json::from_str(tool.input_schema).unwrap_or_default();
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let optional: Vec<&str> = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.keys())
            .map(String::as_str)
            .filter(|name| !required.contains(name))
            .collect();
        if !required.is_empty() {
            out.push_str(&format!("; needs {}", names(&required)));
        }
        if !optional.is_empty() {
            let shown = &optional[..optional.len().min(MAX_OPTIONAL_NAMED)];
            let more = if optional.len() > shown.len() {
                ", …"
            } else {
                ""
            };
            out.push_str(&format!("; optional {}{more}", names(shown)));
        }
    }

    /// `completion/complete` for a prompt's argument: the values its source suggested, or
    /// those of the same-named argument of the tools the prompt names.
    pub(super) fn complete_prompt_argument(
        &self,
        name: &str,
        argument: &str,
        typed: &str,
    ) -> Result<CompletionInfo, McpError> {
        let prompt = self.offered_prompt(name)?;
        let Some(declared) = prompt.arguments.iter().find(|a| a.name == argument) else {
            return Err(McpError::invalid_params(
                format!("prompt `{name}` has no argument `{argument}`"),
                None,
            ));
        };
        let mut candidates: Vec<String> = declared.values.iter().map(|v| (*v).to_owned()).collect();
        // An argument that is a whole URI to embed takes one of the server's resources.
        let is_uri = prompt
            .resources
            .iter()
            .any(|parts| matches!(parts, [PromptPart::Argument(a)] if *a == argument));
        if candidates.is_empty() && is_uri {
            candidates = self.resource_uris();
        }
        if candidates.is_empty() {
            for part in prompt.parts {
                if let PromptPart::Tool(i) | PromptPart::ToolItem(i) = part
                    && let Some(tool) = self.state.api.tools.get(*i)
                {
                    for value in templates::suggested_values(tool, argument) {
                        if !candidates.contains(&value) {
                            candidates.push(value);
                        }
                    }
                }
            }
        }
        Ok(templates::completion(candidates, typed))
    }
}

/// A prompt as `prompts/list` shows it.
fn listed_prompt(prompt: &PromptDescriptor) -> Prompt {
    let arguments = prompt
        .arguments
        .iter()
        .map(|a| {
            let argument = PromptArgument::new(a.name).with_required(a.required);
            match a.description {
                Some(description) => argument.with_description(description),
                None => argument,
            }
        })
        .collect();
    let listed = Prompt::new(prompt.name, Some(prompt.description), Some(arguments));
    match prompt.title {
        Some(title) => listed.with_title(title),
        None => listed,
    }
}

/// The URI `parts` write with the arguments `given`; `None` when an argument it takes was not
/// given.
fn filled_uri(parts: &[PromptPart], given: &JsonObject) -> Option<String> {
    let mut uri = String::new();
    for part in parts {
        match part {
            PromptPart::Text(text) => uri.push_str(text),
            PromptPart::Argument(name) => uri.push_str(&text_of(given.get(*name)?)),
            // The generator writes URIs of text and arguments only.
            _ => {}
        }
    }
    Some(uri)
}

/// An argument's value as text (MCP sends strings; anything else is shown as JSON).
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `a`, `b` and `c` as "`a`, `b`, `c`".
fn names(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::{
        ApiDescriptor, PromptArgumentDescriptor, ResourceDescriptor, ServeMode,
    };
    use super::super::tests::{TOOL, api, config};
    use super::*;

    const fn argument(name: &'static str, required: bool) -> PromptArgumentDescriptor {
        PromptArgumentDescriptor {
            name,
            description: None,
            required,
            values: &[],
        }
    }

    const URI_ARGUMENT: PromptArgumentDescriptor = argument("uri", false);

    /// A prompt of `parts` and `resources`, with the optional argument `uri`.
    const fn embedding(
        name: &'static str,
        parts: &'static [PromptPart],
        resources: &'static [&'static [PromptPart]],
    ) -> PromptDescriptor {
        PromptDescriptor {
            name,
            title: None,
            description: "Embeds.",
            arguments: &[URI_ARGUMENT],
            parts,
            resources,
            needs_every_tool: true,
        }
    }

    static PROMPTS: &[PromptDescriptor] = &[
        PromptDescriptor {
            name: "guide_things",
            title: Some("Things"),
            description: "How to use things.",
            arguments: &[argument("task", false)],
            parts: &[
                PromptPart::Text("Tools:\n"),
                PromptPart::ToolItem(0),
                PromptPart::Given {
                    argument: "task",
                    text: "\nThe task: ",
                },
            ],
            resources: &[],
            needs_every_tool: false,
        },
        PromptDescriptor {
            name: "flow",
            title: None,
            description: "A flow.",
            arguments: &[PromptArgumentDescriptor {
                name: "kind",
                description: Some("which kind"),
                required: true,
                values: &["cat", "dog", "cow"],
            }],
            parts: &[
                PromptPart::Text("1. "),
                PromptPart::Tool(0),
                PromptPart::Text(" with kind = "),
                PromptPart::Argument("kind"),
            ],
            resources: &[],
            needs_every_tool: true,
        },
        embedding(
            "with_spec",
            &[PromptPart::Text("Read the API first.")],
            &[
                &[PromptPart::Text("openapi://spec")],
                &[PromptPart::Argument("uri")],
            ],
        ),
        embedding("only_resources", &[], &[&[PromptPart::Argument("uri")]]),
        // A literal URI that names no resource of the server: never offered.
        embedding(
            "elsewhere",
            &[],
            &[&[PromptPart::Text("https://example.com/")]],
        ),
    ];
    static WITH_PROMPTS: ApiDescriptor = ApiDescriptor {
        prompts: PROMPTS,
        openapi: Some(r#"{"openapi":"3.1.0"}"#),
        apis: &[],
        ..api(&[ToolDescriptor {
            resource: Some(ResourceDescriptor {
                uri: "things://current",
                mime_type: Some("application/json"),
            }),
            ..TOOL
        }])
    };

    fn args(pairs: &[(&str, &str)]) -> JsonObject {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect()
    }

    async fn get(
        server: &GeneratedServer,
        name: &str,
        pairs: &[(&str, &str)],
    ) -> Result<GetPromptResult, McpError> {
        let given = (!pairs.is_empty()).then(|| args(pairs));
        server
            .get_prompt(name, given.as_ref(), Inbound::default())
            .await
    }

    /// The text of the last message (the prompt's text comes after what it embeds).
    fn text(result: &GetPromptResult) -> String {
        let last = result.messages.last().unwrap();
        serde_json::to_value(last).unwrap()["content"]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[tokio::test]
    async fn prompts_render_arguments_and_tools_for_the_mode() {
        let server = GeneratedServer::new(&WITH_PROMPTS, config(None)).unwrap();
        assert_eq!(server.prompts().len(), 4);
        let guide = text(&get(&server, "guide_things", &[]).await.unwrap());
        assert!(guide.starts_with("Tools:\n- `"), "{guide}");
        assert!(!guide.contains("The task"), "{guide}");
        let flow = get(&server, "flow", &[("kind", "cat")]).await.unwrap();
        assert!(text(&flow).ends_with(" with kind = cat"), "{}", text(&flow));

        let search = GeneratedServer::new(&WITH_PROMPTS, config(Some(ServeMode::Search))).unwrap();
        let flow = get(&search, "flow", &[("kind", "cat")]).await.unwrap();
        assert!(text(&flow).contains("reached through `call_operation`"));
    }

    #[tokio::test]
    async fn bad_arguments_are_refused_with_what_to_give() {
        let server = GeneratedServer::new(&WITH_PROMPTS, config(None)).unwrap();
        let err = get(&server, "flow", &[]).await.unwrap_err();
        assert!(
            err.message
                .contains("needs the argument `kind`: which kind")
        );
        let err = get(&server, "flow", &[("kind", "cat"), ("colour", "red")])
            .await
            .unwrap_err();
        assert!(
            err.message
                .contains("has no argument `colour`; it takes `kind`")
        );
        let long = "x".repeat(MAX_ARGUMENT_CHARS + 1);
        assert!(get(&server, "flow", &[("kind", &long)]).await.is_err());
        assert!(get(&server, "nothing", &[]).await.is_err());
        let info = server
            .complete_prompt_argument("flow", "kind", "c")
            .unwrap();
        assert_eq!(info.values, ["cat", "cow"]);
    }

    #[tokio::test]
    async fn resources_are_embedded_before_the_text() {
        let server = GeneratedServer::new(&WITH_PROMPTS, config(None)).unwrap();
        let names: Vec<String> = server.prompts().into_iter().map(|p| p.name).collect();
        assert!(!names.contains(&"elsewhere".to_owned()), "{names:?}");

        // Without the optional argument, its resource is left out.
        let read = get(&server, "with_spec", &[]).await.unwrap();
        let messages = serde_json::to_value(&read.messages).unwrap();
        assert_eq!(messages.as_array().unwrap().len(), 2, "{messages}");
        assert_eq!(messages[0]["role"], "user");
        assert_eq!(
            messages[0]["content"],
            serde_json::json!({
                "type": "resource",
                "resource": {
                    "uri": "openapi://spec",
                    "mimeType": "application/json",
                    "text": r#"{"openapi":"3.1.0"}"#
                }
            })
        );
        assert_eq!(text(&read), "Read the API first.");

        // A URI that is not one of the server's is refused, naming what is.
        let err = get(&server, "only_resources", &[("uri", "file:///etc/passwd")])
            .await
            .unwrap_err();
        assert_eq!(err.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        assert!(
            err.message.contains("`file:///etc/passwd` is none of them"),
            "{}",
            err.message
        );
        assert!(
            err.message
                .contains("its resources are `openapi://spec`, `things://current`"),
            "{}",
            err.message
        );
        assert_eq!(err.data.unwrap()["uri"], "file:///etc/passwd");

        // One of the server's whose read fails (nothing listens upstream) says which.
        let err = get(&server, "only_resources", &[("uri", "things://current")])
            .await
            .unwrap_err();
        assert!(
            err.message
                .contains("embeds the resource `things://current`, which could not be read"),
            "{}",
            err.message
        );

        // An argument that is a whole URI completes to the server's resources.
        let info = server
            .complete_prompt_argument("only_resources", "uri", "")
            .unwrap();
        assert_eq!(info.values, ["openapi://spec", "things://current"]);
        let info = server
            .complete_prompt_argument("guide_things", "task", "")
            .unwrap();
        assert!(info.values.is_empty());
    }
}
