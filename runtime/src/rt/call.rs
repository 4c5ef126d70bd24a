//! One call of an operation, after dispatch: validate the arguments → admit it under the rate
//! limits → choose credentials → build the request → send it (repeated where safe) → shape the
//! answer into a tool result.
//!
//! A call that needs the user's confirmation ([`confirm`](super::confirm)) asks between
//! validation and credentials: nothing is fetched or sent before the user accepts.
//!
//! Every way of reaching an operation (its own tool, `call_operation`, a resource read, a
//! hand-written tool calling it) runs through `GeneratedServer::call_operation`. A step that
//! fails ends the call with a [`CallError`], which the model reads as a tool error; upstream
//! failures of every kind are tool errors too, shaped from what came back.

use std::time::{Duration, Instant, SystemTime};

use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, JsonObject};
use serde_json::Value;

use super::audit::{
    AuditEntry, McpTokenIndex, PeerAddr, looks_like_credential, sensitive_properties,
    summarize_arguments,
};
use super::confirm::{Asker, ConfirmError};
use super::credentials::{
    Credential, InsecureCredentials, Secret, choose_credentials, presented_by_caller,
};
use super::descriptor::{HttpMethod, Pagination, SecurityKind, ToolDescriptor};
use super::fields::{self, FIELDS_ARG, FieldPath};
use super::metrics::Outcome;
use super::notify;
use super::oauth::OAuthError;
use super::pages;
use super::rate_limit::{Admission, CallerKey, Refusal};
use super::request::{self, PreparedRequest};
use super::resource_server::Caller;
use super::response::{UpstreamAnswer, is_stream_media, to_tool_result};
use super::retry;
use super::server::GeneratedServer;
use super::tasks;
use super::token_exchange::ExchangeError;
use super::trace::{RequestId, TraceContext};
use super::validate::{ArgumentValidator, SchemaError};

/// Why a call ended before the upstream could answer it. The messages are for the model: they
/// say what to change, where it can.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The arguments do not match the tool's input schema.
    #[error(
        "Invalid arguments for `{tool}`:\n- {}\nFix these arguments (see the tool's inputSchema) \
         and call the tool again.",
        .problems.join("\n- ")
    )]
    InvalidArguments {
        /// The tool called.
        tool: String,
        /// What is wrong, one line each.
        problems: Vec<String>,
    },
    /// The arguments of a search tool are wrong.
    #[error("Invalid arguments for `{tool}`: {problem}. Fix them and call the tool again.")]
    SearchArguments {
        /// The search tool called.
        tool: String,
        /// What is wrong.
        problem: String,
    },
    /// The tool's own input schema cannot be compiled, so no arguments can be checked.
    #[error("The input schema of `{tool}` cannot be used: {reason}")]
    UnusableSchema {
        /// The tool called.
        tool: String,
        /// Why.
        reason: SchemaError,
    },
    /// No OAuth 2.0 access token could be had.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The caller's access token could not be exchanged for the upstream's.
    #[error(transparent)]
    TokenExchange(#[from] ExchangeError),
    /// The caller's credential would travel in clear text.
    #[error(transparent)]
    InsecureCredentials(#[from] InsecureCredentials),
    /// The arguments cannot make a request (a value that cannot be sent where the operation
    /// puts it, or that would move the request outside the API).
    #[error("Cannot build the request: {0}")]
    Request(String),
    /// The caller presented credentials of its own that satisfy none of the operation's
    /// security alternatives; the environment's are not added to them.
    #[error("{0}")]
    CallerCredentials(String),
    /// The call needs the user's confirmation, and did not get it.
    #[error(transparent)]
    Confirmation(#[from] ConfirmError),
    /// The server is stopping and takes no more calls.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// A rate limit or the concurrency cap refuses the call; nothing was sent.
    #[error("{0}")]
    RateLimited(Refusal),
}

/// A call error is a tool error with its message.
impl From<CallError> for CallToolResult {
    fn from(error: CallError) -> Self {
        CallToolResult::error(vec![ContentBlock::text(error.to_string())])
    }
}

/// Checks `args` against a tool's compiled input schema: the first step of every call, of
/// generated and hand-written tools alike (rmcp does not validate arguments).
pub(super) fn check_arguments(
    tool: &str,
    validator: &Result<ArgumentValidator, SchemaError>,
    args: &Value,
) -> Result<(), CallError> {
    let validator = validator
        .as_ref()
        .map_err(|reason| CallError::UnusableSchema {
            tool: tool.to_owned(),
            reason: reason.clone(),
        })?;
    validator
        .check(args)
        .map_err(|problems| CallError::InvalidArguments {
            tool: tool.to_owned(),
            problems,
        })
}

/// What the transport knows of the MCP request a call came in with: its HTTP headers (over
/// HTTP), and the caller its access token speaks for (a resource server's). Nothing over stdio
/// or for calls made outside a transport.
#[derive(Clone, Copy, Default)]
pub struct Inbound<'a> {
    /// The HTTP request's headers.
    pub headers: Option<&'a http::HeaderMap>,
    /// The caller the request's verified access token speaks for.
    pub caller: Option<&'a Caller>,
    /// The HTTP request's extensions: what the transport found out about it (its id, the
    /// static token that matched, the peer's address), for the audit log.
    pub extensions: Option<&'a http::Extensions>,
    /// How the user behind the call can be asked to confirm it.
    pub asker: Asker<'a>,
    /// The call is made by a hand-written tool within a call of the caller's that the rate
    /// limits have admitted already: it is not counted again.
    pub admitted: bool,
    /// The client takes MCP tasks (the `io.modelcontextprotocol/tasks` extension): accepted
    /// long-running work is answered with a task.
    pub tasks: bool,
    /// How a hand-written tool can ask the client for input.
    pub interaction: super::interaction::Interaction<'a>,
}

impl<'a> Inbound<'a> {
    /// A request known only by its headers (or nothing): nobody can be asked to confirm it.
    pub fn from_headers(headers: Option<&'a http::HeaderMap>) -> Self {
        Inbound {
            headers,
            ..Inbound::default()
        }
    }

    /// Who calls, as the transport found out: the one identity the audit log names and the
    /// rate limits count by.
    pub fn caller_id(&self) -> CallerId<'a> {
        let extensions = self.extensions;
        if let Some(caller) = self.caller {
            CallerId::Subject(&caller.subject)
        } else if let Some(McpTokenIndex(i)) = extensions.and_then(|e| e.get::<McpTokenIndex>()) {
            CallerId::McpToken(*i)
        } else if let Some(PeerAddr(peer)) = extensions.and_then(|e| e.get::<PeerAddr>()) {
            CallerId::Peer(*peer)
        } else if self.headers.is_some() {
            CallerId::Http
        } else {
            CallerId::Stdio
        }
    }
}

/// Who made a call (never a credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerId<'a> {
    /// The subject of a verified OAuth access token.
    Subject(&'a str),
    /// The static MCP token (`--mcp-token`) at this position matched.
    McpToken(usize),
    /// An HTTP request without authentication, from this address.
    Peer(std::net::SocketAddr),
    /// An HTTP request nothing else identifies (one made outside the transport).
    Http,
    /// The stdio client, or a call made outside any transport.
    Stdio,
}

/// As the audit log writes it: the subject, `mcp-token#N`, the address, `http` or `stdio`.
impl std::fmt::Display for CallerId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallerId::Subject(subject) => f.write_str(subject),
            CallerId::McpToken(i) => write!(f, "mcp-token#{i}"),
            CallerId::Peer(peer) => write!(f, "{peer}"),
            CallerId::Http => f.write_str("http"),
            CallerId::Stdio => f.write_str("stdio"),
        }
    }
}

/// Credentials chosen for one call.
pub(super) struct ChosenCredentials {
    /// What the request carries.
    applied: Vec<(usize, Credential)>,
    /// OAuth 2.0 tokens fetched for it (scheme, `Authorization` value), to be retired when
    /// the upstream refuses them.
    fetched: Vec<(usize, Secret)>,
    /// The token exchanged for the caller's (`Authorization` value), to be retired when the
    /// upstream refuses it.
    exchanged: Option<Secret>,
    /// The caller presented credentials of its own: a refusal is then not about what the
    /// operator configured.
    callers: bool,
}

/// What came back from the upstream for one call.
// One per upstream request, moved a few times: boxing the answer would cost an allocation per
// call for nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Exchange {
    Answer {
        /// `METHOD /path` as sent, for messages.
        request: String,
        status: http::StatusCode,
        content_type: Option<String>,
        body: Vec<u8>,
        truncated: bool,
        retry_after: Option<Duration>,
        /// The URL that answered (after redirects).
        url: reqwest::Url,
        /// The target of the answer's `Link: <...>; rel="next"`, if any.
        next_link: Option<String>,
        /// Where the answer says the work it accepted can be watched (`Operation-Location`,
        /// `Azure-AsyncOperation` or `Location`), if anywhere.
        location: Option<String>,
    },
    /// No answer: the message says why.
    Failed(String),
}

impl Exchange {
    /// The answer's status, if one came.
    fn status(&self) -> Option<http::StatusCode> {
        match self {
            Exchange::Answer { status, .. } => Some(*status),
            Exchange::Failed(_) => None,
        }
    }
}

impl GeneratedServer {
    /// Calls operation `index`. `strict_output`: the result must match the operation's output
    /// schema (it was called as a tool that declares it), which limits field selection. The
    /// answer is input-required when the user must first confirm the call (2026-07-28 clients).
    pub(super) async fn call_operation(
        &self,
        index: usize,
        tool: &'static ToolDescriptor,
        arguments: Option<JsonObject>,
        inbound: Inbound<'_>,
        strict_output: bool,
    ) -> CallToolResponse {
        let metrics = &self.state.metrics;
        let started = Instant::now();
        let _in_flight = metrics.in_flight();
        let trace = inbound.headers.and_then(TraceContext::from_headers);
        let audited = self.state.audit.as_ref().map(|_| {
            let schema = serde_json::from_str(tool.input_schema).unwrap_or_default();
            self.audit_arguments(arguments.as_ref(), &schema)
        });
        // Boxed: the upstream exchange's state is large, and every future that holds this one
        // (a request handler's, the task rmcp spawns per request) is moved whole.
        let called = Box::pin(async {
            let (args, selection, pages) = self.checked_arguments(index, tool, arguments)?;
            if let Some(ask) = self.confirm(index, tool, &args, inbound).await? {
                return Ok((
                    CallToolResponse::InputRequired(ask),
                    Outcome::InputRequired,
                    None,
                    None,
                ));
            }
            // Held until the call ends: it is under way for the concurrency cap till then.
            let _admission = self.admit(tool.name, tool.tags, inbound)?;
            let mut credentials = self.credentials_for(tool, inbound).await?;
            let _permit = self
                .state
                .permits
                .acquire()
                .await
                .map_err(|_| CallError::ShuttingDown)?;
            let (mut exchange, mut attempts) =
                self.send(tool, &args, &credentials, trace.as_ref()).await?;
            // An OAuth token can be revoked or expire early: fetch (or exchange for) a new
            // one, once.
            if exchange.status() == Some(http::StatusCode::UNAUTHORIZED)
                && (!credentials.fetched.is_empty() || credentials.exchanged.is_some())
            {
                for (scheme, used) in &credentials.fetched {
                    self.state
                        .oauth
                        .invalidate(*scheme, tool.plan.oauth_scopes, used)
                        .await;
                }
                if let (Some(used), Some(exchanger), Some(caller)) = (
                    &credentials.exchanged,
                    &self.state.token_exchange,
                    inbound.caller,
                ) {
                    exchanger.forget(caller, used);
                }
                credentials = self.credentials_for(tool, inbound).await?;
                (exchange, attempts) = self.send(tool, &args, &credentials, trace.as_ref()).await?;
            }
            // Work the upstream accepted and goes on with: a task, or a wait for it here.
            if tool.long_running
                && let Exchange::Answer {
                    status: http::StatusCode::ACCEPTED,
                    body,
                    url,
                    location,
                    retry_after,
                    ..
                } = &exchange
                && let Some(status_url) =
                    tasks::status_url(location.as_deref(), body, url, self.upstream_of(tool))
            {
                let retry_after = *retry_after;
                if inbound.tasks {
                    let task = self.create_task(index, status_url, inbound, retry_after);
                    return Ok((
                        CallToolResponse::Task(task),
                        Outcome::Ok,
                        exchange.status(),
                        None,
                    ));
                }
                match self
                    .wait_for_work(tool, status_url, &credentials, retry_after)
                    .await
                {
                    Ok(done) => exchange = done,
                    Err(going) => {
                        return Ok((
                            CallToolResponse::Complete(CallToolResult::success(vec![
                                ContentBlock::text(going),
                            ])),
                            Outcome::Ok,
                            exchange.status(),
                            None,
                        ));
                    }
                }
            }
            let mut more = None;
            if let (true, Some(pagination)) = (pages > 1, tool.pagination) {
                let read = self
                    .read_more_pages(tool, pagination, &args, exchange, pages, &credentials)
                    .await;
                (exchange, more) = read;
            }
            let mut result = self.shape(index, tool, &exchange, attempts, &credentials);
            if let Some(more) = more {
                result.content.push(ContentBlock::text(more));
            }
            if let Some(paths) = selection
                && result.is_error != Some(true)
            {
                self.select_fields(index, tool, &mut result, &paths, strict_output);
            }
            let outcome = match exchange.status() {
                None => Outcome::Unreachable,
                Some(status) if status.is_client_error() || status.is_server_error() => {
                    Outcome::UpstreamError
                }
                Some(_) => Outcome::Ok,
            };
            let bytes = match &exchange {
                Exchange::Answer { body, .. } => Some(body.len()),
                Exchange::Failed(_) => None,
            };
            Ok::<_, CallError>((
                CallToolResponse::Complete(result),
                outcome,
                exchange.status(),
                bytes,
            ))
        });
        let (result, outcome, status, bytes) = match called.await {
            Ok(done) => done,
            Err(e) => {
                let outcome = match &e {
                    CallError::InvalidArguments { .. } => Outcome::InvalidArguments,
                    CallError::Confirmation(refused) => refused.outcome(),
                    CallError::RateLimited(_) => Outcome::RateLimited,
                    _ => Outcome::Refused,
                };
                (
                    CallToolResponse::Complete(CallToolResult::from(e)),
                    outcome,
                    None,
                    None,
                )
            }
        };
        let elapsed = started.elapsed();
        metrics.call_finished(tool.name, outcome, elapsed.as_secs_f64());
        let level = match outcome {
            Outcome::Ok => notify::Level::Info,
            Outcome::Unreachable => notify::Level::Error,
            _ => notify::Level::Warning,
        };
        notify::log(level, || {
            let answer = status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
            format!(
                "{}: {} {}: {answer} ({}) in {} ms",
                tool.name,
                tool.plan.method.as_str(),
                tool.plan.path,
                outcome.as_str(),
                elapsed.as_millis()
            )
        })
        .await;
        tracing::debug!(
            tool = tool.name,
            outcome = outcome.as_str(),
            ms = elapsed.as_millis() as u64,
            "call finished"
        );
        if let Some(arguments) = audited {
            self.audit(
                AuditEntry {
                    tool: tool.name,
                    arguments,
                    upstream: Some((tool.plan.method.as_str(), tool.plan.path)),
                    status: status.map(|s| s.as_u16()),
                    latency: elapsed,
                    bytes,
                    outcome: outcome.as_str(),
                    ..AuditEntry::default()
                },
                inbound,
            );
        }
        result
    }

    /// The arguments' names and type tags for the audit log (see
    /// [`summarize_arguments`]): credential-looking names, the API's API key parameters and
    /// the properties `schema` marks sensitive are redacted. Empty without an audit log.
    pub(super) fn audit_arguments(
        &self,
        arguments: Option<&JsonObject>,
        schema: &JsonObject,
    ) -> JsonObject {
        if self.state.audit.is_none() {
            return JsonObject::new();
        }
        summarize_arguments(arguments, self.sensitive_arguments(schema))
    }

    /// Whether an argument's value must not be shown (in the audit log, in a confirmation
    /// question): its name looks like a credential, it is an API key parameter of the API, or
    /// `schema` marks it sensitive.
    pub(super) fn sensitive_arguments(&self, schema: &JsonObject) -> impl Fn(&str) -> bool {
        let sensitive = sensitive_properties(schema);
        let keys: Vec<&str> = self
            .state
            .api
            .security_schemes
            .iter()
            .filter_map(|s| match s.kind {
                SecurityKind::ApiKey(_, name) => Some(name),
                _ => None,
            })
            .collect();
        move |name: &str| {
            looks_like_credential(name)
                || sensitive.iter().any(|s| s == name)
                || keys.iter().any(|k| k.eq_ignore_ascii_case(name))
        }
    }

    /// Admits a call of the tool `name` (an operation's `tags` with it) under the rate limits
    /// for as long as the admission lives, or refuses it (counted in `/metrics`). A call a
    /// hand-written tool makes within an admitted call is not counted again.
    pub(super) fn admit(
        &self,
        name: &str,
        tags: &[&str],
        inbound: Inbound<'_>,
    ) -> Result<Admission<'_>, CallError> {
        let limiter = &self.state.rate_limiter;
        if inbound.admitted || !limiter.limits_calls() {
            return Ok(Admission::unlimited());
        }
        let caller = CallerKey::from(inbound.caller_id());
        limiter
            .admit(caller, name, tags, Instant::now())
            .map_err(|refusal| {
                self.state.metrics.rate_limited(refusal.label());
                CallError::RateLimited(refusal)
            })
    }

    /// Records a finished call of a tool that is not an operation (a search tool, a
    /// hand-written tool) that ended with `outcome` (see [`tool_outcome`]).
    pub(super) fn audit_tool(
        &self,
        tool: &str,
        arguments: JsonObject,
        outcome: &str,
        inbound: Inbound<'_>,
        started: Instant,
    ) {
        self.audit(
            AuditEntry {
                tool,
                arguments,
                latency: started.elapsed(),
                outcome,
                ..AuditEntry::default()
            },
            inbound,
        );
    }

    /// Writes one audit line, with who called as the transport found out: the OAuth
    /// subject, the static token's index, the peer's address, or `stdio`.
    fn audit<'a>(&self, mut entry: AuditEntry<'a>, inbound: Inbound<'a>) {
        let Some(audit) = &self.state.audit else {
            return;
        };
        let extensions = inbound.extensions;
        let request_id = extensions.and_then(|e| e.get::<RequestId>());
        entry.request_id = request_id.map(|id| &*id.0);
        entry.session = inbound
            .headers
            .and_then(|h| h.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok());
        entry.caller = inbound.caller_id().to_string();
        entry.time = Some(SystemTime::now());
        audit.record(&entry, &self.state.metrics);
    }

    /// The arguments checked against the operation's input schema, and the `_fields`
    /// selection taken out of them where the operation offers it.
    fn checked_arguments(
        &self,
        index: usize,
        tool: &ToolDescriptor,
        arguments: Option<JsonObject>,
    ) -> Result<(JsonObject, Option<Vec<FieldPath>>, u64), CallError> {
        let mut args = arguments.unwrap_or_default();
        let invalid = |problem: String| CallError::InvalidArguments {
            tool: tool.name.to_owned(),
            problems: vec![problem],
        };
        let pages = match tool.pagination {
            Some(_) => pages::take_pages(&mut args).map_err(invalid)?,
            None => 1,
        };
        let selection = match self.state.offers_fields[index]
            .then(|| args.remove(FIELDS_ARG))
            .flatten()
        {
            Some(value) => Some(fields::parse_fields(&value).map_err(invalid)?),
            None => None,
        };
        let args = Value::Object(args);
        let validator = self.state.validators[index]
            .get_or_init(|| ArgumentValidator::from_embedded(tool.input_schema));
        check_arguments(tool.name, validator, &args)?;
        let Value::Object(args) = args else {
            unreachable!("the arguments were wrapped as an object above")
        };
        Ok((args, selection, pages))
    }

    /// Chooses the credentials of one call. A resource server's caller, when token exchange
    /// is configured, acts as itself: the token exchanged for its own goes as the bearer
    /// token of the operation's first security alternative made of bearer schemes, and
    /// nothing else is sent (an operation without such an alternative takes the environment's,
    /// as below). Otherwise (see [`choose_credentials`]): the caller's own (pass-through, over
    /// HTTP) when it presented any, never mixed with the environment's; the environment's
    /// when it presented none. OAuth 2.0 client credentials are exchanged for an access token.
    pub(super) async fn credentials_for(
        &self,
        tool: &ToolDescriptor,
        inbound: Inbound<'_>,
    ) -> Result<ChosenCredentials, CallError> {
        // TRACE never carries credentials (the upstream echoes the request): fetch none.
        if tool.plan.method == HttpMethod::Trace {
            return Ok(ChosenCredentials {
                applied: Vec::new(),
                fetched: Vec::new(),
                exchanged: None,
                callers: false,
            });
        }
        let schemes = self.state.api.security_schemes;
        // In a server of several APIs, the exchanged token is for one of them.
        let exchanges = self.state.api.apis.is_empty()
            || self.state.config.token_exchange_api == Some(self.api_of(tool));
        if let (Some(exchanger), Some(caller), true) =
            (&self.state.token_exchange, inbound.caller, exchanges)
            && let Some(alternative) = tool.plan.security.iter().find(|alternative| {
                !alternative.is_empty()
                    && alternative
                        .iter()
                        .all(|&i| schemes.get(i).is_some_and(|s| s.kind.is_bearer()))
            })
        {
            let header = exchanger.authorization(caller).await?;
            return Ok(ChosenCredentials {
                applied: alternative
                    .iter()
                    .map(|&i| (i, Credential::Authorization(header.clone())))
                    .collect(),
                fetched: Vec::new(),
                exchanged: Some(header),
                callers: true,
            });
        }
        let passes = (self.state.passthrough_apis)
            .get(self.api_of(tool))
            .copied()
            .unwrap_or(false);
        let headers = inbound.headers.filter(|_| passes);
        let caller = presented_by_caller(schemes, headers);
        let chosen = choose_credentials(tool.plan.security, &caller, &self.state.env_credentials)
            .map_err(|refused| {
            CallError::CallerCredentials(refused.describe(tool.name, schemes, tool.plan.security))
        })?;
        let mut applied = Vec::with_capacity(chosen.len());
        let mut fetched = Vec::new();
        for (index, credential) in chosen {
            match credential {
                Credential::ClientCredentials(client) => {
                    let header = self
                        .state
                        .oauth
                        .authorization(index, &client, tool.plan.oauth_scopes)
                        .await?;
                    fetched.push((index, header.clone()));
                    applied.push((index, Credential::Authorization(header)));
                }
                other => applied.push((index, other)),
            }
        }
        Ok(ChosenCredentials {
            applied,
            fetched,
            exchanged: None,
            callers: caller.iter().any(Option::is_some),
        })
    }

    /// Builds and sends the request with `credentials`, repeating it where safe. Returns what
    /// came back and how many attempts were made.
    async fn send(
        &self,
        tool: &ToolDescriptor,
        args: &JsonObject,
        credentials: &ChosenCredentials,
        trace: Option<&TraceContext>,
    ) -> Result<(Exchange, u32), CallError> {
        let mut prepared = request::build(
            &tool.plan,
            args,
            self.upstream_of(tool),
            self.state.api.security_schemes,
            &credentials.applied,
        )?;
        // A stream is asked for by its media type, unless a parameter already chose one.
        if let Some(format) = tool.stream
            && !prepared.headers.contains_key(http::header::ACCEPT)
        {
            prepared.headers.insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static(format.media_type()),
            );
        }
        // The upstream request is a span of the caller's trace, unless the operation sets
        // these headers itself.
        if let Some(trace) = trace {
            for (name, value) in trace.child_headers() {
                if !prepared.headers.contains_key(name) {
                    prepared.headers.insert(name, value);
                }
            }
        }
        // A caller's credential too: the request's origin is the upstream's, and redirects
        // never change it.
        if !credentials.applied.is_empty() && !self.state.credentials_may_travel[self.api_of(tool)]
        {
            return Err(InsecureCredentials::new(&prepared.url).into());
        }
        if let Some(body) = &prepared.body
            && body.len() >= notify::LARGE_BODY_BYTES
        {
            let size = body.len() as u64;
            notify::progress(Some(0), Some(size), || {
                format!(
                    "sending {size} bytes to {} {}",
                    tool.plan.method.as_str(),
                    tool.plan.path
                )
            })
            .await;
        }
        Ok(self.send_with_retries(tool, &prepared).await)
    }

    /// Sends `prepared`, repeating it after a 429, 502, 503 or 504 answer or a failure to
    /// connect when the method is idempotent, as the retry policy allows. Returns the last
    /// exchange and the number of attempts.
    pub(super) async fn send_with_retries(
        &self,
        tool: &ToolDescriptor,
        prepared: &PreparedRequest,
    ) -> (Exchange, u32) {
        let idempotent = tool.plan.method.is_idempotent();
        // For notifications: the operation, not the request (whose path holds argument values).
        let operation = || format!("{} {}", tool.plan.method.as_str(), tool.plan.path);
        let policy = self.state.config.retry;
        let started = Instant::now();
        // Durations, not instants: a huge `Retry-After` must not overflow a clock reading.
        let fits = |wait: Duration| started.elapsed().saturating_add(wait) <= policy.budget;
        let described = prepared.describe();
        let mut retries = 0u32;
        loop {
            let may_retry = idempotent && retries < policy.max_retries;
            let mut builder = self.state.clients[self.api_of(tool)]
                .request(prepared.method.clone(), prepared.url.clone())
                .headers(prepared.headers.clone());
            if let Some(body) = &prepared.body {
                builder = builder.body(body.clone());
            }
            let sent = builder.send().await;
            self.state
                .metrics
                .upstream_answered(sent.as_ref().ok().map(reqwest::Response::status));
            let wait = match sent {
                Ok(response) => {
                    let status = response.status();
                    let asked = retry::retry_after(response.headers(), SystemTime::now());
                    let wait = asked.unwrap_or_else(|| retry::backoff(retries));
                    if !(may_retry && retry::is_retryable_status(status) && fits(wait)) {
                        let retry_after = asked.filter(|_| retry::is_retryable_status(status));
                        return (
                            self.read_answer(response, &described, retry_after).await,
                            retries + 1,
                        );
                    }
                    tracing::debug!(
                        request = %described,
                        status = status.as_u16(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    (wait, format!("answered {status}"))
                }
                Err(e) => {
                    let wait = retry::backoff(retries);
                    if !(may_retry && is_connection_failure(&e) && fits(wait)) {
                        return (
                            Exchange::Failed(transport_error(&described, &e)),
                            retries + 1,
                        );
                    }
                    tracing::debug!(request = %described, "retrying after a connection failure");
                    (wait, "could not be sent (connection failed)".to_owned())
                }
            };
            let (wait, why) = wait;
            let retrying = || {
                format!(
                    "{} {why}; trying again in {} ms (retry {} of {})",
                    operation(),
                    wait.as_millis(),
                    retries + 1,
                    policy.max_retries
                )
            };
            notify::progress(None, None, retrying).await;
            notify::log(notify::Level::Warning, retrying).await;
            tokio::time::sleep(wait).await;
            self.state.metrics.retried();
            retries += 1;
        }
    }

    /// Reads the pages after `first` (see [`pages`]), up to `pages` in all, and returns one
    /// answer with the items of every page read, with a line for the model on how many were
    /// read and why reading stopped. `first` comes back as it is when it is no JSON page.
    async fn read_more_pages(
        &self,
        tool: &ToolDescriptor,
        pagination: Pagination,
        args: &JsonObject,
        first: Exchange,
        pages: u64,
        credentials: &ChosenCredentials,
    ) -> (Exchange, Option<String>) {
        let not_paged = |first| (first, None);
        let Exchange::Answer {
            request,
            status,
            content_type,
            body,
            truncated: false,
            retry_after,
            url,
            next_link,
            location,
        } = first
        else {
            return not_paged(first);
        };
        let rebuilt = |body| Exchange::Answer {
            request: request.clone(),
            status,
            content_type: content_type.clone(),
            body,
            truncated: false,
            retry_after,
            url: url.clone(),
            next_link: next_link.clone(),
            location: location.clone(),
        };
        let Some(mut last) = status
            .is_success()
            .then(|| serde_json::from_slice::<Value>(&body).ok())
            .flatten()
            .filter(|page| pages::items(page, pagination.items).is_some())
        else {
            return not_paged(rebuilt(body));
        };
        let limit = self.state.config.max_response_bytes;
        let mut all: Vec<Value> = pages::items(&last, pagination.items)
            .cloned()
            .unwrap_or_default();
        let (mut args, mut url, mut link) = (args.clone(), url.clone(), next_link.clone());
        let mut bytes = body.len();
        let mut read = 1;
        let stopped = loop {
            if read == pages {
                break match pages::next_page(
                    &pagination,
                    &args,
                    &last,
                    link.as_deref(),
                    &url,
                    self.upstream_of(tool),
                ) {
                    pages::Next::End => None,
                    _ => Some(format!(
                        "More pages remain: ask for more with `{}` (at most {}), or go on from \
                         where this answer ends.",
                        pages::PAGES_ARG,
                        pages::MAX_PAGES
                    )),
                };
            }
            let next = pages::next_page(
                &pagination,
                &args,
                &last,
                link.as_deref(),
                &url,
                self.upstream_of(tool),
            );
            let exchange = match next {
                pages::Next::End => break None,
                pages::Next::Arguments(next) => {
                    args = next;
                    match self.send(tool, &args, credentials, None).await {
                        Ok((exchange, _)) => exchange,
                        Err(e) => break Some(format!("Page {} was not read: {e}", read + 1)),
                    }
                }
                pages::Next::Url(next) => match self.follow_up(tool, next, credentials) {
                    Ok(prepared) => self.send_with_retries(tool, &prepared).await.0,
                    Err(e) => break Some(format!("Page {} was not read: {e}", read + 1)),
                },
            };
            let page = match exchange {
                Exchange::Answer {
                    status,
                    body,
                    truncated: false,
                    url: page_url,
                    next_link,
                    ..
                } if status.is_success() => {
                    if bytes + body.len() > limit {
                        break Some(format!(
                            "Page {} was not read: the pages together would pass the response \
                             limit of {limit} bytes.",
                            read + 1
                        ));
                    }
                    bytes += body.len();
                    (url, link) = (page_url, next_link);
                    serde_json::from_slice::<Value>(&body).ok()
                }
                Exchange::Answer { status, .. } => {
                    break Some(format!(
                        "Page {} was not read: the upstream answered {status}.",
                        read + 1
                    ));
                }
                Exchange::Failed(message) => {
                    break Some(format!("Page {} was not read: {message}", read + 1));
                }
            };
            let Some(page) = page.filter(|p| pages::items(p, pagination.items).is_some()) else {
                break Some(format!(
                    "Page {} was not read: it is not a page of the same shape.",
                    read + 1
                ));
            };
            let items = pages::items(&page, pagination.items).map_or(0, Vec::len);
            all.extend(
                pages::items(&page, pagination.items)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            last = page;
            read += 1;
            notify::progress(Some(read), Some(pages), || {
                format!("page {read} of up to {pages} read")
            })
            .await;
            if items == 0 {
                break None;
            }
        };
        let count = all.len();
        let merged = pages::with_items(last, pagination.items, all);
        let body = serde_json::to_vec(&merged).unwrap_or_default();
        let mut note = format!(
            "{read} page{} read, {count} item{} in all.",
            if read == 1 { "" } else { "s" },
            if count == 1 { "" } else { "s" }
        );
        if let Some(stopped) = stopped {
            note.push(' ');
            note.push_str(&stopped);
        }
        (rebuilt(body), Some(note))
    }

    /// A GET of a URL the upstream named, with the call's credentials.
    pub(super) fn follow_up(
        &self,
        tool: &ToolDescriptor,
        url: reqwest::Url,
        credentials: &ChosenCredentials,
    ) -> Result<PreparedRequest, CallError> {
        request::follow_up(
            url,
            self.upstream_of(tool),
            self.state.api.security_schemes,
            &credentials.applied,
        )
    }

    /// Reads the answer's body, up to the configured limit.
    async fn read_answer(
        &self,
        mut response: reqwest::Response,
        described: &str,
        retry_after: Option<Duration>,
    ) -> Exchange {
        let status = response.status();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let next_link = response
            .headers()
            .get_all(http::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(pages::next_link)
            .map(str::to_owned);
        let url = response.url().clone();
        let location = tasks::STATUS_HEADERS.iter().find_map(|name| {
            response
                .headers()
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        let limit = self.state.config.max_response_bytes;
        let mut body = Vec::new();
        let mut truncated = false;
        let mut download = Download::new(response.content_length(), limit);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                    download.received(body.len()).await;
                }
                Ok(None) => break,
                // A stream that stops (or runs past the timeout) after some items keeps them:
                // they are returned with a notice that the stream was cut.
                Err(_) if !body.is_empty() && is_stream_media(content_type.as_deref()) => {
                    truncated = true;
                    break;
                }
                Err(e) => return Exchange::Failed(transport_error(described, &e)),
            }
        }
        Exchange::Answer {
            request: described.to_owned(),
            status,
            content_type,
            body,
            truncated,
            retry_after,
            url,
            next_link,
            location,
        }
    }

    /// The tool result for what came back: the answer converted, or the failure told, with
    /// what the model should know on an error (the attempts made, how long the upstream asks
    /// to wait, which credentials the operator could configure).
    pub(super) fn shape(
        &self,
        index: usize,
        tool: &ToolDescriptor,
        exchange: &Exchange,
        attempts: u32,
        credentials: &ChosenCredentials,
    ) -> CallToolResult {
        let (mut result, retry_after) = match exchange {
            Exchange::Answer {
                request,
                status,
                content_type,
                body,
                truncated,
                retry_after,
                ..
            } => (
                to_tool_result(
                    tool,
                    &UpstreamAnswer {
                        status: *status,
                        content_type: content_type.as_deref(),
                        body,
                        truncated: *truncated,
                        request,
                        mask: self.state.maskers[index].as_ref(),
                    },
                ),
                *retry_after,
            ),
            Exchange::Failed(message) => (
                CallToolResult::error(vec![ContentBlock::text(message.clone())]),
                None,
            ),
        };
        if result.is_error != Some(true) {
            return result;
        }
        if attempts > 1 {
            result.content.push(ContentBlock::text(format!(
                "The request was sent {attempts} times ({} {} is safe to repeat); every \
                 attempt failed.",
                tool.plan.method.as_str(),
                tool.plan.path
            )));
        }
        if let Some(wait) = retry_after {
            result.content.push(ContentBlock::text(format!(
                "The upstream asks to wait {} s before trying again.",
                wait.as_secs()
            )));
        }
        let denied = exchange.status().is_some_and(|status| {
            status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN
        });
        if denied && credentials.applied.is_empty() && !credentials.callers {
            self.add_credential_hint(tool, &mut result);
        }
        result
    }

    /// Tells the model, after a 401 or 403 to a call sent without credentials, which ones the
    /// operator can configure.
    fn add_credential_hint(&self, tool: &ToolDescriptor, result: &mut CallToolResult) {
        let schemes = self.state.api.security_schemes;
        let mut options: Vec<String> = Vec::new();
        for alternative in tool.plan.security {
            for &i in *alternative {
                if let Some(s) = schemes.get(i) {
                    let option = match s.kind {
                        SecurityKind::Bearer | SecurityKind::Basic => format!(
                            "set {} or send an Authorization header to this server",
                            s.env.join(" and ")
                        ),
                        SecurityKind::OAuth2ClientCredentials { .. } => format!(
                            "set {} and {} (or an access token in {}), or send an \
                             Authorization header to this server",
                            s.env.get(1).copied().unwrap_or_default(),
                            s.env.get(2).copied().unwrap_or_default(),
                            s.env.first().copied().unwrap_or_default()
                        ),
                        SecurityKind::ApiKey(..) => format!("set {}", s.env.join(" and ")),
                    };
                    options.push(option);
                }
            }
        }
        if !options.is_empty() {
            result.content.push(ContentBlock::text(format!(
                "No upstream credential was configured for this call. The server's operator \
                 can {}.",
                options.join("; or ")
            )));
        }
    }

    /// Replaces a successful JSON result by the fields `paths` select. The text the model
    /// reads is always the selection; the structured content is too, unless the tool declares
    /// an output schema that the selection no longer matches (strict clients check it), in
    /// which case it stays whole.
    fn select_fields(
        &self,
        index: usize,
        tool: &ToolDescriptor,
        result: &mut CallToolResult,
        paths: &[FieldPath],
        strict_output: bool,
    ) {
        let Some(structured) = result.structured_content.as_ref() else {
            return;
        };
        // The model sees `{"result": ...}` around answers that are not objects; paths may
        // start inside it or with `result`.
        let paths: Vec<FieldPath> = if tool.output_wrapped {
            paths
                .iter()
                .map(|p| {
                    if p.first() == Some("result") {
                        p.clone()
                    } else {
                        p.under("result")
                    }
                })
                .collect()
        } else {
            paths.to_vec()
        };
        let missing = fields::unmatched(structured, &paths);
        let selected =
            fields::select(structured, &paths).unwrap_or_else(|| Value::Object(JsonObject::new()));
        let shown = if tool.output_wrapped {
            selected.get("result").cloned().unwrap_or(Value::Null)
        } else {
            selected.clone()
        };
        let mut content = vec![ContentBlock::text(shown.to_string())];
        if !missing.is_empty() {
            content.push(ContentBlock::text(format!(
                "No field matched {}. The answer's fields are: {}.",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                field_names(structured, tool.output_wrapped)
            )));
        }
        result.content = content;
        let conforms = !strict_output || self.output_conforms(index, &selected);
        if conforms {
            result.structured_content = Some(selected);
        }
    }

    fn output_conforms(&self, index: usize, value: &Value) -> bool {
        let Some(schema) = self.output_schema(index) else {
            return true;
        };
        let validator = self.state.output_validators[index]
            .get_or_init(|| ArgumentValidator::from_embedded(schema));
        validator.as_ref().is_ok_and(|v| v.check(value).is_ok())
    }
}

/// How a call of a tool that is not an operation ended, for the audit log: `ok`, or
/// `tool_error` when its result is an error.
pub(super) fn tool_outcome(result: &CallToolResult) -> &'static str {
    if result.is_error == Some(true) {
        "tool_error"
    } else {
        "ok"
    }
}

/// The top-level field names of an answer (of its first element, for a list), for messages.
/// Progress of a large download, reported at every tenth of its size (or every MiB when the
/// size is not known) and when the last byte of an announced size has arrived, when the
/// request asked for progress.
struct Download {
    total: Option<u64>,
    step: u64,
    next: u64,
    wanted: bool,
}

impl Download {
    fn new(length: Option<u64>, limit: usize) -> Self {
        let total = length.map(|l| l.min(limit as u64));
        let large = total.is_none_or(|t| t >= notify::LARGE_BODY_BYTES as u64);
        let step = match total {
            Some(total) => (total / 10).max(64 * 1024),
            None => 1024 * 1024,
        };
        Download {
            total,
            step,
            next: step,
            // Nothing to report for a small answer, or when nobody asked.
            wanted: large && notify::wants_progress(),
        }
    }

    async fn received(&mut self, bytes: usize) {
        let bytes = bytes as u64;
        let complete = self.total == Some(bytes);
        if !self.wanted || (bytes < self.next && !complete) {
            return;
        }
        self.next = bytes.saturating_add(self.step);
        let total = self.total;
        notify::progress(Some(bytes), total, || match total {
            Some(total) => format!("{bytes} of {total} bytes of the answer received"),
            None => format!("{bytes} bytes of the answer received"),
        })
        .await;
    }
}

fn field_names(structured: &Value, wrapped: bool) -> String {
    let value = if wrapped {
        structured.get("result").unwrap_or(structured)
    } else {
        structured
    };
    let object = match value {
        Value::Array(items) => items.first(),
        other => Some(other),
    };
    match object.and_then(Value::as_object) {
        Some(map) if !map.is_empty() => {
            let mut names: Vec<String> = map.keys().take(30).map(|k| format!("`{k}`")).collect();
            if map.len() > 30 {
                names.push("...".to_owned());
            }
            names.join(", ")
        }
        _ => "none (the answer is not an object)".to_owned(),
    }
}

/// Whether the request failed before any answer arrived, in a way a new connection may not
/// (refused, reset, closed): repeating an idempotent request is then safe. Timeouts are not
/// among them: the time is spent, and the upstream may still be working on it.
fn is_connection_failure(error: &reqwest::Error) -> bool {
    if error.is_timeout() || error.is_body() || error.is_decode() || error.is_redirect() {
        return false;
    }
    error.is_connect() || error.is_request()
}

/// Describes a failed exchange without the URL: reqwest's own message would include the query
/// string, which may hold an API key.
fn transport_error(described: &str, error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect to the upstream API"
    } else if error.is_redirect() {
        "was redirected too often"
    } else if error.is_body() || error.is_decode() {
        "failed while reading the response body"
    } else {
        "failed"
    };
    let mut source = std::error::Error::source(error);
    let mut cause = String::new();
    while let Some(err) = source {
        cause = err.to_string();
        source = err.source();
    }
    if cause.is_empty() || cause.contains("://") {
        format!("The request {described} {what}.")
    } else {
        format!("The request {described} {what}: {cause}.")
    }
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::ApiDescriptor;
    use super::super::tests::{TOOL, api, config};
    use super::*;
    use serde_json::json;

    static PLAIN: ApiDescriptor = api(&[TOOL]);

    fn server() -> GeneratedServer {
        GeneratedServer::new(&PLAIN, config(None)).unwrap()
    }

    #[test]
    fn selections_that_break_the_output_schema_leave_the_structure_whole() {
        let server = server();
        let answer = json!({"id": "1", "name": "Rex", "extra": true});
        let select = |fields: &[&str], strict: bool| {
            let mut result = CallToolResult::structured(answer.clone());
            let paths: Vec<FieldPath> = fields
                .iter()
                .map(|f| FieldPath::parse(f).unwrap())
                .collect();
            server.select_fields(0, &PLAIN.tools[0], &mut result, &paths, strict);
            result
        };
        let kept = select(&["id", "name"], true);
        assert_eq!(
            kept.structured_content,
            Some(json!({"id": "1", "name": "Rex"}))
        );
        let names_only = select(&["name"], true);
        assert_eq!(names_only.structured_content, Some(answer.clone()));
        assert_eq!(
            names_only.content[0].as_text().map(|t| t.text.as_str()),
            Some(r#"{"name":"Rex"}"#)
        );
        let loose = select(&["name"], false);
        assert_eq!(loose.structured_content, Some(json!({"name": "Rex"})));
    }

    #[test]
    fn bad_arguments_are_a_tool_error_that_says_how_to_fix_them() {
        let server = server();
        let result = |args: Value| {
            let Value::Object(args) = args else {
                unreachable!()
            };
            match server.checked_arguments(0, &PLAIN.tools[0], Some(args)) {
                Ok(_) => None,
                Err(e) => Some(CallToolResult::from(e)),
            }
        };
        assert!(result(json!({"_fields": ["id"]})).is_none());
        let refused = result(json!({"bogus": 1})).unwrap();
        assert_eq!(refused.is_error, Some(true));
        let text = &refused.content[0].as_text().unwrap().text;
        assert!(
            text.starts_with("Invalid arguments for `getThing`:\n- ")
                && text.ends_with(
                    "\nFix these arguments (see the tool's inputSchema) and call the tool again."
                ),
            "{text}"
        );
        let refused = result(json!({"_fields": 7})).unwrap();
        let text = &refused.content[0].as_text().unwrap().text;
        assert!(
            text.contains("- `_fields` must be a list of field paths, found 7\n"),
            "{text}"
        );
    }

    use super::super::credentials::EnvCredentials;
    use super::super::descriptor::{
        CallPlan, ParamLocation, SecurityKind, SecuritySchemeDescriptor,
    };

    static SCHEMES: &[SecuritySchemeDescriptor] = &[
        SecuritySchemeDescriptor {
            name: "bearerAuth",
            kind: SecurityKind::Bearer,
            env: &["T_BEARER_AUTH_TOKEN"],
        },
        SecuritySchemeDescriptor {
            name: "apiKey",
            kind: SecurityKind::ApiKey(ParamLocation::Header, "X-Api-Key"),
            env: &["T_API_KEY"],
        },
    ];
    /// `apiKey` or `bearerAuth`; `bearerAuth` and `apiKey`; `apiKey` alone.
    static SECURED: ApiDescriptor = ApiDescriptor {
        security_schemes: SCHEMES,
        ..api(&[
            ToolDescriptor {
                name: "either",
                plan: CallPlan {
                    security: &[&[1], &[0]],
                    ..TOOL.plan
                },
                ..TOOL
            },
            ToolDescriptor {
                name: "both",
                plan: CallPlan {
                    security: &[&[0, 1]],
                    ..TOOL.plan
                },
                ..TOOL
            },
            ToolDescriptor {
                name: "keyOnly",
                plan: CallPlan {
                    security: &[&[1]],
                    ..TOOL.plan
                },
                ..TOOL
            },
        ])
    };

    /// A server of [`SECURED`] whose environment holds the API key only, with pass-through
    /// on or off.
    fn secured(passthrough: bool) -> GeneratedServer {
        let env = EnvCredentials::load(SCHEMES, |name| {
            (name == "T_API_KEY").then(|| "env-key".into())
        })
        .unwrap();
        let mut config = config(None);
        config.passthrough = passthrough;
        GeneratedServer::with_credentials(&SECURED, config, env).unwrap()
    }

    /// What `credentials_for` chooses for the operation `index` with the caller's `headers`:
    /// scheme and value of each credential, or the refusal's text.
    async fn chosen(
        server: &GeneratedServer,
        index: usize,
        headers: Option<&http::HeaderMap>,
    ) -> Result<Vec<(usize, String)>, String> {
        chosen_for(server, index, Inbound::from_headers(headers)).await
    }

    /// [`chosen`] for a request the transport knows more of.
    async fn chosen_for(
        server: &GeneratedServer,
        index: usize,
        inbound: Inbound<'_>,
    ) -> Result<Vec<(usize, String)>, String> {
        match server.credentials_for(&SECURED.tools[index], inbound).await {
            Ok(chosen) => Ok(chosen
                .applied
                .iter()
                .map(|(i, c)| match c {
                    Credential::Authorization(s) | Credential::ApiKey(s) => {
                        (*i, s.expose().to_owned())
                    }
                    Credential::ClientCredentials(_) => (*i, "client".to_owned()),
                })
                .collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[tokio::test]
    async fn a_callers_credentials_are_never_mixed_with_the_environments() {
        let server = secured(true);
        let mut bearer = http::HeaderMap::new();
        bearer.insert("authorization", "Bearer caller".parse().unwrap());
        let nothing = http::HeaderMap::new();
        // OR, the operator's key first in document order: the caller's bearer is used alone.
        assert_eq!(
            chosen(&server, 0, Some(&bearer)).await,
            Ok(vec![(0, "Bearer caller".to_owned())])
        );
        // AND: the caller's bearer is not completed with the operator's key.
        let refused = chosen(&server, 1, Some(&bearer)).await.unwrap_err();
        assert!(
            refused.contains("`both`")
                && refused.contains(
                    "`bearerAuth` (an `Authorization: Bearer ...` header) and \
                                     `apiKey` (the `X-Api-Key` header) together"
                ),
            "{refused}"
        );
        assert!(
            !refused.contains("Bearer caller") && !refused.contains("env-key"),
            "{refused}"
        );
        // A credential for a scheme the operation does not use: refused as well.
        assert!(chosen(&server, 2, Some(&bearer)).await.is_err());
        // Nothing presented, over HTTP or stdio: the environment's.
        for headers in [Some(&nothing), None] {
            assert_eq!(
                chosen(&server, 0, headers).await,
                Ok(vec![(1, "env-key".to_owned())])
            );
            assert_eq!(chosen(&server, 1, headers).await, Ok(Vec::new()));
        }
        // With pass-through off, the caller's credentials count for nothing.
        let server = secured(false);
        assert_eq!(
            chosen(&server, 2, Some(&bearer)).await,
            Ok(vec![(1, "env-key".to_owned())])
        );
    }

    #[tokio::test]
    async fn an_exchanged_token_goes_alone_to_the_first_bearer_alternative() {
        use super::super::credentials::ClientCredentials;
        use super::super::token_exchange::TokenExchangeSettings;
        let env = EnvCredentials::load(SCHEMES, |name| {
            (name == "T_API_KEY").then(|| "env-key".into())
        })
        .unwrap();
        let mut config = config(None);
        config.passthrough = false;
        config.token_exchange = Some(TokenExchangeSettings {
            issuer: "http://127.0.0.1:9".to_owned(),
            resource: "http://127.0.0.1:9/v1".to_owned(),
            audience: None,
            scope: None,
            // Nothing listens there: a token that is not cached cannot be exchanged.
            url: Some("http://127.0.0.1:9/token".to_owned()),
            client: std::sync::Arc::new(ClientCredentials {
                client_id: Secret::new("rs"),
                client_secret: Secret::new("rs-secret"),
            }),
        });
        let server = GeneratedServer::with_credentials(&SECURED, config, env).unwrap();
        let exchanger = server.state.token_exchange.as_ref().unwrap();
        let caller = Caller {
            subject: "alice".to_owned(),
            scopes: Vec::new(),
            access_token: Some(Secret::new("alice-inbound")),
        };
        exchanger.prime(
            &caller,
            &Secret::new("Bearer exchanged"),
            Duration::from_secs(600),
        );
        let by = |caller| Inbound {
            caller,
            ..Inbound::default()
        };
        let alice = &caller;
        // `apiKey` or `bearerAuth`: the exchanged token as the bearer, without the key.
        assert_eq!(
            chosen_for(&server, 0, by(Some(alice))).await,
            Ok(vec![(0, "Bearer exchanged".to_owned())])
        );
        // No alternative of bearer schemes only: the environment's, as without exchange.
        assert_eq!(
            chosen_for(&server, 1, by(Some(alice))).await,
            Ok(Vec::new())
        );
        assert_eq!(
            chosen_for(&server, 2, by(Some(alice))).await,
            Ok(vec![(1, "env-key".to_owned())])
        );
        // No caller (stdio, or a call made outside a transport): the environment's.
        assert_eq!(
            chosen_for(&server, 0, by(None)).await,
            Ok(vec![(1, "env-key".to_owned())])
        );
        // A token that cannot be exchanged: the call is refused, and says so without a token.
        let bob = Caller {
            subject: "bob".to_owned(),
            scopes: Vec::new(),
            access_token: Some(Secret::new("bob-inbound")),
        };
        let refused = chosen_for(&server, 0, by(Some(&bob))).await.unwrap_err();
        assert!(
            refused.contains("could not be exchanged") && !refused.contains("bob-inbound"),
            "{refused}"
        );
    }
}
