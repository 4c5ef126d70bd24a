//! Long-running operations: an operation that answers 202 Accepted with a status URL (in
//! `Operation-Location`, `Azure-AsyncOperation` or `Location`, or a `statusUrl`-like field of
//! the answer) has accepted work that goes on after the answer.
//!
//! - A client that takes tasks (the `io.modelcontextprotocol/tasks` extension) gets a task at
//!   once; `tasks/get` polls the status URL and reports the status, then the result;
//!   `tasks/cancel` sends the document's cancel operation (a DELETE on the status URL's path)
//!   where there is one.
//! - Any other client's call waits here, polling, up to `--task-wait-secs`, with progress
//!   notifications.
//!
//! The server keeps nothing: a task id is the status URL, the tool, the caller and the time,
//! sealed with the server's state key (`--confirm-key-file`), so that any replica sharing the
//! key answers for any task, and nobody can make one up or take another caller's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolResult, ContentBlock, CreateTaskResult, DetailedTask, GetTaskResult, JsonObject, Task,
    TaskPayload,
};
use serde_json::{Value, json};

use super::audit::rfc3339_millis;
use super::call::{CallerId, ChosenCredentials, Exchange, Inbound};
use super::confirm::StateKey;
use super::descriptor::{HttpMethod, ToolDescriptor};
use super::notify;
use super::request::Upstream;
use super::server::GeneratedServer;

/// The answer headers that name a status URL, most specific first.
pub const STATUS_HEADERS: [&str; 3] = ["operation-location", "azure-asyncoperation", "location"];
/// How long a task id stays good.
pub const TASK_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// How often to poll when the upstream does not say (`Retry-After`).
const DEFAULT_POLL: Duration = Duration::from_secs(1);
const MIN_POLL: Duration = Duration::from_millis(100);
const MAX_POLL: Duration = Duration::from_secs(30);
const TICKET_PREFIX: &str = "t1";

/// The status URL of a 202 answer: a header's, else a field of its JSON body, resolved against
/// the URL that answered; only one on the upstream's origin, below its base path.
pub(super) fn status_url(
    location: Option<&str>,
    body: &[u8],
    answered: &reqwest::Url,
    upstream: &Upstream,
) -> Option<reqwest::Url> {
    let from_body = || {
        let value: Value = serde_json::from_slice(body).ok()?;
        [
            "/statusUrl",
            "/status_url",
            "/statusURL",
            "/monitor",
            "/links/status",
            "/_links/status/href",
            "/links/self",
            "/_links/self/href",
            "/href",
        ]
        .iter()
        .find_map(|pointer| value.pointer(pointer)?.as_str().map(str::to_owned))
    };
    let text = location.map(str::to_owned).or_else(from_body)?;
    let url = answered.join(text.trim()).ok()?;
    upstream.may_redirect_to(&url).then_some(url)
}

/// What a task id holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ticket {
    /// The operation's index in the table.
    pub tool: usize,
    /// The status URL.
    pub url: reqwest::Url,
    /// When the task began, in Unix seconds.
    pub created: u64,
    /// Who may read it (a verified identity; empty when the transport verified none).
    pub caller: String,
}

/// The identity a task is bound to: one the transport verified, which stays the same from
/// request to request (not a peer address).
pub(super) fn bound_caller(caller: CallerId<'_>) -> String {
    match caller {
        CallerId::Subject(_) | CallerId::McpToken(_) => caller.to_string(),
        CallerId::Peer(_) | CallerId::Http | CallerId::Stdio => String::new(),
    }
}

impl Ticket {
    /// The task id: `t1.<payload, base64url>.<tag, base64url>`.
    pub fn seal(&self, key: &StateKey) -> String {
        let payload = json!({
            "t": self.tool,
            "u": self.url.as_str(),
            "c": self.created,
            "w": self.caller,
        })
        .to_string();
        let tag = key.sign(payload.as_bytes());
        format!(
            "{TICKET_PREFIX}.{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The ticket in `id`, if this key sealed it for `caller` and it has not expired at `now`.
    pub fn open(id: &str, key: &StateKey, caller: &str, now: SystemTime) -> Result<Self, String> {
        let unknown = || "no task has this id on this server".to_owned();
        let mut parts = id.split('.');
        let (Some(TICKET_PREFIX), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(unknown());
        };
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| unknown())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| unknown())?;
        if !key.verify(&payload, &tag) {
            return Err(unknown());
        }
        let value: Value = serde_json::from_slice(&payload).map_err(|_| unknown())?;
        let ticket = Ticket {
            tool: value["t"].as_u64().ok_or_else(unknown)? as usize,
            url: value["u"]
                .as_str()
                .and_then(|u| reqwest::Url::parse(u).ok())
                .ok_or_else(unknown)?,
            created: value["c"].as_u64().ok_or_else(unknown)?,
            caller: value["w"].as_str().ok_or_else(unknown)?.to_owned(),
        };
        if ticket.caller != caller {
            return Err(unknown());
        }
        let age = unix_seconds(now).saturating_sub(ticket.created);
        if age > TASK_LIFETIME.as_secs() {
            return Err("the task has expired; call the tool again".to_owned());
        }
        Ok(ticket)
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Where accepted work stands, as a status answer says.
#[derive(Debug, PartialEq)]
pub(super) enum Phase {
    /// Still going (with the upstream's word for it).
    Working(Option<String>),
    /// Done: the answer is the result.
    Done,
    /// Done, and it failed: the answer says why.
    Failed,
    /// Cancelled.
    Cancelled,
}

/// The phase a status answer (`status`, its JSON `body`) reports: a 202 is still working; an
/// error status is a failure of the call; otherwise the answer's `status` (or `state`,
/// `phase`, `provisioningState`; or Google's `done`), and an answer with none of them is the
/// result itself.
pub(super) fn phase(status: http::StatusCode, body: &[u8]) -> Phase {
    if status == http::StatusCode::ACCEPTED {
        return Phase::Working(None);
    }
    if !status.is_success() {
        return Phase::Done;
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Phase::Done;
    };
    if let Some(done) = value.get("done").and_then(Value::as_bool) {
        return match (done, value.get("error").is_some()) {
            (false, _) => Phase::Working(None),
            (true, true) => Phase::Failed,
            (true, false) => Phase::Done,
        };
    }
    let word = ["status", "state", "phase", "provisioningState"]
        .iter()
        .flat_map(|key| {
            [
                value.get(*key),
                value.get("data").and_then(|d| d.get(*key)),
                value.get("operation").and_then(|d| d.get(*key)),
                value.get("job").and_then(|d| d.get(*key)),
            ]
        })
        .flatten()
        .find_map(Value::as_str);
    let Some(word) = word else {
        return Phase::Done;
    };
    let folded: String = word
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match folded.as_str() {
        "succeeded" | "success" | "successful" | "completed" | "complete" | "done" | "finished"
        | "ok" | "ready" => Phase::Done,
        "failed" | "failure" | "error" | "errored" | "aborted" | "rejected" | "timedout"
        | "expired" => Phase::Failed,
        "cancelled" | "canceled" | "cancel" => Phase::Cancelled,
        _ => Phase::Working(Some(word.to_owned())),
    }
}

/// How long to wait before the next poll: what the upstream asked, within bounds.
pub(super) fn poll_interval(retry_after: Option<Duration>) -> Duration {
    retry_after
        .unwrap_or(DEFAULT_POLL)
        .clamp(MIN_POLL, MAX_POLL)
}

fn iso(unix: u64) -> String {
    rfc3339_millis(UNIX_EPOCH + Duration::from_secs(unix))
}

impl GeneratedServer {
    /// Whether some operation runs long (and the tasks extension is offered).
    pub(super) fn has_long_running(&self) -> bool {
        self.state.api.tools.iter().any(|t| t.long_running)
    }

    /// A task for accepted work, for a client that takes tasks.
    pub(super) fn create_task(
        &self,
        index: usize,
        url: reqwest::Url,
        inbound: Inbound<'_>,
        retry_after: Option<Duration>,
    ) -> CreateTaskResult {
        let now = SystemTime::now();
        let ticket = Ticket {
            tool: index,
            url,
            created: unix_seconds(now),
            caller: bound_caller(inbound.caller_id()),
        };
        let id = ticket.seal(&self.state.confirm_key);
        let at = rfc3339_millis(now);
        let task = Task::new(id, rmcp::model::TaskStatus::Working, at.clone(), at)
            .with_ttl_ms(TASK_LIFETIME.as_millis() as u64)
            .with_poll_interval_ms(poll_interval(retry_after).as_millis() as u64)
            .with_status_message("The upstream accepted the work; it is under way.");
        CreateTaskResult::new(task)
    }

    /// Reads the status URL once, with the operation's credentials.
    pub(super) async fn poll_status(
        &self,
        tool: &ToolDescriptor,
        url: &reqwest::Url,
        credentials: &ChosenCredentials,
    ) -> Exchange {
        match self.follow_up(tool, url.clone(), credentials) {
            Ok(prepared) => self.send_with_retries(tool, &prepared).await.0,
            Err(e) => Exchange::Failed(e.to_string()),
        }
    }

    /// Waits for accepted work, for a client that does not take tasks: polls the status URL
    /// until the work is done (its last answer) or `--task-wait-secs` have passed (a line
    /// saying that the work goes on).
    pub(super) async fn wait_for_work(
        &self,
        tool: &ToolDescriptor,
        url: reqwest::Url,
        credentials: &ChosenCredentials,
        mut retry_after: Option<Duration>,
    ) -> Result<Exchange, String> {
        let started = std::time::Instant::now();
        let limit = self.state.config.task_wait;
        let mut polls = 0u64;
        loop {
            let wait = poll_interval(retry_after);
            if started.elapsed() + wait > limit {
                let message = format!(
                    "The upstream accepted the work and it is still under way after {} s; its \
                     status is at {}. A client that takes MCP tasks gets a task to follow instead.",
                    started.elapsed().as_secs(),
                    url.path()
                );
                return Err(message);
            }
            tokio::time::sleep(wait).await;
            let exchange = self.poll_status(tool, &url, credentials).await;
            polls += 1;
            let Exchange::Answer {
                status,
                body,
                retry_after: asked,
                ..
            } = &exchange
            else {
                return Ok(exchange);
            };
            match phase(*status, body) {
                Phase::Working(word) => {
                    retry_after = *asked;
                    notify::progress(Some(polls), None, || match &word {
                        Some(word) => format!("the work is under way ({word})"),
                        None => "the work is under way".to_owned(),
                    })
                    .await;
                }
                _ => return Ok(exchange),
            }
        }
    }

    /// `tasks/get`: polls the task's status URL and reports where the work stands, with the
    /// result once it is done.
    pub(super) async fn task_status(
        &self,
        id: &str,
        inbound: Inbound<'_>,
    ) -> Result<GetTaskResult, McpError> {
        let (index, tool, ticket) = self.open_ticket(id, inbound)?;
        let credentials = self
            .credentials_for(tool, inbound)
            .await
            .map_err(|e| McpError::invalid_request(e.to_string(), None))?;
        let exchange = self.poll_status(tool, &ticket.url, &credentials).await;
        let now = rfc3339_millis(SystemTime::now());
        let mut task = Task::new(
            id,
            rmcp::model::TaskStatus::Working,
            iso(ticket.created),
            now,
        )
        .with_ttl_ms(TASK_LIFETIME.as_millis() as u64);
        // A status that cannot be read (an error answer after the retries, or none) is no
        // answer about the work: the task failed, with the protocol's error, not a result.
        let (phase, retry_after) = match &exchange {
            Exchange::Answer {
                status,
                body,
                retry_after,
                ..
            } if status.is_success() => (phase(*status, body), *retry_after),
            Exchange::Answer { status, .. } => {
                let message = format!("the work's status URL answered {status}");
                return Ok(failed_task(task, message));
            }
            Exchange::Failed(message) => {
                let message = format!("the work's status could not be read: {message}");
                return Ok(failed_task(task, message));
            }
        };
        let payload = match phase {
            Phase::Working(word) => {
                task = task
                    .with_poll_interval_ms(poll_interval(retry_after).as_millis() as u64)
                    .with_status_message(match word {
                        Some(word) => format!("The work is under way ({word})."),
                        None => "The work is under way.".to_owned(),
                    });
                TaskPayload::Working
            }
            Phase::Cancelled => TaskPayload::Cancelled,
            Phase::Done | Phase::Failed => {
                let mut result = self.shape(index, tool, &exchange, 1, &credentials);
                if phase == Phase::Failed {
                    result.is_error = Some(true);
                    result.content.push(ContentBlock::text(
                        "The upstream reports that the work failed.",
                    ));
                }
                TaskPayload::Completed {
                    result: result_object(&result),
                }
            }
        };
        Ok(GetTaskResult::new(DetailedTask::new(task, payload)))
    }

    /// `tasks/cancel`: sends the document's cancel operation for the task's status URL (a
    /// DELETE on its path), when the document has one.
    pub(super) async fn cancel_task(&self, id: &str, inbound: Inbound<'_>) -> Result<(), McpError> {
        let (_, tool, ticket) = self.open_ticket(id, inbound)?;
        let api = self.state.api;
        let base = self.upstream_of(tool).base_path_len();
        let path = &ticket.url.path()[base.min(ticket.url.path().len())..];
        let Some(cancel) = api.tools.iter().find(|t| {
            t.plan.method == HttpMethod::Delete
                && self.is_served(t)
                && self.api_of(t) == self.api_of(tool)
                && path_matches(t.plan.path, path)
        }) else {
            return Err(McpError::invalid_params(
                format!(
                    "the API documents no way to cancel this work (no DELETE operation on {path}); \
                     the task goes on"
                ),
                None,
            ));
        };
        let credentials = self
            .credentials_for(cancel, inbound)
            .await
            .map_err(|e| McpError::invalid_request(e.to_string(), None))?;
        let mut prepared = self
            .follow_up(cancel, ticket.url.clone(), &credentials)
            .map_err(|e| McpError::invalid_request(e.to_string(), None))?;
        prepared.method = http::Method::DELETE;
        match self.send_with_retries(cancel, &prepared).await.0 {
            Exchange::Answer { status, .. } if status.is_success() => Ok(()),
            Exchange::Answer { status, .. } => Err(McpError::internal_error(
                format!("the upstream answered {status} to the cancel request"),
                None,
            )),
            Exchange::Failed(message) => Err(McpError::internal_error(message, None)),
        }
    }

    fn open_ticket(
        &self,
        id: &str,
        inbound: Inbound<'_>,
    ) -> Result<(usize, &'static ToolDescriptor, Ticket), McpError> {
        let caller = bound_caller(inbound.caller_id());
        let ticket = Ticket::open(id, &self.state.confirm_key, &caller, SystemTime::now())
            .map_err(|message| McpError::invalid_params(message, None))?;
        let tool = self
            .state
            .api
            .tools
            .get(ticket.tool)
            .filter(|t| t.long_running && self.is_served(t))
            .ok_or_else(|| {
                McpError::invalid_params("no task has this id on this server".to_owned(), None)
            })?;
        Ok((ticket.tool, tool, ticket))
    }
}

/// `task`, failed with an internal error saying `message`.
fn failed_task(task: Task, message: String) -> GetTaskResult {
    let mut error = JsonObject::new();
    error.insert("code".to_owned(), json!(-32603));
    error.insert("message".to_owned(), json!(message));
    GetTaskResult::new(DetailedTask::new(task, TaskPayload::Failed { error }))
}

/// A tool result as the JSON object a completed task carries.
fn result_object(result: &CallToolResult) -> JsonObject {
    match serde_json::to_value(result) {
        Ok(Value::Object(object)) => object,
        _ => JsonObject::new(),
    }
}

/// Whether the concrete `path` fits the `template` (`/jobs/{id}` fits `/jobs/7`).
fn path_matches(template: &str, path: &str) -> bool {
    let mut want = template.trim_matches('/').split('/');
    let mut have = path.trim_matches('/').split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) => {
                let variable = w.starts_with('{') && w.ends_with('}');
                if !(variable && !h.is_empty() || w == h) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream() -> Upstream {
        Upstream::parse("http://127.0.0.1:8080/v1").unwrap()
    }

    #[test]
    fn status_urls_come_from_headers_or_the_body_and_stay_on_the_upstream() {
        let here = reqwest::Url::parse("http://127.0.0.1:8080/v1/jobs").unwrap();
        let url = |location, body: &str| {
            status_url(location, body.as_bytes(), &here, &upstream()).map(|u| u.to_string())
        };
        assert_eq!(
            url(Some("/v1/jobs/7"), ""),
            Some("http://127.0.0.1:8080/v1/jobs/7".into())
        );
        assert_eq!(
            url(None, r#"{"statusUrl": "jobs/8"}"#),
            Some("http://127.0.0.1:8080/v1/jobs/8".into())
        );
        assert_eq!(url(Some("http://169.254.169.254/"), ""), None);
        assert_eq!(url(Some("/admin/jobs/7"), ""), None);
        assert_eq!(url(None, "{}"), None);
    }

    #[test]
    fn tickets_open_only_for_their_caller_with_their_key_in_their_time() {
        let key = StateKey::random().unwrap();
        let ticket = Ticket {
            tool: 3,
            url: reqwest::Url::parse("http://127.0.0.1:8080/v1/jobs/7").unwrap(),
            created: unix_seconds(SystemTime::now()),
            caller: "alice".into(),
        };
        let id = ticket.seal(&key);
        let now = SystemTime::now();
        assert_eq!(Ticket::open(&id, &key, "alice", now), Ok(ticket.clone()));
        assert!(Ticket::open(&id, &key, "bob", now).is_err());
        assert!(Ticket::open(&id, &StateKey::random().unwrap(), "alice", now).is_err());
        let later = now + TASK_LIFETIME + Duration::from_secs(5);
        assert!(
            Ticket::open(&id, &key, "alice", later)
                .unwrap_err()
                .contains("expired")
        );
        // A payload changed by hand no longer matches its tag.
        let forged = id.replacen("t1.", "t1.e", 1);
        assert!(Ticket::open(&forged, &key, "alice", now).is_err());
        assert!(Ticket::open("anything", &key, "alice", now).is_err());
    }

    #[test]
    fn phases_are_read_from_what_apis_say() {
        let ok = http::StatusCode::OK;
        let p = |body: &str| phase(ok, body.as_bytes());
        assert_eq!(phase(http::StatusCode::ACCEPTED, b""), Phase::Working(None));
        assert_eq!(
            p(r#"{"status": "running"}"#),
            Phase::Working(Some("running".into()))
        );
        assert_eq!(p(r#"{"status": "Succeeded"}"#), Phase::Done);
        assert_eq!(p(r#"{"provisioningState": "Failed"}"#), Phase::Failed);
        assert_eq!(
            p(r#"{"data": {"state": "in_progress"}}"#),
            Phase::Working(Some("in_progress".into()))
        );
        assert_eq!(p(r#"{"status": "canceled"}"#), Phase::Cancelled);
        assert_eq!(p(r#"{"done": false}"#), Phase::Working(None));
        assert_eq!(p(r#"{"done": true, "error": {"code": 3}}"#), Phase::Failed);
        assert_eq!(p(r#"{"id": 1, "name": "report"}"#), Phase::Done);
        assert_eq!(phase(http::StatusCode::NOT_FOUND, b"{}"), Phase::Done);
        assert!(path_matches("/jobs/{id}", "/jobs/7"));
        assert!(!path_matches("/jobs/{id}", "/jobs/7/log"));
        assert!(!path_matches("/jobs/{id}", "/jobs/"));
        assert_eq!(poll_interval(Some(Duration::ZERO)), MIN_POLL);
        assert_eq!(poll_interval(Some(Duration::from_secs(3600))), MAX_POLL);
    }
}
