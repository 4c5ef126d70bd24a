//! Child processes: every process the benchmark starts runs in its own process group and is
//! killed with that group when its guard is dropped (on success, on error and on Ctrl-C);
//! `/proc` readers for CPU time and peak memory; and a measured run that reports the wall
//! time, CPU time and peak memory of one command through `wait4`.

use std::io;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Environment variables that could send loopback traffic through a proxy.
const PROXY_VARS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Removes proxy settings from a command's environment: every measured request stays on
/// loopback.
pub fn without_proxies(command: &mut tokio::process::Command) -> &mut tokio::process::Command {
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    command
}

/// A running child process, killed together with its process group when dropped.
pub struct ChildGuard {
    child: tokio::process::Child,
    pid: u32,
    what: String,
}

impl ChildGuard {
    /// Spawns `command` in a new process group. `what` names it in error messages.
    pub fn spawn(mut command: tokio::process::Command, what: &str) -> Result<ChildGuard, String> {
        without_proxies(&mut command);
        command.process_group(0).kill_on_drop(true);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let pid = child.id().ok_or_else(|| format!("{what} exited at once"))?;
        Ok(ChildGuard {
            child,
            pid,
            what: what.to_owned(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The underlying child, to take its pipes.
    pub fn child_mut(&mut self) -> &mut tokio::process::Child {
        &mut self.child
    }

    /// Waits up to `grace` for the process to exit by itself (after its stdin was closed,
    /// say), then sends SIGTERM, and SIGKILL after another `grace`.
    pub async fn stop(mut self, grace: Duration) -> Result<(), String> {
        if tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
            return Ok(());
        }
        signal_group(self.pid, libc::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
            return Ok(());
        }
        signal_group(self.pid, libc::SIGKILL);
        let _ = tokio::time::timeout(grace, self.child.wait()).await;
        Err(format!("{} did not stop within {grace:?}", self.what))
    }
}

impl ChildGuard {
    /// Sends SIGTERM at once, and SIGKILL if the process has not exited after `grace`.
    pub async fn terminate(mut self, grace: Duration) -> Result<(), String> {
        signal_group(self.pid, libc::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
            return Ok(());
        }
        signal_group(self.pid, libc::SIGKILL);
        let _ = tokio::time::timeout(grace, self.child.wait()).await;
        Err(format!("{} ignored SIGTERM for {grace:?}", self.what))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // The whole group, so that nothing the child started outlives the benchmark.
        if matches!(self.child.try_wait(), Ok(None)) {
            signal_group(self.pid, libc::SIGKILL);
        }
    }
}

fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names the group
        // this process created for the child.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// Clock ticks per second, the unit of `/proc/<pid>/stat` CPU times.
fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// User plus system CPU time the process has used so far, all threads included (also
/// threads that have exited).
pub fn cpu_time(pid: u32) -> Result<Duration, String> {
    cpu_split(pid).map(|(user, system)| user + system)
}

/// User and system CPU time the process has used so far, separately.
pub fn cpu_split(pid: u32) -> Result<(Duration, Duration), String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot read /proc/{pid}/stat: {e}"))?;
    // The command name (field 2) may hold spaces and parentheses; fields after the last
    // ')' start at field 3 (state). utime and stime are fields 14 and 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("malformed /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("malformed /proc/{pid}/stat"))
    };
    let ticks = |t: u64| Duration::from_nanos(t * 1_000_000_000 / clock_ticks());
    Ok((ticks(field(11)?), ticks(field(12)?)))
}

/// Context switches (voluntary and not) of all the process's current threads so far.
pub fn context_switches(pid: u32) -> Result<u64, String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map_err(|e| format!("cannot list /proc/{pid}/task: {e}"))?;
    let mut total = 0;
    for task in tasks.flatten() {
        // A thread may exit between the listing and the read; it is skipped.
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(total)
}

/// CPU time the whole machine has spent busy so far (every CPU; user, system, interrupts and
/// time stolen by the hypervisor), from /proc/stat.
pub fn machine_busy() -> Result<Duration, String> {
    let stat = std::fs::read_to_string("/proc/stat")
        .map_err(|e| format!("cannot read /proc/stat: {e}"))?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or("no cpu line in /proc/stat")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...: all but idle and iowait.
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum();
    Ok(Duration::from_nanos(busy * 1_000_000_000 / clock_ticks()))
}

/// Peak resident set size (`VmHWM`) in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status"))
}

/// Current resident memory split into anonymous (heap, stacks) and file-backed (mostly the
/// binary's own code and data), in KiB.
pub fn rss_split_kib(pid: u32) -> Result<(u64, u64), String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("RssAnon:")?, field("RssFile:")?))
}

/// What one measured command used.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Spawn to exit.
    pub wall: Duration,
    /// User plus system CPU time of the command and the descendants it waited for.
    pub cpu: Duration,
    /// Largest resident set size of the command or any descendant it waited for, in KiB.
    pub max_rss_kib: u64,
}

/// Runs `command` to completion (killing its process group after `timeout`), with its
/// output appended to `log`, and reports its resource usage from `wait4`.
pub async fn measured_run(
    mut command: std::process::Command,
    log: &Path,
    timeout: Duration,
) -> Result<Usage, String> {
    use std::os::unix::process::CommandExt;
    let program = format!("{:?}", command.get_program());
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    command
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .process_group(0);
    let started = Instant::now();
    // The std child is never waited through std: wait4 below reaps it, so that its own
    // rusage (not the sum over every child so far) is reported.
    let child = command
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let pid = libc::pid_t::try_from(child.id()).map_err(|e| e.to_string())?;
    // Killed with its group if this future is dropped (Ctrl-C, the run's deadline) or times
    // out; disarmed once wait4 has reaped it.
    let mut group = GroupKill(Some(child.id()));
    let waiter = tokio::task::spawn_blocking(move || wait4(pid));
    tokio::pin!(waiter);
    let (status, usage) = match tokio::time::timeout(timeout, &mut waiter).await {
        Ok(joined) => {
            group.0 = None;
            joined.map_err(|e| e.to_string())??
        }
        Err(_) => {
            drop(group);
            let _ = tokio::time::timeout(Duration::from_secs(10), &mut waiter).await;
            return Err(format!(
                "{program} did not finish within {timeout:?} (see {})",
                log.display()
            ));
        }
    };
    let wall = started.elapsed();
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!(
            "{program} failed (wait status {status}); see {}",
            log.display()
        ));
    }
    Ok(Usage {
        wall,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    })
}

/// Kills a process group when dropped, unless disarmed (`None`).
struct GroupKill(Option<u32>);

impl Drop for GroupKill {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            signal_group(pid, libc::SIGKILL);
        }
    }
}

fn wait4(pid: libc::pid_t) -> Result<(libc::c_int, libc::rusage), String> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value that wait4 overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the right types.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(format!("wait4 failed: {err}"));
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let micros = u32::try_from(t.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

/// Size in bytes of a stripped copy of `binary` (the copy is written next to `scratch`).
pub fn stripped_size(binary: &Path, scratch: &Path) -> Result<u64, String> {
    let status = std::process::Command::new("strip")
        .arg("-o")
        .arg(scratch)
        .arg(binary)
        .status()
        .map_err(|e| format!("cannot run strip: {e}"))?;
    if !status.success() {
        return Err(format!("strip failed on {}", binary.display()));
    }
    let size = std::fs::metadata(scratch)
        .map_err(|e| format!("cannot stat {}: {e}", scratch.display()))?
        .len();
    let _ = std::fs::remove_file(scratch);
    Ok(size)
}
