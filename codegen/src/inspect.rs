//! The size of the tool list a document gives an agent, and what would shrink it: a budget
//! report for choosing what to expose.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::tools::{ApiSpec, ToolSpec};

/// Bytes per token in the estimate: JSON Schema text tokenizes at roughly four bytes per token
/// with current models' tokenizers (English prose is closer to 4.5, dense JSON closer to 3.5).
pub const BYTES_PER_TOKEN: usize = 4;

/// How the tool list of one document weighs.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Operations in the document.
    pub operations: usize,
    /// Tools generated.
    pub tools: usize,
    /// Bytes of the `tools/list` result.
    pub list_bytes: usize,
    /// Per tool: name, operation, bytes, of which description, input schema, output schema.
    pub per_tool: Vec<ToolWeight>,
    /// Bytes by tag (a tool with several tags counts under each).
    pub by_tag: BTreeMap<String, usize>,
}

/// The weight of one tool in `tools/list`.
#[derive(Debug, Clone)]
pub struct ToolWeight {
    /// Tool name.
    pub name: String,
    /// `METHOD /path`.
    pub operation: String,
    /// Total bytes.
    pub bytes: usize,
    /// Bytes of its description.
    pub description: usize,
    /// Bytes of its input schema.
    pub input: usize,
    /// Bytes of its output schema.
    pub output: usize,
}

/// The tool as `tools/list` sends it.
pub fn tool_json(tool: &ToolSpec) -> Value {
    let mut value = json!({
        "name": tool.name,
        "description": tool.description,
        "inputSchema": tool.input_schema,
        "annotations": {
            "readOnlyHint": tool.hints.read_only,
            "idempotentHint": tool.hints.idempotent,
            "openWorldHint": true,
        },
    });
    if let Some(title) = &tool.title {
        value["title"] = json!(title);
    }
    if let Some(output) = &tool.output_schema {
        value["outputSchema"] = output.clone();
    }
    value
}

fn size(value: &Value) -> usize {
    serde_json::to_string(value).map(|s| s.len()).unwrap_or(0)
}

/// Weighs the tools of `api`, generated from `operations` operations.
pub fn budget(api: &ApiSpec, operations: usize) -> Budget {
    let mut per_tool = Vec::with_capacity(api.tools.len());
    let mut by_tag: BTreeMap<String, usize> = BTreeMap::new();
    let mut list_bytes = r#"{"tools":[]}"#.len();
    for tool in &api.tools {
        let bytes = size(&tool_json(tool));
        list_bytes += bytes + 1;
        for tag in &tool.tags {
            *by_tag.entry(tag.clone()).or_default() += bytes;
        }
        per_tool.push(ToolWeight {
            name: tool.name.clone(),
            operation: format!("{} {}", tool.plan.method, tool.plan.path),
            bytes,
            description: tool.description.len(),
            input: size(&tool.input_schema),
            output: tool.output_schema.as_ref().map_or(0, size),
        });
    }
    per_tool.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    Budget {
        operations,
        tools: api.tools.len(),
        list_bytes,
        per_tool,
        by_tag,
    }
}

impl Budget {
    /// Estimated tokens of the whole list.
    pub fn tokens(&self) -> usize {
        self.list_bytes.div_ceil(BYTES_PER_TOKEN)
    }

    /// What would cut the most, largest saving first: tags to exclude, output schemas,
    /// descriptions.
    pub fn suggestions(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = self
            .by_tag
            .iter()
            .map(|(tag, bytes)| (format!("exclude tag `{tag}`"), *bytes))
            .collect();
        let outputs: usize = self.per_tool.iter().map(|t| t.output).sum();
        if outputs > 0 {
            out.push(("leave out output schemas".to_owned(), outputs));
        }
        let long_descriptions: usize = self
            .per_tool
            .iter()
            .map(|t| t.description.saturating_sub(300))
            .sum();
        if long_descriptions > 0 {
            out.push((
                "cut descriptions to 300 characters".to_owned(),
                long_descriptions,
            ));
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(10);
        out
    }

    /// The report as text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "operations: {}\ntools: {}\ntools/list: {} bytes, about {} tokens ({} bytes per token)\n",
            self.operations,
            self.tools,
            self.list_bytes,
            self.tokens(),
            BYTES_PER_TOKEN
        );
        out.push_str(
            "\nheaviest tools (bytes: total = description + input schema + output schema + rest)\n",
        );
        for t in self.per_tool.iter().take(20) {
            out.push_str(&format!(
                "  {:>8}  {} ({}): {} + {} + {}\n",
                t.bytes, t.name, t.operation, t.description, t.input, t.output
            ));
        }
        let suggestions = self.suggestions();
        if !suggestions.is_empty() {
            out.push_str("\nwhat would cut most\n");
            for (what, bytes) in suggestions {
                out.push_str(&format!(
                    "  {:>8} bytes ({:.0}%)  {what}\n",
                    bytes,
                    100.0 * bytes as f64 / self.list_bytes.max(1) as f64
                ));
            }
        }
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "operations": self.operations,
            "tools": self.tools,
            "listBytes": self.list_bytes,
            "estimatedTokens": self.tokens(),
            "bytesPerToken": BYTES_PER_TOKEN,
            "heaviest": self.per_tool.iter().take(20).map(|t| json!({
                "name": t.name, "operation": t.operation, "bytes": t.bytes,
                "descriptionBytes": t.description, "inputSchemaBytes": t.input,
                "outputSchemaBytes": t.output,
            })).collect::<Vec<_>>(),
            "byTag": self.by_tag,
            "suggestions": self.suggestions().into_iter().map(|(what, bytes)| json!({"change": what, "savesBytes": bytes})).collect::<Vec<_>>(),
        })
    }
}
