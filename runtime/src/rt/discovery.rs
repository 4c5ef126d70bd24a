//! The three tools of search mode, which reach every operation of a large API through a tool
//! list of a few kilobytes: `search_operations` finds operations for a task,
//! `describe_operation` shows one operation's arguments and answer, and `call_operation` runs
//! one. Also the resources a server offers: its own API document, and optionally GET
//! operations that need no argument.

use std::sync::Arc;

use rmcp::model::{
    CallToolResult, ContentBlock, JsonObject, Resource, ResourceContents, Tool, ToolAnnotations,
};
use serde_json::{Value, json};

use super::descriptor::{HttpMethod, ToolDescriptor};
use super::search::{SearchDoc, SearchIndex, one_line_summary};

/// Finds operations.
pub const SEARCH_TOOL: &str = "search_operations";
/// Shows one operation.
pub const DESCRIBE_TOOL: &str = "describe_operation";
/// Runs one operation.
pub const CALL_TOOL: &str = "call_operation";
/// The names of the three, which no other tool of a searching server may take.
pub const DISCOVERY_TOOLS: [&str; 3] = [SEARCH_TOOL, DESCRIBE_TOOL, CALL_TOOL];
/// Runs a program that calls operations (code mode).
pub const EXECUTE_TOOL: &str = "execute";
/// The names of code mode's three tools.
pub const CODE_TOOLS: [&str; 3] = [SEARCH_TOOL, DESCRIBE_TOOL, EXECUTE_TOOL];

/// Results when the caller gives no limit.
const DEFAULT_LIMIT: usize = 10;
/// The most results one search returns.
const MAX_LIMIT: usize = 50;
/// Summaries in search results are cut here.
const SUMMARY_CHARS: usize = 120;

/// The URI of the API document resource.
pub const SPEC_URI: &str = "openapi://spec";
/// The URI prefix of GET operations served as resources.
pub const OPERATION_URI_PREFIX: &str = "operation://";

fn object(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

/// The three tools as `tools/list` shows them. `api_title` names the API in the descriptions.
pub fn discovery_tools(api_title: &str) -> Vec<Tool> {
    let search = Tool::new(
        SEARCH_TOOL,
        format!(
            "Find operations of the {api_title} API for a task, best match first: each result \
             has the operation's name, HTTP method, path and a one-line summary. Then call \
             {DESCRIBE_TOOL} for its arguments and {CALL_TOOL} to run it."
        ),
        object(json!({
            "type": "object",
            "properties": {
                "query": {
                    "type": "string",
                    "minLength": 1,
                    "description": "What you want to do (\"list open pull requests\"), keywords, or an operation name."
                },
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "description": format!("How many results to return (default {DEFAULT_LIMIT}).")
                }
            },
            "required": ["query"],
            "additionalProperties": false
        })),
    )
    .with_raw_output_schema(object(json!({
        "type": "object",
        "properties": {
            "operations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "method": {"type": "string"},
                        "path": {"type": "string"},
                        "summary": {"type": "string"}
                    },
                    "required": ["name", "method", "path", "summary"]
                }
            }
        },
        "required": ["operations"]
    })))
    .with_annotations(
        ToolAnnotations::new()
            .read_only(true)
            .idempotent(true)
            .open_world(false),
    );
    let name_property = json!({
        "type": "string",
        "minLength": 1,
        "description": format!("The operation's name, as {SEARCH_TOOL} gives it.")
    });
    let describe = Tool::new(
        DESCRIBE_TOOL,
        format!(
            "Show one operation in full: its description, the input schema of the arguments \
             {CALL_TOOL} takes for it, and the output schema of its answer."
        ),
        object(json!({
            "type": "object",
            "properties": {"name": name_property},
            "required": ["name"],
            "additionalProperties": false
        })),
    )
    .with_annotations(
        ToolAnnotations::new()
            .read_only(true)
            .idempotent(true)
            .open_world(false),
    );
    let call = Tool::new(
        CALL_TOOL,
        format!(
            "Run one operation of the {api_title} API with its arguments, which must match the \
             input schema {DESCRIBE_TOOL} shows. The result, or the error, is the operation's \
             own."
        ),
        object(json!({
            "type": "object",
            "properties": {
                "name": name_property,
                "arguments": {
                    "type": "object",
                    "description": "The operation's arguments (default: none)."
                }
            },
            "required": ["name"],
            "additionalProperties": false
        })),
    )
    .with_annotations(
        // Any operation may be behind it, so it promises nothing.
        ToolAnnotations::new()
            .read_only(false)
            .destructive(true)
            .idempotent(false)
            .open_world(true),
    );
    vec![search, describe, call]
}

/// The search index over `operations` (indices into `tools`), built once.
pub struct OperationIndex {
    index: SearchIndex,
    operations: Vec<usize>,
}

impl OperationIndex {
    /// Indexes the operations `operations` of `tools`.
    pub fn build(tools: &'static [ToolDescriptor], operations: Vec<usize>) -> Self {
        let index = SearchIndex::build(operations.iter().map(|&i| {
            let tool = &tools[i];
            SearchDoc {
                name: tool.name,
                title: tool.title,
                description: tool.description,
                tags: tool.tags,
                method: tool.plan.method.as_str(),
                path: tool.plan.path,
            }
        }));
        OperationIndex { index, operations }
    }

    /// The table indices of the best matches for `query`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<usize> {
        self.index
            .search(query, limit)
            .into_iter()
            .map(|hit| self.operations[hit.doc])
            .collect()
    }
}

/// The short entry of one operation in search results.
pub fn entry(tool: &ToolDescriptor) -> Value {
    let summary = match tool.title {
        Some(title) if !title.trim().is_empty() => one_line_summary(title, SUMMARY_CHARS),
        _ => one_line_summary(tool.description, SUMMARY_CHARS),
    };
    json!({
        "name": tool.name,
        "method": tool.plan.method.as_str(),
        "path": tool.plan.path,
        "summary": summary,
    })
}

/// The limit a search asks for, within bounds.
pub(super) fn limit(arguments: &JsonObject) -> Result<usize, String> {
    match arguments.get("limit") {
        None | Some(Value::Null) => Ok(DEFAULT_LIMIT),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) if (1..=MAX_LIMIT as u64).contains(&n) => Ok(n as usize),
            _ => Err(format!("`limit` must be an integer from 1 to {MAX_LIMIT}")),
        },
        Some(_) => Err(format!("`limit` must be an integer from 1 to {MAX_LIMIT}")),
    }
}

/// The non-empty string argument `name`.
pub(super) fn string_arg<'a>(arguments: &'a JsonObject, name: &str) -> Result<&'a str, String> {
    match arguments.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(Value::String(_)) => Err(format!("`{name}` must not be empty")),
        Some(other) => Err(format!("`{name}` must be a string, found {other}")),
        None => Err(format!("`{name}` is required")),
    }
}

/// Refuses arguments a discovery tool does not take, as generated tools do.
pub(super) fn check_known(arguments: &JsonObject, known: &[&str]) -> Result<(), String> {
    match arguments.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(format!(
            "unknown argument `{unknown}` (this tool takes {})",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Ok(()),
    }
}

/// The result of a search: the entries as structured content and as JSON text.
pub fn search_result(tools: &[ToolDescriptor], found: &[usize], query: &str) -> CallToolResult {
    let operations: Vec<Value> = found.iter().map(|&i| entry(&tools[i])).collect();
    let structured = json!({ "operations": operations });
    let mut result = CallToolResult::structured(structured);
    if found.is_empty() {
        result.content.push(ContentBlock::text(format!(
            "No operation matches \"{query}\". Try other words: what the operation does, or \
             the resource it acts on."
        )));
    }
    result
}

/// The full description of one operation.
pub fn describe(
    tool: &ToolDescriptor,
    input_schema: &JsonObject,
    output_schema: Option<&str>,
) -> CallToolResult {
    let mut out = json!({
        "name": tool.name,
        "method": tool.plan.method.as_str(),
        "path": tool.plan.path,
    });
    if let Some(title) = tool.title {
        out["title"] = json!(title);
    }
    out["description"] = json!(tool.description);
    if !tool.tags.is_empty() {
        out["tags"] = json!(tool.tags);
    }
    out["annotations"] = json!({
        "readOnlyHint": tool.hints.read_only,
        "destructiveHint": tool.hints.destructive && !tool.hints.read_only,
        "idempotentHint": tool.hints.idempotent,
    });
    out["inputSchema"] = Value::Object(without_header_marks(input_schema));
    if let Some(schema) = output_schema {
        out["outputSchema"] = serde_json::from_str(schema).unwrap_or(Value::Null);
    }
    CallToolResult::structured(out)
}

/// The schema keyword that asks clients to mirror an argument into an `Mcp-Param-*` header
/// (MCP 2026-07-28, SEP-2243).
const HEADER_MARK: &str = "x-mcp-header";

/// `input_schema` without the header marks of its properties. They ask a client to mirror the
/// arguments of that tool's own `tools/call` into headers; the arguments given to
/// `call_operation` are never mirrored, and are not checked against such headers, so shown
/// there the marks would only mislead (and cost tokens).
fn without_header_marks(input_schema: &JsonObject) -> JsonObject {
    let mut schema = input_schema.clone();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            if let Value::Object(property) = property {
                property.shift_remove(HEADER_MARK);
            }
        }
    }
    schema
}

/// The message for a name that is no operation, with the likeliest operations meant.
pub fn unknown_operation(name: &str, suggestions: &[&str]) -> CallToolResult {
    let mut text = format!("No operation is named `{name}`.");
    if !suggestions.is_empty() {
        text.push_str(&format!(
            " Did you mean {}?",
            suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    text.push_str(&format!(
        " Names are case-sensitive; {SEARCH_TOOL} finds operations by what they do."
    ));
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// Whether `tool` can be served as a resource: a GET that needs no argument.
pub fn is_resource_operation(tool: &ToolDescriptor, input_schema: &JsonObject) -> bool {
    tool.plan.method == HttpMethod::Get
        && input_schema
            .get("required")
            .and_then(Value::as_array)
            .is_none_or(|r| r.is_empty())
}

/// The resource entry of the API document.
pub fn spec_resource(api_title: &str, size: usize) -> Resource {
    api_spec_resource(SPEC_URI.to_owned(), "openapi".to_owned(), api_title, size)
}

/// The URI of the document of the API `name` of a server of several APIs.
pub fn api_spec_uri(name: &str) -> String {
    format!("openapi://{name}/spec")
}

/// The resource of an API document at `uri`.
pub fn api_spec_resource(uri: String, name: String, api_title: &str, size: usize) -> Resource {
    Resource::new(uri, name)
        .with_title(format!("OpenAPI document of the {api_title} API"))
        .with_description(
            "The API document the tools are generated from (OpenAPI 3.1, limited to the \
             operations this server offers).",
        )
        .with_mime_type("application/json")
        .with_size(size as u64)
}

/// How a resource (or resource template) of a GET operation describes itself.
pub fn resource_description(tool: &ToolDescriptor) -> String {
    format!(
        "GET {}: {}",
        tool.plan.path,
        one_line_summary(tool.description, 200)
    )
}

/// The media type of what reading an operation's resource gives: the documented one of a
/// resource the document names, else JSON for an operation with an output schema, text for
/// others.
pub fn resource_mime_type(tool: &ToolDescriptor) -> &'static str {
    match tool.resource.and_then(|r| r.mime_type) {
        Some(documented) => documented,
        None if tool.output_schema.is_some() => "application/json",
        None => "text/plain",
    }
}

/// The resource entry of a GET operation read at `uri`.
pub fn operation_resource(uri: &str, tool: &ToolDescriptor) -> Resource {
    let mut resource = Resource::new(uri, tool.name)
        .with_description(resource_description(tool))
        .with_mime_type(resource_mime_type(tool));
    if let Some(title) = tool.title {
        resource = resource.with_title(title);
    }
    resource
}

/// Whether text of the media type `media` (lower case) is read as text, not bytes.
fn is_textual(media: &str) -> bool {
    media.starts_with("text/")
        || media.ends_with("json")
        || media.ends_with("xml")
        || media.contains("yaml")
}

/// The contents of the resource `uri` of the operation `tool`, from a call's result. Binary
/// content (an image, audio, other bytes) is a blob of the resource's own URI, without the
/// text that only says what the bytes are; text is JSON when the answer was, else of the
/// documented type when that is text.
pub fn resource_contents(
    uri: &str,
    tool: &ToolDescriptor,
    result: CallToolResult,
) -> Vec<ResourceContents> {
    let text_type = if result.structured_content.is_some() {
        "application/json"
    } else {
        tool.resource
            .and_then(|r| r.mime_type)
            .filter(|media| is_textual(media))
            .unwrap_or("text/plain")
    };
    let binary = result
        .content
        .iter()
        .any(|block| !matches!(block, ContentBlock::Text(_)));
    let blob = |mime_type: String, blob: String| ResourceContents::BlobResourceContents {
        uri: uri.to_owned(),
        mime_type: Some(mime_type),
        blob,
        meta: None,
    };
    result
        .content
        .into_iter()
        .filter_map(|block| match block {
            ContentBlock::Text(_) if binary => None,
            ContentBlock::Text(text) => Some(ResourceContents::TextResourceContents {
                uri: uri.to_owned(),
                mime_type: Some(text_type.to_owned()),
                text: text.text,
                meta: None,
            }),
            ContentBlock::Image(image) => Some(blob(image.mime_type, image.data)),
            ContentBlock::Audio(audio) => Some(blob(audio.mime_type, audio.data)),
            ContentBlock::Resource(embedded) => Some(match embedded.resource {
                ResourceContents::BlobResourceContents {
                    mime_type, blob, ..
                } => ResourceContents::BlobResourceContents {
                    uri: uri.to_owned(),
                    mime_type,
                    blob,
                    meta: None,
                },
                text => text,
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::TOOL;
    use super::*;

    #[test]
    fn described_operations_carry_no_header_marks() {
        let listed = json!({
            "type": "object",
            "properties": {
                "X-Request-Id": {"type": "string", "x-mcp-header": "X-Request-Id"},
                "limit": {"type": "integer"}
            },
            "additionalProperties": false
        });
        let Value::Object(listed) = listed else {
            unreachable!()
        };
        let described = describe(&TOOL, &listed, TOOL.output_schema)
            .structured_content
            .unwrap();
        assert_eq!(
            described["inputSchema"],
            json!({
                "type": "object",
                "properties": {
                    "X-Request-Id": {"type": "string"},
                    "limit": {"type": "integer"}
                },
                "additionalProperties": false
            })
        );
        assert_eq!(
            listed["properties"]["X-Request-Id"][HEADER_MARK], "X-Request-Id",
            "the listed schema keeps its marks"
        );
    }
}
