//! The one error type of the generator: every variant names the file and, where the problem
//! is in the document, the JSON pointer.

use std::path::PathBuf;

/// Why a document could not be turned into a server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("{}: cannot read the file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid JSON or YAML.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The document parses but says something the generator cannot use.
    #[error("{}{}: {pointer}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending node, when it could be found.
        line: Option<usize>,
        /// RFC 6901 JSON pointer to the offending node.
        pointer: String,
        /// What is wrong, and what would be right.
        message: String,
    },
    /// A setting does not fit the document (a selector that names nothing, a bad prefix).
    #[error("{}: {setting}: {message}", path.display())]
    Settings {
        /// The spec file.
        path: PathBuf,
        /// The setting at fault, by its name in the macro attribute and the builder.
        setting: &'static str,
        /// What is wrong, and what would be right.
        message: String,
    },
    /// Output could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Generated Rust did not parse: a bug in the generator, reported rather than panicking.
    #[error("internal error: generated code does not parse: {0}")]
    Internal(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Appends one reference token to a JSON pointer, escaping it per RFC 6901.
pub fn pointer_push(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    push_escaped_token(token, &mut out);
    out
}

/// Appends `token` escaped per RFC 6901 (`~` as `~0`, `/` as `~1`).
pub(crate) fn push_escaped_token(token: &str, out: &mut String) {
    if !token.contains(['~', '/']) {
        out.push_str(token);
        return;
    }
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// A reference token of a JSON pointer unescaped (`~1` as `/`, then `~0` as `~`), borrowed
/// when there is nothing to unescape.
pub(crate) fn unescape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        std::borrow::Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        std::borrow::Cow::Borrowed(token)
    }
}

/// `value.pointer(pointer)`, without allocating for tokens that need no unescaping.
pub(crate) fn pointer_get<'v>(
    value: &'v serde_json::Value,
    pointer: &str,
) -> Option<&'v serde_json::Value> {
    use serde_json::Value;
    if pointer.is_empty() {
        return Some(value);
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').try_fold(value, |target, token| {
        let token = unescape_token(token);
        match target {
            Value::Object(map) => map.get(token.as_ref()),
            Value::Array(list) => {
                // As serde_json reads an index: no sign, no leading zero.
                if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
                    return None;
                }
                token.parse::<usize>().ok().and_then(|i| list.get(i))
            }
            _ => None,
        }
    })
}
