//! File content in tool arguments: base64 or a `data:` URI, decoded to bytes, and the
//! `multipart/form-data` encoding that carries such files upstream.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::params::scalar_text;

/// Bytes decoded from an argument, with the media type a `data:` URI named.
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The content.
    pub bytes: Vec<u8>,
    /// The media type from a data URI, if any.
    pub media_type: Option<String>,
}

/// Decodes `data:<type>;base64,<data>` or plain base64 (standard or URL-safe, padded or not).
pub(super) fn decode_content(text: &str) -> Result<Decoded, String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or("a data URI needs a comma before its data")?;
        let (media, is_base64) = match meta.strip_suffix(";base64") {
            Some(media) => (media, true),
            None => (meta, false),
        };
        let bytes = if is_base64 {
            decode_base64(data)?
        } else {
            percent_encoding::percent_decode_str(data).collect()
        };
        let media_type = (!media.is_empty()).then(|| media.to_owned());
        return Ok(Decoded { bytes, media_type });
    }
    Ok(Decoded {
        bytes: decode_base64(text)?,
        media_type: None,
    })
}

fn decode_base64(data: &str) -> Result<Vec<u8>, String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&compact).ok())
        .ok_or_else(|| "the content is neither base64 nor a base64 data URI".to_owned())
}

/// One file argument: `{content, filename?, contentType?}`.
fn file_part(value: &Value, field: &str) -> Result<(Vec<u8>, String, String), String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("file field `{field}` must be an object with `content`"))?;
    let content = object
        .get("content")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("file field `{field}` needs `content` (base64 or a data URI)"))?;
    let decoded = decode_content(content).map_err(|e| format!("file field `{field}`: {e}"))?;
    let filename = object
        .get("filename")
        .and_then(Value::as_str)
        .unwrap_or(field)
        .to_owned();
    let content_type = object
        .get("contentType")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or(decoded.media_type)
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    Ok((decoded.bytes, filename, content_type))
}

/// One part: field name, file name, content type, bytes.
type Part = (String, Option<String>, Option<String>, Vec<u8>);

/// Encodes `fields` as `multipart/form-data`; returns the body and its content type.
pub(super) fn multipart(
    fields: &Map<String, Value>,
    file_fields: &[&str],
) -> Result<(Vec<u8>, String), String> {
    let mut parts: Vec<Part> = Vec::new();
    for (name, value) in fields {
        if file_fields.contains(&name.as_str()) {
            let files: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for file in files {
                let (bytes, filename, content_type) = file_part(file, name)?;
                parts.push((name.clone(), Some(filename), Some(content_type), bytes));
            }
        } else {
            match value {
                Value::Array(items) => {
                    for item in items {
                        parts.push((name.clone(), None, None, scalar_text(item).into_bytes()));
                    }
                }
                Value::Object(_) => parts.push((
                    name.clone(),
                    None,
                    Some("application/json".to_owned()),
                    value.to_string().into_bytes(),
                )),
                other => parts.push((name.clone(), None, None, scalar_text(other).into_bytes())),
            }
        }
    }
    let boundary = boundary_for(&parts);
    let mut body = Vec::new();
    for (name, filename, content_type, bytes) in &parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", quote(name));
        if let Some(f) = filename {
            disposition.push_str(&format!("; filename=\"{}\"", quote(f)));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = content_type {
            if ct.contains(['\r', '\n']) {
                return Err(format!(
                    "the content type of `{name}` must not contain line breaks"
                ));
            }
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok((body, format!("multipart/form-data; boundary={boundary}")))
}

/// Quotes a name for a `Content-Disposition` parameter: no quote, backslash or line break can
/// end it early.
fn quote(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => "%22".to_owned(),
            '\r' => "%0D".to_owned(),
            '\n' => "%0A".to_owned(),
            '\\' => "\\\\".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A boundary that occurs in no part.
fn boundary_for(parts: &[Part]) -> String {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut n = seed;
    loop {
        let boundary = format!("mcpgen-{n:032x}");
        let clash = parts.iter().any(|p| {
            p.3.windows(boundary.len())
                .any(|w| w == boundary.as_bytes())
        });
        if !clash {
            return boundary;
        }
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_base64_and_data_uris() {
        assert_eq!(decode_content("aGk=").unwrap().bytes, b"hi");
        assert_eq!(decode_content("aGk").unwrap().bytes, b"hi");
        let d = decode_content("data:image/png;base64,aGk=").unwrap();
        assert_eq!(
            (d.bytes.as_slice(), d.media_type.as_deref()),
            (&b"hi"[..], Some("image/png"))
        );
        let d = decode_content("data:text/plain,a%20b").unwrap();
        assert_eq!(d.bytes, b"a b");
        assert!(decode_content("not base64!").is_err());
    }

    #[test]
    fn multipart_has_text_json_and_file_parts() {
        let fields = json!({
            "title": "x\"y",
            "meta": {"a": 1},
            "file": {"content": "aGk=", "filename": "a.txt", "contentType": "text/plain"}
        });
        let (body, ct) = multipart(fields.as_object().unwrap(), &["file"]).unwrap();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"title\"\r\n\r\nx\"y\r\n"));
        assert!(
            text.contains("name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n")
        );
        assert!(text.contains(
            "name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        ));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }

    #[test]
    fn file_fields_need_content() {
        let fields = json!({"file": {"filename": "a"}});
        let err = multipart(fields.as_object().unwrap(), &["file"]).unwrap_err();
        assert!(err.contains("`file`"), "{err}");
    }
}
