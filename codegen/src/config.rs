//! `mcpgen.toml`: the same settings as the command-line flags and the macro's options, in a
//! file next to the spec, so that what a project exposes is written down once.
//!
//! The same table can sit in the crate's `Cargo.toml` as `[package.metadata.mcpgen]`; when
//! both exist, the manifest's applies first and `mcpgen.toml` on top of it.
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
//! allow_remote_refs = false                # fetch http(s) $refs (CLI only; off by default)
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
pub fn apply_file(path: &Path, settings: Settings) -> Result<Settings> {
    let (text, table) = read_toml(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    apply_table(&table, path, &text, "", base, settings)
}

/// Applies `[package.metadata.mcpgen]` of the Cargo manifest at `manifest` on top of
/// `settings`. `Ok(None)` when the manifest has no such table. Paths in it (`overlays`) are
/// relative to the manifest's folder.
pub fn apply_package_metadata(manifest: &Path, settings: Settings) -> Result<Option<Settings>> {
    let (text, table) = read_toml(manifest)?;
    let Some(metadata) = table
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("mcpgen"))
    else {
        return Ok(None);
    };
    let Some(metadata) = metadata.as_table() else {
        return Err(Error::Invalid {
            path: manifest.to_owned(),
            line: find_line(&text, "[package.metadata.mcpgen]"),
            pointer: "/package/metadata/mcpgen".to_owned(),
            message: "`package.metadata.mcpgen` must be a table of mcpgen settings".to_owned(),
        });
    };
    let base = manifest.parent().unwrap_or(Path::new("."));
    apply_table(
        metadata,
        manifest,
        &text,
        "/package/metadata/mcpgen",
        base,
        settings,
    )
    .map(Some)
}

/// The Cargo manifest of the package `dir` is in: the nearest `Cargo.toml` with a `[package]`
/// table, from `dir` upwards.
pub fn package_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join("Cargo.toml")).find(|m| {
        std::fs::read_to_string(m)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .is_some_and(|t| t.contains_key("package"))
    })
}

/// The settings of a project, in the order they apply: `[package.metadata.mcpgen]` of
/// `manifest` (project-wide), then `config` or else `mcpgen.toml` beside the spec (for that
/// spec), each on top of the one before. Returns the settings and the files read, which a
/// build must be redone for when they change. Every front end calls this, then applies its own
/// options (flags, attribute options) on top.
pub fn project_settings(
    spec: &Path,
    manifest: Option<&Path>,
    config: Option<&Path>,
    mut settings: Settings,
) -> Result<(Settings, Vec<PathBuf>)> {
    let mut read = Vec::new();
    if let Some(manifest) = manifest.filter(|m| m.is_file()) {
        if let Some(applied) = apply_package_metadata(manifest, settings.clone())? {
            settings = applied;
        }
        read.push(manifest.to_owned());
    }
    if let Some(file) = config.map(Path::to_owned).or_else(|| beside(spec)) {
        settings = apply_file(&file, settings)?;
        read.push(file);
    }
    Ok((settings, read))
}

fn read_toml(path: &Path) -> Result<(String, toml::Table)> {
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
    Ok((text, table))
}

fn find_line(text: &str, start: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(start))
        .map(|i| i + 1)
}

/// Applies one table of settings; `pointer` is where the table sits in the file.
fn apply_table(
    table: &toml::Table,
    path: &Path,
    text: &str,
    pointer: &str,
    base: &Path,
    mut settings: Settings,
) -> Result<Settings> {
    let invalid = |key: &str, message: String| Error::Invalid {
        path: path.to_owned(),
        line: find_line(text, key),
        pointer: format!("{pointer}/{key}"),
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
    for (key, value) in table {
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
            "allow_remote_refs" => settings.allow_remote_refs(boolean(key, value)?),
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
