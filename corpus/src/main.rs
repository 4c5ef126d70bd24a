//! `mcpgen-corpus`: runs the generator over a corpus of OpenAPI documents and checks every tool.
//!
//! Documents run in worker processes (this binary with `--worker`), each document in a thread
//! with a large, bounded stack and under `catch_unwind`: a panic is reported by the worker, and
//! a stack overflow, abort or exhausted memory ends only that worker, which is replaced, and
//! is counted as a crash of that document.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mcpgen_corpus::check::Finding;
use mcpgen_corpus::document::{self, DocResult};
use mcpgen_corpus::{report, select};

const USAGE: &str = "\
usage: mcpgen-corpus [--manifest MANIFEST.tsv | PATH] [--limit N] [--sample N [--seed S]]
                     [--jobs N] [--json OUT] [--generate-every N] [--slow SECS] [--timeout SECS]
                     [--stack-mib N] [--memory-mib N] [--fail-lines N] [--show TOOL]

  PATH               a document, or a folder searched for .json, .yaml and .yml files
  --manifest FILE    the documents listed in FILE's first column (relative to FILE's folder)
  --limit N          only the first N documents (after sampling)
  --sample N         N documents chosen at random with --seed S (default 0), deterministically
  --jobs N           documents run in parallel (default 2)
  --json OUT         write one JSON line per document to OUT
  --generate-every N also run generate_crate on every Nth document (default 1: all; 0: none)
  --slow SECS        report documents still running after SECS seconds (default 10)
  --timeout SECS     stop a document after SECS seconds and count it as failed (default 600)
  --stack-mib N      stack of the thread that runs a document (default 64; the CLI has 8)
  --memory-mib N     address space of each worker process (default 8192; 0: unlimited); a
                     document that needs more is counted as failed (out-of-memory)
  --fail-lines N     FAIL lines printed per document and kind (default 3)
  --show TOOL        print the tool named TOOL as tools/list would list it, for every document
                     that has one (mapped with skip_broken), instead of checking anything

Exit status: 0 when no document failed (no panic, crash, time-out, internal error, failed
generation or invalid tool; documents rejected with a located error do not count), 1 otherwise,
2 on a usage error.";

/// Bytes of a worker's standard error kept for the crash report.
const STDERR_TAIL_BYTES: usize = 16 * 1024;

#[derive(Debug)]
struct Args {
    manifest: Option<PathBuf>,
    path: Option<PathBuf>,
    limit: Option<usize>,
    sample: Option<usize>,
    seed: u64,
    jobs: usize,
    json: Option<PathBuf>,
    generate_every: usize,
    slow: Duration,
    timeout: Duration,
    stack_mib: usize,
    memory_mib: usize,
    fail_lines: usize,
    show: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        manifest: None,
        path: None,
        limit: None,
        sample: None,
        seed: 0,
        jobs: 2,
        json: None,
        generate_every: 1,
        slow: Duration::from_secs(10),
        timeout: Duration::from_secs(600),
        stack_mib: 64,
        memory_mib: 8192,
        fail_lines: 3,
        show: None,
    };
    fn value<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse()
            .map_err(|_| format!("{flag}: cannot read {v:?} as a number"))
    }
    fn text(flag: &str, v: Option<String>) -> Result<String, String> {
        v.ok_or_else(|| format!("{flag} needs a value"))
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--manifest" => out.manifest = Some(text("--manifest", args.next())?.into()),
            "--json" => out.json = Some(text("--json", args.next())?.into()),
            "--show" => out.show = Some(text("--show", args.next())?),
            "--limit" => out.limit = Some(value("--limit", args.next())?),
            "--sample" => out.sample = Some(value("--sample", args.next())?),
            "--seed" => out.seed = value("--seed", args.next())?,
            "--jobs" => out.jobs = value::<usize>("--jobs", args.next())?.max(1),
            "--generate-every" => out.generate_every = value("--generate-every", args.next())?,
            "--slow" => out.slow = Duration::from_secs(value("--slow", args.next())?),
            "--timeout" => out.timeout = Duration::from_secs(value("--timeout", args.next())?),
            "--stack-mib" => out.stack_mib = value::<usize>("--stack-mib", args.next())?.max(1),
            "--memory-mib" => out.memory_mib = value("--memory-mib", args.next())?,
            "--fail-lines" => out.fail_lines = value("--fail-lines", args.next())?,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path => {
                if out.path.is_some() {
                    return Err("give one PATH".into());
                }
                out.path = Some(PathBuf::from(path));
            }
        }
    }
    if out.manifest.is_some() == out.path.is_some() {
        return Err("give either --manifest FILE or a PATH".into());
    }
    Ok(out)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--worker") {
        let stack_mib = args.nth(1).and_then(|n| n.parse().ok()).unwrap_or(64);
        return worker(stack_mib);
    }
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("mcpgen-corpus: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = documents(&args).and_then(|docs| match &args.show {
        Some(tool) => show(&docs, tool),
        None => supervise(&args, docs),
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("mcpgen-corpus: {e}");
            ExitCode::from(2)
        }
    }
}

/// The documents the arguments select.
fn documents(args: &Args) -> Result<Vec<PathBuf>, String> {
    let mut docs = match (&args.manifest, &args.path) {
        (Some(manifest), _) => {
            select::from_manifest(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?
        }
        (None, Some(path)) => {
            select::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?
        }
        (None, None) => unreachable!("parse_args requires one"),
    };
    if let Some(n) = args.sample {
        docs = select::sample(docs, n, args.seed);
    }
    if let Some(n) = args.limit {
        docs.truncate(n);
    }
    Ok(docs)
}

/// Prints the tool named `name` of every document that has one; false when none has.
fn show(docs: &[PathBuf], name: &str) -> Result<bool, String> {
    let settings = mcpgen_codegen::Settings::new().skip_broken(true);
    let mut found = false;
    for path in docs {
        let Ok(mapped) = mcpgen_codegen::map_document(path, &settings) else {
            continue;
        };
        for tool in mapped.api.tools.iter().filter(|t| t.name == name) {
            found = true;
            let listed = document::listed_tool(tool);
            let text = serde_json::to_string_pretty(&listed).map_err(|e| e.to_string())?;
            println!("// {}\n{text}", path.display());
        }
    }
    if !found {
        eprintln!("mcpgen-corpus: no document has a tool named {name:?}");
    }
    Ok(found)
}

/// Writes one line of the worker protocol: a tag, a tab, and a JSON result.
fn send(out: &Mutex<io::Stdout>, tag: &str, result: &DocResult) -> io::Result<()> {
    let mut line = format!("{tag}\t");
    line.push_str(&serde_json::to_string(result).map_err(io::Error::from)?);
    line.push('\n');
    let mut out = lock(out);
    out.write_all(line.as_bytes())?;
    out.flush()
}

/// Reads `<generate 0|1>\t<path>` lines; for each, runs the document in a thread with a stack
/// of `stack_mib` MiB and answers with `S\t<stage>\t<json>` lines as stages start, then one
/// `R\t<json>` line with the result.
fn worker(stack_mib: usize) -> ExitCode {
    document::install_panic_hook();
    let stdout = Arc::new(Mutex::new(io::stdout()));
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Some((generate, path)) = line.split_once('\t') else {
            continue;
        };
        let path = PathBuf::from(path);
        let generate = generate == "1";
        let doc = path.clone();
        let out = Arc::clone(&stdout);
        let result = thread::Builder::new()
            .name("document".into())
            .stack_size(stack_mib * 1024 * 1024)
            .spawn(move || {
                document::run_document_observed(&doc, generate, &mut |stage, partial| {
                    let _ = send(&out, &format!("S\t{stage}"), partial);
                })
            })
            .map_err(|e| format!("cannot start the document thread: {e}"))
            .and_then(|handle| {
                handle
                    .join()
                    .map_err(|_| "the document thread panicked outside the checks".to_owned())
            })
            .unwrap_or_else(|message| {
                let mut result = DocResult::new(&path);
                result.failures.push(Finding::new("panic", message));
                result.settle();
                result
            });
        if send(&stdout, "R", &result).is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

/// Where a worker was when it stopped answering, and why it is taken to have stopped.
struct Lost {
    stage: String,
    partial: Option<Box<DocResult>>,
    why: String,
}

/// One worker process and the pipes to it.
struct Worker {
    child: Arc<Mutex<Child>>,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: JoinHandle<String>,
}

impl Worker {
    fn spawn(exe: &Path, stack_mib: usize, memory_mib: usize) -> io::Result<Self> {
        let mut command = if memory_mib == 0 {
            Command::new(exe)
        } else {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(r#"ulimit -v "$1" && shift && exec "$0" "$@""#)
                .arg(exe)
                .arg((memory_mib * 1024).to_string());
            sh
        };
        let mut child = command
            .arg("--worker")
            .arg(stack_mib.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut stderr = child.stderr.take().expect("piped");
        let stderr = thread::spawn(move || {
            let mut tail = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > STDERR_TAIL_BYTES {
                    tail.drain(..tail.len() - STDERR_TAIL_BYTES);
                }
            }
            String::from_utf8_lossy(&tail).into_owned()
        });
        Ok(Self {
            child: Arc::new(Mutex::new(child)),
            stdin,
            stdout,
            stderr,
        })
    }

    /// Runs one document.
    fn run(&mut self, path: &Path, generate: bool) -> Result<DocResult, Lost> {
        let mut lost = Lost {
            stage: "start".to_owned(),
            partial: None,
            why: String::new(),
        };
        if let Err(e) = writeln!(self.stdin, "{}\t{}", u8::from(generate), path.display())
            .and_then(|()| self.stdin.flush())
        {
            lost.why = format!("cannot write to the worker: {e}");
            return Err(lost);
        }
        loop {
            let mut line = String::new();
            match self.stdout.read_line(&mut line) {
                Ok(0) => {
                    lost.why = "the worker exited".to_owned();
                    return Err(lost);
                }
                Ok(_) => {}
                Err(e) => {
                    lost.why = format!("cannot read from the worker: {e}");
                    return Err(lost);
                }
            }
            if let Some(json) = line.strip_prefix("R\t") {
                return serde_json::from_str(json).map_err(|e| {
                    lost.why = format!("the worker's answer is unreadable: {e}");
                    lost
                });
            }
            let Some((stage, json)) = line
                .strip_prefix("S\t")
                .and_then(|rest| rest.split_once('\t'))
            else {
                lost.why = format!("the worker sent {:?}", report::clip(&line, 200));
                return Err(lost);
            };
            lost.stage = stage.to_owned();
            lost.partial = serde_json::from_str(json).ok().map(Box::new);
        }
    }

    /// Ends the worker and says how it ended, with the end of its standard error.
    fn reap(self) -> String {
        drop(self.stdin);
        let status = {
            let mut child = lock(&self.child);
            let _ = child.kill();
            child.wait()
        };
        let tail = self.stderr.join().unwrap_or_default();
        let status = match status {
            Ok(status) => status.to_string(),
            Err(e) => format!("unknown status ({e})"),
        };
        format!("worker ended with {status}: {}", tail.trim())
    }

    fn finish(self) {
        drop(self.stdin);
        let _ = lock(&self.child).wait();
        let _ = self.stderr.join();
    }
}

/// The kind of a crash and what it was, from how the worker ended and the end of its
/// standard error.
fn crash_kind(ended: &str) -> (&'static str, &'static str) {
    if ended.contains("has overflowed its stack") {
        ("crash", "stack overflow")
    } else if ended.contains("memory allocation of") || ended.contains("SIGKILL") {
        (
            "out-of-memory",
            "out of memory (the --memory-mib limit, or the system's out-of-memory killer)",
        )
    } else {
        ("crash", "the worker process died")
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What one job is running, for the watchdog.
struct Running {
    index: usize,
    started: Instant,
    child: Arc<Mutex<Child>>,
    slow_reported: bool,
    timed_out: bool,
}

struct Shared<'a> {
    args: &'a Args,
    exe: PathBuf,
    docs: Vec<PathBuf>,
    next: AtomicUsize,
    done: AtomicUsize,
    finished: AtomicBool,
    slots: Vec<Mutex<Option<Running>>>,
    results: Mutex<Vec<Option<DocResult>>>,
    started: Instant,
}

fn supervise(args: &Args, docs: Vec<PathBuf>) -> Result<bool, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut json = match &args.json {
        Some(path) => Some(io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
        )),
        None => None,
    };
    eprintln!(
        "mcpgen-corpus: {} documents, {} jobs",
        docs.len(),
        args.jobs
    );

    let shared = Shared {
        args,
        exe,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        finished: AtomicBool::new(false),
        slots: (0..args.jobs).map(|_| Mutex::new(None)).collect(),
        results: Mutex::new(vec![None; docs.len()]),
        docs,
        started: Instant::now(),
    };
    let spawn_error = thread::scope(|scope| {
        let watchdog = scope.spawn(|| watch(&shared));
        let jobs: Vec<_> = (0..args.jobs)
            .map(|slot| {
                let shared = &shared;
                scope.spawn(move || job(shared, slot))
            })
            .collect();
        let errors: Vec<String> = jobs
            .into_iter()
            .filter_map(|j| j.join().expect("job threads do not panic").err())
            .collect();
        shared.finished.store(true, Ordering::SeqCst);
        watchdog.join().expect("the watchdog does not panic");
        errors.into_iter().next()
    });
    if let Some(e) = spawn_error {
        return Err(e);
    }
    let elapsed = shared.started.elapsed();
    let results: Vec<DocResult> = shared
        .results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect();
    if let Some(out) = &mut json {
        for result in &results {
            serde_json::to_writer(&mut *out, result).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
    }
    print!("{}", report::summary(&results, elapsed, args.jobs));
    Ok(report::clean(&results))
}

fn job(shared: &Shared<'_>, slot: usize) -> Result<(), String> {
    let args = shared.args;
    let mut worker: Option<Worker> = None;
    loop {
        let index = shared.next.fetch_add(1, Ordering::SeqCst);
        let Some(path) = shared.docs.get(index) else {
            break;
        };
        let generate = args.generate_every != 0 && index.is_multiple_of(args.generate_every);
        let current = match worker.as_mut() {
            Some(w) => w,
            None => worker.insert(
                Worker::spawn(&shared.exe, args.stack_mib, args.memory_mib)
                    .map_err(|e| format!("cannot start a worker process: {e}"))?,
            ),
        };
        let started = Instant::now();
        *lock(&shared.slots[slot]) = Some(Running {
            index,
            started,
            child: Arc::clone(&current.child),
            slow_reported: false,
            timed_out: false,
        });
        let outcome = current.run(path, generate);
        let timed_out = lock(&shared.slots[slot])
            .take()
            .is_some_and(|r| r.timed_out);
        let result = match outcome {
            Ok(result) => {
                if timed_out {
                    worker.take().map(Worker::reap);
                }
                result
            }
            Err(lost) => {
                let ended = worker.take().map(Worker::reap).unwrap_or_default();
                let mut result = lost
                    .partial
                    .map_or_else(|| DocResult::new(path), |partial| *partial);
                let stage = lost.stage;
                let (kind, message) = if timed_out {
                    (
                        "timeout",
                        format!(
                            "stopped after {} s during {stage}; {ended}",
                            args.timeout.as_secs()
                        ),
                    )
                } else {
                    let (kind, what) = crash_kind(&ended);
                    (
                        kind,
                        format!("{what} during {stage}: {}; {ended}", lost.why),
                    )
                };
                result.failures.push(Finding::new(kind, message));
                result.total_ms = started.elapsed().as_secs_f64() * 1000.0;
                result.settle();
                result
            }
        };
        record(shared, index, result);
    }
    if let Some(w) = worker {
        w.finish();
    }
    Ok(())
}

fn record(shared: &Shared<'_>, index: usize, result: DocResult) {
    let lines = report::failure_lines(&result, shared.args.fail_lines);
    if !lines.is_empty() {
        let mut out = io::stdout().lock();
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
    lock(&shared.results)[index] = Some(result);
    let done = shared.done.fetch_add(1, Ordering::SeqCst) + 1;
    if done.is_multiple_of(250) {
        eprintln!(
            "mcpgen-corpus: {done}/{} documents, {:.0} s",
            shared.docs.len(),
            shared.started.elapsed().as_secs_f64()
        );
    }
}

fn watch(shared: &Shared<'_>) {
    while !shared.finished.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(250));
        for slot in &shared.slots {
            let mut slot = lock(slot);
            let Some(running) = slot.as_mut() else {
                continue;
            };
            let elapsed = running.started.elapsed();
            if elapsed >= shared.args.slow && !running.slow_reported {
                running.slow_reported = true;
                eprintln!(
                    "SLOW {}: still running after {} s",
                    shared.docs[running.index].display(),
                    elapsed.as_secs()
                );
            }
            if elapsed >= shared.args.timeout && !running.timed_out {
                running.timed_out = true;
                let _ = lock(&running.child).kill();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn arguments() {
        let args = parse(&["--manifest", "m.tsv", "--jobs", "0", "--sample", "5"]).unwrap();
        assert_eq!(args.manifest, Some(PathBuf::from("m.tsv")));
        assert_eq!(args.jobs, 1);
        assert_eq!(args.sample, Some(5));
        assert_eq!(args.memory_mib, 8192);
        assert_eq!(
            parse(&["doc.json"]).unwrap().path,
            Some(PathBuf::from("doc.json"))
        );
        assert!(parse(&[]).is_err());
        assert!(parse(&["a", "b"]).is_err());
        assert!(parse(&["a", "--manifest", "m"]).is_err());
        assert!(parse(&["a", "--limit", "x"]).is_err());
        assert!(parse(&["a", "--bogus"]).is_err());
    }

    #[test]
    fn crash_kinds() {
        assert_eq!(
            crash_kind(
                "worker ended with signal: 6 (SIGABRT): thread 'document' has overflowed its stack"
            )
            .0,
            "crash"
        );
        assert_eq!(
            crash_kind(
                "worker ended with signal: 6 (SIGABRT): memory allocation of 8 bytes failed"
            )
            .0,
            "out-of-memory"
        );
        assert_eq!(
            crash_kind("worker ended with signal: 9 (SIGKILL): ").0,
            "out-of-memory"
        );
    }
}
