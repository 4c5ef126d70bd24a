//! Turns the upstream's answer into an MCP tool result: JSON becomes structured content, other
//! text stays text, images become image content, and every non-2xx answer is a tool error
//! (`isError`) that carries the status and a bounded piece of the body.

use base64::Engine as _;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use serde_json::Value;

use super::descriptor::ToolDescriptor;

/// The upstream's answer, its body already read up to the configured limit.
#[derive(Debug)]
pub struct UpstreamAnswer<'a> {
    /// HTTP status.
    pub status: http::StatusCode,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The body, at most the configured number of bytes.
    pub body: &'a [u8],
    /// Whether the body was cut at the limit.
    pub truncated: bool,
    /// `METHOD /path` of the request, for messages.
    pub request: &'a str,
}

/// Builds the tool result for an upstream answer.
pub fn to_tool_result(tool: &ToolDescriptor, answer: &UpstreamAnswer<'_>) -> CallToolResult {
    let media = answer
        .content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let is_json = media == "application/json" || media.ends_with("+json");
    let status_line = status_line(answer.status);

    if !answer.status.is_success() {
        let mut text = format!(
            "The upstream API answered {status_line} to {}.",
            answer.request
        );
        if !answer.body.is_empty() {
            text.push('\n');
            text.push_str(&body_text(answer.body, &media));
        }
        if answer.truncated {
            text.push_str(&truncation_notice(answer.body.len()));
        }
        return CallToolResult::error(vec![ContentBlock::text(text)]);
    }

    if answer.body.is_empty() {
        return CallToolResult::success(vec![ContentBlock::text(format!(
            "The call succeeded ({status_line}) with an empty body."
        ))]);
    }

    if answer.truncated {
        let mut text = body_text(answer.body, &media);
        text.push_str(&truncation_notice(answer.body.len()));
        if tool.output_schema.is_some() {
            // A cut JSON document cannot be the structured result the tool promises.
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "{} The response is too large to return as a structured result.\n{text}",
                performed(answer, &status_line)
            ))]);
        }
        return CallToolResult::success(vec![ContentBlock::text(text)]);
    }

    if media.starts_with("image/") {
        let data = base64::engine::general_purpose::STANDARD.encode(answer.body);
        return CallToolResult::success(vec![ContentBlock::image(data, media)]);
    }
    if media.starts_with("audio/") {
        let data = base64::engine::general_purpose::STANDARD.encode(answer.body);
        return CallToolResult::success(vec![ContentBlock::audio(data, media)]);
    }

    // Some APIs send JSON with no or a generic content type; try JSON whenever the tool
    // promises JSON or the type says so.
    if (is_json || tool.output_schema.is_some() || media.is_empty())
        && let Ok(value) = serde_json::from_slice::<Value>(answer.body)
    {
        let text = String::from_utf8_lossy(answer.body).into_owned();
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        if tool.output_schema.is_some() {
            if tool.output_wrapped {
                result.structured_content = Some(serde_json::json!({ "result": value }));
            } else if value.is_object() {
                result.structured_content = Some(value);
            } else {
                return CallToolResult::error(vec![ContentBlock::text(format!(
                    "{} The API documents a JSON object, but the body is {}:\n{}",
                    performed(answer, &status_line),
                    json_kind(&value),
                    body_text(answer.body, &media)
                ))]);
            }
        }
        return result;
    }

    if tool.output_schema.is_some() {
        let what = if is_json || media.is_empty() {
            "the body is not valid JSON".to_owned()
        } else {
            format!("the body is {media}, not JSON")
        };
        return CallToolResult::error(vec![ContentBlock::text(format!(
            "{} The API documents a JSON response, but {what}:\n{}",
            performed(answer, &status_line),
            excerpt(&body_text(answer.body, &media))
        ))]);
    }

    if !is_textual(&media) && std::str::from_utf8(answer.body).is_err() {
        // Other binary content travels as an embedded resource the client can save or show.
        let blob = base64::engine::general_purpose::STANDARD.encode(answer.body);
        let uri = format!(
            "mcpgen://response{}",
            answer.request.split_once(' ').map_or("", |(_, p)| p)
        );
        return CallToolResult::success(vec![
            ContentBlock::text(format!(
                "The call succeeded with {} bytes of {}.",
                answer.body.len(),
                if media.is_empty() {
                    "binary content"
                } else {
                    &media
                }
            )),
            ContentBlock::resource(ResourceContents::BlobResourceContents {
                uri,
                mime_type: Some(if media.is_empty() {
                    "application/octet-stream".to_owned()
                } else {
                    media
                }),
                blob,
                meta: None,
            }),
        ]);
    }

    CallToolResult::success(vec![ContentBlock::text(body_text(answer.body, &media))])
}

fn is_textual(media: &str) -> bool {
    media.starts_with("text/")
        || media.contains("json")
        || media.contains("xml")
        || media.contains("javascript")
        || media.contains("yaml")
        || media == "application/x-www-form-urlencoded"
}

/// Says that the request itself went through, so that a model does not blindly repeat a call
/// that changed something.
fn performed(answer: &UpstreamAnswer<'_>, status_line: &str) -> String {
    format!(
        "The upstream API answered {status_line} to {}: the request was carried out, but its \
         answer cannot be returned as documented.",
        answer.request
    )
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The first 2,000 characters of a body, for messages about unexpected answers.
fn excerpt(text: &str) -> String {
    if text.chars().count() <= 2000 {
        return text.to_owned();
    }
    let cut: String = text.chars().take(2000).collect();
    format!("{cut}…")
}

fn status_line(status: http::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

fn body_text(body: &[u8], media: &str) -> String {
    let textual = media.is_empty() || is_textual(media);
    match std::str::from_utf8(body) {
        Ok(text) if textual || !text.contains('\0') => text.to_owned(),
        _ => format!(
            "[binary body of {} bytes, content type {}]",
            body.len(),
            if media.is_empty() { "unknown" } else { media }
        ),
    }
}

fn truncation_notice(limit: usize) -> String {
    format!(
        "\n[The response was cut after {limit} bytes. Narrow the request (filters, a smaller \
         page size) to see all of it.]"
    )
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::{CallPlan, HttpMethod, ToolHints};
    use super::*;

    fn tool(output: bool, wrapped: bool) -> ToolDescriptor {
        ToolDescriptor {
            name: "t",
            title: None,
            description: "",
            input_schema: "{}",
            output_schema: output.then_some("{}"),
            output_wrapped: wrapped,
            hints: ToolHints {
                read_only: true,
                destructive: false,
                idempotent: true,
            },
            plan: CallPlan {
                method: HttpMethod::Get,
                path: "/",
                params: &[],
                body: None,
                security: &[],
                oauth_scopes: &[],
            },
            tags: &[],
            search_only: false,
        }
    }

    fn answer<'a>(status: u16, ct: Option<&'a str>, body: &'a [u8]) -> UpstreamAnswer<'a> {
        UpstreamAnswer {
            status: http::StatusCode::from_u16(status).unwrap(),
            content_type: ct,
            body,
            truncated: false,
            request: "GET /x",
        }
    }

    #[test]
    fn json_object_becomes_structured_content() {
        let r = to_tool_result(
            &tool(true, false),
            &answer(200, Some("application/json"), br#"{"a":1}"#),
        );
        assert_eq!(r.is_error, Some(false));
        assert_eq!(r.structured_content, Some(serde_json::json!({"a": 1})));
    }

    #[test]
    fn arrays_are_wrapped() {
        let r = to_tool_result(
            &tool(true, true),
            &answer(200, Some("application/json"), b"[1,2]"),
        );
        assert_eq!(
            r.structured_content,
            Some(serde_json::json!({"result": [1, 2]}))
        );
    }

    #[test]
    fn errors_carry_status_and_body_and_no_structured_content() {
        let r = to_tool_result(
            &tool(true, false),
            &answer(404, Some("application/json"), br#"{"message":"nope"}"#),
        );
        assert_eq!(r.is_error, Some(true));
        assert!(r.structured_content.is_none());
        let text = format!("{:?}", r.content);
        assert!(
            text.contains("HTTP 404 Not Found") && text.contains("nope"),
            "{text}"
        );
    }

    #[test]
    fn binary_images_and_text() {
        let r = to_tool_result(
            &tool(false, false),
            &answer(200, Some("image/png"), &[0x89, 0x50]),
        );
        assert!(matches!(&r.content[0], ContentBlock::Image(i) if i.mime_type == "image/png"));
        let r = to_tool_result(
            &tool(false, false),
            &answer(200, Some("application/pdf"), &[0x25, 0xff, 0xfe]),
        );
        assert_eq!(r.content.len(), 2);
        assert!(matches!(&r.content[1], ContentBlock::Resource(_)));
        let r = to_tool_result(&tool(false, false), &answer(200, Some("text/csv"), b"a,b"));
        assert_eq!(r.content[0].as_text().map(|t| t.text.as_str()), Some("a,b"));
    }

    #[test]
    fn empty_and_truncated_bodies() {
        let r = to_tool_result(&tool(false, false), &answer(204, None, b""));
        assert_eq!(r.is_error, Some(false));
        let mut a = answer(200, Some("application/json"), b"[1,2,");
        a.truncated = true;
        let r = to_tool_result(&tool(true, true), &a);
        assert!(r.structured_content.is_none());
        assert_eq!(
            r.is_error,
            Some(true),
            "a cut body cannot be the promised structure"
        );
        assert!(format!("{:?}", r.content).contains("cut after 5 bytes"));
        let r = to_tool_result(&tool(false, false), &a);
        assert_eq!(
            r.is_error,
            Some(false),
            "without a promise, a cut body is still useful"
        );
    }

    #[test]
    fn answers_that_break_the_documented_shape_are_errors() {
        let r = to_tool_result(
            &tool(true, false),
            &answer(200, Some("application/json"), b"{oops"),
        );
        assert_eq!(r.is_error, Some(true));
        let text = format!("{:?}", r.content);
        assert!(
            text.contains("not valid JSON") && text.contains("carried out"),
            "{text}"
        );
        let r = to_tool_result(
            &tool(true, false),
            &answer(200, Some("text/html"), b"<p>hi</p>"),
        );
        assert_eq!(r.is_error, Some(true));
        let r = to_tool_result(
            &tool(true, false),
            &answer(200, Some("application/json"), b"[1]"),
        );
        assert_eq!(r.is_error, Some(true));
        assert!(format!("{:?}", r.content).contains("an array"));
    }
}
