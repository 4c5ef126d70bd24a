//! The attribute's server carries the resources a document names and the prompts that embed
//! them, and its server type answers every MCP method the runtime's server does: driven here
//! over an in-memory pipe, one JSON-RPC message a line.

use mcpgen::rmcp::ServiceExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};

#[mcpgen::server(spec = "../tests/fixtures/resources.yaml", server_type = "Checks")]
pub mod checks {}

#[test]
fn the_table_holds_the_documents_resources_and_prompts() {
    let uris: Vec<Option<&str>> = checks::API
        .tools
        .iter()
        .map(|t| t.resource.map(|r| r.uri))
        .collect();
    assert_eq!(
        uris,
        [
            Some("test://static-text"),
            Some("test://static-binary"),
            Some("test://template/{id}/data"),
            None,
        ]
    );
    let image = &checks::API.prompts[0];
    assert_eq!(image.name, "test_prompt_with_image");
    assert!(matches!(
        image.resources,
        [[mcpgen::PromptPart::Text("test://static-binary")]]
    ));
}

/// The client's end of the pipe to a server.
struct Pipe {
    write: WriteHalf<DuplexStream>,
    read: BufReader<ReadHalf<DuplexStream>>,
}

impl Pipe {
    /// Sends `message`, one line.
    async fn send(&mut self, message: Value) {
        let mut line = message.to_string();
        line.push('\n');
        self.write.write_all(line.as_bytes()).await.unwrap();
    }

    /// Sends `request` and returns the answer to it.
    async fn ask(&mut self, request: Value) -> Value {
        self.send(request).await;
        let mut answer = String::new();
        self.read.read_line(&mut answer).await.unwrap();
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"))
    }
}

#[tokio::test]
async fn the_server_type_answers_resources_prompts_and_completion() {
    // Nothing listens upstream: reads reach the call path and fail there.
    let config =
        mcpgen::RuntimeConfig::new(mcpgen::request::Upstream::parse("http://127.0.0.1:9").unwrap());
    let server = checks::Checks::new(config).expect("the server builds");
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let running = server
            .serve(tokio::io::split(server_end))
            .await
            .expect("the server starts");
        let _ = running.waiting().await;
    });
    let (read, write) = tokio::io::split(client);
    let mut pipe = Pipe {
        write,
        read: BufReader::new(read),
    };
    let info = pipe
        .ask(json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "test", "version": "1"}}
        }))
        .await;
    assert!(
        info["result"]["capabilities"]["prompts"].is_object(),
        "{info}"
    );
    pipe.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;

    let resources = pipe
        .ask(json!({"jsonrpc": "2.0", "id": 2, "method": "resources/list"}))
        .await;
    let uris: Vec<&str> = resources["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [
            "openapi://spec",
            "test://static-text",
            "test://static-binary"
        ]
    );
    let prompts = pipe
        .ask(json!({"jsonrpc": "2.0", "id": 3, "method": "prompts/list"}))
        .await;
    assert_eq!(
        prompts["result"]["prompts"][0]["name"], "test_prompt_with_image",
        "{prompts}"
    );
    // The prompt's resource is read through the call path: the upstream's absence is the error.
    let read = pipe
        .ask(json!({"jsonrpc": "2.0", "id": 4, "method": "prompts/get",
                    "params": {"name": "test_prompt_with_image"}}))
        .await;
    let message = read["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("embeds the resource `test://static-binary`, which could not be read"),
        "{read}"
    );
    let completed = pipe
        .ask(
            json!({"jsonrpc": "2.0", "id": 5, "method": "completion/complete",
                    "params": {"ref": {"type": "ref/resource", "uri": "test://template/{id}/data"},
                               "argument": {"name": "id", "value": ""}}}),
        )
        .await;
    assert_eq!(
        completed["result"]["completion"]["values"],
        json!(["123"]),
        "{completed}"
    );
}
