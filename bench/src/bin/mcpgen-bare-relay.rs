//! `mcpgen-bare-relay`: the least any MCP server built on the same parts as a generated one
//! (tokio, axum and hyper to take requests, reqwest to call the upstream, serde_json, mimalloc)
//! must do for the benchmark's `tools/call getPetById`: read the JSON-RPC request, send the upstream
//! request, parse the upstream's JSON and answer with it as text and as structured content.
//! No validation, credentials, guardrails, metrics, logging or protocol checks.
//!
//! It takes the example server's command line (`--base-url URL`, and `--transport http --bind
//! ADDR` for HTTP), so `mcpgen-bench --overhead-only --server-bin target/release/mcpgen-bare-relay`
//! measures it in the example server's place: a bound on what the example server's own
//! figures can reach on the same machine.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

// The allocator generated servers run with (their default `mimalloc` feature).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Relay {
    client: reqwest::Client,
    base_url: String,
}

impl Relay {
    /// The answer to one JSON-RPC message; `None` for a notification or anything unreadable.
    async fn answer(&self, message: &[u8]) -> Option<Vec<u8>> {
        let request: Value = serde_json::from_slice(message).ok()?;
        let id = request.get("id")?.clone();
        let result = match request.get("method")?.as_str()? {
            "initialize" => json!({
                "protocolVersion": request["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "mcpgen-bare-relay", "version": "0"},
            }),
            "tools/call" => {
                let pet = request["params"]["arguments"]["petId"].as_str()?;
                let response = self
                    .client
                    .get(format!("{}/pets/{pet}", self.base_url))
                    .header("authorization", "Bearer bench")
                    .send()
                    .await
                    .ok()?;
                let body = response.bytes().await.ok()?;
                let structured: Value = serde_json::from_slice(&body).ok()?;
                let text = structured.to_string();
                json!({
                    "content": [{"type": "text", "text": text}],
                    "structuredContent": structured,
                    "isError": false,
                })
            }
            _ => json!({"tools": []}),
        };
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "result": result})).ok()
    }
}

fn option(args: &[String], name: &str) -> Option<String> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).cloned()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(base_url) = option(&args, "--base-url") else {
        eprintln!("usage: mcpgen-bare-relay --base-url URL [--transport http --bind ADDR]");
        return ExitCode::FAILURE;
    };
    let http = option(&args, "--transport").as_deref() == Some("http");
    // As the generated server: one thread for one stdio client, worker threads for HTTP.
    let runtime = if http {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    // The provider the generated server installs (reqwest may be built without its own).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .build();
    let (Ok(runtime), Ok(client)) = (runtime, client) else {
        eprintln!("error: cannot start the runtime or the HTTP client");
        return ExitCode::FAILURE;
    };
    let relay = Arc::new(Relay { client, base_url });
    let served = if http {
        let bind = option(&args, "--bind").unwrap_or_else(|| "127.0.0.1:0".to_owned());
        runtime.block_on(serve_http(relay, &bind))
    } else {
        runtime.block_on(serve_stdio(relay))
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_http(relay: Arc<Relay>, bind: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!(
        "MCP server listening on http://{}/mcp",
        listener.local_addr()?
    );
    let endpoint = move |body: axum::body::Bytes| {
        let relay = relay.clone();
        async move {
            let answer = relay.answer(&body).await.unwrap_or_default();
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                answer,
            )
        }
    };
    let app = axum::Router::new().route("/mcp", axum::routing::post(endpoint));
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).await
}

/// Lines in, one task per request, answers written as they come (several per write when
/// they queue up), until stdin closes.
async fn serve_stdio(relay: Arc<Relay>) -> std::io::Result<()> {
    let (answers, mut queued) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(mut batch) = queued.recv().await {
            batch.push(b'\n');
            while let Ok(more) = queued.try_recv() {
                batch.extend_from_slice(&more);
                batch.push(b'\n');
            }
            stdout.write_all(&batch).await?;
            stdout.flush().await?;
        }
        Ok::<(), std::io::Error>(())
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let (relay, answers) = (relay.clone(), answers.clone());
        tokio::spawn(async move {
            if let Some(answer) = relay.answer(line.as_bytes()).await {
                let _ = answers.send(answer);
            }
        });
    }
    drop(answers);
    writer.await.map_err(std::io::Error::other)?
}
