//! Masking of answers (`[masking]` settings, `x-mcpgen-mask`, `--mask`, `--mask-detector`):
//! the fields and secrets it names never reach the client, on every path an answer takes
//! (a tool, `_fields`, search mode's `call_operation`, a resource read, an upstream error in
//! JSON or HTML, a body cut at the response limit), the listed output schemas accept the
//! masked answers, and the audit log holds none of it either.

use mcpgen_tests::{
    Upstream, assert_ok, call, call_operation, guardrails_binary, masking_binary, stdio_at, text,
};
use rmcp::model::{CallToolResult, ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

/// Every secret the canned answers hold; none may appear in anything the client receives.
const SECRETS: &[&str] = &[
    "4111111111111111",
    "4111 1111",
    "customer1@example.com",
    "customer2@example.com",
    "DE89370400440532013000",
    "5500 0000 0000 0004",
    "prefers phone calls",
    "123-45-6789",
    "eyJhbGciOiJIUzI1NiJ9",
    "sk-live-0123456789abcdefghij",
];

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
}

/// The whole result as the client received it.
fn whole(result: &CallToolResult) -> String {
    serde_json::to_string(result).unwrap()
}

fn structured(result: &CallToolResult) -> Value {
    assert_ok(result);
    let value = result
        .structured_content
        .clone()
        .expect("structured content");
    // The text the model reads is the same masked answer (which the structured content
    // wraps as `result` where the answer's schema is not always an object).
    let first: Value = serde_json::from_str(&result.content[0].as_text().unwrap().text).unwrap();
    assert!(
        first == value || first == value["result"],
        "{first} / {value}"
    );
    value
}

fn masked_customer(i: u32) -> Value {
    json!({
        "name": format!("Customer {i}"),
        "email": "[masked]",
        "card": {"number": "****1111", "expiry": "12/30"},
        "accounts": [[{"iban": "****3000", "note": "paid with ****0004"}]]
    })
}

#[tokio::test]
async fn every_shape_of_answer_is_masked_and_still_matches_its_schema() {
    let up = Upstream::start(0).await.unwrap();
    let client = stdio_at(
        masking_binary(),
        &format!("http://{}", up.addr()),
        &["--mask", "total", "--mask-detector", "card"],
        &[],
    )
    .await;
    let tools = client.list_all_tools().await.unwrap();
    let schema_of = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        Value::Object((*tool.output_schema.clone().unwrap()).clone())
    };

    // Nested lists: a settings field per tag, a global one, a detector inside a list of lists,
    // a removed field, and a field masked by a flag.
    let customers = call(&client, "listCustomers", json!({})).await;
    assert_no_secret("listCustomers", &whole(&customers));
    let value = structured(&customers);
    assert_eq!(
        value,
        json!({"customers": [masked_customer(1), masked_customer(2)], "total": "[masked]"})
    );
    let schema = schema_of("listCustomers");
    let listed = schema.to_string();
    assert!(!listed.contains("\"pattern\""), "{listed}");
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&value), "{schema}");

    // A selection of fields sees the masked values.
    let selected = call(
        &client,
        "listCustomers",
        json!({"_fields": ["customers.email", "customers.card"]}),
    )
    .await;
    assert_no_secret("a selection", &whole(&selected));
    // The text is the selection (the structured content stays whole where a selection would
    // break the output schema).
    let shown: Value = serde_json::from_str(&text(&selected)).unwrap();
    assert_eq!(
        shown["customers"][1],
        json!({"email": "[masked]", "card": {"number": "****1111", "expiry": "12/30"}})
    );

    // allOf: a property marked `x-mcpgen-mask` in a referenced schema, and a bearer token
    // in free text.
    let account = call(&client, "getAccount", json!({})).await;
    assert_no_secret("getAccount", &whole(&account));
    let value = structured(&account);
    assert_eq!(
        value,
        json!({"id": 7, "owner": {"name": "Bo", "ssn": "[masked]"}, "session": "Authorization: Bearer [masked]"})
    );
    assert!(
        jsonschema::validator_for(&schema_of("getAccount"))
            .unwrap()
            .is_valid(&value)
    );

    // oneOf: a global field and a property of a masked format.
    let payment = call(&client, "getPayment", json!({})).await;
    assert_no_secret("getPayment", &whole(&payment));
    let value = structured(&payment);
    assert_eq!(
        value,
        json!({"result": {"kind": "card", "card": {"number": "****1111"}, "cvv": "[masked]"}})
    );
    assert!(
        jsonschema::validator_for(&schema_of("getPayment"))
            .unwrap()
            .is_valid(&value)
    );

    // Error bodies: JSON, and HTML that cannot be parsed.
    let declined = call(&client, "chargeCard", json!({})).await;
    assert_eq!(declined.is_error, Some(true));
    let said = text(&declined);
    assert_no_secret("the JSON error", &said);
    assert!(
        said.contains("422") && said.contains("****1111") && said.contains("[masked]"),
        "{said}"
    );
    let broken = call(&client, "getReport", json!({})).await;
    assert_eq!(broken.is_error, Some(true));
    let said = text(&broken);
    assert_no_secret("the HTML error", &said);
    assert!(
        said.contains(r#""email": "[masked]""#) && said.contains("Bearer [masked]"),
        "{said}"
    );
    // The upstream answered every call: what the client saw was masked, not missing.
    let mut paths: Vec<String> = up.requests().into_iter().map(|r| r.path).collect();
    // (The two list calls, and the 502 and its retry, are next to each other.)
    paths.dedup();
    assert_eq!(
        paths,
        ["customers", "account", "payment", "declined", "broken"]
            .map(|name| format!("/__answer/{name}"))
    );
}

#[tokio::test]
async fn search_mode_resources_cut_bodies_and_the_audit_log_are_masked_too() {
    let up = Upstream::start(0).await.unwrap();
    let base = format!("http://{}", up.addr());
    let audit = tempfile::NamedTempFile::new().unwrap();
    let audit_path = audit.path().to_str().unwrap().to_owned();
    let client = stdio_at(
        masking_binary(),
        &base,
        &[
            "--mode",
            "search",
            "--get-resources",
            "--audit-log",
            &audit_path,
            "--mask-detector",
            "card",
        ],
        &[],
    )
    .await;

    let called = call_operation(&client, "listCustomers", json!({})).await;
    assert_ok(&called);
    assert_no_secret("call_operation", &whole(&called));
    assert_eq!(
        called.structured_content.unwrap()["customers"][0]["card"]["number"],
        "****1111"
    );

    // describe_operation shows the loosened output schema.
    let described = call(
        &client,
        "describe_operation",
        json!({"name": "listCustomers"}),
    )
    .await;
    let schema = &described.structured_content.unwrap()["outputSchema"];
    assert!(!schema.to_string().contains("\"pattern\""), "{schema}");

    let read = client
        .read_resource(ReadResourceRequestParams::new("operation://getAccount"))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text: body, .. } = &read.contents[0] else {
        panic!("text contents")
    };
    assert_no_secret("a resource read", body);
    assert!(body.contains("[masked]"), "{body}");

    // The audit log records who called what, never the answers, masked or not.
    drop(client);
    let mut lines = String::new();
    for _ in 0..200 {
        lines = std::fs::read_to_string(audit.path()).unwrap();
        if lines.lines().count() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(lines.lines().count() >= 2, "{lines}");
    assert_no_secret("the audit log", &lines);

    // A body cut at the response limit cannot be parsed: the names of masked fields still
    // hide their values.
    let cut = stdio_at(
        masking_binary(),
        &base,
        &["--max-response-bytes", "700", "--mask-detector", "card"],
        &[],
    )
    .await;
    let answer = call(&cut, "listAllCustomers", json!({})).await;
    let said = text(&answer);
    assert!(said.contains("cut after 700 bytes"), "{said}");
    assert!(said.contains(r#""email":"[masked]""#), "{said}");
    assert_no_secret("a cut body", &said);
}

/// Guardrails chosen in the generation settings are the server's defaults, and its flags
/// override them: a confirmation of a read named in `confirm_operations`, and a per-operation
/// rate limit.
#[tokio::test]
async fn generated_guardrails_apply_and_flags_override_them() {
    let up = Upstream::start(0).await.unwrap();
    let base = format!("http://{}", up.addr());
    // This client cannot be asked (it declares no elicitation): the call is refused unsent.
    let client = stdio_at(guardrails_binary(), &base, &[], &[]).await;
    let refused = call(&client, "getReport", json!({})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text(&refused).contains("needs the user's confirmation"),
        "{}",
        text(&refused)
    );
    for _ in 0..2 {
        assert_ok(&call(&client, "getAccount", json!({})).await);
    }
    let limited = call(&client, "getAccount", json!({})).await;
    assert_eq!(limited.is_error, Some(true));
    assert!(
        text(&limited).contains("2 calls per hour to `getAccount`"),
        "{}",
        text(&limited)
    );
    let paths: Vec<String> = up.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/__answer/account", "/__answer/account"]);

    // `--confirm none` turns the generated confirmation off; the upstream's 502 shows that
    // the request went out.
    up.clear();
    let unconfirmed = stdio_at(guardrails_binary(), &base, &["--confirm", "none"], &[]).await;
    let report = call(&unconfirmed, "getReport", json!({})).await;
    assert!(text(&report).contains("502"), "{}", text(&report));
    assert!(up.requests().iter().all(|r| r.path == "/__answer/broken"));
    assert!(!up.requests().is_empty());
}
