//! Several pages in one call (`_pages`), in every paging style the generator recognises
//! (tests/fixtures/pages.yaml on the example upstream's `/__pages/{style}` route: seven items in
//! pages of three), through a real MCP client: the items of every page together, the requests
//! the upstream saw, the bounds, and a `Link` to another host never followed. Also the
//! progress and log notifications of such calls, sent only as the client asked.

#![allow(deprecated)] // Logging is deprecated in MCP 2026-07-28 (SEP-2577), and still served.

use std::sync::{Arc, Mutex};

use mcpgen_tests::{
    Client, Upstream, assert_ok, call, mcpgen_binary, serve_fixture_args, stdio_client,
    stdio_client_with, text,
};
use rmcp::ClientHandler;
use rmcp::model::{
    ClientConfig, LoggingMessageNotificationParam, ProgressNotificationParam, ProtocolVersion,
};
use rmcp::service::{NotificationContext, RoleClient};
use serde_json::{Value, json};

/// `mcpgen serve tests/fixtures/pages.yaml` against `up`, followed by `extra`.
fn serve_args(up: &Upstream, extra: &[&str]) -> Vec<String> {
    serve_fixture_args("pages.yaml", up, extra)
}

async fn server(up: &Upstream) -> Client {
    let args = serve_args(up, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    stdio_client(mcpgen_binary(), &args, &[]).await
}

/// The ids of the items at `pointer` of a structured answer.
fn ids(result: &rmcp::model::CallToolResult, pointer: &str) -> Vec<String> {
    let structured = result
        .structured_content
        .as_ref()
        .expect("structured content");
    structured
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("a list at {pointer} of {structured}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

const ALL: [&str; 7] = ["i1", "i2", "i3", "i4", "i5", "i6", "i7"];

/// The queries of the requests to `/__pages/{style}` since `from`.
fn queries(up: &Upstream, style: &str, from: usize) -> Vec<String> {
    up.requests()[from..]
        .iter()
        .filter(|r| r.path == format!("/__pages/{style}"))
        .map(|r| r.query.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn every_paging_style_reads_the_pages_asked_for() {
    let up = Upstream::start(0).await.unwrap();
    let client = server(&up).await;

    // Paged operations offer `_pages`; one turned off with `x-mcpgen` does not.
    let tools = client.list_all_tools().await.unwrap();
    let offers = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        tool.input_schema["properties"].get("_pages").cloned()
    };
    assert_eq!(offers("listByCursor").unwrap()["maximum"], 10);
    assert!(offers("listOnePage").is_none());

    // (tool, pointer of the items, style, the queries of the pages after the first)
    let cases: [(&str, &str, &str, &[&str]); 6] = [
        ("listByLink", "/result", "link", &["page=2", "page=3"]),
        (
            "listByNextUrl",
            "/results",
            "next-url",
            &["page=2", "page=3"],
        ),
        (
            "listByCursor",
            "/data",
            "cursor",
            &["cursor=c4", "cursor=c7"],
        ),
        (
            "listAfter",
            "/data",
            "after",
            &["starting_after=i3", "starting_after=i6"],
        ),
        // Page numbers and offsets end at the first empty page.
        (
            "listByPage",
            "/items",
            "page",
            &["page=2", "page=3", "page=4"],
        ),
        (
            "listByOffset",
            "/results",
            "offset",
            &["offset=3", "offset=6", "offset=7"],
        ),
    ];
    for (tool, items, style, expected) in cases {
        let from = up.requests().len();
        let result = call(&client, tool, json!({"_pages": 5})).await;
        assert_ok(&result);
        assert_eq!(ids(&result, items), ALL, "{tool}");
        let seen = queries(&up, style, from);
        assert_eq!(seen[0], "", "{tool}: the first page as asked");
        assert_eq!(&seen[1..], expected, "{tool}");
        let note = text(&result);
        assert!(
            note.contains(&format!("{} pages read, 7 items in all.", seen.len())),
            "{tool}: {note}"
        );
        assert!(!note.contains("More pages remain"), "{tool}: {note}");
    }

    // Fewer pages than there are: the newest page's cursor stays, and the model is told.
    let result = call(&client, "listByCursor", json!({"_pages": 2})).await;
    assert_eq!(ids(&result, "/data"), ALL[..6]);
    assert_eq!(
        result.structured_content.as_ref().unwrap()["meta"]["next_cursor"],
        "c7"
    );
    assert!(
        text(&result).contains("More pages remain"),
        "{}",
        text(&result)
    );

    // Without `_pages`, one page, as before.
    let result = call(&client, "listByCursor", json!({})).await;
    assert_eq!(ids(&result, "/data"), ALL[..3]);
    assert!(!text(&result).contains("page"), "{}", text(&result));
    client.cancel().await.ok();
}

#[tokio::test]
async fn pages_stay_on_the_upstream_and_within_bounds() {
    let up = Upstream::start(0).await.unwrap();
    let client = server(&up).await;

    // A `Link` to another host is not followed: one page, and no word of more.
    let result = call(&client, "listByEvilLink", json!({"_pages": 3})).await;
    assert_ok(&result);
    assert_eq!(ids(&result, "/result"), ALL[..3]);
    assert!(
        text(&result).contains("1 page read, 3 items in all."),
        "{}",
        text(&result)
    );

    // A page count out of bounds is an error that says what to give.
    for bad in [json!(0), json!(11), json!("all")] {
        let result = call(&client, "listByLink", json!({ "_pages": bad })).await;
        assert_eq!(result.is_error, Some(true));
        assert!(
            text(&result).contains("`_pages` must be a whole number from 1 to 10"),
            "{}",
            text(&result)
        );
    }
    client.cancel().await.ok();

    // All pages together stay within the response limit (a page is 55 bytes).
    let args = serve_args(&up, &["--max-response-bytes", "120"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let small = stdio_client(mcpgen_binary(), &args, &[]).await;
    let result = call(&small, "listByLink", json!({"_pages": 3})).await;
    assert_ok(&result);
    let read = ids(&result, "/result");
    assert!(read.len() < 7, "{read:?}");
    assert!(
        text(&result).contains("would pass the response limit of 120 bytes"),
        "{}",
        text(&result)
    );
    small.cancel().await.ok();
}

/// A 2025-11-25 client that records the notifications it gets.
#[derive(Clone, Default)]
struct Listener {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    logs: Arc<Mutex<Vec<LoggingMessageNotificationParam>>>,
}

impl ClientHandler for Listener {
    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        info.protocol_version = ProtocolVersion::V_2025_11_25;
        info
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.logs.lock().unwrap().push(params);
    }
}

#[tokio::test]
async fn progress_and_log_messages_go_only_where_asked() {
    let up = Upstream::start(0).await.unwrap();
    let listener = Listener::default();
    let args = serve_args(&up, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = stdio_client_with(listener.clone(), mcpgen_binary(), &args, &[]).await;
    // rmcp's client puts a progress token on every request.
    let settle = || tokio::time::sleep(std::time::Duration::from_millis(200));

    // No level chosen: no log message.
    call(&client, "listByCursor", json!({"_pages": 3})).await;
    settle().await;
    assert!(listener.logs.lock().unwrap().is_empty());
    listener.progress.lock().unwrap().clear();

    // A progress token: one notification per page after the first, rising, with the total.
    call(&client, "listByCursor", json!({"_pages": 3})).await;
    settle().await;
    let progress: Vec<(f64, Option<f64>, String)> = listener
        .progress
        .lock()
        .unwrap()
        .drain(..)
        .map(|p| (p.progress, p.total, p.message.unwrap_or_default()))
        .collect();
    assert_eq!(
        progress,
        [
            (2.0, Some(3.0), "page 2 of up to 3 read".to_owned()),
            (3.0, Some(3.0), "page 3 of up to 3 read".to_owned()),
        ]
    );

    // A large download reports as it arrives, in bytes of the announced size (within the
    // default response limit of 1 MiB).
    let big = 900 * 1024;
    call(&client, "getBig", json!({"bytes": big})).await;
    settle().await;
    let progress = listener
        .progress
        .lock()
        .unwrap()
        .drain(..)
        .collect::<Vec<_>>();
    // At most one report a tenth of the way (chunks arrive as the network gives them), the
    // last one when all has arrived.
    assert!((3..=11).contains(&progress.len()), "{progress:?}");
    assert_eq!(progress.last().unwrap().progress, big as f64);
    assert!(progress.windows(2).all(|w| w[0].progress < w[1].progress));
    assert!(progress.iter().all(|p| p.total == Some(big as f64)));
    assert!(
        progress
            .iter()
            .all(|p| p.progress_token == progress[0].progress_token)
    );

    // logging/setLevel: calls are logged at that level and above, naming the operation and
    // the status, never the arguments.
    client
        .set_level(rmcp::model::SetLevelRequestParams::new(
            rmcp::model::LoggingLevel::Info,
        ))
        .await
        .unwrap();
    call(&client, "listByCursor", json!({"cursor": "c4"})).await;
    settle().await;
    let logs = listener.logs.lock().unwrap().drain(..).collect::<Vec<_>>();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].level, rmcp::model::LoggingLevel::Info);
    let line = logs[0].data.as_str().unwrap();
    assert!(
        line.starts_with("listByCursor: GET /__pages/cursor: 200 OK (ok) in "),
        "{line}"
    );
    assert!(!line.contains("c4"), "no argument value: {line}");
    client
        .set_level(rmcp::model::SetLevelRequestParams::new(
            rmcp::model::LoggingLevel::Error,
        ))
        .await
        .unwrap();
    call(&client, "listByCursor", json!({})).await;
    settle().await;
    assert!(listener.logs.lock().unwrap().is_empty(), "below the level");
    client.cancel().await.ok();
}

/// A request without a progress token gets no progress notification: read off the wire, as
/// rmcp's client always sends one.
#[tokio::test]
async fn no_progress_without_a_token() {
    use std::io::{BufRead, BufReader, Write};
    let up = Upstream::start(0).await.unwrap();
    let args = serve_args(&up, &[]);
    let mut child = std::process::Command::new(mcpgen_binary())
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let lines = std::thread::spawn(move || {
        stdout
            .lines()
            .map_while(Result::ok)
            .take_while(|line| !line.contains(r#""id":2"#))
            .collect::<Vec<_>>()
    });
    for message in [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"listByCursor","arguments":{"_pages":3}}}"#,
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    let before_answer = tokio::task::spawn_blocking(move || lines.join().unwrap())
        .await
        .unwrap();
    assert_eq!(
        before_answer.len(),
        1,
        "only the initialize answer: {before_answer:?}"
    );
    assert_eq!(queries(&up, "cursor", 0).len(), 3, "the pages were read");
    drop(stdin);
    child.wait().unwrap();
}

#[tokio::test]
async fn a_large_upload_reports_its_sending() {
    let up = Upstream::start(0).await.unwrap();
    let listener = Listener::default();
    let echo = format!("http://{}/__echo", up.addr());
    let args = serve_fixture_args("kitchen-sink.yaml", &up, &[]);
    // The fixture's own server is a closed port: the echoing upstream instead.
    let args: Vec<String> = args
        .into_iter()
        .map(|a| {
            if a.starts_with("http://") {
                echo.clone()
            } else {
                a
            }
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = stdio_client_with(listener.clone(), mcpgen_binary(), &args, &[]).await;

    // Under 256 KiB: no report.
    call(&client, "plainText", json!({"body": "x".repeat(1000)})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(listener.progress.lock().unwrap().is_empty());

    let size = 300 * 1024;
    let result = call(&client, "plainText", json!({"body": "x".repeat(size)})).await;
    assert_ok(&result);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let progress = listener
        .progress
        .lock()
        .unwrap()
        .drain(..)
        .collect::<Vec<_>>();
    assert_eq!(progress.len(), 1, "{progress:?}");
    assert_eq!(progress[0].total, Some(size as f64));
    assert_eq!(
        progress[0].message.as_deref(),
        Some(format!("sending {size} bytes to POST /text").as_str())
    );
    let sent = up.requests().last().unwrap().body.len();
    assert_eq!(sent, size);
    client.cancel().await.ok();
}
