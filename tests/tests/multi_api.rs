//! Several APIs in one server (`cargo mcpgen serve A B`): each tool's request goes to its own
//! API's upstream with its own API's credential, never to the other's; search finds the tools
//! of both; each API's masking stays with its tools; each API's document is a resource of its
//! own; and a base URL given without the API it is for is refused.
//!
//! Two documents under `tests/fixtures/multi/`: the Notes Desk (namespace `notes_desk`, an API
//! key `NOTES_DESK_NOTES_KEY` in `X-Notes-Key`, its `mcpgen.toml` masking `query`) and the File
//! Shelf (`file_shelf`, a bearer token `FILE_SHELF_BEARER_AUTH_TOKEN`), both answered by the
//! example upstream's echo route; each gets an upstream of its own.

use std::process::{Command, Stdio};
use std::time::Duration;

use mcpgen_tests::chaos::Chaos;
use mcpgen_tests::{
    HttpServer, Upstream, assert_ok, call, mcpgen_binary, stdio_client, workspace_root,
};
use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

fn document(name: &str) -> String {
    workspace_root()
        .join("tests/fixtures/multi")
        .join(name)
        .join("openapi.yaml")
        .to_str()
        .expect("a UTF-8 path")
        .to_owned()
}

/// The echo upstream's answer as the client got it.
fn answer(result: &rmcp::model::CallToolResult) -> Value {
    assert_ok(result);
    result
        .structured_content
        .clone()
        .expect("structured content")
}

#[tokio::test]
async fn each_tool_reaches_only_its_own_api_with_its_own_credential() {
    let notes_up = Upstream::start(0).await.unwrap();
    let files_up = Upstream::start(0).await.unwrap();
    let notes_url = format!("notes_desk=http://{}", notes_up.addr());
    let (notes, files) = (document("notes"), document("files"));
    let client = stdio_client(
        mcpgen_binary(),
        &["serve", &notes, &files, "--base-url", &notes_url],
        &[
            // The File Shelf's base URL from its own variable.
            (
                "FILE_SHELF_BASE_URL",
                &format!("http://{}", files_up.addr()),
            ),
            ("NOTES_DESK_NOTES_KEY", "notes-key"),
            ("FILE_SHELF_BEARER_AUTH_TOKEN", "files-token"),
        ],
    )
    .await;

    let info = client.peer_info().expect("the server introduced itself");
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(
        instructions.contains("Notes Desk") && instructions.contains("File Shelf"),
        "{instructions}"
    );
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "file_shelf_getFile",
            "file_shelf_getNote",
            "file_shelf_moveAway",
            "notes_desk_getNote"
        ]
    );

    // The Notes Desk's tool: its upstream, its key, its masking.
    let note = call(
        &client,
        "notes_desk_getNote",
        json!({"id": "n1", "q": "secret"}),
    )
    .await;
    assert_eq!(
        answer(&note),
        json!({"method": "GET", "path": "/__echo/notes/n1", "query": "[masked]"})
    );
    let seen = notes_up.wait_for_requests(1, Duration::from_secs(5)).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].query.as_deref(), Some("q=secret"));
    assert_eq!(seen[0].header("x-notes-key"), Some("notes-key"));
    assert_eq!(seen[0].header("authorization"), None);
    assert!(
        files_up.requests().is_empty(),
        "the other API's upstream is never called"
    );

    // The File Shelf's tools: the other upstream, its token, no masking of its answers; the
    // same path as the Notes Desk's operation goes to the File Shelf's upstream.
    let file = call(
        &client,
        "file_shelf_getFile",
        json!({"id": "f1", "q": "visible"}),
    )
    .await;
    assert_eq!(
        answer(&file),
        json!({"method": "GET", "path": "/__echo/files/f1", "query": "q=visible"})
    );
    let shelved = call(&client, "file_shelf_getNote", json!({"id": "n2"})).await;
    assert_eq!(answer(&shelved)["path"], "/__echo/notes/n2");
    let seen = files_up.wait_for_requests(2, Duration::from_secs(5)).await;
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.header("authorization"), Some("Bearer files-token"));
        assert_eq!(request.header("x-notes-key"), None);
    }
    assert_eq!(
        notes_up.requests().len(),
        1,
        "nothing more reached the Notes Desk"
    );

    // Each API's document, as a resource of its own.
    let resources = client.list_all_resources().await.unwrap();
    let mut uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    uris.sort();
    assert_eq!(
        uris,
        ["openapi://file_shelf/spec", "openapi://notes_desk/spec"]
    );
    for (uri, title) in [
        ("openapi://notes_desk/spec", "Notes Desk"),
        ("openapi://file_shelf/spec", "File Shelf"),
    ] {
        let read = client
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .unwrap();
        let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
            panic!("{uri} is text");
        };
        let document: Value = serde_json::from_str(text).unwrap();
        assert_eq!(document["info"]["title"], title, "{uri}");
    }
    client.cancel().await.unwrap();
}

/// Over HTTP a caller's own credential is passed through, but a bearer token does not say
/// which API it is for: with two APIs reading `Authorization` (the File Shelf and the Petstore),
/// neither gets the caller's token unless `--passthrough-api` names the one it is for; the
/// other keeps the operator's.
#[tokio::test]
async fn a_callers_token_goes_only_to_the_api_it_is_for() {
    let files_up = Upstream::start(0).await.unwrap();
    let pets_up = Upstream::start(0).await.unwrap();
    let files = document("files");
    let pets = workspace_root().join("examples/petstore/openapi.yaml");
    let pets = pets.to_str().unwrap();
    let base_urls = [
        format!("file_shelf=http://{}", files_up.addr()),
        format!("pets=http://{}/v1", pets_up.addr()),
    ];
    let namespace = format!("pets={pets}");
    let env = [
        ("FILE_SHELF_BEARER_AUTH_TOKEN", "files-token"),
        ("PETS_BEARER_AUTH_TOKEN", "pets-token"),
    ];
    for (chosen, files_sees, pets_sees) in [
        (None, "Bearer files-token", "Bearer pets-token"),
        (Some("pets"), "Bearer files-token", "Bearer caller-token"),
        (
            Some("file_shelf"),
            "Bearer caller-token",
            "Bearer pets-token",
        ),
    ] {
        let mut args = vec!["--namespace", &namespace];
        for url in &base_urls {
            args.extend(["--base-url", url.as_str()]);
        }
        if let Some(api) = chosen {
            args.extend(["--passthrough-api", api]);
        }
        let leading = ["serve", files.as_str(), pets];
        let server = HttpServer::start_after(mcpgen_binary(), &leading, &args, &env).await;
        let client = server.client(Some("caller-token")).await;
        answer(&call(&client, "file_shelf_getFile", json!({"id": "f1"})).await);
        assert_ok(&call(&client, "pets_getPetById", json!({"petId": "1"})).await);
        client.cancel().await.unwrap();
        drop(server);
        let (files_seen, pets_seen) = (files_up.requests(), pets_up.requests());
        let last = |seen: &[mcpgen_tests::RecordedRequest]| {
            seen.last()
                .and_then(|r| r.header("authorization"))
                .map(str::to_owned)
        };
        assert_eq!(last(&files_seen).as_deref(), Some(files_sees), "{chosen:?}");
        assert_eq!(last(&pets_seen).as_deref(), Some(pets_sees), "{chosen:?}");
    }
    let mut args = vec![files.as_str(), pets, "--namespace", &namespace];
    for url in &base_urls {
        args.extend(["--base-url", url.as_str()]);
    }
    args.extend(["--passthrough-api", "nope"]);
    let (code, stderr) = refused(&args);
    assert_ne!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("--passthrough-api nope: the server has no API `nope`"),
        "{stderr}"
    );
}

#[tokio::test]
async fn search_finds_the_operations_of_every_api() {
    let notes_up = Upstream::start(0).await.unwrap();
    let files_up = Upstream::start(0).await.unwrap();
    let notes_url = format!("notes_desk=http://{}", notes_up.addr());
    let files_url = format!("file_shelf=http://{}", files_up.addr());
    let (notes, files) = (document("notes"), document("files"));
    let client = stdio_client(
        mcpgen_binary(),
        &[
            "serve",
            &notes,
            &files,
            "--mode",
            "search",
            "--base-url",
            &files_url,
            "--base-url",
            &notes_url,
        ],
        &[("NOTES_DESK_NOTES_KEY", "notes-key")],
    )
    .await;
    let found = |query: &'static str| {
        let client = &client;
        async move {
            let result = call(client, "search_operations", json!({"query": query})).await;
            answer(&result)["operations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("read a file").await[0], "file_shelf_getFile");
    let notes_found = found("note").await;
    assert!(
        notes_found.contains(&"notes_desk_getNote".to_owned())
            && notes_found.contains(&"file_shelf_getNote".to_owned()),
        "{notes_found:?}"
    );

    // `call_operation` goes where the tool itself would.
    let called = call(
        &client,
        "call_operation",
        json!({"name": "notes_desk_getNote", "arguments": {"id": "n3", "q": "s"}}),
    )
    .await;
    assert_eq!(answer(&called)["query"], "[masked]");
    assert_eq!(
        notes_up
            .wait_for_requests(1, Duration::from_secs(5))
            .await
            .len(),
        1
    );
    assert!(files_up.requests().is_empty());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_redirect_to_another_apis_upstream_is_not_followed() {
    let notes_up = Upstream::start(0).await.unwrap();
    // The File Shelf's upstream sends `/redirect-away` to the Notes Desk's.
    let chaos = Chaos::start(format!("http://{}/__echo/notes/n1", notes_up.addr())).await;
    let (notes, files) = (document("notes"), document("files"));
    let notes_url = format!("notes_desk=http://{}", notes_up.addr());
    let files_url = format!("file_shelf=http://{}", chaos.addr);
    let client = stdio_client(
        mcpgen_binary(),
        &[
            "serve",
            &notes,
            &files,
            "--base-url",
            &notes_url,
            "--base-url",
            &files_url,
        ],
        &[("FILE_SHELF_BEARER_AUTH_TOKEN", "files-token")],
    )
    .await;
    let moved = call(&client, "file_shelf_moveAway", json!({})).await;
    assert_eq!(
        moved.is_error,
        Some(true),
        "the redirect comes back as it is"
    );
    assert!(
        serde_json::to_string(&moved).unwrap().contains("302"),
        "{moved:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        notes_up.requests().is_empty(),
        "the other API's upstream is never called, nor given the token"
    );
    assert_eq!(chaos.heads.lock().unwrap().len(), 1);
    client.cancel().await.unwrap();
}

/// Runs `cargo-mcpgen serve ARGS` with no input and returns its exit code and stderr.
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(mcpgen_binary())
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cargo-mcpgen runs");
    assert!(output.stdout.is_empty(), "nothing is served");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn base_urls_must_name_their_api() {
    let (notes, files) = (document("notes"), document("files"));
    let (code, stderr) = refused(&[&notes, &files, "--base-url", "http://127.0.0.1:9"]);
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("several APIs (notes_desk, file_shelf)") && stderr.contains("NAME=URL"),
        "{stderr}"
    );
    let (code, stderr) = refused(&[&notes, &files, "--base-url", "pets=http://127.0.0.1:9"]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("no API `pets`"), "{stderr}");
    let (code, stderr) = refused(&[&notes, &files, "--namespace", &format!("Notes={notes}")]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("namespace") && stderr.contains("`Notes` is not a namespace"),
        "{stderr}"
    );
}
