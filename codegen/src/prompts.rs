//! Prompts: what the server offers the model besides tools. Three sources, one shape:
//!
//! - a **guide per tag**: the tag's operations in a sensible order (those that read first, then
//!   those that create, change and delete), each with what it needs, drawn from the document;
//! - **workflows** written by hand, in the settings or the document's root `x-mcpgen`:
//!
//!   ```toml
//!   [prompts.adopt_a_pet]
//!   description = "Find an available pet and order it"
//!   arguments = { status = "Which pets to look at: available, pending or sold" }
//!   required = ["status"]
//!   steps = ["findPetsByStatus: with status = {status}", "placeOrder: for the pet the user picks"]
//!   ```
//!
//!   A step names an operation (its `operationId` or `METHOD /path`), then after `: ` a hint in
//!   which `{argument}` stands for the prompt argument's value. A prompt may also (or only) have
//!   a `text`, its message, with the same `{argument}`s, before any steps; and `resources`, the
//!   URIs of the server's own resources to embed (`"docs://readme"`, `"{page}"`), each read
//!   when the prompt is and a message of its own before the text;
//! - **Arazzo 1.0** workflows (`--arazzo FILE`): one prompt per workflow, its inputs as
//!   arguments, its steps with their parameters, success criteria and outputs.
//!
//! A prompt is data: text, argument values and references to tools, which the server renders
//! at `prompts/get` for the mode it serves in (a tool of its own, or one reached through
//! search).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{Operation, Tag};
use crate::pointer::push_token;
use crate::settings::SettingValue;
use crate::tools::ApiSpec;
use crate::uri_template::UriTemplate;

/// At most this many prompts: a document with thousands of tags gets guides for the first.
const MAX_PROMPTS: usize = 500;
/// At most this many steps in one workflow.
const MAX_STEPS: usize = 100;
/// At most this many resources embedded in one prompt: each is a call when the prompt is read.
const MAX_EMBEDDED: usize = 10;
/// The optional argument of every guide.
const TASK_ARGUMENT: &str = "task";

/// One prompt, as the server's table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptSpec {
    /// `[A-Za-z0-9_.-]{1,64}`, unique.
    pub name: String,
    /// A human-readable title.
    pub title: Option<String>,
    /// What the prompt is for.
    pub description: String,
    /// Its arguments.
    pub arguments: Vec<PromptArgumentSpec>,
    /// The text of its message.
    pub parts: Vec<PromptPart>,
    /// The URIs of the server's resources it embeds, of [`PromptPart::Text`] and
    /// [`PromptPart::Argument`].
    pub resources: Vec<Vec<PromptPart>>,
    /// Whether it is offered only when every tool it names is served (a workflow); a guide
    /// leaves out the tools that are not.
    pub needs_every_tool: bool,
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptArgumentSpec {
    /// Its name.
    pub name: String,
    /// What to give.
    pub description: Option<String>,
    /// Whether `prompts/get` needs it.
    pub required: bool,
    /// Values `completion/complete` offers (from an enum, examples or a default).
    pub values: Vec<String>,
}

/// A piece of a prompt's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptPart {
    /// Literal text.
    Text(String),
    /// The value of an argument, or `<name>` when it was not given.
    Argument(String),
    /// The text, then the argument's value, only when the argument was given.
    Given {
        /// The argument.
        argument: String,
        /// What comes before its value.
        text: String,
    },
    /// The tool at this index of the table: how to call it and what it needs.
    Tool(usize),
    /// The same as a list item of its own line, left out when the tool is not served.
    ToolItem(usize),
}

/// Workflows written in the settings (`[prompts.NAME]`), in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptSettings {
    /// Hand-written workflows.
    pub workflows: Vec<WorkflowSetting>,
    /// Arazzo documents, one prompt per workflow.
    pub arazzo: Vec<PathBuf>,
    /// Whether each tag gets a guide (default: on).
    pub guides: Option<bool>,
}

/// A hand-written workflow (settings or `x-mcpgen`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkflowSetting {
    /// The prompt's name.
    pub name: String,
    /// Its title.
    pub title: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Arguments and what each is.
    pub arguments: Vec<(String, String)>,
    /// The arguments that must be given.
    pub required: Vec<String>,
    /// `operation` or `operation: hint`.
    pub steps: Vec<String>,
    /// The message, before any steps.
    pub text: Option<String>,
    /// URIs of the server's resources to embed.
    pub resources: Vec<String>,
}

/// The setting keys this module reads.
pub const KEYS: &[&str] = &["prompts", "arazzo", "guide_prompts"];

impl PromptSettings {
    /// These settings with `over` on top.
    pub fn then(mut self, over: PromptSettings) -> PromptSettings {
        self.workflows.extend(over.workflows);
        self.arazzo.extend(over.arazzo);
        PromptSettings {
            guides: over.guides.or(self.guides),
            ..self
        }
    }

    /// Reads one of [`KEYS`]; relative Arazzo paths are taken from `base`.
    pub fn set(&mut self, key: &str, value: SettingValue, base: &Path) -> Result<(), String> {
        match (key, value) {
            ("guide_prompts", SettingValue::Bool(on)) => self.guides = Some(on),
            ("guide_prompts", _) => return Err("`guide_prompts` must be true or false".into()),
            ("arazzo", SettingValue::Str(path)) => self.arazzo.push(base.join(path)),
            ("arazzo", SettingValue::List(paths)) => {
                self.arazzo.extend(paths.iter().map(|p| base.join(p)))
            }
            ("arazzo", _) => return Err("`arazzo` must be a path or a list of paths".into()),
            ("prompts", SettingValue::Map(entries)) => {
                for (name, value) in entries {
                    let fields = match value {
                        SettingValue::Map(fields) => fields,
                        // A table of strings only (no steps: refused below, with the reason).
                        SettingValue::Table(fields) => fields
                            .into_iter()
                            .map(|(k, v)| (k, SettingValue::Str(v)))
                            .collect(),
                        _ => return Err(format!("`prompts.{name}` must be a table")),
                    };
                    self.workflows.push(workflow_setting(&name, fields)?);
                }
            }
            ("prompts", _) => return Err("`prompts` holds one table per prompt".into()),
            (other, _) => return Err(format!("`{other}` is not a prompt setting")),
        }
        Ok(())
    }
}

/// A `[prompts.NAME]` table.
fn workflow_setting(
    name: &str,
    fields: Vec<(String, SettingValue)>,
) -> Result<WorkflowSetting, String> {
    check_name(name).map_err(|e| format!("`prompts.{name}`: {e}"))?;
    let mut workflow = WorkflowSetting {
        name: name.to_owned(),
        ..WorkflowSetting::default()
    };
    let at = |key: &str| format!("prompts.{name}.{key}");
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("title", SettingValue::Str(s)) => workflow.title = Some(s),
            ("description", SettingValue::Str(s)) => workflow.description = Some(s),
            ("text", SettingValue::Str(s)) => workflow.text = Some(s),
            ("resources", SettingValue::List(items)) => workflow.resources = items,
            ("resources", SettingValue::Str(item)) => workflow.resources = vec![item],
            ("required", SettingValue::List(items)) => workflow.required = items,
            ("required", SettingValue::Str(item)) => workflow.required = vec![item],
            ("steps", SettingValue::List(items)) => workflow.steps = items,
            ("arguments", SettingValue::Table(items)) => workflow.arguments = items,
            ("arguments", SettingValue::Map(items)) => {
                for (arg, value) in items {
                    match value {
                        SettingValue::Str(text) => workflow.arguments.push((arg, text)),
                        _ => return Err(format!("`{}` must be a string", at(&arg))),
                    }
                }
            }
            ("title" | "description" | "text", _) => {
                return Err(format!("`{}` must be a string", at(&key)));
            }
            ("required" | "steps" | "resources", _) => {
                return Err(format!("`{}` must be a list of strings", at(&key)));
            }
            ("arguments", _) => {
                return Err(format!(
                    "`{}` maps argument names to what each is",
                    at(&key)
                ));
            }
            (other, _) => {
                return Err(format!(
                    "`{}` is not known; a prompt has title, description, arguments, required, \
                     text, resources and steps",
                    at(other)
                ));
            }
        }
    }
    check_workflow(&workflow).map_err(|e| format!("`prompts.{name}`: {e}"))?;
    Ok(workflow)
}

/// A prompt name: what MCP clients show and send back.
fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a prompt name: use 1 to 64 of A-Z a-z 0-9 _ - ."
        ))
    }
}

fn check_workflow(workflow: &WorkflowSetting) -> Result<(), String> {
    if workflow.steps.is_empty() && workflow.text.is_none() && workflow.resources.is_empty() {
        return Err(
            "a prompt needs `text` (its message), `resources` (URIs of this server's resources \
             to embed) or `steps` (the operations, in order)"
                .into(),
        );
    }
    if workflow.steps.len() > MAX_STEPS {
        return Err(format!("at most {MAX_STEPS} steps"));
    }
    if workflow.resources.len() > MAX_EMBEDDED {
        return Err(format!(
            "at most {MAX_EMBEDDED} resources (each is read when the prompt is)"
        ));
    }
    for required in &workflow.required {
        if !workflow.arguments.iter().any(|(name, _)| name == required) {
            return Err(format!(
                "`{required}` is required but is not one of the `arguments`"
            ));
        }
    }
    Ok(())
}

/// Builds the prompts of `api`: a guide per tag (unless turned off), the workflows of the
/// document's root `x-mcpgen` and of the settings, and those of the Arazzo documents. Names
/// that clash get a suffix; warnings say what was left out.
pub fn build(
    api: &mut ApiSpec,
    doc: &Value,
    spec: &Path,
    operations: &[Operation],
    tags: &[Tag],
    settings: &PromptSettings,
) -> Result<()> {
    let tools = ToolFinder::new(api, operations);
    let own = OwnResources::of(api);
    let mut prompts = Vec::new();
    let mut warnings = Vec::new();

    let mut workflows = document_workflows(doc).map_err(|(pointer, message)| Error::Invalid {
        path: spec.to_owned(),
        line: None,
        pointer,
        message,
    })?;
    workflows.extend(settings.workflows.iter().cloned().map(|w| (None, w)));
    for (pointer, workflow) in &workflows {
        match workflow_prompt(workflow, &tools, &own) {
            Ok(prompt) => prompts.push(prompt),
            Err(message) => {
                return Err(match pointer {
                    Some(pointer) => Error::Invalid {
                        path: spec.to_owned(),
                        line: None,
                        pointer: pointer.clone(),
                        message,
                    },
                    None => Error::Settings {
                        path: spec.to_owned(),
                        setting: "prompts",
                        message: format!("`{}`: {message}", workflow.name),
                    },
                });
            }
        }
    }
    for path in &settings.arazzo {
        prompts.extend(arazzo::prompts(path, &tools, &mut warnings)?);
    }
    if settings.guides.unwrap_or(true) {
        prompts.extend(guides(api, tags, &api.title));
    }

    let mut taken = HashSet::new();
    for mut prompt in prompts {
        if taken.len() == MAX_PROMPTS {
            warnings.push(format!(
                "only the first {MAX_PROMPTS} prompts are offered; `guide_prompts = false` \
                 leaves out the guides"
            ));
            break;
        }
        prompt.name = unique_name(&prompt.name, &taken);
        taken.insert(prompt.name.clone());
        api.prompts.push(prompt);
    }
    api.warnings.extend(
        warnings
            .into_iter()
            .map(|message| crate::schema::SchemaError {
                pointer: String::new(),
                message,
            }),
    );
    Ok(())
}

/// `name`, or `name_2`, `name_3`... when taken (kept within 64 characters).
fn unique_name(name: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(name) {
        return name.to_owned();
    }
    (2..)
        .map(|n| {
            let suffix = format!("_{n}");
            let stem: String = name.chars().take(64 - suffix.len()).collect();
            stem + &suffix
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_default()
}

/// Finds the tool of an operation named by a workflow step.
struct ToolFinder<'a> {
    operations: &'a [Operation],
    by_operation: HashMap<(String, String), usize>,
}

impl<'a> ToolFinder<'a> {
    fn new(api: &ApiSpec, operations: &'a [Operation]) -> Self {
        let mut by_operation = HashMap::new();
        for (i, tool) in api.tools.iter().enumerate() {
            by_operation
                .entry((tool.plan.method.clone(), tool.plan.path.clone()))
                .or_insert(i);
        }
        Self {
            operations,
            by_operation,
        }
    }

    /// The tool of the operation `selector` names (`operationId` or `METHOD /path`).
    fn find(&self, selector: &str) -> Result<usize, String> {
        let found = crate::select::resolve_operation(selector, self.operations, "prompts")
            .map_err(|e| e.message)?;
        found
            .first()
            .and_then(|&op| self.of_operation(&self.operations[op]))
            .ok_or_else(|| format!("the operation `{selector}` is not served by this server"))
    }

    fn of_operation(&self, op: &Operation) -> Option<usize> {
        self.by_operation
            .get(&(op.method.to_ascii_uppercase(), op.path.clone()))
            .copied()
    }

    /// The tool of the operation at `path` and `method` of the document.
    fn at(&self, method: &str, path: &str) -> Option<usize> {
        self.by_operation
            .get(&(method.to_ascii_uppercase(), path.to_owned()))
            .copied()
    }
}

/// A mistake at a JSON pointer: (pointer, message).
type Located = (String, String);

/// The workflows of the document's root `x-mcpgen: {prompts: {NAME: {...}}}`, each with its
/// pointer.
fn document_workflows(doc: &Value) -> Result<Vec<(Option<String>, WorkflowSetting)>, Located> {
    let Some(prompts) = doc
        .get(crate::model::extension::KEY)
        .and_then(|x| x.get("prompts"))
    else {
        return Ok(Vec::new());
    };
    let base = format!("/{}/prompts", crate::model::extension::KEY);
    let Value::Object(prompts) = prompts else {
        return Err((base, "`prompts` maps prompt names to prompts".into()));
    };
    let mut out = Vec::new();
    for (name, prompt) in prompts {
        let pointer = push_token(&base, name);
        let Value::Object(fields) = prompt else {
            return Err((pointer, "a prompt is an object".into()));
        };
        let fields = fields
            .iter()
            .map(|(key, value)| match setting_value(value) {
                Ok(value) => Ok((key.clone(), value)),
                Err(message) => Err((push_token(&pointer, key), message)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let workflow = workflow_setting(name, fields).map_err(|m| (pointer.clone(), m))?;
        out.push((Some(pointer), workflow));
    }
    Ok(out)
}

/// A JSON value of a prompt's fields as the settings would hold it.
fn setting_value(value: &Value) -> Result<SettingValue, String> {
    Ok(match value {
        Value::String(s) => SettingValue::Str(s.clone()),
        Value::Bool(b) => SettingValue::Bool(*b),
        Value::Array(items) => SettingValue::List(
            items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err("lists in a prompt hold strings".to_owned()),
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => SettingValue::Map(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), setting_value(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        _ => return Err("a prompt's fields are strings, lists of strings and tables".into()),
    })
}

/// A hand-written prompt: its resources, then its text and its steps.
fn workflow_prompt(
    workflow: &WorkflowSetting,
    tools: &ToolFinder,
    own: &OwnResources,
) -> Result<PromptSpec, String> {
    let mut parts = Vec::new();
    if let Some(text) = &workflow.text {
        parts.extend(hint_parts(text, &workflow.arguments));
    }
    if !workflow.steps.is_empty() {
        match &workflow.text {
            Some(_) => parts.push(PromptPart::Text("\n\nSteps:\n".into())),
            None => {
                let intro = workflow
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("Run the workflow `{}`.", workflow.name));
                parts.push(PromptPart::Text(format!("{intro}\n\nSteps:\n")));
            }
        }
    }
    for (n, step) in workflow.steps.iter().enumerate() {
        let (selector, hint) = match step.split_once(": ") {
            Some((selector, hint)) => (selector.trim(), Some(hint.trim())),
            None => (step.trim(), None),
        };
        let tool = tools
            .find(selector)
            .map_err(|e| format!("step {}: {e}", n + 1))?;
        parts.push(PromptPart::Text(format!("{}. ", n + 1)));
        parts.push(PromptPart::Tool(tool));
        if let Some(hint) = hint {
            parts.push(PromptPart::Text(" — ".into()));
            parts.extend(hint_parts(hint, &workflow.arguments));
        }
        parts.push(PromptPart::Text("\n".into()));
    }
    if !workflow.steps.is_empty() {
        parts.push(PromptPart::Text(
            "\nCall the tools in this order, passing what a step returns on to the next; ask the \
             user before a step that deletes or changes data."
                .into(),
        ));
    }
    let resources = workflow
        .resources
        .iter()
        .map(|uri| {
            let parts = merge_text(hint_parts(uri, &workflow.arguments));
            // A URI of arguments is checked when the prompt is read; a literal one now.
            match parts.as_slice() {
                [] => Err("a resource URI is empty".to_owned()),
                [PromptPart::Text(literal)] => own.check(literal).map(|()| parts),
                _ => Ok(parts),
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    let description = match (&workflow.description, workflow.steps.is_empty()) {
        (Some(description), _) => description.clone(),
        (None, false) => format!("Steps of the workflow `{}`.", workflow.name),
        (None, true) => format!("The prompt `{}`.", workflow.name),
    };
    Ok(PromptSpec {
        name: workflow.name.clone(),
        title: workflow.title.clone(),
        description,
        arguments: workflow
            .arguments
            .iter()
            .map(|(name, description)| PromptArgumentSpec {
                name: name.clone(),
                description: Some(description.clone()),
                required: workflow.required.contains(name),
                values: Vec::new(),
            })
            .collect(),
        parts: merge_text(parts),
        resources,
        needs_every_tool: true,
    })
}

/// The resources of the server a prompt can embed: the API document, and the resources and
/// templates of its operations.
struct OwnResources {
    /// URIs of single resources.
    uris: Vec<String>,
    /// Templates, as written and parsed.
    templates: Vec<(String, UriTemplate)>,
}

impl OwnResources {
    fn of(api: &ApiSpec) -> Self {
        let mut uris: Vec<String> = api
            .openapi
            .as_ref()
            .map(|_| "openapi://spec".to_owned())
            .into_iter()
            .collect();
        let mut templates = Vec::new();
        for resource in api.tools.iter().filter_map(|t| t.resource.as_ref()) {
            match UriTemplate::parse(&resource.uri) {
                Ok(template) if template.has_variables() => {
                    templates.push((resource.uri.clone(), template));
                }
                _ => uris.push(resource.uri.clone()),
            }
        }
        OwnResources { uris, templates }
    }

    /// Whether `uri` is one of the resources, or read by one of the templates; the error
    /// says which are.
    fn check(&self, uri: &str) -> Result<(), String> {
        if self.uris.iter().any(|u| u == uri)
            || self.templates.iter().any(|(_, t)| t.matches(uri).is_some())
        {
            return Ok(());
        }
        let quoted = |items: &mut dyn Iterator<Item = &String>| {
            items
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let known = match (self.uris.is_empty(), self.templates.is_empty()) {
            (true, true) => "this server has none: `x-mcpgen: {resource: URI}` on a GET \
                             operation makes one"
                .to_owned(),
            (false, true) => format!("its resources are {}", quoted(&mut self.uris.iter())),
            (true, false) => format!(
                "its resource templates are {}",
                quoted(&mut self.templates.iter().map(|(u, _)| u))
            ),
            (false, false) => format!(
                "its resources are {} and its resource templates {}",
                quoted(&mut self.uris.iter()),
                quoted(&mut self.templates.iter().map(|(u, _)| u))
            ),
        };
        Err(format!(
            "`{uri}` is not a resource of this server (a prompt embeds only the server's own); \
             {known}"
        ))
    }
}

/// A hint's text with `{argument}` (for a declared argument) as the argument's value.
fn hint_parts(hint: &str, arguments: &[(String, String)]) -> Vec<PromptPart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = hint;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let named = after
            .find('}')
            .map(|close| &after[..close])
            .filter(|name| arguments.iter().any(|(arg, _)| arg == name));
        match named {
            Some(name) => {
                text.push_str(&rest[..open]);
                parts.push(PromptPart::Text(std::mem::take(&mut text)));
                parts.push(PromptPart::Argument(name.to_owned()));
                rest = &after[name.len() + 1..];
            }
            None => {
                text.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    text.push_str(rest);
    parts.push(PromptPart::Text(text));
    parts
}

/// Joins neighbouring text parts and drops empty ones.
fn merge_text(parts: Vec<PromptPart>) -> Vec<PromptPart> {
    let mut out: Vec<PromptPart> = Vec::with_capacity(parts.len());
    for part in parts {
        match (out.last_mut(), part) {
            (_, PromptPart::Text(text)) if text.is_empty() => {}
            (Some(PromptPart::Text(last)), PromptPart::Text(text)) => last.push_str(&text),
            (_, part) => out.push(part),
        }
    }
    out
}

/// How the guide orders a tag's tools: reading first, then creating, changing, deleting.
fn method_rank(method: &str) -> u8 {
    match method {
        "GET" | "HEAD" | "OPTIONS" | "QUERY" => 0,
        "POST" => 1,
        "PUT" | "PATCH" => 2,
        "DELETE" => 3,
        _ => 4,
    }
}

/// One guide per tag that has tools: the document's tags first, in its order, then tags only
/// operations name.
fn guides(api: &ApiSpec, tags: &[Tag], title: &str) -> Vec<PromptSpec> {
    let mut order: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    let mut seen: HashSet<&str> = order.iter().copied().collect();
    for tool in &api.tools {
        for tag in &tool.tags {
            if seen.insert(tag) {
                order.push(tag);
            }
        }
    }
    let mut tools_by_tag: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, tool) in api.tools.iter().enumerate() {
        for tag in &tool.tags {
            tools_by_tag.entry(tag).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for tag in order.into_iter().take(MAX_PROMPTS) {
        let Some(indices) = tools_by_tag.get(tag) else {
            continue;
        };
        let mut indices = indices.clone();
        indices.sort_by_key(|&i| method_rank(&api.tools[i].plan.method));
        let about = tags
            .iter()
            .find(|t| t.name == tag)
            .and_then(|t| t.description.as_deref().or(t.summary.as_deref()))
            .map(|d| short(d, 300));
        let mut parts = vec![PromptPart::Text(format!(
            "Help with the {title} API's `{tag}` operations{}.\n\nThe tools, those that read \
             first, then those that create, change and delete:\n",
            about
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ))];
        parts.extend(indices.into_iter().map(PromptPart::ToolItem));
        parts.push(PromptPart::Text(
            "\nFind what a tool needs before calling it (an identifier usually comes from a \
             listing or a search); ask the user before calling a tool that deletes or changes \
             data."
                .into(),
        ));
        parts.push(PromptPart::Given {
            argument: TASK_ARGUMENT.into(),
            text: "\n\nThe task: ".into(),
        });
        out.push(PromptSpec {
            name: guide_name(tag),
            title: Some(format!("{title}: {tag}")),
            description: format!(
                "How to use the `{tag}` operations: which tools, in what order, with what \
                 arguments."
            ),
            arguments: vec![PromptArgumentSpec {
                name: TASK_ARGUMENT.into(),
                description: Some("What you want to do (optional).".into()),
                required: false,
                values: Vec::new(),
            }],
            parts: merge_text(parts),
            resources: Vec::new(),
            needs_every_tool: false,
        });
    }
    out
}

/// `text` on one line (runs of white space as one space), cut to `max` characters.
fn short(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `guide_<tag>` in prompt-name characters.
fn guide_name(tag: &str) -> String {
    let mut name = String::from("guide_");
    for c in tag.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_');
    name.chars().take(64).collect()
}

/// Arazzo 1.0 workflows as prompts.
mod arazzo {
    use super::*;

    /// One prompt per workflow of the Arazzo document at `path`. A workflow with a step whose
    /// operation this server does not serve (another API's, or one left out) is left out with
    /// a warning.
    pub fn prompts(
        path: &Path,
        tools: &ToolFinder,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<PromptSpec>> {
        let doc = crate::load::load_file(path)?.value;
        let invalid = |pointer: &str, message: String| Error::Invalid {
            path: path.to_owned(),
            line: None,
            pointer: pointer.to_owned(),
            message,
        };
        match doc.get("arazzo").and_then(Value::as_str) {
            Some(version) if version.starts_with("1.") => {}
            Some(version) => {
                return Err(invalid(
                    "/arazzo",
                    format!("Arazzo {version} is not read; this generator reads Arazzo 1.x"),
                ));
            }
            None => {
                return Err(invalid(
                    "",
                    "not an Arazzo document: it has no `arazzo` version".into(),
                ));
            }
        }
        let Some(workflows) = doc.get("workflows").and_then(Value::as_array) else {
            return Err(invalid("/workflows", "`workflows` must be a list".into()));
        };
        let file = path.display();
        let mut out = Vec::new();
        for (w, workflow) in workflows.iter().enumerate() {
            let at = format!("/workflows/{w}");
            match prompt(workflow, &at, tools) {
                Ok(prompt) => out.push(prompt),
                Err(Skip::Invalid(pointer, message)) => return Err(invalid(&pointer, message)),
                Err(Skip::Unserved(pointer, message)) => {
                    warnings.push(format!("{file}: {pointer}: {message}; workflow left out"));
                }
            }
        }
        Ok(out)
    }

    /// Why a workflow gives no prompt.
    enum Skip {
        /// The document is wrong here.
        Invalid(String, String),
        /// A step's operation is not one of this server's.
        Unserved(String, String),
    }

    fn prompt(workflow: &Value, at: &str, tools: &ToolFinder) -> Result<PromptSpec, Skip> {
        let invalid = |pointer: String, message: &str| Skip::Invalid(pointer, message.to_owned());
        let id = workflow
            .get("workflowId")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{at}/workflowId"), "a workflow needs an id"))?;
        let name = prompt_name(id);
        let summary = workflow.get("summary").and_then(Value::as_str);
        let description = workflow.get("description").and_then(Value::as_str);
        let arguments = inputs(workflow.get("inputs"));
        let steps = workflow
            .get("steps")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid(format!("{at}/steps"), "a workflow needs `steps`"))?;
        if steps.len() > MAX_STEPS {
            return Err(invalid(format!("{at}/steps"), "more than 100 steps"));
        }

        let intro = [summary, description]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n\n");
        let intro = if intro.is_empty() {
            format!("Run the workflow `{id}`.")
        } else {
            intro
        };
        let mut parts = vec![PromptPart::Text(format!("{intro}\n\nSteps:\n"))];
        for (n, step) in steps.iter().enumerate() {
            let step_at = format!("{at}/steps/{n}");
            let step_id = step.get("stepId").and_then(Value::as_str).unwrap_or("");
            parts.push(PromptPart::Text(format!("{}. ", n + 1)));
            if let Some(op) = step.get("operationId").and_then(Value::as_str) {
                let op = op
                    .rsplit_once('.')
                    .filter(|_| op.starts_with('$'))
                    .map_or(op, |(_, o)| o);
                let tool = tools
                    .find(op)
                    .map_err(|e| Skip::Unserved(format!("{step_at}/operationId"), e))?;
                parts.push(PromptPart::Tool(tool));
            } else if let Some(path) = step.get("operationPath").and_then(Value::as_str) {
                let tool = operation_path(path)
                    .and_then(|(path, method)| tools.at(&method, &path))
                    .ok_or_else(|| {
                        Skip::Unserved(
                            format!("{step_at}/operationPath"),
                            format!("`{path}` is not an operation this server serves"),
                        )
                    })?;
                parts.push(PromptPart::Tool(tool));
            } else if let Some(other) = step.get("workflowId").and_then(Value::as_str) {
                parts.push(PromptPart::Text(format!(
                    "run the workflow `{}` (the prompt of that name)",
                    prompt_name(other)
                )));
            } else {
                return Err(invalid(
                    step_at,
                    "a step needs `operationId`, `operationPath` or `workflowId`",
                ));
            }
            if !step_id.is_empty() {
                parts.push(PromptPart::Text(format!(" [step `{step_id}`]")));
            }
            if let Some(text) = step.get("description").and_then(Value::as_str) {
                parts.push(PromptPart::Text(format!(": {}", short(text, 300))));
            }
            parts.push(PromptPart::Text("\n".into()));
            for param in step
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = param.get("name").and_then(Value::as_str) else {
                    continue;
                };
                parts.push(PromptPart::Text(format!("   - `{name}` = ")));
                parts.extend(value_parts(
                    param.get("value").unwrap_or(&Value::Null),
                    &arguments,
                ));
                parts.push(PromptPart::Text("\n".into()));
            }
            if let Some(payload) = step.get("requestBody").and_then(|b| b.get("payload")) {
                parts.push(PromptPart::Text("   - body: ".into()));
                parts.extend(value_parts(payload, &arguments));
                parts.push(PromptPart::Text("\n".into()));
            }
            let criteria: Vec<&str> = step
                .get("successCriteria")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("condition").and_then(Value::as_str))
                .collect();
            if !criteria.is_empty() {
                parts.push(PromptPart::Text(format!(
                    "   - succeeds when: {}\n",
                    criteria.join(" and ")
                )));
            }
            if let Some(outputs) = step.get("outputs").and_then(Value::as_object) {
                let kept: Vec<String> = outputs
                    .iter()
                    .filter_map(|(k, v)| Some(format!("`{k}` from {}", v.as_str()?)))
                    .collect();
                if !kept.is_empty() {
                    parts.push(PromptPart::Text(format!(
                        "   - keep: {}\n",
                        kept.join(", ")
                    )));
                }
            }
        }
        parts.push(PromptPart::Text(
            "\nCall the tools in this order; `$steps.NAME.outputs.X` means the output X kept \
             from step NAME, `$inputs.X` the workflow's input X. Stop and tell the user when a \
             step does not succeed."
                .into(),
        ));
        Ok(PromptSpec {
            name,
            title: summary.map(str::to_owned),
            description: description
                .or(summary)
                .map(|d| short(d, 500))
                .unwrap_or_else(|| format!("The Arazzo workflow `{id}`.")),
            arguments,
            parts: merge_text(parts),
            resources: Vec::new(),
            needs_every_tool: true,
        })
    }

    /// A workflow's `inputs` schema's properties as arguments.
    fn inputs(schema: Option<&Value>) -> Vec<PromptArgumentSpec> {
        let Some(schema) = schema else {
            return Vec::new();
        };
        let required = crate::schema::required_names(schema);
        schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, property)| PromptArgumentSpec {
                name: name.clone(),
                description: property
                    .get("description")
                    .and_then(Value::as_str)
                    .map(|d| short(d, 300)),
                required: required.contains(&name.as_str()),
                values: suggested_values(property),
            })
            .collect()
    }

    /// The values a schema suggests: its enum, const, examples and default.
    pub(super) fn suggested_values(schema: &Value) -> Vec<String> {
        let mut values = Vec::new();
        let mut push = |value: &Value| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                _ => return,
            };
            if !values.contains(&text) && values.len() < 100 {
                values.push(text);
            }
        };
        for key in ["enum", "examples"] {
            schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .for_each(&mut push);
        }
        for key in ["const", "default", "example"] {
            if let Some(value) = schema.get(key) {
                push(value);
            }
        }
        values
    }

    /// A parameter value or payload: `$inputs.X` is the argument's value, other runtime
    /// expressions and literals are shown as written (objects and lists member by member, so
    /// that inputs inside a payload are filled in too).
    fn value_parts(value: &Value, arguments: &[PromptArgumentSpec]) -> Vec<PromptPart> {
        let mut parts = Vec::new();
        write_value(value, arguments, &mut parts, 0);
        parts
    }

    fn write_value(
        value: &Value,
        arguments: &[PromptArgumentSpec],
        out: &mut Vec<PromptPart>,
        depth: usize,
    ) {
        let text = |t: &str| PromptPart::Text(t.to_owned());
        match value {
            Value::String(s) if s.starts_with('$') => match s.strip_prefix("$inputs.") {
                Some(input) if arguments.iter().any(|a| a.name == input) => {
                    out.push(PromptPart::Argument(input.to_owned()));
                }
                _ => out.push(PromptPart::Text(format!("`{s}`"))),
            },
            Value::Object(members) if depth < 8 => {
                out.push(text("{"));
                for (i, (key, member)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(text(", "));
                    }
                    out.push(PromptPart::Text(format!("{}: ", Value::from(key.as_str()))));
                    write_value(member, arguments, out, depth + 1);
                }
                out.push(text("}"));
            }
            Value::Array(items) if depth < 8 => {
                out.push(text("["));
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(text(", "));
                    }
                    write_value(item, arguments, out, depth + 1);
                }
                out.push(text("]"));
            }
            other => {
                let json = serde_json::to_string(other).unwrap_or_default();
                out.push(PromptPart::Text(short(&json, 1000)));
            }
        }
    }

    /// `{$sourceDescriptions.NAME.url}#/paths/~1pets~1{id}/get` as (`/pets/{id}`, `get`).
    fn operation_path(text: &str) -> Option<(String, String)> {
        let (_, pointer) = text.split_once('#')?;
        let mut tokens = pointer.strip_prefix('/')?.split('/');
        if tokens.next()? != "paths" {
            return None;
        }
        let path = crate::pointer::decode_fragment_token(tokens.next()?)?;
        let method = tokens.next()?.to_owned();
        tokens.next().is_none().then_some((path, method))
    }

    /// A workflow id in prompt-name characters.
    fn prompt_name(id: &str) -> String {
        let name: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        if name.is_empty() {
            "workflow".into()
        } else {
            name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_arguments_and_keep_other_braces() {
        let args = vec![("status".to_owned(), "which".to_owned())];
        assert_eq!(
            merge_text(hint_parts("GET /pets/{id} with status = {status}.", &args)),
            vec![
                PromptPart::Text("GET /pets/{id} with status = ".into()),
                PromptPart::Argument("status".into()),
                PromptPart::Text(".".into()),
            ]
        );
        assert_eq!(
            merge_text(hint_parts("{", &args)),
            vec![PromptPart::Text("{".into())]
        );
    }

    #[test]
    fn workflow_tables_are_checked() {
        let table = |fields: Vec<(&str, SettingValue)>| {
            workflow_setting(
                "adopt",
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            )
        };
        let err = table(vec![]).unwrap_err();
        assert!(
            err.contains("a prompt needs `text` (its message), `resources`"),
            "{err}"
        );
        let err = table(vec![(
            "resources",
            SettingValue::List(vec!["docs://x".into(); MAX_EMBEDDED + 1]),
        )])
        .unwrap_err();
        assert!(err.contains("at most 10 resources"), "{err}");
        let err = table(vec![("text", SettingValue::List(vec![]))]).unwrap_err();
        assert!(
            err.contains("`prompts.adopt.text` must be a string"),
            "{err}"
        );
        let err = table(vec![
            ("steps", SettingValue::List(vec!["listPets".into()])),
            ("required", SettingValue::List(vec!["kind".into()])),
        ])
        .unwrap_err();
        assert!(
            err.contains("`kind` is required but is not one of the `arguments`"),
            "{err}"
        );
        let err = table(vec![("step", SettingValue::List(vec![]))]).unwrap_err();
        assert!(err.contains("`prompts.adopt.step` is not known"), "{err}");
        assert!(check_name("bad name").is_err());
        assert_eq!(guide_name("Pet store / orders"), "guide_Pet_store_orders");
    }

    #[test]
    fn text_comes_before_steps_and_literal_resources_are_checked() {
        let tools = ToolFinder {
            operations: &[],
            by_operation: HashMap::new(),
        };
        let own = OwnResources {
            uris: vec!["test://static-text".into()],
            templates: vec![(
                "test://template/{id}/data".into(),
                UriTemplate::parse("test://template/{id}/data").unwrap(),
            )],
        };
        let setting = |fields: Vec<(&str, SettingValue)>| {
            workflow_setting(
                "p",
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            )
            .unwrap()
        };
        let arguments = SettingValue::Table(vec![
            ("arg1".into(), "First".into()),
            ("resourceUri".into(), "Which".into()),
        ]);
        let prompt = workflow_prompt(
            &setting(vec![
                ("arguments", arguments.clone()),
                (
                    "text",
                    SettingValue::Str("Prompt with arguments: arg1='{arg1}', {other}".into()),
                ),
                (
                    "resources",
                    SettingValue::List(vec![
                        "test://static-text".into(),
                        "{resourceUri}".into(),
                        "test://template/7/data".into(),
                    ]),
                ),
            ]),
            &tools,
            &own,
        )
        .unwrap();
        assert_eq!(
            prompt.parts,
            [
                PromptPart::Text("Prompt with arguments: arg1='".into()),
                PromptPart::Argument("arg1".into()),
                PromptPart::Text("', {other}".into()),
            ]
        );
        assert_eq!(
            prompt.resources,
            [
                vec![PromptPart::Text("test://static-text".into())],
                vec![PromptPart::Argument("resourceUri".into())],
                vec![PromptPart::Text("test://template/7/data".into())],
            ]
        );
        assert_eq!(prompt.description, "The prompt `p`.");

        let err = workflow_prompt(
            &setting(vec![(
                "resources",
                SettingValue::List(vec!["https://example.com/x".into()]),
            )]),
            &tools,
            &own,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "`https://example.com/x` is not a resource of this server (a prompt embeds only the \
             server's own); its resources are `test://static-text` and its resource templates \
             `test://template/{id}/data`"
        );
    }

    #[test]
    fn names_that_clash_get_a_suffix() {
        let taken: HashSet<String> = ["guide_pet".to_owned(), "guide_pet_2".to_owned()].into();
        assert_eq!(unique_name("guide_pet", &taken), "guide_pet_3");
        assert_eq!(unique_name("other", &taken), "other");
    }
}
