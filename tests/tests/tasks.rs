//! Long-running operations (tests/fixtures/jobs.yaml on the example upstream's `/__jobs`: 202
//! Accepted with a status URL, `running` until done, DELETE cancels) through a real MCP client:
//! a client that takes tasks gets one and follows it with `tasks/get` to the result, and can
//! cancel it; a client that does not waits for the work within the call, or is told it goes on.

use std::time::Duration;

use mcpgen_tests::{
    Upstream, call, mcpgen_binary, serve_fixture_args, stdio_client, stdio_client_with, text,
};
use rmcp::ClientHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, ClientCapabilities, ClientConfig,
    GetTaskParams, ProtocolVersion, TaskStatus,
};
use serde_json::{Value, json};

fn serve_args(up: &Upstream, extra: &[&str]) -> Vec<String> {
    serve_fixture_args("jobs.yaml", up, extra)
}

/// A client that declares the tasks extension.
#[derive(Clone, Default)]
struct TaskClient;

impl ClientHandler for TaskClient {
    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        info.protocol_version = ProtocolVersion::V_2025_11_25;
        info.capabilities = ClientCapabilities::builder().enable_tasks().build();
        info
    }
}

/// The paths and methods the upstream saw for `/__jobs`.
fn job_requests(up: &Upstream) -> Vec<String> {
    up.requests()
        .iter()
        .filter(|r| r.path.starts_with("/__jobs"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn a_client_that_takes_tasks_follows_the_work_to_its_result_or_cancels_it() {
    let up = Upstream::start(0).await.unwrap();
    let args = serve_args(&up, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = stdio_client_with(TaskClient, mcpgen_binary(), &args, &[]).await;
    let info = client.peer_info().unwrap();
    assert!(
        info.capabilities.supports_tasks(),
        "the server offers tasks"
    );

    let start = |polls: u32| {
        let mut params = CallToolRequestParams::new("startReport");
        params.arguments = json!({"polls": polls}).as_object().cloned();
        params
    };
    let CallToolResponse::Task(created) = client.call_tool_once(start(2)).await.unwrap() else {
        panic!("a task")
    };
    assert_eq!(created.task.status, TaskStatus::Working);
    assert_eq!(job_requests(&up), ["POST /__jobs"]);
    let id = created.task.task_id.clone();

    // Each tasks/get reads the status URL once: working twice, then the result.
    let mut statuses = Vec::new();
    let result = loop {
        let got = client
            .get_task(GetTaskParams::new(id.clone()))
            .await
            .unwrap();
        statuses.push(got.task.status());
        if got.task.status() == TaskStatus::Completed {
            break serde_json::to_value(&got).unwrap()["result"].clone();
        }
        assert!(statuses.len() < 10, "{statuses:?}");
    };
    assert_eq!(
        statuses,
        [
            TaskStatus::Working,
            TaskStatus::Working,
            TaskStatus::Completed
        ]
    );
    assert_eq!(result["isError"], false, "{result}");
    let answer = result["content"][0]["text"].as_str().unwrap();
    let answer: Value = serde_json::from_str(answer).unwrap();
    assert_eq!(answer["result"]["report"], "report-1");
    assert_eq!(
        job_requests(&up),
        [
            "POST /__jobs",
            "GET /__jobs/1",
            "GET /__jobs/1",
            "GET /__jobs/1"
        ]
    );

    // Cancelling sends the document's DELETE on the status URL; the task then reads cancelled.
    let CallToolResponse::Task(created) = client.call_tool_once(start(100)).await.unwrap() else {
        panic!("a task")
    };
    let id = created.task.task_id.clone();
    client
        .cancel_task(CancelTaskParams::new(id.clone()))
        .await
        .unwrap();
    assert_eq!(job_requests(&up).last().unwrap(), "DELETE /__jobs/2");
    let got = client
        .get_task(GetTaskParams::new(id.clone()))
        .await
        .unwrap();
    assert_eq!(got.task.status(), TaskStatus::Cancelled);

    // A task id is not something a client can make up or change.
    let forged = format!("{}x", &id[..id.len() - 1]);
    let err = client
        .get_task(GetTaskParams::new(forged))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("no task has this id"), "{err}");
    client.cancel().await.ok();
}

#[tokio::test]
async fn other_clients_wait_for_the_work_within_the_call() {
    let up = Upstream::start(0).await.unwrap();
    let args = serve_args(&up, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = stdio_client(mcpgen_binary(), &args, &[]).await;
    let result = call(&client, "startReport", json!({"polls": 2})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert!(text(&result).contains("report-1"), "{}", text(&result));
    assert_eq!(
        job_requests(&up),
        [
            "POST /__jobs",
            "GET /__jobs/1",
            "GET /__jobs/1",
            "GET /__jobs/1"
        ]
    );
    client.cancel().await.ok();

    // Work that outlasts the wait: the call ends, saying where the work stands.
    let args = serve_args(&up, &["--task-wait-secs", "1"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = stdio_client(mcpgen_binary(), &args, &[]).await;
    let started = std::time::Instant::now();
    let result = call(&client, "startReport", json!({"polls": 1000})).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        text(&result).contains("still under way") && text(&result).contains("/__jobs/2"),
        "{}",
        text(&result)
    );
    client.cancel().await.ok();
}
