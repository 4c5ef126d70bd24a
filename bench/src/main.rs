//! `mcpgen-bench`: measures a generated MCP server against the floor of calling its upstream
//! directly, and `cargo mcpgen serve` on the same document beside it, load-tests it, and
//! measures generation and compile cost. Everything runs in one process tree on loopback, in
//! one run, so ratios compare like with like.
//!
//! ```text
//! scripts/bench.sh [--quick]          build what is needed and run everything
//! mcpgen-bench [--quick] [OPTIONS]    the same, with the binaries already built
//! mcpgen-bench profile                where a call's instructions go (callgrind)
//! ```
//!
//! The figures are printed and written to `target/bench/results.md`.

mod balancer;
mod code_mode;
mod drive;
mod generate;
mod http;
mod procs;
mod profile;
mod report;
mod rpc;
mod stats;
mod stdio;
mod upstream;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::drive::Target;
use crate::http::{HttpServerProcess, McpHttp};
use crate::procs::{cpu_time, peak_rss_kib, rss_split_kib};
use crate::report::{CompileFigures, ExampleServer, LargeServer, LoadResult, Measured, Results};
use crate::stdio::StdioServer;
use crate::upstream::UpstreamProcess;

/// Every request's deadline.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// No run of calls starts a call after this long.
const RUN_DEADLINE: Duration = Duration::from_secs(180);
/// The base URL of servers that are never called (it only has to be valid).
const NOWHERE: &str = "http://127.0.0.1:9/";
/// The example server's credential variable and a value (the upstream accepts any).
const PETSTORE_TOKEN: (&str, &str) = ("PETSTORE_BEARER_AUTH_TOKEN", "bench");

#[derive(Debug, Parser)]
#[command(
    name = "mcpgen-bench",
    about = "Benchmarks a generated MCP server and `cargo mcpgen serve` against their upstream, \
             load-tests the server, and measures generation and compile cost"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    bench: BenchArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Profile the example server's tool calls with callgrind (instructions per call).
    Profile {
        /// Calls profiled (beyond the baseline run's).
        #[arg(long, default_value_t = 500)]
        calls: u64,
        /// Sample with `perf record` instead (native speed, kernel time included; 20,000
        /// calls unless --calls is given).
        #[arg(long)]
        perf: bool,
        #[command(flatten)]
        bench: BenchArgs,
    },
    /// Code mode's figures: the cost of a call inside the sandbox against a direct tool call
    /// (example document), and with --github-spec the bytes a model reads and the server's
    /// start-up and memory on GitHub's document (target/bench/code-mode.md).
    CodeMode {
        #[command(flatten)]
        bench: BenchArgs,
    },
    /// The example server over stateless HTTP as one replica and as three behind HAProxy,
    /// in the same run (target/bench/balancer.md).
    Balancer {
        #[command(flatten)]
        bench: BenchArgs,
    },
    /// Serve the benchmark's upstream (started by the benchmark itself).
    #[command(hide = true)]
    Upstream {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

#[derive(Debug, Clone, Args)]
struct BenchArgs {
    /// A short run that checks everything still works (skips GitHub and compile cost).
    #[arg(long)]
    quick: bool,
    /// The repository root (default: where this crate was built from).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Where results and logs go (default: ROOT/target/bench).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// GitHub's OpenAPI document (api.github.com.json); without it the GitHub figures are
    /// skipped.
    #[arg(long)]
    github_spec: Option<PathBuf>,
    /// Skip the release build of the generated GitHub crate (the large-spec server then runs
    /// the debug build).
    #[arg(long)]
    no_release_build: bool,
    /// The whole run stops after this many minutes (default 90, or 10 with --quick).
    #[arg(long)]
    deadline_minutes: Option<u64>,
    /// The example server binary to measure (default: ROOT/target/release/petstore-mcp), e.g.
    /// one built with another profile.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Measure the tool-call overhead only (for experiments with --server-env).
    #[arg(long)]
    overhead_only: bool,
    /// An extra environment variable for the example server (and `serve` on its document),
    /// for experiments (e.g. `TOKIO_WORKER_THREADS=1`); repeatable. Noted in the report.
    #[arg(long = "server-env", value_name = "NAME=VALUE", value_parser = parse_env)]
    server_env: Vec<(String, String)>,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))
}

/// How many calls each part makes.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    rounds: usize,
    warmup: u64,
    sequential: u64,
    concurrent: u64,
    load: u64,
    first_answer_runs: usize,
    generate_runs: usize,
    large_generate_runs: usize,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                rounds: 1,
                warmup: 50,
                sequential: 200,
                concurrent: 1_000,
                load: 500,
                first_answer_runs: 3,
                generate_runs: 3,
                large_generate_runs: 0,
            }
        } else {
            Sizes {
                rounds: 3,
                warmup: 500,
                sequential: 3_000,
                concurrent: 15_000,
                load: 10_000,
                first_answer_runs: 10,
                generate_runs: 10,
                large_generate_runs: 3,
            }
        }
    }
}

/// Paths and settings of one run.
struct Context {
    args: BenchArgs,
    sizes: Sizes,
    root: PathBuf,
    out_dir: PathBuf,
    server_bin: PathBuf,
    cli_bin: PathBuf,
}

impl Context {
    fn new(args: BenchArgs) -> Result<Context, String> {
        let root = match &args.root {
            Some(root) => root.clone(),
            None => Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .ok_or("the bench crate lives in the workspace")?
                .to_owned(),
        };
        let out_dir = args
            .out_dir
            .clone()
            .unwrap_or_else(|| root.join("target").join("bench"));
        std::fs::create_dir_all(out_dir.join("logs"))
            .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
        let release = build_dir(&root);
        let server_bin = args
            .server_bin
            .clone()
            .unwrap_or_else(|| release.join("petstore-mcp"));
        let cli_bin = release.join("cargo-mcpgen");
        for bin in [&server_bin, &cli_bin] {
            if !bin.exists() {
                return Err(format!(
                    "{} is missing: build with `cargo build --release -p petstore-mcp -p \
                     cargo-mcpgen` (scripts/bench.sh does)",
                    bin.display()
                ));
            }
        }
        Ok(Context {
            sizes: Sizes::new(args.quick),
            args,
            root,
            out_dir,
            server_bin,
            cli_bin,
        })
    }

    /// The example server's environment: its credential and any --server-env.
    fn server_env(&self) -> Vec<(&str, &str)> {
        let mut env = vec![PETSTORE_TOKEN];
        env.extend(
            self.args
                .server_env
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str())),
        );
        env
    }

    fn log(&self, name: &str) -> PathBuf {
        self.out_dir.join("logs").join(format!("{name}.log"))
    }

    /// The example document.
    fn example_spec(&self) -> PathBuf {
        self.root.join("examples/petstore/openapi.yaml")
    }

    /// The generated example server and `serve` on its document, both calling `base_url`.
    fn example_servers(&self, base_url: &str) -> [ServerCommand; 2] {
        [
            ServerCommand::generated(&self.server_bin, base_url),
            ServerCommand::serve(
                &self.cli_bin,
                &self.example_spec(),
                "petstore-mcp",
                base_url,
            ),
        ]
    }
}

/// How one MCP server is started: the generated binary, or `cargo-mcpgen serve` on the
/// document it was generated from (the direct form, without the `mcpgen` word).
struct ServerCommand {
    /// `generated` or `serve`, for logs and progress lines.
    kind: &'static str,
    bin: PathBuf,
    args: Vec<String>,
}

impl ServerCommand {
    /// The generated binary `bin`, calling `base_url`.
    fn generated(bin: &Path, base_url: &str) -> ServerCommand {
        ServerCommand {
            kind: "generated",
            bin: bin.to_owned(),
            args: vec!["--base-url".to_owned(), base_url.to_owned()],
        }
    }

    /// `cli serve SPEC --name NAME --base-url BASE_URL`.
    fn serve(cli: &Path, spec: &Path, name: &str, base_url: &str) -> ServerCommand {
        ServerCommand {
            kind: "serve",
            bin: cli.to_owned(),
            args: vec![
                "serve".to_owned(),
                spec.display().to_string(),
                "--name".to_owned(),
                name.to_owned(),
                "--base-url".to_owned(),
                base_url.to_owned(),
            ],
        }
    }

    fn args(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }
}

/// `mcpgen-bench code-mode`: runs it, writes and prints the report.
fn code_mode_main(runtime: &tokio::runtime::Runtime, bench: &BenchArgs) -> ExitCode {
    let root = bench
        .root
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    let out_dir = bench
        .out_dir
        .clone()
        .unwrap_or_else(|| root.join("target/bench"));
    let report = runtime.block_on(code_mode::run(
        &root,
        &out_dir,
        bench.github_spec.as_deref(),
        bench.quick,
    ));
    print_report(report.and_then(|text| {
        std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
        std::fs::write(code_mode::report_path(&out_dir), &text).map_err(|e| e.to_string())?;
        Ok(text)
    }))
}

/// Prints a subcommand's report, or its error.
fn print_report(report: Result<String, String>) -> ExitCode {
    match report {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `mcpgen-bench balancer`: runs it, writes and prints the report.
fn balancer_main(runtime: &tokio::runtime::Runtime, bench: BenchArgs) -> ExitCode {
    let outcome = runtime.block_on(async {
        let ctx = Context::new(bench)?;
        let env = ctx.server_env();
        let text = balancer::run(&ctx.server_bin, &ctx.out_dir, &env).await?;
        let file = ctx.out_dir.join("balancer.md");
        std::fs::write(&file, &text)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        Ok::<_, String>(text)
    });
    print_report(outcome)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (args, profile_calls) = match cli.command {
        Some(Command::Upstream { port }) => {
            return match runtime.block_on(upstream::run(port)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Profile { calls, perf, bench }) => (bench, Some((calls, perf))),
        Some(Command::CodeMode { bench }) => return code_mode_main(&runtime, &bench),
        Some(Command::Balancer { bench }) => return balancer_main(&runtime, bench),
        None => (cli.bench, None),
    };
    let minutes = args
        .deadline_minutes
        .unwrap_or(if args.quick { 10 } else { 90 });
    let outcome = runtime.block_on(async move {
        let work = async {
            match profile_calls {
                Some((calls, false)) => run_profile(args, calls).await,
                Some((calls, true)) => run_perf(args, calls).await,
                None => run_bench(args).await,
            }
        };
        tokio::select! {
            result = tokio::time::timeout(Duration::from_secs(minutes * 60), work) => {
                result.unwrap_or_else(|_| Err(format!("the run took longer than {minutes} minutes")))
            }
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_owned()),
            _ = terminated() => Err("terminated".to_owned()),
        }
    });
    // Every child has been killed by its guard by now; do not wait for idle blocking threads.
    runtime.shutdown_timeout(Duration::from_secs(2));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("mcpgen-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM (never when it cannot be watched), so that a terminated run still
/// stops every process it started.
async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

/// Runs every part, prints the report and writes it. `Ok(false)` when a part failed or the
/// load test found a lost, wrong or duplicated answer.
async fn run_bench(args: BenchArgs) -> Result<bool, String> {
    let ctx = Context::new(args)?;
    let mut results = Results {
        machine: report::Machine::read(),
        quick: ctx.args.quick,
        rounds: ctx.sizes.rounds,
        ..Results::default()
    };
    let started = Instant::now();

    step("tool-call overhead against the floor");
    if let Err(e) = overhead(&ctx, &mut results).await {
        results.errors.push(format!("tool-call overhead: {e}"));
    }
    if !ctx.args.overhead_only {
        step("load test");
        if let Err(e) = load_test(&ctx, &mut results).await {
            results.errors.push(format!("load test: {e}"));
        }
        step("generation");
        if let Err(e) = generation(&ctx, &mut results).await {
            results.errors.push(format!("generation: {e}"));
        }
    }
    match (
        &ctx.args.github_spec,
        ctx.args.quick || ctx.args.overhead_only,
    ) {
        (Some(spec), false) => {
            step("compile cost of the generated GitHub crate");
            match compile(&ctx, spec, &mut results).await {
                Ok(bin) => {
                    step("the generated GitHub server");
                    let server = ServerCommand::generated(&bin, NOWHERE);
                    match large_server(&ctx, &server).await {
                        Ok(figures) => results.large_server = Some(figures),
                        Err(e) => results.errors.push(format!("large-spec server: {e}")),
                    }
                }
                Err(e) => results.errors.push(format!("compile cost: {e}")),
            }
            step("`cargo mcpgen serve` on GitHub's document");
            let server = ServerCommand::serve(&ctx.cli_bin, spec, "github-mcp", NOWHERE);
            match large_server(&ctx, &server).await {
                Ok(figures) => results.serve_large = Some(figures),
                Err(e) => results
                    .errors
                    .push(format!("serve on GitHub's document: {e}")),
            }
        }
        (None, false) => results
            .notes
            .push("GitHub figures skipped: no --github-spec given.".to_owned()),
        (_, true) => results.notes.push(format!(
            "{}: GitHub generation, compile cost, server and serve skipped.",
            if ctx.args.quick {
                "--quick"
            } else {
                "--overhead-only"
            }
        )),
    }
    if let Some(bin) = &ctx.args.server_bin {
        results
            .notes
            .push(format!("The example server binary was {}.", bin.display()));
    }
    for (name, value) in &ctx.args.server_env {
        results
            .notes
            .push(format!("The example servers ran with {name}={value}."));
    }
    results.total_time = started.elapsed();
    results.command = reproducing_command();

    let text = report::markdown(&results);
    println!("{text}");
    let file = ctx.out_dir.join(if ctx.args.quick {
        "results-quick.md"
    } else if ctx.args.overhead_only {
        "results-overhead.md"
    } else {
        "results.md"
    });
    std::fs::write(&file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    eprintln!("written to {}", file.display());
    Ok(results.errors.is_empty() && results.load.iter().all(LoadResult::passed))
}

/// `scripts/bench.sh` with this run's options, less the GitHub document's path (the script
/// finds it).
fn reproducing_command() -> String {
    let mut command = vec!["scripts/bench.sh".to_owned()];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--github-spec" {
            args.next();
        } else if !arg.starts_with("--github-spec=") {
            command.push(arg);
        }
    }
    command.join(" ")
}

fn step(what: &str) {
    eprintln!("==> {what}");
}

/// CPU time of `pid` so far, or zero when it cannot be read (reported as such).
fn cpu_of(pid: Option<u32>) -> Duration {
    pid.and_then(|p| cpu_time(p).ok()).unwrap_or_default()
}

/// One timed run, with the CPU time the server, the upstream and this driver used during it.
async fn measure(
    target: &Arc<Target>,
    total: u64,
    concurrency: usize,
    server: Option<u32>,
    upstream: u32,
) -> Result<Measured, String> {
    let me = Some(std::process::id());
    let split = |pid: Option<u32>| {
        pid.and_then(|p| procs::cpu_split(p).ok())
            .unwrap_or_default()
    };
    let switches = |pid: Option<u32>| pid.and_then(|p| procs::context_switches(p).ok());
    let before = (cpu_of(server), cpu_of(Some(upstream)), cpu_of(me));
    let (sys_before, switches_before) = (split(server).1, switches(server));
    let machine_before = procs::machine_busy().unwrap_or_default();
    let run = drive::run(target.clone(), total, concurrency, RUN_DEADLINE).await;
    let after = (cpu_of(server), cpu_of(Some(upstream)), cpu_of(me));
    let (sys_after, switches_after) = (split(server).1, switches(server));
    let machine_after = procs::machine_busy().unwrap_or_default();
    if !run.all_ok(total) {
        return Err(format!(
            "{} of {total} calls failed: {:?}",
            total - run.ok,
            run.errors
        ));
    }
    Ok(Measured {
        calls: total,
        server_cpu: server.map(|_| after.0.saturating_sub(before.0)),
        server_system_cpu: server.map(|_| sys_after.saturating_sub(sys_before)),
        server_switches: switches_before
            .zip(switches_after)
            .map(|(b, a)| a.saturating_sub(b)),
        upstream_cpu: after.1.saturating_sub(before.1),
        driver_cpu: after.2.saturating_sub(before.2),
        // Whatever the machine did besides driver, upstream and server.
        foreign_cpu: machine_after
            .saturating_sub(machine_before)
            .saturating_sub(after.0.saturating_sub(before.0))
            .saturating_sub(after.1.saturating_sub(before.1))
            .saturating_sub(after.2.saturating_sub(before.2)),
        run,
    })
}

async fn warm_up(target: &Arc<Target>, calls: u64) -> Result<(), String> {
    let run = drive::run(target.clone(), calls, 32, RUN_DEADLINE).await;
    if run.all_ok(calls) {
        Ok(())
    } else {
        Err(format!("warm-up calls failed: {:?}", run.errors))
    }
}

fn into_stdio(target: Arc<Target>) -> Result<StdioServer, String> {
    match Arc::try_unwrap(target) {
        Ok(Target::Stdio(server)) => Ok(*server),
        _ => Err("the stdio session is still in use".to_owned()),
    }
}

fn into_http(target: Arc<Target>) -> Result<McpHttp, String> {
    match Arc::try_unwrap(target) {
        Ok(Target::Http(session)) => Ok(session),
        _ => Err("the HTTP session is still in use".to_owned()),
    }
}

/// Part 1: the floor, then the generated example server and `serve` on its document, each
/// over stdio and over HTTP, against one upstream.
async fn overhead(ctx: &Context, results: &mut Results) -> Result<(), String> {
    let sizes = ctx.sizes;
    let upstream = UpstreamProcess::start().await?;
    let up_pid = upstream.guard.pid();
    let client = http::client(CALL_TIMEOUT)?;
    let env = ctx.server_env();
    let servers = ctx.example_servers(&upstream.base_url);

    for (server, figures) in servers
        .iter()
        .zip([&mut results.generated, &mut results.serve])
    {
        eprintln!("    {}: start to first answer, stdio and HTTP", server.kind);
        example_start_up(ctx, server, &env, &client, figures).await?;
    }

    let floor = Arc::new(Target::Floor {
        client: client.clone(),
        url: upstream.pet_url(),
    });
    let mut running = Vec::new();
    for server in &servers {
        let args = server.args();
        let (stdio, _) = StdioServer::start(
            &server.bin,
            &args,
            &env,
            &ctx.log(&format!("petstore-{}-stdio", server.kind)),
            CALL_TIMEOUT,
        )
        .await?;
        let stdio_pid = stdio.pid();
        let process = HttpServerProcess::start(
            &server.bin,
            &args,
            &env,
            &ctx.log(&format!("petstore-{}-http", server.kind)),
        )
        .await?;
        let http_pid = process.pid();
        let (session, _) = McpHttp::connect(client.clone(), &process.url).await?;
        running.push((
            Arc::new(Target::Stdio(Box::new(stdio))),
            stdio_pid,
            process,
            Arc::new(Target::Http(session)),
            http_pid,
        ));
    }
    warm_up(&floor, sizes.warmup).await?;
    for (stdio, _, _, http, _) in &running {
        warm_up(stdio, sizes.warmup).await?;
        warm_up(http, sizes.warmup).await?;
    }

    // Rounds interleave the floor and each server's stdio and HTTP, so that a change in what
    // else the machine does affects all of them alike.
    let mut parts = vec![(&floor, 1, None), (&floor, 32, None)];
    for (stdio, stdio_pid, _, http, http_pid) in &running {
        parts.push((stdio, 1, Some(*stdio_pid)));
        parts.push((stdio, 32, Some(*stdio_pid)));
        parts.push((http, 1, Some(*http_pid)));
        parts.push((http, 32, Some(*http_pid)));
    }
    let mut rounds: Vec<Vec<Measured>> = vec![Vec::new(); parts.len()];
    for round in 0..sizes.rounds {
        eprintln!(
            "    round {} of {}: floor, then stdio and HTTP of {}",
            round + 1,
            sizes.rounds,
            servers
                .iter()
                .map(|s| s.kind)
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (slot, &(target, concurrency, pid)) in rounds.iter_mut().zip(&parts) {
            let calls = if concurrency == 1 {
                sizes.sequential
            } else {
                sizes.concurrent
            };
            slot.push(measure(target, calls, concurrency, pid, up_pid).await?);
        }
    }
    drop(parts);
    let mut merged = rounds.into_iter().map(Measured::merge);
    results.floor_seq = merged.next().flatten();
    results.floor_conc = merged.next().flatten();
    results.upstream_rss_kib = peak_rss_kib(up_pid).ok();

    let mut strays = 0;
    for ((stdio, stdio_pid, process, http, http_pid), figures) in running
        .into_iter()
        .zip([&mut results.generated, &mut results.serve])
    {
        figures.stdio_seq = merged.next().flatten();
        figures.stdio_conc = merged.next().flatten();
        figures.http_seq = merged.next().flatten();
        figures.http_conc = merged.next().flatten();
        figures.stdio_rss_kib = peak_rss_kib(stdio_pid).ok();
        figures.stdio_rss_split_kib = rss_split_kib(stdio_pid).ok();
        figures.http_rss_kib = peak_rss_kib(http_pid).ok();
        figures.http_rss_split_kib = rss_split_kib(http_pid).ok();
        let server = into_stdio(stdio)?;
        strays += server.strays();
        server.close().await?;
        into_http(http)?.close().await;
        process.stop().await?;
    }
    if strays > 0 {
        return Err(format!("{strays} unexpected answers over stdio"));
    }

    let stripped = ctx.out_dir.join("petstore-mcp.stripped");
    results.example_binary_bytes = procs::stripped_size(&ctx.server_bin, &stripped).ok();
    upstream.stop().await
}

/// Start-up of one example server: spawn to the `initialize` answer and to the first
/// `tools/list` answer over stdio, and spawn to the `initialize` answer over HTTP.
async fn example_start_up(
    ctx: &Context,
    server: &ServerCommand,
    env: &[(&str, &str)],
    client: &reqwest::Client,
    figures: &mut ExampleServer,
) -> Result<(), String> {
    let args = server.args();
    for _ in 0..ctx.sizes.first_answer_runs {
        let (session, first) = StdioServer::start(
            &server.bin,
            &args,
            env,
            &ctx.log(&format!("petstore-{}-stdio-start", server.kind)),
            CALL_TIMEOUT,
        )
        .await?;
        let (list, hash) = first_list(&session).await?;
        figures.first_answer_stdio.push(first);
        figures.first_list_stdio.push(list);
        figures.list_hash = Some(hash);
        session.close().await?;

        let started = Instant::now();
        let process = HttpServerProcess::start(
            &server.bin,
            &args,
            env,
            &ctx.log(&format!("petstore-{}-http-start", server.kind)),
        )
        .await?;
        let (session, _) = McpHttp::connect(client.clone(), &process.url).await?;
        figures.first_answer_http.push(started.elapsed());
        session.close().await;
        process.stop().await?;
    }
    Ok(())
}

/// Sends `tools/list` on a fresh session: spawn to its answer, and a hash of its result.
async fn first_list(server: &StdioServer) -> Result<(Duration, u64), String> {
    let id = server.next_id();
    let answer = server
        .request(id, rpc::bare(id, "tools/list"))
        .await
        .map_err(|e| format!("tools/list failed: {}", e.message))?;
    let result = answer
        .message
        .get("result")
        .ok_or_else(|| format!("tools/list was refused: {:.200}", answer.message))?;
    Ok((answer.arrived - server.spawned(), hash_of(result)))
}

/// A hash of a JSON value's serialisation (keys in their order), to compare two servers'
/// answers without keeping them.
fn hash_of(value: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.to_string().hash(&mut hasher);
    hasher.finish()
}

/// Part 2 (issue 5): many calls at concurrency 64, each answer checked, over both transports,
/// each against a fresh server.
async fn load_test(ctx: &Context, results: &mut Results) -> Result<(), String> {
    let total = ctx.sizes.load;
    let upstream = UpstreamProcess::start().await?;
    let server_args = ["--base-url", upstream.base_url.as_str()];
    let env = ctx.server_env();

    eprintln!("    stdio: {total} calls at concurrency 64");
    let (server, _) = StdioServer::start(
        &ctx.server_bin,
        &server_args,
        &env,
        &ctx.log("load-stdio"),
        CALL_TIMEOUT,
    )
    .await?;
    let pid = server.pid();
    let target = Arc::new(Target::Stdio(Box::new(server)));
    let run = drive::run(target.clone(), total, 64, RUN_DEADLINE).await;
    // A late duplicate would arrive after the run; give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = into_stdio(target)?;
    results.load.push(LoadResult {
        transport: "stdio",
        total,
        peak_rss_kib: peak_rss_kib(pid).ok(),
        strays: server.strays(),
        run,
    });
    server.close().await?;

    eprintln!("    http: {total} calls at concurrency 64");
    let process =
        HttpServerProcess::start(&ctx.server_bin, &server_args, &env, &ctx.log("load-http"))
            .await?;
    let pid = process.pid();
    let (session, _) = McpHttp::connect(http::client(CALL_TIMEOUT)?, &process.url).await?;
    let target = Arc::new(Target::Http(session));
    let run = drive::run(target.clone(), total, 64, RUN_DEADLINE).await;
    results.load.push(LoadResult {
        transport: "HTTP",
        total,
        peak_rss_kib: peak_rss_kib(pid).ok(),
        strays: 0,
        run,
    });
    into_http(target)?.close().await;
    process.stop().await?;
    upstream.stop().await
}

/// Part 3: `cargo mcpgen generate` on the example and on GitHub's document.
async fn generation(ctx: &Context, results: &mut Results) -> Result<(), String> {
    let scratch = std::env::temp_dir().join("mcpgen-bench-generate");
    let example = ctx.root.join("examples/petstore/openapi.yaml");
    let log = ctx.log("generate");
    let mut usages = Vec::new();
    for _ in 0..ctx.sizes.generate_runs {
        usages.push(
            generate::generate(
                &ctx.cli_bin,
                &example,
                &scratch,
                "petstore-mcp",
                &log,
                Duration::from_secs(60),
            )
            .await?,
        );
    }
    results
        .generation
        .push(("Petstore example (5 operations)", usages));
    if let (Some(spec), false) = (&ctx.args.github_spec, ctx.args.quick) {
        let mut usages = Vec::new();
        for _ in 0..ctx.sizes.large_generate_runs {
            usages.push(
                generate::generate(
                    &ctx.cli_bin,
                    spec,
                    &scratch,
                    "github-mcp",
                    &log,
                    Duration::from_secs(300),
                )
                .await?,
            );
        }
        results.github_tools = count_tools(&scratch.join("README.md"));
        results
            .generation
            .push(("GitHub (api.github.com.json)", usages));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Tool count from the generated README's tool list (`### name` or a table), best effort.
fn count_tools(readme: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(readme).ok()?;
    let n = text
        .lines()
        .filter(|l| l.starts_with("| `") || l.starts_with("### `"))
        .count();
    (n > 0).then_some(n)
}

/// Part 4: build the generated GitHub crate (outside the workspace), debug and release.
/// Returns the binary the large-spec server part runs.
async fn compile(ctx: &Context, spec: &Path, results: &mut Results) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join("mcpgen-bench-github");
    let target_dir = ctx.root.join("target").join("bench-gen");
    let log = ctx.log("compile");
    generate::prepare_crate(
        &ctx.cli_bin,
        spec,
        &dir,
        "github-mcp",
        &ctx.root.join("Cargo.lock"),
        &log,
    )
    .await?;
    let mut figures = CompileFigures::default();
    eprintln!("    debug build");
    let debug = generate::compile_cost(&dir, &target_dir, "github-mcp", false, &log).await?;
    let mut bin = debug.binary.clone();
    figures.builds.push(debug);
    if !ctx.args.no_release_build {
        eprintln!("    release build");
        let release = generate::compile_cost(&dir, &target_dir, "github-mcp", true, &log).await?;
        figures.stripped_release_bytes =
            procs::stripped_size(&release.binary, &ctx.out_dir.join("github-mcp.stripped")).ok();
        bin = release.binary.clone();
        figures.builds.push(release);
    }
    results.compile = Some(figures);
    Ok(bin)
}

/// Part 5: a server on GitHub's document (the generated one, or `serve`): start to first
/// answer and to the first `tools/list`, later lists, memory.
async fn large_server(ctx: &Context, server: &ServerCommand) -> Result<LargeServer, String> {
    let (bin, args) = (&server.bin, server.args());
    let log = ctx.log(&format!("github-{}", server.kind));
    let mut figures = LargeServer {
        build: if bin.components().any(|c| c.as_os_str() == "release") {
            "release"
        } else if bin.components().any(|c| c.as_os_str() == "quick") {
            "quick (no LTO)"
        } else {
            "debug"
        },
        ..LargeServer::default()
    };
    for _ in 0..ctx.sizes.first_answer_runs {
        let (session, first) = StdioServer::start(bin, &args, &[], &log, CALL_TIMEOUT).await?;
        let (list, hash) = first_list(&session).await?;
        figures.first_answer.push(first);
        figures.first_list.push(list);
        figures.list_hash = Some(hash);
        session.close().await?;
    }
    let (server, _) = StdioServer::start(bin, &args, &[], &log, CALL_TIMEOUT).await?;
    // Let the `initialized` notification be handled, then take the resting footprint.
    tokio::time::sleep(Duration::from_millis(100)).await;
    figures.idle_rss_kib = peak_rss_kib(server.pid()).ok();
    let mut warm = Vec::new();
    let mut cpu = Vec::new();
    for i in 0..6 {
        let id = server.next_id();
        let cpu_before = cpu_time(server.pid())?;
        let started = Instant::now();
        let answer = server
            .request(id, rpc::bare(id, "tools/list"))
            .await
            .map_err(|e| e.message)?;
        let took = answer.arrived - started;
        cpu.push(cpu_time(server.pid())?.saturating_sub(cpu_before));
        let tools = answer
            .message
            .pointer("/result/tools")
            .and_then(Value::as_array)
            .map(Vec::len)
            .ok_or_else(|| format!("tools/list gave no tools: {:.200}", answer.message))?;
        if i == 0 {
            figures.list_first = took;
            figures.list_bytes = answer.bytes;
            figures.tools = tools;
        } else {
            warm.push(took);
        }
    }
    figures.list_cpu = stats::median(&cpu);
    figures.list_warm = stats::median(&warm);
    figures.peak_rss_kib = peak_rss_kib(server.pid()).ok();
    figures.rss_split_kib = rss_split_kib(server.pid()).ok();
    server.close().await?;
    Ok(figures)
}

/// `mcpgen-bench profile`: callgrind on the example server, sequential and at concurrency 32.
/// `mcpgen-bench profile --perf`: `perf record` on the example server, natively.
async fn run_perf(args: BenchArgs, calls: u64) -> Result<bool, String> {
    let ctx = Context::new(args)?;
    // The default --calls suits callgrind; sampling wants many more.
    let calls = if calls == 500 { 20_000 } else { calls };
    let upstream = UpstreamProcess::start().await?;
    let mut text = String::from("# Where a tool call's CPU time goes (perf)\n\n");
    text.push_str(&format!(
        "Example server `{}`, {calls} `tools/call getPetById` per scenario, sampled with `perf \
         record -F 4999` (CPU-clock samples of all its threads, kernel included; start-up is in \
         the samples too, but is small next to the calls).\n",
        ctx.server_bin.display()
    ));
    for (label, concurrency, http) in [
        ("stdio, sequential", 1usize, false),
        ("stdio, concurrency 32", 32, false),
        ("HTTP, sequential", 1, true),
        ("HTTP, concurrency 32", 32, true),
    ] {
        step(&format!("perf, {label}"));
        let file_label = label.replace([',', ' '], "-").replace("--", "-");
        let samples = profile::perf_calls(
            &ctx.server_bin,
            &upstream.base_url,
            &ctx.out_dir,
            profile::ProfileSpec {
                label: &file_label,
                baseline: 0,
                calls,
                concurrency,
                http,
            },
        )
        .await?;
        text.push_str(&report::perf_markdown(label, &samples));
    }
    upstream.stop().await?;
    println!("{text}");
    let file = ctx.out_dir.join("perf.md");
    std::fs::write(&file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    eprintln!("written to {}", file.display());
    Ok(true)
}

async fn run_profile(args: BenchArgs, calls: u64) -> Result<bool, String> {
    let ctx = Context::new(args)?;
    let upstream = UpstreamProcess::start().await?;
    let mut text = String::from("# Where a tool call's instructions go (callgrind)\n\n");
    text.push_str(&format!(
        "Example server `{}`, `tools/call getPetById`; instructions per call = (profile with \
         {} calls − profile with 100 calls) / {calls}, so start-up and first-call work are left \
         out. Callgrind counts user-space instructions only: system calls and the kernel's \
         side of pipes, sockets and futexes are not in these figures.\n",
        ctx.server_bin.display(),
        100 + calls
    ));
    for (label, concurrency, http) in [
        ("stdio, sequential", 1usize, false),
        ("stdio, concurrency 32", 32, false),
        ("HTTP, sequential", 1, true),
        ("HTTP, concurrency 32", 32, true),
    ] {
        step(&format!("callgrind, {label}"));
        let file_label = label.replace([',', ' '], "-").replace("--", "-");
        let profile = profile::profile_calls(
            &ctx.server_bin,
            &upstream.base_url,
            &ctx.out_dir,
            profile::ProfileSpec {
                label: &file_label,
                baseline: 100,
                calls,
                concurrency,
                http,
            },
        )
        .await?;
        text.push_str(&report::profile_markdown(label, &profile));
    }
    upstream.stop().await?;
    println!("{text}");
    let file = ctx.out_dir.join("profile.md");
    std::fs::write(&file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    eprintln!("written to {}", file.display());
    Ok(true)
}

/// Where the binaries measured were built: `target/<profile>` (`target/debug` for `dev`), the
/// profile scripts/bench.sh built with (`MCPGEN_BUILD_PROFILE`, `release` unless CI asks for
/// another).
pub fn build_dir(root: &std::path::Path) -> PathBuf {
    let profile = build_profile();
    let folder = if profile == "dev" { "debug" } else { &profile };
    root.join("target").join(folder)
}

/// The cargo profile the measured binaries were built with.
pub fn build_profile() -> String {
    std::env::var("MCPGEN_BUILD_PROFILE").unwrap_or_else(|_| "release".to_owned())
}
