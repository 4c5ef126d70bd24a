//! Input a hand-written tool or prompt asks the client for in the middle of its work: a form
//! the user fills in (elicitation), a completion from the client's model (sampling), or the
//! client's roots. One way to write it serves every client: the tool answers
//! [`Answer::InputRequired`] with its requests (and, if it likes, a state of its own), and is
//! called again with the client's answers ([`ToolContext::input_response`] and the typed
//! accessors beside it) and that state ([`ToolContext::request_state`]).
//!
//! How the requests travel depends on the client:
//! - a 2026-07-28 request gets an input-required result (SEP-2322). The tool's state travels in
//!   `requestState`, sealed: an HMAC tag under the server's state key over the tool, the
//!   caller, an expiry and the state, so a client can echo it but not forge or alter it, and
//!   any replica holding the same key (`--confirm-key-file`) can take the retry. A state that
//!   does not verify is refused before the tool runs.
//! - a 2025 client on a connection the server can send requests on (stdio, or HTTP with
//!   `--sessions`) is sent each request while the call waits, and the tool is called again
//!   with the answers, for at most [`MAX_ROUNDS`] rounds.
//! - any other client cannot be asked, and the call says so.
//!
//! In every case a request for something the client did not declare (`sampling`,
//! `elicitation`, `roots`) is never sent: the call fails instead, naming it.
//!
//! [`ToolContext::input_response`]: super::extra::ToolContext::input_response
//! [`ToolContext::request_state`]: super::extra::ToolContext::request_state

// Sampling and roots are deprecated by MCP 2026-07-28 (SEP-2577), and still requests a client
// may be asked.
#![allow(deprecated)]

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rmcp::model::{
    ClientCapabilities, ClientResult, CreateMessageRequest, CreateMessageRequestParams,
    ElicitRequest, ElicitRequestParams, InputRequest, InputRequests, InputRequiredResult,
    InputResponses, ListRootsRequest, SamplingMessage, ServerRequest,
};
use rmcp::service::{PeerRequestOptions, RequestContext, RoleServer};
use serde_json::Value;

use super::confirm::{ANSWER_TIME, StateKey};

/// The most times a tool is called within one call of a 2025 client's, each round asking
/// for more input.
pub const MAX_ROUNDS: usize = 8;

/// Separates these tags from any other use of the same key.
const DOMAIN: &[u8] = b"mcpgen/input/v1";

/// The prefix of every `requestState` this module issues (its format's version).
const STATE_PREFIX: &str = "i1";

/// What a hand-written tool or prompt answers: its result, or what it needs from the client
/// first.
#[derive(Debug)]
pub enum Answer<T> {
    /// The result.
    Complete(T),
    /// Input to ask the client for before the tool can finish.
    InputRequired(InputNeeded),
}

impl<T> From<InputNeeded> for Answer<T> {
    fn from(needed: InputNeeded) -> Self {
        Answer::InputRequired(needed)
    }
}

/// The requests for input of one round, each under a key of the tool's choosing, and the
/// state the tool wants back with the answers.
#[derive(Debug, Default)]
pub struct InputNeeded {
    requests: InputRequests,
    state: Option<String>,
    /// A request that could not be built, and why: reported when the input is asked for.
    invalid: Option<String>,
}

#[allow(dead_code)]
impl InputNeeded {
    /// No request yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the user to fill in a form: `schema` is the form's JSON Schema (an object of
    /// primitive properties, as elicitation allows). A schema elicitation cannot carry is
    /// a programming error the call reports as a tool error when it is asked.
    pub fn elicit(self, key: &str, message: &str, schema: Value) -> Self {
        let request = serde_json::from_value(serde_json::json!({
            "mode": "form",
            "message": message,
            "requestedSchema": schema,
        }))
        .map(|params: ElicitRequestParams| InputRequest::Elicitation(ElicitRequest::new(params)));
        match request {
            Ok(request) => self.request(key, request),
            Err(e) => self.invalid(key, format!("not a form elicitation can ask for: {e}")),
        }
    }

    /// Asks the client's model for a reply of at most `max_tokens` tokens to `text`.
    pub fn sample(self, key: &str, text: &str, max_tokens: u32) -> Self {
        let params =
            CreateMessageRequestParams::new(vec![SamplingMessage::user_text(text)], max_tokens);
        self.request(
            key,
            InputRequest::CreateMessage(CreateMessageRequest::new(params)),
        )
    }

    /// Asks for the client's roots.
    pub fn roots(self, key: &str) -> Self {
        self.request(key, InputRequest::ListRoots(ListRootsRequest::default()))
    }

    /// Asks `request` under `key`.
    pub fn request(mut self, key: &str, request: InputRequest) -> Self {
        self.requests.insert(key.to_owned(), request);
        self
    }

    /// The state the tool gets back, verified, with the answers.
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// The requests and the state; the problem of a request that could not be built instead.
    pub(super) fn into_parts(self) -> Result<(InputRequests, Option<String>), String> {
        match self.invalid {
            Some(problem) => Err(problem),
            None => Ok((self.requests, self.state)),
        }
    }

    /// A request that could not be built: kept as its problem, reported when asked.
    fn invalid(mut self, key: &str, problem: String) -> Self {
        self.invalid.get_or_insert(format!("`{key}`: {problem}"));
        self
    }
}

/// What the tool is called with: the client's answers and its own state, verified.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The answers, by the keys the requests were made under.
    pub responses: Option<InputResponses>,
    /// The state the tool asked to get back.
    pub state: Option<String>,
}

/// How the client behind a request can be asked for input: the request's context (absent for
/// calls made outside a transport, and by other tools) and, on a tool call or a prompt, what
/// a 2026-07-28 retry sent back.
#[derive(Clone, Copy, Default)]
pub struct Interaction<'a> {
    context: Option<&'a RequestContext<RoleServer>>,
    retry: Option<(Option<&'a InputResponses>, Option<&'a str>)>,
}

impl<'a> Interaction<'a> {
    /// The interaction of a request arriving with `context`; `retry` as for
    /// [`Asker::for_client`](super::confirm::Asker::for_client).
    pub fn of(
        context: &'a RequestContext<RoleServer>,
        retry: Option<(Option<&'a InputResponses>, Option<&'a str>)>,
    ) -> Self {
        Interaction {
            context: Some(context),
            retry,
        }
    }

    /// What the client declared it can do.
    pub fn client_capabilities(&self) -> Option<ClientCapabilities> {
        self.context.and_then(RequestContext::client_capabilities)
    }
}

/// What a conversation ended in.
#[derive(Debug)]
pub enum Conversed<T> {
    /// The tool finished.
    Complete(T),
    /// A 2026-07-28 client is to answer these and call again.
    InputRequired(InputRequiredResult),
}

/// Why a conversation ended without a result. Each names the tool or prompt.
#[derive(Debug, thiserror::Error)]
pub enum ConverseError {
    /// The `requestState` sent back is not one this server issued for this tool and caller,
    /// or it expired: a protocol error, before the tool runs.
    #[error(
        "the requestState sent back for `{name}` cannot be used: {problem}; call again without \
         requestState and inputResponses to start over"
    )]
    State {
        /// The tool or prompt.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The tool asked for something the client did not declare.
    #[error(
        "`{name}` needs the client's `{capability}` capability to ask for `{key}`, and this \
         client did not declare it"
    )]
    Undeclared {
        /// The tool or prompt.
        name: String,
        /// The request's key.
        key: String,
        /// The capability it needs.
        capability: &'static str,
    },
    /// Nobody can be asked.
    #[error(
        "`{name}` needs input from the client, which cannot be asked on this connection: \
         connect over stdio, over HTTP with a server started with --sessions, or with MCP \
         2026-07-28"
    )]
    Unreachable {
        /// The tool or prompt.
        name: String,
    },
    /// The client did not answer a request.
    #[error("the client did not answer `{key}` for `{name}`: {problem}")]
    Unanswered {
        /// The tool or prompt.
        name: String,
        /// The request's key.
        key: String,
        /// What went wrong.
        problem: String,
    },
    /// The tool kept asking.
    #[error("`{name}` asked for input more than {MAX_ROUNDS} times in one call")]
    TooManyRounds {
        /// The tool or prompt.
        name: String,
    },
    /// The tool built a request that cannot be sent.
    #[error("`{name}` built an input request that cannot be sent: {problem}")]
    Invalid {
        /// The tool or prompt.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Runs `attempt` (the tool or prompt `name`, called for `caller`) until it completes,
/// asking the client for the input it needs the way `interaction` allows.
pub async fn converse<T, F, Fut>(
    interaction: Interaction<'_>,
    name: &str,
    caller: &str,
    key: &StateKey,
    attempt: F,
) -> Result<Conversed<T>, ConverseError>
where
    F: Fn(Input) -> Fut,
    Fut: Future<Output = Answer<T>>,
{
    let Some(context) = interaction.context else {
        return match attempt(Input::default()).await {
            Answer::Complete(result) => Ok(Conversed::Complete(result)),
            Answer::InputRequired(_) => Err(ConverseError::Unreachable {
                name: name.to_owned(),
            }),
        };
    };
    let declared = context.client_capabilities();
    if super::notify::is_revision_2026(context) {
        let (responses, sent_state) = interaction.retry.unwrap_or_default();
        let state = match sent_state {
            Some(sealed) => Some(open(key, sealed, name, caller, SystemTime::now()).map_err(
                |problem| ConverseError::State {
                    name: name.to_owned(),
                    problem,
                },
            )?),
            None => None,
        };
        let input = Input {
            responses: responses.cloned(),
            state,
        };
        return match attempt(input).await {
            Answer::Complete(result) => Ok(Conversed::Complete(result)),
            Answer::InputRequired(needed) => {
                check_requests(name, &needed, declared.as_ref())?;
                let sealed = seal(
                    key,
                    name,
                    caller,
                    needed.state.as_deref().unwrap_or_default(),
                    SystemTime::now(),
                );
                Ok(Conversed::InputRequired(InputRequiredResult::new(
                    Some(needed.requests),
                    Some(sealed),
                )))
            }
        };
    }
    // Over HTTP without a session the answer is the only message the server can send.
    let stateless = super::notify::session_of(context).is_none();
    let mut input = Input::default();
    for _ in 0..MAX_ROUNDS {
        let needed = match attempt(input).await {
            Answer::Complete(result) => return Ok(Conversed::Complete(result)),
            Answer::InputRequired(needed) => needed,
        };
        if stateless {
            return Err(ConverseError::Unreachable {
                name: name.to_owned(),
            });
        }
        check_requests(name, &needed, declared.as_ref())?;
        let mut responses = InputResponses::new();
        for (request_key, request) in needed.requests {
            let answer =
                ask(context, request)
                    .await
                    .map_err(|problem| ConverseError::Unanswered {
                        name: name.to_owned(),
                        key: request_key.clone(),
                        problem,
                    })?;
            responses.insert(request_key, answer);
        }
        input = Input {
            responses: Some(responses),
            state: needed.state,
        };
    }
    Err(ConverseError::TooManyRounds {
        name: name.to_owned(),
    })
}

/// Refuses requests the client cannot take: one the tool could not build, or one for a
/// capability the client did not declare.
pub(super) fn check_requests(
    name: &str,
    needed: &InputNeeded,
    declared: Option<&ClientCapabilities>,
) -> Result<(), ConverseError> {
    if let Some(problem) = &needed.invalid {
        return Err(ConverseError::Invalid {
            name: name.to_owned(),
            problem: problem.to_owned(),
        });
    }
    for (request_key, request) in &needed.requests {
        let (capability, has) = match request {
            InputRequest::CreateMessage(_) => {
                ("sampling", declared.is_some_and(|c| c.sampling.is_some()))
            }
            InputRequest::Elicitation(_) => (
                "elicitation",
                declared.is_some_and(|c| c.elicitation.is_some()),
            ),
            InputRequest::ListRoots(_) => ("roots", declared.is_some_and(|c| c.roots.is_some())),
            _ => ("an unknown kind of input", false),
        };
        if !has {
            return Err(ConverseError::Undeclared {
                name: name.to_owned(),
                key: request_key.clone(),
                capability,
            });
        }
    }
    Ok(())
}

/// Sends `request` to the client on the request's connection and waits for the answer.
async fn ask(context: &RequestContext<RoleServer>, request: InputRequest) -> Result<Value, String> {
    let request = match request {
        InputRequest::CreateMessage(r) => ServerRequest::CreateMessageRequest(r),
        InputRequest::Elicitation(r) => ServerRequest::ElicitRequest(r),
        InputRequest::ListRoots(r) => ServerRequest::ListRootsRequest(r),
        _ => return Err("this kind of request cannot be sent".to_owned()),
    };
    let sent = context
        .peer
        .send_request_with_option(request, PeerRequestOptions::with_timeout(ANSWER_TIME))
        .await
        .map_err(|e| e.to_string())?;
    let answer = sent.await_response().await.map_err(|e| e.to_string())?;
    match answer {
        ClientResult::CreateMessageResult(_)
        | ClientResult::ElicitResult(_)
        | ClientResult::ListRootsResult(_) => {
            serde_json::to_value(answer).map_err(|e| e.to_string())
        }
        _ => Err("the client answered with something else".to_owned()),
    }
}

/// `i1.<expiry in Unix seconds>.<state, base64url>.<tag, base64url>`, good for
/// [`ANSWER_TIME`] after `now`.
pub fn seal(key: &StateKey, name: &str, caller: &str, state: &str, now: SystemTime) -> String {
    let expires = unix_seconds(now).saturating_add(ANSWER_TIME.as_secs());
    let tag = key.sign(&signed_bytes(name, caller, expires, state));
    format!(
        "{STATE_PREFIX}.{expires}.{}.{}",
        URL_SAFE_NO_PAD.encode(state),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The state `sealed` carries, if this key sealed it for `name` and `caller` and it has not
/// expired at `now`.
pub fn open(
    key: &StateKey,
    sealed: &str,
    name: &str,
    caller: &str,
    now: SystemTime,
) -> Result<String, &'static str> {
    const NOT_ISSUED: &str = "this server did not issue it for this call";
    let mut parts = sealed.split('.');
    let (Some(STATE_PREFIX), Some(expires), Some(state), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(NOT_ISSUED);
    };
    let expires: u64 = expires.parse().map_err(|_| NOT_ISSUED)?;
    let state = URL_SAFE_NO_PAD.decode(state).map_err(|_| NOT_ISSUED)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| NOT_ISSUED)?;
    let state = String::from_utf8(state).map_err(|_| NOT_ISSUED)?;
    if !key.verify(&signed_bytes(name, caller, expires, &state), &tag) {
        return Err(NOT_ISSUED);
    }
    if unix_seconds(now) > expires {
        return Err("it expired");
    }
    Ok(state)
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The domain, then each field length-prefixed, so that no two bindings share bytes.
fn signed_bytes(name: &str, caller: &str, expires: u64, state: &str) -> Vec<u8> {
    let mut out = DOMAIN.to_vec();
    for field in [name.as_bytes(), caller.as_bytes(), state.as_bytes()] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out.extend_from_slice(&expires.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_state_opens_only_for_its_tool_caller_and_key_and_within_its_time() {
        let key = StateKey::random().unwrap();
        let now = SystemTime::now();
        let sealed = seal(&key, "tool", "alice", "step2", now);
        assert_eq!(open(&key, &sealed, "tool", "alice", now).unwrap(), "step2");
        assert!(open(&key, &sealed, "other", "alice", now).is_err());
        assert!(open(&key, &sealed, "tool", "bob", now).is_err());
        let other = StateKey::random().unwrap();
        assert!(open(&other, &sealed, "tool", "alice", now).is_err());
        assert!(open(&key, &format!("{sealed}-TAMPERED"), "tool", "alice", now).is_err());
        // The state itself cannot be swapped under the same tag.
        let mut parts: Vec<&str> = sealed.split('.').collect();
        let swapped = URL_SAFE_NO_PAD.encode("step9");
        parts[2] = &swapped;
        assert!(open(&key, &parts.join("."), "tool", "alice", now).is_err());
        let later = now + ANSWER_TIME + std::time::Duration::from_secs(2);
        assert_eq!(
            open(&key, &sealed, "tool", "alice", later).unwrap_err(),
            "it expired"
        );
    }

    #[test]
    fn requests_need_the_declared_capability() {
        let needed = InputNeeded::new()
            .sample("q", "What is the capital of France?", 100)
            .roots("r");
        let sampling: ClientCapabilities =
            serde_json::from_value(serde_json::json!({"sampling": {}})).unwrap();
        let error = check_requests("t", &needed, Some(&sampling)).unwrap_err();
        assert!(
            matches!(&error, ConverseError::Undeclared { key, capability: "roots", .. } if key == "r"),
            "{error}"
        );
        let both: ClientCapabilities =
            serde_json::from_value(serde_json::json!({"sampling": {}, "roots": {}})).unwrap();
        assert!(check_requests("t", &needed, Some(&both)).is_ok());
        assert!(check_requests("t", &needed, None).is_err());
    }

    #[test]
    fn a_form_elicitation_cannot_carry_is_reported() {
        let needed = InputNeeded::new().elicit("k", "Name?", serde_json::json!("not a schema"));
        let elicits: ClientCapabilities =
            serde_json::from_value(serde_json::json!({"elicitation": {}})).unwrap();
        let error = check_requests("t", &needed, Some(&elicits)).unwrap_err();
        assert!(matches!(error, ConverseError::Invalid { .. }), "{error}");
        let good = InputNeeded::new().elicit(
            "k",
            "Name?",
            serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}}),
        );
        assert!(check_requests("t", &good, Some(&elicits)).is_ok());
    }
}
