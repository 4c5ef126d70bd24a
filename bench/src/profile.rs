//! Where a call's instructions go: the example server runs under `valgrind --tool=callgrind`
//! twice, with a few and with many calls; the difference, per call, leaves out start-up and
//! first-call work (schema compilation, the first connection). Functions and crates are
//! ranked by instructions per call, both self cost and inclusive cost.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::drive::{self, Target};
use crate::http::{HttpServerProcess, McpHttp};
use crate::stdio::StdioServer;

/// Instructions per call, by function.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Total instructions per call.
    pub total: f64,
    /// Self cost per call, largest first.
    pub exclusive: Vec<(String, f64)>,
    /// Inclusive cost per call, largest first.
    pub inclusive: Vec<(String, f64)>,
    /// Self cost per call summed by crate, largest first.
    pub by_crate: Vec<(String, f64)>,
}

/// What one profile measures.
#[derive(Debug, Clone, Copy)]
pub struct ProfileSpec<'a> {
    /// Names the callgrind files.
    pub label: &'a str,
    /// Calls in the baseline run (start-up and first-call work).
    pub baseline: u64,
    /// Calls profiled beyond the baseline.
    pub calls: u64,
    /// Calls in flight.
    pub concurrency: usize,
    /// Streamable HTTP, else stdio.
    pub http: bool,
}

/// Profiles `spec.calls` calls (after as many warm-up calls as the baseline run makes).
pub async fn profile_calls(
    server_bin: &Path,
    upstream_url: &str,
    out_dir: &Path,
    spec: ProfileSpec<'_>,
) -> Result<Profile, String> {
    let ProfileSpec {
        label,
        baseline,
        calls,
        concurrency,
        http,
    } = spec;
    let small = out_dir.join(format!("callgrind-{label}-{baseline}.out"));
    let large = out_dir.join(format!("callgrind-{label}-{}.out", baseline + calls));
    for (file, n) in [(&small, baseline), (&large, baseline + calls)] {
        run_under_callgrind(
            server_bin,
            upstream_url,
            file,
            out_dir,
            n,
            concurrency,
            http,
        )
        .await?;
    }
    let (small_total, small_ex) = annotate(&small, false)?;
    let (large_total, large_ex) = annotate(&large, false)?;
    let (_, small_in) = annotate(&small, true)?;
    let (_, large_in) = annotate(&large, true)?;
    let per_call = |a: &HashMap<String, u64>, b: &HashMap<String, u64>| {
        let mut diff: Vec<(String, f64)> = b
            .iter()
            .map(|(name, &v)| {
                let before = a.get(name).copied().unwrap_or(0);
                (name.clone(), (v as f64 - before as f64) / calls as f64)
            })
            .filter(|(_, v)| *v > 0.0)
            .collect();
        diff.sort_by(|x, y| y.1.total_cmp(&x.1));
        diff
    };
    let exclusive = per_call(&small_ex, &large_ex);
    let mut crates: HashMap<String, f64> = HashMap::new();
    for (name, v) in &exclusive {
        *crates.entry(crate_of(name)).or_default() += v;
    }
    let mut by_crate: Vec<(String, f64)> = crates.into_iter().collect();
    by_crate.sort_by(|x, y| y.1.total_cmp(&x.1));
    Ok(Profile {
        total: (large_total as f64 - small_total as f64) / calls as f64,
        exclusive,
        inclusive: per_call(&small_in, &large_in),
        by_crate,
    })
}

async fn run_under_callgrind(
    server_bin: &Path,
    upstream_url: &str,
    out_file: &Path,
    out_dir: &Path,
    calls: u64,
    concurrency: usize,
    http: bool,
) -> Result<(), String> {
    let _ = std::fs::remove_file(out_file);
    let out_arg = format!("--callgrind-out-file={}", out_file.display());
    let launcher = [
        "valgrind",
        "--tool=callgrind",
        out_arg.as_str(),
        "--dump-instr=no",
    ];
    let log = out_dir.join("logs").join("callgrind.log");
    run_under(
        &launcher,
        server_bin,
        upstream_url,
        &log,
        calls,
        concurrency,
        http,
    )
    .await?;
    if !out_file.exists() {
        return Err(format!("callgrind wrote no {}", out_file.display()));
    }
    Ok(())
}

/// Starts the server under `launcher` (which must run the program that follows it and exit
/// with it), makes `calls` calls with `concurrency` in flight, and stops it.
async fn run_under(
    launcher: &[&str],
    server_bin: &Path,
    upstream_url: &str,
    log: &Path,
    calls: u64,
    concurrency: usize,
    http: bool,
) -> Result<(), String> {
    let server_args = ["--base-url", upstream_url];
    let env = [("PETSTORE_BEARER_AUTH_TOKEN", "bench")];
    // valgrind is slow to start, and profilers write their data at exit, which takes a while.
    let slow = Duration::from_secs(120);
    let run = if http {
        let process =
            HttpServerProcess::start_under(launcher, server_bin, &server_args, &env, log, slow)
                .await?;
        let client = crate::http::client(slow)?;
        let (session, _) = McpHttp::connect(client, &process.url).await?;
        let target = Arc::new(Target::Http(session));
        let run = drive::run(target.clone(), calls, concurrency, Duration::from_secs(600)).await;
        if let Ok(Target::Http(session)) = Arc::try_unwrap(target) {
            session.close().await;
        }
        process.stop_within(slow).await?;
        run
    } else {
        let (program, rest) = launcher.split_first().ok_or("no launcher")?;
        let mut args = rest.to_vec();
        let bin = server_bin.display().to_string();
        args.push(&bin);
        args.extend(server_args);
        let (session, _) = StdioServer::start(Path::new(program), &args, &env, log, slow).await?;
        let target = Arc::new(Target::Stdio(Box::new(session)));
        let run = drive::run(target.clone(), calls, concurrency, Duration::from_secs(600)).await;
        let Ok(Target::Stdio(session)) = Arc::try_unwrap(target) else {
            return Err("the profiled session is still shared".to_owned());
        };
        session.close_within(slow).await?;
        run
    };
    if run.all_ok(calls) {
        Ok(())
    } else {
        Err(format!(
            "calls failed under {}: {:?}",
            launcher[0], run.errors
        ))
    }
}

/// CPU samples of the server by where they fell (`perf record`, kernel included): shares by
/// binary or library, and the top symbols.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// `perf report --sort dso` lines: share and object.
    pub by_object: Vec<(f64, String)>,
    /// `perf report --sort dso,sym` lines: share, object and symbol.
    pub by_symbol: Vec<(f64, String)>,
}

/// Samples the server natively with `perf record` (wall-clock CPU samples of every thread,
/// kernel side included) while it answers `spec.calls` calls.
pub async fn perf_calls(
    server_bin: &Path,
    upstream_url: &str,
    out_dir: &Path,
    spec: ProfileSpec<'_>,
) -> Result<Samples, String> {
    let data = out_dir.join(format!("perf-{}.data", spec.label));
    let _ = std::fs::remove_file(&data);
    let data_arg = data.display().to_string();
    let launcher = [
        "perf",
        "record",
        "-q",
        "-F",
        "4999",
        "-o",
        data_arg.as_str(),
        "--",
    ];
    let log = out_dir.join("logs").join("perf.log");
    run_under(
        &launcher,
        server_bin,
        upstream_url,
        &log,
        spec.calls,
        spec.concurrency,
        spec.http,
    )
    .await?;
    let report = |sort: &str| -> Result<Vec<(f64, String)>, String> {
        let output = std::process::Command::new("perf")
            .args(["report", "--stdio", "--no-children", "--sort", sort, "-i"])
            .arg(&data)
            .output()
            .map_err(|e| format!("cannot run perf report: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (share, rest) = l.trim().split_once('%')?;
                Some((
                    share.trim().parse().ok()?,
                    rest.split_whitespace().collect::<Vec<_>>().join(" "),
                ))
            })
            .collect())
    };
    Ok(Samples {
        by_object: report("dso")?,
        by_symbol: report("dso,sym")?,
    })
}

/// Reads `callgrind_annotate`'s function list: the program total and each function's count.
fn annotate(file: &Path, inclusive: bool) -> Result<(u64, HashMap<String, u64>), String> {
    let output = std::process::Command::new("callgrind_annotate")
        .arg(format!(
            "--inclusive={}",
            if inclusive { "yes" } else { "no" }
        ))
        .arg("--threshold=100")
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run callgrind_annotate: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "callgrind_annotate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut total = 0;
    let mut functions: HashMap<String, u64> = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((count, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let Ok(count) = count.replace(',', "").parse::<u64>() else {
            continue;
        };
        let rest = rest.trim();
        // Newer callgrind_annotate versions print a percentage after the count.
        let rest = match rest.strip_prefix('(') {
            Some(r) => r.split_once(')').map_or(rest, |(_, after)| after.trim()),
            None => rest,
        };
        if rest.starts_with("PROGRAM TOTALS") {
            total = count;
            continue;
        }
        *functions.entry(function_name(rest)).or_default() += count;
    }
    Ok((total, functions))
}

/// `file:function [object]` → `function`, without a legacy Rust hash.
fn function_name(entry: &str) -> String {
    let entry = match entry.rfind(" [") {
        Some(i) if entry.ends_with(']') => &entry[..i],
        _ => entry,
    };
    // The file part ends at the first single ':' ("???:" when there are no debug lines).
    let bytes = entry.as_bytes();
    let mut name = entry;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' {
            let doubled = bytes.get(i + 1) == Some(&b':') || (i > 0 && bytes[i - 1] == b':');
            if !doubled {
                name = &entry[i + 1..];
                break;
            }
        }
    }
    let name = name.trim();
    match name.rfind("::h") {
        Some(i) if name.len() - i == 19 && name[i + 3..].bytes().all(|b| b.is_ascii_hexdigit()) => {
            name[..i].to_owned()
        }
        _ => name.to_owned(),
    }
}

/// The crate a function belongs to: the first path segment of its name (of the self type
/// for `<T as Trait>::f`), or `libc/kernel` for names without a path.
fn crate_of(name: &str) -> String {
    let trimmed = name.trim_start_matches(['<', '&', '*', ' ']);
    let trimmed = trimmed.strip_prefix("mut ").unwrap_or(trimmed);
    let trimmed = trimmed.strip_prefix("dyn ").unwrap_or(trimmed);
    match trimmed.find("::") {
        Some(i) if !trimmed[..i].contains([' ', '(', '<']) => trimmed[..i].to_owned(),
        _ => "libc/kernel (C symbols)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_cleaned() {
        assert_eq!(
            function_name("???:tokio::runtime::park::Inner::park::h0123456789abcdef [/x/y]"),
            "tokio::runtime::park::Inner::park"
        );
        assert_eq!(
            function_name("./malloc/malloc.c:_int_malloc [/lib/libc.so.6]"),
            "_int_malloc"
        );
        assert_eq!(
            crate_of("<serde_json::value::Value as core::clone::Clone>::clone"),
            "serde_json"
        );
        assert_eq!(crate_of("memcpy"), "libc/kernel (C symbols)");
    }
}
