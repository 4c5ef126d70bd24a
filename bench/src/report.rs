//! The figures of a run, and the Markdown report: tables with every figure next to the
//! floor, and the targets marked met or missed.

use std::fmt::Write as _;
use std::time::Duration;

use crate::drive::Run;
use crate::generate::CompileCost;
use crate::procs::Usage;
use crate::profile::{Profile, Samples};
use crate::stats::{median, ms};

/// The machine the figures come from.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// CPUs this process may use (what `nproc` prints).
    pub cpus: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// `MemTotal` in KiB.
    pub memory_kib: u64,
    /// Kernel release.
    pub kernel: String,
    /// `rustc -V`.
    pub rustc: String,
    /// When the run started (UTC).
    pub date: String,
}

impl Machine {
    /// Reads it from /proc and the tools on the PATH.
    pub fn read() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let field = |text: &str, name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let command = |program: &str, args: &[&str]| {
            std::process::Command::new(program)
                .args(args)
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default()
        };
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let rustc = command(&cargo, &["--version"]);
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model: field(&read("/proc/cpuinfo"), "model name"),
            memory_kib: field(&read("/proc/meminfo"), "MemTotal")
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap_or(0),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            rustc: if rustc.is_empty() {
                command("rustc", &["-V"])
            } else {
                format!("{}; {rustc}", command("rustc", &["-V"]))
            },
            date: command("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        }
    }
}

/// One timed run with the CPU each party used.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The calls and their latencies.
    pub run: Run,
    /// How many calls.
    pub calls: u64,
    /// The MCP server's CPU time (none for the floor).
    pub server_cpu: Option<Duration>,
    /// The part of `server_cpu` spent in the kernel.
    pub server_system_cpu: Option<Duration>,
    /// The MCP server's context switches (all its threads).
    pub server_switches: Option<u64>,
    /// The upstream's CPU time.
    pub upstream_cpu: Duration,
    /// This driver's CPU time.
    pub driver_cpu: Duration,
    /// CPU time the rest of the machine used meanwhile (other processes, the kernel's own
    /// work, time stolen by the hypervisor).
    pub foreign_cpu: Duration,
}

impl Measured {
    /// Several runs of the same thing as one: samples pooled, calls, times and CPU summed
    /// (so throughput is total calls over total time). None when there are none.
    pub fn merge(parts: Vec<Measured>) -> Option<Measured> {
        let mut parts = parts.into_iter();
        let mut all = parts.next()?;
        for part in parts {
            all.calls += part.calls;
            all.run.absorb(part.run);
            let add = |a: Option<Duration>, b: Option<Duration>| a.zip(b).map(|(a, b)| a + b);
            all.server_cpu = add(all.server_cpu, part.server_cpu);
            all.server_system_cpu = add(all.server_system_cpu, part.server_system_cpu);
            all.server_switches = all
                .server_switches
                .zip(part.server_switches)
                .map(|(a, b)| a + b);
            all.upstream_cpu += part.upstream_cpu;
            all.driver_cpu += part.driver_cpu;
            all.foreign_cpu += part.foreign_cpu;
        }
        Some(all)
    }

    fn per_call(&self, total: Duration) -> Duration {
        total / u32::try_from(self.calls.max(1)).unwrap_or(u32::MAX)
    }

    /// Server CPU per call.
    pub fn server_per_call(&self) -> Option<Duration> {
        self.server_cpu.map(|c| self.per_call(c))
    }

    /// Server kernel-side CPU per call.
    pub fn server_system_per_call(&self) -> Option<Duration> {
        self.server_system_cpu.map(|c| self.per_call(c))
    }

    /// Server context switches per call.
    pub fn server_switches_per_call(&self) -> Option<f64> {
        self.server_switches
            .map(|s| s as f64 / self.calls.max(1) as f64)
    }

    /// Upstream CPU per call.
    pub fn upstream_per_call(&self) -> Duration {
        self.per_call(self.upstream_cpu)
    }

    /// CPUs the rest of the machine kept busy during the run, on average; none for runs
    /// too short for the 10 ms clock ticks to say.
    pub fn foreign_load(&self) -> Option<f64> {
        let elapsed = self.run.elapsed.as_secs_f64();
        (elapsed >= 0.25).then(|| self.foreign_cpu.as_secs_f64() / elapsed)
    }

    /// Driver CPU per call.
    pub fn driver_per_call(&self) -> Duration {
        self.per_call(self.driver_cpu)
    }
}

/// One transport's load test.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// `stdio` or `HTTP`.
    pub transport: &'static str,
    /// Calls made.
    pub total: u64,
    /// The calls.
    pub run: Run,
    /// Answers no call was waiting for (stdio).
    pub strays: u64,
    /// The server's peak RSS after the test.
    pub peak_rss_kib: Option<u64>,
}

impl LoadResult {
    /// Every call answered exactly once, correctly.
    pub fn passed(&self) -> bool {
        self.run.all_ok(self.total) && self.strays == 0
    }
}

/// Compile cost of the generated GitHub crate.
#[derive(Debug, Clone, Default)]
pub struct CompileFigures {
    /// Debug, then release when built.
    pub builds: Vec<CompileCost>,
    /// Size of the release binary, stripped.
    pub stripped_release_bytes: Option<u64>,
}

/// The generated GitHub server's figures.
#[derive(Debug, Clone, Default)]
pub struct LargeServer {
    /// `release` or `debug`.
    pub build: &'static str,
    /// Spawn to `initialize` answer, each run.
    pub first_answer: Vec<Duration>,
    /// Spawn to the first `tools/list` answer (sent right after `initialize`), each run.
    pub first_list: Vec<Duration>,
    /// The first `tools/list`, from sending it.
    pub list_first: Duration,
    /// Median of the following ones.
    pub list_warm: Duration,
    /// Size of the `tools/list` answer line.
    pub list_bytes: usize,
    /// Tools listed.
    pub tools: usize,
    /// Server CPU time per `tools/list`, median.
    pub list_cpu: Duration,
    /// Peak RSS after `initialize`, before any list.
    pub idle_rss_kib: Option<u64>,
    /// Peak RSS after the lists.
    pub peak_rss_kib: Option<u64>,
    /// Resident memory after the lists: (anonymous, file-backed) KiB.
    pub rss_split_kib: Option<(u64, u64)>,
    /// A hash of the `tools/list` result, to compare servers.
    pub list_hash: Option<u64>,
}

/// One MCP server on the example document (the generated binary, or `cargo mcpgen serve`):
/// its calls over both transports, its memory and its start-up.
#[derive(Debug, Clone, Default)]
pub struct ExampleServer {
    /// Stdio, sequential.
    pub stdio_seq: Option<Measured>,
    /// Stdio, concurrency 32 (pipelined).
    pub stdio_conc: Option<Measured>,
    /// The stdio server's peak RSS.
    pub stdio_rss_kib: Option<u64>,
    /// The stdio server's resident memory at the end: (anonymous, file-backed) KiB.
    pub stdio_rss_split_kib: Option<(u64, u64)>,
    /// HTTP, sequential.
    pub http_seq: Option<Measured>,
    /// HTTP, concurrency 32.
    pub http_conc: Option<Measured>,
    /// The HTTP server's peak RSS.
    pub http_rss_kib: Option<u64>,
    /// The HTTP server's resident memory at the end: (anonymous, file-backed) KiB.
    pub http_rss_split_kib: Option<(u64, u64)>,
    /// Spawn to `initialize` answer over stdio, each run.
    pub first_answer_stdio: Vec<Duration>,
    /// Spawn to the first `tools/list` answer over stdio (sent right after `initialize`),
    /// each run.
    pub first_list_stdio: Vec<Duration>,
    /// Spawn to `initialize` answer over HTTP (listening line, then POST), each run.
    pub first_answer_http: Vec<Duration>,
    /// A hash of the `tools/list` result, to compare servers.
    pub list_hash: Option<u64>,
}

impl ExampleServer {
    /// The timed runs, for the machine-load warning.
    fn runs(&self) -> [&Option<Measured>; 4] {
        [
            &self.stdio_seq,
            &self.stdio_conc,
            &self.http_seq,
            &self.http_conc,
        ]
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Where.
    pub machine: Machine,
    /// `--quick`.
    pub quick: bool,
    /// The command that reproduces the run.
    pub command: String,
    /// How long the run took.
    pub total_time: Duration,
    /// Interleaved rounds of the overhead measurements.
    pub rounds: usize,
    /// Floor, sequential.
    pub floor_seq: Option<Measured>,
    /// Floor, concurrency 32.
    pub floor_conc: Option<Measured>,
    /// The upstream's peak RSS after the floor.
    pub upstream_rss_kib: Option<u64>,
    /// The generated example server.
    pub generated: ExampleServer,
    /// The example server's stripped binary.
    pub example_binary_bytes: Option<u64>,
    /// `cargo mcpgen serve` on the example's document.
    pub serve: ExampleServer,
    /// Load tests.
    pub load: Vec<LoadResult>,
    /// Generation runs per document.
    pub generation: Vec<(&'static str, Vec<Usage>)>,
    /// Tools in the generated GitHub crate.
    pub github_tools: Option<usize>,
    /// Compile cost.
    pub compile: Option<CompileFigures>,
    /// The generated GitHub server.
    pub large_server: Option<LargeServer>,
    /// `cargo mcpgen serve` on GitHub's document.
    pub serve_large: Option<LargeServer>,
    /// Parts that failed.
    pub errors: Vec<String>,
    /// Parts skipped, and why.
    pub notes: Vec<String>,
}

fn f_ms(d: Duration) -> String {
    let v = ms(d);
    if v < 10.0 {
        format!("{v:.3}")
    } else if v < 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn f_mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn f_ratio(value: f64, floor: f64) -> String {
    if floor > 0.0 && value.is_finite() {
        format!("×{:.2}", value / floor)
    } else {
        "–".to_owned()
    }
}

fn f_secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn opt<T>(value: Option<T>, f: impl Fn(T) -> String) -> String {
    value.map(f).unwrap_or_else(|| "–".to_owned())
}

/// A row of the overhead table: a label and (floor, stdio, HTTP) values as f64 plus text.
fn row(
    out: &mut String,
    label: &str,
    floor: Option<f64>,
    stdio: Option<f64>,
    http: Option<f64>,
    fmt: &dyn Fn(f64) -> String,
) {
    let cell = |v: Option<f64>| v.map(fmt).unwrap_or_else(|| "–".to_owned());
    let ratio = |v: Option<f64>| match (v, floor) {
        (Some(v), Some(f)) => f_ratio(v, f),
        _ => "–".to_owned(),
    };
    let _ = writeln!(
        out,
        "| {label} | {} | {} | {} | {} | {} |",
        cell(floor),
        cell(stdio),
        ratio(stdio),
        cell(http),
        ratio(http)
    );
}

/// The whole report.
pub fn markdown(r: &Results) -> String {
    let mut out = String::new();
    let m = &r.machine;
    let _ = writeln!(
        out,
        "## Figures{}\n",
        if r.quick { " (--quick)" } else { "" }
    );
    let _ = writeln!(
        out,
        "Machine: {} CPUs (`nproc`), {}, {:.1} GiB RAM, Linux {}; {}. Run {}, took {:.0} s. \
         Command: `{}`.\n",
        m.cpus,
        m.cpu_model,
        m.memory_kib as f64 / (1024.0 * 1024.0),
        m.kernel,
        m.rustc,
        m.date,
        r.total_time.as_secs_f64(),
        r.command
    );

    let busiest = [&r.floor_seq, &r.floor_conc]
        .into_iter()
        .chain(r.generated.runs())
        .chain(r.serve.runs())
        .flatten()
        .filter_map(Measured::foreign_load)
        .fold(0.0, f64::max);
    if busiest > 0.1 {
        let _ = writeln!(
            out,
            "**Warning: the machine was not quiet.** Other work kept up to {busiest:.2} CPUs busy \
             during a timed run (row \"CPUs kept busy by the rest of the machine\"), so these \
             figures are not comparable with a quiet run: throughput drops, and sequential \
             latency can even improve because busy CPUs wake up faster than idle ones.\n"
        );
    }
    overhead_table(&mut out, r);
    load_table(&mut out, r);
    generation_table(&mut out, r);
    compile_table(&mut out, r);
    large_server_table(&mut out, r);
    serve_table(&mut out, r);
    serve_large_table(&mut out, r);
    targets_table(&mut out, r);

    if !r.notes.is_empty() || !r.errors.is_empty() {
        let _ = writeln!(out, "### Notes\n");
        for note in &r.notes {
            let _ = writeln!(out, "- {note}");
        }
        for error in &r.errors {
            let _ = writeln!(out, "- **failed**: {error}");
        }
        out.push('\n');
    }
    out
}

fn overhead_table(out: &mut String, r: &Results) {
    let calls = |m: &Option<Measured>| m.as_ref().map_or(0, |m| m.calls);
    let _ = writeln!(
        out,
        "### Tool-call overhead\n\n`tools/call getPetById {{\"petId\":\"1\"}}` on the example server \
         ({} build) against the floor: the same `GET /v1/pets/1` sent straight to the same \
         upstream with the same HTTP client (reqwest, keep-alive). {} sequential calls and {} \
         calls at concurrency 32 each (stdio: pipelined on one pipe, answers matched by id; \
         HTTP: stateless, one POST per call on keep-alive connections), after a warm-up, in {} \
         round(s) that interleave floor, stdio and HTTP; figures pool the rounds. Upstream, \
         server and driver share the machine's CPUs. CPU times come from /proc/<pid>/stat (10 ms \
         ticks, summed over the runs). In the floor column, the CPU and RSS rows show the \
         upstream's own figures.\n",
        crate::build_profile(),
        calls(&r.floor_seq),
        calls(&r.floor_conc),
        r.rounds,
    );
    let _ = writeln!(
        out,
        "| figure | floor (direct GET) | MCP stdio | stdio ÷ floor | MCP HTTP | HTTP ÷ floor |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    let lat = |m: &Option<Measured>, q: f64| m.as_ref().map(|m| ms(m.run.latencies.quantile(q)));
    let ms3 = |v: f64| f_ms(Duration::from_secs_f64(v / 1000.0));
    row(
        out,
        "sequential p50 latency (ms)",
        lat(&r.floor_seq, 0.5),
        lat(&r.generated.stdio_seq, 0.5),
        lat(&r.generated.http_seq, 0.5),
        &ms3,
    );
    row(
        out,
        "sequential p99 latency (ms)",
        lat(&r.floor_seq, 0.99),
        lat(&r.generated.stdio_seq, 0.99),
        lat(&r.generated.http_seq, 0.99),
        &ms3,
    );
    let tput = |m: &Option<Measured>| m.as_ref().map(|m| m.run.throughput());
    row(
        out,
        "concurrency 32: calls/s",
        tput(&r.floor_conc),
        tput(&r.generated.stdio_conc),
        tput(&r.generated.http_conc),
        &|v| format!("{v:.0}"),
    );
    row(
        out,
        "concurrency 32: p50 latency (ms)",
        lat(&r.floor_conc, 0.5),
        lat(&r.generated.stdio_conc, 0.5),
        lat(&r.generated.http_conc, 0.5),
        &ms3,
    );
    row(
        out,
        "concurrency 32: p99 latency (ms)",
        lat(&r.floor_conc, 0.99),
        lat(&r.generated.stdio_conc, 0.99),
        lat(&r.generated.http_conc, 0.99),
        &ms3,
    );
    let server = |m: &Option<Measured>| m.as_ref().and_then(Measured::server_per_call).map(ms);
    let upstream = |m: &Option<Measured>| m.as_ref().map(|m| ms(m.upstream_per_call()));
    let driver = |m: &Option<Measured>| m.as_ref().map(|m| ms(m.driver_per_call()));
    row(
        out,
        "server CPU per call, sequential (ms; floor: upstream's)",
        upstream(&r.floor_seq),
        server(&r.generated.stdio_seq),
        server(&r.generated.http_seq),
        &ms3,
    );
    row(
        out,
        "server CPU per call, concurrency 32 (ms; floor: upstream's)",
        upstream(&r.floor_conc),
        server(&r.generated.stdio_conc),
        server(&r.generated.http_conc),
        &ms3,
    );
    let system = |m: &Option<Measured>| {
        m.as_ref()
            .and_then(Measured::server_system_per_call)
            .map(ms)
    };
    let switches = |m: &Option<Measured>| m.as_ref().and_then(Measured::server_switches_per_call);
    row(
        out,
        "  of which kernel (system) time, sequential (ms)",
        None,
        system(&r.generated.stdio_seq),
        system(&r.generated.http_seq),
        &ms3,
    );
    row(
        out,
        "  of which kernel (system) time, concurrency 32 (ms)",
        None,
        system(&r.generated.stdio_conc),
        system(&r.generated.http_conc),
        &ms3,
    );
    row(
        out,
        "server context switches per call, sequential",
        None,
        switches(&r.generated.stdio_seq),
        switches(&r.generated.http_seq),
        &|v| format!("{v:.1}"),
    );
    row(
        out,
        "server context switches per call, concurrency 32",
        None,
        switches(&r.generated.stdio_conc),
        switches(&r.generated.http_conc),
        &|v| format!("{v:.2}"),
    );
    row(
        out,
        "upstream CPU per call, concurrency 32 (ms)",
        upstream(&r.floor_conc),
        upstream(&r.generated.stdio_conc),
        upstream(&r.generated.http_conc),
        &ms3,
    );
    row(
        out,
        "driver CPU per call, concurrency 32 (ms)",
        driver(&r.floor_conc),
        driver(&r.generated.stdio_conc),
        driver(&r.generated.http_conc),
        &ms3,
    );
    let foreign = |m: &Option<Measured>| {
        m.as_ref()
            .and_then(Measured::foreign_load)
            .map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
    };
    for (label, floor, stdio, http) in [
        (
            "sequential",
            &r.floor_seq,
            &r.generated.stdio_seq,
            &r.generated.http_seq,
        ),
        (
            "concurrency 32",
            &r.floor_conc,
            &r.generated.stdio_conc,
            &r.generated.http_conc,
        ),
    ] {
        let _ = writeln!(
            out,
            "| CPUs kept busy by the rest of the machine, {label} | {} | {} | – | {} | – |",
            foreign(floor),
            foreign(stdio),
            foreign(http)
        );
    }
    let mib = |v: Option<u64>| v.map(|k| k as f64 / 1024.0);
    row(
        out,
        "peak RSS (MiB; floor: upstream's)",
        mib(r.upstream_rss_kib),
        mib(r.generated.stdio_rss_kib),
        mib(r.generated.http_rss_kib),
        &|v| format!("{v:.1}"),
    );
    let anon = |v: Option<(u64, u64)>| v.map(|(a, _)| a as f64 / 1024.0);
    let file = |v: Option<(u64, u64)>| v.map(|(_, f)| f as f64 / 1024.0);
    row(
        out,
        "RSS at the end: anonymous (MiB)",
        None,
        anon(r.generated.stdio_rss_split_kib),
        anon(r.generated.http_rss_split_kib),
        &|v| format!("{v:.1}"),
    );
    row(
        out,
        "RSS at the end: file-backed, mostly the binary's code (MiB)",
        None,
        file(r.generated.stdio_rss_split_kib),
        file(r.generated.http_rss_split_kib),
        &|v| format!("{v:.1}"),
    );
    let first = first_ms;
    row(
        out,
        &format!(
            "start to first answer, median of {} (ms)",
            r.generated.first_answer_stdio.len()
        ),
        None,
        first(&r.generated.first_answer_stdio),
        first(&r.generated.first_answer_http),
        &ms3,
    );
    row(
        out,
        &format!(
            "start to first `tools/list` answer, median of {} (ms)",
            r.generated.first_list_stdio.len()
        ),
        None,
        first(&r.generated.first_list_stdio),
        None,
        &ms3,
    );
    let _ = writeln!(
        out,
        "\nStart to first answer: spawn to the `initialize` answer; over HTTP, spawn, wait for \
         the `listening on` line, then POST `initialize`. Start to first `tools/list` answer: \
         the same stdio runs, `tools/list` sent right after `initialize` was answered. Example \
         server binary, stripped: {} bytes.\n",
        opt(r.example_binary_bytes, |b| b.to_string())
    );
}

/// How a figure is written in a table cell.
type Format<'a> = &'a dyn Fn(f64) -> String;

/// The median in milliseconds, none without samples.
fn first_ms(samples: &[Duration]) -> Option<f64> {
    (!samples.is_empty()).then(|| ms(median(samples)))
}

/// Whether two servers' `tools/list` results are the same, as words for the report.
fn same_list(a: Option<u64>, b: Option<u64>) -> &'static str {
    match (a, b) {
        (Some(a), Some(b)) if a == b => "identical",
        (Some(_), Some(_)) => "**different**",
        _ => "not compared",
    }
}

/// A row of a serve-against-generated table: (generated, serve) pairs, each followed by the
/// ratio serve ÷ generated.
fn pair_row(
    out: &mut String,
    label: &str,
    pairs: &[(Option<f64>, Option<f64>)],
    fmt: &dyn Fn(f64) -> String,
) {
    let cell = |v: Option<f64>| v.map(fmt).unwrap_or_else(|| "–".to_owned());
    // What else the machine did is no figure of either server: no ratio.
    let ratios = !label.starts_with("CPUs kept busy");
    let mut line = format!("| {label} |");
    for &(generated, serve) in pairs {
        let ratio = match (serve, generated) {
            (Some(s), Some(g)) if ratios => f_ratio(s, g),
            _ => "–".to_owned(),
        };
        let _ = write!(line, " {} | {} | {ratio} |", cell(generated), cell(serve));
    }
    let _ = writeln!(out, "{line}");
}

/// `cargo mcpgen serve` against the generated example server: calls, memory, start-up.
fn serve_table(out: &mut String, r: &Results) {
    let (g, s) = (&r.generated, &r.serve);
    if s.first_answer_stdio.is_empty() && s.stdio_seq.is_none() {
        return;
    }
    let _ = writeln!(
        out,
        "### `cargo mcpgen serve` against the generated server\n\n`cargo-mcpgen serve \
         examples/petstore/openapi.yaml --name petstore-mcp --base-url URL` (release build) maps \
         the document at start-up and serves it with the runtime the generated example compiles \
         in. Its calls are measured in the same rounds as the table above: same calls, same \
         upstream, interleaved with the floor and the generated server. Start-up as above. \
         `tools/list` results of the two: {}.\n",
        same_list(g.list_hash, s.list_hash)
    );
    let _ = writeln!(
        out,
        "| figure | generated stdio | serve stdio | serve ÷ generated | generated HTTP | serve HTTP | serve ÷ generated |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let ms3 = |v: f64| f_ms(Duration::from_secs_f64(v / 1000.0));
    let lat = |m: &Option<Measured>, q: f64| m.as_ref().map(|m| ms(m.run.latencies.quantile(q)));
    let tput = |m: &Option<Measured>| m.as_ref().map(|m| m.run.throughput());
    let cpu = |m: &Option<Measured>| m.as_ref().and_then(Measured::server_per_call).map(ms);
    let foreign = |m: &Option<Measured>| m.as_ref().and_then(Measured::foreign_load);
    let runs = s.first_answer_stdio.len();
    let first_label = format!("start to first answer, median of {runs} (ms)");
    let list_label = format!("start to first `tools/list` answer, median of {runs} (ms)");
    type Pick<'a> = &'a dyn Fn(&ExampleServer) -> Option<f64>;
    let rows: [(&str, Pick, Pick, Format); 13] = [
        (
            "sequential p50 latency (ms)",
            &|x| lat(&x.stdio_seq, 0.5),
            &|x| lat(&x.http_seq, 0.5),
            &ms3,
        ),
        (
            "sequential p99 latency (ms)",
            &|x| lat(&x.stdio_seq, 0.99),
            &|x| lat(&x.http_seq, 0.99),
            &ms3,
        ),
        (
            "concurrency 32: calls/s",
            &|x| tput(&x.stdio_conc),
            &|x| tput(&x.http_conc),
            &|v| format!("{v:.0}"),
        ),
        (
            "concurrency 32: p50 latency (ms)",
            &|x| lat(&x.stdio_conc, 0.5),
            &|x| lat(&x.http_conc, 0.5),
            &ms3,
        ),
        (
            "concurrency 32: p99 latency (ms)",
            &|x| lat(&x.stdio_conc, 0.99),
            &|x| lat(&x.http_conc, 0.99),
            &ms3,
        ),
        (
            "server CPU per call, sequential (ms)",
            &|x| cpu(&x.stdio_seq),
            &|x| cpu(&x.http_seq),
            &ms3,
        ),
        (
            "server CPU per call, concurrency 32 (ms)",
            &|x| cpu(&x.stdio_conc),
            &|x| cpu(&x.http_conc),
            &ms3,
        ),
        (
            "CPUs kept busy by the rest of the machine, concurrency 32",
            &|x| foreign(&x.stdio_conc),
            &|x| foreign(&x.http_conc),
            &|v| format!("{v:.2}"),
        ),
        (
            "peak RSS (MiB)",
            &|x| x.stdio_rss_kib.map(|k| k as f64 / 1024.0),
            &|x| x.http_rss_kib.map(|k| k as f64 / 1024.0),
            &|v| format!("{v:.1}"),
        ),
        (
            "RSS at the end: anonymous (MiB)",
            &|x| x.stdio_rss_split_kib.map(|(a, _)| a as f64 / 1024.0),
            &|x| x.http_rss_split_kib.map(|(a, _)| a as f64 / 1024.0),
            &|v| format!("{v:.1}"),
        ),
        (
            "RSS at the end: file-backed, mostly the binary's code (MiB)",
            &|x| x.stdio_rss_split_kib.map(|(_, f)| f as f64 / 1024.0),
            &|x| x.http_rss_split_kib.map(|(_, f)| f as f64 / 1024.0),
            &|v| format!("{v:.1}"),
        ),
        (
            &first_label,
            &|x| first_ms(&x.first_answer_stdio),
            &|x| first_ms(&x.first_answer_http),
            &ms3,
        ),
        (
            &list_label,
            &|x| first_ms(&x.first_list_stdio),
            &|_| None,
            &ms3,
        ),
    ];
    for (label, stdio, http, fmt) in rows {
        pair_row(out, label, &[(stdio(g), stdio(s)), (http(g), http(s))], fmt);
    }
    out.push('\n');
}

fn load_table(out: &mut String, r: &Results) {
    if r.load.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Load test (issue 5)\n\nA fresh example server per transport, calls at concurrency \
         64; each answer must carry the call's id and pet 1 (`structuredContent.name` = \
         \"Rex\"), exactly once.\n"
    );
    let _ = writeln!(
        out,
        "| transport | calls | correct | lost | wrong | duplicated | stray answers | calls/s | p50 (ms) | p99 (ms) | peak RSS (MiB) | verdict |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for l in &r.load {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} | {} |",
            l.transport,
            l.total,
            l.run.ok,
            l.run.lost + l.run.not_started,
            l.run.wrong,
            l.run.duplicate,
            l.strays,
            l.run.throughput(),
            f_ms(l.run.latencies.p50()),
            f_ms(l.run.latencies.p99()),
            opt(l.peak_rss_kib, f_mib),
            if l.passed() { "pass" } else { "**FAIL**" }
        );
        for e in &l.run.errors {
            let _ = writeln!(out, "\n  - {}: {e}", l.transport);
        }
    }
    out.push('\n');
}

fn generation_table(out: &mut String, r: &Results) {
    if r.generation.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Generation\n\n`target/release/cargo-mcpgen mcpgen generate SPEC --out DIR` into an \
         empty folder; peak memory from `wait4`'s rusage.\n"
    );
    let _ = writeln!(
        out,
        "| document | runs | wall, median (s) | wall, min (s) | CPU, median (s) | peak RSS (MiB) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for (name, usages) in &r.generation {
        if usages.is_empty() {
            continue;
        }
        let walls: Vec<Duration> = usages.iter().map(|u| u.wall).collect();
        let cpus: Vec<Duration> = usages.iter().map(|u| u.cpu).collect();
        let min = walls.iter().min().copied().unwrap_or_default();
        let rss = usages.iter().map(|u| u.max_rss_kib).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {} |",
            usages.len(),
            median(&walls).as_secs_f64(),
            min.as_secs_f64(),
            median(&cpus).as_secs_f64(),
            f_mib(rss)
        );
    }
    if let Some(n) = r.github_tools {
        let _ = writeln!(out, "\nThe GitHub crate has {n} tools.");
    }
    out.push('\n');
}

fn compile_table(out: &mut String, r: &Results) {
    let Some(c) = &r.compile else {
        return;
    };
    let _ = writeln!(
        out,
        "### Compile cost of the generated GitHub crate\n\nGenerated outside the workspace, \
         built with `cargo build --target-dir target/bench-gen`. The first build compiles the \
         dependencies unless the target folder already has them; the rebuild follows \
         `touch src/tools.rs`, so it is the generated crate alone, dependencies cached.\n"
    );
    let _ = writeln!(
        out,
        "| profile | first build (s) | rebuild, deps cached (s) | rebuild CPU (s) | rebuild peak RSS (MiB) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for b in &c.builds {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            b.profile,
            f_secs(b.first.wall),
            f_secs(b.rebuild.wall),
            f_secs(b.rebuild.cpu),
            f_mib(b.rebuild.max_rss_kib)
        );
    }
    let _ = writeln!(
        out,
        "\nStripped release binary: {}.\n",
        opt(c.stripped_release_bytes, |b| format!(
            "{b} bytes ({:.1} MiB)",
            b as f64 / (1024.0 * 1024.0)
        ))
    );
}

fn large_server_table(out: &mut String, r: &Results) {
    let Some(s) = &r.large_server else {
        return;
    };
    let _ = writeln!(
        out,
        "### The generated GitHub server ({} build, stdio)\n\nLatencies run from writing the \
         request to having read the whole answer line (before the driver parses it).\n\n\
         | figure | value |\n|---|---:|",
        s.build
    );
    let _ = writeln!(out, "| tools | {} |", s.tools);
    let _ = writeln!(
        out,
        "| start to first answer, median of {} (ms) | {} |",
        s.first_answer.len(),
        f_ms(median(&s.first_answer))
    );
    let _ = writeln!(
        out,
        "| start to first `tools/list` answer, median of {} (ms) | {} |",
        s.first_list.len(),
        f_ms(median(&s.first_list))
    );
    let _ = writeln!(out, "| first `tools/list` (ms) | {} |", f_ms(s.list_first));
    let _ = writeln!(
        out,
        "| later `tools/list`, median (ms) | {} |",
        f_ms(s.list_warm)
    );
    let _ = writeln!(
        out,
        "| `tools/list` answer (bytes) | {} ({:.1} MiB) |",
        s.list_bytes,
        s.list_bytes as f64 / (1024.0 * 1024.0)
    );
    let _ = writeln!(
        out,
        "| server CPU per `tools/list`, median (ms) | {} |",
        f_ms(s.list_cpu)
    );
    let _ = writeln!(
        out,
        "| peak RSS after `initialize` (MiB) | {} |",
        opt(s.idle_rss_kib, f_mib)
    );
    let _ = writeln!(
        out,
        "| peak RSS after the lists (MiB) | {} |",
        opt(s.peak_rss_kib, f_mib)
    );
    let _ = writeln!(
        out,
        "| RSS after the lists: anonymous / file-backed (MiB) | {} |\n",
        opt(s.rss_split_kib, |(a, f)| format!(
            "{} / {}",
            f_mib(a),
            f_mib(f)
        ))
    );
}

/// `cargo mcpgen serve` on GitHub's document against the generated GitHub server.
fn serve_large_table(out: &mut String, r: &Results) {
    let Some(s) = &r.serve_large else {
        return;
    };
    let g = r.large_server.as_ref();
    let _ = writeln!(
        out,
        "### `cargo mcpgen serve` on GitHub's document (stdio)\n\n`cargo-mcpgen serve \
         api.github.com.json --name github-mcp` (release build) against the generated GitHub \
         server{}, measured as in the table above. Serve reads and maps the 13 MB document before \
         it answers. `tools/list` results of the two: {}.\n",
        g.map(|g| format!(" ({} build)", g.build))
            .unwrap_or_default(),
        same_list(g.and_then(|g| g.list_hash), s.list_hash)
    );
    let _ = writeln!(
        out,
        "| figure | generated | serve | serve ÷ generated |\n|---|---:|---:|---:|"
    );
    let ms3 = |v: f64| f_ms(Duration::from_secs_f64(v / 1000.0));
    let mib = |k: Option<u64>| k.map(|k| k as f64 / 1024.0);
    let runs = s.first_answer.len();
    let first_label = format!("start to first answer, median of {runs} (ms)");
    let list_label = format!("start to first `tools/list` answer, median of {runs} (ms)");
    type Pick<'a> = &'a dyn Fn(&LargeServer) -> Option<f64>;
    let rows: [(&str, Pick, Format); 10] = [
        ("tools", &|x| Some(x.tools as f64), &|v| format!("{v:.0}")),
        (&first_label, &|x| first_ms(&x.first_answer), &ms3),
        (&list_label, &|x| first_ms(&x.first_list), &ms3),
        (
            "first `tools/list`, from sending it (ms)",
            &|x| Some(ms(x.list_first)),
            &ms3,
        ),
        (
            "later `tools/list`, median (ms)",
            &|x| Some(ms(x.list_warm)),
            &ms3,
        ),
        (
            "`tools/list` answer (bytes)",
            &|x| Some(x.list_bytes as f64),
            &|v| format!("{v:.0}"),
        ),
        (
            "peak RSS after `initialize` (MiB)",
            &|x| mib(x.idle_rss_kib),
            &|v| format!("{v:.1}"),
        ),
        (
            "peak RSS after the lists (MiB)",
            &|x| mib(x.peak_rss_kib),
            &|v| format!("{v:.1}"),
        ),
        (
            "RSS after the lists: anonymous (MiB)",
            &|x| x.rss_split_kib.map(|(a, _)| a as f64 / 1024.0),
            &|v| format!("{v:.1}"),
        ),
        (
            "RSS after the lists: file-backed (MiB)",
            &|x| x.rss_split_kib.map(|(_, f)| f as f64 / 1024.0),
            &|v| format!("{v:.1}"),
        ),
    ];
    for (label, pick, fmt) in rows {
        pair_row(out, label, &[(g.and_then(pick), pick(s))], fmt);
    }
    out.push('\n');
}

/// One target: what, the limit, the figure, and whether it is met (None: not measured).
struct TargetRow {
    what: &'static str,
    limit: String,
    measured: String,
    met: Option<bool>,
}

fn targets(r: &Results) -> Vec<TargetRow> {
    let mut rows = Vec::new();
    let floor_p50 = r.floor_seq.as_ref().map(|m| m.run.latencies.p50());
    let stdio_p50 = r
        .generated
        .stdio_seq
        .as_ref()
        .map(|m| m.run.latencies.p50());
    rows.push(TargetRow {
        what: "stdio p50 latency",
        limit: opt(floor_p50, |f| {
            format!(
                "≤ floor p50 + 0.10 ms = {} ms",
                f_ms(f + Duration::from_micros(100))
            )
        }),
        measured: opt(stdio_p50, |v| format!("{} ms", f_ms(v))),
        met: floor_p50
            .zip(stdio_p50)
            .map(|(f, s)| s <= f + Duration::from_micros(100)),
    });
    for (what, m) in [
        (
            "server CPU per call, stdio (concurrency 32)",
            &r.generated.stdio_conc,
        ),
        (
            "server CPU per call, stdio (sequential)",
            &r.generated.stdio_seq,
        ),
        (
            "server CPU per call, HTTP (concurrency 32)",
            &r.generated.http_conc,
        ),
    ] {
        let v = m.as_ref().and_then(Measured::server_per_call);
        rows.push(TargetRow {
            what,
            limit: "≤ 0.050 ms".to_owned(),
            measured: opt(v, |v| format!("{} ms", f_ms(v))),
            met: v.map(|v| v <= Duration::from_micros(50)),
        });
    }
    let floor_tput = r.floor_conc.as_ref().map(|m| m.run.throughput());
    let http_tput = r.generated.http_conc.as_ref().map(|m| m.run.throughput());
    rows.push(TargetRow {
        what: "HTTP throughput at concurrency 32",
        limit: opt(floor_tput, |f| {
            format!("≥ 20% of the floor's = {:.0} calls/s", f * 0.2)
        }),
        measured: match (http_tput, floor_tput) {
            (Some(h), Some(f)) => format!("{h:.0} calls/s ({:.0}% of the floor's)", 100.0 * h / f),
            _ => "–".to_owned(),
        },
        met: http_tput.zip(floor_tput).map(|(h, f)| h >= 0.2 * f),
    });
    let example_rss = [r.generated.stdio_rss_kib, r.generated.http_rss_kib]
        .into_iter()
        .chain(r.load.iter().map(|l| l.peak_rss_kib))
        .flatten()
        .max();
    rows.push(TargetRow {
        what: "peak RSS, example server (largest of all its runs)",
        limit: "≤ 15 MiB".to_owned(),
        measured: opt(example_rss, |k| format!("{} MiB", f_mib(k))),
        met: example_rss.map(|k| k <= 15 * 1024),
    });
    let github_rss = r.large_server.as_ref().and_then(|s| s.peak_rss_kib);
    rows.push(TargetRow {
        what: "peak RSS, GitHub server (after tools/list)",
        limit: "≤ 40 MiB".to_owned(),
        measured: opt(github_rss, |k| format!("{} MiB", f_mib(k))),
        met: github_rss.map(|k| k <= 40 * 1024),
    });
    let first = (!r.generated.first_answer_stdio.is_empty())
        .then(|| median(&r.generated.first_answer_stdio));
    rows.push(TargetRow {
        what: "first answer, example (stdio, median)",
        limit: "≤ 10 ms".to_owned(),
        measured: opt(first, |v| format!("{} ms", f_ms(v))),
        met: first.map(|v| v <= Duration::from_millis(10)),
    });
    let first = r
        .large_server
        .as_ref()
        .filter(|s| !s.first_answer.is_empty())
        .map(|s| median(&s.first_answer));
    rows.push(TargetRow {
        what: "first answer, GitHub (stdio, median)",
        limit: "≤ 20 ms".to_owned(),
        measured: opt(first, |v| format!("{} ms", f_ms(v))),
        met: first.map(|v| v <= Duration::from_millis(20)),
    });
    let serve_large = r.serve_large.as_ref();
    for (what, samples, limit) in [
        (
            "serve, example: spawn to `initialize` answered (stdio, median)",
            Some(&r.serve.first_answer_stdio),
            Duration::from_millis(100),
        ),
        (
            "serve, example: spawn to first `tools/list` answered (stdio, median)",
            Some(&r.serve.first_list_stdio),
            Duration::from_millis(100),
        ),
        (
            "serve, GitHub: spawn to `initialize` answered (stdio, median)",
            serve_large.map(|s| &s.first_answer),
            Duration::from_secs(1),
        ),
        (
            "serve, GitHub: spawn to first `tools/list` answered (stdio, median)",
            serve_large.map(|s| &s.first_list),
            Duration::from_secs(1),
        ),
    ] {
        let v = samples.filter(|s| !s.is_empty()).map(|s| median(s));
        rows.push(TargetRow {
            what,
            limit: format!("≤ {} ms", limit.as_millis()),
            measured: opt(v, |v| format!("{} ms", f_ms(v))),
            met: v.map(|v| v <= limit),
        });
    }
    let gen_github = r
        .generation
        .iter()
        .find(|(name, u)| name.starts_with("GitHub") && !u.is_empty())
        .map(|(_, u)| median(&u.iter().map(|u| u.wall).collect::<Vec<_>>()));
    rows.push(TargetRow {
        what: "generation of GitHub (release CLI, median)",
        limit: "≤ 0.5 s".to_owned(),
        measured: opt(gen_github, |v| format!("{:.3} s", v.as_secs_f64())),
        met: gen_github.map(|v| v <= Duration::from_millis(500)),
    });
    let debug_rebuild = r
        .compile
        .as_ref()
        .and_then(|c| c.builds.iter().find(|b| b.profile == "debug"))
        .map(|b| b.rebuild.wall);
    rows.push(TargetRow {
        what: "GitHub crate debug build, deps cached",
        limit: "≤ 60 s".to_owned(),
        measured: opt(debug_rebuild, |v| format!("{:.1} s", v.as_secs_f64())),
        met: debug_rebuild.map(|v| v <= Duration::from_secs(60)),
    });
    for l in &r.load {
        rows.push(TargetRow {
            what: if l.transport == "stdio" {
                "load test, stdio: every call answered once, correctly"
            } else {
                "load test, HTTP: every call answered once, correctly"
            },
            limit: format!("{} of {}", l.total, l.total),
            measured: format!(
                "{} correct, {} lost, {} wrong, {} duplicated",
                l.run.ok,
                l.run.lost + l.run.not_started,
                l.run.wrong,
                l.run.duplicate + l.strays
            ),
            met: Some(l.passed()),
        });
    }
    rows
}

fn targets_table(out: &mut String, r: &Results) {
    let _ = writeln!(
        out,
        "### Targets\n\n| target | limit | measured | met |\n|---|---|---|---|"
    );
    for t in targets(r) {
        let met = match t.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "not measured",
        };
        let _ = writeln!(out, "| {} | {} | {} | {met} |", t.what, t.limit, t.measured);
    }
    out.push('\n');
}

/// One profile as Markdown: totals, top functions by self and inclusive cost, and crates.
pub fn profile_markdown(label: &str, p: &Profile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## {label}\n\nInstructions per call: {:.0}.\n\n### Top functions by self cost\n\n\
         | instructions per call | share | function |\n|---:|---:|---|",
        p.total
    );
    let share = |v: f64| 100.0 * v / p.total.max(1.0);
    for (name, v) in p.exclusive.iter().take(30) {
        let _ = writeln!(out, "| {v:.0} | {:.1}% | `{}` |", share(*v), shorten(name));
    }
    let _ = writeln!(
        out,
        "\n### By crate (self cost)\n\n| instructions per call | share | crate |\n|---:|---:|---|"
    );
    for (name, v) in p.by_crate.iter().take(20) {
        let _ = writeln!(out, "| {v:.0} | {:.1}% | {name} |", share(*v));
    }
    let _ = writeln!(
        out,
        "\n### Top functions by inclusive cost\n\n| instructions per call | share | function |\n|---:|---:|---|"
    );
    for (name, v) in p.inclusive.iter().take(60) {
        let _ = writeln!(out, "| {v:.0} | {:.1}% | `{}` |", share(*v), shorten(name));
    }
    out
}

/// One perf profile as Markdown: shares by object (kernel, binary, libc) and top symbols.
pub fn perf_markdown(label: &str, samples: &Samples) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## {label}\n\n| share of samples | object |\n|---:|---|"
    );
    for (share, name) in samples.by_object.iter().take(8) {
        let _ = writeln!(out, "| {share:.1}% | `{}` |", shorten(name));
    }
    let _ = writeln!(
        out,
        "\n| share of samples | object and symbol |\n|---:|---|"
    );
    for (share, name) in samples.by_symbol.iter().take(30) {
        let _ = writeln!(out, "| {share:.1}% | `{}` |", shorten(name));
    }
    out
}

fn shorten(name: &str) -> String {
    let name = name.replace('|', "\\|");
    if name.chars().count() > 160 {
        let head: String = name.chars().take(157).collect();
        format!("{head}...")
    } else {
        name
    }
}
