//! Turns the upstream's answer into an MCP tool result: JSON becomes structured content, other
//! text stays text, images become image content, and every non-2xx answer is a tool error
//! (`isError`) that carries the status and a bounded piece of the body.

use base64::Engine as _;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use serde_json::Value;

use super::descriptor::{StreamFormat, ToolDescriptor};
use super::mask::Masker;

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
    /// What the answer has masked before the model sees it, if anything.
    pub mask: Option<&'a Masker>,
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
            text.push_str(&shown_text(answer, &media));
        }
        if answer.truncated {
            text.push_str(&truncation_notice(answer.body.len()));
        }
        return CallToolResult::error(vec![ContentBlock::text(text)]);
    }

    if let Some(declared) = tool.stream {
        return stream_result(tool, stream_format(&media, declared), answer);
    }

    if answer.body.is_empty() {
        return CallToolResult::success(vec![ContentBlock::text(format!(
            "The call succeeded ({status_line}) with an empty body."
        ))]);
    }

    if answer.truncated {
        let mut text = shown_text(answer, &media);
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
        && let Ok(mut value) = serde_json::from_slice::<Value>(answer.body)
    {
        let text = match answer.mask {
            Some(mask) => {
                mask.mask_value(&mut value);
                value.to_string()
            }
            // The body as it came: no second serialisation of a large answer.
            None => String::from_utf8_lossy(answer.body).into_owned(),
        };
        if tool.output_schema.is_some() && !tool.output_wrapped && !value.is_object() {
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "{} The API documents a JSON object, but the body is {}:\n{text}",
                performed(answer, &status_line),
                json_kind(&value),
            ))]);
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        if tool.output_schema.is_some() {
            result.structured_content = Some(if tool.output_wrapped {
                serde_json::json!({ "result": value })
            } else {
                value
            });
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
            excerpt(&shown_text(answer, &media))
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

    CallToolResult::success(vec![ContentBlock::text(shown_text(answer, &media))])
}

/// Whether a `Content-Type` is one of the sequential media types a stream tool reads.
pub fn is_stream_media(content_type: Option<&str>) -> bool {
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase())
        .unwrap_or_default();
    matches!(
        media.as_str(),
        "text/event-stream"
            | "application/json-seq"
            | "application/jsonl"
            | "application/x-jsonl"
            | "application/jsonlines"
            | "application/x-jsonlines"
            | "application/x-ndjson"
            | "application/ndjson"
    )
}

/// The format of an answer of media type `media` (lower case) to a tool that declared
/// `declared`: what the upstream says it sent, when it names a stream type.
fn stream_format(media: &str, declared: StreamFormat) -> StreamFormat {
    let events = matches!(
        declared,
        StreamFormat::Events | StreamFormat::EventsJson | StreamFormat::EventData
    );
    match media {
        "text/event-stream" if events => declared,
        "text/event-stream" => StreamFormat::EventData,
        "application/json-seq" => StreamFormat::JsonSeq,
        "application/jsonl"
        | "application/x-jsonl"
        | "application/jsonlines"
        | "application/x-jsonlines"
        | "application/x-ndjson"
        | "application/ndjson" => StreamFormat::JsonLines,
        _ => declared,
    }
}

/// The result of a stream tool: the items read, as a list (`{"result": [...]}` in the
/// structured content), with a notice when the stream was cut at the response limit or
/// stopped early; an item cut in the middle is left out.
fn stream_result(
    tool: &ToolDescriptor,
    format: StreamFormat,
    answer: &UpstreamAnswer<'_>,
) -> CallToolResult {
    let mut list = Value::Array(stream_items(format, answer.body, answer.truncated));
    if let Some(mask) = answer.mask {
        mask.mask_value(&mut list);
    }
    let mut text = list.to_string();
    if answer.truncated {
        text.push_str(&format!(
            "\n[The stream was cut after {} bytes (the response limit, or the stream stopped \
             early): the {} complete items read are returned, later ones are not. Narrow the \
             request to see all of them.]",
            answer.body.len(),
            list.as_array().map_or(0, Vec::len)
        ));
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    if tool.output_schema.is_some() {
        result.structured_content = Some(serde_json::json!({ "result": list }));
    }
    result
}

/// Splits a stream body into its items. With `cut`, the body ends inside the stream, so an
/// unterminated last item is incomplete and left out.
pub fn stream_items(format: StreamFormat, body: &[u8], cut: bool) -> Vec<Value> {
    let text = String::from_utf8_lossy(body);
    let json_or_text = |piece: &str| {
        serde_json::from_str::<Value>(piece).unwrap_or_else(|_| Value::String(piece.to_owned()))
    };
    match format {
        StreamFormat::JsonLines => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            // The piece after the last line feed is complete only when the stream ended.
            if cut {
                lines.pop();
            }
            lines
                .into_iter()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.trim().is_empty())
                .map(json_or_text)
                .collect()
        }
        StreamFormat::JsonSeq => {
            let mut records: Vec<&str> = text.split('\u{1e}').collect();
            if cut && !text.ends_with('\n') {
                records.pop();
            }
            records
                .into_iter()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(json_or_text)
                .collect()
        }
        StreamFormat::Events | StreamFormat::EventsJson | StreamFormat::EventData => {
            server_sent_events(&text, cut)
                .into_iter()
                .filter_map(|event| {
                    let data = event.data?;
                    match format {
                        // `[DONE]` ends some JSON event streams; it is no item.
                        StreamFormat::EventData if data == "[DONE]" => None,
                        StreamFormat::EventData => Some(json_or_text(&data)),
                        _ => {
                            let mut item = serde_json::Map::new();
                            let data = if format == StreamFormat::EventsJson {
                                json_or_text(&data)
                            } else {
                                Value::String(data)
                            };
                            item.insert("data".into(), data);
                            if let Some(name) = event.event {
                                item.insert("event".into(), Value::String(name));
                            }
                            if let Some(id) = event.id {
                                item.insert("id".into(), Value::String(id));
                            }
                            if let Some(retry) = event.retry {
                                item.insert("retry".into(), Value::from(retry));
                            }
                            Some(Value::Object(item))
                        }
                    }
                })
                .collect()
        }
    }
}

/// One server-sent event.
#[derive(Debug, Default)]
struct Event {
    data: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
}

/// Parses `text/event-stream` text (the WHATWG HTML standard's event stream format): fields
/// per line, an event per blank line, comments skipped. Events without data are dropped. An
/// event not ended by a blank line is kept only when the stream was not cut.
fn server_sent_events(text: &str, cut: bool) -> Vec<Event> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut current = Event::default();
    let mut data: Vec<&str> = Vec::new();
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let finish = |current: &mut Event, data: &mut Vec<&str>, out: &mut Vec<Event>| {
        let mut event = std::mem::take(current);
        if !data.is_empty() {
            event.data = Some(data.join("\n"));
            data.clear();
            out.push(event);
        }
    };
    let mut lines = normalized.split('\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        if line.is_empty() {
            if !last {
                finish(&mut current, &mut data, &mut out);
            }
            continue;
        }
        if last && cut {
            // A line cut in the middle; its event is incomplete too.
            break;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => data.push(value),
            "event" => current.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => current.id = Some(value.to_owned()),
            "retry" => current.retry = value.parse().ok(),
            _ => {}
        }
    }
    if !cut {
        finish(&mut current, &mut data, &mut out);
    }
    out
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

/// The body as text for the model, masked.
fn shown_text(answer: &UpstreamAnswer<'_>, media: &str) -> String {
    let text = body_text(answer.body, media);
    match answer.mask {
        Some(mask) => match mask.mask_text(&text) {
            std::borrow::Cow::Owned(masked) => masked,
            std::borrow::Cow::Borrowed(_) => text,
        },
        None => text,
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
    use super::super::tests::TOOL;
    use super::*;

    fn tool(output: bool, wrapped: bool) -> ToolDescriptor {
        ToolDescriptor {
            output_schema: output.then_some("{}"),
            output_wrapped: wrapped,
            ..TOOL
        }
    }

    fn answer<'a>(status: u16, ct: Option<&'a str>, body: &'a [u8]) -> UpstreamAnswer<'a> {
        UpstreamAnswer {
            status: http::StatusCode::from_u16(status).unwrap(),
            content_type: ct,
            body,
            truncated: false,
            request: "GET /x",
            mask: None,
        }
    }

    fn stream_tool(format: StreamFormat) -> ToolDescriptor {
        ToolDescriptor {
            stream: Some(format),
            ..tool(true, true)
        }
    }

    #[test]
    fn event_streams_become_lists_of_events() {
        let body = b": comment\nevent: tick\nid: 1\ndata: {\"seq\": 1}\n\nretry: 50\ndata: two\ndata: lines\r\n\r\ndata: [DONE]\n\n";
        let r = to_tool_result(
            &stream_tool(StreamFormat::Events),
            &answer(200, Some("text/event-stream; charset=utf-8"), body),
        );
        assert_eq!(r.is_error, Some(false));
        assert_eq!(
            r.structured_content,
            Some(serde_json::json!({"result": [
                {"data": "{\"seq\": 1}", "event": "tick", "id": "1"},
                {"data": "two\nlines", "retry": 50},
                {"data": "[DONE]"}
            ]}))
        );
        let r = to_tool_result(
            &stream_tool(StreamFormat::EventsJson),
            &answer(200, Some("text/event-stream"), body),
        );
        assert_eq!(
            r.structured_content.unwrap()["result"][0],
            serde_json::json!({"data": {"seq": 1}, "event": "tick", "id": "1"})
        );
        let r = to_tool_result(
            &stream_tool(StreamFormat::EventData),
            &answer(200, Some("text/event-stream"), body),
        );
        assert_eq!(
            r.structured_content,
            Some(serde_json::json!({"result": [{"seq": 1}, "two\nlines"]}))
        );
    }

    #[test]
    fn json_lines_and_sequences_become_lists() {
        let r = to_tool_result(
            &stream_tool(StreamFormat::JsonLines),
            &answer(200, Some("application/jsonl"), b"{\"a\":1}\n\n[2]\r\n3\n"),
        );
        assert_eq!(
            r.structured_content,
            Some(serde_json::json!({"result": [{"a": 1}, [2], 3]}))
        );
        let r = to_tool_result(
            &stream_tool(StreamFormat::JsonSeq),
            &answer(
                200,
                Some("application/json-seq"),
                b"\x1e{\"a\":1}\n\x1e\"b\"\n",
            ),
        );
        assert_eq!(
            r.structured_content,
            Some(serde_json::json!({"result": [{"a": 1}, "b"]}))
        );
        // The upstream's own media type wins over the declared one.
        let r = to_tool_result(
            &stream_tool(StreamFormat::JsonSeq),
            &answer(200, Some("application/x-ndjson"), b"1\n2\n"),
        );
        assert_eq!(
            r.structured_content,
            Some(serde_json::json!({"result": [1, 2]}))
        );
    }

    #[test]
    fn a_cut_stream_keeps_its_complete_items_with_a_notice() {
        let mut cut = answer(
            200,
            Some("application/jsonl"),
            b"{\"a\":1}\n{\"a\":2}\n{\"a\":",
        );
        cut.truncated = true;
        let r = to_tool_result(&stream_tool(StreamFormat::JsonLines), &cut);
        assert_eq!(r.is_error, Some(false));
        assert_eq!(
            r.structured_content,
            Some(serde_json::json!({"result": [{"a": 1}, {"a": 2}]}))
        );
        let text = r.content[0].as_text().unwrap().text.clone();
        assert!(text.contains("The stream was cut after 21 bytes"), "{text}");
        assert!(text.contains("the 2 complete items"), "{text}");

        let mut cut = answer(
            200,
            Some("text/event-stream"),
            b"data: 1\n\ndata: 2\n\ndata: 3",
        );
        cut.truncated = true;
        let r = to_tool_result(&stream_tool(StreamFormat::EventData), &cut);
        assert_eq!(
            r.structured_content,
            Some(serde_json::json!({"result": [1, 2]}))
        );
        assert!(is_stream_media(Some("text/event-stream; charset=utf-8")));
        assert!(!is_stream_media(Some("application/json")));
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
