//! Renders a standalone server crate (Cargo.toml, README, `main.rs`, the tool table and, by
//! default, a copy of the runtime) and writes it to disk without leaving half-written files.

use std::path::{Path, PathBuf};

use askama::Template;

use crate::emit;
use crate::emit::escape::{
    code_span, dockerfile_string, html_comment_text, json_text, markdown_text, one_line,
    shell_word, table_cell, table_code, toml_string,
};
use crate::error::{Error, Result};
use crate::model::{Location, SchemeKind};
use crate::{Mapped, Settings};

/// How a generated crate gets the runtime.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RuntimeDependency {
    /// A copy of the runtime module inside the crate: builds from crates.io alone.
    #[default]
    Inline,
    /// The published `mcpgen` crate at this version requirement.
    Version(String),
    /// The `mcpgen` crate at this path.
    Path(PathBuf),
}

/// One file of a generated crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the crate root.
    pub path: PathBuf,
    /// Contents.
    pub contents: String,
}

/// A generated crate, in memory.
#[derive(Debug, Clone)]
pub struct GeneratedCrate {
    /// The crate name.
    pub crate_name: String,
    /// Every file, in a stable order.
    pub files: Vec<GeneratedFile>,
    /// Non-fatal problems met while reading the document.
    pub warnings: Vec<String>,
    /// How many tools the server has.
    pub tool_count: usize,
}

impl GeneratedCrate {
    /// The contents of the file at `path` (relative to the crate, e.g. `src/tools.rs`).
    pub fn file(&self, path: impl AsRef<Path>) -> Option<&str> {
        let path = path.as_ref();
        self.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.contents.as_str())
    }
}

/// The runtime's source files, copied into standalone crates.
const RUNTIME_FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/runtime_files.rs"));

/// The runtime's `[dependencies]` lines (less the macro re-export): what a standalone crate
/// needs for its copy of the runtime.
const RUNTIME_DEPENDENCIES: &str =
    include_str!(concat!(env!("OUT_DIR"), "/runtime_dependencies.toml"));

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version a generated crate gets when none is set.
const DEFAULT_CRATE_VERSION: &str = "0.1.0";

/// The longest crate name accepted, as crates.io limits them.
pub const MAX_CRATE_NAME_LEN: usize = 64;

/// Names cargo or rustc refuse for a package or its binary, or that would stand for something
/// else: Rust keywords (a crate named `self` cannot be referred to), the standard crates, the
/// folders cargo keeps beside binaries, and file names Windows reserves. Compared ignoring
/// case and with `-` read as `_`, as cargo and rustc read crate names.
const RESERVED_CRATE_NAMES: &str = "\
    abstract as async await become box break const continue crate do dyn else enum extern false \
    final fn for gen if impl in let loop macro match mod move mut override priv pub ref return \
    self static struct super trait true try type typeof unsafe unsized use virtual where while \
    yield \
    alloc core proc_macro std test \
    build deps examples incremental \
    con prn aux nul com1 com2 com3 com4 com5 com6 com7 com8 com9 \
    lpt1 lpt2 lpt3 lpt4 lpt5 lpt6 lpt7 lpt8 lpt9";

/// Checks a crate name as cargo reads one: 1 to 64 ASCII letters, digits, `-` and `_`,
/// starting with a letter, and not a reserved name. The name becomes the package, the binary
/// and the server's name, so it is checked rather than escaped.
pub fn check_crate_name(name: &str) -> Result<(), String> {
    const RULE: &str = "a crate name has 1 to 64 ASCII letters, digits, `-` and `_`, and starts \
                        with a letter";
    if name.is_empty() || name.len() > MAX_CRATE_NAME_LEN {
        return Err(format!(
            "{name:?} is not a valid crate name: {RULE} (it has {} characters)",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
    {
        return Err(format!(
            "{name:?} is not a valid crate name: {RULE} (it holds {c:?})"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("{name:?} is not a valid crate name: {RULE}"));
    }
    let normal = name.to_ascii_lowercase().replace('-', "_");
    if RESERVED_CRATE_NAMES
        .split_whitespace()
        .any(|reserved| reserved == normal)
    {
        return Err(format!(
            "{name:?} is not a valid crate name: it is reserved (a Rust keyword, a standard \
             crate, a folder cargo uses or a file name Windows reserves); add `-mcp`, say"
        ));
    }
    Ok(())
}

/// Checks a crate version: a semantic version as cargo reads it (`1.2.3`, `1.0.0-beta.1`).
pub fn check_crate_version(version: &str) -> Result<(), String> {
    semver::Version::parse(version)
        .map(drop)
        .map_err(|e| format!("{version:?} is not a semantic version like `0.1.0`: {e}"))
}

/// Checks a prefix of environment variable names: `A`-`Z`, `0`-`9` and `_`, not starting with
/// a digit, so that every variable the README names can be set from a shell as written.
pub fn check_env_prefix(prefix: &str) -> Result<(), String> {
    let valid = prefix
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && prefix.starts_with(|c: char| c.is_ascii_uppercase() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{prefix:?} is not a valid environment variable prefix: use `A`-`Z`, `0`-`9` and \
             `_`, not starting with a digit (`PETSTORE`, say)"
        ))
    }
}

/// Checks the names a generated server is known by, however they were set (a flag,
/// `mcpgen.toml`, `[package.metadata.mcpgen]`, the attribute, the Builder): they reach
/// `Cargo.toml`, the README and generated code, so a bad one is an error naming its setting.
pub fn check_identity(
    spec: &Path,
    crate_name: &str,
    crate_version: Option<&str>,
    env_prefix: &str,
) -> Result<()> {
    let err = |setting: &'static str| {
        move |message| Error::Settings {
            path: spec.to_owned(),
            setting,
            message,
        }
    };
    check_crate_name(crate_name).map_err(err("crate_name"))?;
    if let Some(version) = crate_version {
        check_crate_version(version).map_err(err("crate_version"))?;
    }
    check_env_prefix(env_prefix).map_err(err("env_prefix"))
}

/// `Cargo.toml`. Every value arrives written for its place: `*_toml` as TOML strings, quotes
/// included, `spec_file_comment` for a `#` comment.
#[derive(Template)]
#[template(path = "server/Cargo.toml.txt", escape = "none")]
struct ManifestTemplate<'a> {
    mcpgen_version: &'a str,
    spec_file_comment: String,
    name_toml: String,
    version_toml: String,
    description_toml: String,
    dependencies: String,
    features: String,
    release_profile: bool,
    /// The runtime is the `mcpgen` crate, not a copy in this one.
    runtime_is_dependency: bool,
}

/// The Rust release a generated crate's `Dockerfile` builds with: the `rust-version` of mcpgen's
/// workspace (a codegen test keeps the two equal), as a full version, so the image is pinned.
const CONTAINER_RUST_VERSION: &str = "1.88.0";

/// Where the `Dockerfile` puts the server's binary in the image.
const CONTAINER_BIN_DIR: &str = "/usr/local/bin";

/// The port the server listens on inside its container.
const CONTAINER_PORT: u16 = 8000;

/// `Dockerfile`. The crate name goes in as it is (`bin`, `image`): [`check_crate_name`] has
/// allowed only ASCII letters, digits, `-` and `_`, which are one word in a shell, in a comment
/// and in a path, and need no escape in JSON. `*_label` values are double-quoted Dockerfile
/// strings, `*_exec` whole JSON arrays (the exec form), `*_comment` text for a `#` comment.
#[derive(Template)]
#[template(path = "server/Dockerfile.txt", escape = "none")]
struct DockerfileTemplate<'a> {
    mcpgen_version: &'a str,
    spec_file_comment: String,
    rust_version: &'a str,
    bin: &'a str,
    bin_path: String,
    image: String,
    title_label: String,
    description_label: String,
    version_label: String,
    token_env: String,
    healthcheck_exec: String,
    entrypoint_exec: String,
    /// Where a path dependency on the runtime points, when the crate has one.
    runtime_path_comment: Option<String>,
}

/// The name of a crate's image as Docker reads references: lowercase, with `-` for `_` and no
/// trailing separator, since a path component must end with a letter or a digit and runs of
/// `_` are limited. Crate names start with a letter, so the result is never empty.
fn container_image_name(crate_name: &str) -> String {
    crate_name
        .to_ascii_lowercase()
        .replace('_', "-")
        .trim_end_matches('-')
        .to_owned()
}

/// `.dockerignore`: what `docker build` need not send to the builder.
const DOCKERIGNORE: &str = "\
# Build output and history stay out of the image's build context; the Dockerfile builds afresh.
target
.git
";

/// A row of the README's credentials table, each cell written for Markdown.
struct SchemeRow {
    key: String,
    sent_as: String,
    env: String,
}

/// A row of the README's tool table, each cell written for Markdown.
struct ToolRow {
    name: String,
    operation: String,
    arguments: String,
    summary: String,
}

/// `README.md`. Every value arrives written for its place: `*_md` as Markdown text, `*_code`
/// as whole code spans, `*_sh` as shell words (single-quoted), `*_command` as shell commands
/// (the Claude Code one a code span, the Inspector one for a code block), `stdio_config` as
/// JSON.
#[derive(Template)]
#[template(path = "server/README.md.txt", escape = "none")]
struct ReadmeTemplate<'a> {
    mcpgen_version: &'a str,
    spec_file_comment: String,
    spec_file_code: String,
    name_md: String,
    title_md: String,
    api_version_md: String,
    default_base_url_code: Option<String>,
    base_url_env_code: String,
    base_url_sh: String,
    schemes: Vec<SchemeRow>,
    tools: Vec<ToolRow>,
    /// How the tools below are offered, when not one tool each; empty otherwise.
    mode_note: String,
    stdio_config: String,
    claude_code_command: String,
    inspector_command: String,
    /// The image's name, as a shell word.
    image_sh: String,
    /// `<PREFIX>_MCP_TOKEN`, as a code span.
    token_env_code: String,
}

/// Renders every file of the crate.
pub fn render(mapped: &Mapped, settings: &Settings) -> Result<GeneratedCrate> {
    let api = &mapped.api;
    let spec_file = mapped
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "openapi".to_owned());
    let crate_name = mapped.crate_name.as_str();
    let crate_version = settings
        .crate_version
        .as_deref()
        .unwrap_or(DEFAULT_CRATE_VERSION);
    // Checked again here, not only when the document is mapped: a `Mapped` may be built or
    // changed by the caller, and these names are written into files.
    check_identity(
        &mapped.path,
        crate_name,
        Some(crate_version),
        &api.env_prefix,
    )?;
    let header = format!(
        "//! @generated by mcpgen {VERSION} from {}: an MCP server for {} {}.\n//! Regenerate rather than edit.\n",
        one_line(&spec_file),
        one_line(&api.title),
        one_line(&api.version)
    );

    let (runtime_path, runtime_mod, dependencies) = match &settings.runtime_dependency() {
        RuntimeDependency::Inline => (
            "crate::mcpgen_runtime",
            "#[rustfmt::skip]\nmod mcpgen_runtime;\n",
            runtime_dependencies(),
        ),
        RuntimeDependency::Version(v) => (
            "mcpgen",
            "",
            format!(
                "mcpgen = {{ version = {}, default-features = false }}",
                toml_string(v)
            ),
        ),
        RuntimeDependency::Path(p) => (
            "mcpgen",
            "",
            format!(
                "mcpgen = {{ path = {}, default-features = false }}",
                toml_string(&p.to_string_lossy())
            ),
        ),
    };
    let main_rs = format!(
        "{header}\n{runtime_mod}#[rustfmt::skip]\nmod tools;\n\nfn main() -> std::process::ExitCode {{\n    {runtime_path}::main(&tools::API)\n}}\n"
    );

    // The table names the runtime's types through a short alias, and reads the embedded
    // document from a file of its own.
    let mut tools_rs = format!("{header}\nuse {runtime_path} as rt;\n\n");
    let openapi_file = api.openapi.as_ref().map(|_| OPENAPI_FILE);
    emit::write_api_text(api, "rt", openapi_file, &mut tools_rs);

    let manifest = ManifestTemplate {
        mcpgen_version: VERSION,
        spec_file_comment: one_line(&spec_file),
        name_toml: toml_string(crate_name),
        version_toml: toml_string(crate_version),
        description_toml: toml_string(&format!("MCP server for the {} API", one_line(&api.title))),
        dependencies,
        features: features(
            api.mode,
            settings.runtime_dependency() == RuntimeDependency::Inline,
        ),
        release_profile: settings.writes_release_profile(),
        runtime_is_dependency: settings.runtime_dependency() != RuntimeDependency::Inline,
    }
    .render()
    .map_err(|e| Error::Internal(e.to_string()))?
        + "\n";

    let readme = render_readme(mapped, &spec_file)?;
    let dockerfile = render_dockerfile(mapped, settings, &spec_file, crate_version)?;

    let mut files = vec![
        file("Cargo.toml", manifest),
        file("README.md", readme),
        file(".gitignore", "/target\n".to_owned()),
        file("Dockerfile", dockerfile),
        file(".dockerignore", DOCKERIGNORE.to_owned()),
        file("src/main.rs", main_rs),
        file("src/tools.rs", tools_rs),
    ];
    if let Some(openapi) = &api.openapi {
        files.push(file(&format!("src/{OPENAPI_FILE}"), openapi.clone()));
    }
    if settings.runtime_dependency() == RuntimeDependency::Inline {
        for (name, source) in RUNTIME_FILES {
            files.push(file(
                &format!("src/mcpgen_runtime/{name}"),
                format!(
                    "// @generated by mcpgen {VERSION}: a copy of the mcpgen runtime. Regenerate rather than edit.\n\n{}",
                    strip_tests(source)
                ),
            ));
        }
    }
    Ok(GeneratedCrate {
        crate_name: crate_name.to_owned(),
        files,
        warnings: mapped.warnings.clone(),
        tool_count: api.tools.len(),
    })
}

/// The embedded API document, beside `tools.rs`.
const OPENAPI_FILE: &str = "openapi.json";

fn file(path: &str, contents: String) -> GeneratedFile {
    GeneratedFile {
        path: PathBuf::from(path),
        contents,
    }
}

fn render_dockerfile(
    mapped: &Mapped,
    settings: &Settings,
    spec_file: &str,
    crate_version: &str,
) -> Result<String> {
    let api = &mapped.api;
    // Written into the file unescaped (see `DockerfileTemplate`): `render` has checked it.
    let bin = mapped.crate_name.as_str();
    let bin_path = format!("{CONTAINER_BIN_DIR}/{bin}");
    let bind = format!("0.0.0.0:{CONTAINER_PORT}");
    // The exec form: a JSON array of strings, the binary first.
    let exec = |args: &[&str]| -> String {
        let words: Vec<String> = std::iter::once(bin_path.as_str())
            .chain(args.iter().copied())
            .map(|word| serde_json::Value::from(word).to_string())
            .collect();
        format!("[{}]", words.join(", "))
    };
    let runtime_path_comment = match settings.runtime_dependency() {
        RuntimeDependency::Path(path) => Some(one_line(&path.to_string_lossy())),
        _ => None,
    };
    DockerfileTemplate {
        mcpgen_version: VERSION,
        spec_file_comment: one_line(spec_file),
        rust_version: CONTAINER_RUST_VERSION,
        bin,
        image: container_image_name(bin),
        title_label: dockerfile_string(bin),
        description_label: dockerfile_string(&format!("MCP server for the {} API", api.title)),
        version_label: dockerfile_string(crate_version),
        token_env: format!("{}_MCP_TOKEN", api.env_prefix),
        healthcheck_exec: exec(&["--transport", "http", "--bind", &bind, "--health-check"]),
        entrypoint_exec: exec(&[
            "--transport",
            "http",
            "--bind",
            &bind,
            "--log-format",
            "json",
        ]),
        runtime_path_comment,
        bin_path,
    }
    .render()
    .map(|text| text + "\n")
    .map_err(|e| Error::Internal(e.to_string()))
}

fn render_readme(mapped: &Mapped, spec_file: &str) -> Result<String> {
    let api = &mapped.api;
    let crate_name = mapped.crate_name.as_str();
    let base_url_example = api
        .default_base_url
        .clone()
        .unwrap_or_else(|| "https://api.example.com".to_owned());
    let schemes = api
        .schemes
        .iter()
        .map(|s| SchemeRow {
            key: table_code(&s.key),
            sent_as: match &s.kind {
                SchemeKind::Bearer => "`Authorization: Bearer <token>`".to_owned(),
                SchemeKind::Basic => "`Authorization: Basic <user:password>`".to_owned(),
                SchemeKind::OAuth2ClientCredentials { token_url, .. } => format!(
                    "`Authorization: Bearer <token>`, fetched from {} with the client id and \
                     secret (or given ready)",
                    table_code(token_url)
                ),
                SchemeKind::ApiKey { location, name } => format!(
                    "{} {}",
                    match location {
                        Location::Header => "header",
                        Location::Query => "query parameter",
                        Location::Cookie => "cookie",
                        Location::Path => "path",
                        Location::QueryString => "query string",
                    },
                    table_code(name)
                ),
            },
            env: s
                .env
                .iter()
                .map(|e| table_code(e))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let tools = api
        .tools
        .iter()
        .map(|t| ToolRow {
            name: table_code(&t.name),
            operation: table_code(&format!("{} {}", t.plan.method, t.plan.path)),
            arguments: argument_list(&t.input_schema),
            summary: table_cell(&first_sentence(&t.description)),
        })
        .collect();
    let binary_path = format!("./target/release/{crate_name}");
    let mut env = serde_json::Map::new();
    for s in &api.schemes {
        for e in &s.env {
            env.insert(e.clone(), serde_json::Value::String("...".into()));
        }
    }
    // A server of several APIs takes one `--base-url NAME=URL` per API.
    let base_urls: Vec<String> = match api.apis.as_slice() {
        [] => vec![base_url_example.clone()],
        apis => apis
            .iter()
            .map(|a| {
                let url = a.default_base_url.as_deref();
                format!("{}={}", a.name, url.unwrap_or("https://api.example.com"))
            })
            .collect(),
    };
    let base_url_args: Vec<&str> = base_urls
        .iter()
        .flat_map(|url| ["--base-url", url.as_str()])
        .collect();
    let stdio_config = json_text(&serde_json::json!({
        "mcpServers": {
            crate_name: {
                "command": format!("/path/to/{crate_name}/target/release/{crate_name}"),
                "args": base_url_args,
                "env": env,
            }
        }
    }))
    .map_err(|e| Error::Internal(e.to_string()))?;
    // Every value in a shell command is one quoted word; a command shown inline is a code span.
    let base_url_sh = base_urls
        .iter()
        .map(|url| shell_word(url))
        .collect::<Vec<_>>()
        .join(" --base-url ");
    let binary_sh = shell_word(&binary_path);
    ReadmeTemplate {
        mcpgen_version: VERSION,
        spec_file_comment: html_comment_text(spec_file),
        spec_file_code: code_span(spec_file),
        name_md: markdown_text(crate_name),
        title_md: markdown_text(&api.title),
        api_version_md: markdown_text(&api.version),
        default_base_url_code: api.default_base_url.as_deref().map(code_span),
        base_url_env_code: match api.apis.as_slice() {
            [] => code_span(&format!("{}_BASE_URL", api.env_prefix)),
            apis => apis
                .iter()
                .map(|a| code_span(&format!("{}_BASE_URL", a.env_prefix)))
                .collect::<Vec<_>>()
                .join(", "),
        },
        schemes,
        tools,
        mode_note: mode_note(api),
        stdio_config,
        claude_code_command: code_span(&format!(
            "claude mcp add {} -- {binary_sh} --base-url {base_url_sh}",
            shell_word(crate_name)
        )),
        inspector_command: format!(
            "npx @modelcontextprotocol/inspector {binary_sh} --base-url {base_url_sh}"
        ),
        image_sh: shell_word(&container_image_name(crate_name)),
        token_env_code: code_span(&format!("{}_MCP_TOKEN", api.env_prefix)),
        base_url_sh,
    }
    .render()
    .map(|text| text + "\n")
    .map_err(|e| Error::Internal(e.to_string()))
}

/// The README's words on how operations are offered in search and mixed mode.
fn mode_note(api: &crate::ApiSpec) -> String {
    let tools = "`search_operations` (find operations for a task), `describe_operation` (their \
                 arguments) and `call_operation` (run one)";
    match api.mode {
        crate::Mode::Tools => String::new(),
        crate::Mode::Search => format!(
            "The server runs in search mode: it lists only {tools}, which reach every operation \
             below. Start it with `--mode tools` to list each operation as a tool instead.\n\n"
        ),
        crate::Mode::Mixed => {
            let direct: Vec<String> = api
                .tools
                .iter()
                .filter(|t| !t.search_only)
                .map(|t| code_span(&t.name))
                .collect();
            let own = if direct.len() == 1 {
                "is a tool of its own"
            } else {
                "are tools of their own"
            };
            format!(
                "The server runs in mixed mode: {} {own}; {tools} reach the other operations \
                 below.\n\n",
                direct.join(", ")
            )
        }
        crate::Mode::Code => {
            let direct: Vec<String> = api
                .tools
                .iter()
                .filter(|t| !t.search_only)
                .map(|t| code_span(&t.name))
                .collect();
            let own = if direct.is_empty() || direct.len() == api.tools.len() {
                String::new()
            } else if direct.len() == 1 {
                format!(" {} is also a tool of its own.", direct[0])
            } else {
                format!(" {} are also tools of their own.", direct.join(", "))
            };
            format!(
                "The server runs in code mode: it lists `search_operations` (find operations for \
                 a task), `describe_operation` (an operation as a TypeScript declaration) and \
                 `execute` (run a short JavaScript program that calls operations, \
                 `await api.<name>(args)`, in a sandbox inside the server).{own} The crate's \
                 `code-mode` feature, on by default here, builds the JavaScript engine in. Start \
                 it with `--mode tools` to list each operation as a tool instead.\n\n"
            )
        }
    }
}

/// The `[features]` lines: `mimalloc` (on by default) makes mimalloc the allocator; `code-mode`
/// builds code mode's JavaScript engine in, and is on by default only in a crate generated for
/// code mode (so other servers do not link it). Each turns on the runtime's feature of the same
/// name, or its optional dependencies in a crate that carries the runtime's copy.
fn features(mode: crate::Mode, inline: bool) -> String {
    let default = if mode == crate::Mode::Code {
        r#"default = ["mimalloc", "code-mode"]"#
    } else {
        r#"default = ["mimalloc"]"#
    };
    let (allocator, engine) = if inline {
        (
            r#""dep:mimalloc", "dep:libmimalloc-sys""#,
            r#""dep:rquickjs""#,
        )
    } else {
        (r#""mcpgen/mimalloc""#, r#""mcpgen/code-mode""#)
    };
    format!(
        "{default}\n# mimalloc as the allocator: a quarter to a third less CPU per HTTP call than the \
         system's.\nmimalloc = [{allocator}]\n# Code mode's JavaScript engine (QuickJS), for `--mode \
         code`.\ncode-mode = [{engine}]"
    )
}

/// The dependency lines of the runtime's manifest, less the macro re-export.
fn runtime_dependencies() -> String {
    RUNTIME_DEPENDENCIES.trim_end().to_owned()
}

/// Drops the trailing `#[cfg(test)] mod tests { ... }` of a runtime file: generated crates
/// do not need the runtime's own unit tests.
fn strip_tests(source: &str) -> String {
    let code = match source.find("\n#[cfg(test)]\nmod tests {") {
        Some(i) => &source[..i],
        None => source,
    };
    format!("{}\n", code.trim_end())
}

fn first_sentence(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(160).collect();
    if line.chars().count() > 160 {
        out.push('…');
    }
    out
}

/// `name*`, `limit`, ... for a README table: required arguments are starred.
fn argument_list(schema: &serde_json::Value) -> String {
    let required = crate::schema::required_names(schema);
    let names: Vec<String> = schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .map(|p| {
            p.keys()
                .map(|k| {
                    let star = if required.contains(&k.as_str()) {
                        "*"
                    } else {
                        ""
                    };
                    format!("{}{star}", table_code(k))
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        "–".to_owned()
    } else {
        names.join(", ")
    }
}

/// Writes the crate under `out`. Every file goes to a temporary name first and is renamed into
/// place, so a failure never leaves a file half-written; files that are already identical are
/// not touched, so their timestamps (and cargo's fingerprints) stay.
pub fn write_crate(generated: &GeneratedCrate, out: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for f in &generated.files {
        let path = out.join(&f.path);
        if std::fs::read(&path).ok().as_deref() == Some(f.contents.as_bytes()) {
            continue;
        }
        let write_err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write_err)?;
        }
        let tmp = path.with_extension("mcpgen-tmp");
        std::fs::write(&tmp, &f.contents).map_err(write_err)?;
        std::fs::rename(&tmp, &path).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            Error::Write {
                path: path.clone(),
                source,
            }
        })?;
        written.push(f.path.clone());
    }
    Ok(written)
}

/// The files under `out` that differ from the generated ones (missing files included).
pub fn stale_files(generated: &GeneratedCrate, out: &Path) -> Vec<PathBuf> {
    generated
        .files
        .iter()
        .filter(|f| std::fs::read(out.join(&f.path)).ok().as_deref() != Some(f.contents.as_bytes()))
        .map(|f| f.path.clone())
        .collect()
}
