//! The audit log (`--audit-log PATH|-`): one JSON object per line for every tool call and
//! every resource read of an operation, saying who called what, when, and how it ended.
//!
//! Lines never carry values: argument values can hold personal data (names, addresses, card
//! numbers) or secrets, so an argument appears by its name with a type tag (`"string(12)"`,
//! `"integer"`), or `"<redacted>"` when its name looks like a credential or its schema marks
//! it sensitive (`writeOnly`, `format: password`). Callers appear by who they are (an OAuth
//! subject, the index of the static token that matched, a remote address), never by their
//! credential. The upstream path is the operation's template, not the filled-in path.
//!
//! Lines go through a bounded channel to a writer thread: a slow disk never holds up a call.
//! When the channel is full the line is dropped and counted (`mcp_audit_dropped_total`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::metrics::Metrics;

/// Lines waiting for the writer; past this, lines are dropped rather than calls held up.
const QUEUE: usize = 4096;

/// The static MCP token (`--mcp-token`) a request presented, by its position: a request
/// extension set by the token check, so the audit log can say which token without the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McpTokenIndex(pub usize);

/// The address of the peer an HTTP request came from: a request extension set per
/// connection by the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Where audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// Standard error (`-`).
    Stderr,
    /// Appended to this file (created 0600 when missing), reopened on SIGHUP.
    File(PathBuf),
}

impl AuditTarget {
    /// `-` is standard error, anything else a path.
    pub fn parse(text: &str) -> AuditTarget {
        if text == "-" {
            AuditTarget::Stderr
        } else {
            AuditTarget::File(PathBuf::from(text))
        }
    }
}

/// What the writer thread is sent.
enum Message {
    /// A line to write.
    Line(Vec<u8>),
    /// Write everything before this, then say so.
    Flush(std::sync::mpsc::Sender<()>),
}

/// The audit sink: a bounded queue in front of a writer thread.
pub struct Audit {
    sender: SyncSender<Message>,
    reopen: Arc<AtomicBool>,
    file: bool,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Audit")
    }
}

/// Opens `path` for appending, creating it readable by its owner only.
fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

impl Audit {
    /// Opens the target and starts the writer; a file that cannot be opened is an error (the
    /// server refuses to start without the audit log it was asked for).
    pub fn open(target: &AuditTarget) -> std::io::Result<Audit> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Message>(QUEUE);
        let reopen = Arc::new(AtomicBool::new(false));
        let (mut out, path): (Box<dyn Write + Send>, Option<PathBuf>) = match target {
            AuditTarget::Stderr => (Box::new(std::io::stderr()), None),
            AuditTarget::File(path) => (Box::new(open_append(path)?), Some(path.clone())),
        };
        let flag = reopen.clone();
        std::thread::Builder::new()
            .name("audit-log".to_owned())
            .spawn(move || {
                for message in receiver {
                    let line = match message {
                        Message::Line(line) => line,
                        Message::Flush(done) => {
                            let _ = out.flush();
                            let _ = done.send(());
                            continue;
                        }
                    };
                    if let Some(path) = &path
                        && flag.swap(false, Ordering::AcqRel)
                    {
                        match open_append(path) {
                            Ok(file) => out = Box::new(file),
                            Err(e) => eprintln!(
                                "audit log: cannot reopen {}: {e}; writing to the old file",
                                path.display()
                            ),
                        }
                    }
                    if let Err(e) = out.write_all(&line) {
                        eprintln!("audit log: a line could not be written: {e}");
                    }
                }
            })?;
        Ok(Audit {
            sender,
            reopen,
            file: matches!(target, AuditTarget::File(_)),
        })
    }

    /// Waits at most `limit` for the lines queued so far to be written: the server calls it
    /// before it exits, so that the last calls' lines are not lost with the process.
    pub fn flush(&self, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        let (done, written) = std::sync::mpsc::channel();
        let mut message = Message::Flush(done);
        // The queue may be full: try again until there is room or the time is up.
        loop {
            match self.sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                    message = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        }
        let _ = written.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()));
    }

    /// Whether the log is a file (which SIGHUP reopens).
    pub fn is_file(&self) -> bool {
        self.file
    }

    /// Reopens the file before the next line (after log rotation moved it); nothing for
    /// standard error.
    pub fn reopen(&self) {
        self.reopen.store(true, Ordering::Release);
    }

    /// Queues one line; never waits. A full queue drops the line and counts it.
    pub fn record(&self, entry: &AuditEntry<'_>, metrics: &Metrics) {
        let mut line = entry.to_json().to_string().into_bytes();
        line.push(b'\n');
        match self.sender.try_send(Message::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                metrics.audit_dropped();
            }
        }
    }
}

/// One audit line's facts.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    /// When the call ended.
    pub time: Option<SystemTime>,
    /// The HTTP request's id.
    pub request_id: Option<&'a str>,
    /// Who called (never a credential).
    pub caller: String,
    /// The `Mcp-Session-Id` header.
    pub session: Option<&'a str>,
    /// The tool called.
    pub tool: &'a str,
    /// The arguments' names and type tags (see [`summarize_arguments`]).
    pub arguments: Map<String, Value>,
    /// The operation's method and path template.
    pub upstream: Option<(&'a str, &'a str)>,
    /// The upstream's status, when one came.
    pub status: Option<u16>,
    /// Time from the call's arrival to its result.
    pub latency: Duration,
    /// Bytes of the upstream's body read.
    pub bytes: Option<usize>,
    /// How it ended (the metrics outcome; `ok` or `tool_error` for other tools).
    pub outcome: &'a str,
}

impl AuditEntry<'_> {
    /// The line as a JSON object.
    pub fn to_json(&self) -> Value {
        let mut line = Map::new();
        let time = self.time.unwrap_or_else(SystemTime::now);
        line.insert("time".into(), rfc3339_millis(time).into());
        line.insert("request_id".into(), self.request_id.into());
        line.insert("caller".into(), self.caller.clone().into());
        line.insert("session".into(), self.session.into());
        line.insert("tool".into(), self.tool.into());
        line.insert("arguments".into(), Value::Object(self.arguments.clone()));
        line.insert(
            "upstream".into(),
            match self.upstream {
                Some((method, path)) => serde_json::json!({ "method": method, "path": path }),
                None => Value::Null,
            },
        );
        line.insert("status".into(), self.status.into());
        line.insert(
            "latency_ms".into(),
            (self.latency.as_millis().min(u64::MAX as u128) as u64).into(),
        );
        line.insert("bytes".into(), self.bytes.into());
        line.insert("outcome".into(), self.outcome.into());
        Value::Object(line)
    }
}

/// Whether an argument's name looks like it holds a credential.
pub fn looks_like_credential(name: &str) -> bool {
    let lower: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    [
        "auth",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "apikey",
        "key",
        "cookie",
        "session",
        "credential",
        "signature",
        "bearer",
        "jwt",
    ]
    .iter()
    .any(|word| lower.contains(word))
}

/// The arguments by name, each with a type tag, or `"<redacted>"` when its name looks like a
/// credential or `sensitive` says so. Never a value.
pub fn summarize_arguments(
    arguments: Option<&Map<String, Value>>,
    sensitive: impl Fn(&str) -> bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in arguments.into_iter().flatten() {
        let tag = if looks_like_credential(name) || sensitive(name) {
            "<redacted>".to_owned()
        } else {
            type_tag(value)
        };
        out.insert(name.clone(), Value::String(tag));
    }
    out
}

/// Names of the properties of an input schema (JSON text or parsed) that its author marked
/// sensitive: `writeOnly: true` or `format: password`.
pub fn sensitive_properties(schema: &Map<String, Value>) -> Vec<String> {
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return Vec::new();
    };
    properties
        .iter()
        .filter(|(_, p)| {
            p.get("writeOnly").and_then(Value::as_bool) == Some(true)
                || p.get("format").and_then(Value::as_str) == Some("password")
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// A value's type, and a string's length in characters.
fn type_tag(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "boolean".to_owned(),
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer".to_owned(),
        Value::Number(_) => "number".to_owned(),
        Value::String(s) => format!("string({})", s.chars().count()),
        Value::Array(a) => format!("array({})", a.len()),
        Value::Object(_) => "object".to_owned(),
    }
}

/// `time` as RFC 3339 in UTC with milliseconds (`2024-02-29T12:34:56.789Z`).
pub fn rfc3339_millis(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u64) -> String {
        rfc3339_millis(SystemTime::UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis))
    }

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_709_209_496, 789), "2024-02-29T12:24:56.789Z");
        assert_eq!(at(1_709_251_199, 999), "2024-02-29T23:59:59.999Z");
        assert_eq!(at(1_709_251_200, 0), "2024-03-01T00:00:00.000Z");
        assert_eq!(at(1_735_689_599, 0), "2024-12-31T23:59:59.000Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(4_107_456_000, 0), "2100-02-28T00:00:00.000Z");
    }

    #[test]
    fn arguments_keep_their_names_never_their_values() {
        let args = serde_json::json!({
            "petId": 12,
            "name": "4111 1111 1111 1111",
            "api_key": "k-123",
            "X-Auth-Token": "t",
            "note": "secret\r\n\"}{\"",
            "tags": ["a", "b"],
            "body": {"card": "x"},
            "ratio": 0.5,
            "pin": "1234",
        });
        let summary = summarize_arguments(args.as_object(), |name| name == "pin");
        assert_eq!(
            Value::Object(summary.clone()),
            serde_json::json!({
                "petId": "integer",
                "name": "string(19)",
                "api_key": "<redacted>",
                "X-Auth-Token": "<redacted>",
                "note": "string(12)",
                "tags": "array(2)",
                "body": "object",
                "ratio": "number",
                "pin": "<redacted>",
            })
        );
        let text = Value::Object(summary).to_string();
        for value in ["4111", "k-123", "1234", "\"}{\""] {
            assert!(!text.contains(value), "{value} in {text}");
        }
    }

    #[test]
    fn sensitive_properties_come_from_the_schema() {
        let schema = serde_json::json!({"properties": {
            "a": {"type": "string", "format": "password"},
            "b": {"type": "string", "writeOnly": true},
            "c": {"type": "string"},
        }});
        assert_eq!(
            sensitive_properties(schema.as_object().unwrap()),
            ["a", "b"]
        );
    }

    #[test]
    fn a_line_has_every_field() {
        let entry = AuditEntry {
            time: Some(SystemTime::UNIX_EPOCH),
            request_id: Some("r-1"),
            caller: "mcp-token#0".to_owned(),
            session: None,
            tool: "getPetById",
            arguments: summarize_arguments(serde_json::json!({"petId": 1}).as_object(), |_| false),
            upstream: Some(("GET", "/pet/{petId}")),
            status: Some(200),
            latency: Duration::from_millis(12),
            bytes: Some(42),
            outcome: "ok",
        };
        assert_eq!(
            entry.to_json(),
            serde_json::json!({
                "time": "1970-01-01T00:00:00.000Z",
                "request_id": "r-1",
                "caller": "mcp-token#0",
                "session": null,
                "tool": "getPetById",
                "arguments": {"petId": "integer"},
                "upstream": {"method": "GET", "path": "/pet/{petId}"},
                "status": 200,
                "latency_ms": 12,
                "bytes": 42,
                "outcome": "ok",
            })
        );
    }

    #[test]
    fn lines_are_appended_to_a_private_file() {
        let dir = std::env::temp_dir().join(format!("mcpgen-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        let _ = std::fs::remove_file(&path);
        let audit = Audit::open(&AuditTarget::File(path.clone())).unwrap();
        let metrics = Metrics::new();
        audit.record(
            &AuditEntry {
                tool: "t",
                outcome: "ok",
                caller: "stdio".to_owned(),
                ..AuditEntry::default()
            },
            &metrics,
        );
        drop(audit);
        let mut text = String::new();
        for _ in 0..100 {
            text = std::fs::read_to_string(&path).unwrap_or_default();
            if !text.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let line: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["tool"], "t");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
