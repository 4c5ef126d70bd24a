//! `mcpgen.toml`: the same settings as the command-line flags and the macro's options, in a
//! file next to the spec, so that what a project exposes is written down once.
//!
//! ```toml
//! crate_name = "petstore-mcp"
//! env_prefix = "PETSTORE"
//! base_url = "https://api.example.com/v1"
//! tool_prefix = "pets_"
//! include_tags = ["pets"]
//! exclude_tags = ["internal"]
//! include_operations = ["listPets", "GET /store/inventory"]
//! exclude_operations = ["deletePet"]
//! overlays = ["overlays/rename.yaml"]      # relative to this file
//! skip_broken = true
//! max_description_chars = 300
//! inline_refs = false
//! no_output_schemas = false
//! mode = "search"                          # tools, search or mixed
//! embed_openapi = true                     # serve the document as openapi://spec
//! release_profile = true                   # write [profile.release] into Cargo.toml
//!
//! [descriptions]
//! getPetById = "Fetch one pet by its id."
//! ```

use std::path::{Path, PathBuf};

use crate::Settings;
use crate::error::{Error, Result};

/// The file name looked for next to a spec.
pub const FILE_NAME: &str = "mcpgen.toml";

/// The config file next to `spec`, if there is one.
pub fn beside(spec: &Path) -> Option<PathBuf> {
    let candidate = spec.parent().unwrap_or(Path::new(".")).join(FILE_NAME);
    candidate.is_file().then_some(candidate)
}

/// Applies the settings in the file at `path` on top of `settings`.
pub fn apply_file(path: &Path, mut settings: Settings) -> Result<Settings> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = e
            .span()
            .map(|span| line_column(&text, span.start))
            .unwrap_or((0, 0));
        Error::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: e.message().to_owned(),
        }
    })?;
    let invalid = |key: &str, message: String| Error::Invalid {
        path: path.to_owned(),
        line: text
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map(|i| i + 1),
        pointer: format!("/{key}"),
        message,
    };
    let string = |key: &str, value: &toml::Value| {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| invalid(key, format!("`{key}` must be a string")))
    };
    let strings = |key: &str, value: &toml::Value| -> Result<Vec<String>> {
        match value {
            toml::Value::String(s) => Ok(vec![s.clone()]),
            toml::Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid(key, format!("`{key}` must be a list of strings")))
                })
                .collect(),
            _ => Err(invalid(key, format!("`{key}` must be a list of strings"))),
        }
    };
    let boolean = |key: &str, value: &toml::Value| {
        value
            .as_bool()
            .ok_or_else(|| invalid(key, format!("`{key}` must be true or false")))
    };
    let base = path.parent().unwrap_or(Path::new("."));
    for (key, value) in &table {
        settings = match key.as_str() {
            "crate_name" => settings.crate_name(string(key, value)?),
            "crate_version" => settings.crate_version(string(key, value)?),
            "env_prefix" => settings.env_prefix(string(key, value)?),
            "base_url" => settings.base_url(string(key, value)?),
            "tool_prefix" => settings.tool_prefix(string(key, value)?),
            "include_tags" => settings.include_tags(strings(key, value)?),
            "exclude_tags" => settings.exclude_tags(strings(key, value)?),
            "include_operations" => settings.include_operations(strings(key, value)?),
            "exclude_operations" => settings.exclude_operations(strings(key, value)?),
            "skip_broken" => settings.skip_broken(boolean(key, value)?),
            "overlays" => {
                for overlay in strings(key, value)? {
                    settings = settings.overlay(base.join(overlay));
                }
                settings
            }
            "max_description_chars" => {
                let n = value
                    .as_integer()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| {
                        invalid(
                            key,
                            "`max_description_chars` must be a positive integer".to_owned(),
                        )
                    })?;
                settings.max_description_chars(n)
            }
            "inline_refs" => settings.inline_refs(boolean(key, value)?),
            "no_output_schemas" => settings.no_output_schemas(boolean(key, value)?),
            "mode" => settings.mode(string(key, value)?.parse().map_err(|e| invalid(key, e))?),
            "embed_openapi" => settings.embed_openapi(boolean(key, value)?),
            "release_profile" => settings.release_profile(boolean(key, value)?),
            "descriptions" => {
                let Some(map) = value.as_table() else {
                    return Err(invalid(
                        key,
                        "`[descriptions]` maps operations to descriptions".to_owned(),
                    ));
                };
                for (operation, text) in map {
                    settings = settings.describe(operation.clone(), string(key, text)?);
                }
                settings
            }
            other => {
                return Err(invalid(
                    other,
                    format!("unknown setting `{other}`; see the documentation of mcpgen.toml"),
                ));
            }
        };
    }
    Ok(settings)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}
