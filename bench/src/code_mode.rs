//! Code mode's figures (`mcpgen-bench code-mode`): on the example document, the cost of an
//! `api.` call inside the sandbox against a direct tool call, and a run's fixed cost; on
//! GitHub's document, the bytes a model reads (`tools/list`, `describe_operation` against the
//! JSON Schema form, a five-step task as one program against one tool call per step), and the
//! start-up and memory of `cargo mcpgen serve --mode code`. Servers run over stdio, started
//! by `cargo-mcpgen serve` (release build), against an upstream in this process.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::routing::get;
use serde_json::{Value, json};

use crate::procs::{cpu_time, peak_rss_kib};
use crate::stdio::StdioServer;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The ten operations whose declarations are measured: `METHOD /path`, which the search finds
/// first.
const COMMON: [&str; 10] = [
    "GET /repos/{owner}/{repo}",
    "GET /repos/{owner}/{repo}/issues",
    "GET /repos/{owner}/{repo}/issues/{issue_number}",
    "POST /repos/{owner}/{repo}/issues",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    "GET /repos/{owner}/{repo}/pulls",
    "GET /repos/{owner}/{repo}/pulls/{pull_number}",
    "GET /repos/{owner}/{repo}/commits",
    "GET /user",
    "GET /search/issues",
];

/// A server on stdio and its next request id.
struct Server {
    stdio: StdioServer,
    started: Duration,
}

impl Server {
    async fn start(cli: &Path, args: &[&str], log: &Path) -> Result<Server, String> {
        let (stdio, started) = StdioServer::start(
            cli,
            args,
            &[
                ("PETSTORE_BEARER_AUTH_TOKEN", "bench"),
                ("GITHUB_TOKEN", "bench"),
            ],
            log,
            TIMEOUT,
        )
        .await?;
        Ok(Server { stdio, started })
    }

    /// A request's answer and the bytes of its line.
    async fn request(&self, method: &str, params: Value) -> Result<(Value, usize), String> {
        let id = self.stdio.next_id();
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let answer = self
            .stdio
            .request(id, line.to_string())
            .await
            .map_err(|e| format!("{method}: {e:?}"))?;
        if let Some(error) = answer.message.get("error") {
            return Err(format!("{method}: {error}"));
        }
        Ok((answer.message["result"].clone(), answer.bytes))
    }

    /// A tool call's result and the bytes of its answer line; a tool error is an error.
    async fn call(&self, tool: &str, arguments: Value) -> Result<(Value, usize), String> {
        let (result, bytes) = self
            .request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await?;
        if result["isError"] == true {
            return Err(format!("{tool}: {}", result["content"]));
        }
        Ok((result, bytes))
    }

    fn pid(&self) -> u32 {
        self.stdio.pid()
    }

    async fn close(self) -> Result<(), String> {
        self.stdio.close().await
    }
}

/// The example's upstream and GitHub's, in this process: pet 1 (for the per-call cost), and a
/// repository, its open issues and each issue, answered with the examples of GitHub's
/// document.
async fn upstream(github: Option<&Value>) -> Result<String, String> {
    let pet = r#"{"id":"1","name":"Rex","tag":"dog","status":"available"}"#;
    let example = |name: &str| -> Value {
        github
            .and_then(|d| d.pointer(&format!("/components/examples/{name}/value")))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let repository = example("full-repository-default-response");
    let issue = example("issue");
    let item = example("issue-items")[0].clone();
    let items: Vec<Value> = (1..=3)
        .map(|n| {
            let mut item = item.clone();
            item["number"] = json!(1346 + n);
            item
        })
        .collect();
    let app = Router::new()
        .route(
            "/v1/pets/1",
            get(move || async move { ([("content-type", "application/json")], pet) }),
        )
        .route(
            "/repos/{owner}/{repo}",
            get(move || {
                let body = repository.to_string();
                async move { ([("content-type", "application/json")], body) }
            }),
        )
        .route(
            "/repos/{owner}/{repo}/issues",
            get(move || {
                let body = Value::Array(items.clone()).to_string();
                async move { ([("content-type", "application/json")], body) }
            }),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}",
            get(
                move |UrlPath((_, _, number)): UrlPath<(String, String, u64)>| {
                    let mut issue = issue.clone();
                    issue["number"] = json!(number);
                    async move { ([("content-type", "application/json")], issue.to_string()) }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

/// Runs the code-mode benchmark and returns its report (Markdown).
pub async fn run(
    root: &Path,
    out_dir: &Path,
    github_spec: Option<&Path>,
    quick: bool,
) -> Result<String, String> {
    let cli = crate::build_dir(root).join("cargo-mcpgen");
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let log = out_dir.join("code-mode.log");
    let github: Option<Value> = match github_spec {
        Some(path) => Some(
            serde_json::from_slice(
                &std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
            )
            .map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => None,
    };
    let base = upstream(github.as_ref()).await?;
    let mut report = String::from("### Code mode (issue 16)\n\n");
    per_call_cost(&cli, root, &base, &log, quick, &mut report).await?;
    if let (Some(spec), Some(_)) = (github_spec, &github) {
        github_figures(&cli, spec, &base, &log, &mut report).await?;
    } else {
        report.push_str("GitHub's document was not given: its figures are skipped.\n\n");
    }
    Ok(report)
}

/// The sandbox's cost per `api.` call and per run, against direct tool calls, on the example.
async fn per_call_cost(
    cli: &Path,
    root: &Path,
    base: &str,
    log: &Path,
    quick: bool,
    report: &mut String,
) -> Result<(), String> {
    let spec = root.join("examples/petstore/openapi.yaml");
    let spec = spec.display().to_string();
    let base_url = format!("{base}/v1");
    let common = [
        "serve",
        spec.as_str(),
        "--name",
        "petstore-mcp",
        "--base-url",
        base_url.as_str(),
    ];
    let (calls, rounds) = if quick { (200, 3) } else { (1000, 10) };
    let calls_arg = calls.to_string();

    // Direct tool calls, one after another.
    let direct = Server::start(cli, &common, log).await?;
    let get = json!({"petId": "1"});
    for _ in 0..50 {
        direct.call("getPetById", get.clone()).await?;
    }
    let cpu = cpu_time(direct.pid())?;
    let started = Instant::now();
    for _ in 0..calls * rounds {
        direct.call("getPetById", get.clone()).await?;
    }
    let direct_wall = started.elapsed() / (calls * rounds) as u32;
    let direct_cpu = (cpu_time(direct.pid())? - cpu) / (calls * rounds) as u32;
    direct.close().await?;

    // The same calls from one program per round, and empty programs for a run's own cost.
    let mut args = common.to_vec();
    args.extend(["--mode", "code", "--code-max-calls", calls_arg.as_str()]);
    let code = Server::start(cli, &args, log).await?;
    let started_code = code.started;
    let rss_idle = peak_rss_kib(code.pid())?;
    let looped = format!(
        "for (let i = 0; i < {calls}; i++) await api.getPetById({{petId: '1'}});\nreturn 1;"
    );
    let empty = "return 1;";
    code.call("execute", json!({"code": looped})).await?;
    let measure = |program: String, times: usize| {
        let code = &code;
        async move {
            let cpu = cpu_time(code.pid())?;
            let started = Instant::now();
            for _ in 0..times {
                code.call("execute", json!({"code": program})).await?;
            }
            Ok::<_, String>((
                started.elapsed() / times as u32,
                (cpu_time(code.pid())? - cpu) / times as u32,
            ))
        }
    };
    let (loop_wall, loop_cpu) = measure(looped, rounds).await?;
    let empty_runs = if quick { 100 } else { 1000 };
    let (empty_wall, empty_cpu) = measure(empty.to_owned(), empty_runs).await?;
    let rss_after = peak_rss_kib(code.pid())?;
    code.close().await?;
    let per_call_wall = loop_wall.saturating_sub(empty_wall) / calls as u32;
    let per_call_cpu = loop_cpu.saturating_sub(empty_cpu) / calls as u32;
    let ms = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1000.0);
    let signed = |a: Duration, b: Duration| {
        let v = a.as_secs_f64() * 1000.0 - b.as_secs_f64() * 1000.0;
        format!("{v:+.3}")
    };
    let _ = writeln!(
        report,
        "`getPetById` on the example document, `cargo-mcpgen serve` (release) over stdio, against \
         an upstream in the driver's process. Direct: {n} sequential `tools/call`s (tools mode). \
         In the sandbox: {rounds} `execute` runs of a program that awaits {calls} calls one \
         after another, less the cost of an empty run (`return 1;`, {empty_runs} runs). Server \
         CPU from /proc (10 ms ticks).\n",
        n = calls * rounds,
    );
    let _ = writeln!(
        report,
        "| figure | direct tool call | `api.` call in a program | difference |\n|---|---:|---:|---:|"
    );
    let _ = writeln!(
        report,
        "| wall time per call (ms) | {} | {} | {} |",
        ms(direct_wall),
        ms(per_call_wall),
        signed(per_call_wall, direct_wall)
    );
    let _ = writeln!(
        report,
        "| server CPU per call (ms) | {} | {} | {} |",
        ms(direct_cpu),
        ms(per_call_cpu),
        signed(per_call_cpu, direct_cpu)
    );
    let _ = writeln!(
        report,
        "\n| a run's own cost | value |\n|---|---:|\n\
         | empty `execute` run, wall (ms) | {} |\n\
         | empty `execute` run, server CPU (ms) | {} |\n\
         | start to first answer, code mode (ms) | {} |\n\
         | peak RSS after `initialize` (MiB) | {:.1} |\n\
         | peak RSS after the runs (MiB) | {:.1} |\n",
        ms(empty_wall),
        ms(empty_cpu),
        ms(started_code),
        rss_idle as f64 / 1024.0,
        rss_after as f64 / 1024.0,
    );
    Ok(())
}

/// Bytes a model reads on GitHub's document, and the start-up and memory of the server.
async fn github_figures(
    cli: &Path,
    spec: &Path,
    base: &str,
    log: &Path,
    report: &mut String,
) -> Result<(), String> {
    let spec = spec.display().to_string();
    let start = |mode: &'static str| {
        let args: Vec<String> = [
            "serve",
            spec.as_str(),
            "--name",
            "github-mcp",
            "--base-url",
            base,
            "--mode",
            mode,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Server::start(cli, &args, log).await
        }
    };
    let code = start("code").await?;
    let search = start("search").await?;
    let startup = code.started;
    let rss_start = peak_rss_kib(code.pid())?;
    let (_, code_list) = code.request("tools/list", json!({})).await?;
    let (_, search_list) = search.request("tools/list", json!({})).await?;

    // Declarations against the search mode's description (the JSON Schema form).
    let mut rows = String::new();
    let (mut ts_total, mut schema_total) = (0, 0);
    let mut names = Vec::new();
    for operation in COMMON {
        let (found, _) = code
            .call("search_operations", json!({"query": operation, "limit": 1}))
            .await?;
        let name = found["structuredContent"]["operations"][0]["name"]
            .as_str()
            .ok_or("no operation found")?
            .to_owned();
        let (described, _) = code
            .call("describe_operation", json!({"name": name}))
            .await?;
        let ts = described["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .len();
        let (schema, _) = search
            .call("describe_operation", json!({"name": name}))
            .await?;
        let schema = schema["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .len();
        ts_total += ts;
        schema_total += schema;
        let _ = writeln!(
            rows,
            "| `{name}` ({operation}) | {ts} | {schema} | {:.2} |",
            ts as f64 / schema as f64
        );
        names.push(name);
    }

    // The task: the repository, its open issues, and three issues in full.
    let (get_repo, list_issues, get_issue) = (&names[0], &names[1], &names[2]);
    let repo = json!({"owner": "octocat", "repo": "Hello-World"});
    let mut step_bytes = 0;
    let (_, bytes) = search
        .call(
            "call_operation",
            json!({"name": get_repo, "arguments": repo}),
        )
        .await?;
    step_bytes += bytes;
    let (listed, bytes) = search
        .call(
            "call_operation",
            json!({"name": list_issues, "arguments": {"owner": "octocat", "repo": "Hello-World", "state": "open"}}),
        )
        .await?;
    step_bytes += bytes;
    // An array answer comes wrapped as `{"result": [...]}`.
    let structured = &listed["structuredContent"];
    let numbers: Vec<u64> = structured
        .get("result")
        .unwrap_or(structured)
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["number"].as_u64()).collect())
        .unwrap_or_default();
    for number in numbers.iter().take(3) {
        let (_, bytes) = search
            .call(
                "call_operation",
                json!({"name": get_issue, "arguments": {"owner": "octocat", "repo": "Hello-World", "issue_number": number}}),
            )
            .await?;
        step_bytes += bytes;
    }
    let steps = 2 + numbers.len().min(3);
    let mut code_bytes = 0;
    for name in [&names[0], &names[1], &names[2]] {
        let (_, bytes) = code
            .call("describe_operation", json!({"name": name}))
            .await?;
        code_bytes += bytes;
    }
    // Names with `-` are not identifiers: `api["name"]`.
    let (get_repo, list_issues, get_issue) = (
        Value::from(get_repo.as_str()),
        Value::from(list_issues.as_str()),
        Value::from(get_issue.as_str()),
    );
    let program = format!(
        "const where = {{owner: 'octocat', repo: 'Hello-World'}};\n\
         const repo = await api[{get_repo}](where);\n\
         const open = await api[{list_issues}]({{...where, state: 'open'}});\n\
         const issues = await Promise.all(open.slice(0, 3).map((i) => api[{get_issue}]({{...where, issue_number: i.number}})));\n\
         return {{repo: repo.full_name, open: repo.open_issues_count, issues: issues.map((i) => ({{number: i.number, title: i.title, author: i.user.login, comments: i.comments, labels: i.labels.map((l) => l.name)}}))}};"
    );
    let (ran, run_bytes) = code.call("execute", json!({"code": program})).await?;
    code_bytes += run_bytes;
    let rss_end = peak_rss_kib(code.pid())?;
    let _ = ran;
    code.close().await?;
    search.close().await?;

    let _ = writeln!(
        report,
        "On GitHub's document (1,223 operations), `cargo-mcpgen serve` (release) in code mode, \
         beside the same in search mode, whose `describe_operation` gives an operation's JSON \
         Schemas and whose `call_operation` stands for one tool call per step. Bytes are those \
         of the JSON-RPC answer lines the client reads (for declarations: the text).\n"
    );
    let _ = writeln!(
        report,
        "| figure | code mode | search mode |\n|---|---:|---:|\n\
         | `tools/list` answer (bytes) | {code_list} | {search_list} |\n"
    );
    let _ = writeln!(
        report,
        "| operation | TypeScript declaration (bytes) | JSON Schema form (bytes) | ratio |\n|---|---:|---:|---:|\n{rows}| **ten together** | **{ts_total}** | **{schema_total}** | **{:.2}** |\n",
        ts_total as f64 / schema_total as f64
    );
    let _ = writeln!(
        report,
        "Five-step task: get `octocat/Hello-World`, list its open issues, read the first three \
         in full (the upstream answers with the examples of GitHub's document), report number, \
         title, author, comment count and labels of each.\n\n\
         | way | steps the model takes | bytes the model reads |\n|---|---:|---:|\n\
         | one tool call per step (`call_operation`) | {steps} | {step_bytes} |\n\
         | code mode: 3 declarations + one `execute` | 4 | {code_bytes} |\n\
         | code mode: the `execute` answer alone | 1 | {run_bytes} |\n"
    );
    let _ = writeln!(
        report,
        "| server in code mode on GitHub's document | value |\n|---|---:|\n\
         | start to first answer (ms) | {:.1} |\n\
         | peak RSS after `initialize` (MiB) | {:.1} |\n\
         | peak RSS after the task (search index, declarations, runs) (MiB) | {:.1} |\n",
        startup.as_secs_f64() * 1000.0,
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0
    );
    Ok(())
}

/// Where the report goes: `OUT_DIR/code-mode.md`.
pub fn report_path(out_dir: &Path) -> PathBuf {
    out_dir.join("code-mode.md")
}
