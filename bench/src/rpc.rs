//! The JSON-RPC messages the driver sends, and the checks on what comes back.

use serde_json::Value;

/// The protocol version the driver asks for.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// An `initialize` request.
pub fn initialize(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"initialize","params":{{"protocolVersion":"{PROTOCOL_VERSION}","capabilities":{{}},"clientInfo":{{"name":"mcpgen-bench","version":"0.1.0"}}}}}}"#
    )
}

/// The `notifications/initialized` notification.
pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// A request without parameters (`tools/list`, `ping`).
pub fn bare(id: u64, method: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}"}}"#)
}

/// `tools/call getPetById {"petId":"1"}`.
pub fn get_pet(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"getPetById","arguments":{{"petId":"1"}}}}}}"#
    )
}

/// How a call went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer (timeout, transport error, the server went away).
    Lost,
    /// An answer, but not the right one (wrong id, an error, the wrong pet).
    Wrong,
    /// More than one answer for the call.
    Duplicate,
}

/// A failed call: what kind of failure, and a message for the report.
#[derive(Debug, Clone)]
pub struct CallError {
    /// The kind, which the load test counts.
    pub kind: Failure,
    /// What happened.
    pub message: String,
}

impl CallError {
    /// A lost call.
    pub fn lost(message: impl Into<String>) -> Self {
        CallError {
            kind: Failure::Lost,
            message: message.into(),
        }
    }

    /// A wrong answer.
    pub fn wrong(message: impl Into<String>) -> Self {
        CallError {
            kind: Failure::Wrong,
            message: message.into(),
        }
    }

    /// A duplicated answer.
    pub fn duplicate(message: impl Into<String>) -> Self {
        CallError {
            kind: Failure::Duplicate,
            message: message.into(),
        }
    }
}

/// Checks that `message` is the successful answer to `tools/call getPetById` number `id`: the
/// same id, no error, and pet 1 ("Rex") as structured content.
pub fn check_pet_answer(message: &Value, id: u64) -> Result<(), CallError> {
    if message.get("id").and_then(Value::as_u64) != Some(id) {
        return Err(CallError::wrong(format!(
            "answer to call {id} carries id {}",
            message.get("id").unwrap_or(&Value::Null)
        )));
    }
    let result = message
        .get("result")
        .ok_or_else(|| CallError::wrong(format!("call {id} got no result: {message}")))?;
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        return Err(CallError::wrong(format!(
            "call {id} got a tool error: {result}"
        )));
    }
    let name = result
        .get("structuredContent")
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str);
    if name != Some("Rex") {
        return Err(CallError::wrong(format!(
            "call {id} got the wrong content: {result}"
        )));
    }
    Ok(())
}

/// Every JSON-RPC message in an HTTP response body: the `data:` of each server-sent event
/// when the body is an event stream, else the body itself (one message or a batch).
pub fn messages_in_body(event_stream: bool, body: &str) -> Result<Vec<Value>, String> {
    let mut messages = Vec::new();
    if event_stream {
        let mut data = String::new();
        // Events end at a blank line; an event's data lines are joined with newlines.
        for line in body.lines().chain(std::iter::once("")) {
            if line.is_empty() {
                if !data.trim().is_empty() {
                    let value: Value = serde_json::from_str(&data)
                        .map_err(|e| format!("bad JSON in an event: {e}: {data}"))?;
                    messages.push(value);
                }
                data.clear();
            } else if let Some(rest) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            }
        }
    } else if !body.trim().is_empty() {
        match serde_json::from_str(body).map_err(|e| format!("bad JSON body: {e}: {body}"))? {
            Value::Array(batch) => messages.extend(batch),
            one => messages.push(one),
        }
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_streams_and_plain_bodies_are_read() {
        let sse =
            "id: 0\nretry: 3000\ndata:\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n";
        let m = messages_in_body(true, sse).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0]["id"], 7);
        let m = messages_in_body(false, r#"{"jsonrpc":"2.0","id":1,"result":{}}"#).unwrap();
        assert_eq!(m[0]["id"], 1);
        assert!(messages_in_body(false, "").unwrap().is_empty());
    }

    #[test]
    fn pet_answers_are_checked() {
        let good: Value = serde_json::from_str(
            r#"{"jsonrpc":"2.0","id":3,"result":{"content":[],"structuredContent":{"id":"1","name":"Rex"},"isError":false}}"#,
        )
        .unwrap();
        assert!(check_pet_answer(&good, 3).is_ok());
        assert_eq!(check_pet_answer(&good, 4).unwrap_err().kind, Failure::Wrong);
        let error: Value = serde_json::from_str(
            r#"{"jsonrpc":"2.0","id":3,"result":{"content":[],"isError":true}}"#,
        )
        .unwrap();
        assert_eq!(
            check_pet_answer(&error, 3).unwrap_err().kind,
            Failure::Wrong
        );
    }
}
