//! Compares the tool surface two versions of a document give an agent: tools added, removed
//! or renamed; arguments added, removed, newly required or retyped; output schemas and
//! resources changed.
//! Each change says whether it breaks callers written against the old surface.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::tools::{ApiSpec, ResourceSpec, ToolSpec};

/// One change to the tool surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The tool (the new name for renames).
    pub tool: String,
    /// What kind of change.
    pub kind: ChangeKind,
    /// Human-readable detail.
    pub detail: String,
    /// Whether existing callers may break.
    pub breaking: bool,
}

/// Kinds of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// A tool disappeared.
    ToolRemoved,
    /// A tool was renamed (same method and path).
    ToolRenamed,
    /// A tool appeared.
    ToolAdded,
    /// An argument disappeared.
    ArgumentRemoved,
    /// An argument appeared.
    ArgumentAdded,
    /// An existing argument became required.
    ArgumentNowRequired,
    /// An argument's type changed.
    ArgumentTypeChanged,
    /// The output schema changed.
    OutputChanged,
    /// The method's annotations changed (e.g. no longer read-only).
    HintsChanged,
    /// The operation's resource appeared, disappeared, or moved to another URI or media type.
    ResourceChanged,
}

impl ChangeKind {
    /// A stable identifier for machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::ToolRemoved => "tool_removed",
            ChangeKind::ToolRenamed => "tool_renamed",
            ChangeKind::ToolAdded => "tool_added",
            ChangeKind::ArgumentRemoved => "argument_removed",
            ChangeKind::ArgumentAdded => "argument_added",
            ChangeKind::ArgumentNowRequired => "argument_now_required",
            ChangeKind::ArgumentTypeChanged => "argument_type_changed",
            ChangeKind::OutputChanged => "output_changed",
            ChangeKind::HintsChanged => "hints_changed",
            ChangeKind::ResourceChanged => "resource_changed",
        }
    }
}

/// How to keep tool names with dots, for renames that only the portable naming rule caused.
pub const KEEP_DOTTED_NAMES: &str =
    "keep the old names with --tool-names mcp (tool_names = \"mcp\")";

/// Whether renaming `old` to `new` is the portable naming rule at work: the old name has a
/// `.` where the new one has `_`.
pub fn is_dot_rename(old: &str, new: &str) -> bool {
    if !old.contains('.') || new.contains('.') {
        return false;
    }
    let portable = crate::tools::naming::ToolNames::Portable.sanitize(old, "tool");
    // `_2`, `_3`, ... when the portable name was taken already.
    new == portable
        || new.strip_prefix(&portable).is_some_and(|rest| {
            rest.strip_prefix('_')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

fn operation(tool: &ToolSpec) -> String {
    format!("{} {}", tool.plan.method, tool.plan.path)
}

/// The changes from `old` to `new`, tools in name order.
pub fn diff(old: &ApiSpec, new: &ApiSpec) -> Vec<Change> {
    let old_by_name: BTreeMap<&str, &ToolSpec> =
        old.tools.iter().map(|t| (t.name.as_str(), t)).collect();
    let new_by_name: BTreeMap<&str, &ToolSpec> =
        new.tools.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut changes = Vec::new();
    let mut renamed_old = BTreeSet::new();
    let mut renamed_new = BTreeSet::new();
    // A tool gone under one name and present under another for the same operation was renamed.
    for (name, tool) in &old_by_name {
        if new_by_name.contains_key(name) {
            continue;
        }
        if let Some(successor) = new
            .tools
            .iter()
            .find(|t| !old_by_name.contains_key(t.name.as_str()) && operation(t) == operation(tool))
        {
            renamed_old.insert(*name);
            renamed_new.insert(successor.name.as_str());
            let note = if is_dot_rename(name, &successor.name) {
                format!("; tool names no longer keep `.`: {KEEP_DOTTED_NAMES}")
            } else {
                String::new()
            };
            changes.push(Change {
                tool: successor.name.clone(),
                kind: ChangeKind::ToolRenamed,
                detail: format!("{name} -> {} ({}){note}", successor.name, operation(tool)),
                breaking: true,
            });
            compare_tool(tool, successor, &mut changes);
        }
    }
    for (name, tool) in &old_by_name {
        if !new_by_name.contains_key(name) && !renamed_old.contains(name) {
            changes.push(Change {
                tool: (*name).to_owned(),
                kind: ChangeKind::ToolRemoved,
                detail: operation(tool),
                breaking: true,
            });
        }
    }
    for (name, tool) in &new_by_name {
        match old_by_name.get(name) {
            Some(old_tool) => compare_tool(old_tool, tool, &mut changes),
            None if !renamed_new.contains(name) => changes.push(Change {
                tool: (*name).to_owned(),
                kind: ChangeKind::ToolAdded,
                detail: operation(tool),
                breaking: false,
            }),
            None => {}
        }
    }
    changes.sort_by(|a, b| (a.tool.as_str(), a.kind).cmp(&(b.tool.as_str(), b.kind)));
    changes
}

fn properties(schema: &Value) -> BTreeMap<String, Value> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn required(schema: &Value) -> BTreeSet<String> {
    crate::schema::string_list(schema.get("required"))
        .into_iter()
        .collect()
}

/// A short description of a schema's type, following one `$ref` level.
fn type_of(schema: &Value, root: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = crate::pointer::fragment_pointer(r);
        let target = pointer
            .as_deref()
            .and_then(|p| crate::pointer::value_at(root, p));
        return match target {
            Some(target) if target.get("$ref").is_none() => type_of(target, root),
            _ => {
                let name = pointer
                    .as_deref()
                    .and_then(|p| crate::pointer::tokens(p).last());
                format!("ref {}", name.as_deref().unwrap_or(r))
            }
        };
    }
    match schema.get("type") {
        Some(Value::String(t)) if t == "array" => {
            let items = schema
                .get("items")
                .map(|i| type_of(i, root))
                .unwrap_or_default();
            format!("array of {items}")
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema.get("properties").is_some() => "object".to_owned(),
        _ if schema.get("anyOf").is_some() || schema.get("oneOf").is_some() => "union".to_owned(),
        _ => "any".to_owned(),
    }
}

fn compare_tool(old: &ToolSpec, new: &ToolSpec, changes: &mut Vec<Change>) {
    let tool = new.name.clone();
    let (old_props, new_props) = (properties(&old.input_schema), properties(&new.input_schema));
    let (old_req, new_req) = (required(&old.input_schema), required(&new.input_schema));
    for (arg, schema) in &old_props {
        match new_props.get(arg) {
            None => changes.push(Change {
                tool: tool.clone(),
                kind: ChangeKind::ArgumentRemoved,
                detail: format!("argument `{arg}` removed"),
                breaking: true,
            }),
            Some(new_schema) => {
                let (before, after) = (
                    type_of(schema, &old.input_schema),
                    type_of(new_schema, &new.input_schema),
                );
                if before != after {
                    changes.push(Change {
                        tool: tool.clone(),
                        kind: ChangeKind::ArgumentTypeChanged,
                        detail: format!("argument `{arg}`: {before} -> {after}"),
                        breaking: true,
                    });
                }
                if new_req.contains(arg) && !old_req.contains(arg) {
                    changes.push(Change {
                        tool: tool.clone(),
                        kind: ChangeKind::ArgumentNowRequired,
                        detail: format!("argument `{arg}` is now required"),
                        breaking: true,
                    });
                }
            }
        }
    }
    for arg in new_props.keys() {
        if !old_props.contains_key(arg) {
            let is_required = new_req.contains(arg);
            changes.push(Change {
                tool: tool.clone(),
                kind: ChangeKind::ArgumentAdded,
                detail: format!(
                    "argument `{arg}` added{}",
                    if is_required { " (required)" } else { "" }
                ),
                breaking: is_required,
            });
        }
    }
    if old.output_schema != new.output_schema {
        let (before, after) = (old.output_schema.as_ref(), new.output_schema.as_ref());
        let removed: Vec<String> = match (before, after) {
            (Some(b), Some(a)) => {
                let a_props = properties(a);
                properties(b)
                    .into_keys()
                    .filter(|k| !a_props.contains_key(k))
                    .collect()
            }
            _ => Vec::new(),
        };
        let (detail, breaking) = match (before, after) {
            (Some(_), None) => ("no longer has an output schema".to_owned(), true),
            (None, Some(_)) => ("now has an output schema".to_owned(), false),
            _ if !removed.is_empty() => (
                format!("output fields removed: {}", removed.join(", ")),
                true,
            ),
            _ if old.output_wrapped != new.output_wrapped => {
                ("output is now wrapped differently".to_owned(), true)
            }
            _ => ("output schema changed".to_owned(), false),
        };
        changes.push(Change {
            tool: tool.clone(),
            kind: ChangeKind::OutputChanged,
            detail,
            breaking,
        });
    }
    if let Some((detail, breaking)) = resource_change(old.resource.as_ref(), new.resource.as_ref())
    {
        changes.push(Change {
            tool: tool.clone(),
            kind: ChangeKind::ResourceChanged,
            detail,
            breaking,
        });
    }
    if old.hints != new.hints {
        changes.push(Change {
            tool,
            kind: ChangeKind::HintsChanged,
            detail: format!(
                "read-only {} -> {}, destructive {} -> {}, idempotent {} -> {}",
                old.hints.read_only,
                new.hints.read_only,
                old.hints.destructive,
                new.hints.destructive,
                old.hints.idempotent,
                new.hints.idempotent
            ),
            breaking: old.hints.read_only && !new.hints.read_only,
        });
    }
}

/// How an operation's resource changed, and whether that breaks a client that reads the old
/// URI (or URI template) or expects the old media type; `None` when it did not.
fn resource_change(
    old: Option<&ResourceSpec>,
    new: Option<&ResourceSpec>,
) -> Option<(String, bool)> {
    let media = |r: &ResourceSpec| {
        r.mime_type
            .clone()
            .unwrap_or_else(|| "no media type".to_owned())
    };
    match (old, new) {
        (Some(old), None) => Some((format!("resource `{}` removed", old.uri), true)),
        (None, Some(new)) => Some((format!("resource `{}` added", new.uri), false)),
        (Some(old), Some(new)) if old.uri != new.uri => {
            Some((format!("resource `{}` -> `{}`", old.uri, new.uri), true))
        }
        (Some(old), Some(new)) if old.mime_type != new.mime_type => Some((
            format!("resource `{}`: {} -> {}", new.uri, media(old), media(new)),
            true,
        )),
        _ => None,
    }
}

/// The changes as JSON, for machines.
pub fn to_json(changes: &[Change]) -> Value {
    json!({
        "breaking": changes.iter().any(|c| c.breaking),
        "changes": changes.iter().map(|c| json!({
            "tool": c.tool,
            "kind": c.kind.as_str(),
            "detail": c.detail,
            "breaking": c.breaking,
        })).collect::<Vec<_>>(),
    })
}

/// The changes as text, one line each.
pub fn to_text(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no changes to the tool surface\n".to_owned();
    }
    let mut out = String::new();
    for c in changes {
        let sign = match c.kind {
            ChangeKind::ToolAdded => "+",
            ChangeKind::ToolRemoved => "-",
            _ => "~",
        };
        let what = match c.kind {
            ChangeKind::ToolAdded => format!("tool {} added ({})", c.tool, c.detail),
            ChangeKind::ToolRemoved => format!("tool {} removed ({})", c.tool, c.detail),
            ChangeKind::ToolRenamed => format!("tool renamed {}", c.detail),
            _ => format!("{}: {}", c.tool, c.detail),
        };
        out.push_str(&format!(
            "{sign} {what}{}\n",
            if c.breaking { "  [breaking]" } else { "" }
        ));
    }
    let breaking = changes.iter().filter(|c| c.breaking).count();
    out.push_str(&format!("{} changes, {breaking} breaking\n", changes.len()));
    let dotted = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::ToolRenamed && c.detail.contains(KEEP_DOTTED_NAMES))
        .count();
    if dotted > 0 {
        out.push_str(&format!(
            "note: {dotted} tools were renamed because tool names now match \
             ^[A-Za-z0-9_-]{{1,64}}$ (what Anthropic's and OpenAI's APIs accept); {KEEP_DOTTED_NAMES}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::type_of;
    use serde_json::json;

    #[test]
    fn a_reference_is_followed_by_its_decoded_name() {
        let root = json!({"$defs": {
            "Pet Owner": {"type": "object"},
            "Alias": {"$ref": "#/$defs/Pet%20Owner"},
            "a/b": {"type": "integer"},
        }});
        assert_eq!(
            type_of(&json!({"$ref": "#/$defs/Pet%20Owner"}), &root),
            "object"
        );
        assert_eq!(type_of(&json!({"$ref": "#/$defs/a~1b"}), &root), "integer");
        assert_eq!(
            type_of(&json!({"$ref": "#/$defs/Alias"}), &root),
            "ref Alias"
        );
        assert_eq!(
            type_of(&json!({"$ref": "#/$defs/Gone%21"}), &root),
            "ref Gone!"
        );
    }
}
