//! The generator behind `cargo mcpgen` and `#[mcpgen::server]`: reads an OpenAPI document
//! (Swagger 2.0, OpenAPI 3.0 or 3.1; JSON or YAML), maps every operation to an MCP tool, and
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
pub mod extension;
pub mod inspect;
mod json;
pub mod load;
pub mod locate;
pub mod mode;
pub mod model;
pub mod naming;
pub mod overlay;
pub mod overrides;
#[cfg(feature = "remote-refs")]
mod remote;
pub mod schema;
pub mod select;
pub mod standalone;
pub mod tools;
pub mod upgrade;

use std::path::{Path, PathBuf};

pub use embed::{Builder, ExtraToolSpec, ServerModule};
pub use error::{Error, Result};
pub use mode::Mode;
pub use select::Selection;
pub use standalone::{GeneratedCrate, GeneratedFile, RuntimeDependency};
pub use tools::{ApiSpec, ToolSpec};

/// Options of a generation run, shared by every front end.
#[derive(Debug, Clone)]
pub struct Settings {
    crate_name: Option<String>,
    crate_version: Option<String>,
    env_prefix: Option<String>,
    skip_broken: bool,
    runtime: RuntimeDependency,
    selection: Selection,
    tool_prefix: Option<String>,
    base_url: Option<String>,
    descriptions: Vec<(String, String)>,
    overlays: Vec<PathBuf>,
    compaction: compact::Compaction,
    mode: Mode,
    embed_openapi: bool,
    release_profile: bool,
    allow_remote_refs: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            crate_name: None,
            crate_version: None,
            env_prefix: None,
            skip_broken: false,
            runtime: RuntimeDependency::default(),
            selection: Selection::default(),
            tool_prefix: None,
            base_url: None,
            descriptions: Vec::new(),
            overlays: Vec::new(),
            compaction: compact::Compaction::default(),
            mode: Mode::Tools,
            embed_openapi: true,
            release_profile: true,
            allow_remote_refs: false,
        }
    }
}

impl Settings {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }
    /// These settings with `over` applied on top: what `over` sets (differs from the default)
    /// wins, and lists (selections, overlays, description overrides) are joined. This is how a
    /// front end puts its own options over the project's settings files.
    pub fn then(self, over: Settings) -> Settings {
        let default = Settings::default();
        let flag =
            |base: bool, over: bool, default: bool| if over != default { over } else { base };
        let join = |mut base: Vec<String>, over: Vec<String>| {
            base.extend(over);
            base
        };
        let mut overlays = self.overlays;
        overlays.extend(over.overlays);
        let mut descriptions = self.descriptions;
        descriptions.extend(over.descriptions);
        Settings {
            crate_name: over.crate_name.or(self.crate_name),
            crate_version: over.crate_version.or(self.crate_version),
            env_prefix: over.env_prefix.or(self.env_prefix),
            skip_broken: flag(self.skip_broken, over.skip_broken, default.skip_broken),
            runtime: if over.runtime != default.runtime {
                over.runtime
            } else {
                self.runtime
            },
            selection: select::Selection {
                include_tags: join(self.selection.include_tags, over.selection.include_tags),
                exclude_tags: join(self.selection.exclude_tags, over.selection.exclude_tags),
                include_operations: join(
                    self.selection.include_operations,
                    over.selection.include_operations,
                ),
                exclude_operations: join(
                    self.selection.exclude_operations,
                    over.selection.exclude_operations,
                ),
            },
            tool_prefix: over.tool_prefix.or(self.tool_prefix),
            base_url: over.base_url.or(self.base_url),
            descriptions,
            overlays,
            compaction: compact::Compaction {
                max_description_chars: over
                    .compaction
                    .max_description_chars
                    .or(self.compaction.max_description_chars),
                inline_refs: flag(
                    self.compaction.inline_refs,
                    over.compaction.inline_refs,
                    default.compaction.inline_refs,
                ),
                no_output_schemas: flag(
                    self.compaction.no_output_schemas,
                    over.compaction.no_output_schemas,
                    default.compaction.no_output_schemas,
                ),
            },
            mode: if over.mode != default.mode {
                over.mode
            } else {
                self.mode
            },
            embed_openapi: flag(
                self.embed_openapi,
                over.embed_openapi,
                default.embed_openapi,
            ),
            release_profile: flag(
                self.release_profile,
                over.release_profile,
                default.release_profile,
            ),
            allow_remote_refs: flag(
                self.allow_remote_refs,
                over.allow_remote_refs,
                default.allow_remote_refs,
            ),
        }
    }
    /// Name of the generated crate and server (default: from the API title, plus `-mcp`).
    pub fn crate_name(mut self, name: impl Into<String>) -> Self {
        self.crate_name = Some(name.into());
        self
    }
    /// Version of the generated crate (default `0.1.0`).
    pub fn crate_version(mut self, version: impl Into<String>) -> Self {
        self.crate_version = Some(version.into());
        self
    }
    /// Prefix of the server's environment variables (default: from the crate name).
    pub fn env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.env_prefix = Some(prefix.into());
        self
    }
    /// Applies an OpenAPI Overlay 1.0 document to the spec before anything else; several
    /// overlays apply in the order given.
    pub fn overlay(mut self, path: impl Into<PathBuf>) -> Self {
        self.overlays.push(path.into());
        self
    }
    /// Lossy schema compaction beyond the default (which loses no argument information).
    pub fn compaction(mut self, compaction: compact::Compaction) -> Self {
        self.compaction = compaction;
        self
    }
    /// Cut tool and schema descriptions to this many characters.
    pub fn max_description_chars(mut self, n: usize) -> Self {
        self.compaction.max_description_chars = Some(n);
        self
    }
    /// Inline `$ref`s in tool schemas (recursive schemas keep theirs).
    pub fn inline_refs(mut self, inline: bool) -> Self {
        self.compaction.inline_refs = inline;
        self
    }
    /// Leave out output schemas.
    pub fn no_output_schemas(mut self, none: bool) -> Self {
        self.compaction.no_output_schemas = none;
        self
    }
    /// Leave out operations that cannot be read, with a warning, instead of failing.
    pub fn skip_broken(mut self, skip: bool) -> Self {
        self.skip_broken = skip;
        self
    }
    /// How the generated crate gets the runtime (inlined by default).
    pub fn runtime(mut self, runtime: RuntimeDependency) -> Self {
        self.runtime = runtime;
        self
    }
    /// Keep only operations with one of these tags (see [`Selection`]).
    pub fn include_tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .include_tags
            .extend(tags.into_iter().map(Into::into));
        self
    }
    /// Leave out operations with any of these tags.
    pub fn exclude_tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .exclude_tags
            .extend(tags.into_iter().map(Into::into));
        self
    }
    /// Keep only these operations (by `operationId` or `METHOD /path`) and those of the
    /// included tags.
    pub fn include_operations<S: Into<String>>(mut self, ops: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .include_operations
            .extend(ops.into_iter().map(Into::into));
        self
    }
    /// Leave out these operations (by `operationId` or `METHOD /path`).
    pub fn exclude_operations<S: Into<String>>(mut self, ops: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .exclude_operations
            .extend(ops.into_iter().map(Into::into));
        self
    }
    /// Put this prefix before every tool name (at most 24 characters of `[A-Za-z0-9_.-]`).
    pub fn tool_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.tool_prefix = Some(prefix.into());
        self
    }
    /// Upstream base URL used when neither `--base-url` nor `<PREFIX>_BASE_URL` is given
    /// (default: the document's first absolute server URL).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// How the server offers its operations (see [`Mode`]): one tool each (the default),
    /// through three search tools, or the selected ones as tools and the rest through search.
    /// In mixed mode the includes choose the tools of their own and the excludes remove
    /// operations altogether.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// Embed the API document (limited to the server's operations) so that the server serves
    /// it as the resource `openapi://spec` (default: on).
    pub fn embed_openapi(mut self, embed: bool) -> Self {
        self.embed_openapi = embed;
        self
    }
    /// Write a `[profile.release]` into the standalone crate's `Cargo.toml` (default: on):
    /// whole-program optimisation (`lto = "fat"`, `codegen-units = 1`), which roughly halves
    /// the binary and its resident memory at the cost of a longer release build. Turn it off
    /// when the crate is a member of a workspace, where cargo ignores a member's profiles (and
    /// warns about them): set the profile at the workspace root instead.
    pub fn release_profile(mut self, on: bool) -> Self {
        self.release_profile = on;
        self
    }
    /// Fetch `http`/`https` documents that `$ref`s name (default: off, and such references are
    /// an error). Needs the `remote-refs` feature, which `cargo mcpgen` has and the
    /// `#[mcpgen::server]` macro does not (builds must not reach the network). Each URL is
    /// fetched once, within 10 seconds and at most 5 redirects, and may be no larger than a
    /// local document; relative references inside it resolve against its URL and never reach
    /// local files.
    pub fn allow_remote_refs(mut self, on: bool) -> Self {
        self.allow_remote_refs = on;
        self
    }
    /// Replace the description of the tool behind an operation (by `operationId` or
    /// `METHOD /path`).
    pub fn describe(
        mut self,
        operation: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.descriptions
            .push((operation.into(), description.into()));
        self
    }
}

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
    bundle::bundle(spec, &mut doc, home, settings.allow_remote_refs)?;
    let invalid = |pointer: String, message: String| Error::Invalid {
        path: spec.to_owned(),
        line: None,
        pointer,
        message,
    };
    let (_, upgrade_warnings) =
        upgrade::upgrade_to_31(&mut doc).map_err(|e| invalid(e.pointer, e.message))?;
    let mut api =
        model::read_api(&doc, settings.skip_broken).map_err(|e| invalid(e.pointer, e.message))?;
    let settings_err = |e: select::SelectionError| Error::Settings {
        path: spec.to_owned(),
        setting: e.setting,
        message: e.message,
    };
    let search_only =
        mode::select(&mut api, &settings.selection, settings.mode).map_err(settings_err)?;
    let crate_name = settings
        .crate_name
        .clone()
        .unwrap_or_else(|| default_crate_name(&api.title));
    let env_prefix = settings.env_prefix.clone().unwrap_or_else(|| {
        tools::upper_snake(crate_name.strip_suffix("-mcp").unwrap_or(&crate_name))
    });
    let options = tools::MappingOptions {
        server_name: crate_name.clone(),
        env_prefix,
        skip_broken: settings.skip_broken,
    };
    // The embedded document is written while the tools are built: both only read `doc`, and
    // for a large API each is a good part of the work.
    let (built, openapi) = std::thread::scope(|scope| {
        let embed = || mode::selected_document_json(&doc, &api.operations);
        let writing = settings
            .embed_openapi
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
    for tool in &mut spec_api.tools {
        compact::compact_tool(tool, &settings.compaction);
    }
    overrides::apply(&mut spec_api, &api.operations, settings).map_err(settings_err)?;
    mode::apply(&mut spec_api, settings.mode, &search_only).map_err(settings_err)?;
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
