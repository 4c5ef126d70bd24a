//! Runs the generator on one document and checks what it produced.

use std::any::Any;
use std::backtrace::Backtrace;
use std::cell::RefCell;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

use mcpgen_codegen::{Error, Settings, ToolSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::{self, Finding};

/// How a document fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Mapped without error and every tool follows the rules.
    Passed,
    /// The generator refused the document with a located error (read, syntax, invalid); the
    /// tools it still produced with `skip_broken` follow the rules.
    Rejected,
    /// Something is wrong on the generator's side: a panic, a crash, a time-out, an internal
    /// error, a failed `generate_crate`, or a tool that breaks a rule.
    Failed,
}

/// An error the generator returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocError {
    /// `read`, `syntax`, `invalid`, `internal`, `write`, or `other` for any other variant.
    pub kind: String,
    /// The JSON pointer, for `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The error as the generator displays it.
    pub message: String,
}

impl DocError {
    fn from_error(error: &Error) -> Self {
        let (kind, pointer) = if let Error::Invalid { pointer, .. } = error {
            ("invalid", Some(pointer.clone()))
        } else if matches!(error, Error::Read { .. }) {
            ("read", None)
        } else if matches!(error, Error::Syntax { .. }) {
            ("syntax", None)
        } else if matches!(error, Error::Internal(_)) {
            ("internal", None)
        } else if matches!(error, Error::Write { .. }) {
            ("write", None)
        } else {
            ("other", None)
        };
        Self {
            kind: kind.to_owned(),
            pointer,
            message: error.to_string(),
        }
    }

    /// Whether this is a complaint about the document rather than a generator bug.
    pub fn is_rejection(&self) -> bool {
        matches!(self.kind.as_str(), "read" | "syntax" | "invalid")
    }
}

/// The result of one document: what was generated, what went wrong, and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocResult {
    /// The document's path.
    pub path: String,
    /// `2.0`, `3.0`, `3.1`, or what the document's `openapi`/`swagger` field says (`unknown`
    /// when it could not be read).
    pub version: String,
    /// The verdict.
    pub status: Status,
    /// The error of `map_document` with `skip_broken(false)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DocError>,
    /// The error of the retry with `skip_broken(true)`, when that failed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_error: Option<DocError>,
    /// Operations in the document (methods of every path item under `paths`).
    pub operations: usize,
    /// Tools generated (by the retry, when the first attempt failed).
    pub tools: usize,
    /// Operations that did not become tools.
    pub skipped: usize,
    /// Warnings of the generator.
    pub warnings: usize,
    /// Bytes of the `tools/list` result's `tools` array.
    pub list_bytes: usize,
    /// The largest single tool in that array, in bytes.
    pub largest_tool_bytes: usize,
    /// The tool behind `largest_tool_bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub largest_tool: Option<String>,
    /// Files of the crate `generate_crate` produced, when it ran and succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_files: Option<usize>,
    /// Their size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_bytes: Option<usize>,
    /// Generator problems: rule violations, panics, crashes, internal errors.
    pub failures: Vec<Finding>,
    /// Milliseconds spent in `map_document` (both attempts).
    pub map_ms: f64,
    /// Milliseconds spent checking tools.
    pub check_ms: f64,
    /// Milliseconds spent in `generate_crate`.
    pub generate_ms: f64,
    /// Milliseconds for the whole document.
    pub total_ms: f64,
}

impl DocResult {
    /// An empty result for `path`.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.display().to_string(),
            version: "unknown".to_owned(),
            status: Status::Passed,
            error: None,
            retry_error: None,
            operations: 0,
            tools: 0,
            skipped: 0,
            warnings: 0,
            list_bytes: 0,
            largest_tool_bytes: 0,
            largest_tool: None,
            generated_files: None,
            generated_bytes: None,
            failures: Vec::new(),
            map_ms: 0.0,
            check_ms: 0.0,
            generate_ms: 0.0,
            total_ms: 0.0,
        }
    }

    /// Sets `status` from the error and the failures.
    pub fn settle(&mut self) {
        self.status = if !self.failures.is_empty() {
            Status::Failed
        } else if self.error.is_some() {
            Status::Rejected
        } else {
            Status::Passed
        };
    }
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook with one that keeps the message and a backtrace for
/// [`run_document`] to report, instead of printing them.
pub fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let report = format!("{info}\n{}", Backtrace::force_capture());
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(report));
    }));
}

fn panic_report(payload: Box<dyn Any + Send>) -> String {
    LAST_PANIC
        .with(|last| last.borrow_mut().take())
        .unwrap_or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-string payload".to_owned())
        })
}

/// Runs `f`, turning a panic into a `panic` finding for `stage`.
fn guarded<T>(stage: &str, f: impl FnOnce() -> T) -> Result<T, Finding> {
    panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|payload| Finding::new("panic", format!("{stage}: {}", panic_report(payload))))
}

fn millis(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
}

/// The version family of a parsed document: `2.0`, `3.0`, `3.1`, or the raw field.
pub fn document_version(doc: &Value) -> String {
    let raw = match (doc.get("openapi"), doc.get("swagger")) {
        (Some(v), _) | (None, Some(v)) => match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        (None, None) => return "none".to_owned(),
    };
    for family in ["2.0", "3.0", "3.1"] {
        if raw == family || raw.starts_with(&format!("{family}.")) {
            return family.to_owned();
        }
    }
    raw
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Operations under `paths`: one per HTTP method of each path item (a path item that is a
/// local `$ref` is followed).
pub fn count_operations(doc: &Value) -> usize {
    let Some(Value::Object(paths)) = doc.get("paths") else {
        return 0;
    };
    paths
        .iter()
        .filter(|(path, _)| !path.starts_with("x-"))
        .filter_map(|(_, item)| {
            let item = match item.get("$ref").and_then(Value::as_str) {
                Some(target) => doc.pointer(target.strip_prefix('#')?)?,
                None => item,
            };
            item.as_object()
        })
        .map(|item| {
            item.keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .count()
        })
        .sum()
}

/// A tool as `tools/list` lists it: name, description, input and output schema.
#[derive(Debug, Serialize)]
pub struct ListedTool<'a> {
    name: &'a str,
    description: &'a str,
    #[serde(rename = "inputSchema")]
    input_schema: &'a Value,
    #[serde(rename = "outputSchema", skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a Value>,
}

/// How `tools/list` would list `tool`.
pub fn listed_tool(tool: &ToolSpec) -> ListedTool<'_> {
    ListedTool::new(tool)
}

impl<'a> ListedTool<'a> {
    fn new(tool: &'a ToolSpec) -> Self {
        Self {
            name: &tool.name,
            description: &tool.description,
            input_schema: &tool.input_schema,
            output_schema: tool.output_schema.as_ref(),
        }
    }
}

#[derive(Default)]
struct ByteCount(usize);

impl Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn json_bytes(value: &impl Serialize) -> usize {
    let mut count = ByteCount::default();
    serde_json::to_writer(&mut count, value).expect("serialising to a counter cannot fail");
    count.0
}

/// Maps `path` (and, when `generate` is set, generates its crate), checks every tool, and
/// reports panics as failures instead of unwinding. Call [`install_panic_hook`] first to get
/// backtraces in panic reports.
pub fn run_document(path: &Path, generate: bool) -> DocResult {
    run_document_observed(path, generate, &mut |_, _| {})
}

/// [`run_document`], calling `observe` with the name of each stage (`load`, `map_document`,
/// `map_document with skip_broken`, `check`, `generate_crate`) and the result so far just before the stage starts, so that a
/// caller can tell where a document was when its process died.
pub fn run_document_observed(
    path: &Path,
    generate: bool,
    observe: &mut dyn FnMut(&str, &DocResult),
) -> DocResult {
    let started = Instant::now();
    let mut result = DocResult::new(path);
    observe("load", &result);

    match guarded("load", || mcpgen_codegen::load::load_file(path)) {
        Ok(Ok(loaded)) => {
            result.version = document_version(&loaded.value);
            result.operations = count_operations(&loaded.value);
        }
        Ok(Err(_)) => {}
        Err(panic) => result.failures.push(panic),
    }

    observe("map_document", &result);
    let map_started = Instant::now();
    let strict = Settings::new().skip_broken(false);
    let lenient = Settings::new().skip_broken(true);
    let mut used = strict.clone();
    let mapped = match guarded("map_document", || {
        mcpgen_codegen::map_document(path, &strict)
    }) {
        Ok(Ok(mapped)) => Some(mapped),
        Ok(Err(error)) => {
            let error = DocError::from_error(&error);
            if !error.is_rejection() {
                result
                    .failures
                    .push(Finding::new(error.kind.clone(), error.message.clone()));
            }
            result.error = Some(error);
            used = lenient.clone();
            observe("map_document with skip_broken", &result);
            match guarded("map_document with skip_broken", || {
                mcpgen_codegen::map_document(path, &lenient)
            }) {
                Ok(Ok(mapped)) => Some(mapped),
                Ok(Err(error)) => {
                    result.skipped = result.operations;
                    let error = DocError::from_error(&error);
                    if !error.is_rejection() {
                        result
                            .failures
                            .push(Finding::new(error.kind.clone(), error.message.clone()));
                    }
                    result.retry_error = Some(error);
                    None
                }
                Err(panic) => {
                    result.failures.push(panic);
                    None
                }
            }
        }
        Err(panic) => {
            result.failures.push(panic);
            None
        }
    };
    result.map_ms = millis(map_started);

    if let Some(mapped) = &mapped {
        let tools = &mapped.api.tools;
        result.tools = tools.len();
        result.skipped = result.operations.saturating_sub(tools.len());
        result.warnings = mapped.warnings.len();
        observe("check", &result);
        let check_started = Instant::now();
        match guarded("check", || {
            let findings = check::check_tools(tools);
            let listed: Vec<ListedTool<'_>> = tools.iter().map(ListedTool::new).collect();
            let largest = listed
                .iter()
                .map(|t| (json_bytes(t), t.name))
                .max_by_key(|(bytes, _)| *bytes);
            (findings, json_bytes(&listed), largest)
        }) {
            Ok((findings, list_bytes, largest)) => {
                result.failures.extend(findings);
                result.list_bytes = list_bytes;
                if let Some((bytes, name)) = largest {
                    result.largest_tool_bytes = bytes;
                    result.largest_tool = Some(name.to_owned());
                }
            }
            Err(panic) => result.failures.push(panic),
        }
        result.check_ms = millis(check_started);

        if generate {
            observe("generate_crate", &result);
            let generate_started = Instant::now();
            match guarded("generate_crate", || {
                mcpgen_codegen::generate_crate(path, &used)
            }) {
                Ok(Ok(generated)) => {
                    result.generated_files = Some(generated.files.len());
                    result.generated_bytes =
                        Some(generated.files.iter().map(|f| f.contents.len()).sum());
                }
                Ok(Err(error)) => result
                    .failures
                    .push(Finding::new("generate", error.to_string())),
                Err(panic) => result.failures.push(panic),
            }
            result.generate_ms = millis(generate_started);
        }
    }

    result.total_ms = millis(started);
    result.settle();
    result
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn versions() {
        assert_eq!(document_version(&json!({"swagger": "2.0"})), "2.0");
        assert_eq!(document_version(&json!({"openapi": "3.0.3"})), "3.0");
        assert_eq!(document_version(&json!({"openapi": "3.1.0"})), "3.1");
        assert_eq!(document_version(&json!({"openapi": "3.10"})), "3.10");
        assert_eq!(document_version(&json!({"openapi": 3.1})), "3.1");
        assert_eq!(document_version(&json!({})), "none");
    }

    #[test]
    fn operations() {
        let doc = json!({
            "paths": {
                "/a": {"get": {}, "post": {}, "parameters": [], "summary": "x"},
                "/b": {"$ref": "#/x-items/b"},
                "x-ignored": {"get": {}}
            },
            "x-items": {"b": {"delete": {}}}
        });
        assert_eq!(count_operations(&doc), 3);
    }
}
