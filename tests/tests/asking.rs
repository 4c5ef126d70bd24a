//! A hand-written tool that asks the client for input, over a 2025 session: a tool that is
//! never satisfied is stopped after 8 rounds with a tool error that says so, and the client is
//! asked exactly 8 times. The fixture is the conformance suite's server
//! (`tests/conformance-server`), whose `test_sampling` asks again while the reply is not text.
#![allow(deprecated)] // Sampling is deprecated in MCP 2026-07-28 (SEP-2577), and still served.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcpgen_tests::{build_example, stdio_client_with, text};
use rmcp::ClientHandler;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, CreateMessageRequestParams,
    CreateMessageResult, ErrorData,
};
use rmcp::service::{RequestContext, RoleClient};
use serde_json::json;

/// A client whose model always answers with a picture.
#[derive(Clone, Default)]
struct PictureModel {
    asked: Arc<AtomicUsize>,
}

impl ClientHandler for PictureModel {
    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        info.capabilities =
            serde_json::from_value::<ClientCapabilities>(json!({"sampling": {}})).unwrap();
        info
    }

    async fn create_message(
        &self,
        _request: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok(serde_json::from_value(json!({
            "model": "picture-model",
            "role": "assistant",
            "content": {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
        }))
        .unwrap())
    }
}

#[tokio::test]
async fn a_tool_that_keeps_asking_is_stopped_after_8_rounds() {
    let bin = build_example("conformance-server");
    let model = PictureModel::default();
    // The fixture's operations are never called here; the upstream address is a formality.
    let client = stdio_client_with(
        model.clone(),
        &bin,
        &["--base-url", "http://127.0.0.1:9"],
        &[],
    )
    .await;
    let arguments = json!({"prompt": "Describe the sea."});
    let result = client
        .call_tool(
            CallToolRequestParams::new("test_sampling")
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await
        .expect("a tool error, not a protocol error");
    assert_eq!(result.is_error, Some(true), "{result:?}");
    assert_eq!(
        text(&result),
        "`test_sampling` asked for input more than 8 times in one call"
    );
    assert_eq!(model.asked.load(Ordering::SeqCst), 8);
    client.cancel().await.unwrap();
}
