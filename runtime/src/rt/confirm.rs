//! Confirmation before calls that change things (`--confirm none|destructive|writes`,
//! `--confirm-tool SELECTOR`): the user behind the MCP client is asked, and no upstream request
//! is made until the user accepts.
//!
//! How the question travels depends on the client:
//! - 2025-06-18 and 2025-11-25 clients that declared form elicitation, on a connection the
//!   server can send requests on (stdio, or HTTP with `--sessions`), get an `elicitation/create`
//!   request in the middle of the call.
//! - 2026-07-28 clients that declared elicitation get an input-required result carrying the
//!   same elicitation request and a signed `requestState`; they retry the call with the user's
//!   answer in `inputResponses` and the state echoed back.
//! - Every other client cannot be asked, and the call is a tool error saying what the operator
//!   can change.
//!
//! A client echoes `requestState` back as it pleases, so the state is an HMAC-SHA256 tag over
//! the tool, a hash of its arguments, the caller and an expiry: an acceptance is good only for
//! the call it was asked about, for [`ANSWER_TIME`], and only on a server holding the same key
//! (one drawn at random per process, or `--confirm-key-file` shared by replicas).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::ValueEnum;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use rmcp::model::{
    CallToolResponse, CallToolResult, ClientCapabilities, ClientResult, ContentBlock,
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputRequiredResult, InputResponses, JsonObject, ServerRequest,
};
use rmcp::service::{Peer, PeerRequestOptions, RoleServer};
use serde_json::Value;

use super::call::Inbound;
use super::config::glob_matches;
use super::descriptor::{ToolDescriptor, ToolHints};
use super::metrics::Outcome;
use super::server::GeneratedServer;

/// How long the user has to answer: the wait for an elicitation's answer, and the life of a
/// `requestState`.
pub const ANSWER_TIME: Duration = Duration::from_secs(10 * 60);

/// The key of the confirmation in `inputRequests` and `inputResponses`, and the name of the
/// boolean the user sets in the form.
pub const CONFIRM_FIELD: &str = "confirm";

/// Shared keys shorter than this are refused: the tag is only as strong as the key.
pub const MIN_KEY_BYTES: usize = 32;

/// Separates these tags from any other use of the same key.
const DOMAIN: &[u8] = b"mcpgen/confirm/v1";

/// The prefix of every `requestState` this module issues (its format's version).
const STATE_PREFIX: &str = "c1";

/// Which tools ask the user before they send anything, by what their method does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ConfirmMode {
    /// No tool asks (unless `--confirm-tool` names it).
    #[default]
    None,
    /// Tools that may destroy data (DELETE, and other methods that remove or replace).
    Destructive,
    /// Every tool that is not read-only (POST, PUT, PATCH, DELETE, ...).
    Writes,
}

impl ConfirmMode {
    /// Whether a tool with these hints asks in this mode.
    fn covers(self, hints: ToolHints) -> bool {
        match self {
            ConfirmMode::None => false,
            ConfirmMode::Destructive => hints.destructive,
            ConfirmMode::Writes => !hints.read_only,
        }
    }
}

/// Whether `selector` (a tool-name glob, or `tag:NAME`) names `tool`.
pub fn selector_matches(selector: &str, tool: &ToolDescriptor) -> bool {
    match selector.strip_prefix("tag:") {
        Some(tag) => tool.tags.contains(&tag),
        None => glob_matches(selector, tool.name),
    }
}

/// Whether calls of `tool` wait for the user's confirmation: its hints are covered by `mode`,
/// or one of `selectors` names it.
pub fn needs_confirmation(mode: ConfirmMode, selectors: &[String], tool: &ToolDescriptor) -> bool {
    // Operations the generation settings named (`confirm_operations`, `x-mcpgen` `confirm`)
    // ask whenever confirmation is on.
    let named = mode != ConfirmMode::None && tool.guardrails.confirm;
    named || mode.covers(tool.hints) || selectors.iter().any(|s| selector_matches(s, tool))
}

/// Why the user behind a call cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The call did not come from an MCP client (a program calling the server directly).
    NoClient,
    /// A client of a revision before 2026-07-28 over HTTP without a session: the server cannot
    /// send it a request in the middle of a call.
    Stateless,
    /// The client did not declare form elicitation.
    NoElicitation,
    /// A hand-written tool made the call for a client that is asked with input-required
    /// results, which a nested call cannot return.
    Nested,
    /// A resource read, which this server answers only with the resource.
    ResourceRead,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unreachable::NoClient => "the call did not come from an MCP client",
            Unreachable::Stateless => {
                "it speaks a protocol revision before 2026-07-28 over HTTP, and without \
                 --sessions this server cannot send it a request in the middle of a call"
            }
            Unreachable::NoElicitation => "it did not declare the elicitation capability",
            Unreachable::Nested => {
                "the call was made by another tool of this server, which cannot pass the \
                 question on to this client"
            }
            Unreachable::ResourceRead => "a resource read cannot carry the question",
        })
    }
}

/// How the user behind a call can be asked to confirm it: what the transport knows of the
/// client.
#[derive(Clone, Copy)]
pub enum Asker<'a> {
    /// Nobody can be asked.
    Unable(Unreachable),
    /// A client that answers `elicitation/create` requests on this connection.
    Elicit(&'a Peer<RoleServer>),
    /// A 2026-07-28 client, asked with an input-required result; on its retry, what it sent
    /// back.
    InputRequired {
        /// The answers to the input requests.
        responses: Option<&'a InputResponses>,
        /// The `requestState` echoed back.
        state: Option<&'a str>,
    },
}

impl Default for Asker<'_> {
    fn default() -> Self {
        Asker::Unable(Unreachable::NoClient)
    }
}

impl<'a> Asker<'a> {
    /// How a client of `capabilities` speaking `revision_2026` (2026-07-28 or later) can be
    /// asked. `retry`: the input responses and request state of the call, when it is a tool
    /// call (`None` for a resource read). `stateless`: a request over HTTP without a session.
    pub fn for_client(
        peer: &'a Peer<RoleServer>,
        capabilities: Option<&ClientCapabilities>,
        revision_2026: bool,
        stateless: bool,
        retry: Option<(Option<&'a InputResponses>, Option<&'a str>)>,
    ) -> Self {
        let elicits = capabilities
            .and_then(|c| c.elicitation.as_ref())
            // No mode named means form (2025-06-18 declared `elicitation: {}`).
            .is_some_and(|e| e.form.is_some() || e.url.is_none());
        if revision_2026 {
            match retry {
                _ if !elicits => Asker::Unable(Unreachable::NoElicitation),
                Some((responses, state)) => Asker::InputRequired { responses, state },
                None => Asker::Unable(Unreachable::ResourceRead),
            }
        } else if stateless {
            Asker::Unable(Unreachable::Stateless)
        } else if elicits {
            Asker::Elicit(peer)
        } else {
            Asker::Unable(Unreachable::NoElicitation)
        }
    }
}

/// An [`Asker`] a hand-written tool keeps for the calls of generated tools it makes: the
/// same connection's elicitation, or why nobody can be asked (a 2026-07-28 client's
/// input-required answer cannot come from a nested call).
#[derive(Clone)]
pub enum NestedAsker {
    /// Ask on this connection.
    Elicit(Peer<RoleServer>),
    /// Nobody can be asked.
    Unable(Unreachable),
}

impl Default for NestedAsker {
    fn default() -> Self {
        NestedAsker::Unable(Unreachable::NoClient)
    }
}

impl NestedAsker {
    /// What the calls made while serving a call that `outer` could ask for can ask.
    pub fn of(outer: Asker<'_>) -> Self {
        match outer {
            Asker::Elicit(peer) => NestedAsker::Elicit(peer.clone()),
            Asker::Unable(why) => NestedAsker::Unable(why),
            Asker::InputRequired { .. } => NestedAsker::Unable(Unreachable::Nested),
        }
    }

    /// The asker of one such call.
    pub fn asker(&self) -> Asker<'_> {
        match self {
            NestedAsker::Elicit(peer) => Asker::Elicit(peer),
            NestedAsker::Unable(why) => Asker::Unable(*why),
        }
    }
}

/// The tool result of a call that cannot answer with anything else (a resource read, a call
/// made by a program or a hand-written tool): input-required answers, which such a call never
/// gets since nobody can be asked that way, become a tool error.
pub fn completed(response: CallToolResponse) -> CallToolResult {
    match response {
        CallToolResponse::Complete(result) => result,
        _ => CallToolResult::error(vec![ContentBlock::text(
            "The call needs input from the client that this way of calling cannot carry; \
             nothing was sent to the upstream API.",
        )]),
    }
}

/// Why a call that needs confirmation sent nothing. The messages are for the model (and the
/// person reading along): they say what happened and what can change it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfirmError {
    /// The client cannot be asked.
    #[error(
        "`{tool}` needs the user's confirmation before it sends {request} to the upstream API, \
         and this client cannot be asked: {why}. Nothing was sent. The server's operator can \
         serve HTTP with --sessions (for clients of revisions before 2026-07-28), use an MCP \
         client that supports elicitation, or stop asking with --confirm none (and without a \
         --confirm-tool naming this tool)."
    )]
    CannotAsk {
        /// The tool.
        tool: &'static str,
        /// `METHOD /path/template`.
        request: String,
        /// Why not.
        why: Unreachable,
    },
    /// The user said no, or dismissed the question.
    #[error(
        "The user {} `{tool}` ({request}); nothing was sent to the upstream API. Do not call it \
         again unless the user asks for it.",
        if *.cancelled { "dismissed the confirmation of" } else { "declined" }
    )]
    Declined {
        /// The tool.
        tool: &'static str,
        /// `METHOD /path/template`.
        request: String,
        /// Dismissed rather than declined.
        cancelled: bool,
    },
    /// No usable answer came.
    #[error(
        "The confirmation of `{tool}` ({request}) got no usable answer: {problem}. Nothing was \
         sent to the upstream API."
    )]
    Unanswered {
        /// The tool.
        tool: &'static str,
        /// `METHOD /path/template`.
        request: String,
        /// What went wrong.
        problem: String,
    },
    /// The `requestState` of a retry is not one this server issued for this call.
    #[error(
        "The requestState sent back for `{tool}` cannot be used: {problem}. Nothing was sent to \
         the upstream API; call the tool again without requestState to ask the user again."
    )]
    BadState {
        /// The tool.
        tool: &'static str,
        /// What is wrong with it.
        problem: StateProblem,
    },
}

impl ConfirmError {
    /// How the call is counted.
    pub fn outcome(&self) -> Outcome {
        match self {
            ConfirmError::Declined { .. } => Outcome::Declined,
            _ => Outcome::Unconfirmed,
        }
    }
}

/// What is wrong with a `requestState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateProblem {
    /// Not of this module's format.
    #[error("it is not a confirmation state of this server")]
    Malformed,
    /// The tag does not match: forged, altered, issued for another call or caller, or by a
    /// server with another key.
    #[error(
        "it was not issued by this server for this tool with these arguments (a replica with \
         another key, or an altered state)"
    )]
    NotIssued,
    /// Its time is up.
    #[error("it has expired")]
    Expired,
}

/// Why the confirmation key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file cannot be read.
    #[error("cannot read --confirm-key-file `{}`: {source}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The key file holds too little.
    #[error(
        "--confirm-key-file `{}` holds {len} bytes; a key needs at least {MIN_KEY_BYTES} \
         (e.g. `head -c 32 /dev/urandom | base64 > FILE`)",
        .path.display()
    )]
    TooShort {
        /// The file.
        path: PathBuf,
        /// Its length, trimmed.
        len: usize,
    },
    /// The system's random number generator failed.
    #[error("cannot draw a random confirmation key")]
    Random,
}

/// The key `requestState` tags are made with.
pub struct StateKey(hmac::Key);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(<redacted>)")
    }
}

/// What one `requestState` speaks for.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The tool (the operation's name, also when reached through `call_operation`).
    pub tool: &'a str,
    /// Who calls, as far as the transport verified it (empty when unknown).
    pub caller: &'a str,
    /// The operation's arguments, as validated.
    pub arguments: &'a JsonObject,
}

impl StateKey {
    /// A key drawn at random: states of this process are good only with this process.
    pub fn random() -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| KeyError::Random)?;
        Ok(StateKey(hmac::Key::new(hmac::HMAC_SHA256, &bytes)))
    }

    /// The key in `path` (its bytes, surrounding whitespace removed), shared by replicas.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        let key = bytes.trim_ascii();
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                path: path.to_owned(),
                len: key.len(),
            });
        }
        Ok(StateKey(hmac::Key::new(hmac::HMAC_SHA256, key)))
    }

    /// The tag of `bytes` under this key (for other sealed state, such as task ids).
    pub(super) fn sign(&self, bytes: &[u8]) -> Vec<u8> {
        hmac::sign(&self.0, bytes).as_ref().to_vec()
    }

    /// Whether `tag` is the tag of `bytes` under this key (in constant time).
    pub(super) fn verify(&self, bytes: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.0, bytes, tag).is_ok()
    }

    /// A `requestState` for `binding`, good until [`ANSWER_TIME`] after `now`:
    /// `c1.<expiry in Unix seconds>.<tag, base64url>`.
    pub fn seal(&self, binding: Binding<'_>, now: SystemTime) -> String {
        let expires = unix_seconds(now).saturating_add(ANSWER_TIME.as_secs());
        let tag = hmac::sign(&self.0, &signed_bytes(binding, expires));
        format!(
            "{STATE_PREFIX}.{expires}.{}",
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    /// Checks that `state` was sealed by this key for `binding` and has not expired at `now`.
    pub fn open(
        &self,
        state: &str,
        binding: Binding<'_>,
        now: SystemTime,
    ) -> Result<(), StateProblem> {
        let mut parts = state.split('.');
        let (Some(STATE_PREFIX), Some(expires), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(StateProblem::Malformed);
        };
        let expires: u64 = expires.parse().map_err(|_| StateProblem::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| StateProblem::Malformed)?;
        hmac::verify(&self.0, &signed_bytes(binding, expires), &tag)
            .map_err(|_| StateProblem::NotIssued)?;
        if unix_seconds(now) > expires {
            return Err(StateProblem::Expired);
        }
        Ok(())
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a tag covers: the domain, the expiry, the tool, the caller and the SHA-256 of the
/// arguments in canonical JSON, each field length-prefixed so that no two bindings share bytes.
fn signed_bytes(binding: Binding<'_>, expires: u64) -> Vec<u8> {
    let mut canonical = Vec::new();
    write_canonical(&Value::Object(binding.arguments.clone()), &mut canonical);
    let arguments = ring::digest::digest(&ring::digest::SHA256, &canonical);
    let mut out = Vec::new();
    for field in [
        DOMAIN,
        expires.to_string().as_bytes(),
        binding.tool.as_bytes(),
        binding.caller.as_bytes(),
        arguments.as_ref(),
    ] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// JSON with every object's keys sorted: the same arguments hash alike whatever order a client
/// sends their keys in.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
                out.push(b':');
                write_canonical(&map[key], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

/// At most this many arguments are shown in the question; the rest are counted.
const SHOWN_ARGUMENTS: usize = 10;
/// A shown value is cut after this many characters.
const SHOWN_VALUE_CHARS: usize = 120;

/// The question: what the tool will send, with the arguments' values (those whose names or
/// schema mark them sensitive hidden), and a form with one required boolean.
fn question(
    tool: &ToolDescriptor,
    arguments: &JsonObject,
    sensitive: impl Fn(&str) -> bool,
) -> ElicitRequestParams {
    let titled = tool
        .title
        .map(|title| format!(" ({title})"))
        .unwrap_or_default();
    let mut shown: Vec<String> = arguments
        .iter()
        .take(SHOWN_ARGUMENTS)
        .map(|(name, value)| {
            if sensitive(name) {
                return format!("{name} = <hidden>");
            }
            let text = value.to_string();
            match text.char_indices().nth(SHOWN_VALUE_CHARS) {
                Some((cut, _)) => format!("{name} = {}…", &text[..cut]),
                None => format!("{name} = {text}"),
            }
        })
        .collect();
    if arguments.len() > SHOWN_ARGUMENTS {
        shown.push(format!("and {} more", arguments.len() - SHOWN_ARGUMENTS));
    }
    let with = if shown.is_empty() {
        "no arguments".to_owned()
    } else {
        shown.join(", ")
    };
    let message = format!(
        "Allow `{}`{titled} to send {} {} to the upstream API, with {with}?",
        tool.name,
        tool.plan.method.as_str(),
        tool.plan.path
    );
    let schema = ElicitationSchema::builder()
        .required_bool_property(CONFIRM_FIELD, |b| {
            b.title("Send this request")
                .description("Set to true to let the server send the request; false sends nothing.")
        })
        .build_unchecked();
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema: schema,
    }
}

/// What the user answered.
enum Verdict {
    Accepted,
    Declined { cancelled: bool },
}

/// Reads an elicitation's result: accepted only with `confirm: true`.
fn verdict(result: &ElicitResult) -> Verdict {
    match result.action {
        ElicitationAction::Accept
            if result
                .content
                .as_ref()
                .and_then(|c| c.get(CONFIRM_FIELD))
                .and_then(Value::as_bool)
                == Some(true) =>
        {
            Verdict::Accepted
        }
        ElicitationAction::Cancel => Verdict::Declined { cancelled: true },
        // Declined, accepted without `confirm: true`, or an action of a later revision.
        _ => Verdict::Declined { cancelled: false },
    }
}

/// Who calls, as a string a state is bound to: a resource server's verified subject, the
/// index of the MCP token that matched, or nothing (a loopback or stdio caller, who cannot be
/// told apart from another).
fn caller_of(inbound: Inbound<'_>) -> String {
    if let Some(caller) = inbound.caller {
        return format!("sub:{}", caller.subject);
    }
    match inbound
        .extensions
        .and_then(|e| e.get::<super::audit::McpTokenIndex>())
    {
        Some(super::audit::McpTokenIndex(i)) => format!("mcp-token:{i}"),
        None => String::new(),
    }
}

impl GeneratedServer {
    /// Asks the user to confirm a call of operation `index` with `arguments` (validated) when
    /// the configuration says it needs it. `Ok(None)`: go ahead. `Ok(Some(_))`: answer the
    /// client with this input-required result, and send nothing. Errors: send nothing.
    pub(super) async fn confirm(
        &self,
        index: usize,
        tool: &'static ToolDescriptor,
        arguments: &JsonObject,
        inbound: Inbound<'_>,
    ) -> Result<Option<InputRequiredResult>, ConfirmError> {
        if !self.state.confirm_needed[index] {
            return Ok(None);
        }
        let request = || format!("{} {}", tool.plan.method.as_str(), tool.plan.path);
        let ask = || {
            let schema = serde_json::from_str(tool.input_schema).unwrap_or_default();
            question(tool, arguments, self.sensitive_arguments(&schema))
        };
        let caller = caller_of(inbound);
        let binding = Binding {
            tool: tool.name,
            caller: &caller,
            arguments,
        };
        let answer = match inbound.asker {
            Asker::Unable(why) => {
                return Err(ConfirmError::CannotAsk {
                    tool: tool.name,
                    request: request(),
                    why,
                });
            }
            Asker::Elicit(peer) => {
                let sent = peer
                    .send_request_with_option(
                        ServerRequest::ElicitRequest(ElicitRequest::new(ask())),
                        PeerRequestOptions::with_timeout(ANSWER_TIME),
                    )
                    .await;
                let answered = match sent {
                    Ok(handle) => handle.await_response().await,
                    Err(e) => Err(e),
                };
                match answered {
                    Ok(ClientResult::ElicitResult(result)) => result,
                    Ok(_) => {
                        return Err(ConfirmError::Unanswered {
                            tool: tool.name,
                            request: request(),
                            problem: "the client answered with something else".to_owned(),
                        });
                    }
                    Err(e) => {
                        return Err(ConfirmError::Unanswered {
                            tool: tool.name,
                            request: request(),
                            problem: e.to_string(),
                        });
                    }
                }
            }
            Asker::InputRequired { state: None, .. } => {
                let mut requests = InputRequests::new();
                requests.insert(
                    CONFIRM_FIELD.to_owned(),
                    InputRequest::Elicitation(ElicitRequest::new(ask())),
                );
                let state = self.state.confirm_key.seal(binding, SystemTime::now());
                return Ok(Some(InputRequiredResult::new(Some(requests), Some(state))));
            }
            Asker::InputRequired {
                responses,
                state: Some(state),
            } => {
                self.state
                    .confirm_key
                    .open(state, binding, SystemTime::now())
                    .map_err(|problem| ConfirmError::BadState {
                        tool: tool.name,
                        problem,
                    })?;
                let response = responses.and_then(|r| r.get(CONFIRM_FIELD));
                match response.map(|r| serde_json::from_value::<ElicitResult>(r.clone())) {
                    Some(Ok(result)) => result,
                    Some(Err(e)) => {
                        return Err(ConfirmError::Unanswered {
                            tool: tool.name,
                            request: request(),
                            problem: format!(
                                "inputResponses.{CONFIRM_FIELD} is not an elicitation result ({e})"
                            ),
                        });
                    }
                    None => {
                        return Err(ConfirmError::Unanswered {
                            tool: tool.name,
                            request: request(),
                            problem: format!("the retry carries no inputResponses.{CONFIRM_FIELD}"),
                        });
                    }
                }
            }
        };
        match verdict(&answer) {
            Verdict::Accepted => Ok(None),
            Verdict::Declined { cancelled } => Err(ConfirmError::Declined {
                tool: tool.name,
                request: request(),
                cancelled,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::TOOL;
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> JsonObject {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        }
    }

    fn binding<'a>(tool: &'a str, caller: &'a str, arguments: &'a JsonObject) -> Binding<'a> {
        Binding {
            tool,
            caller,
            arguments,
        }
    }

    #[test]
    fn a_state_opens_only_for_its_call_within_its_time() {
        let key = StateKey::random().unwrap();
        let now = SystemTime::now();
        let args = object(json!({"petId": "42", "body": {"a": 1, "b": [1, 2]}}));
        let state = key.seal(binding("deletePet", "", &args), now);
        assert!(state.starts_with("c1."), "{state}");
        assert_eq!(
            key.open(&state, binding("deletePet", "", &args), now),
            Ok(())
        );
        // The same arguments with their keys in another order.
        let reordered = object(json!({"body": {"b": [1, 2], "a": 1}, "petId": "42"}));
        assert_eq!(
            key.open(&state, binding("deletePet", "", &reordered), now),
            Ok(())
        );
        // Other arguments, another tool, another caller: not issued for them.
        for (tool, caller, other) in [
            (
                "deletePet",
                "",
                object(json!({"petId": "43", "body": {"a": 1, "b": [1, 2]}})),
            ),
            (
                "deletePet",
                "",
                object(json!({"petId": "42", "body": {"a": 1, "b": [2, 1]}})),
            ),
            ("deletePet", "", object(json!({"petId": "42"}))),
            ("deleteOwner", "", args.clone()),
            ("deletePet", "sub:mallory", args.clone()),
        ] {
            assert_eq!(
                key.open(&state, binding(tool, caller, &other), now),
                Err(StateProblem::NotIssued),
                "{tool} {caller} {other:?}"
            );
        }
        // Past its time.
        let later = now + ANSWER_TIME + Duration::from_secs(2);
        assert_eq!(
            key.open(&state, binding("deletePet", "", &args), later),
            Err(StateProblem::Expired)
        );
    }

    #[test]
    fn altered_or_foreign_states_are_refused() {
        let key = StateKey::random().unwrap();
        let now = SystemTime::now();
        let args = object(json!({"petId": "42"}));
        let good = binding("deletePet", "", &args);
        let state = key.seal(good, now);
        let parts: Vec<&str> = state.split('.').collect();
        // A later expiry with the old tag.
        let extended = format!(
            "c1.{}.{}",
            parts[1].parse::<u64>().unwrap() + 3600,
            parts[2]
        );
        assert_eq!(key.open(&extended, good, now), Err(StateProblem::NotIssued));
        // A tag with one bit flipped.
        let mut tag = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        tag[0] ^= 1;
        let flipped = format!("c1.{}.{}", parts[1], URL_SAFE_NO_PAD.encode(&tag));
        assert_eq!(key.open(&flipped, good, now), Err(StateProblem::NotIssued));
        // Another process's key.
        let other = StateKey::random().unwrap();
        assert_eq!(other.open(&state, good, now), Err(StateProblem::NotIssued));
        // Not a state at all.
        for junk in [
            "",
            "c1",
            "c1.x.y",
            "c2.1.AAAA",
            "c1.1.!!!",
            &format!("{state}.x"),
        ] {
            assert_eq!(
                key.open(junk, good, now),
                Err(StateProblem::Malformed),
                "{junk}"
            );
        }
    }

    #[test]
    fn replicas_sharing_a_key_file_open_each_others_states() {
        let dir = std::env::temp_dir().join(format!("mcpgen-confirm-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
        let (a, b) = (
            StateKey::from_file(&path).unwrap(),
            StateKey::from_file(&path).unwrap(),
        );
        let args = object(json!({}));
        let now = SystemTime::now();
        let state = a.seal(binding("t", "", &args), now);
        assert_eq!(b.open(&state, binding("t", "", &args), now), Ok(()));
        std::fs::write(&path, "too short\n").unwrap();
        let short = StateKey::from_file(&path).unwrap_err().to_string();
        assert!(short.contains("holds 9 bytes"), "{short}");
        let missing = StateKey::from_file(&dir.join("missing")).unwrap_err();
        assert!(matches!(missing, KeyError::Unreadable { .. }));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn modes_and_selectors_choose_the_tools_that_ask() {
        let delete = ToolDescriptor {
            name: "deletePet",
            hints: ToolHints {
                read_only: false,
                destructive: true,
                idempotent: true,
            },
            tags: &["pets"],
            ..TOOL
        };
        let create = ToolDescriptor {
            name: "createPet",
            hints: ToolHints {
                read_only: false,
                destructive: false,
                idempotent: false,
            },
            ..TOOL
        };
        let none: &[String] = &[];
        for (mode, tool, asks) in [
            (ConfirmMode::None, &delete, false),
            (ConfirmMode::Destructive, &delete, true),
            (ConfirmMode::Destructive, &create, false),
            (ConfirmMode::Destructive, &TOOL, false),
            (ConfirmMode::Writes, &create, true),
            (ConfirmMode::Writes, &TOOL, false),
        ] {
            assert_eq!(
                needs_confirmation(mode, none, tool),
                asks,
                "{mode:?} {}",
                tool.name
            );
        }
        let named = ["get*".to_owned()];
        assert!(needs_confirmation(ConfirmMode::None, &named, &TOOL));
        let tagged = ["tag:pets".to_owned()];
        assert!(needs_confirmation(ConfirmMode::None, &tagged, &delete));
        assert!(!needs_confirmation(ConfirmMode::None, &tagged, &create));
    }

    #[test]
    fn the_question_names_the_request_and_hides_sensitive_values() {
        let args = object(json!({"petId": "42", "api_token": "s3cret", "long": "x".repeat(500)}));
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = question(&TOOL, &args, |name| name == "api_token")
        else {
            unreachable!("a form")
        };
        assert!(
            message.starts_with("Allow `getThing` to send GET /thing to the upstream API, with ")
                && message.contains("petId = \"42\"")
                && message.contains("api_token = <hidden>")
                && !message.contains("s3cret")
                && message.contains('…')
                && message.len() < 400,
            "{message}"
        );
        let schema = serde_json::to_value(requested_schema).unwrap();
        assert_eq!(schema["required"], json!([CONFIRM_FIELD]));
        assert_eq!(schema["properties"][CONFIRM_FIELD]["type"], "boolean");
    }

    #[test]
    fn only_an_accepted_true_confirms() {
        let answer = |action, content: Option<Value>| match content {
            Some(content) => ElicitResult::new(action).with_content(content),
            None => ElicitResult::new(action),
        };
        assert!(matches!(
            verdict(&answer(
                ElicitationAction::Accept,
                Some(json!({"confirm": true}))
            )),
            Verdict::Accepted
        ));
        for (result, cancelled) in [
            (
                answer(ElicitationAction::Accept, Some(json!({"confirm": false}))),
                false,
            ),
            (
                answer(ElicitationAction::Accept, Some(json!({"confirm": "true"}))),
                false,
            ),
            (answer(ElicitationAction::Accept, None), false),
            (answer(ElicitationAction::Decline, None), false),
            (answer(ElicitationAction::Cancel, None), true),
        ] {
            assert!(
                matches!(verdict(&result), Verdict::Declined { cancelled: c } if c == cancelled),
                "{result:?}"
            );
        }
    }
}
