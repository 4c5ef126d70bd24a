//! The server `scripts/conformance.sh` runs the MCP conformance suite against: the Petstore
//! API through the `#[mcpgen::server]` attribute (the same tools as the standalone example),
//! plus the diagnostic tools some of the suite's checks call by name:
//!
//! - `test_missing_capability` needs the client's `sampling` capability, declared with
//!   [`mcpgen::ExtraTool::requires_client_capabilities`]: the suite calls it without, and the
//!   runtime must refuse with -32021 and HTTP 400.
//! - `test_streaming_elicitation` is called by a client that declares elicitation; the answer
//!   stream must hold the result alone, never a request of the server's own.
//! - `test_logging_tool` writes a server-side log line; a request that set no log level must
//!   get no `notifications/message`.

use mcpgen::rmcp::model::{CallToolResult, ClientCapabilities, ContentBlock};

#[mcpgen::server(spec = "../../examples/petstore/openapi.yaml")]
pub mod petstore {}

/// The `sampling` capability, which the suite still probes with (rmcp's builder deprecates
/// it, as the specification does after 2026-07-28).
fn sampling() -> ClientCapabilities {
    serde_json::from_value(serde_json::json!({ "sampling": {} }))
        .expect("`{\"sampling\": {}}` is a client capability set")
}

fn diagnostic_tools() -> Vec<mcpgen::ExtraTool> {
    let text = |t: &str| CallToolResult::success(vec![ContentBlock::text(t.to_owned())]);
    vec![
        mcpgen::ExtraTool::new(
            "test_missing_capability",
            "Asks the client's model a question (needs the sampling capability).",
            move |_, _| async move { text("the client declared sampling") },
        )
        .requires_client_capabilities(sampling()),
        mcpgen::ExtraTool::new(
            "test_streaming_elicitation",
            "Answers on the request's own stream without asking the client anything.",
            move |_, _| async move { text("answered without elicitation") },
        ),
        mcpgen::ExtraTool::new(
            "test_logging_tool",
            "Writes a log line on the server.",
            move |_, _| async move {
                eprintln!("test_logging_tool was called");
                text("logged")
            },
        ),
    ]
}

fn main() -> std::process::ExitCode {
    use clap::Parser;
    mcpgen::run(
        &petstore::API,
        mcpgen::ServeArgs::parse(),
        diagnostic_tools(),
    )
}
