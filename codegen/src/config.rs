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
//! tool_names = "portable"                  # or "mcp": keep the dots of operationIds
//! include_tags = ["pets"]
//! exclude_tags = ["internal"]
//! include_operations = ["listPets", "GET /store/inventory"]
//! exclude_operations = ["deletePet"]
//! overlays = ["overlays/rename.yaml"]      # relative to this file
//! skip_broken = true
//! max_description_chars = 300            # 0: no limit (lifts a lower layer's limit)
//! inline_refs = false
//! no_output_schemas = false
//! mode = "search"                          # tools, search or mixed
//! embed_openapi = true                     # serve the document as openapi://spec
//! release_profile = true                   # write [profile.release] into Cargo.toml
//!
//! # Only in [package.metadata.mcpgen] or on the command line, never in mcpgen.toml (which can
//! # come with a third-party document); mcpgen.toml may only turn them off:
//! allow_remote_refs = false                # fetch https $refs (off by default)
//! allow_remote_hosts = ["specs.internal"]  # hosts fetched although internal or plain http
//! allow_hidden_refs = false                # read referenced files under hidden folders
//! ref_root = ".."                          # folder $refs may not leave (relative to the manifest)
//!
//! [descriptions]
//! getPetById = "Fetch one pet by its id."
//!
//! [scopes]                                 # what callers' OAuth access tokens must carry
//! "tag:admin" = "admin"
//! getPetById = "pets:read"
//! ```

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::settings::{SettingValue, Settings, USER_ONLY_KEYS};

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
    apply_table(
        &table,
        path,
        &text,
        "",
        base,
        Source::SettingsFile,
        settings,
    )
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
        Source::Manifest,
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

/// Where a table of settings comes from: the user's own project, or a file that may have come
/// with the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `[package.metadata.mcpgen]` of the user's own package.
    Manifest,
    /// `mcpgen.toml` (beside the spec, or named with `--config`).
    SettingsFile,
}

/// Applies one table of settings; `pointer` is where the table sits in the file.
fn apply_table(
    table: &toml::Table,
    path: &Path,
    text: &str,
    pointer: &str,
    base: &Path,
    source: Source,
    mut settings: Settings,
) -> Result<Settings> {
    let invalid = |key: &str, message: String| Error::Invalid {
        path: path.to_owned(),
        line: find_line(text, key).or_else(|| find_line(text, &format!("[{key}"))),
        pointer: format!("{pointer}/{key}"),
        message,
    };
    for (key, value) in table {
        let value = setting_value(value).ok_or_else(|| {
            invalid(
                key,
                format!(
                    "`{key}` takes a string, a number, true or false, a list of strings, or a table"
                ),
            )
        })?;
        // Turning a widening setting off is harmless wherever it is written.
        let widens = match &value {
            SettingValue::Bool(on) => *on,
            SettingValue::List(items) => !items.is_empty(),
            SettingValue::Table(entries) if key == "audit" => {
                entries.iter().any(|(k, v)| k != "log" || v != "-")
            }
            _ => true,
        };
        if source == Source::SettingsFile && USER_ONLY_KEYS.contains(&key.as_str()) && widens {
            let message = if key == "audit" {
                format!(
                    "an audit log file is not read from {FILE_NAME}, which can come with a \
                     third-party document (and would choose a file the server writes to); \
                     start the server with `--audit-log PATH`, set `[package.metadata.mcpgen.audit]` \
                     in your own Cargo.toml, or write `log = \"-\"` here for stderr"
                )
            } else {
                format!(
                    "`{key}` is not read from {FILE_NAME}, which can come with a third-party \
                     document; pass the flag `--{}` on the command line or set it in \
                     `[package.metadata.mcpgen]` of your own Cargo.toml",
                    flag_of(key)
                )
            };
            return Err(invalid(key, message));
        }
        settings = settings
            .set(key, value, base)
            .map_err(|message| invalid(key, message))?;
    }
    Ok(settings)
}

/// The command-line flag that sets a user-only key.
fn flag_of(key: &str) -> &'static str {
    match key {
        "allow_remote_hosts" => "allow-remote-host HOST",
        "allow_hidden_refs" => "allow-hidden-refs",
        "ref_root" => "ref-root DIR",
        _ => "allow-remote-refs",
    }
}

/// A TOML value as a setting value; `None` for shapes no setting takes.
fn setting_value(value: &toml::Value) -> Option<SettingValue> {
    Some(match value {
        toml::Value::Boolean(b) => SettingValue::Bool(*b),
        toml::Value::Integer(n) => SettingValue::Int(*n),
        toml::Value::String(s) => SettingValue::Str(s.clone()),
        toml::Value::Array(items) => SettingValue::List(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
        ),
        // A table of strings (`[descriptions]`), or one that holds lists and tables too.
        toml::Value::Table(entries) => match entries
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect::<Option<_>>()
        {
            Some(strings) => SettingValue::Table(strings),
            None => SettingValue::Map(
                entries
                    .iter()
                    .map(|(k, v)| Some((k.clone(), setting_value(v)?)))
                    .collect::<Option<_>>()?,
            ),
        },
        _ => return None,
    })
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}
