//! The routes behind the conformance fixture document (`tests/conformance-server/conformance.yaml`):
//! answers shaped like the MCP conformance suite's fixture tools and resources expect, each
//! reached through a generated tool or resource, so the suite checks what the generated code
//! makes of an upstream's text, image, audio, error, large and retried answers.
//!
//! All under `/__conformance/` (no auth): `simple-text`, `image`, `audio`, `error` (500),
//! `large` (320 KiB of text, long enough for download progress), `flaky` (503 twice, then 200,
//! in a cycle of three), `static-text`, `static-binary`, `example-resource` and
//! `template/{id}/data`.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

/// A 1x1 PNG.
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/// The size of `large`.
const LARGE_BYTES: usize = 320 * 1024;

/// Requests `flaky` has answered, across the process.
static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(PNG_BASE64)
        .expect("the PNG constant is base64")
}

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
        "static-text" => text("This is the content of the static text resource."),
        "example-resource" => text("Embedded resource content for testing."),
        "image" | "static-binary" => typed(StatusCode::OK, "image/png", png()),
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
