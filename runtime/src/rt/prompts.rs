//! Prompts: a guide per tag and workflows, as the generator wrote them. A prompt is offered
//! when the tools it names are served (a workflow needs every one, a guide at least one), and
//! its message is rendered at `prompts/get` for the mode the server serves in: a tool of its
//! own is named as such, an operation reached through search says how to reach it.

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CompletionInfo, GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role,
};
use serde_json::Value;

use super::descriptor::{PromptDescriptor, PromptPart, ToolDescriptor};
use super::discovery;
use super::search::one_line_summary;
use super::server::GeneratedServer;
use super::templates;

/// An argument value longer than this is refused: a prompt's message is for a model to read.
const MAX_ARGUMENT_CHARS: usize = 10_000;
/// At most this many optional arguments are named for a tool.
const MAX_OPTIONAL_NAMED: usize = 6;

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
        if prompt.needs_every_tool {
            tools.all(|tool| self.is_served(tool))
        } else {
            tools.any(|tool| self.is_served(tool))
        }
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

    /// `prompts/get`: the prompt's message with the arguments given.
    pub(super) fn get_prompt(
        &self,
        name: &str,
        arguments: Option<&JsonObject>,
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
        let text = self.render(prompt, given);
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(prompt.description),
        )
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
    use super::super::descriptor::{ApiDescriptor, PromptArgumentDescriptor, ServeMode};
    use super::super::tests::{TOOL, api, config};
    use super::*;

    static PROMPTS: &[PromptDescriptor] = &[
        PromptDescriptor {
            name: "guide_things",
            title: Some("Things"),
            description: "How to use things.",
            arguments: &[PromptArgumentDescriptor {
                name: "task",
                description: None,
                required: false,
                values: &[],
            }],
            parts: &[
                PromptPart::Text("Tools:\n"),
                PromptPart::ToolItem(0),
                PromptPart::Given {
                    argument: "task",
                    text: "\nThe task: ",
                },
            ],
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
            needs_every_tool: true,
        },
    ];
    static WITH_PROMPTS: ApiDescriptor = ApiDescriptor {
        prompts: PROMPTS,
        apis: &[],
        ..api(&[TOOL])
    };

    fn args(pairs: &[(&str, &str)]) -> JsonObject {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect()
    }

    fn text(result: &GetPromptResult) -> String {
        serde_json::to_value(&result.messages[0]).unwrap()["content"]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn prompts_render_arguments_and_tools_for_the_mode() {
        let server = GeneratedServer::new(&WITH_PROMPTS, config(None)).unwrap();
        assert_eq!(server.prompts().len(), 2);
        let guide = server.get_prompt("guide_things", None).unwrap();
        let guide = text(&guide);
        assert!(guide.starts_with("Tools:\n- `"), "{guide}");
        assert!(!guide.contains("The task"), "{guide}");
        let flow = server
            .get_prompt("flow", Some(&args(&[("kind", "cat")])))
            .unwrap();
        assert!(text(&flow).ends_with(" with kind = cat"), "{}", text(&flow));

        let search = GeneratedServer::new(&WITH_PROMPTS, config(Some(ServeMode::Search))).unwrap();
        let flow = search
            .get_prompt("flow", Some(&args(&[("kind", "cat")])))
            .unwrap();
        assert!(text(&flow).contains("reached through `call_operation`"));
    }

    #[test]
    fn bad_arguments_are_refused_with_what_to_give() {
        let server = GeneratedServer::new(&WITH_PROMPTS, config(None)).unwrap();
        let err = server.get_prompt("flow", None).unwrap_err();
        assert!(
            err.message
                .contains("needs the argument `kind`: which kind")
        );
        let err = server
            .get_prompt("flow", Some(&args(&[("kind", "cat"), ("colour", "red")])))
            .unwrap_err();
        assert!(
            err.message
                .contains("has no argument `colour`; it takes `kind`")
        );
        let long = "x".repeat(MAX_ARGUMENT_CHARS + 1);
        assert!(
            server
                .get_prompt("flow", Some(&args(&[("kind", &long)])))
                .is_err()
        );
        assert!(server.get_prompt("nothing", None).is_err());
        let info = server
            .complete_prompt_argument("flow", "kind", "c")
            .unwrap();
        assert_eq!(info.values, ["cat", "cow"]);
    }
}
