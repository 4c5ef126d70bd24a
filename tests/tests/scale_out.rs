//! Three replicas of a generated server behind a real load balancer (HAProxy, round robin, no
//! stickiness; `scripts/install-test-deps.sh` installs it), driven by 2025-11-25 clients (rmcp's)
//! and 2026-07-28 clients (raw JSON-RPC) at once. One replica is killed mid-run: no answer may
//! be wrong or duplicated, calls in flight on it may only fail visibly (never hang), and every
//! call that starts after the balancer has marked it down succeeds.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcpgen_tests::petstore::upstream;
use mcpgen_tests::{HttpServer, deploy_binary, ensure_crypto_provider};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use tokio::time::Instant;

const CALLS: usize = 10_000;
const CONCURRENCY: usize = 64;
/// Calls finished before one replica is killed.
const KILL_AFTER: usize = 3_000;
/// No call may take longer than this, the killed replica's included.
const CALL_LIMIT: Duration = Duration::from_secs(15);

fn haproxy() -> PathBuf {
    [
        "/usr/sbin/haproxy",
        "/usr/local/sbin/haproxy",
        "/usr/bin/haproxy",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect("HAProxy is needed for this test: run scripts/install-test-deps.sh")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `host:port` of a server's `/mcp` URL.
fn authority(server: &HttpServer) -> String {
    server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned()
}

/// Starts HAProxy in front of `replicas`: round robin, health checks on `/readyz` every
/// 100 ms (down after 2 failures; a killed replica refuses the connection at once, while a live
/// one on a busy machine may take longer than 100 ms to answer, so a check may take 2 s), a request that could not be connected is sent to another
/// replica, and a CSV status page.
async fn balancer(replicas: &[String], dir: &std::path::Path) -> (tokio::process::Child, u16, u16) {
    let (port, stats) = (free_port(), free_port());
    let servers: String = replicas
        .iter()
        .enumerate()
        .map(|(i, addr)| format!("    server r{i} {addr} check inter 100ms fall 2 rise 2\n"))
        .collect();
    let config = format!(
        "global\n    maxconn 4096\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    \
         timeout server 30s\n    timeout check 2s\n    retries 3\n    option redispatch 1\n\
         frontend mcp\n    bind 127.0.0.1:{port}\n    default_backend replicas\n\
         backend replicas\n    balance roundrobin\n    option httpchk GET /readyz\n{servers}\
         listen stats\n    bind 127.0.0.1:{stats}\n    stats enable\n    stats uri /stats\n"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, config).unwrap();
    let child = tokio::process::Command::new(haproxy())
        .args(["-db", "-f"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("HAProxy starts");
    (child, port, stats)
}

/// The balancer's view of each replica: `r0` → `UP`/`DOWN`/...
async fn replica_states(client: &reqwest::Client, stats: u16) -> Vec<(String, String)> {
    let Ok(answer) = client
        .get(format!("http://127.0.0.1:{stats}/stats;csv"))
        .send()
        .await
    else {
        return Vec::new();
    };
    let csv = answer.text().await.unwrap_or_default();
    csv.lines()
        .filter(|l| l.starts_with("replicas,r"))
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[1].to_owned(), cells[17].to_owned())
        })
        .collect()
}

/// What became of the calls.
#[derive(Default)]
struct Tally {
    correct: AtomicUsize,
    wrong: AtomicUsize,
    failed_around_kill: AtomicUsize,
    failed_after_down: AtomicUsize,
    hung: AtomicUsize,
}

/// One 2026-07-28 call of `echo`; the answer's structured content.
async fn call_2026(
    http: &reqwest::Client,
    url: &str,
    item: &str,
    n: usize,
) -> Result<Value, String> {
    let body = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {
    "name": "echo", "arguments": {"item": item, "n": n},
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }}});
    let answer = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "echo")
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = answer.status();
    let text = answer.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {text}"));
    }
    let message: Value = serde_json::from_str(
        text.lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap_or(&text),
    )
    .map_err(|e| format!("{e}: {text}"))?;
    if message["id"] != n {
        return Err(format!("answer to another request: {message}"));
    }
    message
        .pointer("/result/structuredContent")
        .cloned()
        .ok_or_else(|| format!("no result: {message}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_behind_a_balancer_survive_losing_one() {
    ensure_crypto_provider();
    let up = upstream().await;
    let base = format!("http://{}", up.addr());
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(Some(
            HttpServer::start(deploy_binary(), &["--base-url", &base], &[]).await,
        ));
    }
    let addrs: Vec<String> = replicas.iter().flatten().map(authority).collect();
    let dir = tempfile::tempdir().unwrap();
    let (_haproxy, port, stats) = balancer(&addrs, dir.path()).await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    // Ready when the balancer sees all three up.
    let waited = Instant::now();
    while replica_states(&http, stats)
        .await
        .iter()
        .filter(|(_, s)| s == "UP")
        .count()
        < 3
    {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "replicas never all UP"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    // Set when the killed replica is marked down; calls starting after it must all succeed.
    let down_at: Arc<std::sync::OnceLock<Instant>> = Arc::default();
    let killed_at: Arc<std::sync::OnceLock<Instant>> = Arc::default();

    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let (tally, next, finished) = (tally.clone(), next.clone(), finished.clone());
            let (down_at, url, http) = (down_at.clone(), url.clone(), http.clone());
            tokio::spawn(async move {
                // Even workers are 2025-11-25 clients (rmcp's, which initializes first).
                let legacy = worker % 2 == 0;
                let connect = || async {
                    let transport = StreamableHttpClientTransport::from_uri(url.clone());
                    ().serve(transport).await.ok()
                };
                let mut client = if legacy { connect().await } else { None };
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= CALLS {
                        break;
                    }
                    let item = format!("w{worker}-c{n}");
                    let started = Instant::now();
                    let call = async {
                        if legacy {
                            if client.is_none() {
                                client = connect().await;
                            }
                            let Some(c) = client.as_ref() else {
                                return Err("cannot initialize".to_owned());
                            };
                            let args = json!({"item": item, "n": n});
                            let params = CallToolRequestParams::new("echo")
                                .with_arguments(args.as_object().unwrap().clone());
                            match c.call_tool(params).await {
                                Ok(r) if r.is_error != Some(true) => {
                                    r.structured_content.ok_or_else(|| "no content".to_owned())
                                }
                                Ok(r) => Err(format!("tool error: {:?}", r.content)),
                                Err(e) => {
                                    client = None;
                                    Err(e.to_string())
                                }
                            }
                        } else {
                            call_2026(&http, &url, &item, n).await
                        }
                    };
                    let outcome = tokio::time::timeout(CALL_LIMIT, call).await;
                    match outcome {
                        Err(_) => {
                            tally.hung.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Ok(content)) => {
                            let right = content["path"] == format!("/__echo/{item}")
                                && content["query"] == format!("n={n}");
                            let counter = if right { &tally.correct } else { &tally.wrong };
                            counter.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Err(e)) => {
                            let after_down = down_at.get().is_some_and(|t| started > *t);
                            if after_down {
                                eprintln!("call {n} failed after the replica was down: {e}");
                                tally.failed_after_down.fetch_add(1, Ordering::SeqCst);
                            } else {
                                tally.failed_around_kill.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Kill one replica mid-run, then watch the balancer mark it down.
    let run_started = Instant::now();
    while finished.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(run_started.elapsed() < Duration::from_secs(120), "too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let victim = replicas[1].take().unwrap();
    drop(victim); // kill_on_drop: SIGKILL, as a crash
    killed_at.set(Instant::now()).unwrap();
    let finished_at_kill = finished.load(Ordering::SeqCst);
    loop {
        let states = replica_states(&http, stats).await;
        if states
            .iter()
            .any(|(name, s)| name == "r1" && s.starts_with("DOWN"))
        {
            down_at.set(Instant::now()).unwrap();
            break;
        }
        assert!(
            killed_at.get().unwrap().elapsed() < Duration::from_secs(10),
            "the balancer did not mark the killed replica down: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let finished_at_down = finished.load(Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = run_started.elapsed();

    let correct = tally.correct.load(Ordering::SeqCst);
    let wrong = tally.wrong.load(Ordering::SeqCst);
    let around = tally.failed_around_kill.load(Ordering::SeqCst);
    let after = tally.failed_after_down.load(Ordering::SeqCst);
    let hung = tally.hung.load(Ordering::SeqCst);
    eprintln!(
        "scale-out: {CALLS} calls in {elapsed:?} at concurrency {CONCURRENCY}: {correct} correct, \
         {wrong} wrong, {around} failed around the kill (after {finished_at_kill} calls; down \
         after {finished_at_down}, {:?} after the kill), {after} failed after, {hung} hung",
        down_at
            .get()
            .unwrap()
            .duration_since(*killed_at.get().unwrap())
    );
    assert_eq!(correct + wrong + around + after + hung, CALLS);
    assert_eq!(wrong, 0, "wrong answers");
    assert_eq!(hung, 0, "calls that never ended");
    assert_eq!(
        after, 0,
        "calls failed after the balancer marked the replica down"
    );
    assert!(correct >= CALLS - CONCURRENCY * 4, "{correct} correct");

    // Every call reached the upstream at most once: no request was repeated by the balancer
    // or a replica.
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for request in up.requests() {
        if request.path.starts_with("/__echo/") {
            *seen.entry(request.path.clone()).or_default() += 1;
        }
    }
    let repeated: Vec<_> = seen.iter().filter(|&(_, &n)| n > 1).collect();
    assert!(repeated.is_empty(), "requests sent twice: {repeated:?}");
    assert!(seen.len() >= correct, "{} upstream requests", seen.len());
}
