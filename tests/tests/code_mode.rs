//! Code mode end to end: the Petstore example generated with `--mode code` lists
//! `search_operations`, `describe_operation` and `execute`; programs call several operations
//! against the recording upstream through the same path as tool calls (credentials,
//! validation, masking, rate limits, audit, confirmation), and every escape or exhaustion
//! attempt ends in a tool error while the server keeps serving.

use std::process::Stdio;
use std::time::Duration;

use mcpgen_tests::{
    Client, Upstream, assert_ok, call, petstore_binary, petstore_code_binary, stdio_at, text,
};
use serde_json::{Value, json};

const TOKEN: &str = "code-mode-token";
const TOKEN_VAR: &str = "PETSTORE_BEARER_AUTH_TOKEN";

async fn code_client(up: &Upstream, extra: &[&str]) -> Client {
    stdio_at(
        petstore_code_binary(),
        &up.base_url(),
        extra,
        &[(TOKEN_VAR, TOKEN)],
    )
    .await
}

async fn execute(client: &Client, code: &str) -> rmcp::model::CallToolResult {
    call(client, "execute", json!({ "code": code })).await
}

/// The error text of a run that must fail.
#[track_caller]
fn failure(result: &rmcp::model::CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{}", text(result));
    text(result)
}

#[tokio::test]
async fn a_program_lists_the_open_pets_then_fetches_each() {
    let up = Upstream::start(0).await.unwrap();
    let client = code_client(&up, &[]).await;

    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        ["search_operations", "describe_operation", "execute"]
    );
    let instructions = client
        .peer_info()
        .and_then(|i| i.instructions.clone())
        .unwrap_or_default();
    assert!(instructions.contains("execute"), "{instructions}");

    let found = call(
        &client,
        "search_operations",
        json!({"query": "get a pet by its id", "limit": 1}),
    )
    .await;
    assert_ok(&found);
    assert_eq!(
        found.structured_content.unwrap()["operations"][0]["name"],
        "getPetById"
    );

    // The declaration: a call with typed arguments and a typed answer.
    let described = call(&client, "describe_operation", json!({"name": "listPets"})).await;
    assert_ok(&described);
    let declaration = text(&described);
    assert!(declaration.contains(" * GET /pets\n"), "{declaration}");
    assert!(
        declaration.contains("api.listPets(args?: {"),
        "{declaration}"
    );
    assert!(
        declaration.contains("/** How many pets to return at most. (format: int32, min 1, max 100) */\n  limit?: number;"),
        "{declaration}"
    );
    assert!(declaration.contains("tags?: string[];"), "{declaration}");
    assert!(
        declaration.contains("status?: \"available\" | \"pending\" | \"sold\";"),
        "{declaration}"
    );
    assert!(declaration.contains("}): Promise<"), "{declaration}");
    let unknown = call(&client, "describe_operation", json!({"name": "listPet"})).await;
    assert!(failure(&unknown).contains("`listPets`"));

    // One run: list, keep the open ones, fetch each (together), return a summary.
    let before = up.requests().len();
    let result = execute(
        &client,
        "const pets = await api.listPets({limit: 10});\n\
         const open = pets.filter((pet) => pet.status !== 'sold');\n\
         console.log('open:', open.length);\n\
         const details = await Promise.all(open.map((pet) => api.getPetById({petId: pet.id})));\n\
         return details.map((pet) => ({id: pet.id, name: pet.name, status: pet.status}));",
    )
    .await;
    assert_ok(&result);
    assert_eq!(
        result.structured_content.clone().unwrap(),
        json!({
            "result": [
                {"id": "1", "name": "Rex", "status": "available"},
                {"id": "2", "name": "Tom", "status": "pending"}
            ],
            "logs": ["open: 2"]
        })
    );
    let recorded = up.requests()[before..].to_vec();
    let mut seen: Vec<(String, String)> = recorded
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(seen[0], ("GET".to_owned(), "/v1/pets".to_owned()));
    seen[1..].sort();
    assert_eq!(
        seen[1..],
        [
            ("GET".to_owned(), "/v1/pets/1".to_owned()),
            ("GET".to_owned(), "/v1/pets/2".to_owned())
        ]
    );
    assert_eq!(recorded[0].query.as_deref(), Some("limit=10"));
    // Every call carried the environment's credential, as a tool call does.
    for request in &recorded {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }

    // A write, and an upstream error that the program catches.
    let result = execute(
        &client,
        "const made = await api.createPet({name: 'Kit', tag: 'cat'});\n\
         let missing;\n\
         try { await api.getPetById({petId: '999'}); } catch (e) { missing = e.message; }\n\
         return {made: made.name, missing};",
    )
    .await;
    assert_ok(&result);
    let answer = &result.structured_content.unwrap()["result"];
    assert_eq!(answer["made"], "Kit");
    assert!(
        answer["missing"].as_str().unwrap().contains("404"),
        "{answer}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn escapes_and_exhaustion_end_in_tool_errors_and_the_server_keeps_serving() {
    let up = Upstream::start(0).await.unwrap();
    let client = code_client(
        &up,
        &[
            "--code-timeout-secs",
            "1",
            "--code-memory-mib",
            "16",
            "--code-max-calls",
            "3",
            "--code-max-output-bytes",
            "2000",
        ],
    )
    .await;
    let cases: &[(&str, &str)] = &[
        ("for (;;) {}", "did not finish within 1 s"),
        (
            "for (;;) { try { for (;;) {} } catch (e) {} }",
            "did not finish within 1 s",
        ),
        (
            "const all = [];\nfor (;;) all.push(new Array(100000).fill(all.length));",
            "out of memory",
        ),
        (
            "function down(n) { return down(n + 1) + 1; }\nreturn down(0);",
            "Maximum call stack size exceeded",
        ),
        ("let s = 'x';\nfor (;;) s += s;", "--code-memory-mib"),
        ("return 'x'.repeat(5000);", "more than the 2000 bytes"),
        ("return require('fs');", "require is not defined"),
        ("return process.env;", "process is not defined"),
        (
            "return await fetch('http://127.0.0.1:1/');",
            "fetch is not defined",
        ),
        ("return await import('os');", "could not load module"),
        (
            "return globalThis.constructor.constructor('return process')().env;",
            "process is not defined",
        ),
        ("setTimeout(() => {}, 10);", "setTimeout is not defined"),
        ("await new Promise(() => {});", "never settles"),
        ("return (", "SyntaxError"),
        ("api.getPetById = () => 1;", "TypeError"),
        (
            "for (let i = 1; i <= 4; i++) await api.getPetById({petId: String(i)});",
            "at most 3 operation calls",
        ),
        (
            "await api.listPets({limit: 1});\nawait new Promise(() => {});",
            "never settles",
        ),
    ];
    for (code, expected) in cases {
        let before = up.requests().len();
        let result = execute(&client, code).await;
        let message = failure(&result);
        assert!(
            message.contains(expected),
            "`{code}` should fail with `{expected}`:\n{message}"
        );
        // Nothing but the program's own (allowed) calls reached the upstream.
        let sent = up.requests().len() - before;
        let allowed = if code.contains("i <= 4") {
            3
        } else {
            usize::from(code.contains("api.listPets"))
        };
        assert_eq!(sent, allowed, "`{code}` sent {sent} requests");
        // And the server still serves.
        let after = execute(&client, "return 1 + 1;").await;
        assert_ok(&after);
        assert_eq!(after.structured_content.unwrap()["result"], 2);
    }

    // Errors say where: line and column in the program.
    let result = execute(
        &client,
        "const pet = await api.getPetById({petId: '1'});\nreturn pet.owner.name;",
    )
    .await;
    let message = failure(&result);
    assert!(
        message.starts_with("The program failed at line 2, column"),
        "{message}"
    );
    assert!(message.contains("TypeError"), "{message}");

    // Nothing one run leaves behind is there for the next.
    let result = execute(
        &client,
        "globalThis.leak = 'secret'; Object.prototype.polluted = 1; Array.prototype.push = null; \
         return 1;",
    )
    .await;
    assert_ok(&result);
    let result = execute(
        &client,
        "const a = []; a.push(1);\n\
         return [typeof leak, typeof ({}).polluted, a.length];",
    )
    .await;
    assert_ok(&result);
    assert_eq!(
        result.structured_content.unwrap()["result"],
        json!(["undefined", "undefined", 1])
    );

    // Arguments the schema refuses are refused before anything is sent, with the line.
    let before = up.requests().len();
    let result = execute(&client, "\n  await api.getPetById({id: 1});").await;
    let message = failure(&result);
    assert!(message.contains("at line 2, column"), "{message}");
    assert!(
        message.contains("Invalid arguments for `getPetById`"),
        "{message}"
    );
    let result = execute(&client, "await api.getPetByName({});").await;
    assert!(failure(&result).contains("No operation is named `getPetByName`"));
    assert_eq!(up.requests().len(), before);

    // Runs at once, each on its own.
    let (a, b, c) = tokio::join!(
        execute(&client, "return (await api.getPetById({petId: '1'})).name;"),
        execute(&client, "return (await api.getPetById({petId: '2'})).name;"),
        execute(&client, "return 6 * 7;"),
    );
    for (result, expected) in [(a, json!("Rex")), (b, json!("Tom")), (c, json!(42))] {
        assert_ok(&result);
        assert_eq!(result.structured_content.unwrap()["result"], expected);
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn guardrails_apply_to_the_calls_of_programs() {
    let up = Upstream::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let log_arg = log.to_string_lossy().into_owned();
    let client = code_client(
        &up,
        &[
            "--mask",
            "name=last4",
            "--tool-rate-limit",
            "getPetById=2/m",
            "--confirm",
            "destructive",
            "--audit-log",
            &log_arg,
        ],
    )
    .await;

    // Masking: the program sees the masked answer.
    let result = execute(
        &client,
        "const pet = await api.getPetById({petId: '1'});\nreturn pet.name;",
    )
    .await;
    assert_ok(&result);
    let name = result.structured_content.unwrap()["result"].clone();
    assert_ne!(name, "Rex");
    assert!(
        name.as_str().unwrap().ends_with("Rex") || name.as_str().unwrap().contains('*'),
        "{name}"
    );

    // Rate limits count every call of a program.
    let before = up.requests().len();
    let result = execute(
        &client,
        "await api.getPetById({petId: '1'});\nawait api.getPetById({petId: '2'});",
    )
    .await;
    let message = failure(&result);
    assert!(message.contains("at line 2, column"), "{message}");
    assert!(message.contains("Try again in"), "{message}");
    assert_eq!(up.requests().len() - before, 1);

    // A call that needs the user's confirmation cannot get it from this client: refused,
    // nothing sent.
    let before = up.requests().len();
    let result = execute(&client, "await api.deletePet({petId: '3'});").await;
    let message = failure(&result);
    assert!(message.contains("confirmation"), "{message}");
    assert!(message.contains("Nothing was sent"), "{message}");
    assert_eq!(up.requests().len(), before);
    client.cancel().await.unwrap();

    // The audit log has a line per operation call and one per run.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let tools: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["tool"].as_str().unwrap(), l["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tools.iter().filter(|(tool, _)| *tool == "execute").count(),
        3,
        "{tools:?}"
    );
    assert!(tools.contains(&("getPetById", "ok")), "{tools:?}");
    assert!(tools.contains(&("getPetById", "rate_limited")), "{tools:?}");
    assert!(
        !text.contains("petId\":\"1"),
        "argument values are not logged: {text}"
    );
}

#[tokio::test]
async fn a_server_built_without_the_engine_says_how_to_get_code_mode() {
    let up = Upstream::start(0).await.unwrap();
    let output = tokio::process::Command::new(petstore_binary())
        .args(["--base-url", &up.base_url(), "--mode", "code"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .expect("the server stops at once")
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--features code-mode"), "{stderr}");
    assert!(stderr.contains("--mode code"), "{stderr}");
}
