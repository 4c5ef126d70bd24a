//! The generator behind `cargo mcpgen` and `#[mcpgen::server]`: reads an OpenAPI document
//! (Swagger 2.0, OpenAPI 3.0, 3.1 or 3.2; JSON or YAML), maps every operation to an MCP tool, and
//! emits either a standalone server crate or the tokens of a tool table.
//!
//! # The pipeline
//!
//! [`map_document`] runs the stages in order, each in a module of its own:
//!
//! | stage | module | what it does |
//! | --- | --- | --- |
//! | load | `load` | reads JSON or YAML, with bounds on size and nesting |
//! | overlay | `overlay` | applies OpenAPI Overlay documents from the settings |
//! | bundle | `bundle` | brings references to other files (and, when allowed, URLs) into the document |
//! | upgrade | `upgrade` | rewrites Swagger 2.0, OpenAPI 3.0 and 3.2 documents as OpenAPI 3.1 |
//! | model | `model` | reads operations, parameters, bodies, responses and security schemes |
//! | select | `select` | keeps the operations the settings choose, in tools, search or mixed mode |
//! | tools | `tools` | names each tool and builds its schemas, annotations and call plan |
//! | resources | `resources` | makes resources of the GET operations the document names |
//! | compact | `compact` | shrinks the schemas the model reads |
//! | emit | `emit` | writes the tool table as Rust: a standalone crate or the attribute's tokens |
//!
//! # Generating a server crate
//!
//! ```no_run
//! use std::path::Path;
//! use mcpgen_codegen::{Mode, Settings, generate_crate, write_crate};
//!
//! let settings = Settings::new().crate_name("petstore-mcp").mode(Mode::Search);
//! let generated = generate_crate(Path::new("openapi.yaml"), &settings)?;
//! write_crate(&generated, Path::new("petstore-mcp"))?;
//! # Ok::<(), mcpgen_codegen::Error>(())
//! ```
//!
//! # From a build script
//!
//! [`Builder`] writes the tool table into `OUT_DIR` for a crate that depends on the `mcpgen`
//! runtime; `include!` it where the server lives:
//!
//! ```no_run
//! // build.rs
//! let settings = mcpgen_codegen::Settings::new().mode(mcpgen_codegen::Mode::Search);
//! mcpgen_codegen::Builder::new("openapi.yaml")
//!     .settings(settings)
//!     .file_name("petstore.rs")
//!     .generate_to_out_dir()
//!     .expect("the API document maps to tools");
//! ```
//!
//! # Reading the mapping
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("mcpgen-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let spec = dir.join("api.yaml");
//! std::fs::write(&spec, r#"
//! openapi: 3.1.0
//! info: {title: Pets, version: "1"}
//! paths:
//!   /pets/{id}:
//!     get:
//!       operationId: getPet
//!       parameters: [{name: id, in: path, required: true, schema: {type: string}}]
//!       responses: {"200": {description: ok}}
//! "#)?;
//! let mapped = mcpgen_codegen::map_document(&spec, &mcpgen_codegen::Settings::new())?;
//! let tool = &mapped.api.tools[0];
//! assert_eq!(tool.name, "getPet");
//! assert!(tool.hints.read_only);
//! assert_eq!(mapped.crate_name, "pets-mcp");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

// The stages, in the order a document goes through them. `load`, `bundle` and `schema` are
// reachable (hidden) for the fuzz targets and the corpus checker; they are not an interface.
#[doc(hidden)]
pub mod bundle;
mod compact;
mod emit;
#[doc(hidden)]
pub mod load;
mod model;
pub mod multi;
mod overlay;
#[cfg(feature = "remote-refs")]
mod remote;
mod resources;
mod select;
mod tools;
mod upgrade;

// What the stages share.
/// The runtime's descriptor types (the file the runtime compiles), so that the generator and
/// the runtime share one definition of the serving modes and body encodings. The generator
/// uses only those enums.
#[path = "../runtime/rt/descriptor.rs"]
#[allow(dead_code)]
mod descriptor;
mod error;
mod json;
mod limits;
mod locate;
mod methods;
/// The runtime's reading of JSON Schema patterns, so that the generator leaves out, with a
/// warning, a pattern the server could not check.
#[path = "../runtime/rt/pattern.rs"]
mod pattern;
mod pointer;
#[doc(hidden)]
pub mod schema;
/// The runtime's parser of resource URIs and templates, so that the generator checks a
/// document's URIs as the server reads them.
#[path = "../runtime/rt/uri_template.rs"]
#[allow(dead_code)]
mod uri_template;

// Around the pipeline: settings, and what the front ends build on it.
pub mod config;
pub mod diff;
mod guardrails;
pub mod inspect;
pub(crate) mod prompts;
pub mod settings;
pub mod spec;

/// The interface of the `#[mcpgen::server]` attribute (the `mcpgen-macros` crate); not for
/// other users.
#[doc(hidden)]
pub use emit::embed;

use std::path::{Path, PathBuf};

pub use descriptor::ServeMode as Mode;
pub use emit::DESCRIPTOR_FORMAT;
pub use emit::embed::{Builder, ExtraToolSpec, ServerModule};
pub use emit::standalone::{
    GeneratedCrate, GeneratedFile, RuntimeDependency, check_crate_name, stale_files, write_crate,
};
pub use error::{Error, Result};
pub use multi::{ApiDocument, map_documents};
pub use select::Selection;
pub use settings::{SettingValue, Settings};
pub use spec::{ApiSpec, ToolSpec};
pub use tools::naming::ToolNames;

/// The result of reading and mapping a document.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// The spec file.
    pub path: PathBuf,
    /// Tools and everything else the emitters need.
    pub api: ApiSpec,
    /// Non-fatal problems and what was assumed, as `line N: pointer: message` (`pointer:
    /// message` where the line is not known).
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
    let invalid = |pointer: String, message: String| Error::Invalid {
        path: spec.to_owned(),
        line: None,
        pointer,
        message,
    };
    let settings_err = |e: select::SelectionError| Error::Settings {
        path: spec.to_owned(),
        setting: e.setting,
        message: e.message,
    };

    // Load, and apply the overlays.
    let mut doc = load::load_file(spec)?.value;
    for overlay_path in &settings.overlays {
        overlay::apply(&mut doc, overlay_path)?;
    }

    // Bundle before upgrading, so that schemas from other files are upgraded with the rest.
    let version = upgrade::detect_version(&doc).map_err(|e| invalid(e.pointer, e.message))?;
    if version == upgrade::SourceVersion::OpenApi32 {
        // `$self` decides what relative references point at, so it applies before bundling.
        upgrade::apply_self(&mut doc);
    }
    let home = match version {
        upgrade::SourceVersion::Swagger2 => bundle::SchemaHome::Definitions,
        _ => bundle::SchemaHome::Components,
    };
    let bundle_warnings = bundle::bundle(spec, &mut doc, home, &settings.ref_policy())?;

    // Upgrade to OpenAPI 3.1, read the model, and keep the operations the settings select.
    let (_, upgrade_warnings) =
        upgrade::upgrade_to_31(&mut doc).map_err(|e| invalid(e.pointer, e.message))?;
    let mut api = model::read_api(&doc, settings.skips_broken())
        .map_err(|e| invalid(e.pointer, e.message))?;
    let search_only = select::mode::select(&mut api, &settings.selection, settings.serving_mode())
        .map_err(settings_err)?;

    // Build the tools; the embedded document is written at the same time: both only read
    // `doc`, and for a large API each is a good part of the work.
    let crate_name = settings
        .crate_name
        .clone()
        .unwrap_or_else(|| default_crate_name(&api.title));
    let env_prefix = settings.env_prefix.clone().unwrap_or_else(|| {
        tools::upper_snake(crate_name.strip_suffix("-mcp").unwrap_or(&crate_name))
    });
    emit::standalone::check_identity(
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
    let (built, openapi) = std::thread::scope(|scope| {
        let embed = || select::document::selected_document_json(&doc, &api.operations);
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
    tools::overrides::apply(&mut spec_api, &api.operations, settings).map_err(settings_err)?;
    // Before compaction, which may cut the answer schemas whose marks say what to mask.
    guardrails::apply(&mut spec_api, &api.operations, &settings.guardrails)
        .map_err(settings_err)?;
    select::mode::apply(&mut spec_api, settings.serving_mode(), &search_only)
        .map_err(settings_err)?;
    // Before the prompts, which may embed the resources.
    resources::apply(
        &mut spec_api,
        &doc,
        &api.operations,
        &settings.resources,
        spec,
    )?;
    prompts::build(
        &mut spec_api,
        &doc,
        spec,
        &api.operations,
        &api.tags,
        &settings.prompts,
    )?;

    // Compact the schemas the model reads.
    let compaction = settings.compaction_settings();
    for tool in &mut spec_api.tools {
        compact::compact_tool(tool, &compaction);
    }

    let located = |pointer: &str, message: &str| match pointer {
        "" => message.to_owned(),
        pointer => format!("{pointer}: {message}"),
    };
    let warnings = bundle_warnings
        .into_iter()
        .chain(
            upgrade_warnings
                .iter()
                .map(|w| located(&w.pointer, &w.message)),
        )
        .chain(api.warnings.iter().map(|w| located(&w.pointer, &w.message)))
        .chain(
            spec_api
                .warnings
                .iter()
                .map(|w| located(&w.pointer, &w.message)),
        )
        .collect();
    let warnings = with_lines(spec, warnings);
    // The document is freed here, before anything is emitted, so that the memory it held
    // takes the emitted files.
    Ok(Mapped {
        path: spec.to_owned(),
        api: spec_api,
        warnings,
        crate_name,
    })
}

/// Documents up to this size get the line of each warning (a second reading of the text).
const WARNING_LINES_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// `pointer: message` warnings as `line N: pointer: message` where the pointer's node is in
/// the file (not for parts bundled from other files, or documents over
/// [`WARNING_LINES_MAX_BYTES`]).
fn with_lines(spec: &Path, warnings: Vec<String>) -> Vec<String> {
    let small = std::fs::metadata(spec).is_ok_and(|m| m.len() <= WARNING_LINES_MAX_BYTES);
    let text = match (warnings.is_empty(), small) {
        (false, true) => std::fs::read_to_string(spec).ok(),
        _ => None,
    };
    let Some(text) = text else {
        return warnings;
    };
    let pointers: Vec<&str> = warnings
        .iter()
        .map(|w| match w.split_once(": ") {
            Some((pointer, _)) if pointer.starts_with('/') && !pointer.contains(' ') => pointer,
            _ => "",
        })
        .collect();
    let lines = locate::lines_of(&text, &pointers);
    warnings
        .iter()
        .zip(pointers.iter().zip(lines))
        .map(|(w, (pointer, line))| match line {
            Some(n) if !pointer.is_empty() => format!("line {n}: {w}"),
            _ => w.clone(),
        })
        .collect()
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
    let rendered = render_crate(&mapped, settings);
    // Freeing a large document's values is a tenth of the work: let another thread do it.
    // Should no thread start, the closure, and the document with it, is dropped here.
    let _ = std::thread::Builder::new().spawn(move || drop(mapped));
    rendered
}

/// Emits the standalone crate of a document already mapped by [`map_document`] (with the same
/// settings): what [`generate_crate`] does after mapping.
pub fn render_crate(mapped: &Mapped, settings: &Settings) -> Result<GeneratedCrate> {
    emit::standalone::render(mapped, settings)
}
