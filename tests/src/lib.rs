//! Helpers for the end-to-end tests: generate and build a server crate once per test run,
//! start it, and connect a real MCP client (rmcp's) to it over stdio or streamable HTTP.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use mcpgen_codegen::Settings;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RunningService, Service};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub mod chaos;
pub mod dockerfile;
pub mod oidc;
pub mod petstore;
pub mod python;

pub use petstore_upstream::{RecordedRequest, Upstream};

/// A connected MCP client.
pub type Client = RunningService<RoleClient, ()>;

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_owned()
}

/// Generates a standalone crate for `spec` with `settings` (which must name the crate), builds
/// it with cargo and returns the binary.
///
/// The crate is locked to the workspace's `Cargo.lock`. Both folders outlive the test run on
/// purpose, so that the next run rebuilds only what changed: the crate's sources go to
/// `target/e2e/crates/<crate name>` (rewritten file by file, so unchanged files keep their
/// times) and its build to `target/e2e`, shared by every generated crate. `cargo clean` removes both. The sources lie inside the workspace, which
/// would take the crate for an unlisted member: the manifest gets an empty `[workspace]` table
/// of its own, as trybuild does for the crates it builds under `target/`.
pub fn build_generated_server(spec: &Path, settings: Settings) -> PathBuf {
    build_generated_server_with(spec, settings, &[])
}

/// [`build_generated_server`] with more arguments for `cargo build` (`--no-default-features`,
/// say). The crate's binary is named after it: give a crate built with other features a name
/// of its own, or the two builds overwrite each other's binary.
pub fn build_generated_server_with(
    spec: &Path,
    settings: Settings,
    cargo_args: &[&str],
) -> PathBuf {
    // The runtime as a path dependency: built once for every generated crate of the run, where
    // a copy inside each crate would be compiled again for each. The copy itself is what the
    // example crate (examples/petstore, built with the workspace) and scripts/package.sh build.
    let settings = settings.runtime(mcpgen_codegen::RuntimeDependency::Path(
        workspace_root().join("runtime"),
    ));
    let generated = mcpgen_codegen::generate_crate(spec, &settings)
        .unwrap_or_else(|e| panic!("generation failed: {e}"));
    build_crate(generated, cargo_args)
}

/// [`build_generated_server`] for a server of several documents (see
/// [`mcpgen_codegen::map_documents`]), named by `server`.
pub fn build_generated_multi_server(
    documents: &[mcpgen_codegen::ApiDocument],
    server: Settings,
) -> PathBuf {
    let generated = mcpgen_codegen::map_documents(documents, &server)
        .and_then(|mapped| mcpgen_codegen::render_crate(&mapped, &server))
        .unwrap_or_else(|e| panic!("generation failed: {e}"));
    build_crate(generated, &[])
}

/// Writes a generated crate under `target/e2e/crates` and builds it (see
/// [`build_generated_server`]).
fn build_crate(mut generated: mcpgen_codegen::GeneratedCrate, cargo_args: &[&str]) -> PathBuf {
    let manifest = generated
        .files
        .iter_mut()
        .find(|f| f.path == Path::new("Cargo.toml"))
        .expect("a generated crate has a manifest");
    manifest.contents.push_str("\n[workspace]\n");
    let target = e2e_target();
    let out = target.join("crates").join(&generated.crate_name);
    mcpgen_codegen::write_crate(&generated, &out)
        .unwrap_or_else(|e| panic!("writing the crate failed: {e}"));
    // The workspace's lock file, so that the crate builds with the versions the workspace is
    // tested with rather than whatever is newest today (cargo drops the entries it does not
    // use).
    std::fs::copy(workspace_root().join("Cargo.lock"), out.join("Cargo.lock"))
        .unwrap_or_else(|e| panic!("copying the lock file failed: {e}"));
    let mut build = cargo();
    build
        .arg("build")
        .arg("--manifest-path")
        .arg(out.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        // The workspace's own profile: the generated crate has none, and with cargo's default
        // its dependencies carry full debug info, gigabytes on disk.
        .args(["--config", "profile.dev.debug=\"line-tables-only\""])
        .args(["--config", "profile.dev.package.\"*\".debug=false"])
        .args(cargo_args);
    run_cargo(&mut build, &generated.crate_name);
    target.join("debug").join(&generated.crate_name)
}

/// Where generated crates are written and built: `target/e2e`.
fn e2e_target() -> PathBuf {
    workspace_root().join("target").join("e2e")
}

/// The cargo running the tests (`cargo` when run otherwise), without colours.
fn cargo() -> std::process::Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = std::process::Command::new(cargo);
    command.env("CARGO_TERM_COLOR", "never");
    command
}

/// Runs a cargo build and returns its standard output; panics with cargo's errors if it fails.
fn run_cargo(build: &mut std::process::Command, what: &str) -> String {
    let output = build.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "building {what} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Builds the binary of the same name of a workspace package (an example) in the workspace's
/// own target folder, and returns the executable cargo reports (its messages as JSON on
/// stdout; compiler errors still rendered on stderr, for the panic message).
pub fn build_example(package: &str) -> PathBuf {
    let mut build = cargo();
    build
        .args([
            "build",
            "-p",
            package,
            "--bin",
            package,
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace_root());
    run_cargo(&mut build, package)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == package)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the example's executable")
}

/// The `cargo-mcpgen` binary (whose `mcpgen serve` serves a document without a crate), built
/// once per process.
pub fn mcpgen_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build_example("cargo-mcpgen"))
}

/// The arguments of `cargo-mcpgen` that serve the fixture document `tests/fixtures/{fixture}`
/// against `up`, followed by `extra`.
pub fn serve_fixture_args(fixture: &str, up: &Upstream, extra: &[&str]) -> Vec<String> {
    let spec = workspace_root().join("tests/fixtures").join(fixture);
    let base = format!("http://{}", up.addr());
    let mut args: Vec<String> = ["mcpgen", "serve", spec.to_str().expect("a UTF-8 path")]
        .into_iter()
        .chain(["--base-url", &base])
        .map(str::to_owned)
        .collect();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
}

/// Defines functions that return a server generated from a document with the given settings,
/// built at most once per process.
macro_rules! generated_servers {
    ($($(#[$doc:meta])* $name:ident => $spec:literal, $settings:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name() -> &'static Path {
            static BIN: OnceLock<PathBuf> = OnceLock::new();
            BIN.get_or_init(|| build_generated_server(&workspace_root().join($spec), $settings))
        }
    )*};
}

generated_servers! {
    /// The example Petstore server, with the example's settings (`examples/petstore/mcpgen.toml`).
    petstore_binary => "examples/petstore/openapi.yaml",
        mcpgen_codegen::config::apply_file(
            &workspace_root().join("examples/petstore/mcpgen.toml"),
            Settings::new().crate_name("petstore-mcp"),
        )
        .expect("the example's settings are valid");
    /// The example Petstore server generated in code mode (so built with the engine).
    petstore_code_binary => "examples/petstore/openapi.yaml",
        Settings::new()
            .crate_name("petstore-code-mcp")
            .env_prefix("PETSTORE")
            .mode(mcpgen_codegen::Mode::Code);
    /// The server generated from `tests/fixtures/kitchen-sink.yaml`.
    kitchen_sink_binary => "tests/fixtures/kitchen-sink.yaml",
        Settings::new().crate_name("kitchen-sink-mcp");
    /// The server generated from `tests/fixtures/oauth.yaml` (OAuth 2.0 client credentials) in
    /// mixed mode: `getPetById` is a tool of its own, the other operations are reached through
    /// search.
    oauth_binary => "tests/fixtures/oauth.yaml",
        Settings::new()
            .crate_name("oauth-pets-mcp")
            .mode(mcpgen_codegen::Mode::Mixed)
            .include_operations(["getPetById"]);
    /// The server generated from `tests/fixtures/openapi32.yaml` (OpenAPI 3.2), limited to the
    /// operations under the `catalog` tag and its child tags.
    openapi32_binary => "tests/fixtures/openapi32.yaml",
        Settings::new().crate_name("thirty-two-mcp").include_tags(["catalog"]);
    /// The server generated from `tests/fixtures/faults.yaml`.
    faults_binary => "tests/fixtures/faults.yaml",
        Settings::new().crate_name("faults-mcp");
    /// The server generated from `tests/fixtures/deploy.yaml`: `echo` and `sleep` on the
    /// example upstream's helper routes (base URL: the upstream's root).
    deploy_binary => "tests/fixtures/deploy.yaml",
        Settings::new().crate_name("deploy-mcp");
    /// The server generated from `tests/fixtures/scoped.yaml`: the example upstream's pets
    /// with OAuth 2.0 scopes on every operation (credential `SCOPED_PETS_OAUTH_TOKEN`).
    scoped_binary => "tests/fixtures/scoped.yaml",
        Settings::new().crate_name("scoped-mcp");
    /// The server generated from `tests/fixtures/credential-choice.yaml`: security layouts
    /// (either of two schemes, both, one, one or none) on the example upstream's echo route
    /// (base URL: the upstream's root), credentials in `CHOICE_API_KEY` and
    /// `CHOICE_BEARER_AUTH_TOKEN`.
    credential_choice_binary => "tests/fixtures/credential-choice.yaml",
        Settings::new().crate_name("credential-choice-mcp").env_prefix("CHOICE");
    /// The server generated from `tests/fixtures/hardening.yaml` (path parameters, TRACE,
    /// redirects, credentials of every kind, a token URL on another host).
    hardening_binary => "tests/fixtures/hardening.yaml",
        Settings::new().crate_name("hardening-mcp");
    /// The server generated from `tests/fixtures/masking.yaml` with the settings file
    /// `tests/fixtures/masking.toml`: canned answers full of secrets on the example upstream's
    /// helper routes (base URL: the upstream's root).
    masking_binary => "tests/fixtures/masking.yaml",
        mcpgen_codegen::config::apply_file(
            &workspace_root().join("tests/fixtures/masking.toml"),
            Settings::new().crate_name("masking-mcp"),
        )
        .expect("the masking settings are valid");
    /// The server generated from `tests/fixtures/masking.yaml` with the settings file
    /// `tests/fixtures/guardrails.toml`: a confirmation and a rate limit chosen at generation.
    guardrails_binary => "tests/fixtures/masking.yaml",
        mcpgen_codegen::config::apply_file(
            &workspace_root().join("tests/fixtures/guardrails.toml"),
            Settings::new().crate_name("guardrails-mcp"),
        )
        .expect("the guardrail settings are valid");
    /// The server generated from `tests/fixtures/resources.yaml` with the settings file
    /// `tests/fixtures/resources.toml`: resources at the document's URIs and prompts that embed
    /// them, on the example upstream's helper routes (base URL: the upstream's root),
    /// credential in `RESOURCES_BEARER_AUTH_TOKEN`.
    resources_binary => "tests/fixtures/resources.yaml",
        mcpgen_codegen::config::apply_file(
            &workspace_root().join("tests/fixtures/resources.toml"),
            Settings::new().crate_name("resources-mcp"),
        )
        .expect("the resource settings are valid");
}

/// The server generated from the two documents of `tests/fixtures/multi/` (the Notes Desk,
/// with its `mcpgen.toml`, and the File Shelf), as `cargo mcpgen generate` makes it of
/// `tests/fixtures/multi/notes/openapi.yaml tests/fixtures/multi/files/openapi.yaml --name
/// multi-mcp`.
pub fn multi_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = workspace_root().join("tests/fixtures/multi");
        let named = || Settings::new().crate_name("multi-mcp");
        let notes = mcpgen_codegen::config::apply_file(&root.join("notes/mcpgen.toml"), named())
            .expect("the Notes Desk's settings are valid");
        build_generated_multi_server(
            &[
                mcpgen_codegen::ApiDocument::new(root.join("notes/openapi.yaml"), notes),
                mcpgen_codegen::ApiDocument::new(root.join("files/openapi.yaml"), named()),
            ],
            named(),
        )
    })
}

/// Starts the server on stdio with the given extra arguments and environment, and connects.
pub async fn stdio_client(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Client {
    stdio_client_with((), bin, args, env).await
}

/// [`stdio_client`] with a client whose `handler` answers the server's requests (elicitation,
/// for one) and declares its capabilities.
pub async fn stdio_client_with<H: ClientHandler>(
    handler: H,
    bin: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> RunningService<RoleClient, H> {
    let mut command = Command::new(bin);
    command.args(args).env_remove("PETSTORE_BEARER_AUTH_TOKEN");
    for (k, v) in env {
        command.env(k, v);
    }
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    handler
        .serve(transport)
        .await
        .expect("MCP initialisation over stdio")
}

/// Starts the server on stdio against the upstream at `base_url`, with `extra` arguments after
/// `--base-url` and the given environment, and connects.
pub async fn stdio_at(bin: &Path, base_url: &str, extra: &[&str], env: &[(&str, &str)]) -> Client {
    let mut args = vec!["--base-url", base_url];
    args.extend_from_slice(extra);
    stdio_client(bin, &args, env).await
}

/// Makes *ring* rustls's cryptography provider in the test process unless one is installed
/// already. The runtime builds reqwest without a provider of its own, and the tests' HTTP
/// clients (reqwest's, and rmcp's on top of it) share that build: without a provider, building
/// a client panics, even for plain http. [`HttpServer`] calls it; a test that builds a client
/// without one calls it first.
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may install one between the check and this call: either serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A server process serving streamable HTTP.
pub struct HttpServer {
    child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// The server's stderr so far is read by a background task into this buffer.
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl HttpServer {
    /// Starts `bin --transport http --bind 127.0.0.1:0 ARGS` and waits for its address.
    pub async fn start(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> HttpServer {
        HttpServer::start_after(bin, &[], args, env).await
    }

    /// Starts `bin LEADING --transport http --bind 127.0.0.1:0 ARGS` (LEADING: a subcommand
    /// and its arguments) and waits for its address.
    pub async fn start_after(
        bin: &Path,
        leading: &[&str],
        args: &[&str],
        env: &[(&str, &str)],
    ) -> HttpServer {
        ensure_crypto_provider();
        let mut command = Command::new(bin);
        command
            .args(leading)
            .args(["--transport", "http", "--bind", "127.0.0.1:0"])
            .args(args)
            .env_remove("PETSTORE_BEARER_AUTH_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the server starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                buffer.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return rest.trim().to_owned();
                }
            }
            panic!(
                "the server exited before listening:\n{}",
                buffer.lock().unwrap()
            );
        })
        .await
        .expect("the server listens within 30 s");
        let sink = buffer.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        HttpServer {
            child,
            url,
            stderr: buffer,
        }
    }

    /// Connects an MCP client, optionally sending `Authorization: Bearer <token>`.
    pub async fn client(&self, bearer: Option<&str>) -> Client {
        self.client_with((), bearer).await
    }

    /// [`Self::client`] with a client whose `handler` answers the server's requests and
    /// declares its capabilities.
    pub async fn client_with<H: ClientHandler>(
        &self,
        handler: H,
        bearer: Option<&str>,
    ) -> RunningService<RoleClient, H> {
        ensure_crypto_provider();
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.url.clone());
        config.auth_header = bearer.map(str::to_owned);
        let transport = StreamableHttpClientTransport::from_config(config);
        handler
            .serve(transport)
            .await
            .expect("MCP initialisation over HTTP")
    }

    /// The server process's id (to send it signals), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the server with SIGTERM and returns its exit status.
    pub async fn stop(self) -> std::process::ExitStatus {
        self.terminate();
        self.wait(Duration::from_secs(10)).await
    }

    /// Sends the server SIGTERM, as an orchestrator does, and returns at once.
    pub fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }

    /// Waits at most `limit` for the server to exit, and returns its exit status.
    pub async fn wait(mut self, limit: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server exits within {limit:?}"))
            .expect("wait works")
    }

    /// `http://127.0.0.1:PORT` followed by `path` (the server's own routes beside `/mcp`).
    pub fn route(&self, path: &str) -> String {
        format!("{}{path}", self.url.trim_end_matches("/mcp"))
    }
}

/// Calls a tool with JSON arguments (answering any input the server asks for through the
/// client's handler).
pub async fn call<S: Service<RoleClient>>(
    client: &RunningService<RoleClient, S>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let Value::Object(map) = args else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(map))
        .await
        .unwrap_or_else(|e| panic!("tools/call {tool} failed at the protocol level: {e}"))
}

/// The text of a result's first content block.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Calls an operation through `call_operation` (search and mixed mode) with `arguments`.
pub async fn call_operation<S: Service<RoleClient>>(
    client: &RunningService<RoleClient, S>,
    name: &str,
    arguments: Value,
) -> CallToolResult {
    call(
        client,
        "call_operation",
        json!({"name": name, "arguments": arguments}),
    )
    .await
}

/// Asserts that a call succeeded (`isError` is false), showing its text when it did not.
#[track_caller]
pub fn assert_ok(result: &CallToolResult) {
    assert_eq!(result.is_error, Some(false), "{}", text(result));
}
