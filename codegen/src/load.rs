//! Reads a JSON or YAML file into one `serde_json::Value`.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Documents larger than this are refused before parsing: a spec this size is a mistake or an
/// attack, and parsing it would hold several times its size in memory.
pub const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

/// A parsed document and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The file's path as given.
    pub path: PathBuf,
    /// The parsed content.
    pub value: Value,
}

/// Reads and parses `path`. `.json` files are JSON; anything else is tried as JSON first, then
/// as YAML (JSON is also YAML, but the JSON parser is faster and reports better positions).
///
/// Only regular files are read: a FIFO would block the generator forever and a device (such
/// as `/dev/zero`) would never end, so anything else is refused before a byte is read.
pub fn load_file(path: &Path) -> Result<LoadedFile> {
    let read_err = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let file = open_regular(path).map_err(read_err)?;
    let size = file.metadata().map_err(read_err)?.len();
    let too_large = |size: u64| Error::Syntax {
        path: path.to_owned(),
        line: 0,
        column: 0,
        message: format!(
            "the file is {size} bytes; documents over {MAX_DOCUMENT_BYTES} bytes are refused"
        ),
    };
    if size > MAX_DOCUMENT_BYTES {
        return Err(too_large(size));
    }
    // Bounded even if the file grows after its size was checked.
    let mut text = String::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_DOCUMENT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if text.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(too_large(text.len() as u64));
    }
    let value = parse_text(path, &text)?;
    Ok(LoadedFile {
        path: path.to_owned(),
        value,
    })
}

/// Opens `path` for reading if it is a regular file (after following symbolic links), and
/// refuses anything else. The type is checked on the opened file, so that nothing swapped in
/// after a check gets read; on Unix the file is opened non-blocking, since opening a FIFO for
/// reading would otherwise wait for a writer (non-blocking mode changes nothing for regular
/// files).
fn open_regular(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    {
        // Without a non-blocking open, check the type before opening as well.
        if let Some(kind) = kind_of(&std::fs::metadata(path)?.file_type()) {
            return Err(not_regular(kind));
        }
    }
    let file = options.open(path)?;
    if let Some(kind) = kind_of(&file.metadata()?.file_type()) {
        return Err(not_regular(kind));
    }
    Ok(file)
}

fn not_regular(kind: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("it is {kind}, not a regular file; only regular files are read as documents"),
    )
}

/// What a file that is not a regular file is, for error messages; `None` for a regular file.
pub(crate) fn kind_of(file_type: &std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("a device");
        }
    }
    Some("a special file")
}

/// Parses document text; `path` only names it in errors and chooses the first parser.
pub fn parse_text(path: &Path, text: &str) -> Result<Value> {
    // A byte-order mark before the first character is not part of the document (RFC 8259
    // lets parsers ignore it; editors on Windows write it).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let is_json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let looks_json = text.trim_start().starts_with(['{', '[']);
    if is_json || looks_json {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => return Ok(v),
            Err(e) if is_json => {
                return Err(Error::Syntax {
                    path: path.to_owned(),
                    line: e.line(),
                    column: e.column(),
                    message: e.to_string(),
                });
            }
            Err(_) => {}
        }
    }
    let yaml = parse_yaml(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        Error::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: e.to_string(),
        }
    })?;
    yaml_to_json(yaml).map_err(|message| Error::Syntax {
        path: path.to_owned(),
        line: 0,
        column: 0,
        message,
    })
}

/// Parses YAML text. An integer literal between 2^64 and 2^128 in magnitude is valid YAML, but
/// `serde_yaml_ng` reads it as a 128-bit integer that its `Value` cannot hold and fails ("invalid
/// type: integer ... as u128"), while a larger one already becomes a float. JSON parsers (here
/// too: `serde_json` reads `1e20`-sized integers as floats), js-yaml and go-yaml read it as the
/// nearest floating-point number, so it is read as that: the literal gets a `.0` and the text is
/// parsed again.
fn parse_yaml(text: &str) -> Result<serde_yaml_ng::Value, serde_yaml_ng::Error> {
    let mut widened: Option<String> = None;
    loop {
        let current = widened.as_deref().unwrap_or(text);
        match serde_yaml_ng::from_str(current) {
            Ok(value) => return Ok(value),
            Err(e) => match widen_wide_integer(current, &e) {
                Some(next) => widened = Some(next),
                None => return Err(e),
            },
        }
    }
}

/// `text` with the 128-bit integer literal that `e` complains about written as a float, or
/// `None` when `e` is another error or the literal is not plain decimal digits at its location.
fn widen_wide_integer(text: &str, e: &serde_yaml_ng::Error) -> Option<String> {
    let message = e.to_string();
    let (_, rest) = message.split_once("invalid type: integer `")?;
    let (number, rest) = rest.split_once('`')?;
    if !(rest.starts_with(" as u128") || rest.starts_with(" as i128")) {
        return None;
    }
    let start = e.location()?.index();
    let digits = number.strip_prefix('-').unwrap_or(number);
    let literal_at = |at: usize| {
        text.get(at..)
            .filter(|t| t.starts_with(number))
            .map(|_| at + number.len())
    };
    let end = literal_at(start)?;
    let next = text[end..].chars().next();
    if digits.is_empty() || next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.') {
        return None;
    }
    Some(format!("{}.0{}", &text[..end], &text[end..]))
}

/// Converts YAML to JSON values. Mapping keys that are numbers or booleans (`200:` for a
/// response code) become their text, as every OpenAPI tool treats them.
fn yaml_to_json(value: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| format!("the number {n} has no JSON equivalent"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_owned(),
                    other => {
                        return Err(format!(
                            "mapping keys must be strings, found {}",
                            serde_yaml_ng::to_string(&other).unwrap_or_default().trim()
                        ));
                    }
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_numeric_keys_become_strings() {
        let v = parse_text(
            Path::new("a.yaml"),
            "responses:\n  200:\n    description: ok\n",
        )
        .unwrap();
        assert_eq!(v["responses"]["200"]["description"], "ok");
    }

    #[test]
    fn integers_wider_than_64_bits_are_read_as_floats() {
        let v = parse_text(
            Path::new("a.yaml"),
            "example:\n  id: 1234567890123456789012345678901234\n  neg: -98765432109876543210\n  \
             big: 123456789012345678901234567890123456789012\n  small: 12\n",
        )
        .unwrap();
        assert_eq!(v["example"]["id"].as_f64(), Some(1.2345678901234568e33));
        assert_eq!(v["example"]["neg"].as_f64(), Some(-9.876543210987654e19));
        assert!(v["example"]["big"].is_f64());
        assert_eq!(v["example"]["small"], 12);
        // The same number in JSON is read the same way.
        let j = parse_text(
            Path::new("a.json"),
            r#"{"example": {"id": 1234567890123456789012345678901234}}"#,
        )
        .unwrap();
        assert_eq!(j["example"]["id"], v["example"]["id"]);
    }

    #[test]
    fn json_errors_have_positions() {
        let err = parse_text(Path::new("a.json"), "{\n  \"a\": ,\n}").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("a.json:2:"), "{text}");
    }

    #[test]
    fn yaml_errors_have_positions() {
        let err = parse_text(Path::new("a.yaml"), "a: b\n  c: [\n").unwrap_err();
        assert!(err.to_string().starts_with("a.yaml:"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        for (name, text) in [
            ("a.json", "\u{feff}{\"openapi\": \"3.0.0\"}"),
            ("a.yaml", "\u{feff}openapi: 3.0.0\n"),
        ] {
            let v = parse_text(Path::new(name), text).unwrap();
            assert_eq!(v["openapi"], "3.0.0", "{name}");
        }
    }

    #[test]
    fn duplicate_yaml_keys_are_an_error() {
        assert!(parse_text(Path::new("a.yaml"), "a: 1\na: 2\n").is_err());
    }
}
