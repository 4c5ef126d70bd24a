//! TypeScript-style declarations of operations, as code mode's `describe_operation` shows them:
//! the call a script makes (`api.<name>(args)`) with its argument and result types derived from
//! the JSON Schemas (enums as unions of literals, optional properties marked `?`, descriptions
//! as doc comments), and the named types the schemas share (`$defs`). Far fewer tokens than
//! the schemas themselves, in the form a model writes code against.
//!
//! Declarations are bounded: nesting deeper than a limit becomes `unknown`, and a declaration
//! that would still be too long is rendered again with less depth.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::descriptor::ToolDescriptor;

/// The longest declaration returned, in bytes (about 4,000 tokens).
const MAX_DECLARATION: usize = 16 * 1024;
/// Nesting depths tried, deepest first, until the declaration fits.
const DEPTHS: [usize; 5] = [8, 5, 3, 2, 1];
/// Descriptions of arguments and properties are cut here.
const PROPERTY_DOC_CHARS: usize = 200;
/// The operation's own description is cut here.
const OPERATION_DOC_CHARS: usize = 1000;
/// An enum lists at most this many values; a longer one is its base type.
const MAX_ENUM_VALUES: usize = 40;
/// At most this many named types are declared after the call.
const MAX_NAMED_TYPES: usize = 40;

/// The declaration of `tool`: its call as a script writes it, then the types it names.
/// `input_schema`: the arguments as listed (with `_fields` where offered); `output_schema`:
/// the answer's schema as clients see it, if the operation has one.
pub fn declaration(
    tool: &ToolDescriptor,
    input_schema: &Map<String, Value>,
    output_schema: Option<&str>,
) -> String {
    let output: Option<Value> = output_schema.and_then(|s| serde_json::from_str(s).ok());
    let mut last = String::new();
    for depth in DEPTHS {
        last = render(tool, input_schema, output.as_ref(), depth);
        if last.len() <= MAX_DECLARATION {
            return last;
        }
    }
    // Even one level is too long (thousands of properties): cut, and say where the rest is.
    let mut cut = last.len().min(MAX_DECLARATION);
    while !last.is_char_boundary(cut) {
        cut -= 1;
    }
    last.truncate(cut);
    last.push_str("\n// ... cut: the declaration is too long to show whole.\n");
    last
}

/// The declaration with nesting cut at `depth`.
fn render(
    tool: &ToolDescriptor,
    input: &Map<String, Value>,
    output: Option<&Value>,
    depth: usize,
) -> String {
    let mut out = String::from("/**\n");
    let mut doc = String::new();
    if let Some(title) = tool.title
        && !tool.description.starts_with(title)
    {
        doc.push_str(title);
        doc.push('\n');
    }
    doc.push_str(&cut_chars(tool.description.trim(), OPERATION_DOC_CHARS));
    for line in doc.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str(" *\n");
        } else {
            let _ = writeln!(out, " * {}", comment_safe(line));
        }
    }
    let _ = writeln!(out, " * {} {}", tool.plan.method.as_str(), tool.plan.path);
    if tool.hints.destructive && !tool.hints.read_only {
        out.push_str(" * Changes or removes data.\n");
    }
    out.push_str(" */\n");

    let input_value = Value::Object(input.clone());
    let mut types = Types::new(&input_value, depth);
    let args = types.ty(&input_value, 0, 0);
    let optional = input
        .get("required")
        .and_then(Value::as_array)
        .is_none_or(|r| r.is_empty());
    // The answer's schema has `$defs` of its own.
    let (result, output_defs) = match output {
        Some(schema) => {
            let answer = if tool.output_wrapped {
                schema.pointer("/properties/result").unwrap_or(schema)
            } else {
                schema
            };
            let mut answer_types = Types::new(schema, depth);
            let result = answer_types.ty(answer, 0, 0);
            (result, answer_types.finish())
        }
        None => ("string".to_owned(), Vec::new()),
    };
    let _ = writeln!(
        out,
        "{}(args{}: {args}): Promise<{result}>;",
        call_of(tool.name),
        if optional { "?" } else { "" }
    );
    let mut declared: Vec<String> = Vec::new();
    for (name, body) in types.finish().into_iter().chain(output_defs) {
        if declared.contains(&name) {
            continue;
        }
        let _ = writeln!(out, "type {name} = {body};");
        declared.push(name);
    }
    out
}

/// `api.name`, or `api["name"]` for a name that is not an identifier.
fn call_of(name: &str) -> String {
    if is_identifier(name) {
        format!("api.{name}")
    } else {
        format!("api[{}]", Value::String(name.to_owned()))
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Renders the types of one schema document, collecting the named types (`$defs`) it refers
/// to.
struct Types<'a> {
    /// The document's `$defs` (or `definitions`).
    defs: Option<&'a Map<String, Value>>,
    /// Deeper nesting is `unknown`.
    max_depth: usize,
    /// Named types referred to, by name, in the order first met; `None` until rendered.
    named: BTreeMap<String, (usize, Option<String>)>,
}

impl<'a> Types<'a> {
    fn new(root: &'a Value, max_depth: usize) -> Self {
        let defs = root
            .get("$defs")
            .or_else(|| root.get("definitions"))
            .and_then(Value::as_object);
        Types {
            defs,
            max_depth,
            named: BTreeMap::new(),
        }
    }

    /// The named types met, rendered, in the order they were first referred to.
    fn finish(mut self) -> Vec<(String, String)> {
        // Rendering one may refer to more: render until none is left.
        while let Some(name) = self
            .named
            .iter()
            .filter(|(_, (_, body))| body.is_none())
            .min_by_key(|(_, (order, _))| *order)
            .map(|(name, _)| name.clone())
        {
            let schema = self
                .defs
                .and_then(|defs| defs.iter().find(|(key, _)| type_name(key) == name))
                .map(|(_, schema)| schema);
            let body = match schema {
                Some(schema) => self.ty(schema, 1, 0),
                None => "unknown".to_owned(),
            };
            if let Some(entry) = self.named.get_mut(&name) {
                entry.1 = Some(body);
            }
        }
        let mut named: Vec<(usize, String, String)> = self
            .named
            .into_iter()
            .map(|(name, (order, body))| (order, name, body.unwrap_or_default()))
            .collect();
        named.sort_by_key(|(order, _, _)| *order);
        named
            .into_iter()
            .map(|(_, name, body)| (name, body))
            .collect()
    }

    /// The type of `schema` at nesting `depth`, its lines indented by `indent` levels.
    fn ty(&mut self, schema: &Value, depth: usize, indent: usize) -> String {
        let Some(map) = schema.as_object() else {
            return match schema {
                Value::Bool(false) => "never".to_owned(),
                _ => "unknown".to_owned(),
            };
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            return self.reference(reference);
        }
        if let Some(constant) = map.get("const") {
            return literal(constant).unwrap_or_else(|| "unknown".to_owned());
        }
        if let Some(values) = map.get("enum").and_then(Value::as_array)
            && values.len() <= MAX_ENUM_VALUES
        {
            let literals: Option<Vec<String>> = values.iter().map(literal).collect();
            if let Some(literals) = literals
                && !literals.is_empty()
            {
                return union(literals);
            }
        }
        let mut parts = Vec::new();
        for key in ["oneOf", "anyOf"] {
            if let Some(alternatives) = map.get(key).and_then(Value::as_array) {
                let members = alternatives
                    .iter()
                    .map(|a| self.ty(a, depth, indent))
                    .collect();
                parts.push(parenthesised(union(members)));
            }
        }
        if let Some(all) = map.get("allOf").and_then(Value::as_array) {
            for member in all {
                parts.push(parenthesised(self.ty(member, depth, indent)));
            }
        }
        let base = self.base(map, depth, indent);
        if base != "unknown" || parts.is_empty() {
            parts.insert(0, parenthesised(base));
        }
        let mut ty = if parts.len() == 1 {
            unparenthesised(parts.remove(0))
        } else {
            parts.join(" & ")
        };
        if map.get("nullable") == Some(&Value::Bool(true)) && !ty.ends_with("| null") {
            ty = format!("{ty} | null");
        }
        ty
    }

    /// The type the `type` keyword (and the keywords of that type) give.
    fn base(&mut self, map: &Map<String, Value>, depth: usize, indent: usize) -> String {
        let types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if map.contains_key("properties") || map.contains_key("additionalProperties") => {
                vec!["object"]
            }
            _ if map.contains_key("items") => vec!["array"],
            _ => Vec::new(),
        };
        if types.is_empty() {
            return "unknown".to_owned();
        }
        let members = types
            .into_iter()
            .map(|t| match t {
                "string" => "string".to_owned(),
                "integer" | "number" => "number".to_owned(),
                "boolean" => "boolean".to_owned(),
                "null" => "null".to_owned(),
                "array" => self.array(map, depth, indent),
                "object" => self.object(map, depth, indent),
                _ => "unknown".to_owned(),
            })
            .collect();
        union(members)
    }

    fn array(&mut self, map: &Map<String, Value>, depth: usize, indent: usize) -> String {
        if depth >= self.max_depth {
            return "unknown[]".to_owned();
        }
        let item = match map.get("items") {
            Some(items) => self.ty(items, depth + 1, indent),
            None => "unknown".to_owned(),
        };
        if item.contains(' ') && !item.starts_with('{') || item.contains('\n') {
            format!("Array<{item}>")
        } else {
            format!("{item}[]")
        }
    }

    fn object(&mut self, map: &Map<String, Value>, depth: usize, indent: usize) -> String {
        let properties = map.get("properties").and_then(Value::as_object);
        let extra = map.get("additionalProperties");
        if properties.is_none_or(|p| p.is_empty()) {
            return match extra {
                Some(Value::Bool(false)) => "{}".to_owned(),
                Some(schema @ Value::Object(_)) if depth < self.max_depth => {
                    format!("Record<string, {}>", self.ty(schema, depth + 1, indent))
                }
                _ => "Record<string, unknown>".to_owned(),
            };
        }
        if depth >= self.max_depth {
            return "Record<string, unknown>".to_owned();
        }
        let properties = properties.into_iter().flatten();
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let pad = "  ".repeat(indent + 1);
        let mut members = Vec::new();
        let mut documented = false;
        for (name, schema) in properties {
            let ty = self.ty(schema, depth + 1, indent + 1);
            let key = if is_identifier(name) {
                name.clone()
            } else {
                Value::String(name.clone()).to_string()
            };
            let mark = if required.contains(&name.as_str()) {
                ""
            } else {
                "?"
            };
            let doc = property_doc(schema);
            documented |= doc.is_some();
            members.push((doc, format!("{key}{mark}: {ty};")));
        }
        if let Some(schema @ Value::Object(_)) = extra {
            let ty = self.ty(schema, depth + 1, indent + 1);
            members.push((None, format!("[key: string]: {ty};")));
        }
        let inline: usize = members.iter().map(|(_, m)| m.len() + 1).sum();
        if !documented && inline <= 80 && members.iter().all(|(_, m)| !m.contains('\n')) {
            let body: Vec<&str> = members
                .iter()
                .map(|(_, m)| m.trim_end_matches(';'))
                .collect();
            return format!("{{ {} }}", body.join("; "));
        }
        let mut out = String::from("{\n");
        for (doc, member) in members {
            if let Some(doc) = doc {
                let _ = writeln!(out, "{pad}/** {doc} */");
            }
            let _ = writeln!(out, "{pad}{member}");
        }
        out.push_str(&"  ".repeat(indent));
        out.push('}');
        out
    }

    /// A named type for a local `$ref` to `$defs` or `definitions`; `unknown` for others.
    fn reference(&mut self, reference: &str) -> String {
        let key = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"));
        let Some(key) = key.filter(|k| !k.contains('/')) else {
            return "unknown".to_owned();
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        if self.defs.is_none_or(|defs| !defs.contains_key(&key)) {
            return "unknown".to_owned();
        }
        let name = type_name(&key);
        let order = self.named.len();
        if order >= MAX_NAMED_TYPES && !self.named.contains_key(&name) {
            return "unknown".to_owned();
        }
        self.named.entry(name.clone()).or_insert((order, None));
        name
    }
}

/// A `$defs` key as a TypeScript type name: letters, digits and `_`, starting with a letter.
fn type_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert(0, 'T');
    }
    name
}

/// A JSON scalar as a TypeScript literal type.
fn literal(value: &Value) -> Option<String> {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {
            Some(value.to_string())
        }
        _ => None,
    }
}

/// `a | b | c`, each member once.
fn union(members: Vec<String>) -> String {
    let mut unique: Vec<String> = Vec::new();
    for member in members {
        if !unique.contains(&member) {
            unique.push(member);
        }
    }
    if unique.iter().any(|m| m == "unknown") {
        return "unknown".to_owned();
    }
    unique.join(" | ")
}

/// A union or intersection in parentheses, so that it can be a member of another.
fn parenthesised(ty: String) -> String {
    if (ty.contains(" | ") || ty.contains(" & ")) && !ty.starts_with('{') {
        format!("({ty})")
    } else {
        ty
    }
}

fn unparenthesised(ty: String) -> String {
    match ty.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) if !inner.contains('(') => inner.to_owned(),
        _ => ty,
    }
}

/// The doc comment of a property: its description (cut), and the constraints a script must
/// meet or may rely on.
fn property_doc(schema: &Value) -> Option<String> {
    let map = schema.as_object()?;
    let mut parts: Vec<String> = Vec::new();
    if let Some(description) = map
        .get("description")
        .or_else(|| map.get("title"))
        .and_then(Value::as_str)
    {
        let line = description.split_whitespace().collect::<Vec<_>>().join(" ");
        if !line.is_empty() {
            parts.push(cut_chars(&line, PROPERTY_DOC_CHARS));
        }
    }
    let mut facts = Vec::new();
    if let Some(format) = map.get("format").and_then(Value::as_str) {
        facts.push(format!("format: {format}"));
    }
    for (key, word) in [
        ("minimum", "min"),
        ("maximum", "max"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("maxItems", "max items"),
    ] {
        if let Some(n) = map.get(key).filter(|v| v.is_number()) {
            facts.push(format!("{word} {n}"));
        }
    }
    if let Some(pattern) = map.get("pattern").and_then(Value::as_str)
        && pattern.len() <= 60
    {
        facts.push(format!("pattern {pattern}"));
    }
    if let Some(default) = map.get("default").and_then(literal) {
        facts.push(format!("default {default}"));
    }
    if map.get("deprecated") == Some(&Value::Bool(true)) {
        facts.push("deprecated".to_owned());
    }
    if !facts.is_empty() {
        parts.push(format!("({})", facts.join(", ")));
    }
    (!parts.is_empty()).then(|| comment_safe(&parts.join(" ")))
}

/// Text that cannot end the comment it is in.
fn comment_safe(text: &str) -> String {
    text.replace("*/", "*\\/")
}

fn cut_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::{CallPlan, HttpMethod, ToolDescriptor, ToolHints};
    use super::super::tests::TOOL;
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    static LIST: ToolDescriptor = ToolDescriptor {
        name: "listPets",
        description: "List all pets.",
        output_wrapped: true,
        ..TOOL
    };

    #[test]
    fn arguments_and_answers_become_types() {
        let input = object(json!({
            "type": "object",
            "properties": {
                "limit": {"type": "integer", "maximum": 100, "description": "How many to return."},
                "status": {"type": "string", "enum": ["available", "sold"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "x-trace": {"type": ["string", "null"]}
            },
            "required": ["status"],
            "additionalProperties": false
        }));
        let output = json!({
            "type": "object",
            "properties": {"result": {"type": "array", "items": {"$ref": "#/$defs/Pet"}}},
            "$defs": {
                "Pet": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {
                        "id": {"type": "integer", "format": "int64"},
                        "name": {"type": "string"},
                        "owner": {"$ref": "#/$defs/Owner"}
                    }
                },
                "Owner": {"type": "object", "properties": {"login": {"type": "string"}}}
            }
        })
        .to_string();
        let text = declaration(&LIST, &input, Some(&output));
        assert_eq!(
            text,
            "/**\n * List all pets.\n * GET /thing\n */\n\
             api.listPets(args: {\n  \
               /** How many to return. (max 100) */\n  \
               limit?: number;\n  \
               status: \"available\" | \"sold\";\n  \
               tags?: string[];\n  \
               \"x-trace\"?: string | null;\n\
             }): Promise<Pet[]>;\n\
             type Pet = {\n  \
               /** (format: int64) */\n  \
               id: number;\n  \
               name: string;\n  \
               owner?: Owner;\n\
             };\n\
             type Owner = { login?: string };\n"
        );
    }

    #[test]
    fn optional_arguments_and_text_answers() {
        let input = object(json!({"type": "object", "properties": {}}));
        let tool = ToolDescriptor {
            name: "get-thing",
            plan: CallPlan {
                method: HttpMethod::Delete,
                ..TOOL.plan
            },
            hints: ToolHints {
                read_only: false,
                destructive: true,
                idempotent: true,
            },
            ..TOOL
        };
        let text = declaration(&tool, &input, None);
        assert!(
            text.ends_with(
                " * DELETE /thing\n * Changes or removes data.\n */\n\
                 api[\"get-thing\"](args?: Record<string, unknown>): Promise<string>;\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn combinators_and_comments_stay_well_formed() {
        let input = object(json!({
            "type": "object",
            "properties": {
                "body": {
                    "oneOf": [
                        {"type": "object", "properties": {"a": {"const": 1}}, "required": ["a"]},
                        {"type": "string", "description": "ends a comment */ here"}
                    ]
                },
                "both": {"allOf": [{"$ref": "#/$defs/A"}, {"type": "object", "properties": {"b": {"type": "boolean"}}}]},
                "n": {"type": "number", "nullable": true, "description": "a */ b"}
            },
            "$defs": {"A": {"type": "object", "additionalProperties": {"type": "integer"}}}
        }));
        let text = declaration(&TOOL, &input, None);
        assert!(text.contains("body?: { a: 1 } | string;"), "{text}");
        assert!(text.contains("both?: A & { b?: boolean };"), "{text}");
        assert!(text.contains("/** a *\\/ b */"), "{text}");
        assert!(text.contains("n?: number | null;"), "{text}");
        assert!(text.contains("type A = Record<string, number>;"), "{text}");
    }

    #[test]
    fn recursive_and_huge_schemas_stay_bounded() {
        // A tree refers to itself: declared once, by name.
        let input = object(json!({
            "type": "object",
            "properties": {"node": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}}
        }));
        let text = declaration(&TOOL, &input, None);
        assert!(
            text.contains("type Node = { children?: Node[] };"),
            "{text}"
        );

        // Nesting without names is cut at a depth.
        let mut deep = json!({"type": "string"});
        for _ in 0..50 {
            deep = json!({"type": "object", "properties": {"inner": deep}});
        }
        let text = declaration(&TOOL, &object(deep), None);
        assert!(text.contains("Record<string, unknown>"), "{text}");
        assert!(text.len() < 2000, "{}", text.len());

        // Thousands of documented properties: shallower, then cut.
        let properties: Map<String, Value> = (0..5000)
            .map(|i| {
                (
                    format!("p{i}"),
                    json!({"type": "object", "description": "x".repeat(100), "properties": {"q": {"type": "string"}}}),
                )
            })
            .collect();
        let text = declaration(
            &TOOL,
            &object(json!({"type": "object", "properties": properties})),
            None,
        );
        assert!(text.len() <= MAX_DECLARATION + 100, "{}", text.len());
        assert!(text.ends_with("too long to show whole.\n"), "{text}");
    }
}
