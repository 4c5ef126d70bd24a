//! What a server counts, for `/metrics` (Prometheus / OpenMetrics text): calls by tool and
//! outcome, their latency, upstream answers by status class, retries, calls in flight,
//! refused endpoint credentials and what the rate limits refused.
//!
//! Labels take only values from the server's own table (tool names, fixed outcome and class
//! names), never from a caller: an unknown tool name sent a million times must not become a
//! million series.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// How one call of an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The upstream answered with a success.
    Ok,
    /// The upstream answered with an error status.
    UpstreamError,
    /// No answer: the upstream could not be reached in time.
    Unreachable,
    /// The arguments did not match the tool's input schema.
    InvalidArguments,
    /// Refused before sending: no usable credential, a token that could not be fetched.
    Refused,
    /// The call needs the user's confirmation and the client was asked with an
    /// input-required result: nothing was sent, the client may retry with the answer.
    InputRequired,
    /// The user declined (or dismissed) the confirmation: nothing was sent.
    Declined,
    /// The call needs the user's confirmation and none could be had (the client cannot be
    /// asked, no answer came, or its `requestState` is not valid): nothing was sent.
    Unconfirmed,
    /// Refused before sending by a rate limit or the caller's concurrency cap.
    RateLimited,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::UpstreamError => "upstream_error",
            Outcome::Unreachable => "unreachable",
            Outcome::InvalidArguments => "invalid_arguments",
            Outcome::Refused => "refused",
            Outcome::InputRequired => "input_required",
            Outcome::Declined => "declined",
            Outcome::Unconfirmed => "unconfirmed",
            Outcome::RateLimited => "rate_limited",
        }
    }
}

type ToolOutcome = [(&'static str, &'static str); 2];
type ToolLabel = [(&'static str, &'static str); 1];
type Seconds = Family<ToolLabel, Histogram, fn() -> Histogram>;

/// Upper bounds of the latency buckets, in seconds: 5 ms to about 20 s.
fn latency_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
    ])
}

/// A server's counters; cheap to update from many tasks at once.
pub struct Metrics {
    registry: Registry,
    calls: Family<ToolOutcome, Counter>,
    latency: Seconds,
    upstream: Family<[(&'static str, &'static str); 1], Counter>,
    retries: Counter,
    in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    auth_failures: Counter<u64, AtomicU64>,
    audit_dropped: Counter<u64, AtomicU64>,
    rate_limited: Family<[(&'static str, &'static str); 1], Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty counters, registered under the `mcp` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("mcp");
        let calls = Family::<ToolOutcome, Counter>::default();
        let latency = Seconds::new_with_constructor(latency_histogram);
        let upstream = Family::default();
        let retries = Counter::default();
        let in_flight = Gauge::default();
        let auth_failures = Counter::default();
        let audit_dropped = Counter::default();
        let rate_limited = Family::default();
        registry.register(
            "tool_calls",
            "Calls of operations, by tool and outcome",
            calls.clone(),
        );
        registry.register(
            "tool_call_duration_seconds",
            "Time from a call's arrival to its result, by tool",
            latency.clone(),
        );
        registry.register(
            "upstream_responses",
            "Upstream answers by status class (error: no answer)",
            upstream.clone(),
        );
        registry.register(
            "upstream_retries",
            "Upstream requests repeated after a retryable failure",
            retries.clone(),
        );
        registry.register(
            "calls_in_flight",
            "Calls of operations under way",
            in_flight.clone(),
        );
        registry.register(
            "auth_failures",
            "HTTP requests refused for a missing or wrong endpoint credential",
            auth_failures.clone(),
        );
        registry.register(
            "audit_dropped",
            "Audit log lines dropped because the writer fell behind",
            audit_dropped.clone(),
        );
        registry.register(
            "rate_limited",
            "Tool calls and unauthenticated HTTP requests refused by a rate limit, by limit",
            rate_limited.clone(),
        );
        Metrics {
            registry,
            calls,
            latency,
            upstream,
            retries,
            in_flight,
            auth_failures,
            audit_dropped,
            rate_limited,
        }
    }

    /// Counts a finished call of `tool` and its duration.
    pub fn call_finished(&self, tool: &'static str, outcome: Outcome, seconds: f64) {
        self.calls
            .get_or_create(&[("tool", tool), ("outcome", outcome.as_str())])
            .inc();
        self.latency
            .get_or_create(&[("tool", tool)])
            .observe(seconds);
    }

    /// Counts one upstream answer (`None`: the request got no answer).
    pub fn upstream_answered(&self, status: Option<http::StatusCode>) {
        let class = match status.map(|s| s.as_u16() / 100) {
            Some(1) => "1xx",
            Some(2) => "2xx",
            Some(3) => "3xx",
            Some(4) => "4xx",
            Some(5) => "5xx",
            _ => "error",
        };
        self.upstream.get_or_create(&[("class", class)]).inc();
    }

    /// Counts a repeated upstream request.
    pub fn retried(&self) {
        self.retries.inc();
    }

    /// Counts a call under way until the guard is dropped.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// Counts a request refused for its endpoint credential.
    pub fn auth_failed(&self) {
        self.auth_failures.inc();
    }

    /// Counts an audit line dropped because the writer fell behind.
    pub fn audit_dropped(&self) {
        self.audit_dropped.inc();
    }

    /// Counts a tool call or an unauthenticated HTTP request refused by a rate limit: `caller`,
    /// `global`, `tool`, `concurrency` or `unauthenticated`.
    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited.get_or_create(&[("limit", limit)]).inc();
    }

    /// Everything counted, as OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A call under way; counted out when dropped (also when its future is dropped unfinished).
pub struct InFlight<'a>(&'a Gauge<i64, std::sync::atomic::AtomicI64>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_by_tool_and_outcome() {
        let metrics = Metrics::new();
        metrics.call_finished("getPet", Outcome::Ok, 0.002);
        metrics.call_finished("getPet", Outcome::Ok, 0.3);
        metrics.call_finished("getPet", Outcome::UpstreamError, 0.01);
        metrics.upstream_answered(Some(http::StatusCode::NOT_FOUND));
        metrics.upstream_answered(None);
        metrics.retried();
        metrics.auth_failed();
        metrics.audit_dropped();
        metrics.rate_limited("caller");
        {
            let _a = metrics.in_flight();
            let _b = metrics.in_flight();
            assert!(metrics.render().contains("mcp_calls_in_flight 2\n"));
        }
        let text = metrics.render();
        for line in [
            r#"mcp_tool_calls_total{tool="getPet",outcome="ok"} 2"#,
            r#"mcp_tool_calls_total{tool="getPet",outcome="upstream_error"} 1"#,
            r#"mcp_tool_call_duration_seconds_count{tool="getPet"} 3"#,
            r#"mcp_tool_call_duration_seconds_bucket{le="0.005",tool="getPet"} 1"#,
            r#"mcp_upstream_responses_total{class="4xx"} 1"#,
            r#"mcp_upstream_responses_total{class="error"} 1"#,
            "mcp_upstream_retries_total 1",
            "mcp_auth_failures_total 1",
            "mcp_audit_dropped_total 1",
            r#"mcp_rate_limited_total{limit="caller"} 1"#,
            "mcp_calls_in_flight 0",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }
}
