//! The load driver: a fixed number of calls, a fixed number of them in flight, each timed
//! and checked. Bounded twice: every call has its own timeout, and no call starts after the
//! run's deadline (those are counted as not started).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::http::{self, McpHttp};
use crate::rpc::{CallError, Failure};
use crate::stats::Latencies;
use crate::stdio::StdioServer;

/// What a run calls.
pub enum Target {
    /// `GET /v1/pets/1` straight to the upstream.
    Floor {
        /// The shared HTTP client.
        client: reqwest::Client,
        /// The pet's URL.
        url: String,
    },
    /// `tools/call getPetById` over streamable HTTP.
    Http(McpHttp),
    /// `tools/call getPetById` over stdio.
    Stdio(Box<StdioServer>),
}

impl Target {
    /// One call, checked.
    pub async fn call(&self) -> Result<(), CallError> {
        match self {
            Target::Floor { client, url } => http::floor_get(client, url).await,
            Target::Http(session) => session.get_pet().await,
            Target::Stdio(server) => server.get_pet().await,
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Latency of each completed call (successful or not).
    pub latencies: Latencies,
    /// First call started to last call finished.
    pub elapsed: Duration,
    /// Calls answered correctly.
    pub ok: u64,
    /// Calls never answered.
    pub lost: u64,
    /// Calls answered wrongly.
    pub wrong: u64,
    /// Calls answered more than once.
    pub duplicate: u64,
    /// Calls not started because the deadline had passed.
    pub not_started: u64,
    /// The first few error messages.
    pub errors: Vec<String>,
}

impl Run {
    /// Correct answers per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Whether every call was answered correctly.
    pub fn all_ok(&self, total: u64) -> bool {
        self.ok == total && self.lost + self.wrong + self.duplicate + self.not_started == 0
    }

    /// Adds another run of the same thing: samples pooled, counts and times summed (so
    /// throughput is all calls over all time).
    pub fn absorb(&mut self, other: Run) {
        self.latencies.absorb(&other.latencies);
        self.elapsed += other.elapsed;
        self.ok += other.ok;
        self.lost += other.lost;
        self.wrong += other.wrong;
        self.duplicate += other.duplicate;
        self.not_started += other.not_started;
        self.errors.extend(other.errors);
    }
}

/// Makes `total` calls with `concurrency` of them in flight; stops starting calls after
/// `deadline`.
pub async fn run(target: Arc<Target>, total: u64, concurrency: usize, deadline: Duration) -> Run {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let stop_at = started + deadline;
    let per_worker = usize::try_from(total).unwrap_or(usize::MAX) / concurrency.max(1) + 1;
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let target = target.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut part = Run::default();
            let mut samples = Vec::with_capacity(per_worker);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                if Instant::now() >= stop_at {
                    part.not_started += 1;
                    continue;
                }
                let t0 = Instant::now();
                let outcome = target.call().await;
                samples.push(t0.elapsed());
                match outcome {
                    Ok(()) => part.ok += 1,
                    Err(e) => {
                        match e.kind {
                            Failure::Lost => part.lost += 1,
                            Failure::Wrong => part.wrong += 1,
                            Failure::Duplicate => part.duplicate += 1,
                        }
                        if part.errors.len() < 3 {
                            part.errors.push(e.message);
                        }
                    }
                }
            }
            (part, samples)
        }));
    }
    let mut run = Run::default();
    let mut samples = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for worker in workers {
        match worker.await {
            Ok((part, mut s)) => {
                run.ok += part.ok;
                run.lost += part.lost;
                run.wrong += part.wrong;
                run.duplicate += part.duplicate;
                run.not_started += part.not_started;
                for e in part.errors {
                    if run.errors.len() < 5 {
                        run.errors.push(e);
                    }
                }
                samples.append(&mut s);
            }
            Err(e) => run.errors.push(format!("a driver task failed: {e}")),
        }
    }
    run.elapsed = started.elapsed();
    run.latencies = Latencies::new(samples);
    run
}
