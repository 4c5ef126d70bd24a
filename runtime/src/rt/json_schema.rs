//! A JSON Schema 2020-12 validator: every assertion and applicator of the draft's core,
//! applicator, unevaluated and validation vocabularies, with `format` an annotation (the
//! draft's default). References resolve inside the schema: JSON pointers, `$anchor`s,
//! `$dynamicAnchor`s (read statically) and embedded `$id`s; nothing is fetched.
//!
//! A schema is compiled once into a flat table of nodes (`$ref` cycles are edges between
//! them), then each value is checked against it without allocating unless it fails or a node
//! needs `unevaluated*` bookkeeping. The work is bounded: compiling visits each schema
//! location once, a check descends at most [`MAX_DEPTH`] nodes deep, patterns run in linear
//! time, and `uniqueItems` hashes instead of comparing every pair.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use serde_json::{Map, Number, Value};

use super::pattern;

type NodeId = usize;

/// How deep a check may nest schema nodes; a `$ref` cycle that consumes nothing of the value
/// stops here instead of overflowing the stack.
const MAX_DEPTH: usize = 256;
/// Most bytes of a value quoted in a message.
const MAX_QUOTED: usize = 120;
/// Arrays longer than this are checked for duplicates by hashing.
const PAIRWISE_UNIQUE_MAX: usize = 16;

/// A compiled schema: node 0 is the root.
pub(super) struct CompiledSchema {
    nodes: Vec<Node>,
}

/// One problem with a value: where in it (a JSON pointer) and what.
#[derive(Debug)]
pub(super) struct Problem {
    pub(super) pointer: String,
    pub(super) message: String,
}

#[derive(Default)]
struct Node {
    /// The `true` or `false` schema.
    boolean: Option<bool>,
    keywords: Vec<Keyword>,
    /// `unevaluatedProperties` or `unevaluatedItems` is among the keywords: the node tracks
    /// which properties or items the others evaluated.
    tracks_evaluated: bool,
}

enum Keyword {
    Type(u8),
    Enum(Vec<Value>),
    Const(Value),
    MultipleOf(Number),
    Maximum(Number),
    ExclusiveMaximum(Number),
    Minimum(Number),
    ExclusiveMinimum(Number),
    MaxLength(u64),
    MinLength(u64),
    Pattern(Box<str>, regex_lite::Regex),
    MaxItems(u64),
    MinItems(u64),
    UniqueItems,
    MaxProperties(u64),
    MinProperties(u64),
    Required(Vec<Box<str>>),
    DependentRequired(Vec<(Box<str>, Vec<Box<str>>)>),
    Ref(NodeId),
    AllOf(Vec<NodeId>),
    AnyOf(Vec<NodeId>),
    OneOf(Vec<NodeId>),
    Not(NodeId),
    Conditional {
        condition: NodeId,
        then: Option<NodeId>,
        otherwise: Option<NodeId>,
    },
    DependentSchemas(Vec<(Box<str>, NodeId)>),
    Properties(Box<PropertySchemas>),
    PropertyNames(NodeId),
    Items {
        prefix: Vec<NodeId>,
        rest: Option<NodeId>,
    },
    Contains {
        schema: NodeId,
        min: u64,
        max: Option<u64>,
    },
    UnevaluatedProperties(NodeId),
    UnevaluatedItems(NodeId),
}

/// `properties`, `patternProperties` and `additionalProperties` together: the last applies
/// to what the first two do not match.
struct PropertySchemas {
    /// Sorted by name.
    named: Vec<(Box<str>, NodeId)>,
    patterns: Vec<(Box<str>, regex_lite::Regex, NodeId)>,
    additional: Option<NodeId>,
}

const TYPE_NAMES: [&str; 7] = [
    "null", "boolean", "object", "array", "number", "string", "integer",
];
const NULL: u8 = 1;
const BOOLEAN: u8 = 1 << 1;
const OBJECT: u8 = 1 << 2;
const ARRAY: u8 = 1 << 3;
const NUMBER: u8 = 1 << 4;
const STRING: u8 = 1 << 5;
const INTEGER: u8 = 1 << 6;

impl CompiledSchema {
    /// Compiles a schema; the error names the JSON pointer of what is wrong.
    pub(super) fn compile(root: &Value) -> Result<CompiledSchema, String> {
        Compiler::new(root).run()
    }

    pub(super) fn is_valid(&self, value: &Value) -> bool {
        let mut check = Check::new(&self.nodes, None);
        check.node(0, value, None)
    }

    /// The value's problems, at most `limit` of them; none when it is valid.
    pub(super) fn problems(&self, value: &Value, limit: usize) -> Vec<Problem> {
        let mut check = Check::new(&self.nodes, Some(limit.max(1)));
        check.node(0, value, None);
        check.problems.unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Checking values

/// Which of an object's properties (by position) or an array's items the keywords of a node
/// and its in-place subschemas evaluated, for `unevaluated*`.
type Marks = Vec<bool>;

#[derive(Clone, Copy)]
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

struct Check<'s, 'v> {
    nodes: &'s [Node],
    /// Collected problems; `None` while only validity matters (also inside `anyOf`, `not` and
    /// the like, whose subschemas' failures are summed up in one problem).
    problems: Option<Vec<Problem>>,
    limit: usize,
    /// The location in the value.
    path: Vec<Step<'v>>,
    depth: usize,
}

impl<'s, 'v> Check<'s, 'v> {
    fn new(nodes: &'s [Node], limit: Option<usize>) -> Self {
        Check {
            nodes,
            problems: limit.map(|_| Vec::new()),
            limit: limit.unwrap_or(0),
            path: Vec::new(),
            depth: 0,
        }
    }

    /// Whether a failure should be followed by further checks, to report them all.
    fn collecting(&self) -> bool {
        self.problems.as_ref().is_some_and(|p| p.len() < self.limit)
    }

    fn fail(&mut self, message: impl FnOnce() -> String) -> bool {
        if let Some(problems) = &mut self.problems
            && problems.len() < self.limit
        {
            let mut pointer = String::new();
            for step in &self.path {
                pointer.push('/');
                match step {
                    Step::Key(key) => pointer.push_str(&key.replace('~', "~0").replace('/', "~1")),
                    Step::Index(i) => pointer.push_str(&i.to_string()),
                }
            }
            problems.push(Problem {
                pointer,
                message: message(),
            });
        }
        false
    }

    /// Runs `f` with problems not collected: its failures are summed up by the caller.
    fn quietly<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = self.problems.take();
        let result = f(self);
        self.problems = saved;
        result
    }

    fn at<T>(&mut self, step: Step<'v>, f: impl FnOnce(&mut Self) -> T) -> T {
        self.path.push(step);
        let result = f(self);
        self.path.pop();
        result
    }

    fn node(&mut self, id: NodeId, value: &'v Value, mut marks: Option<&mut Marks>) -> bool {
        let nodes = self.nodes;
        let node = &nodes[id];
        if let Some(accepts) = node.boolean {
            // `true` evaluates nothing: only keywords mark properties and items evaluated.
            if !accepts {
                self.fail(|| format!("False schema does not allow {}", quote(value)));
            }
            return accepts;
        }
        if self.depth >= MAX_DEPTH {
            return self
                .fail(|| "the schema refers to itself too deeply to check this value".to_owned());
        }
        self.depth += 1;
        let mut own = node.tracks_evaluated.then(|| vec![false; children(value)]);
        let mut valid = true;
        {
            let mut marks_here = match own.as_mut() {
                Some(own) => Some(own),
                None => marks.as_deref_mut(),
            };
            for keyword in &node.keywords {
                if !self.keyword(keyword, value, marks_here.as_deref_mut()) {
                    valid = false;
                    if !self.collecting() {
                        break;
                    }
                }
            }
        }
        self.depth -= 1;
        if valid && let (Some(own), Some(marks)) = (own, marks) {
            merge(marks, &own);
        }
        valid
    }

    fn keyword(
        &mut self,
        keyword: &'s Keyword,
        value: &'v Value,
        marks: Option<&mut Marks>,
    ) -> bool {
        match keyword {
            Keyword::Type(mask) => {
                has_type(*mask, value) || self.fail(|| type_message(*mask, value))
            }
            Keyword::Enum(options) => {
                options.iter().any(|option| equal(option, value))
                    || self.fail(|| {
                        format!(
                            "{} is not one of {}",
                            quote(value),
                            quote(&Value::Array(options.clone()))
                        )
                    })
            }
            Keyword::Const(expected) => {
                equal(expected, value) || self.fail(|| format!("{} was expected", quote(expected)))
            }
            Keyword::MultipleOf(of) => match value {
                Value::Number(n) if !is_multiple_of(n, of) => {
                    self.fail(|| format!("{n} is not a multiple of {of}"))
                }
                _ => true,
            },
            Keyword::Maximum(limit) => self.bound(
                value,
                limit,
                |o| o != Ordering::Greater,
                "greater than the maximum of",
            ),
            Keyword::ExclusiveMaximum(limit) => self.bound(
                value,
                limit,
                |o| o == Ordering::Less,
                "greater than or equal to the maximum of",
            ),
            Keyword::Minimum(limit) => self.bound(
                value,
                limit,
                |o| o != Ordering::Less,
                "less than the minimum of",
            ),
            Keyword::ExclusiveMinimum(limit) => self.bound(
                value,
                limit,
                |o| o == Ordering::Greater,
                "less than or equal to the minimum of",
            ),
            Keyword::MaxLength(max) => match value {
                Value::String(s) if chars_over(s, *max) => self.fail(|| {
                    format!(
                        "{} is longer than {max} character{}",
                        quote(value),
                        plural(*max)
                    )
                }),
                _ => true,
            },
            Keyword::MinLength(min) => match value {
                Value::String(s) if !chars_over(s, min.saturating_sub(1)) && *min > 0 => {
                    self.fail(|| {
                        format!(
                            "{} is shorter than {min} character{}",
                            quote(value),
                            plural(*min)
                        )
                    })
                }
                _ => true,
            },
            Keyword::Pattern(source, regex) => match value {
                Value::String(s) if !regex.is_match(s) => {
                    self.fail(|| format!("{} does not match {}", quote(value), quote_str(source)))
                }
                _ => true,
            },
            Keyword::MaxItems(max) => match value {
                Value::Array(items) if items.len() as u64 > *max => self
                    .fail(|| format!("{} has more than {max} item{}", quote(value), plural(*max))),
                _ => true,
            },
            Keyword::MinItems(min) => match value {
                Value::Array(items) if (items.len() as u64) < *min => self
                    .fail(|| format!("{} has less than {min} item{}", quote(value), plural(*min))),
                _ => true,
            },
            Keyword::UniqueItems => match value {
                Value::Array(items) if has_duplicates(items) => {
                    self.fail(|| format!("{} has non-unique elements", quote(value)))
                }
                _ => true,
            },
            Keyword::MaxProperties(max) => match value {
                Value::Object(map) if map.len() as u64 > *max => self.fail(|| {
                    format!(
                        "{} has more than {max} propert{}",
                        quote(value),
                        if *max == 1 { "y" } else { "ies" }
                    )
                }),
                _ => true,
            },
            Keyword::MinProperties(min) => match value {
                Value::Object(map) if (map.len() as u64) < *min => self.fail(|| {
                    format!(
                        "{} has less than {min} propert{}",
                        quote(value),
                        if *min == 1 { "y" } else { "ies" }
                    )
                }),
                _ => true,
            },
            Keyword::Required(names) => match value {
                Value::Object(map) => self.required(map, names, None),
                _ => true,
            },
            Keyword::DependentRequired(dependencies) => match value {
                Value::Object(map) => {
                    let mut valid = true;
                    for (name, names) in dependencies {
                        if map.contains_key(name.as_ref()) && !self.required(map, names, Some(name))
                        {
                            valid = false;
                            if !self.collecting() {
                                break;
                            }
                        }
                    }
                    valid
                }
                _ => true,
            },
            Keyword::Ref(target) => self.node(*target, value, marks),
            Keyword::AllOf(schemas) => {
                let mut marks = marks;
                let mut valid = true;
                for &schema in schemas {
                    if !self.node(schema, value, marks.as_deref_mut()) {
                        valid = false;
                        if !self.collecting() {
                            break;
                        }
                    }
                }
                valid
            }
            Keyword::AnyOf(schemas) => {
                let valid = self.quietly(|check| {
                    let Some(marks) = marks else {
                        return schemas
                            .iter()
                            .any(|&schema| check.node(schema, value, None));
                    };
                    // Every valid branch's evaluations count, so all are tried.
                    let mut any = false;
                    for &schema in schemas {
                        let mut branch = vec![false; marks.len()];
                        if check.node(schema, value, Some(&mut branch)) {
                            any = true;
                            merge(marks, &branch);
                        }
                    }
                    any
                });
                valid || self.fail(|| combinator_message(value, "anyOf"))
            }
            Keyword::OneOf(schemas) => {
                let tracked = marks.is_some();
                let (valid_count, evaluated) = self.quietly(|check| {
                    let mut count = 0;
                    let mut evaluated = None;
                    for &schema in schemas {
                        let mut branch = tracked.then(|| vec![false; children(value)]);
                        if check.node(schema, value, branch.as_mut()) {
                            count += 1;
                            evaluated = branch;
                            if count > 1 {
                                break;
                            }
                        }
                    }
                    (count, evaluated)
                });
                match valid_count {
                    1 => {
                        if let (Some(marks), Some(evaluated)) = (marks, evaluated) {
                            merge(marks, &evaluated);
                        }
                        true
                    }
                    0 => self.fail(|| combinator_message(value, "oneOf")),
                    _ => self.fail(|| {
                        format!("{} is valid under more than one of the schemas listed in the 'oneOf' keyword", quote(value))
                    }),
                }
            }
            Keyword::Not(schema) => {
                let matched = self.quietly(|check| check.node(*schema, value, None));
                !matched
                    || self.fail(|| {
                        format!(
                            "{} is not allowed: it matches the schema under 'not'",
                            quote(value)
                        )
                    })
            }
            Keyword::Conditional {
                condition,
                then,
                otherwise,
            } => {
                let mut condition_marks = marks.as_ref().map(|m| vec![false; m.len()]);
                let holds =
                    self.quietly(|check| check.node(*condition, value, condition_marks.as_mut()));
                let mut marks = marks;
                if holds
                    && let (Some(marks), Some(evaluated)) = (marks.as_deref_mut(), &condition_marks)
                {
                    merge(marks, evaluated);
                }
                match if holds { then } else { otherwise } {
                    Some(branch) => self.node(*branch, value, marks),
                    None => true,
                }
            }
            Keyword::DependentSchemas(dependencies) => match value {
                Value::Object(map) => {
                    let mut marks = marks;
                    let mut valid = true;
                    for (name, schema) in dependencies {
                        if map.contains_key(name.as_ref())
                            && !self.node(*schema, value, marks.as_deref_mut())
                        {
                            valid = false;
                            if !self.collecting() {
                                break;
                            }
                        }
                    }
                    valid
                }
                _ => true,
            },
            Keyword::Properties(schemas) => match value {
                Value::Object(map) => self.properties(schemas, map, marks),
                _ => true,
            },
            Keyword::PropertyNames(schema) => match value {
                Value::Object(map) => {
                    let mut valid = true;
                    for name in map.keys() {
                        let name = Value::String(name.clone());
                        let mut inner =
                            Check::new(self.nodes, self.problems.as_ref().map(|_| self.limit));
                        inner.depth = self.depth;
                        if !inner.node(*schema, &name, None) {
                            valid = false;
                            for problem in inner.problems.into_iter().flatten() {
                                self.fail(|| format!("property name {}", problem.message));
                            }
                            if !self.collecting() {
                                break;
                            }
                        }
                    }
                    valid
                }
                _ => true,
            },
            Keyword::Items { prefix, rest } => match value {
                Value::Array(items) => self.items(prefix, *rest, items, marks),
                _ => true,
            },
            Keyword::Contains { schema, min, max } => {
                match value {
                    Value::Array(items) => {
                        let mut marks = marks;
                        let mut count = 0u64;
                        self.quietly(|check| {
                            for (i, item) in items.iter().enumerate() {
                                if check.node(*schema, item, None) {
                                    count += 1;
                                    if let Some(marks) = marks.as_deref_mut() {
                                        marks[i] = true;
                                    }
                                }
                            }
                        });
                        if count < *min {
                            return self.fail(|| {
                            if *min == 1 {
                                format!("None of {} are valid under the given schema", quote(value))
                            } else {
                                format!("{} has fewer than {min} items matching the 'contains' schema", quote(value))
                            }
                        });
                        }
                        match max {
                            Some(max) if count > *max => self.fail(|| {
                                format!(
                                    "{} has more than {max} items matching the 'contains' schema",
                                    quote(value)
                                )
                            }),
                            _ => true,
                        }
                    }
                    _ => true,
                }
            }
            Keyword::UnevaluatedProperties(schema) => match (value, marks) {
                (Value::Object(map), Some(marks)) => self.unevaluated(
                    *schema,
                    map.iter().map(|(k, v)| (Step::Key(k), v)),
                    marks,
                    "properties",
                ),
                _ => true,
            },
            Keyword::UnevaluatedItems(schema) => match (value, marks) {
                (Value::Array(items), Some(marks)) => self.unevaluated(
                    *schema,
                    items.iter().enumerate().map(|(i, v)| (Step::Index(i), v)),
                    marks,
                    "items",
                ),
                _ => true,
            },
        }
    }

    fn bound(
        &mut self,
        value: &Value,
        limit: &Number,
        allowed: impl Fn(Ordering) -> bool,
        what: &str,
    ) -> bool {
        match value {
            Value::Number(n) => match compare(n, limit) {
                Some(order) if !allowed(order) => self.fail(|| format!("{n} is {what} {limit}")),
                _ => true,
            },
            _ => true,
        }
    }

    fn required(
        &mut self,
        map: &Map<String, Value>,
        names: &[Box<str>],
        because: Option<&str>,
    ) -> bool {
        let mut valid = true;
        for name in names {
            if !map.contains_key(name.as_ref()) {
                valid = false;
                self.fail(|| match because {
                    Some(present) => format!(
                        "{} is a required property (because {} is present)",
                        quote_str(name),
                        quote_str(present)
                    ),
                    None => format!("{} is a required property", quote_str(name)),
                });
                if !self.collecting() {
                    break;
                }
            }
        }
        valid
    }

    fn properties(
        &mut self,
        schemas: &'s PropertySchemas,
        map: &'v Map<String, Value>,
        mut marks: Option<&mut Marks>,
    ) -> bool {
        let nodes = self.nodes;
        let mut valid = true;
        let mut unexpected: Vec<&str> = Vec::new();
        for (i, (name, item)) in map.iter().enumerate() {
            let mut matched = false;
            if let Ok(at) = schemas
                .named
                .binary_search_by(|(n, _)| n.as_ref().cmp(name.as_str()))
            {
                matched = true;
                valid &= self.at(Step::Key(name), |check| {
                    check.node(schemas.named[at].1, item, None)
                });
            }
            for (_, regex, schema) in &schemas.patterns {
                if (valid || self.collecting()) && regex.is_match(name) {
                    matched = true;
                    valid &= self.at(Step::Key(name), |check| check.node(*schema, item, None));
                }
            }
            if !matched && let Some(additional) = schemas.additional {
                matched = true;
                if nodes[additional].boolean == Some(false) {
                    valid = false;
                    unexpected.push(name);
                } else {
                    valid &= self.at(Step::Key(name), |check| check.node(additional, item, None));
                }
            }
            if matched && let Some(marks) = marks.as_deref_mut() {
                marks[i] = true;
            }
            if !valid && !self.collecting() {
                return false;
            }
        }
        if !unexpected.is_empty() {
            self.fail(|| not_allowed("Additional properties", &unexpected));
        }
        valid
    }

    fn items(
        &mut self,
        prefix: &[NodeId],
        rest: Option<NodeId>,
        items: &'v [Value],
        mut marks: Option<&mut Marks>,
    ) -> bool {
        let nodes = self.nodes;
        let mut valid = true;
        for (i, item) in items.iter().enumerate() {
            let schema = match prefix.get(i) {
                Some(schema) => *schema,
                None => match rest {
                    Some(rest) if nodes[rest].boolean == Some(false) => {
                        let count = prefix.len();
                        return self.fail(|| {
                            format!(
                                "only {count} item{} allowed, {} given",
                                plural(count as u64),
                                items.len()
                            )
                        });
                    }
                    Some(rest) => rest,
                    None => break,
                },
            };
            valid &= self.at(Step::Index(i), |check| check.node(schema, item, None));
            if let Some(marks) = marks.as_deref_mut() {
                marks[i] = true;
            }
            if !valid && !self.collecting() {
                return false;
            }
        }
        valid
    }

    fn unevaluated(
        &mut self,
        schema: NodeId,
        children: impl Iterator<Item = (Step<'v>, &'v Value)>,
        marks: &mut Marks,
        what: &str,
    ) -> bool {
        let refuses_all = self.nodes[schema].boolean == Some(false);
        let mut valid = true;
        let mut unexpected = Vec::new();
        for (i, (step, child)) in children.enumerate() {
            if marks[i] {
                continue;
            }
            if refuses_all {
                valid = false;
                unexpected.push(match step {
                    Step::Key(key) => key.to_owned(),
                    Step::Index(i) => i.to_string(),
                });
            } else if self.at(step, |check| check.node(schema, child, None)) {
                marks[i] = true;
            } else {
                valid = false;
                if !self.collecting() {
                    return false;
                }
            }
        }
        if !unexpected.is_empty() {
            let names: Vec<&str> = unexpected.iter().map(String::as_str).collect();
            let kind = if what == "items" {
                "Unevaluated items"
            } else {
                "Unevaluated properties"
            };
            self.fail(|| not_allowed(kind, &names));
        }
        valid
    }
}

fn children(value: &Value) -> usize {
    match value {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    }
}

fn merge(into: &mut Marks, from: &Marks) {
    for (to, from) in into.iter_mut().zip(from) {
        *to |= *from;
    }
}

fn has_type(mask: u8, value: &Value) -> bool {
    let actual = match value {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Object(_) => OBJECT,
        Value::Array(_) => ARRAY,
        Value::String(_) => STRING,
        Value::Number(n) => {
            if mask & NUMBER != 0 || is_integer(n) {
                NUMBER | INTEGER
            } else {
                NUMBER
            }
        }
    };
    mask & actual != 0
}

fn is_integer(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

fn type_message(mask: u8, value: &Value) -> String {
    let names: Vec<String> = TYPE_NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, name)| format!("\"{name}\""))
        .collect();
    if names.len() == 1 {
        format!("{} is not of type {}", quote(value), names[0])
    } else {
        format!("{} is not of types {}", quote(value), names.join(", "))
    }
}

fn combinator_message(value: &Value, keyword: &str) -> String {
    format!(
        "{} is not valid under any of the schemas listed in the '{keyword}' keyword",
        quote(value)
    )
}

fn not_allowed(what: &str, names: &[&str]) -> String {
    let listed: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let verb = if names.len() == 1 { "was" } else { "were" };
    format!(
        "{what} are not allowed ({} {verb} unexpected)",
        listed.join(", ")
    )
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Whether `s` has more than `max` code points, counting no further than needed.
fn chars_over(s: &str, max: u64) -> bool {
    if (s.len() as u64) <= max {
        return false;
    }
    s.chars()
        .nth(usize::try_from(max).unwrap_or(usize::MAX))
        .is_some()
}

/// A value as JSON, cut after [`MAX_QUOTED`] bytes: a huge argument is not copied whole into
/// a message.
fn quote(value: &Value) -> String {
    struct Bounded(Vec<u8>);
    impl std::io::Write for Bounded {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = MAX_QUOTED + 4 - self.0.len().min(MAX_QUOTED + 4);
            if room == 0 {
                return Err(std::io::Error::other("long enough"));
            }
            let take = buf.len().min(room);
            self.0.extend_from_slice(&buf[..take]);
            Ok(take)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Bounded(Vec::new());
    let complete = serde_json::to_writer(&mut out, value).is_ok() && out.0.len() <= MAX_QUOTED;
    let bytes = &out.0[..out.0.len().min(MAX_QUOTED)];
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    };
    if complete {
        text.to_owned()
    } else {
        format!("{text}…")
    }
}

fn quote_str(s: &str) -> String {
    quote(&Value::String(s.to_owned()))
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_i128(a), as_i128(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// JSON equality: numbers by value (`1` equals `1.0`), objects whatever their order.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => compare(a, b) == Some(Ordering::Equal),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equal(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `value` is a whole multiple of `of`, exactly for decimal numbers as written (`0.3`
/// is a multiple of `0.1`).
fn is_multiple_of(value: &Number, of: &Number) -> bool {
    if let (Some(v), Some(m)) = (as_i128(value), as_i128(of)) {
        return m != 0 && v % m == 0;
    }
    let (Some((vm, ve)), Some((mm, me))) = (decimal(value), decimal(of)) else {
        return false;
    };
    if mm == 0 {
        return false;
    }
    if ve >= me {
        // vm·10^(ve−me) mod mm, by modular exponentiation: mantissas have at most 17 digits,
        // so no product leaves an i128.
        let mut power = 1i128;
        let mut base = 10 % mm;
        let mut exponent = ve - me;
        while exponent > 0 {
            if exponent & 1 == 1 {
                power = power * base % mm;
            }
            base = base * base % mm;
            exponent >>= 1;
        }
        (vm % mm) * power % mm == 0
    } else {
        // mm·10^(me−ve) must divide vm, which has at most 17 digits.
        u32::try_from(me - ve)
            .ok()
            .and_then(|e| 10i128.checked_pow(e))
            .and_then(|p| p.checked_mul(mm))
            .is_some_and(|divisor| vm % divisor == 0)
    }
}

/// A finite number as `mantissa × 10^exponent`, from its shortest decimal form.
fn decimal(n: &Number) -> Option<(i128, i32)> {
    let f = n.as_f64().filter(|f| f.is_finite())?;
    let text = format!("{f:e}");
    let (mantissa, exponent) = text.split_once('e')?;
    let exponent: i32 = exponent.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: i128 = format!("{whole}{fraction}").parse().ok()?;
    Some((digits, exponent - i32::try_from(fraction.len()).ok()?))
}

fn has_duplicates(items: &[Value]) -> bool {
    if items.len() <= PAIRWISE_UNIQUE_MAX {
        return items
            .iter()
            .enumerate()
            .any(|(i, a)| items[i + 1..].iter().any(|b| equal(a, b)));
    }
    // Randomly keyed hashing: a caller cannot pick values that all collide.
    let keys = std::collections::hash_map::RandomState::new();
    let mut seen: HashMap<u64, Vec<&Value>> = HashMap::with_capacity(items.len());
    for item in items {
        let mut hasher = keys.build_hasher();
        hash_json(item, &keys, &mut hasher);
        let bucket = seen.entry(hasher.finish()).or_default();
        if bucket.iter().any(|other| equal(other, item)) {
            return true;
        }
        bucket.push(item);
    }
    false
}

/// Hashes a value so that values [`equal`] calls equal hash alike.
fn hash_json(value: &Value, keys: &impl BuildHasher, state: &mut impl Hasher) {
    match value {
        Value::Null => 0u8.hash(state),
        Value::Bool(b) => (1u8, b).hash(state),
        Value::Number(n) => {
            2u8.hash(state);
            let whole = as_i128(n).or_else(|| {
                let f = n.as_f64()?;
                (f.fract() == 0.0 && f.abs() < 1e30).then_some(f as i128)
            });
            match whole {
                Some(i) => (0u8, i).hash(state),
                None => (1u8, n.as_f64().unwrap_or_default().to_bits()).hash(state),
            }
        }
        Value::String(s) => (3u8, s).hash(state),
        Value::Array(items) => {
            (4u8, items.len()).hash(state);
            for item in items {
                hash_json(item, keys, state);
            }
        }
        Value::Object(map) => {
            // Order-independent: the members' hashes are summed.
            let mut sum = 0u64;
            for (key, item) in map {
                let mut member = keys.build_hasher();
                key.hash(&mut member);
                hash_json(item, keys, &mut member);
                sum = sum.wrapping_add(member.finish());
            }
            (5u8, map.len(), sum).hash(state);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling schemas

/// Keywords whose value is one schema, a list of schemas or a map of schemas: where `$anchor`s
/// and `$id`s can be, and what a `$ref` may point into.
const ONE_SCHEMA: &[&str] = &[
    "additionalProperties",
    "propertyNames",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
];
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
const SCHEMA_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

struct Compiler<'a> {
    root: &'a Value,
    nodes: Vec<Node>,
    /// The node of each schema location compiled or queued, by JSON pointer.
    at: HashMap<String, NodeId>,
    /// Locations still to compile.
    queue: Vec<(NodeId, String)>,
    /// `$anchor` and `$dynamicAnchor` names, and `$id`s, to the pointer of their schema.
    anchors: HashMap<String, String>,
    ids: HashMap<String, String>,
}

impl<'a> Compiler<'a> {
    fn new(root: &'a Value) -> Self {
        Compiler {
            root,
            nodes: Vec::new(),
            at: HashMap::new(),
            queue: Vec::new(),
            anchors: HashMap::new(),
            ids: HashMap::new(),
        }
    }

    fn run(mut self) -> Result<CompiledSchema, String> {
        self.find_anchors();
        self.node_for(String::new());
        while let Some((id, pointer)) = self.queue.pop() {
            let schema = self.root.pointer(&pointer).expect("queued locations exist");
            let node = self.compile_node(schema, &pointer)?;
            self.nodes[id] = node;
        }
        Ok(CompiledSchema { nodes: self.nodes })
    }

    /// Records every `$anchor`, `$dynamicAnchor` and `$id`, walking the schema's subschemas
    /// (not its data: a `const` holding `$anchor` is no anchor).
    fn find_anchors(&mut self) {
        let mut stack = vec![(String::new(), self.root)];
        while let Some((pointer, schema)) = stack.pop() {
            let Value::Object(map) = schema else { continue };
            for keyword in ["$anchor", "$dynamicAnchor"] {
                if let Some(Value::String(name)) = map.get(keyword) {
                    self.anchors
                        .entry(name.clone())
                        .or_insert_with(|| pointer.clone());
                }
            }
            if let Some(Value::String(id)) = map.get("$id") {
                let (base, _) = id.split_once('#').unwrap_or((id, ""));
                if !base.is_empty() {
                    self.ids
                        .entry(base.to_owned())
                        .or_insert_with(|| pointer.clone());
                }
            }
            for (key, sub) in map {
                let here = push(&pointer, key);
                if ONE_SCHEMA.contains(&key.as_str()) {
                    stack.push((here, sub));
                } else if SCHEMA_LISTS.contains(&key.as_str()) {
                    if let Value::Array(list) = sub {
                        for (i, item) in list.iter().enumerate() {
                            stack.push((push(&here, &i.to_string()), item));
                        }
                    }
                } else if SCHEMA_MAPS.contains(&key.as_str())
                    && let Value::Object(members) = sub
                {
                    for (name, item) in members {
                        stack.push((push(&here, name), item));
                    }
                }
            }
        }
    }

    /// The node of the schema at `pointer`, queued for compiling when new.
    fn node_for(&mut self, pointer: String) -> NodeId {
        if let Some(&id) = self.at.get(&pointer) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.at.insert(pointer.clone(), id);
        self.queue.push((id, pointer));
        id
    }

    /// A subschema under `parent`; it must be a schema.
    fn child(&mut self, parent: &str, key: &str, value: &Value) -> Result<NodeId, String> {
        let pointer = push(parent, key);
        if !matches!(value, Value::Object(_) | Value::Bool(_)) {
            return Err(format!(
                "`{pointer}` must be a schema (an object or a boolean)"
            ));
        }
        Ok(self.node_for(pointer))
    }

    fn child_list(
        &mut self,
        parent: &str,
        key: &str,
        value: &Value,
    ) -> Result<Vec<NodeId>, String> {
        let here = push(parent, key);
        match value {
            Value::Array(list) if !list.is_empty() => list
                .iter()
                .enumerate()
                .map(|(i, item)| self.child(&here, &i.to_string(), item))
                .collect(),
            _ => Err(format!("`{here}` must be a non-empty array of schemas")),
        }
    }

    fn child_map(
        &mut self,
        parent: &str,
        key: &str,
        value: &Value,
    ) -> Result<Vec<(Box<str>, NodeId)>, String> {
        let here = push(parent, key);
        let Value::Object(map) = value else {
            return Err(format!("`{here}` must be an object of schemas"));
        };
        map.iter()
            .map(|(name, item)| Ok((name.as_str().into(), self.child(&here, name, item)?)))
            .collect()
    }

    /// The pointer a reference names.
    fn resolve(&self, reference: &str, at: &str) -> Result<String, String> {
        let (base, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let document = if base.is_empty() {
            String::new()
        } else if let Some(pointer) = self.ids.get(base) {
            pointer.clone()
        } else {
            return Err(format!(
                "`{at}`: the reference {reference:?} names a document outside this schema"
            ));
        };
        let pointer = if fragment.is_empty() {
            document
        } else if fragment.starts_with('/') {
            format!(
                "{document}{}",
                percent_encoding::percent_decode_str(fragment).decode_utf8_lossy()
            )
        } else {
            self.anchors.get(fragment).cloned().ok_or_else(|| {
                format!("`{at}`: the reference {reference:?} names no anchor of this schema")
            })?
        };
        match self.root.pointer(&pointer) {
            Some(Value::Object(_) | Value::Bool(_)) => Ok(pointer),
            Some(_) => Err(format!(
                "`{at}`: the reference {reference:?} names no schema"
            )),
            None => Err(format!(
                "`{at}`: the reference {reference:?} points to nothing"
            )),
        }
    }

    fn compile_node(&mut self, schema: &Value, pointer: &str) -> Result<Node, String> {
        let map = match schema {
            Value::Bool(b) => {
                return Ok(Node {
                    boolean: Some(*b),
                    ..Node::default()
                });
            }
            Value::Object(map) => map,
            _ => {
                return Err(format!(
                    "`{pointer}` must be a schema (an object or a boolean)"
                ));
            }
        };
        let mut keywords = Vec::new();
        let here = |key: &str| push(pointer, key);
        let number = |key: &str| -> Result<Option<Number>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(Value::Number(n)) => Ok(Some(n.clone())),
                Some(_) => Err(format!("`{}` must be a number", here(key))),
            }
        };
        let count = |key: &str| -> Result<Option<u64>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .or_else(|| {
                        n.as_f64()
                            .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                            .map(|f| f as u64)
                    })
                    .map(Some)
                    .ok_or_else(|| format!("`{}` must be a non-negative integer", here(key))),
                Some(_) => Err(format!("`{}` must be a non-negative integer", here(key))),
            }
        };
        let names = |key: &str, value: &Value| -> Result<Vec<Box<str>>, String> {
            match value {
                Value::Array(list) => list
                    .iter()
                    .map(|name| name.as_str().map(Into::into))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("`{key}` must be an array of strings")),
                _ => Err(format!("`{key}` must be an array of strings")),
            }
        };

        // Cheap assertions first: a wrong type fails before anything descends.
        if let Some(types) = map.get("type") {
            keywords.push(Keyword::Type(type_mask(types).ok_or_else(|| {
                format!("`{}` must be a type name or an array of them", here("type"))
            })?));
        }
        if let Some(value) = map.get("const") {
            keywords.push(Keyword::Const(value.clone()));
        }
        match map.get("enum") {
            None => {}
            Some(Value::Array(options)) => keywords.push(Keyword::Enum(options.clone())),
            Some(_) => return Err(format!("`{}` must be an array", here("enum"))),
        }
        if let Some(of) = number("multipleOf")? {
            if !of.as_f64().is_some_and(|f| f > 0.0) {
                return Err(format!("`{}` must be greater than 0", here("multipleOf")));
            }
            keywords.push(Keyword::MultipleOf(of));
        }
        for (key, make) in [
            ("maximum", Keyword::Maximum as fn(Number) -> Keyword),
            ("exclusiveMaximum", Keyword::ExclusiveMaximum),
            ("minimum", Keyword::Minimum),
            ("exclusiveMinimum", Keyword::ExclusiveMinimum),
        ] {
            if let Some(limit) = number(key)? {
                keywords.push(make(limit));
            }
        }
        for (key, make) in [
            ("maxLength", Keyword::MaxLength as fn(u64) -> Keyword),
            ("minLength", Keyword::MinLength),
            ("maxItems", Keyword::MaxItems),
            ("minItems", Keyword::MinItems),
            ("maxProperties", Keyword::MaxProperties),
            ("minProperties", Keyword::MinProperties),
        ] {
            if let Some(limit) = count(key)? {
                keywords.push(make(limit));
            }
        }
        match map.get("pattern") {
            None => {}
            Some(Value::String(source)) => {
                let regex =
                    pattern::compile(source).map_err(|e| format!("`{}`: {e}", here("pattern")))?;
                keywords.push(Keyword::Pattern(source.as_str().into(), regex));
            }
            Some(_) => return Err(format!("`{}` must be a string", here("pattern"))),
        }
        match map.get("uniqueItems") {
            None | Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) => keywords.push(Keyword::UniqueItems),
            Some(_) => return Err(format!("`{}` must be a boolean", here("uniqueItems"))),
        }
        if let Some(required) = map.get("required") {
            keywords.push(Keyword::Required(names(&here("required"), required)?));
        }
        match map.get("dependentRequired") {
            None => {}
            Some(Value::Object(dependencies)) => {
                let at = here("dependentRequired");
                let dependencies = dependencies
                    .iter()
                    .map(|(name, list)| Ok((name.as_str().into(), names(&push(&at, name), list)?)))
                    .collect::<Result<_, String>>()?;
                keywords.push(Keyword::DependentRequired(dependencies));
            }
            Some(_) => return Err(format!("`{}` must be an object", here("dependentRequired"))),
        }

        // Applicators.
        for key in ["$ref", "$dynamicRef"] {
            match map.get(key) {
                None => {}
                Some(Value::String(reference)) => {
                    let target = self.resolve(reference, &here(key))?;
                    keywords.push(Keyword::Ref(self.node_for(target)));
                }
                Some(_) => return Err(format!("`{}` must be a string", here(key))),
            }
        }
        for (key, make) in [
            ("allOf", Keyword::AllOf as fn(Vec<NodeId>) -> Keyword),
            ("anyOf", Keyword::AnyOf),
            ("oneOf", Keyword::OneOf),
        ] {
            if let Some(list) = map.get(key) {
                keywords.push(make(self.child_list(pointer, key, list)?));
            }
        }
        if let Some(schema) = map.get("not") {
            keywords.push(Keyword::Not(self.child(pointer, "not", schema)?));
        }
        if let Some(condition) = map.get("if") {
            let mut branch = |key: &str| {
                map.get(key)
                    .map(|schema| self.child(pointer, key, schema))
                    .transpose()
            };
            let then = branch("then")?;
            let otherwise = branch("else")?;
            keywords.push(Keyword::Conditional {
                condition: self.child(pointer, "if", condition)?,
                then,
                otherwise,
            });
        }
        if let Some(dependencies) = map.get("dependentSchemas") {
            keywords.push(Keyword::DependentSchemas(self.child_map(
                pointer,
                "dependentSchemas",
                dependencies,
            )?));
        }
        let named = match map.get("properties") {
            Some(properties) => {
                let mut named = self.child_map(pointer, "properties", properties)?;
                named.sort_by(|a, b| a.0.cmp(&b.0));
                named
            }
            None => Vec::new(),
        };
        let patterns = match map.get("patternProperties") {
            Some(properties) => self
                .child_map(pointer, "patternProperties", properties)?
                .into_iter()
                .map(|(source, id)| {
                    let regex = pattern::compile(&source).map_err(|e| {
                        format!("`{}`: {e}", push(&here("patternProperties"), &source))
                    })?;
                    Ok((source, regex, id))
                })
                .collect::<Result<Vec<_>, String>>()?,
            None => Vec::new(),
        };
        let additional = map
            .get("additionalProperties")
            .map(|schema| self.child(pointer, "additionalProperties", schema))
            .transpose()?;
        if !named.is_empty() || !patterns.is_empty() || additional.is_some() {
            keywords.push(Keyword::Properties(Box::new(PropertySchemas {
                named,
                patterns,
                additional,
            })));
        }
        if let Some(schema) = map.get("propertyNames") {
            keywords.push(Keyword::PropertyNames(self.child(
                pointer,
                "propertyNames",
                schema,
            )?));
        }
        let prefix = match map.get("prefixItems") {
            Some(list) => self.child_list(pointer, "prefixItems", list)?,
            None => Vec::new(),
        };
        let rest = map
            .get("items")
            .map(|schema| self.child(pointer, "items", schema))
            .transpose()?;
        if !prefix.is_empty() || rest.is_some() {
            keywords.push(Keyword::Items { prefix, rest });
        }
        if let Some(schema) = map.get("contains") {
            keywords.push(Keyword::Contains {
                schema: self.child(pointer, "contains", schema)?,
                min: count("minContains")?.unwrap_or(1),
                max: count("maxContains")?,
            });
        }

        // Last: they apply to what everything above left unevaluated.
        let mut tracks_evaluated = false;
        if let Some(schema) = map.get("unevaluatedProperties") {
            tracks_evaluated = true;
            keywords.push(Keyword::UnevaluatedProperties(self.child(
                pointer,
                "unevaluatedProperties",
                schema,
            )?));
        }
        if let Some(schema) = map.get("unevaluatedItems") {
            tracks_evaluated = true;
            keywords.push(Keyword::UnevaluatedItems(self.child(
                pointer,
                "unevaluatedItems",
                schema,
            )?));
        }
        Ok(Node {
            boolean: None,
            keywords,
            tracks_evaluated,
        })
    }
}

fn type_mask(types: &Value) -> Option<u8> {
    let bit = |name: &Value| {
        let name = name.as_str()?;
        TYPE_NAMES.iter().position(|t| *t == name).map(|i| 1u8 << i)
    };
    match types {
        Value::String(_) => bit(types),
        Value::Array(list) if !list.is_empty() => list
            .iter()
            .try_fold(0u8, |mask, name| Some(mask | bit(name)?)),
        _ => None,
    }
}

/// `pointer` extended by one reference token.
fn push(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", token.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn problems(schema: Value, value: Value) -> Vec<String> {
        CompiledSchema::compile(&schema)
            .unwrap()
            .problems(&value, 8)
            .into_iter()
            .map(|p| format!("{}: {}", p.pointer, p.message))
            .collect()
    }

    /// Values drawn from small domains, so that schemas and values meet often.
    fn values() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop::sample::select(vec![
                json!(0),
                json!(1),
                json!(2),
                json!(-1),
                json!(1.5),
                json!(2.0),
                json!(0.3),
                json!(3)
            ]),
            prop::sample::select(vec!["", "a", "ab", "abc", "b1", "é", "A"]).prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec!["a", "b", "c", "ab"]),
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    /// Schemas using every keyword, over the same domains (`$ref`s point into the root's
    /// `$defs`, which `with_defs` adds).
    fn schemas() -> impl Strategy<Value = Value> {
        let names = || prop::sample::select(vec!["a", "b", "c"]);
        let number =
            || prop::sample::select(vec![json!(0), json!(1), json!(2), json!(1.5), json!(-1)]);
        let count = || 0u64..4;
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            prop::sample::select(vec![
                "null", "boolean", "object", "array", "number", "string", "integer"
            ])
            .prop_map(|t| json!({"type": t})),
            Just(json!({"type": ["string", "integer"]})),
            values().prop_map(|v| json!({"const": v})),
            prop::collection::vec(values(), 1..3).prop_map(|v| json!({"enum": v})),
            prop::sample::select(vec![json!(1), json!(2), json!(0.5), json!(1.5), json!(0.1)])
                .prop_map(|m| json!({"multipleOf": m})),
            number().prop_map(|n| json!({"maximum": n})),
            number().prop_map(|n| json!({"exclusiveMaximum": n})),
            number().prop_map(|n| json!({"minimum": n})),
            number().prop_map(|n| json!({"exclusiveMinimum": n})),
            count().prop_map(|n| json!({"maxLength": n})),
            count().prop_map(|n| json!({"minLength": n})),
            prop::sample::select(vec!["^a", "b$", "^[a-c]+$", "\\d", "^.$", "^\\w*$"])
                .prop_map(|p| json!({"pattern": p})),
            count().prop_map(|n| json!({"maxItems": n})),
            count().prop_map(|n| json!({"minItems": n})),
            Just(json!({"uniqueItems": true})),
            count().prop_map(|n| json!({"maxProperties": n})),
            count().prop_map(|n| json!({"minProperties": n})),
            prop::collection::btree_set(names(), 0..3).prop_map(|r| json!({"required": r})),
            (names(), prop::collection::btree_set(names(), 0..2))
                .prop_map(|(n, r)| json!({"dependentRequired": {n: r}})),
            prop::sample::select(vec!["#/$defs/s", "#/$defs/n", "#item"])
                .prop_map(|r| json!({"$ref": r})),
        ];
        leaf.prop_recursive(3, 24, 3, move |inner| {
            let map = {
                let inner = inner.clone();
                move || {
                    prop::collection::btree_map(
                        prop::sample::select(vec!["a", "b", "c"]),
                        inner.clone(),
                        0..3,
                    )
                }
            };
            let list = {
                let inner = inner.clone();
                move || prop::collection::vec(inner.clone(), 1..3)
            };
            let one = inner.clone();
            prop_oneof![
                (map(), prop::option::of(one.clone())).prop_map(|(p, a)| {
                    let mut s = json!({"properties": p});
                    if let Some(a) = a {
                        s["additionalProperties"] = a;
                    }
                    s
                }),
                one.clone()
                    .prop_map(|s| json!({"patternProperties": {"^a": s}})),
                one.clone().prop_map(|s| json!({"propertyNames": s})),
                list().prop_map(|l| json!({"allOf": l})),
                list().prop_map(|l| json!({"anyOf": l})),
                list().prop_map(|l| json!({"oneOf": l})),
                one.clone().prop_map(|s| json!({"not": s})),
                (
                    one.clone(),
                    prop::option::of(one.clone()),
                    prop::option::of(one.clone())
                )
                    .prop_map(|(i, t, e)| {
                        let mut s = json!({"if": i});
                        if let Some(t) = t {
                            s["then"] = t;
                        }
                        if let Some(e) = e {
                            s["else"] = e;
                        }
                        s
                    }),
                map().prop_map(|m| json!({"dependentSchemas": m})),
                (list(), prop::option::of(one.clone())).prop_map(|(p, i)| {
                    let mut s = json!({"prefixItems": p});
                    if let Some(i) = i {
                        s["items"] = i;
                    }
                    s
                }),
                one.clone().prop_map(|s| json!({"items": s})),
                (
                    one.clone(),
                    prop::option::of(0u64..3),
                    prop::option::of(0u64..3)
                )
                    .prop_map(|(c, min, max)| {
                        let mut s = json!({"contains": c});
                        if let Some(min) = min {
                            s["minContains"] = json!(min);
                        }
                        if let Some(max) = max {
                            s["maxContains"] = json!(max);
                        }
                        s
                    }),
                (list(), one.clone())
                    .prop_map(|(l, u)| json!({"allOf": l, "unevaluatedProperties": u})),
                (list(), one.clone()).prop_map(|(l, u)| json!({"anyOf": l, "unevaluatedItems": u})),
                (map(), one.clone())
                    .prop_map(|(p, u)| json!({"properties": p, "unevaluatedProperties": u})),
                (list(), one.clone())
                    .prop_map(|(l, u)| json!({"prefixItems": l, "unevaluatedItems": u})),
                (list(), list()).prop_map(|(a, b)| json!({"allOf": a, "oneOf": b})),
            ]
        })
    }

    fn with_defs(mut schema: Value) -> Value {
        let defs = json!({
            "s": {"type": "string", "minLength": 1},
            "n": {"type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}, "unevaluatedProperties": false},
            "i": {"$anchor": "item", "items": {"type": "integer"}}
        });
        match &mut schema {
            Value::Object(map) => {
                map.insert("$defs".to_owned(), defs);
                schema
            }
            _ => json!({"allOf": [schema], "$defs": defs}),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// The same verdict as the `jsonschema` crate for every keyword and their combinations,
        /// and problems exactly when the value is invalid.
        #[test]
        fn agrees_with_the_reference_validator(schema in schemas(), value in values()) {
            let schema = with_defs(schema);
            let reference = jsonschema::draft202012::new(&schema).unwrap();
            let ours = CompiledSchema::compile(&schema).unwrap();
            let expected = reference.is_valid(&value);
            prop_assert_eq!(ours.is_valid(&value), expected, "schema {} value {}", schema, value);
            prop_assert_eq!(ours.problems(&value, 8).is_empty(), expected, "schema {} value {}", schema, value);
        }
    }

    #[test]
    fn problems_say_what_and_where() {
        let schema = json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "size": {"type": "integer", "minimum": 1, "maximum": 10, "multipleOf": 2},
                "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "uniqueItems": true},
                "a/b": {"const": 1}
            },
            "required": ["id", "name"],
            "additionalProperties": false
        });
        let found = problems(
            schema,
            json!({"id": 5, "size": 11, "tags": ["a", "c", "a"], "a/b": 2, "x": 1, "y": 2}),
        );
        for expected in [
            "/id: 5 is not of type \"string\"",
            "/size: 11 is greater than the maximum of 10",
            "/size: 11 is not a multiple of 2",
            "/tags/1: \"c\" is not one of [\"a\",\"b\"]",
            "/tags: [\"a\",\"c\",\"a\"] has non-unique elements",
            "/a~1b: 1 was expected",
            ": Additional properties are not allowed ('x', 'y' were unexpected)",
        ] {
            assert!(
                found.iter().any(|p| p == expected),
                "{expected} not in {found:#?}"
            );
        }
        // The limit holds: the 8th problem is the last.
        assert_eq!(found.len(), 8, "{found:#?}");
        assert!(
            found
                .iter()
                .any(|p| p == ": \"name\" is a required property"),
            "{found:#?}"
        );
    }

    #[test]
    fn decimal_multiples_are_exact_and_integers_may_be_written_as_floats() {
        let schema =
            CompiledSchema::compile(&json!({"type": "integer", "multipleOf": 0.1})).unwrap();
        assert!(schema.is_valid(&json!(3)));
        assert!(schema.is_valid(&json!(3.0)));
        assert!(!schema.is_valid(&json!(3.5)));
        let tenths = CompiledSchema::compile(&json!({"multipleOf": 0.1})).unwrap();
        assert!(tenths.is_valid(&json!(0.3)));
        assert!(tenths.is_valid(&json!(1e300)));
        assert!(!tenths.is_valid(&json!(0.35)));
        let huge = CompiledSchema::compile(&json!({"multipleOf": 1e-300})).unwrap();
        assert!(huge.is_valid(&json!(1e300)));
    }

    #[test]
    fn references_resolve_inside_the_schema_only() {
        let schema = json!({
            "$id": "https://example.com/root.json",
            "properties": {
                "a": {"$ref": "#/$defs/positive"},
                "b": {"$ref": "#even"},
                "c": {"$ref": "https://example.com/other.json#/$defs/word"},
                "d": {"$ref": "#/$defs/with%20space"}
            },
            "$defs": {
                "positive": {"exclusiveMinimum": 0},
                "even": {"$anchor": "even", "multipleOf": 2},
                "other": {"$id": "https://example.com/other.json", "$defs": {"word": {"pattern": "^\\w+$"}}},
                "with space": {"type": "null"}
            }
        });
        let compiled = CompiledSchema::compile(&schema).unwrap();
        assert!(compiled.is_valid(&json!({"a": 1, "b": 4, "c": "w", "d": null})));
        for invalid in [
            json!({"a": 0}),
            json!({"b": 3}),
            json!({"c": "a b"}),
            json!({"d": 1}),
        ] {
            assert!(!compiled.is_valid(&invalid), "{invalid}");
        }
        for (schema, what) in [
            (json!({"$ref": "other.json"}), "outside this schema"),
            (json!({"$ref": "#/$defs/none"}), "points to nothing"),
            (json!({"$ref": "#nowhere"}), "no anchor"),
            (
                json!({"$ref": "#/type", "type": "string"}),
                "names no schema",
            ),
        ] {
            let error = CompiledSchema::compile(&schema).err().unwrap();
            assert!(error.contains(what), "{schema}: {error}");
        }
    }

    #[test]
    fn invalid_schemas_are_refused_with_their_pointer() {
        for (schema, expected) in [
            (json!({"type": "text"}), "`/type` must be a type name"),
            (
                json!({"properties": {"a": {"minLength": -1}}}),
                "`/properties/a/minLength` must be a non-negative integer",
            ),
            (
                json!({"multipleOf": 0}),
                "`/multipleOf` must be greater than 0",
            ),
            (
                json!({"allOf": []}),
                "`/allOf` must be a non-empty array of schemas",
            ),
            (json!({"items": [{}]}), "`/items` must be a schema"),
            (
                json!({"required": "a"}),
                "`/required` must be an array of strings",
            ),
            (json!({"pattern": "(?=a)"}), "`/pattern`: a look-ahead"),
            (
                json!({"patternProperties": {"(": {}}}),
                "`/patternProperties/(`",
            ),
        ] {
            let error = CompiledSchema::compile(&schema).err().unwrap();
            assert!(error.starts_with(expected), "{schema}: {error}");
        }
    }

    #[test]
    fn self_reference_without_progress_stops_with_a_problem() {
        let schema = CompiledSchema::compile(
            &json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}),
        )
        .unwrap();
        assert!(!schema.is_valid(&json!(1)));
        let found = schema.problems(&json!(1), 8);
        assert!(found[0].message.contains("too deeply"), "{found:?}");
        // A recursive schema that consumes the value as it goes checks deep values.
        let tree = CompiledSchema::compile(
            &json!({"properties": {"child": {"$ref": "#"}}, "required": ["v"]}),
        )
        .unwrap();
        let mut deep = json!({"v": 0});
        for _ in 0..100 {
            deep = json!({"v": 0, "child": deep});
        }
        assert!(tree.is_valid(&deep));
    }

    #[test]
    fn many_unique_items_are_checked_in_linear_time() {
        let schema = CompiledSchema::compile(&json!({"uniqueItems": true})).unwrap();
        let mut items: Vec<Value> = (0..200_000).map(|i| json!({"n": i, "s": [i]})).collect();
        assert!(schema.is_valid(&Value::Array(items.clone())));
        items.push(json!({"s": [7.0], "n": 7}));
        assert!(!schema.is_valid(&Value::Array(items)));
    }

    #[test]
    fn long_values_are_quoted_short() {
        let found = problems(json!({"type": "integer"}), json!("x".repeat(100_000)));
        assert!(found[0].len() < MAX_QUOTED + 60, "{}", found[0]);
        assert!(found[0].contains('…'));
    }
}
