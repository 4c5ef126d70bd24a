//! The generator behind `cargo mcpgen` and `#[mcpgen::server]`: reads an OpenAPI document
//! (Swagger 2.0, OpenAPI 3.0, 3.1 or 3.2; JSON or YAML), maps every operation to an MCP tool, and
//! emits either a standalone server crate or the tokens of a tool table.
//!
//! The pipeline runs one way: [`load`] → [`upgrade`] → [`model`] → [`tools`] → [`emit`].

pub mod bundle;
pub mod compact;
pub mod config;
pub mod diff;
pub mod embed;
pub mod emit;
pub mod error;
mod escape;
pub mod extension;
pub mod inspect;
mod json;
pub mod load;
pub mod locate;
pub mod methods;
pub mod mode;
pub mod model;
pub mod naming;
pub mod overlay;
pub mod overrides;
#[cfg(feature = "remote-refs")]
mod remote;
pub mod schema;
pub mod select;
pub mod settings;
pub mod standalone;
pub mod tools;
pub mod upgrade;

use std::path::{Path, PathBuf};

pub use embed::{Builder, ExtraToolSpec, ServerModule};
pub use error::{Error, Result};
pub use mode::Mode;
pub use naming::ToolNames;
pub use select::Selection;
pub use settings::{SettingValue, Settings};
pub use standalone::{GeneratedCrate, GeneratedFile, RuntimeDependency};
pub use tools::{ApiSpec, ToolSpec};

/// The result of reading and mapping a document.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// The spec file.
    pub path: PathBuf,
    /// Tools and everything else the emitters need.
    pub api: ApiSpec,
    /// Non-fatal problems, as `pointer: message`.
    pub warnings: Vec<String>,
    /// The crate name chosen.
    pub crate_name: String,
}

/// Reads `spec` and maps it to tools.
pub fn map_document(spec: &Path, settings: &Settings) -> Result<Mapped> {
    map_document_unlocated(spec, settings).map_err(add_line)
}

/// Fills in the line of an [`Error::Invalid`] by finding its pointer in the file.
fn add_line(error: Error) -> Error {
    match error {
        Error::Invalid {
            path,
            line: None,
            pointer,
            message,
        } if !is_url(&path) => {
            let line = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| locate::line_of(&text, &pointer));
            Error::Invalid {
                path,
                line,
                pointer,
                message,
            }
        }
        other => other,
    }
}

/// Whether an error's "path" is the URL of a remote document (never to be read as a file).
fn is_url(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.starts_with("http://") || text.starts_with("https://")
}

fn map_document_unlocated(spec: &Path, settings: &Settings) -> Result<Mapped> {
    let loaded = load::load_file(spec)?;
    let mut doc = loaded.value;
    for overlay_path in &settings.overlays {
        overlay::apply(&mut doc, overlay_path)?;
    }
    // Bundle before upgrading, so that schemas from other files are upgraded with the rest.
    let version = upgrade::detect_version(&doc).map_err(|e| Error::Invalid {
        path: spec.to_owned(),
        line: None,
        pointer: e.pointer,
        message: e.message,
    })?;
    let home = match version {
        upgrade::SourceVersion::Swagger2 => bundle::SchemaHome::Definitions,
        _ => bundle::SchemaHome::Components,
    };
    if version == upgrade::SourceVersion::OpenApi32 {
        // `$self` decides what relative references point at, so it applies before bundling.
        upgrade::apply_self(&mut doc);
    }
    bundle::bundle(
        spec,
        &mut doc,
        home,
        &bundle::RefPolicy {
            allow_remote: settings.allows_remote_refs(),
            allowed_hosts: settings.allowed_remote_hosts().to_vec(),
            allow_hidden: settings.allows_hidden_refs(),
        },
    )?;
    let invalid = |pointer: String, message: String| Error::Invalid {
        path: spec.to_owned(),
        line: None,
        pointer,
        message,
    };
    let (_, upgrade_warnings) =
        upgrade::upgrade_to_31(&mut doc).map_err(|e| invalid(e.pointer, e.message))?;
    let mut api = model::read_api(&doc, settings.skips_broken())
        .map_err(|e| invalid(e.pointer, e.message))?;
    let settings_err = |e: select::SelectionError| Error::Settings {
        path: spec.to_owned(),
        setting: e.setting,
        message: e.message,
    };
    let search_only = mode::select(&mut api, &settings.selection, settings.serving_mode())
        .map_err(settings_err)?;
    let crate_name = settings
        .crate_name
        .clone()
        .unwrap_or_else(|| default_crate_name(&api.title));
    let env_prefix = settings.env_prefix.clone().unwrap_or_else(|| {
        tools::upper_snake(crate_name.strip_suffix("-mcp").unwrap_or(&crate_name))
    });
    standalone::check_identity(
        spec,
        &crate_name,
        settings.crate_version.as_deref(),
        &env_prefix,
    )?;
    let options = tools::MappingOptions {
        server_name: crate_name.clone(),
        env_prefix,
        skip_broken: settings.skips_broken(),
        tool_names: settings.tool_name_rule(),
    };
    // The embedded document is written while the tools are built: both only read `doc`, and
    // for a large API each is a good part of the work.
    let (built, openapi) = std::thread::scope(|scope| {
        let embed = || mode::selected_document_json(&doc, &api.operations);
        let writing = settings
            .embeds_openapi()
            .then(|| std::thread::Builder::new().spawn_scoped(scope, embed));
        let built = tools::build_api(&api, &doc, &options);
        let openapi = writing.map(|spawned| match spawned {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread: write it here.
            Err(_) => embed(),
        });
        (built, openapi)
    });
    let mut spec_api = built.map_err(|e| invalid(e.pointer, e.message))?;
    spec_api.openapi = openapi;
    let compaction = settings.compaction_settings();
    for tool in &mut spec_api.tools {
        compact::compact_tool(tool, &compaction);
    }
    overrides::apply(&mut spec_api, &api.operations, settings).map_err(settings_err)?;
    mode::apply(&mut spec_api, settings.serving_mode(), &search_only).map_err(settings_err)?;
    let mut warnings: Vec<String> = upgrade_warnings
        .iter()
        .map(|w| format!("{}: {}", w.pointer, w.message))
        .collect();
    warnings.extend(
        api.warnings
            .iter()
            .map(|w| format!("{}: {}", w.pointer, w.message)),
    );
    warnings.extend(
        spec_api
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.pointer, w.message)),
    );
    // The document is freed here, before anything is rendered, so that the memory it held
    // takes the rendered files.
    Ok(Mapped {
        path: spec.to_owned(),
        api: spec_api,
        warnings,
        crate_name,
    })
}

/// A crate name from an API title: `Swagger Petstore` → `swagger-petstore-mcp`.
pub fn default_crate_name(title: &str) -> String {
    let mut name = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name = name.trim_matches('-');
    let name = if name.is_empty() { "api" } else { name };
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("api-{name}")
    } else {
        name.to_owned()
    };
    let name: String = name.chars().take(48).collect();
    format!("{}-mcp", name.trim_end_matches('-'))
}

/// Generates a standalone server crate for `spec`, in memory.
pub fn generate_crate(spec: &Path, settings: &Settings) -> Result<GeneratedCrate> {
    let mapped = map_document(spec, settings)?;
    let rendered = standalone::render(&mapped, settings);
    // Freeing a large document's values is a tenth of the work: let another thread do it.
    // Should no thread start, the closure, and the document with it, is dropped here.
    let _ = std::thread::Builder::new().spawn(move || drop(mapped));
    rendered
}
