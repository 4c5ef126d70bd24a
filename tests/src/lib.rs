//! Helpers for the end-to-end tests: generate and build a server crate once per test run,
//! start it, and connect a real MCP client (rmcp's) to it over stdio or streamable HTTP.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub mod chaos;

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

/// Generates a standalone crate for `spec` into a folder outside the workspace (a crate inside
/// it would be taken for an unlisted member), builds it with cargo into a target folder shared
/// by every test run, and returns the binary. Runs once per process and spec.
pub fn build_generated_server(spec: &Path, crate_name: &str) -> PathBuf {
    build_generated_server_with(spec, mcpgen_codegen::Settings::new().crate_name(crate_name))
}

/// [`build_generated_server`] with the given settings, which must name the crate.
pub fn build_generated_server_with(spec: &Path, settings: mcpgen_codegen::Settings) -> PathBuf {
    let root = workspace_root();
    let generated = mcpgen_codegen::generate_crate(spec, &settings)
        .unwrap_or_else(|e| panic!("generation failed: {e}"));
    let crate_name = generated.crate_name.as_str();
    let out = std::env::temp_dir().join(format!("mcpgen-e2e-{crate_name}"));
    mcpgen_codegen::standalone::write_crate(&generated, &out)
        .unwrap_or_else(|e| panic!("writing the crate failed: {e}"));
    let target = root.join("target").join("e2e");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(out.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env("CARGO_TERM_COLOR", "never")
        // The workspace's own profile: the generated crate has none, and with cargo's default
        // its dependencies carry full debug info, gigabytes on disk.
        .args(["--config", "profile.dev.debug=\"line-tables-only\""])
        .args(["--config", "profile.dev.package.\"*\".debug=false"])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the generated crate failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target.join("debug").join(crate_name)
}

/// The example Petstore server, built once.
pub fn petstore_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        build_generated_server(
            &workspace_root().join("examples/petstore/openapi.yaml"),
            "petstore-mcp",
        )
    })
}

/// The server generated from `tests/fixtures/kitchen-sink.yaml`, built once.
pub fn kitchen_sink_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        build_generated_server(
            &workspace_root().join("tests/fixtures/kitchen-sink.yaml"),
            "kitchen-sink-mcp",
        )
    })
}

/// The server generated from `tests/fixtures/oauth.yaml` (OAuth 2.0 client credentials) in
/// mixed mode: `getPetById` is a tool of its own, the other operations are reached through
/// search. Built once.
pub fn oauth_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        build_generated_server_with(
            &workspace_root().join("tests/fixtures/oauth.yaml"),
            mcpgen_codegen::Settings::new()
                .crate_name("oauth-pets-mcp")
                .mode(mcpgen_codegen::Mode::Mixed)
                .include_operations(["getPetById"]),
        )
    })
}

/// The server generated from `tests/fixtures/openapi32.yaml` (OpenAPI 3.2), limited to the
/// operations under the `catalog` tag and its child tags. Built once.
pub fn openapi32_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        build_generated_server_with(
            &workspace_root().join("tests/fixtures/openapi32.yaml"),
            mcpgen_codegen::Settings::new()
                .crate_name("thirty-two-mcp")
                .include_tags(["catalog"]),
        )
    })
}

/// The server generated from `tests/fixtures/faults.yaml`, built once.
pub fn faults_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        build_generated_server(
            &workspace_root().join("tests/fixtures/faults.yaml"),
            "faults-mcp",
        )
    })
}

/// The server generated from `tests/fixtures/hardening.yaml` (path parameters, TRACE,
/// redirects, credentials of every kind, a token URL on another host), built once.
pub fn hardening_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        build_generated_server(
            &workspace_root().join("tests/fixtures/hardening.yaml"),
            "hardening-mcp",
        )
    })
}

/// Starts the server on stdio with the given extra arguments and environment, and connects.
pub async fn stdio_client(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Client {
    let mut command = Command::new(bin);
    command.args(args).env_remove("PETSTORE_BEARER_AUTH_TOKEN");
    for (k, v) in env {
        command.env(k, v);
    }
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    ().serve(transport)
        .await
        .expect("MCP initialisation over stdio")
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
        let mut command = Command::new(bin);
        command
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
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.url.clone());
        config.auth_header = bearer.map(str::to_owned);
        let transport = StreamableHttpClientTransport::from_config(config);
        ().serve(transport)
            .await
            .expect("MCP initialisation over HTTP")
    }

    /// Stops the server with SIGTERM and returns its exit status.
    pub async fn stop(mut self) -> std::process::ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the server stops within 10 s of SIGTERM")
            .expect("wait works")
    }
}

/// Calls a tool with JSON arguments.
pub async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
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
