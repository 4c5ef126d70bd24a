//! `mcpgen-bench balancer`: the example server over stateless HTTP as one replica, and as three
//! replicas behind HAProxy (round robin, no stickiness, health checks on `/readyz`), measured
//! in the same run against the same upstream, with the same calls. Everything shares the
//! machine's CPUs, so three replicas cannot be faster than one here: the figures show what the
//! balancer and the spreading cost, and that nothing breaks at volume.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use crate::drive::{self, Run, Target};
use crate::http::{self, HttpServerProcess, McpHttp};
use crate::procs;
use crate::stats::ms;
use crate::upstream::UpstreamProcess;

/// Sequential calls and calls at concurrency 32 per setting and round.
const SEQUENTIAL: u64 = 3_000;
const CONCURRENT: u64 = 20_000;
const ROUNDS: usize = 3;

/// One setting's pooled figures.
#[derive(Default)]
struct Figures {
    sequential: Option<Run>,
    concurrent: Option<Run>,
    /// CPU of the replicas, and of the balancer, during the concurrent runs.
    replicas_cpu: Duration,
    balancer_cpu: Duration,
}

/// Adds `run` to the runs pooled in `slot`.
fn pool(slot: &mut Option<Run>, run: Run) {
    match slot {
        Some(pooled) => pooled.absorb(run),
        None => *slot = Some(run),
    }
}

/// The HAProxy binary, where Debian installs it.
fn haproxy() -> Result<PathBuf, String> {
    [
        "/usr/sbin/haproxy",
        "/usr/local/sbin/haproxy",
        "/usr/bin/haproxy",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .ok_or_else(|| "HAProxy is not installed (scripts/install-test-deps.sh installs it)".into())
}

/// Starts HAProxy on a free port in front of `replicas` (`host:port` each); returns it and its
/// `/mcp` URL.
async fn start_haproxy(
    replicas: &[String],
    dir: &Path,
) -> Result<(tokio::process::Child, String), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let mut config = format!(
        "global\n  maxconn 4096\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 1s\n  \
         timeout client 30s\n  timeout server 30s\n  option http-keep-alive\n\
         frontend mcp\n  bind 127.0.0.1:{port}\n  default_backend replicas\n\
         backend replicas\n  balance roundrobin\n  option httpchk GET /readyz\n"
    );
    for (i, replica) in replicas.iter().enumerate() {
        let _ = writeln!(config, "  server replica{i} {replica} check inter 1s");
    }
    let file = dir.join("haproxy.cfg");
    std::fs::write(&file, config).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let child = tokio::process::Command::new(haproxy()?)
        .arg("-db")
        .arg("-f")
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start HAProxy: {e}"))?;
    let url = format!("http://127.0.0.1:{port}/mcp");
    // Ready once it answers a health probe of a replica through it.
    let client = http::client(Duration::from_secs(2))?;
    for _ in 0..100 {
        let probe = client.get(url.replace("/mcp", "/healthz")).send().await;
        if probe.is_ok_and(|r| r.status().is_success()) {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("HAProxy did not answer within 5 s".to_owned())
}

fn cpu(pids: &[u32]) -> Duration {
    pids.iter().filter_map(|p| procs::cpu_time(*p).ok()).sum()
}

/// One round of sequential and concurrent calls through `url`, counting the CPU of `replicas`
/// and `balancer` during the concurrent calls.
async fn round(
    url: &str,
    replicas: &[u32],
    balancer: Option<u32>,
    figures: &mut Figures,
) -> Result<(), String> {
    let client = http::client(Duration::from_secs(10))?;
    let (session, _) = McpHttp::connect(client, url).await?;
    let target = Arc::new(Target::Http(session));
    let deadline = Duration::from_secs(120);
    let warm = drive::run(target.clone(), 1_000, 32, deadline).await;
    if !warm.all_ok(1_000) {
        return Err(format!(
            "warm-up calls through {url} failed: {:?}",
            warm.errors
        ));
    }
    let sequential = drive::run(target.clone(), SEQUENTIAL, 1, deadline).await;
    let before = (cpu(replicas), cpu(balancer.as_slice()));
    let concurrent = drive::run(target, CONCURRENT, 32, deadline).await;
    let after = (cpu(replicas), cpu(balancer.as_slice()));
    for (run, total) in [(&sequential, SEQUENTIAL), (&concurrent, CONCURRENT)] {
        if !run.all_ok(total) {
            return Err(format!(
                "{} of {total} calls through {url} failed: {:?}",
                total - run.ok,
                run.errors
            ));
        }
    }
    figures.replicas_cpu += after.0.saturating_sub(before.0);
    figures.balancer_cpu += after.1.saturating_sub(before.1);
    pool(&mut figures.sequential, sequential);
    pool(&mut figures.concurrent, concurrent);
    Ok(())
}

/// Runs the comparison and returns its report (Markdown).
pub async fn run(
    server_bin: &Path,
    out_dir: &Path,
    env: &[(&str, &str)],
) -> Result<String, String> {
    let logs = out_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let upstream = UpstreamProcess::start().await?;
    let args = ["--base-url", upstream.base_url.as_str()];
    let mut replicas = Vec::new();
    for i in 0..3 {
        let log = logs.join(format!("balancer-replica{i}.log"));
        replicas.push(HttpServerProcess::start(server_bin, &args, env, &log).await?);
    }
    let authorities: Vec<String> = replicas
        .iter()
        .map(|r| {
            r.url
                .trim_start_matches("http://")
                .trim_end_matches("/mcp")
                .to_owned()
        })
        .collect();
    let pids: Vec<u32> = replicas.iter().map(HttpServerProcess::pid).collect();
    let (balancer, balanced_url) = start_haproxy(&authorities, out_dir).await?;
    let balancer_pid = balancer.id();
    let (mut one, mut three) = (Figures::default(), Figures::default());
    for n in 1..=ROUNDS {
        crate::step(&format!(
            "balancer round {n} of {ROUNDS}: one replica, then three"
        ));
        round(&replicas[0].url, &pids[..1], None, &mut one).await?;
        round(&balanced_url, &pids, balancer_pid, &mut three).await?;
    }
    drop(balancer);
    let calls = CONCURRENT as f64 * ROUNDS as f64;
    let mut text = String::from("### HTTP: one replica, and three behind HAProxy\n\n");
    let _ = writeln!(
        text,
        "The example server (`{}`), stateless HTTP, `tools/call getPetById`: {SEQUENTIAL} \
         sequential calls and {CONCURRENT} at concurrency 32 per round, {ROUNDS} rounds that \
         alternate one replica called directly with three replicas behind HAProxy (round robin, \
         no stickiness, keep-alive, one HAProxy thread). Replicas, balancer, upstream and driver \
         share the machine's 2 CPUs.\n",
        server_bin.display()
    );
    text.push_str("| figure | one replica | three behind HAProxy |\n|---|---:|---:|\n");
    let row = |text: &mut String, name: &str, f: &dyn Fn(&Figures) -> String| {
        let _ = writeln!(text, "| {name} | {} | {} |", f(&one), f(&three));
    };
    let latency = |run: &Option<Run>, q: f64| {
        run.as_ref().map_or("–".to_owned(), |r| {
            format!("{:.3}", ms(r.latencies.quantile(q)))
        })
    };
    row(&mut text, "sequential p50 latency (ms)", &|f| {
        latency(&f.sequential, 0.5)
    });
    row(&mut text, "sequential p99 latency (ms)", &|f| {
        latency(&f.sequential, 0.99)
    });
    row(&mut text, "concurrency 32: calls/s", &|f| {
        f.concurrent
            .as_ref()
            .map_or("–".to_owned(), |r| format!("{:.0}", r.throughput()))
    });
    row(&mut text, "concurrency 32: p50 latency (ms)", &|f| {
        latency(&f.concurrent, 0.5)
    });
    row(&mut text, "concurrency 32: p99 latency (ms)", &|f| {
        latency(&f.concurrent, 0.99)
    });
    row(
        &mut text,
        "replicas' CPU per call, concurrency 32 (ms, all replicas)",
        &|f| format!("{:.3}", ms(f.replicas_cpu) / calls),
    );
    row(
        &mut text,
        "balancer CPU per call, concurrency 32 (ms)",
        &|f| format!("{:.3}", ms(f.balancer_cpu) / calls),
    );
    let _ = writeln!(
        text,
        "\nEvery call of every run was answered correctly ({} calls in all).",
        (SEQUENTIAL + CONCURRENT + 1_000) * 2 * ROUNDS as u64
    );
    Ok(text)
}
