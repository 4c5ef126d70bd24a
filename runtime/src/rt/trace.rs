//! Following one request through the logs and into the upstream: a request id for every HTTP
//! request (the caller's `X-Request-Id` when it is a sane one), and W3C Trace Context
//! (`traceparent`, `tracestate`) carried from the MCP request to the upstream request.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderMap, HeaderValue};

/// The id of one HTTP request to the server, in its log lines and its answer's
/// `X-Request-Id` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub Arc<str>);

impl RequestId {
    /// The caller's `X-Request-Id` when it is 1 to 128 characters of letters, digits and
    /// `-_.:` (anything else could forge or break a log line), else a new random id.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let given = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                (1..=128).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
            });
        match given {
            Some(id) => RequestId(Arc::from(id)),
            None => RequestId(Arc::from(format!("{:016x}", random_u64()).as_str())),
        }
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// 64 unpredictable-enough bits for ids that only need to be distinct (request and span ids;
/// nothing secret): the standard library's per-process random hash keys over a counter.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut hasher = KEYS
        .get_or_init(std::collections::hash_map::RandomState::new)
        .build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// The trace a request belongs to (W3C Trace Context level 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lowercase hex digits, not all zero.
    trace_id: String,
    /// The flags byte (bit 0: sampled).
    flags: u8,
    /// The caller's `tracestate`, passed on unchanged when it is well-formed and short.
    state: Option<HeaderValue>,
}

/// The longest `tracestate` passed on (the specification's limit is 32 members of at most
/// 256 characters; real ones are far shorter).
const MAX_TRACESTATE: usize = 512;

impl TraceContext {
    /// The trace of a request with these headers; `None` when it carries no valid
    /// `traceparent`.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let mut context = Self::parse(headers.get("traceparent")?.to_str().ok()?)?;
        context.state = headers
            .get("tracestate")
            .filter(|v| v.len() <= MAX_TRACESTATE && v.to_str().is_ok())
            .cloned();
        Some(context)
    }

    /// Reads `version-traceid-parentid-flags`. Versions after 00 may append fields, which
    /// are ignored; version ff is invalid.
    fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let mut parts = value.splitn(5, '-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let parent_id = parts.next()?;
        let flags = parts.next()?;
        let rest = parts.next();
        let lower_hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let valid = lower_hex(version, 2)
            && version != "ff"
            && (version != "00" || rest.is_none())
            && lower_hex(trace_id, 32)
            && trace_id.bytes().any(|b| b != b'0')
            && lower_hex(parent_id, 16)
            && parent_id.bytes().any(|b| b != b'0')
            && lower_hex(flags, 2);
        if !valid {
            return None;
        }
        Some(TraceContext {
            trace_id: trace_id.to_owned(),
            flags: u8::from_str_radix(flags, 16).ok()?,
            state: None,
        })
    }

    /// The headers of a request this server makes within the trace: the same trace id, a new
    /// span id of its own, the same flags.
    pub fn child_headers(&self) -> impl Iterator<Item = (&'static str, HeaderValue)> + '_ {
        let parent = format!(
            "00-{}-{:016x}-{:02x}",
            self.trace_id,
            random_u64().max(1),
            self.flags
        );
        // Hex digits and dashes only: always a valid header value.
        let parent = HeaderValue::from_str(&parent).ok();
        parent
            .map(|v| ("traceparent", v))
            .into_iter()
            .chain(self.state.clone().map(|v| ("tracestate", v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_continued_with_a_new_span() {
        let context =
            TraceContext::from_headers(&headers(&[("traceparent", PARENT), ("tracestate", "a=1")]))
                .unwrap();
        let out: Vec<_> = context.child_headers().collect();
        let parent = out[0].1.to_str().unwrap();
        assert_eq!(out[0].0, "traceparent");
        assert!(parent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(parent.ends_with("-01"));
        assert_ne!(parent, PARENT, "the upstream request is a span of its own");
        assert_eq!(out[1], ("tracestate", HeaderValue::from_static("a=1")));
    }

    #[test]
    fn invalid_traceparents_are_ignored() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad}");
        }
        // A later version may add fields.
        assert!(
            TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
                .is_some()
        );
    }

    #[test]
    fn request_ids_are_the_callers_only_when_sane() {
        let given = RequestId::from_headers(&headers(&[("x-request-id", "abc-123:x")]));
        assert_eq!(&*given.0, "abc-123:x");
        let forged = RequestId::from_headers(&headers(&[("x-request-id", "a\"}{\"b")]));
        assert_eq!(forged.0.len(), 16);
        let fresh = RequestId::from_headers(&HeaderMap::new());
        assert_ne!(fresh, RequestId::from_headers(&HeaderMap::new()));
    }
}
