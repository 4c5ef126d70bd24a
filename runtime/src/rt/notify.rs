//! Progress and log notifications about one request, sent to the client that made it.
//!
//! - **Progress** goes out only when the request carries a progress token: for each retry, each
//!   page read (`_pages`), a large upload, and a large download as it arrives.
//! - **Log messages** (`notifications/message`) go out only where the protocol allows them: on
//!   2026-07-28, only for a request whose `_meta` asks with `io.modelcontextprotocol/logLevel`,
//!   at that level or above; on earlier revisions, at the level the session chose with
//!   `logging/setLevel` (none until it does). They name the upstream request as `METHOD /path`
//!   and its status: never a query string, a header, an argument value or a body.
//!
//! The request's reporter is a task-local around the call, so that the call path reports without
//! carrying it through every function.
#![allow(deprecated)] // Logging is deprecated in MCP 2026-07-28 (SEP-2577), and still served.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rmcp::model::{
    LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
};
use rmcp::service::{Peer, RequestContext, RoleServer};
use serde_json::Value;

tokio::task_local! {
    static REPORTER: Reporter;
}

/// Where one request's notifications go, and which it wants.
pub struct Reporter {
    peer: Peer<RoleServer>,
    progress: Option<ProgressToken>,
    log_level: Option<LoggingLevel>,
    /// The last progress value sent: progress must increase with every notification.
    sent: AtomicU64,
}

/// A download's size when progress is reported for it: smaller ones are over at once.
pub const LARGE_BODY_BYTES: usize = 256 * 1024;

impl Reporter {
    /// The reporter of a request, or `None` when it wants no notification.
    pub fn for_request(
        context: &RequestContext<RoleServer>,
        session_level: Option<LoggingLevel>,
    ) -> Option<Reporter> {
        let progress = context.meta.get_progress_token();
        // 2026-07-28 has no initialize and no session: the level rides on each request.
        let log_level = if is_revision_2026(context) {
            context.meta.log_level()
        } else {
            session_level
        };
        (progress.is_some() || log_level.is_some()).then(|| Reporter {
            peer: context.peer.clone(),
            progress,
            log_level,
            sent: AtomicU64::new(0),
        })
    }

    /// Runs `call` with `reporter` as the request's reporter.
    pub async fn scope<F: Future>(reporter: Option<Reporter>, call: F) -> F::Output {
        match reporter {
            Some(reporter) => REPORTER.scope(reporter, call).await,
            None => call.await,
        }
    }
}

/// Reports progress, when the request asked for it: `done` of `total` (a count of bytes or
/// pages), or one more step when `done` is `None`.
pub async fn progress(done: Option<u64>, total: Option<u64>, message: impl FnOnce() -> String) {
    let Ok(Some((peer, param))) = REPORTER.try_with(|r| {
        let token = r.progress.clone()?;
        // Strictly increasing, whatever is counted.
        let previous = r.sent.load(Ordering::Relaxed);
        let value = done.unwrap_or(0).max(previous + 1);
        r.sent.store(value, Ordering::Relaxed);
        let mut param = ProgressNotificationParam::new(token, value as f64);
        param.total = total.map(|t| t.max(value) as f64);
        param.message = Some(message());
        Some((r.peer.clone(), param))
    }) else {
        return;
    };
    // A client that has gone away cannot be told; the call goes on.
    let _ = peer.notify_progress(param).await;
}

/// The levels the call path logs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A call done.
    Info,
    /// A retry, or a call the upstream refused.
    Warning,
    /// A call that got no answer.
    Error,
}

/// Sends a log message at `level`, when the request's (or session's) level lets it through.
pub async fn log(level: Level, message: impl FnOnce() -> String) {
    let level = match level {
        Level::Info => LoggingLevel::Info,
        Level::Warning => LoggingLevel::Warning,
        Level::Error => LoggingLevel::Error,
    };
    let Ok(Some(peer)) = REPORTER.try_with(|r| {
        r.log_level
            .filter(|wanted| severity(level) >= severity(*wanted))
            .map(|_| r.peer.clone())
    }) else {
        return;
    };
    let param =
        LoggingMessageNotificationParam::new(level, Value::String(message())).with_logger("mcpgen");
    let _ = peer.notify_logging_message(param).await;
}

/// Whether the request wants progress reports (so that counting is worth doing).
pub fn wants_progress() -> bool {
    REPORTER.try_with(|r| r.progress.is_some()).unwrap_or(false)
}

fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// The levels sessions chose with `logging/setLevel` (MCP before 2026-07-28), by session id
/// (`""` for stdio's one session). Bounded: a server that sees more sessions forgets them all,
/// and their clients get no messages until they set a level again.
#[derive(Default)]
pub struct SessionLevels(Mutex<HashMap<String, LoggingLevel>>);

const MAX_SESSIONS: usize = 10_000;

impl SessionLevels {
    /// The level session `id` chose.
    pub fn get(&self, id: &str) -> Option<LoggingLevel> {
        self.0.lock().ok()?.get(id).copied()
    }

    /// Session `id` chose `level`.
    pub fn set(&self, id: &str, level: LoggingLevel) {
        if let Ok(mut levels) = self.0.lock() {
            if levels.len() >= MAX_SESSIONS && !levels.contains_key(id) {
                levels.clear();
            }
            levels.insert(id.to_owned(), level);
        }
    }
}

/// Whether the request speaks MCP 2026-07-28 or later: no initialize, no session; what a
/// session held (a log level, a subscription) rides on each request or does not exist.
pub fn is_revision_2026(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|version| !version.has_initialize())
}

/// The session a request belongs to: its `Mcp-Session-Id` over HTTP, `""` over stdio; `None`
/// for a stateless HTTP request, which has no session to remember a level in.
pub fn session_of(context: &RequestContext<RoleServer>) -> Option<String> {
    match context.extensions.get::<http::request::Parts>() {
        Some(parts) => parts
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        None => Some(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_by_severity_and_sessions_are_bounded() {
        assert!(severity(LoggingLevel::Error) > severity(LoggingLevel::Warning));
        assert!(severity(LoggingLevel::Debug) < severity(LoggingLevel::Info));
        let levels = SessionLevels::default();
        levels.set("a", LoggingLevel::Info);
        assert_eq!(levels.get("a"), Some(LoggingLevel::Info));
        assert_eq!(levels.get("b"), None);
        for i in 0..MAX_SESSIONS {
            levels.set(&i.to_string(), LoggingLevel::Debug);
        }
        assert!(levels.0.lock().unwrap().len() <= MAX_SESSIONS);
    }

    #[tokio::test]
    async fn nothing_is_sent_outside_a_request_that_asked() {
        // No reporter in scope: these return at once.
        progress(Some(1), None, || unreachable!("not formatted")).await;
        log(Level::Error, || unreachable!("not formatted")).await;
        assert!(!wants_progress());
    }
}
