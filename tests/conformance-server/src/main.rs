//! The server `scripts/conformance.sh` runs the MCP conformance suite's requirement sets
//! against: the fixture document `conformance.yaml` through the `#[mcpgen::server]` attribute
//! (operations named like the suite's fixture tools, answered by the example upstream), plus
//! what only hand-written code can do:
//!
//! - tools and a prompt that ask the client for input (elicitation, sampling, roots): as
//!   server requests in a 2025-11-25 session, as input-required results on 2026-07-28, through
//!   one [`mcpgen::Answer`] API;
//! - the suite's diagnostic tools: `test_missing_capability` needs the client's `sampling`
//!   capability, so a call without it is refused with -32021 and HTTP 400;
//!   `test_streaming_elicitation` answers on the request's own stream without asking anything;
//!   `test_logging_tool` writes a server-side log line, which must not reach a request that set
//!   no log level;
//! - a tool whose input schema uses JSON Schema 2020-12 keywords, listed as written;
//! - tool answers made of several content blocks (an embedded resource, mixed content);
//! - tools whose calls become tasks of the process (the tasks extension's fixtures that wait
//!   for input, or run only as tasks).

// Roots and sampling are deprecated by MCP 2026-07-28 (SEP-2577); the suite still asks for them.
#![allow(deprecated)]

use mcpgen::rmcp::model::{
    CallToolResult, ClientCapabilities, ContentBlock, ElicitationAction, GetPromptResult,
    PromptMessage, ResourceContents, Role,
};
use mcpgen::{Answer, ExtraPrompt, ExtraTool, InputNeeded, TaskSupport, ToolContext};
use serde_json::{Value, json};

#[mcpgen::server(spec = "conformance.yaml")]
pub mod fixtures {}

/// A 1x1 PNG, for answers built here.
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

fn text(t: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(t.into())])
}

fn done(t: impl Into<String>) -> Answer<CallToolResult> {
    Answer::Complete(text(t))
}

/// The `sampling` capability, which the suite still probes with (rmcp's builder deprecates
/// it, as the specification does after 2026-07-28).
fn sampling() -> ClientCapabilities {
    serde_json::from_value(json!({ "sampling": {} }))
        .expect("`{\"sampling\": {}}` is a client capability set")
}

/// A form of one required string field.
fn form(field: &str) -> Value {
    json!({
        "type": "object",
        "properties": { field: { "type": "string" } },
        "required": [field],
    })
}

/// The string the user entered in `field` of the form answered under `key`, if accepted.
fn accepted_field(context: &ToolContext, key: &str, field: &str) -> Option<String> {
    let answer = context.elicited(key)?;
    (answer.action == ElicitationAction::Accept)
        .then(|| answer.content?.get(field)?.as_str().map(str::to_owned))
        .flatten()
}

/// The text of the model's reply asked under `key`.
fn sampled_text(context: &ToolContext, key: &str) -> Option<String> {
    let reply = context.sampled(key)?;
    let value = serde_json::to_value(reply).ok()?;
    let content = &value["content"];
    // One block, or a list of them.
    let block = content
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or(content);
    block["text"].as_str().map(str::to_owned)
}

fn diagnostic_tools() -> Vec<ExtraTool> {
    vec![
        ExtraTool::new(
            "test_missing_capability",
            "Asks the client's model a question (needs the sampling capability).",
            move |_, _| async move { text("the client declared sampling") },
        )
        .requires_client_capabilities(sampling()),
        ExtraTool::new(
            "test_streaming_elicitation",
            "Answers on the request's own stream without asking the client anything.",
            move |_, _| async move { text("answered without elicitation") },
        ),
        ExtraTool::new(
            "test_logging_tool",
            "Writes a log line on the server.",
            move |_, _| async move {
                eprintln!("test_logging_tool was called");
                text("logged")
            },
        ),
        ExtraTool::new(
            "json_schema_2020_12_tool",
            "Tool with JSON Schema 2020-12 features",
            move |args, _| async move { text(format!("received {args}")) },
        )
        .with_input_schema_json(include_str!("json_schema_2020_12.json")),
    ]
}

fn content_tools() -> Vec<ExtraTool> {
    let resource = |uri: &str, mime: &str, body: &str| {
        ContentBlock::resource(ResourceContents::TextResourceContents {
            uri: uri.to_owned(),
            mime_type: Some(mime.to_owned()),
            text: body.to_owned(),
            meta: None,
        })
    };
    vec![
        ExtraTool::new(
            "test_embedded_resource",
            "Answers with an embedded text resource.",
            move |_, _| async move {
                CallToolResult::success(vec![resource(
                    "test://embedded-resource",
                    "text/plain",
                    "This is an embedded resource content.",
                )])
            },
        ),
        ExtraTool::new(
            "test_multiple_content_types",
            "Answers with text, an image and an embedded resource.",
            move |_, _| async move {
                CallToolResult::success(vec![
                    ContentBlock::text("Multiple content types test:"),
                    ContentBlock::image(PNG_BASE64, "image/png"),
                    resource(
                        "test://mixed-content-resource",
                        "application/json",
                        r#"{"test":"data","value":123}"#,
                    ),
                ])
            },
        ),
    ]
}

/// Tools that ask the client for input.
fn asking_tools() -> Vec<ExtraTool> {
    vec![
        ExtraTool::interactive(
            "test_sampling",
            "Asks the client's model to answer a prompt.",
            |args, context| async move {
                let prompt = args["prompt"].as_str().unwrap_or("Hello").to_owned();
                match sampled_text(&context, "reply") {
                    Some(reply) => done(format!("LLM response: {reply}")),
                    None => InputNeeded::new().sample("reply", &prompt, 100).into(),
                }
            },
        )
        .with_input_schema_json(
            r#"{"type":"object","properties":{"prompt":{"type":"string"}},"required":["prompt"]}"#,
        ),
        ExtraTool::interactive(
            "test_elicitation",
            "Asks the user for a user name and an email address.",
            |args, context| async move {
                let message = args["message"].as_str().unwrap_or("Who are you?").to_owned();
                match context.elicited("user") {
                    Some(answer) => done(format!(
                        "User response: action={:?}, content={}",
                        answer.action,
                        json!(answer.content)
                    )),
                    None => InputNeeded::new()
                        .elicit(
                            "user",
                            &message,
                            json!({
                                "type": "object",
                                "properties": {
                                    "username": {"type": "string", "description": "User's response"},
                                    "email": {"type": "string", "description": "User's email address"}
                                },
                                "required": ["username", "email"]
                            }),
                        )
                        .into(),
                }
            },
        )
        .with_input_schema_json(
            r#"{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}"#,
        ),
        elicit_once(
            "test_elicitation_sep1034_defaults",
            "Asks the user for a form whose fields have defaults.",
            json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "default": "John Doe"},
                    "age": {"type": "integer", "default": 30},
                    "score": {"type": "number", "default": 95.5},
                    "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
                    "verified": {"type": "boolean", "default": true}
                }
            }),
        ),
        elicit_once(
            "test_elicitation_sep1330_enums",
            "Asks the user to choose from enums of every kind.",
            json!({
                "type": "object",
                "properties": {
                    "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                    "titledSingle": {"type": "string", "oneOf": [
                        {"const": "value1", "title": "First Option"},
                        {"const": "value2", "title": "Second Option"},
                        {"const": "value3", "title": "Third Option"}
                    ]},
                    "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                        "enumNames": ["Option One", "Option Two", "Option Three"]},
                    "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                    "titledMulti": {"type": "array", "items": {"anyOf": [
                        {"const": "value1", "title": "First Choice"},
                        {"const": "value2", "title": "Second Choice"},
                        {"const": "value3", "title": "Third Choice"}
                    ]}}
                }
            }),
        ),
    ]
}

/// A tool that asks the user for `schema`'s form once and reports the answer.
fn elicit_once(name: &'static str, description: &str, schema: Value) -> ExtraTool {
    ExtraTool::interactive(name, description, move |_, context| {
        let schema = schema.clone();
        async move {
            match context.elicited("form") {
                Some(answer) => done(format!(
                    "Elicitation completed: action={:?}, content={}",
                    answer.action,
                    json!(answer.content)
                )),
                None => InputNeeded::new()
                    .elicit("form", "Please review and update the form fields", schema)
                    .into(),
            }
        }
    })
}

/// The input-required (SEP-2322) fixture tools of the 2026-07-28 requirement set.
fn input_required_tools() -> Vec<ExtraTool> {
    vec![
        ExtraTool::interactive(
            "test_input_required_result_elicitation",
            "Asks the user's name, then greets them.",
            |_, context| async move {
                match accepted_field(&context, "user_name", "name") {
                    Some(name) => done(format!("Hello, {name}!")),
                    // Also when the answer is missing or not a form's answer: ask again.
                    None => InputNeeded::new()
                        .elicit("user_name", "What is your name?", form("name"))
                        .into(),
                }
            },
        ),
        ExtraTool::interactive(
            "test_input_required_result_sampling",
            "Asks the client's model a question, then reports its answer.",
            |_, context| async move {
                match sampled_text(&context, "capital_question") {
                    Some(reply) => done(format!("The model answered: {reply}")),
                    None => InputNeeded::new()
                        .sample("capital_question", "What is the capital of France?", 100)
                        .into(),
                }
            },
        ),
        ExtraTool::interactive(
            "test_input_required_result_list_roots",
            "Asks for the client's roots, then lists them.",
            |_, context| async move {
                match context.roots("client_roots") {
                    Some(roots) => done(format!(
                        "Roots: {}",
                        roots
                            .roots
                            .iter()
                            .map(|r| r.uri.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    None => InputNeeded::new().roots("client_roots").into(),
                }
            },
        ),
        confirm_with_state(
            "test_input_required_result_request_state",
            "Asks the user to confirm, keeping its progress in the request state.",
        ),
        confirm_with_state(
            "test_input_required_result_tampered_state",
            "Asks the user to confirm; a request state that was changed is refused.",
        ),
        ExtraTool::interactive(
            "test_input_required_result_multiple_inputs",
            "Asks for the user's name, a greeting from the model and the roots at once.",
            |_, context| async move {
                let name = accepted_field(&context, "user_name", "name");
                let greeting = sampled_text(&context, "greeting");
                let roots = context.roots("client_roots");
                match (name, greeting, roots, context.request_state()) {
                    (Some(name), Some(greeting), Some(roots), Some("asked")) => {
                        done(format!("{greeting} {name} ({} roots)", roots.roots.len()))
                    }
                    _ => InputNeeded::new()
                        .elicit("user_name", "What is your name?", form("name"))
                        .sample("greeting", "Generate a greeting", 50)
                        .roots("client_roots")
                        .with_state("asked")
                        .into(),
                }
            },
        ),
        ExtraTool::interactive(
            "test_input_required_result_multi_round",
            "Asks the user's name, then their favourite colour, then answers.",
            |_, context| async move {
                match context.request_state() {
                    Some(state) if state.starts_with("step2:") => {
                        match accepted_field(&context, "step2", "color") {
                            Some(color) => done(format!(
                                "{} likes {color}.",
                                state.trim_start_matches("step2:")
                            )),
                            None => ask_colour(state),
                        }
                    }
                    _ => match accepted_field(&context, "step1", "name") {
                        Some(name) => ask_colour(&format!("step2:{name}")),
                        None => InputNeeded::new()
                            .elicit("step1", "Step 1: What is your name?", form("name"))
                            .with_state("step1")
                            .into(),
                    },
                }
            },
        ),
        ExtraTool::interactive(
            "test_input_required_result_capabilities",
            "Asks for input only in ways the client declared it can answer.",
            |_, context| async move {
                let declared = context.client_capabilities();
                let elicits = declared.is_some_and(|c| c.elicitation.is_some());
                let samples = declared.is_some_and(|c| c.sampling.is_some());
                if accepted_field(&context, "ask", "answer").is_some()
                    || sampled_text(&context, "ask").is_some()
                {
                    return done("Answered in a way the client declared.");
                }
                match (elicits, samples) {
                    (true, _) => InputNeeded::new()
                        .elicit("ask", "What is the answer?", form("answer"))
                        .into(),
                    (false, true) => InputNeeded::new()
                        .sample("ask", "What is the answer?", 50)
                        .into(),
                    (false, false) => done("The client can be asked nothing; answered without."),
                }
            },
        ),
    ]
}

/// Tools whose calls become tasks (the tasks extension's fixtures): their work goes on under a
/// task, which may wait for input the client gives with `tasks/update`.
fn task_tools() -> Vec<ExtraTool> {
    vec![
        ExtraTool::interactive(
            "confirm_delete",
            "Deletes a file once the user confirms, as a task.",
            |args, context| async move {
                context.run_as_task();
                let file = args["filename"].as_str().unwrap_or("the file").to_owned();
                match context.elicited("confirm") {
                    Some(answer)
                        if answer.action == ElicitationAction::Accept
                            && answer.content.as_ref().and_then(|c| c.get("confirm"))
                                == Some(&json!(true)) =>
                    {
                        done(format!("Deleted {file}."))
                    }
                    Some(_) => done(format!("Kept {file}.")),
                    None => InputNeeded::new()
                        .elicit(
                            "confirm",
                            &format!("Delete {file}?"),
                            json!({
                                "type": "object",
                                "properties": {"confirm": {"type": "boolean"}},
                                "required": ["confirm"]
                            }),
                        )
                        .into(),
                }
            },
        )
        .with_input_schema_json(
            r#"{"type":"object","properties":{"filename":{"type":"string"}},"required":["filename"]}"#,
        )
        .with_task_support(TaskSupport::Optional),
        ExtraTool::interactive(
            "multi_input",
            "Asks two questions at once, as a task, and answers when both are answered.",
            |_, context| async move {
                context.run_as_task();
                match (
                    accepted_field(&context, "first", "name"),
                    accepted_field(&context, "second", "name"),
                ) {
                    (Some(first), Some(second)) => done(format!("Got {first} and {second}.")),
                    _ => InputNeeded::new()
                        .elicit("first", "The first name?", form("name"))
                        .elicit("second", "The second name?", form("name"))
                        .into(),
                }
            },
        )
        .with_task_support(TaskSupport::Optional),
        ExtraTool::new(
            "failing_job",
            "A job that fails after a second; only as a task.",
            |_, context| async move {
                context.run_as_task();
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                CallToolResult::error(vec![ContentBlock::text("The job failed, as it always does.")])
            },
        )
        .with_task_support(TaskSupport::Required),
        ExtraTool::interactive(
            "test_tool_with_task",
            "Asks the user's name within the request, then greets them from a task.",
            |_, context| async move {
                match accepted_field(&context, "user_name", "name") {
                    Some(name) => {
                        context.run_as_task();
                        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        done(format!("Hello, {name}, from a task."))
                    }
                    None => InputNeeded::new()
                        .elicit("user_name", "What is your name?", form("name"))
                        .into(),
                }
            },
        )
        .with_task_support(TaskSupport::Required),
    ]
}

fn ask_colour(state: &str) -> Answer<CallToolResult> {
    InputNeeded::new()
        .elicit(
            "step2",
            "Step 2: What is your favorite color?",
            form("color"),
        )
        .with_state(state)
        .into()
}

/// A tool that asks for a confirmation and finishes only with its own state back.
fn confirm_with_state(name: &'static str, description: &str) -> ExtraTool {
    ExtraTool::interactive(name, description, move |_, context| async move {
        let confirmed = context
            .elicited("confirm")
            .filter(|a| a.action == ElicitationAction::Accept)
            .and_then(|a| a.content?.get("ok")?.as_bool());
        match (confirmed, context.request_state()) {
            (Some(true), Some("awaiting-confirmation")) => done("Confirmed: state-ok."),
            (Some(false), Some("awaiting-confirmation")) => done("Not confirmed."),
            _ => InputNeeded::new()
                .elicit(
                    "confirm",
                    "Please confirm",
                    json!({
                        "type": "object",
                        "properties": {"ok": {"type": "boolean"}},
                        "required": ["ok"]
                    }),
                )
                .with_state("awaiting-confirmation")
                .into(),
        }
    })
}

fn prompts() -> Vec<ExtraPrompt> {
    vec![ExtraPrompt::new(
        "test_input_required_result_prompt",
        "A prompt that asks the user for its context first.",
        |_, context| async move {
            Ok(match accepted_field(&context, "user_context", "context") {
                Some(given) => {
                    Answer::Complete(GetPromptResult::new(vec![PromptMessage::new_text(
                        Role::User,
                        format!("Work in this context: {given}"),
                    )]))
                }
                None => InputNeeded::new()
                    .elicit(
                        "user_context",
                        "What context should the prompt use?",
                        form("context"),
                    )
                    .into(),
            })
        },
    )]
}

fn main() -> std::process::ExitCode {
    use clap::Parser;
    let tools = [
        diagnostic_tools(),
        content_tools(),
        asking_tools(),
        input_required_tools(),
        task_tools(),
    ]
    .concat();
    mcpgen::run(
        &fixtures::API,
        mcpgen::ServeArgs::parse(),
        mcpgen::Extras {
            tools,
            prompts: prompts(),
        },
    )
}
