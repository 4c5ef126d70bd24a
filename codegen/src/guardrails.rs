//! Guardrails chosen at generation time: which fields of answers are masked, how often callers
//! may call, where the audit log goes and which calls need the user's confirmation. They are
//! written into the generated server's tables as defaults; the server's flags and environment
//! override them at run time (the runtime parses both the same way).
//!
//! ```toml
//! confirm = "destructive"                  # none | destructive | writes
//! confirm_operations = ["tag:billing"]     # also ask for these, whatever their method
//!
//! [masking]
//! fields = ["card.number=last4", "/owner/email"]   # in every tool's answer
//! formats = ["password"]                   # properties of these formats, in every answer
//! detectors = ["card", "iban"]             # card, iban, bearer, api_key
//! [masking.getCustomer]                    # an operation, or "tag:NAME"
//! fields = ["ssn"]
//!
//! [rate_limits]
//! per_caller = "10/s"                      # N/s, N/m, N/h
//! global = "100/s"
//! max_concurrent_per_caller = 4
//! unauthenticated = "60/m"
//! [rate_limits.deletePet]
//! per_caller = "1/m"
//!
//! [audit]
//! log = "-"                                # a path, or - for stderr
//! ```

use std::collections::HashMap;

use serde_json::Value;

use crate::model::Operation;
use crate::pointer::push_token;
use crate::select::{SelectionError, resolve_operation};
use crate::settings::SettingValue;
use crate::tools::ApiSpec;

/// The schema keyword that marks a property as masked (`true`, or `redact`, `remove`,
/// `last4`). Kept through schema conversion, read here and then removed.
pub const MASK_MARK: &str = "x-mcpgen-mask";

/// The detectors the runtime knows.
const DETECTORS: &[&str] = &["card", "iban", "bearer", "api_key"];

/// The guardrail settings of one layer (see [`crate::Settings`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuardrailSettings {
    /// Fields masked in every answer.
    pub mask_fields: Vec<String>,
    /// Schema formats whose properties are masked in every answer.
    pub mask_formats: Vec<String>,
    /// Detectors of secrets in every answer.
    pub mask_detectors: Vec<String>,
    /// Fields masked in the answers of some operations: (selector, fields).
    pub tool_masks: Vec<(String, Vec<String>)>,
    /// Calls per caller over all tools.
    pub rate_limit: Option<String>,
    /// Calls of all callers together.
    pub global_rate_limit: Option<String>,
    /// Calls one caller may have under way at once.
    pub max_concurrent_per_caller: Option<usize>,
    /// HTTP requests without valid credentials per peer address.
    pub unauthenticated_rate_limit: Option<String>,
    /// Calls per caller of some operations: (selector, rate).
    pub tool_rate_limits: Vec<(String, String)>,
    /// Where the audit log goes.
    pub audit_log: Option<String>,
    /// Which calls need confirmation: `none`, `destructive` or `writes`.
    pub confirm: Option<String>,
    /// Operations whose calls need confirmation whatever their method.
    pub confirm_operations: Vec<String>,
}

/// The setting keys this module reads.
pub const KEYS: &[&str] = &[
    "masking",
    "rate_limits",
    "audit",
    "confirm",
    "confirm_operations",
];

impl GuardrailSettings {
    /// These settings with `over` on top: values `over` sets win, lists are joined.
    pub fn then(mut self, over: GuardrailSettings) -> GuardrailSettings {
        self.mask_fields.extend(over.mask_fields);
        self.mask_formats.extend(over.mask_formats);
        self.mask_detectors.extend(over.mask_detectors);
        self.tool_masks.extend(over.tool_masks);
        self.tool_rate_limits.extend(over.tool_rate_limits);
        self.confirm_operations.extend(over.confirm_operations);
        GuardrailSettings {
            rate_limit: over.rate_limit.or(self.rate_limit),
            global_rate_limit: over.global_rate_limit.or(self.global_rate_limit),
            max_concurrent_per_caller: over
                .max_concurrent_per_caller
                .or(self.max_concurrent_per_caller),
            unauthenticated_rate_limit: over
                .unauthenticated_rate_limit
                .or(self.unauthenticated_rate_limit),
            audit_log: over.audit_log.or(self.audit_log),
            confirm: over.confirm.or(self.confirm),
            ..self
        }
    }

    /// Reads one of [`KEYS`].
    pub fn set(&mut self, key: &str, value: SettingValue) -> Result<(), String> {
        match key {
            "masking" => self.set_masking(entries(key, value)?),
            "rate_limits" => self.set_rate_limits(entries(key, value)?),
            "audit" => {
                for (name, value) in entries(key, value)? {
                    match name.as_str() {
                        "log" => self.audit_log = Some(text(&format!("audit.{name}"), value)?),
                        other => return Err(unknown("audit", other, &["log"])),
                    }
                }
                Ok(())
            }
            "confirm" => {
                let mode = text(key, value)?;
                if !["none", "destructive", "writes"].contains(&mode.as_str()) {
                    return Err(format!(
                        "`confirm` is `none`, `destructive` or `writes`, not `{mode}`"
                    ));
                }
                self.confirm = Some(mode);
                Ok(())
            }
            "confirm_operations" => {
                self.confirm_operations.extend(list(key, value)?);
                Ok(())
            }
            other => Err(format!("`{other}` is not a guardrail setting")),
        }
    }

    fn set_masking(&mut self, entries: Vec<(String, SettingValue)>) -> Result<(), String> {
        for (name, value) in entries {
            let here = format!("masking.{name}");
            match name.as_str() {
                "fields" => {
                    let fields = list(&here, value)?;
                    fields.iter().try_for_each(|f| check_mask_field(&here, f))?;
                    self.mask_fields.extend(fields);
                }
                "formats" => self.mask_formats.extend(list(&here, value)?),
                "detectors" => {
                    let names = list(&here, value)?;
                    if let Some(bad) = names.iter().find(|n| !DETECTORS.contains(&n.as_str())) {
                        return Err(format!(
                            "`{here}`: unknown detector `{bad}`; the detectors are: {}",
                            DETECTORS.join(", ")
                        ));
                    }
                    self.mask_detectors.extend(names);
                }
                // `[masking.<operation or tag:NAME>]`
                selector => {
                    let mut fields = Vec::new();
                    for (key, value) in entries_of(&here, value, &["fields"])? {
                        let at = format!("{here}.{key}");
                        fields = list(&at, value)?;
                        fields.iter().try_for_each(|f| check_mask_field(&at, f))?;
                    }
                    self.tool_masks.push((selector.to_owned(), fields));
                }
            }
        }
        Ok(())
    }

    fn set_rate_limits(&mut self, entries: Vec<(String, SettingValue)>) -> Result<(), String> {
        for (name, value) in entries {
            let here = format!("rate_limits.{name}");
            match name.as_str() {
                "per_caller" => self.rate_limit = Some(rate(&here, value)?),
                "global" => self.global_rate_limit = Some(rate(&here, value)?),
                "unauthenticated" => self.unauthenticated_rate_limit = Some(rate(&here, value)?),
                "max_concurrent_per_caller" => match value {
                    SettingValue::Int(n) if n > 0 => {
                        self.max_concurrent_per_caller =
                            Some(usize::try_from(n).map_err(|_| format!("`{here}` is too large"))?);
                    }
                    _ => return Err(format!("`{here}` must be a whole number above 0")),
                },
                // `[rate_limits.<operation or tag:NAME>]`
                selector => {
                    for (key, value) in entries_of(&here, value, &["per_caller"])? {
                        let rate = rate(&format!("{here}.{key}"), value)?;
                        self.tool_rate_limits.push((selector.to_owned(), rate));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The entries of a table value.
fn entries(key: &str, value: SettingValue) -> Result<Vec<(String, SettingValue)>, String> {
    match value {
        SettingValue::Map(entries) => Ok(entries),
        SettingValue::Table(entries) => Ok(entries
            .into_iter()
            .map(|(k, v)| (k, SettingValue::Str(v)))
            .collect()),
        _ => Err(format!("`{key}` must be a table")),
    }
}

/// The entries of a table value whose keys must be among `known`.
fn entries_of(
    key: &str,
    value: SettingValue,
    known: &[&str],
) -> Result<Vec<(String, SettingValue)>, String> {
    let entries = entries(key, value)?;
    match entries.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        Some((other, _)) => Err(unknown(key, other, known)),
        None => Ok(entries),
    }
}

fn unknown(table: &str, key: &str, known: &[&str]) -> String {
    format!(
        "`{table}` has no setting `{key}`; it takes: {}",
        known.join(", ")
    )
}

fn text(key: &str, value: SettingValue) -> Result<String, String> {
    match value {
        SettingValue::Str(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("`{key}` must be a non-empty string")),
    }
}

fn list(key: &str, value: SettingValue) -> Result<Vec<String>, String> {
    match value {
        SettingValue::List(items) => Ok(items),
        SettingValue::Str(one) => Ok(vec![one]),
        _ => Err(format!("`{key}` must be a list of strings")),
    }
}

fn rate(key: &str, value: SettingValue) -> Result<String, String> {
    let text = text(key, value)?;
    check_rate(&text).map_err(|problem| format!("`{key}`: {problem}"))?;
    Ok(text)
}

/// Checks a rate as the runtime reads it: `N/s`, `N/m` (or `N/min`) or `N/h`, N above 0.
pub fn check_rate(text: &str) -> Result<(), String> {
    let (count, unit) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not a rate; write N/s, N/m or N/h (e.g. 10/s)"))?;
    let count_ok = count.trim().parse::<u32>().is_ok_and(|n| n > 0);
    let unit_ok = matches!(unit.trim(), "s" | "m" | "min" | "h");
    if count_ok && unit_ok {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not a rate; write N/s, N/m or N/h with N a whole number above 0"
        ))
    }
}

/// Checks a masked field: a dotted path or JSON pointer, then optionally `=redact`,
/// `=remove` or `=last4`.
fn check_mask_field(key: &str, field: &str) -> Result<(), String> {
    let (path, action) = match field.rsplit_once('=') {
        Some((path, action)) => (path, Some(action.trim())),
        None => (field, None),
    };
    if let Some(action) = action
        && !["redact", "remove", "last4"].contains(&action)
    {
        return Err(format!(
            "`{key}`: `{field}` masks with `{action}`; write PATH, PATH=redact, PATH=remove or \
             PATH=last4"
        ));
    }
    let path = path.trim();
    let empty_segment = match path.strip_prefix('/') {
        Some(pointer) => pointer.split('/').any(str::is_empty),
        None => path.split('.').any(str::is_empty),
    };
    if empty_segment {
        return Err(format!(
            "`{key}`: `{field}` is not a field path (a dotted path like `card.number` or a JSON \
             pointer like `/card/number`)"
        ));
    }
    Ok(())
}

/// Puts the guardrails into the tools: the server's values, each operation's masked fields
/// (from the settings and its answer schema's marks), rate limits and confirmation.
pub fn apply(
    api: &mut ApiSpec,
    operations: &[Operation],
    settings: &GuardrailSettings,
) -> Result<(), SelectionError> {
    // The tools of each operation (a method and a path identify it), found once: a document
    // can have a hundred thousand operations.
    let mut tools_by_operation: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, tool) in api.tools.iter().enumerate() {
        tools_by_operation
            .entry((tool.plan.method.clone(), tool.plan.path.clone()))
            .or_default()
            .push(i);
    }
    let tools_of = |op: &Operation| -> Vec<usize> {
        tools_by_operation
            .get(&(op.method.to_ascii_uppercase(), op.path.clone()))
            .cloned()
            .unwrap_or_default()
    };
    for op in operations {
        let (mask, confirm) = (&op.extension.mask, op.extension.confirm);
        for i in tools_of(op) {
            let tool = &mut api.tools[i].guardrails;
            tool.masked_fields.extend(mask.iter().cloned());
            tool.confirm |= confirm;
        }
    }
    for (selector, fields) in &settings.tool_masks {
        for op in operations_named(selector, operations, "masking")? {
            for i in tools_of(&operations[op]) {
                let tool = &mut api.tools[i].guardrails;
                tool.masked_fields.extend(fields.iter().cloned());
            }
        }
    }
    for (selector, rate) in &settings.tool_rate_limits {
        for op in operations_named(selector, operations, "rate_limits")? {
            for i in tools_of(&operations[op]) {
                api.tools[i].guardrails.rate_limit = Some(rate.clone());
            }
        }
    }
    for selector in &settings.confirm_operations {
        for op in operations_named(selector, operations, "confirm_operations")? {
            for i in tools_of(&operations[op]) {
                api.tools[i].guardrails.confirm = true;
            }
        }
    }
    for tool in &mut api.tools {
        if let Some(schema) = &tool.output_schema {
            let start = if tool.output_wrapped {
                "/properties/result"
            } else {
                ""
            };
            let marked = marked_fields(schema, start, &settings.mask_formats);
            tool.guardrails.masked_fields.extend(marked);
        }
        strip_marks(&mut tool.input_schema, 0);
        if let Some(schema) = &mut tool.output_schema {
            strip_marks(schema, 0);
        }
    }
    api.guardrails = settings.clone();
    Ok(())
}

/// The operations `selector` names: `tag:NAME` (every operation with the tag) or one
/// operation (its operationId, or `METHOD /path`).
pub(crate) fn operations_named(
    selector: &str,
    operations: &[Operation],
    setting: &'static str,
) -> Result<Vec<usize>, SelectionError> {
    let Some(tag) = selector.strip_prefix("tag:") else {
        return resolve_operation(selector, operations, setting);
    };
    let found: Vec<usize> = operations
        .iter()
        .enumerate()
        .filter(|(_, op)| op.tags.iter().any(|t| t == tag))
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        return Err(SelectionError {
            setting,
            message: format!("no selected operation has the tag `{tag}`"),
        });
    }
    Ok(found)
}

/// At most this many marked fields per answer, and schema nodes visited to find them: a schema
/// whose references fan out has more paths than can be walked. Past either bound, each marked
/// property is masked by its name at any depth (`/**/name`): more than was asked, never less.
const MAX_MARKS: usize = 256;
const MAX_VISITS: usize = 20_000;

/// The answer fields (JSON pointers; `*` for any key, `**` for any depth) whose schema is
/// marked with [`MASK_MARK`] or has a masked `format`, in an output schema whose answer sits
/// at `start`.
fn marked_fields(schema: &Value, start: &str, formats: &[String]) -> Vec<String> {
    // Most schemas have no mark: one pass over them says so.
    if !has_mark(schema, formats, 0) {
        return Vec::new();
    }
    let mut walk = MarkWalk {
        root: schema,
        formats,
        recursive: recursive_defs(schema),
        on_the_way: Vec::new(),
        out: Vec::new(),
        visits: 0,
    };
    walk.visit(start, String::new(), None);
    if walk.visits > MAX_VISITS || walk.out.len() >= MAX_MARKS {
        let mut by_name = Vec::new();
        walk.marked_names(schema, &mut by_name, 0);
        return by_name;
    }
    walk.out
}

/// Whether anything in `schema` is marked or of a masked format.
fn has_mark(schema: &Value, formats: &[String], depth: usize) -> bool {
    if depth > 256 {
        return false;
    }
    match schema {
        Value::Object(map) => {
            map.contains_key(MASK_MARK)
                || map
                    .get("format")
                    .and_then(Value::as_str)
                    .is_some_and(|f| formats.iter().any(|m| m == f))
                || map.values().any(|v| has_mark(v, formats, depth + 1))
        }
        Value::Array(items) => items.iter().any(|v| has_mark(v, formats, depth + 1)),
        _ => false,
    }
}

/// The definitions (`/$defs/NAME`) that reach themselves through `$ref`s.
fn recursive_defs(root: &Value) -> Vec<String> {
    fn refs_in(value: &Value, out: &mut Vec<String>, depth: usize) {
        if depth > 256 {
            return;
        }
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref")
                    && let Some(def) = target.strip_prefix('#')
                    && !out.iter().any(|d| d == def)
                {
                    out.push(def.to_owned());
                }
                map.values().for_each(|v| refs_in(v, out, depth + 1));
            }
            Value::Array(items) => items.iter().for_each(|v| refs_in(v, out, depth + 1)),
            _ => {}
        }
    }
    let Some(Value::Object(defs)) = root.get("$defs") else {
        return Vec::new();
    };
    let direct: Vec<(String, Vec<String>)> = defs
        .iter()
        .map(|(name, schema)| {
            let mut refs = Vec::new();
            refs_in(schema, &mut refs, 0);
            (push_token("/$defs", name), refs)
        })
        .collect();
    let reaches = |from: &str| -> Vec<&str> {
        direct
            .iter()
            .find(|(d, _)| d == from)
            .map(|(_, refs)| refs.iter().map(String::as_str).collect())
            .unwrap_or_default()
    };
    direct
        .iter()
        .filter(|(def, _)| {
            let mut seen: Vec<&str> = Vec::new();
            let mut next: Vec<&str> = reaches(def);
            while let Some(d) = next.pop() {
                if d == def {
                    return true;
                }
                if !seen.contains(&d) {
                    seen.push(d);
                    next.extend(reaches(d));
                }
            }
            false
        })
        .map(|(def, _)| def.clone())
        .collect()
}

struct MarkWalk<'a> {
    root: &'a Value,
    formats: &'a [String],
    /// Definitions that reach themselves: below one, marks hold at any depth.
    recursive: Vec<String>,
    /// The definitions followed to get here, so that a cycle is walked once.
    on_the_way: Vec<String>,
    out: Vec<String>,
    visits: usize,
}

impl MarkWalk<'_> {
    /// Visits the schema at pointer `at`, which describes the answer's `field`. `cycle`: the
    /// field where the walk entered a recursive definition, if it did.
    fn visit(&mut self, at: &str, field: String, cycle: Option<&str>) {
        let root = self.root;
        let Some(node) = root.pointer(at).and_then(Value::as_object) else {
            return;
        };
        self.visits += 1;
        if self.out.len() >= MAX_MARKS || self.visits > MAX_VISITS || self.on_the_way.len() > 64 {
            return;
        }
        if let Some(action) = self.mark(node)
            && !field.is_empty()
        {
            // Below a recursive definition the same field recurs deeper: `**` covers it.
            let masked = match cycle {
                Some(entry) => format!("{entry}/**{}={action}", &field[entry.len()..]),
                None => format!("{field}={action}"),
            };
            if !self.out.contains(&masked) {
                self.out.push(masked);
            }
            return;
        }
        if let Some(target) = node.get("$ref").and_then(Value::as_str)
            && let Some(def) = target.strip_prefix('#')
            && !self.on_the_way.iter().any(|d| d == def)
        {
            let enters_cycle = cycle.is_none() && self.recursive.iter().any(|d| d == def);
            let entry = if enters_cycle {
                Some(field.as_str())
            } else {
                cycle
            };
            let entry = entry.map(str::to_owned);
            self.on_the_way.push(def.to_owned());
            self.visit(def, field.clone(), entry.as_deref());
            self.on_the_way.pop();
        }
        for combinator in ["allOf", "anyOf", "oneOf"] {
            let count = node
                .get(combinator)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..count {
                self.visit(&format!("{at}/{combinator}/{i}"), field.clone(), cycle);
            }
        }
        if node.get("items").is_some_and(Value::is_object) {
            self.visit(&format!("{at}/items"), field.clone(), cycle);
        }
        if let Some(Value::Object(properties)) = node.get("properties") {
            for key in properties.keys() {
                self.visit(
                    &push_token(&format!("{at}/properties"), key),
                    push_token(&field, key),
                    cycle,
                );
            }
        }
        if node
            .get("additionalProperties")
            .is_some_and(Value::is_object)
        {
            self.visit(
                &format!("{at}/additionalProperties"),
                format!("{field}/*"),
                cycle,
            );
        }
    }

    /// `/**/NAME=ACTION` for every property of the schema that is marked (directly, or through
    /// the definition it refers to): the answer's fields of that name, at any depth.
    fn marked_names(&self, value: &Value, out: &mut Vec<String>, depth: usize) {
        if depth > 256 {
            return;
        }
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    for (name, schema) in properties {
                        let target = schema
                            .get("$ref")
                            .and_then(Value::as_str)
                            .and_then(|r| r.strip_prefix('#'))
                            .and_then(|r| self.root.pointer(r))
                            .unwrap_or(schema);
                        let action = [schema, target]
                            .into_iter()
                            .filter_map(Value::as_object)
                            .find_map(|node| self.mark(node));
                        if let Some(action) = action {
                            let masked = format!("{}={action}", push_token("/**", name));
                            if !out.contains(&masked) {
                                out.push(masked);
                            }
                        }
                    }
                }
                map.values()
                    .for_each(|v| self.marked_names(v, out, depth + 1));
            }
            Value::Array(items) => items
                .iter()
                .for_each(|v| self.marked_names(v, out, depth + 1)),
            _ => {}
        }
    }

    /// How a schema node is marked: [`MASK_MARK`], or a masked `format`.
    fn mark(&self, node: &serde_json::Map<String, Value>) -> Option<&'static str> {
        match node.get(MASK_MARK) {
            Some(Value::Bool(true)) => Some("redact"),
            Some(Value::String(action)) => ["redact", "remove", "last4"]
                .into_iter()
                .find(|a| a == action),
            _ => node
                .get("format")
                .and_then(Value::as_str)
                .filter(|f| self.formats.iter().any(|m| m == f))
                .map(|_| "redact"),
        }
    }
}

/// Removes [`MASK_MARK`] everywhere in a schema.
fn strip_marks(schema: &mut Value, depth: usize) {
    if depth > 256 {
        return;
    }
    match schema {
        Value::Object(map) => {
            map.remove(MASK_MARK);
            map.values_mut().for_each(|v| strip_marks(v, depth + 1));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_marks(v, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rates_and_fields_are_checked() {
        assert!(check_rate("10/s").is_ok());
        assert!(check_rate("1/min").is_ok());
        assert!(check_rate("0/s").is_err());
        assert!(check_rate("10 per second").unwrap_err().contains("N/s"));
        assert!(check_mask_field("k", "a.b=last4").is_ok());
        assert!(check_mask_field("k", "/a/b").is_ok());
        assert!(
            check_mask_field("k", "a.b=hide")
                .unwrap_err()
                .contains("PATH=remove")
        );
        assert!(check_mask_field("k", "a..b").is_err());
    }

    #[test]
    fn tables_are_read_and_layered() {
        let mut base = GuardrailSettings::default();
        base.set(
            "masking",
            SettingValue::Map(vec![
                ("fields".into(), SettingValue::List(vec!["a".into()])),
                ("detectors".into(), SettingValue::List(vec!["card".into()])),
                (
                    "tag:billing".into(),
                    SettingValue::Map(vec![(
                        "fields".into(),
                        SettingValue::List(vec!["iban=last4".into()]),
                    )]),
                ),
            ]),
        )
        .unwrap();
        base.set(
            "rate_limits",
            SettingValue::Table(vec![("per_caller".into(), "5/m".into())]),
        )
        .unwrap();
        let err = base
            .clone()
            .set(
                "masking",
                SettingValue::Map(vec![(
                    "detectors".into(),
                    SettingValue::List(vec!["cards".into()]),
                )]),
            )
            .unwrap_err();
        assert!(err.contains("card, iban, bearer, api_key"), "{err}");
        let err = base
            .clone()
            .set(
                "rate_limits",
                SettingValue::Map(vec![(
                    "deletePet".into(),
                    SettingValue::Map(vec![("per_callr".into(), SettingValue::Str("1/s".into()))]),
                )]),
            )
            .unwrap_err();
        assert!(err.contains("takes: per_caller"), "{err}");

        let mut over = GuardrailSettings::default();
        over.set(
            "rate_limits",
            SettingValue::Table(vec![("per_caller".into(), "9/s".into())]),
        )
        .unwrap();
        over.set(
            "masking",
            SettingValue::Map(vec![(
                "fields".into(),
                SettingValue::List(vec!["b".into()]),
            )]),
        )
        .unwrap();
        let both = base.then(over);
        assert_eq!(both.rate_limit.as_deref(), Some("9/s"));
        assert_eq!(both.mask_fields, ["a", "b"]);
        assert_eq!(
            both.tool_masks,
            [("tag:billing".to_owned(), vec!["iban=last4".to_owned()])]
        );
    }

    #[test]
    fn marked_properties_become_masked_fields() {
        let schema = json!({
            "type": "object",
            "properties": {
                "card": {"$ref": "#/$defs/Card"},
                "owner": {"type": "object", "properties": {"password": {"type": "string", "format": "password"}}},
                "tags": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string", MASK_MARK: "remove"}}},
                "a/b": {"type": "string", MASK_MARK: true},
                "next": {"$ref": "#/$defs/Card"}
            },
            "$defs": {"Card": {"allOf": [{"properties": {"number": {"type": "string", MASK_MARK: "last4"}, "next": {"$ref": "#/$defs/Card"}}}]}}
        });
        let mut out = marked_fields(&schema, "", &["password".into()]);
        out.sort();
        // Card is recursive: its number is masked at any depth below where it starts.
        assert_eq!(
            out,
            [
                "/a~1b=redact",
                "/card/**/number=last4",
                "/next/**/number=last4",
                "/owner/password=redact",
                "/tags/*=remove",
            ]
        );

        // References that fan out: 2^30 paths lead to the marked field.
        let mut defs = serde_json::Map::new();
        for level in 0..30 {
            let next = json!({"$ref": format!("#/$defs/L{}", level + 1)});
            defs.insert(
                format!("L{level}"),
                json!({"type": "object", "properties": {"left": next, "right": next}}),
            );
        }
        defs.insert(
            "L30".into(),
            json!({"type": "object", "properties": {"pin": {"type": "string", MASK_MARK: true}}}),
        );
        let fan_out = json!({"$ref": "#/$defs/L0", "$defs": defs});
        assert_eq!(marked_fields(&fan_out, "", &[]), ["/**/pin=redact"]);
    }
}
