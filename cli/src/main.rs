//! `cargo mcpgen`: generates MCP server crates from OpenAPI documents.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use mcpgen_codegen::{RuntimeDependency, Settings, stale_files, write_crate};

mod serve;

/// Invoked by cargo as `cargo-mcpgen mcpgen <command>`; also works as `cargo-mcpgen <command>`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum CargoCli {
    /// Generate MCP servers from OpenAPI documents.
    Mcpgen(Cli),
}

#[derive(Debug, Parser)]
#[command(version, about = "Generate MCP servers from OpenAPI documents")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a standalone MCP server crate for an OpenAPI document.
    Generate(Box<GenerateArgs>),
    /// Serve an OpenAPI document as an MCP server right away, without generating a crate: the
    /// tools a generated server would have, served by the same runtime with the same flags.
    Serve(Box<ServeCommandArgs>),
    /// Show how the tools an agent sees change between two versions of a document.
    Diff(DiffArgs),
    /// Report how large the tool list of a document is, and what would shrink it most.
    Inspect(InspectArgs),
}

/// What to expose and how compactly, and how operations are offered: shared by `generate`,
/// `inspect` and `diff`.
#[derive(Debug, Args)]
struct ShapeArgs {
    #[command(flatten)]
    document: DocumentArgs,
    /// How the server offers operations: `tools` (one tool each), `search` (three tools that
    /// find, describe and call them), `mixed` (the included operations as tools, the rest
    /// through search) or `code` (find and describe operations, and `execute` JavaScript
    /// programs that call them in a sandbox; with includes, those stay tools too). The
    /// server's own `--mode` flag can override it.
    #[arg(long, value_name = "tools|search|mixed|code")]
    mode: Option<mcpgen_codegen::Mode>,
}

/// What to expose and how compactly: every setting of the document's mapping but the mode
/// (which `serve` takes from the server's own `--mode`).
#[derive(Debug, Args)]
struct DocumentArgs {
    /// Settings file (default: `mcpgen.toml` next to the spec, when there is one). It applies
    /// on top of `[package.metadata.mcpgen]` in the current package's Cargo.toml; flags given
    /// on the command line win over both.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Apply this OpenAPI Overlay 1.0 document first (repeatable, applied in order).
    #[arg(long, value_name = "FILE")]
    overlay: Vec<PathBuf>,
    /// An Arazzo 1.0 document whose workflows become prompts, one per workflow (repeatable).
    #[arg(long, value_name = "FILE")]
    arazzo: Vec<PathBuf>,
    /// Offer a guide prompt per tag (on by default; `--guide-prompts=false` turns them off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    guide_prompts: Option<bool>,
    /// Keep only operations with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    include_tag: Vec<String>,
    /// Leave out operations with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    exclude_tag: Vec<String>,
    /// Keep only this operation: an operationId or `METHOD /path` (repeatable).
    #[arg(long, value_name = "OPERATION")]
    include_operation: Vec<String>,
    /// Leave out this operation: an operationId or `METHOD /path` (repeatable).
    #[arg(long, value_name = "OPERATION")]
    exclude_operation: Vec<String>,
    /// Prefix every tool name with this (at most 24 characters of `[A-Za-z0-9_-]`, and `.`
    /// under `--tool-names mcp`).
    #[arg(long)]
    tool_prefix: Option<String>,
    /// Tool names: `portable` (the default: `^[A-Za-z0-9_-]{1,64}$`, which every client and
    /// model API accepts; a `.` of an operationId becomes `_`) or `mcp` (MCP's own rule,
    /// 1-128 characters of `[A-Za-z0-9_.-]`: dots kept, as `users.get`).
    #[arg(long, value_name = "portable|mcp")]
    tool_names: Option<mcpgen_codegen::ToolNames>,
    /// Cut tool and schema descriptions to this many characters.
    #[arg(long, value_name = "N")]
    max_description_chars: Option<usize>,
    /// Inline `$ref`s in tool schemas, for clients that reject references (recursive schemas
    /// keep theirs). `--inline-refs=false` turns off what a settings file turned on.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    inline_refs: Option<bool>,
    /// Leave out output schemas: smaller tool lists, no structured results promised.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    no_output_schemas: Option<bool>,
    /// Leave out operations that cannot be read, with a warning, instead of failing.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    skip_broken: Option<bool>,
    /// Fetch `https` documents that `$ref`s name (refused otherwise). Each URL is fetched
    /// once, within 10 seconds, following redirects on the same host only, and may be no
    /// larger than a local spec; references inside it resolve against its URL, never to local
    /// files. Hosts that resolve to internal addresses are refused unless named with
    /// `--allow-remote-host`.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    allow_remote_refs: Option<bool>,
    /// A host remote references may be fetched from although it resolves to a loopback,
    /// private or link-local address, or is reached over plain `http` (repeatable).
    #[arg(long, value_name = "HOST")]
    allow_remote_host: Vec<String>,
    /// Let references read hidden files and folders (a path segment starting with `.`),
    /// which are refused by default.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    allow_hidden_refs: Option<bool>,
    /// The folder that references to other files may not leave (default: the repository
    /// root above the document, found by its `.git`; else the nearest folder above it with a
    /// project manifest such as Cargo.toml, package.json, pyproject.toml or go.mod; else the
    /// document's folder). Hidden files and symbolic links that lead outside it are refused
    /// even inside it.
    #[arg(long, value_name = "DIR")]
    ref_root: Option<PathBuf>,
}

impl ShapeArgs {
    /// The project's settings for `spec`, then those of the flags (see
    /// [`DocumentArgs::settings_for`]).
    fn settings_for(&self, spec: &std::path::Path, settings: Settings) -> Result<Settings, String> {
        let settings = self.document.settings_for(spec, settings)?;
        Ok(match self.mode {
            Some(mode) => settings.mode(mode),
            None => settings,
        })
    }
}

impl DocumentArgs {
    /// The project's settings for `spec` (`[package.metadata.mcpgen]` of the package in the
    /// current folder, then the config file), then those of the flags.
    fn settings_for(&self, spec: &std::path::Path, settings: Settings) -> Result<Settings, String> {
        let manifest = std::env::current_dir()
            .ok()
            .and_then(|dir| mcpgen_codegen::config::package_manifest(&dir));
        let (settings, _) = mcpgen_codegen::config::project_settings(
            spec,
            manifest.as_deref(),
            self.config.as_deref(),
            settings,
        )
        .map_err(|e| e.to_string())?;
        Ok(self.apply(settings))
    }

    /// The flags as the top layer of settings: each one given sets its value, whatever the
    /// layers under it say.
    fn apply(&self, mut settings: Settings) -> Settings {
        for overlay in &self.overlay {
            settings = settings.overlay(overlay);
        }
        for arazzo in &self.arazzo {
            settings = settings.arazzo(arazzo);
        }
        settings = settings
            .include_tags(self.include_tag.iter().cloned())
            .exclude_tags(self.exclude_tag.iter().cloned())
            .include_operations(self.include_operation.iter().cloned())
            .exclude_operations(self.exclude_operation.iter().cloned());
        for host in &self.allow_remote_host {
            settings = settings.allow_remote_host(host.clone());
        }
        type Switch = (Option<bool>, fn(Settings, bool) -> Settings);
        let switches: [Switch; 6] = [
            (self.inline_refs, Settings::inline_refs),
            (self.no_output_schemas, Settings::no_output_schemas),
            (self.skip_broken, Settings::skip_broken),
            (self.allow_remote_refs, Settings::allow_remote_refs),
            (self.allow_hidden_refs, Settings::allow_hidden_refs),
            (self.guide_prompts, Settings::guide_prompts),
        ];
        for (value, set) in switches {
            if let Some(on) = value {
                settings = set(settings, on);
            }
        }
        if let Some(n) = self.max_description_chars {
            settings = settings.max_description_chars(n);
        }
        if let Some(root) = &self.ref_root {
            settings = settings.ref_root(root);
        }
        if let Some(prefix) = &self.tool_prefix {
            settings = settings.tool_prefix(prefix.clone());
        }
        if let Some(rule) = self.tool_names {
            settings = settings.tool_names(rule);
        }
        settings
    }
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// The OpenAPI document.
    spec: PathBuf,
    #[command(flatten)]
    shape: ShapeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The old document.
    old: PathBuf,
    /// The new document.
    new: PathBuf,
    /// Settings for both documents (each also reads the `mcpgen.toml` beside it).
    #[command(flatten)]
    shape: ShapeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Exit with status 1 when a change may break existing callers.
    #[arg(long)]
    fail_on_breaking: bool,
    /// The tool name rule the old server was generated with. Default: the rule set by
    /// `--tool-names` or the settings, else `mcp`, the names of servers generated before tool
    /// names became portable, so that regenerating such a server reports its renamed tools.
    #[arg(long, value_name = "portable|mcp")]
    old_tool_names: Option<mcpgen_codegen::ToolNames>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// One line per change.
    Text,
    /// A JSON object with `breaking` and `changes`.
    Json,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// The OpenAPI document (Swagger 2.0, OpenAPI 3.0, 3.1 or 3.2; JSON or YAML). Several
    /// documents, or a folder of them, make one server whose tools are namespaced per API.
    #[arg(required = true, num_args = 1.., value_name = "SPEC")]
    spec: Vec<PathBuf>,
    #[command(flatten)]
    namespaces: NamespaceArgs,
    /// The folder to write the crate to (created if missing).
    #[arg(long, short)]
    out: PathBuf,
    #[command(flatten)]
    server: ServerIdentityArgs,
    /// Version of the generated crate (default 0.1.0).
    #[arg(long)]
    crate_version: Option<String>,
    /// Leave `[profile.release]` out of the crate's Cargo.toml: for a crate inside a cargo
    /// workspace, whose root holds the profiles.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    no_release_profile: Option<bool>,
    #[command(flatten)]
    shape: ShapeArgs,
    /// Depend on the published `mcpgen` runtime at this version instead of inlining it.
    #[arg(long, conflicts_with = "runtime_path")]
    runtime_version: Option<String>,
    /// Depend on the `mcpgen` runtime at this path instead of inlining it.
    #[arg(long)]
    runtime_path: Option<PathBuf>,
    /// Write nothing; exit 1 if the files in --out differ from what would be generated.
    #[arg(long)]
    check: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// The server's name, environment variables and resources: shared by `generate` and `serve`.
#[derive(Debug, Args)]
struct ServerIdentityArgs {
    /// Crate and server name (default: from the API title, plus `-mcp`).
    #[arg(long)]
    name: Option<String>,
    /// Prefix of the server's environment variables (default: from the crate name).
    #[arg(long)]
    env_prefix: Option<String>,
    /// Do not embed the API document, which the server otherwise serves as the resource
    /// `openapi://spec`.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    no_openapi_resource: Option<bool>,
}

impl ServerIdentityArgs {
    fn apply(&self, mut settings: Settings) -> Settings {
        if let Some(name) = &self.name {
            settings = settings.crate_name(name.clone());
        }
        if let Some(prefix) = &self.env_prefix {
            settings = settings.env_prefix(prefix.clone());
        }
        if let Some(off) = self.no_openapi_resource {
            settings = settings.embed_openapi(!off);
        }
        settings
    }
}

/// How the APIs of a server of several documents are named.
#[derive(Debug, Args)]
struct NamespaceArgs {
    /// The namespace of the document FILE in a server of several: the prefix of its tools'
    /// names (`NAME_`) and of its environment variables (`NAME_BASE_URL`, upper-cased).
    /// Default: from the document's title (repeatable).
    #[arg(long = "namespace", value_name = "NAME=FILE")]
    namespace: Vec<String>,
}

#[derive(Debug, Args)]
struct ServeCommandArgs {
    /// The OpenAPI document (Swagger 2.0, OpenAPI 3.0, 3.1 or 3.2; JSON or YAML). Several
    /// documents, or a folder of them, are served as one server whose tools are namespaced
    /// per API.
    #[arg(required = true, num_args = 1.., value_name = "SPEC")]
    spec: Vec<PathBuf>,
    #[command(flatten)]
    namespaces: NamespaceArgs,
    #[command(flatten)]
    identity: ServerIdentityArgs,
    #[command(flatten, next_help_heading = "Document options")]
    document: DocumentArgs,
    /// The options of a generated server.
    #[command(flatten, next_help_heading = "Server options")]
    server: mcpgen::ServeArgs,
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    // `cargo mcpgen ...` runs `cargo-mcpgen mcpgen ...`; accept the direct form too.
    if args.get(1).map(String::as_str) != Some("mcpgen") {
        args.insert(1, "mcpgen".to_owned());
    }
    let CargoCli::Mcpgen(cli) = CargoCli::parse_from(args);
    match cli.command {
        Command::Generate(args) => generate(*args),
        Command::Serve(args) => serve(*args),
        Command::Diff(args) => diff(args),
        Command::Inspect(args) => inspect(args),
    }
}

fn inspect(args: InspectArgs) -> ExitCode {
    let settings = match args.shape.settings_for(&args.spec, Settings::new()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mapped = match mcpgen_codegen::map_document(&args.spec, &settings) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let budget = mcpgen_codegen::inspect::budget(&mapped.api, mapped.api.tools.len());
    match args.format {
        Format::Text => print!("{}", budget.to_text()),
        Format::Json => println!("{:#}", budget.to_json()),
    }
    ExitCode::SUCCESS
}

/// At most this many lines of unified diff per stale file: enough to see what changed.
const MAX_DIFF_LINES: usize = 60;

/// Prints a short unified diff between the committed file and the generated one.
fn print_diff(name: &str, committed: &str, generated: &str) {
    let diff = similar::TextDiff::from_lines(committed, generated);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    eprintln!("stale: {name}");
    for line in lines.iter().take(MAX_DIFF_LINES) {
        eprintln!("{line}");
    }
    if lines.len() > MAX_DIFF_LINES {
        eprintln!("... {} more diff lines", lines.len() - MAX_DIFF_LINES);
    }
}

fn diff(args: DiffArgs) -> ExitCode {
    let map = |spec: &std::path::Path, old: bool| {
        let mut settings = args.shape.settings_for(spec, Settings::new())?;
        if old {
            let rule = args
                .old_tool_names
                .or(settings.tool_names_set())
                .unwrap_or(mcpgen_codegen::ToolNames::Mcp);
            settings = settings.tool_names(rule);
        }
        mcpgen_codegen::map_document(spec, &settings).map_err(|e| e.to_string())
    };
    let (old, new) = match (map(&args.old, true), map(&args.new, false)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let changes = mcpgen_codegen::diff::diff(&old.api, &new.api);
    match args.format {
        Format::Text => print!("{}", mcpgen_codegen::diff::to_text(&changes)),
        Format::Json => println!("{:#}", mcpgen_codegen::diff::to_json(&changes)),
    }
    if args.fail_on_breaking && changes.iter().any(|c| c.breaking) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn generate(args: GenerateArgs) -> ExitCode {
    let started = Instant::now();
    let documents = match Documents::read(&args.spec, &args.namespaces) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let settings = match &documents {
        Documents::One(spec) => args.shape.settings_for(spec, Settings::new()),
        Documents::Several(_) => Ok(Settings::new()),
    };
    let mut settings = match settings {
        Ok(s) => args.server.apply(s),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(version) = args.crate_version {
        settings = settings.crate_version(version);
    }
    if let Some(off) = args.no_release_profile {
        settings = settings.release_profile(!off);
    }
    if let Some(v) = args.runtime_version {
        settings = settings.runtime(RuntimeDependency::Version(v));
    } else if let Some(p) = args.runtime_path {
        settings = settings.runtime(RuntimeDependency::Path(p));
    }
    let generated = match &documents {
        Documents::One(spec) => {
            mcpgen_codegen::generate_crate(spec, &settings).map_err(|e| e.to_string())
        }
        Documents::Several(several) => documents
            .api_documents(several, |spec| {
                Ok(args
                    .server
                    .apply(args.shape.settings_for(spec, Settings::new())?))
            })
            .and_then(|docs| {
                mcpgen_codegen::map_documents(&docs, &settings).map_err(|e| e.to_string())
            })
            .and_then(|mapped| {
                mcpgen_codegen::render_crate(&mapped, &settings).map_err(|e| e.to_string())
            }),
    };
    let generated = match generated {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !args.quiet {
        for w in &generated.warnings {
            match &documents {
                Documents::One(spec) => eprintln!("warning: {}: {w}", spec.display()),
                // Each warning names its document.
                Documents::Several(_) => eprintln!("warning: {w}"),
            }
        }
    }
    if args.check {
        let stale = stale_files(&generated, &args.out);
        if stale.is_empty() {
            if !args.quiet {
                eprintln!("{} is up to date", args.out.display());
            }
            return ExitCode::SUCCESS;
        }
        for path in stale {
            let on_disk = std::fs::read_to_string(args.out.join(&path)).unwrap_or_default();
            let wanted = generated.file(&path).unwrap_or_default();
            print_diff(&path.display().to_string(), &on_disk, wanted);
        }
        eprintln!(
            "the generated crate is out of date; run `cargo mcpgen generate {} --out {}`",
            args.spec
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            args.out.display()
        );
        return ExitCode::FAILURE;
    }
    match write_crate(&generated, &args.out) {
        Ok(written) => {
            if !args.quiet {
                eprintln!(
                    "generated {} ({} tools) in {}: {} files written, {} unchanged, {:.0?}",
                    generated.crate_name,
                    generated.tool_count,
                    args.out.display(),
                    written.len(),
                    generated.files.len() - written.len(),
                    started.elapsed()
                );
                if let Some(note) = shared_target_note(std::env::var_os("CARGO_TARGET_DIR")) {
                    eprintln!("{note}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A generated crate compiles about 150 dependencies before its own code; servers built into
/// one target folder compile them once. Said after `generate` unless a folder is already set.
fn shared_target_note(target_dir: Option<std::ffi::OsString>) -> Option<&'static str> {
    target_dir.is_none().then_some(
        "to build several generated servers, share one target folder so that the dependencies \
         compile once: export CARGO_TARGET_DIR=~/.cache/mcpgen/target",
    )
}

/// Maps the document as `generate` would, and serves the tool table with the runtime a
/// generated crate compiles in.
fn serve(args: ServeCommandArgs) -> ExitCode {
    let documents = match Documents::read(&args.spec, &args.namespaces) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The server's `--mode` is the mode the table is built for, as a generated crate's is the
    // mode it was generated with; without it, the settings' mode stands.
    let settings_for = |spec: &std::path::Path| -> Result<Settings, String> {
        let settings = args
            .identity
            .apply(args.document.settings_for(spec, Settings::new())?);
        Ok(match args.server.mode {
            Some(mode) => settings.mode(serve::generation_mode(mode)),
            None => settings,
        })
    };
    let mapped = match &documents {
        Documents::One(spec) => settings_for(spec).and_then(|settings| {
            mcpgen_codegen::map_document(spec, &settings).map_err(|e| e.to_string())
        }),
        Documents::Several(several) => {
            documents
                .api_documents(several, settings_for)
                .and_then(|docs| {
                    let server = args.identity.apply(Settings::new());
                    mcpgen_codegen::map_documents(&docs, &server).map_err(|e| e.to_string())
                })
        }
    };
    let mapped = match mapped {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &mapped.warnings {
        match &documents {
            Documents::One(spec) => eprintln!("warning: {}: {w}", spec.display()),
            Documents::Several(_) => eprintln!("warning: {w}"),
        }
    }
    let api = serve::descriptor(&mapped.api);
    // Freed before serving: `run` hands the mapping's memory back to the system.
    drop(mapped);
    mcpgen::run(api, args.server, Vec::new())
}

/// The documents a command was given: one (served as always), or several that make one
/// server of several APIs (several files, a folder, or `--namespace`).
enum Documents {
    One(PathBuf),
    Several(Vec<(PathBuf, Option<String>)>),
}

impl Documents {
    /// Reads the command line's documents: files as given, and the `.yaml`, `.yml` and
    /// `.json` files of folders in name order; each `--namespace NAME=FILE` names the
    /// document FILE.
    fn read(specs: &[PathBuf], namespaces: &NamespaceArgs) -> Result<Documents, String> {
        let mut files = Vec::new();
        let mut folder = false;
        for spec in specs {
            if spec.is_dir() {
                folder = true;
                let mut found: Vec<PathBuf> = std::fs::read_dir(spec)
                    .map_err(|e| format!("{}: cannot read the folder: {e}", spec.display()))?
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.is_file()
                            && p.extension()
                                .and_then(|e| e.to_str())
                                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                    })
                    .collect();
                found.sort();
                if found.is_empty() {
                    return Err(format!(
                        "{}: the folder holds no API document (.yaml, .yml or .json)",
                        spec.display()
                    ));
                }
                files.extend(found);
            } else {
                files.push(spec.clone());
            }
        }
        let same = |a: &std::path::Path, b: &std::path::Path| {
            a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
        };
        let mut named: Vec<Option<String>> = vec![None; files.len()];
        for given in &namespaces.namespace {
            let Some((name, file)) = given.split_once('=') else {
                return Err(format!(
                    "--namespace {given}: write NAME=FILE, FILE being one of the documents"
                ));
            };
            let Some(i) = files
                .iter()
                .position(|f| same(f, std::path::Path::new(file)))
            else {
                return Err(format!(
                    "--namespace {given}: {file} is not one of the documents given"
                ));
            };
            if named[i].replace(name.to_owned()).is_some() {
                return Err(format!("--namespace: {file} is given two namespaces"));
            }
        }
        if files.len() == 1 && !folder && namespaces.namespace.is_empty() {
            return Ok(Documents::One(files.remove(0)));
        }
        Ok(Documents::Several(files.into_iter().zip(named).collect()))
    }

    /// The documents with their settings, from `settings_for` (each document's own project
    /// settings under the flags).
    fn api_documents(
        &self,
        several: &[(PathBuf, Option<String>)],
        settings_for: impl Fn(&std::path::Path) -> Result<Settings, String>,
    ) -> Result<Vec<mcpgen_codegen::ApiDocument>, String> {
        several
            .iter()
            .map(|(path, namespace)| {
                let document = mcpgen_codegen::ApiDocument::new(path, settings_for(path)?);
                Ok(match namespace {
                    Some(name) => document.namespace(name.clone()),
                    None => document,
                })
            })
            .collect()
    }
}
