//! Resource templates: a GET operation whose URI is a template is a family of resources, one
//! per value of its path parameters. The document names such a template
//! (`x-mcpgen: {resource: "docs://pets/{petId}"}`); with `--get-resources`, every other GET
//! operation whose required arguments are all path parameters is one too, its path under a
//! scheme named after the server (`petstore://pets/{petId}`). A client fills one in and reads
//! the resource, and the server answers with the operation's answer, through the same path as
//! a call (validation, credentials, masking, limits). Completion offers values for a
//! template's parameters from what the document says about them: enums, examples, defaults.

use rmcp::model::{CompletionInfo, ResourceTemplate};
use serde_json::{Map, Value};

use super::descriptor::{ApiDescriptor, HttpMethod, ParamLocation, ToolDescriptor};
use super::discovery::{resource_description, resource_mime_type};
use super::uri_template::UriTemplate;

/// The template of one operation.
#[derive(Debug, Clone)]
pub struct Template {
    /// The operation's index in the API table.
    pub index: usize,
    /// As listed: `scheme://path/{name}`.
    pub uri_template: String,
    template: UriTemplate,
    /// The argument each variable fills, by the variable's name.
    arguments: Vec<(String, &'static str)>,
}

/// The templates of a server.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    templates: Vec<Template>,
}

impl Templates {
    /// The templates of the operations `served` lets through: those the document names, then,
    /// with `derived`, those of the other GET operations whose required arguments are all path
    /// parameters. A URI is read by the first template it matches, so a named template wins.
    pub fn build(
        api: &ApiDescriptor,
        derived: bool,
        served: impl Fn(&ToolDescriptor) -> bool,
    ) -> Self {
        let scheme = scheme_of(api.server_name);
        let served: Vec<(usize, &ToolDescriptor)> = api
            .tools
            .iter()
            .enumerate()
            .filter(|(_, tool)| served(tool))
            .collect();
        let named = served
            .iter()
            .filter_map(|&(index, tool)| named_template(index, tool));
        let derived = served
            .iter()
            .filter(|_| derived)
            .filter_map(|&(index, tool)| derived_template(&scheme, index, tool));
        Templates {
            templates: named.chain(derived).collect(),
        }
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The templates as `resources/templates/list` shows them.
    pub fn listed(&self, api: &ApiDescriptor) -> Vec<ResourceTemplate> {
        self.templates
            .iter()
            .map(|t| {
                let tool = &api.tools[t.index];
                let mut listed = ResourceTemplate::new(&t.uri_template, tool.name)
                    .with_description(resource_description(tool))
                    .with_mime_type(resource_mime_type(tool));
                if let Some(title) = tool.title {
                    listed = listed.with_title(title);
                }
                listed
            })
            .collect()
    }

    /// The operation a URI names, and its arguments; `None` when no template matches.
    pub fn resolve(&self, uri: &str) -> Option<(usize, Map<String, Value>)> {
        self.templates.iter().find_map(|t| {
            let values = t.template.matches(uri)?;
            let arguments = values
                .into_iter()
                .filter_map(|(variable, value)| {
                    Some((t.argument_of(&variable)?.to_owned(), Value::String(value)))
                })
                .collect();
            Some((t.index, arguments))
        })
    }

    /// The template listed as `uri_template`.
    pub fn by_uri_template(&self, uri_template: &str) -> Option<&Template> {
        self.templates
            .iter()
            .find(|t| t.uri_template == uri_template)
    }

    /// The templates as listed, for messages.
    pub fn uri_templates(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(|t| t.uri_template.as_str())
    }
}

impl Template {
    /// The argument of the operation that the variable `variable` fills.
    pub fn argument_of(&self, variable: &str) -> Option<&'static str> {
        self.arguments
            .iter()
            .find(|(name, _)| name == variable)
            .map(|(_, arg)| *arg)
    }
}

/// A URI scheme from the server's name: lower-case letters, digits, `+`, `-` and `.`, starting
/// with a letter; a trailing `-mcp` is left out (`petstore-mcp` → `petstore`).
fn scheme_of(server_name: &str) -> String {
    let name = server_name.strip_suffix("-mcp").unwrap_or(server_name);
    let mut scheme: String = name
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !scheme.starts_with(|c: char| c.is_ascii_lowercase()) {
        scheme.insert_str(0, "api-");
    }
    scheme
}

/// The argument of the path parameter `name` of `tool` (a parameter with a fixed value is no
/// argument).
fn path_argument(tool: &ToolDescriptor, name: &str) -> Option<&'static str> {
    tool.plan
        .params
        .iter()
        .find(|p| p.location == ParamLocation::Path && p.name == name && p.fixed.is_none())
        .map(|p| p.arg)
}

/// The template the document names for `tool`, whose variables are its path parameters (the
/// generator checked that they are all of them).
fn named_template(index: usize, tool: &ToolDescriptor) -> Option<Template> {
    let uri = tool.resource?.uri;
    let template = UriTemplate::parse(uri).ok()?;
    if !template.has_variables() {
        return None;
    }
    let arguments = template
        .variables()
        .map(|name| Some((name.to_owned(), path_argument(tool, name)?)))
        .collect::<Option<Vec<_>>>()?;
    Some(Template {
        index,
        uri_template: uri.to_owned(),
        template,
        arguments,
    })
}

/// The template of a GET operation the document names no resource, whose required arguments
/// are all path parameters, and that has at least one: its path under `scheme`, each
/// parameter written as its argument.
fn derived_template(scheme: &str, index: usize, tool: &ToolDescriptor) -> Option<Template> {
    if tool.plan.method != HttpMethod::Get || tool.resource.is_some() {
        return None;
    }
    let schema: Map<String, Value> = serde_json::from_str(tool.input_schema).ok()?;
    let path_args: Vec<&'static str> = tool
        .plan
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Path && p.fixed.is_none())
        .map(|p| p.arg)
        .collect();
    let required = schema.get("required").and_then(Value::as_array);
    let all_in_path = required
        .into_iter()
        .flatten()
        .all(|r| r.as_str().is_some_and(|r| path_args.contains(&r)));
    if path_args.is_empty() || !all_in_path {
        return None;
    }
    let mut listed = format!("{scheme}://");
    let mut rest = tool.plan.path.trim_start_matches('/');
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        listed.push_str(&rest[..open]);
        listed.push('{');
        listed.push_str(path_argument(tool, &rest[open + 1..close])?);
        listed.push('}');
        rest = &rest[close + 1..];
    }
    listed.push_str(rest);
    // A path whose values cannot be told apart (two side by side) is no template.
    let template = UriTemplate::parse(&listed).ok()?;
    // Here each variable is named after its argument.
    let arguments = template
        .variables()
        .map(|variable| {
            let arg = path_args.iter().find(|arg| **arg == variable)?;
            Some((variable.to_owned(), *arg))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Template {
        index,
        uri_template: listed,
        template,
        arguments,
    })
}

/// Completion values for argument `arg` of an operation: its schema's `enum` and `const`,
/// `examples`, `example` and `default`, as text, those that start with `typed` (ignoring case)
/// first in the document's order, at most [`CompletionInfo::MAX_VALUES`].
pub fn complete(tool: &ToolDescriptor, arg: &str, typed: &str) -> CompletionInfo {
    completion(suggested_values(tool, arg), typed)
}

/// The values the schema of argument `arg` of `tool` suggests: its enum, examples, const,
/// example and default.
pub(super) fn suggested_values(tool: &ToolDescriptor, arg: &str) -> Vec<String> {
    let schema: Map<String, Value> = serde_json::from_str(tool.input_schema).unwrap_or_default();
    let property = schema
        .get("properties")
        .and_then(|p| p.get(arg))
        .cloned()
        .unwrap_or(Value::Null);
    let mut candidates: Vec<String> = Vec::new();
    let mut add = |value: &Value| {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return,
        };
        if !candidates.contains(&text) {
            candidates.push(text);
        }
    };
    for key in ["enum", "examples"] {
        if let Some(Value::Array(values)) = property.get(key) {
            values.iter().for_each(&mut add);
        }
    }
    for key in ["const", "example", "default"] {
        if let Some(value) = property.get(key) {
            add(value);
        }
    }
    candidates
}

/// The candidates that start with what was typed (ignoring case), at most as many as a
/// completion may carry, with the total.
pub(super) fn completion(candidates: Vec<String>, typed: &str) -> CompletionInfo {
    let typed = typed.to_lowercase();
    let matching: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.to_lowercase().starts_with(&typed))
        .collect();
    let total = matching.len();
    let values: Vec<String> = matching
        .into_iter()
        .take(CompletionInfo::MAX_VALUES)
        .collect();
    let mut info = CompletionInfo::default();
    info.has_more = Some(total > values.len());
    info.total = u32::try_from(total).ok();
    info.values = values;
    info
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::{CallPlan, ParamPlan, ParamStyle};
    use super::super::tests::{TOOL, api};
    use super::*;

    const fn path_param(arg: &'static str, name: &'static str) -> ParamPlan {
        ParamPlan {
            arg,
            name,
            location: ParamLocation::Path,
            style: ParamStyle::Simple,
            explode: false,
            allow_reserved: false,
            json: false,
            fixed: None,
        }
    }

    static TOOLS: [ToolDescriptor; 3] = [
        ToolDescriptor {
            name: "getPet",
            input_schema: r#"{"type":"object","properties":{"petId":{"type":"string","enum":["rex","tom","Rita"]},"verbose":{"type":"boolean"}},"required":["petId"]}"#,
            plan: CallPlan {
                path: "/pets/{petId}",
                params: &[path_param("petId", "petId")],
                ..TOOL.plan
            },
            ..TOOL
        },
        ToolDescriptor {
            name: "getFile",
            input_schema: r#"{"type":"object","properties":{"owner":{"type":"string","examples":["me"],"default":"you"},"file_name":{"type":"string"}},"required":["owner","file_name"]}"#,
            plan: CallPlan {
                path: "/users/{owner}/files/{file-name}.json",
                params: &[
                    path_param("owner", "owner"),
                    path_param("file_name", "file-name"),
                ],
                ..TOOL.plan
            },
            ..TOOL
        },
        // A required query parameter: not a template.
        ToolDescriptor {
            name: "search",
            input_schema: r#"{"type":"object","properties":{"q":{"type":"string"},"id":{"type":"string"}},"required":["q","id"]}"#,
            plan: CallPlan {
                path: "/search/{id}",
                params: &[path_param("id", "id")],
                ..TOOL.plan
            },
            ..TOOL
        },
    ];
    static API: ApiDescriptor = ApiDescriptor {
        server_name: "Pet Store-mcp",
        ..api(&TOOLS)
    };

    #[test]
    fn get_operations_with_path_arguments_become_templates() {
        let templates = Templates::build(&API, true, |_| true);
        let listed: Vec<String> = templates
            .listed(&API)
            .into_iter()
            .map(|t| t.uri_template)
            .collect();
        assert_eq!(
            listed,
            [
                "pet-store://pets/{petId}",
                "pet-store://users/{owner}/files/{file_name}.json"
            ]
        );
        let (index, args) = templates.resolve("pet-store://pets/r%C3%A9x?x=1").unwrap();
        assert_eq!(
            (index, args),
            (
                0,
                serde_json::json!({"petId": "réx"})
                    .as_object()
                    .unwrap()
                    .clone()
            )
        );
        let (index, args) = templates
            .resolve("pet-store://users/a%2Fb/files/report.v2.json")
            .unwrap();
        assert_eq!(index, 1);
        assert_eq!(args["owner"], "a/b");
        assert_eq!(args["file_name"], "report.v2");
        for unknown in [
            "pet-store://pets/",
            "pet-store://pets/a/b",
            "other://pets/a",
            "pet-store://users/me/files/x.txt",
            "pet-store://pets/%zz",
            "pet-store://search/1",
        ] {
            assert!(templates.resolve(unknown).is_none(), "{unknown}");
        }
        assert!(Templates::build(&API, true, |t| t.name == "search").is_empty());
    }

    #[test]
    fn completion_offers_what_the_document_says() {
        let got = complete(&TOOLS[0], "petId", "r");
        assert_eq!(got.values, ["rex", "Rita"]);
        assert_eq!((got.total, got.has_more), (Some(2), Some(false)));
        assert_eq!(complete(&TOOLS[1], "owner", "").values, ["me", "you"]);
        assert!(complete(&TOOLS[1], "file_name", "").values.is_empty());
        assert!(complete(&TOOLS[0], "nope", "").values.is_empty());
    }
}
