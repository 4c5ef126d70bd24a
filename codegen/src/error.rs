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
