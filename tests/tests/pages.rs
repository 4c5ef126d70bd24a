//! Several pages in one call (`_pages`), in every paging style the generator recognises
//! (tests/fixtures/pages.yaml on the example upstream's `/__pages/{style}` route: seven items in
//! pages of three), through a real MCP client: the items of every page together, the requests
//! the upstream saw, the bounds, and a `Link` to another host never followed.

use mcpgen_tests::{
    Client, Upstream, assert_ok, call, mcpgen_binary, stdio_client, text, workspace_root,
};
use serde_json::{Value, json};

async fn server(up: &Upstream) -> Client {
    let spec = workspace_root().join("tests/fixtures/pages.yaml");
    let base = format!("http://{}", up.addr());
    stdio_client(
        mcpgen_binary(),
        &[
            "mcpgen",
            "serve",
            spec.to_str().unwrap(),
            "--base-url",
            &base,
        ],
        &[],
    )
    .await
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
    let spec = workspace_root().join("tests/fixtures/pages.yaml");
    let base = format!("http://{}", up.addr());
    let small = stdio_client(
        mcpgen_binary(),
        &[
            "mcpgen",
            "serve",
            spec.to_str().unwrap(),
            "--base-url",
            &base,
            "--max-response-bytes",
            "120",
        ],
        &[],
    )
    .await;
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
