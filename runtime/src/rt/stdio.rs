//! The stdio transport: newline-delimited JSON-RPC, read and answered as rmcp's own
//! transport does, with two shortcuts for what a client sends most.
//!
//! - `tools/call` is decoded straight into its request type. rmcp decodes a message by trying
//!   each request type in turn, and a call comes after a dozen failed attempts, each of which
//!   builds an error message: a fifth of a call's work.
//! - `tools/list` is answered by rmcp with an empty list (the request is marked
//!   [`SpliceTools`]), and the server's pre-serialised tools are put into that answer on its way
//!   out: a large API's parsed tool list takes ten times the memory of its text, and most of a
//!   list's time goes to escaping the same strings again. rmcp still shapes the answer for the
//!   client's protocol version.
//!
//! Every other line goes through rmcp's own decoder, so what is accepted, ignored or refused
//! with "Invalid Request" is exactly what rmcp's stdio transport does.

use std::collections::HashSet;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequest, ClientJsonRpcMessage, ClientRequest, ErrorData, JsonRpcMessage,
    JsonRpcRequest, ListToolsRequest, RequestId, ServerJsonRpcMessage, ServerResult,
};
use rmcp::service::RoleServer;
use rmcp::transport::Transport;
use rmcp::transport::async_rw::{JsonRpcMessageCodec, JsonRpcMessageCodecError};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::Decoder;

use super::handler::SpliceTools;
use super::server::GeneratedServer;

/// The longest line (one message) read; longer ones are dropped, as rmcp does.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Serves JSON-RPC lines from `R` and writes answers to `W`.
pub struct StdioTransport<R, W> {
    read: BufReader<R>,
    line: Vec<u8>,
    /// Dropping the rest of an oversized line, up to its newline.
    discarding: bool,
    write: Arc<Mutex<Option<W>>>,
    server: GeneratedServer,
    /// Ids of the marked `tools/list` requests not yet answered.
    splice: HashSet<RequestId>,
    /// An "Invalid Request" error is owed to the client.
    owe_error: bool,
}

enum LineRead {
    Line,
    Oversized,
    Eof,
    Io(std::io::Error),
}

/// What one line turned out to be.
enum Decoded {
    Message(Box<ClientJsonRpcMessage>),
    Ignore,
    Invalid,
}

impl<R, W> StdioTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// A transport over `read` and `write` serving `server`'s tool list.
    pub fn new(read: R, write: W, server: GeneratedServer) -> Self {
        StdioTransport {
            read: BufReader::with_capacity(64 * 1024, read),
            line: Vec::new(),
            discarding: false,
            write: Arc::new(Mutex::new(Some(write))),
            server,
            splice: HashSet::new(),
            owe_error: false,
        }
    }

    /// Reads one `\n`-terminated line into `self.line`, never past [`MAX_LINE_BYTES`]. A
    /// cancelled read leaves its partial line in place for the next call to resume.
    async fn read_line(&mut self) -> LineRead {
        loop {
            let (consumed, done) = {
                let available = match self.read.fill_buf().await {
                    Ok(available) => available,
                    Err(e) => return LineRead::Io(e),
                };
                if available.is_empty() {
                    return LineRead::Eof;
                }
                let newline = available.iter().position(|b| *b == b'\n');
                let take = newline.map_or(available.len(), |i| i + 1);
                if self.discarding {
                    if newline.is_some() {
                        self.discarding = false;
                    }
                    (take, None)
                } else if self.line.len() + take > MAX_LINE_BYTES {
                    self.line.clear();
                    self.discarding = newline.is_none();
                    (take, Some(LineRead::Oversized))
                } else {
                    self.line.extend_from_slice(&available[..take]);
                    (take, newline.map(|_| LineRead::Line))
                }
            };
            self.read.consume(consumed);
            if let Some(outcome) = done {
                return outcome;
            }
        }
    }
}

async fn write_line<W: AsyncWrite + Unpin>(
    write: &Mutex<Option<W>>,
    line: &[u8],
) -> std::io::Result<()> {
    let mut write = write.lock().await;
    let Some(write) = write.as_mut() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotConnected,
            "the transport is closed",
        ));
    };
    write.write_all(line).await?;
    write.flush().await
}

/// Whether `body` is one `tools/list` request.
pub(super) fn is_tools_list(body: &[u8]) -> bool {
    const METHOD: &[u8] = b"tools/list";
    body.windows(METHOD.len()).any(|w| w == METHOD)
        && serde_json::from_slice::<JsonRpcRequest<ListToolsRequest>>(body).is_ok()
}

/// Decodes one line (with its newline).
fn decode(line: &[u8]) -> Decoded {
    // Each shortcut decodes only a message of its own method; anything else fails it at once.
    if let Ok(request) = serde_json::from_slice::<JsonRpcRequest<CallToolRequest>>(line) {
        return Decoded::Message(Box::new(JsonRpcMessage::Request(JsonRpcRequest::new(
            request.id,
            ClientRequest::CallToolRequest(request.request),
        ))));
    }
    if let Ok(request) = serde_json::from_slice::<JsonRpcRequest<ListToolsRequest>>(line) {
        return Decoded::Message(Box::new(JsonRpcMessage::Request(JsonRpcRequest::new(
            request.id,
            ClientRequest::ListToolsRequest(request.request),
        ))));
    }
    // Everything else, and whatever the shortcuts could not read, as rmcp reads it.
    let mut buf = BytesMut::from(line);
    match JsonRpcMessageCodec::<ClientJsonRpcMessage>::default().decode(&mut buf) {
        Ok(Some(message)) => Decoded::Message(Box::new(message)),
        Ok(None) => Decoded::Ignore,
        Err(JsonRpcMessageCodecError::Serde(e))
            if matches!(
                e.classify(),
                serde_json::error::Category::Data | serde_json::error::Category::Io
            ) =>
        {
            // Well-formed JSON that is not a message: answered with "Invalid Request".
            Decoded::Invalid
        }
        // Not JSON: there is no id to answer, and answering could start an error storm.
        Err(_) => Decoded::Ignore,
    }
}

/// `answer` (a serialised `tools/list` answer with no tools) with `tools` in its tool list.
pub(super) fn splice_tools(answer: Vec<u8>, tools: &str) -> Vec<u8> {
    const EMPTY: &[u8] = br#""tools":[]"#;
    let Some(at) = answer.windows(EMPTY.len()).position(|w| w == EMPTY) else {
        return answer;
    };
    let mut out = Vec::with_capacity(answer.len() + tools.len());
    out.extend_from_slice(&answer[..at + EMPTY.len() - 2]);
    out.extend_from_slice(tools.as_bytes());
    out.extend_from_slice(&answer[at + EMPTY.len()..]);
    out
}

impl<R, W> Transport<RoleServer> for StdioTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let write = self.write.clone();
        let tools = match &item {
            JsonRpcMessage::Response(response) if self.splice.remove(&response.id) => {
                match &response.result {
                    ServerResult::ListToolsResult(list) if list.tools.is_empty() => {
                        self.server.tools_json()
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let line = serde_json::to_vec(&item).map(|line| {
            let mut line = match tools {
                Some(tools) => splice_tools(line, tools),
                None => line,
            };
            line.push(b'\n');
            line
        });
        async move {
            let line = line.map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            write_line(&write, &line).await
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            if self.owe_error {
                let error = ServerJsonRpcMessage::error(
                    ErrorData::invalid_request("Invalid request", None),
                    None,
                );
                let mut line = serde_json::to_vec(&error).ok()?;
                line.push(b'\n');
                write_line(&self.write, &line).await.ok()?;
                self.owe_error = false;
            }
            match self.read_line().await {
                LineRead::Line => {}
                LineRead::Oversized => {
                    tracing::error!(
                        max_line_bytes = MAX_LINE_BYTES,
                        "an incoming message exceeded the maximum line length; dropped"
                    );
                    continue;
                }
                LineRead::Eof => return None,
                LineRead::Io(e) => {
                    tracing::error!("cannot read stdin: {e}");
                    return None;
                }
            }
            let decoded = {
                let line = self
                    .line
                    .strip_prefix(b"\xEF\xBB\xBF")
                    .unwrap_or(&self.line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    Decoded::Ignore
                } else {
                    decode(line)
                }
            };
            self.line.clear();
            match decoded {
                Decoded::Message(mut message) => {
                    if let JsonRpcMessage::Request(request) = message.as_mut()
                        && let ClientRequest::ListToolsRequest(list) = &mut request.request
                        && self.server.tools_json().is_some()
                    {
                        list.extensions.insert(SpliceTools);
                        self.splice.insert(request.id.clone());
                    }
                    return Some(*message);
                }
                Decoded::Ignore => {}
                Decoded::Invalid => self.owe_error = true,
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.write.lock().await.take();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::{
        ApiDescriptor, CallPlan, HttpMethod, ToolDescriptor, ToolHints,
    };
    use super::super::tests::{TOOL, api, config};
    use super::*;
    use rmcp::ServiceExt;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

    const fn tool(name: &'static str, output_schema: &'static str) -> ToolDescriptor {
        ToolDescriptor {
            name,
            title: Some("A \"quoted\" title"),
            description: "Gets the thing.\nSecond line: \u{2028} é",
            input_schema: r#"{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}"#,
            output_schema: Some(output_schema),
            hints: ToolHints {
                read_only: false,
                destructive: true,
                idempotent: false,
            },
            plan: CallPlan {
                method: HttpMethod::Delete,
                path: "/thing/{id}",
                ..TOOL.plan
            },
            ..TOOL
        }
    }

    const OBJECT: &str = r#"{"type":"object","properties":{"id":{"type":"string"}}}"#;
    static SHAREABLE: ApiDescriptor = api(&[tool("deleteThing", OBJECT), tool("other", OBJECT)]);
    /// rmcp drops a non-object output schema for older clients, so this list is not shared.
    static NOT_SHAREABLE: ApiDescriptor = api(&[
        tool("deleteThing", OBJECT),
        tool("listThings", r#"{"type":"array"}"#),
    ]);

    /// Runs a session over an in-memory pipe, through this transport or through rmcp's own,
    /// and returns every line the server wrote.
    async fn session(
        api: &'static ApiDescriptor,
        ours: bool,
        lines: &[String],
        expected: usize,
    ) -> Vec<String> {
        let server = GeneratedServer::new(api, config(None)).unwrap();
        let (client, server_end) = tokio::io::duplex(1 << 20);
        let (read, write) = tokio::io::split(server_end);
        let task = tokio::spawn(async move {
            let running = if ours {
                let transport = StdioTransport::new(read, write, server.clone());
                server.serve(transport).await
            } else {
                server.serve((read, write)).await
            };
            if let Ok(running) = running {
                let _ = running.waiting().await;
            }
        });
        let (client_read, mut client_write) = tokio::io::split(client);
        for line in lines {
            client_write.write_all(line.as_bytes()).await.unwrap();
            client_write.write_all(b"\n").await.unwrap();
        }
        let mut answers = Vec::new();
        let mut reader = tokio::io::BufReader::new(client_read).lines();
        // Every answer expected, then a short wait for any that should not come.
        while let Ok(Ok(Some(line))) = tokio::time::timeout(
            std::time::Duration::from_millis(if answers.len() < expected { 5000 } else { 50 }),
            reader.next_line(),
        )
        .await
        {
            answers.push(line);
        }
        drop(client_write);
        task.abort();
        answers
    }

    fn script(version: &str) -> Vec<String> {
        vec![
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"{version}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
            ),
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":"two","method":"tools/list","params":{"cursor":"x"}}"#
                .to_owned(),
            "this is not JSON".to_owned(),
            r#"{"not":"a message"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"deleteThing","arguments":{}}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":5,"method":"tools/list","params":7}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#.to_owned(),
        ]
    }

    #[tokio::test]
    async fn answers_exactly_as_rmcps_own_transport_does() {
        for api in [&SHAREABLE, &NOT_SHAREABLE] {
            for version in ["2024-11-05", "2025-06-18", "2025-11-25", "2026-07-28"] {
                let lines = script(version);
                // Answers go out as their handlers finish: compare them in a fixed order.
                let mut ours = session(api, true, &lines, 8).await;
                let mut theirs = session(api, false, &lines, 8).await;
                ours.sort();
                theirs.sort();
                // initialize, two lists, one Invalid Request, two calls, one bad list, ping.
                assert_eq!(ours.len(), 8, "{version}: {ours:#?}");
                assert_eq!(ours, theirs, "{version}");
                let list = ours
                    .iter()
                    .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
                    .find(|answer| answer["id"] == 2)
                    .unwrap();
                assert_eq!(list["result"]["tools"][0]["name"], "deleteThing", "{list}");
                assert_eq!(list["result"]["tools"].as_array().map(Vec::len), Some(2));
            }
        }
    }

    #[test]
    fn the_tools_go_into_the_empty_list() {
        let answer = br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[],"ttlMs":0}}"#.to_vec();
        assert_eq!(
            splice_tools(answer, r#"[{"name":"a"}]"#),
            br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"}],"ttlMs":0}}"#
        );
        let other = br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_vec();
        assert_eq!(splice_tools(other.clone(), "[1]"), other);
    }
}
