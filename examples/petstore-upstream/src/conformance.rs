//! The routes behind the conformance fixture document (`tests/conformance-server/conformance.yaml`):
//! answers shaped like the MCP conformance suite's fixture tools and resources expect, each
//! reached through a generated tool or resource, so the suite checks what the generated code
//! makes of an upstream's text, image, audio, error, large and retried answers.
//!
//! All under `/__conformance/` (no auth): `simple-text`, `image`, `audio`, `error` (500),
//! `large` (320 KiB of text, long enough for download progress), `flaky` (503 twice, then 200,
//! in a cycle of three), `static-text`, `static-binary`, `example-resource`, `watched` (a text
//! that changes with every read),
//! `template/{id}/data`, `greet?name=N`; and long-running jobs: `POST jobs/{kind}` answers 202
//! with a status URL `jobs/{id}` that reports `running`, then `completed` (`compute`, after
//! `?seconds=`) or disappears (`gone`); `DELETE jobs/{id}` cancels.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The size of `large`.
const LARGE_BYTES: usize = 320 * 1024;

/// Reads of `watched`, across the process: its text changes with each.
static WATCHED_READS: AtomicU32 = AtomicU32::new(0);

/// Requests `flaky` has answered, across the process.
static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

/// A WAV file of eight silent samples (8-bit mono PCM at 8 kHz).
fn wav() -> Vec<u8> {
    let samples = [0x80u8; 8];
    let mut out = Vec::with_capacity(44 + samples.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // the format chunk's size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes()); // samples per second
    out.extend_from_slice(&8000u32.to_le_bytes()); // bytes per second
    out.extend_from_slice(&1u16.to_le_bytes()); // bytes per frame
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

fn typed(status: StatusCode, media: &'static str, body: impl Into<axum::body::Body>) -> Response {
    (status, [(header::CONTENT_TYPE, media)], body.into()).into_response()
}

/// `GET /__conformance/{name}`.
pub(crate) async fn answer(Path(name): Path<String>) -> Response {
    let text = |t: &'static str| typed(StatusCode::OK, "text/plain; charset=utf-8", t);
    match name.as_str() {
        "simple-text" => text("This is a simple text response for testing."),
        "static-text" => text(crate::STATIC_TEXT),
        "example-resource" => text("Embedded resource content for testing."),
        "watched" => typed(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            format!(
                "Read {} times.",
                WATCHED_READS.fetch_add(1, Ordering::Relaxed) + 1
            ),
        ),
        "image" | "static-binary" => typed(StatusCode::OK, "image/png", crate::STATIC_PNG),
        "audio" => typed(StatusCode::OK, "audio/wav", wav()),
        "error" => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(serde_json::json!({
                "error": "This tool intentionally returns an error for testing"
            })),
        )
            .into_response(),
        "large" => typed(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "All work and no play. ".repeat(LARGE_BYTES / 22),
        ),
        "flaky" => {
            if FLAKY_CALLS.fetch_add(1, Ordering::Relaxed) % 3 < 2 {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "0")],
                    "try again",
                )
                    .into_response()
            } else {
                text("Done, after two retries.")
            }
        }
        _ => typed(StatusCode::NOT_FOUND, "text/plain", "no such fixture"),
    }
}

/// `GET /__conformance/template/{id}/data`.
pub(crate) async fn template_data(Path(id): Path<String>) -> Response {
    axum::Json(serde_json::json!({
        "id": id,
        "templateTest": true,
        "data": format!("Data for ID: {id}"),
    }))
    .into_response()
}

/// How a job of `/__conformance/jobs` ends.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    /// Completes with a result.
    Result,
    /// Its status URL disappears (404).
    Gone,
}

/// One job: when it started, how long it takes, how it ends, whether it was cancelled.
struct Job {
    started: std::time::Instant,
    seconds: f64,
    label: String,
    ending: Ending,
    cancelled: bool,
}

/// The jobs of all upstreams of the process (ids are unique across them).
static JOBS: std::sync::Mutex<Vec<Job>> = std::sync::Mutex::new(Vec::new());

/// The query of `POST /__conformance/jobs/{kind}`.
#[derive(serde::Deserialize)]
pub(crate) struct JobQuery {
    #[serde(default)]
    seconds: f64,
    #[serde(default)]
    label: String,
}

/// `POST /__conformance/jobs/{kind}` (`compute` or `gone`): 202 Accepted with the
/// job's status URL in `Location`.
pub(crate) async fn start_job(
    Path(kind): Path<String>,
    axum::extract::Query(query): axum::extract::Query<JobQuery>,
) -> Response {
    let (ending, seconds) = match kind.as_str() {
        "compute" => (Ending::Result, query.seconds.clamp(0.0, 600.0)),
        "gone" => (Ending::Gone, 1.0),
        _ => return typed(StatusCode::NOT_FOUND, "text/plain", "no such job kind"),
    };
    let mut jobs = JOBS.lock().unwrap_or_else(|p| p.into_inner());
    jobs.push(Job {
        started: std::time::Instant::now(),
        seconds,
        label: query.label,
        ending,
        cancelled: false,
    });
    let id = jobs.len() - 1;
    (
        StatusCode::ACCEPTED,
        [
            (header::LOCATION, format!("/__conformance/jobs/{id}")),
            (header::RETRY_AFTER, "1".to_owned()),
        ],
        axum::Json(serde_json::json!({"id": id, "status": "running"})),
    )
        .into_response()
}

/// `GET /__conformance/jobs/{id}`: running until its time is up, then its ending.
pub(crate) async fn job_status(Path(id): Path<usize>) -> Response {
    let jobs = JOBS.lock().unwrap_or_else(|p| p.into_inner());
    let Some(job) = jobs.get(id) else {
        return typed(StatusCode::NOT_FOUND, "text/plain", "no such job");
    };
    let body = if job.cancelled {
        serde_json::json!({"id": id, "status": "cancelled"})
    } else if job.started.elapsed().as_secs_f64() < job.seconds {
        serde_json::json!({"id": id, "status": "running"})
    } else {
        match job.ending {
            Ending::Result => serde_json::json!({
                "id": id,
                "status": "completed",
                "label": job.label,
                "result": format!("computed {} after {} s", job.label, job.seconds),
            }),
            Ending::Gone => return typed(StatusCode::NOT_FOUND, "text/plain", "the job is gone"),
        }
    };
    axum::Json(body).into_response()
}

/// `DELETE /__conformance/jobs/{id}`: cancels it (a finished job stays as it ended).
pub(crate) async fn cancel_job(Path(id): Path<usize>) -> Response {
    let mut jobs = JOBS.lock().unwrap_or_else(|p| p.into_inner());
    let Some(job) = jobs.get_mut(id) else {
        return typed(StatusCode::NOT_FOUND, "text/plain", "no such job");
    };
    if job.started.elapsed().as_secs_f64() < job.seconds {
        job.cancelled = true;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__conformance/greet?name=N`: `Hello, N!`.
pub(crate) async fn greet(
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let name = query.get("name").map_or("world", String::as_str);
    typed(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        format!("Hello, {name}!"),
    )
}
