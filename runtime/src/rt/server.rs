//! The server itself: what a [`GeneratedServer`] holds for its whole life (the tool table, the
//! HTTP client, credentials, compiled schemas, caches) and how it is built from the table and
//! a [`RuntimeConfig`]. What it does with them is in [`handler`](super::handler) (the MCP
//! methods) and [`call`](super::call) (one operation's call, from arguments to result).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rmcp::model::{Resource, Tool};
use tokio::sync::Semaphore;

use super::config::{ConfigError, MaskingConfig, RuntimeConfig, check_mode, discovery_tools_of};
use super::confirm::{StateKey, needs_confirmation, selector_matches};
use super::credentials::{Credential, EnvCredentials, InsecureCredentials, may_send_credentials};
use super::descriptor::{ApiDescriptor, BodyShape, HttpMethod, ServeMode, ToolDescriptor};
use super::discovery::{self, OperationIndex};
use super::extra::{ExtraPrompt, ExtraTool, ExtraTools, is_valid_tool_name};
use super::fields::FIELDS_ARG;
use super::mask::{MaskRule, Masker};
use super::metrics::Metrics;
use super::oauth::OAuthTokens;
use super::rate_limit::RateLimiter;
use super::request::{Upstream, client_builder};
use super::token_exchange::TokenExchange;
use super::validate::{ArgumentValidator, SchemaError};

/// An MCP server for one generated API. Cheap to clone: every clone shares one HTTP client,
/// one tool table and one set of compiled validators.
#[derive(Clone)]
pub struct GeneratedServer {
    pub(super) state: Arc<State>,
}

/// A schema compiled when first needed (most tools of a large API are never called), or why
/// it cannot be.
pub(super) type LazyValidator = OnceLock<Result<ArgumentValidator, SchemaError>>;

/// What every clone of a server shares.
pub(super) struct State {
    pub(super) api: &'static ApiDescriptor,
    pub(super) config: RuntimeConfig,
    pub(super) mode: ServeMode,
    /// Per API: the client of its requests, which follows redirects only on its upstream.
    pub(super) clients: Box<[reqwest::Client]>,
    /// Per operation: the index of its API (see [`ApiDescriptor::apis`]).
    pub(super) tool_apis: Box<[usize]>,
    /// Per API: whether its tools send the caller's own credential upstream (none with
    /// pass-through off).
    pub(super) passthrough_apis: Box<[bool]>,
    pub(super) env_credentials: EnvCredentials,
    /// Per API: whether credentials may go to its upstream: over TLS, to this machine, or as
    /// the operator allowed.
    pub(super) credentials_may_travel: Box<[bool]>,
    pub(super) oauth: OAuthTokens,
    /// Exchanges resource-server callers' tokens for the upstream's, when configured.
    pub(super) token_exchange: Option<TokenExchange>,
    pub(super) by_name: HashMap<&'static str, usize>,
    /// Per operation: whether it takes the `_fields` argument.
    pub(super) offers_fields: Box<[bool]>,
    /// Per operation: its tool as listed, built when first asked for alone.
    pub(super) listed_tools: Box<[OnceLock<Tool>]>,
    /// The search tools, in search and mixed modes.
    pub(super) discovery_tools: Vec<Tool>,
    /// The listed tools as JSON text, built once (see [`GeneratedServer::tools_json`]).
    pub(super) tools_json: OnceLock<Option<Box<str>>>,
    /// Per operation: its input schema, compiled.
    pub(super) validators: Box<[LazyValidator]>,
    /// Per operation: its output schema, compiled.
    pub(super) output_validators: Box<[LazyValidator]>,
    pub(super) index: OnceLock<OperationIndex>,
    pub(super) resources: OnceLock<Vec<Resource>>,
    /// The resources and resource templates of operations.
    pub(super) operation_resources: OnceLock<super::resources::OperationResources>,
    /// The log levels sessions chose (MCP before 2026-07-28).
    pub(super) session_levels: super::notify::SessionLevels,
    /// Bounds the upstream calls under way.
    pub(super) permits: Semaphore,
    pub(super) extra_tools: ExtraTools,
    /// The tasks of hand-written tools, running and recently ended.
    pub(super) local_tasks: super::local_tasks::LocalTasks,
    /// The resources clients subscribed to, watched.
    pub(super) subscriptions: super::subscriptions::Subscriptions,
    /// The hand-written prompts, listed after the generated ones.
    pub(super) extra_prompts: Vec<ExtraPrompt>,
    /// What `/metrics` reports.
    pub(super) metrics: Metrics,
    /// The audit log, with `--audit-log`.
    pub(super) audit: Option<super::audit::Audit>,
    /// Per operation: what its answers have masked, if anything.
    pub(super) maskers: Box<[Option<Masker>]>,
    /// Per operation with masked fields: its output schema loosened to accept masked answers,
    /// built when first needed.
    pub(super) masked_output_schemas: Box<[OnceLock<Option<Box<str>>>]>,
    /// Per operation: whether its calls wait for the user's confirmation.
    pub(super) confirm_needed: Box<[bool]>,
    /// Whether any operation does: only then is a call's way of asking worked out.
    pub(super) confirms: bool,
    /// Signs and checks the confirmation states of 2026-07-28 clients.
    pub(super) confirm_key: StateKey,
    /// The rate limits and what they have counted.
    pub(super) rate_limiter: RateLimiter,
    /// Whether some operation is reached only through search (a table generated in mixed
    /// mode, or in code mode with includes): code mode then keeps the others as tools.
    pub(super) mixed_table: bool,
    /// Runs code mode's programs, in code mode.
    #[cfg(feature = "code-mode")]
    pub(super) sandbox: Option<super::code::Sandbox>,
}

impl GeneratedServer {
    /// Builds the server. Credentials are read from the process environment once, here.
    pub fn new(api: &'static ApiDescriptor, config: RuntimeConfig) -> Result<Self, ConfigError> {
        let env_credentials = EnvCredentials::from_env(api.security_schemes)?;
        Self::with_credentials(api, config, env_credentials)
    }

    /// Builds the server with explicitly given environment credentials.
    pub fn with_credentials(
        api: &'static ApiDescriptor,
        config: RuntimeConfig,
        env_credentials: EnvCredentials,
    ) -> Result<Self, ConfigError> {
        let mode = config.mode.unwrap_or(api.mode);
        check_mode(api, mode)?;
        if !api.apis_cover_tables() || config.upstreams().len() != api.api_count() {
            return Err(ConfigError::ApisDoNotCoverTables);
        }
        let clients = config
            .upstreams()
            .iter()
            .map(|upstream| api_client(upstream, config.timeout))
            .collect::<Result<Box<[_]>, _>>()?;
        let scheme_apis = api.scheme_apis();
        let scheme_upstreams: Vec<&Upstream> =
            scheme_apis.iter().map(|&i| config.upstream_of(i)).collect();
        let oauth = OAuthTokens::new(
            api.security_schemes,
            &scheme_upstreams,
            &config.oauth_token_urls,
            config.oauth_params.clone(),
            config.timeout,
        )?;
        // Every request goes to its API's upstream origin (request building checks the final
        // URL), so whether credentials may travel is decided once per API, here.
        let credentials_may_travel: Box<[bool]> = config
            .upstreams()
            .iter()
            .map(|u| config.allow_insecure_credentials || may_send_credentials(u.url()))
            .collect();
        for (i, upstream) in config.upstreams().iter().enumerate() {
            let has_credentials = scheme_apis
                .iter()
                .enumerate()
                .any(|(scheme, &owner)| owner == i && env_credentials.get(scheme).is_some());
            if !credentials_may_travel[i] && (has_credentials || config.token_exchange.is_some()) {
                return Err(InsecureCredentials::new(upstream.url()).into());
            }
        }
        // A client id and secret that can never be used are a configuration mistake: say so
        // now rather than on the first call.
        for (i, scheme) in api.security_schemes.iter().enumerate() {
            if let (Some(Credential::ClientCredentials(_)), Some(Err(e))) =
                (env_credentials.get(i), oauth.token_url(i))
            {
                return Err(ConfigError::TokenUrl {
                    scheme: scheme.name,
                    source: Box::new(e.clone()),
                });
            }
        }
        let token_exchange = match &config.token_exchange {
            Some(settings) => Some(TokenExchange::new(settings.clone(), config.timeout)?),
            None => None,
        };
        // Operations that are not served (writes, with --read-only) have no name here, so
        // that no way of reaching an operation by name (its tool, call_operation,
        // describe_operation, a resource, a hand-written tool's call) can find them.
        let by_name = api
            .tools
            .iter()
            .enumerate()
            .filter(|(_, t)| serves(&config, t))
            .map(|(i, t)| (t.name, i))
            .collect();
        let offers_fields = api
            .tools
            .iter()
            .map(|t| config.field_selection && t.output_schema.is_some() && !has_own_fields_arg(t))
            .collect();
        let permits = Semaphore::new(config.max_concurrent_calls.max(1));
        if let Some(selector) = config
            .confirm_tools
            .iter()
            .find(|s| !api.tools.iter().any(|t| selector_matches(s, t)))
        {
            return Err(ConfigError::UnmatchedConfirmSelector {
                selector: selector.clone(),
                tools: listed_names(api.tools.iter().map(|t| t.name)),
            });
        }
        let confirm_needed: Box<[bool]> = api
            .tools
            .iter()
            .map(|t| needs_confirmation(config.confirm, &config.confirm_tools, t))
            .collect();
        let confirms = confirm_needed.contains(&true);
        let confirm_key = match &config.confirm_key_file {
            Some(path) => StateKey::from_file(path)?,
            None => StateKey::random()?,
        };
        let rate_limiter = RateLimiter::new(config.rate_limits.clone());
        let audit =
            match &config.audit_log {
                None => None,
                Some(target) => Some(super::audit::Audit::open(target).map_err(|source| {
                    ConfigError::AuditLog {
                        path: match target {
                            super::audit::AuditTarget::File(path) => path.display().to_string(),
                            super::audit::AuditTarget::Stderr => "-".to_owned(),
                        },
                        source,
                    }
                })?),
            };
        let maskers = api
            .tools
            .iter()
            .map(|tool| masker_of(tool, &config.masking))
            .collect::<Result<_, _>>()?;
        #[cfg(feature = "code-mode")]
        let code_limits = config.code;
        let passthrough_apis =
            super::credentials::passthrough_apis(api, config.passthrough, config.passthrough_api);
        Ok(GeneratedServer {
            state: Arc::new(State {
                api,
                config,
                mode,
                clients,
                tool_apis: api.tool_apis().into_boxed_slice(),
                passthrough_apis,
                env_credentials,
                credentials_may_travel,
                oauth,
                token_exchange,
                by_name,
                offers_fields,
                listed_tools: api.tools.iter().map(|_| OnceLock::new()).collect(),
                discovery_tools: match mode {
                    ServeMode::Tools => Vec::new(),
                    ServeMode::Search | ServeMode::Mixed => discovery::discovery_tools(api.title),
                    #[cfg(feature = "code-mode")]
                    ServeMode::Code => super::code::code_tools(api.title, &code_limits),
                    // `check_mode` refuses code mode without the engine.
                    #[cfg(not(feature = "code-mode"))]
                    ServeMode::Code => Vec::new(),
                },
                #[cfg(feature = "code-mode")]
                sandbox: (mode == ServeMode::Code).then(|| super::code::Sandbox::new(code_limits)),
                mixed_table: api.tools.iter().any(|t| t.search_only),
                tools_json: OnceLock::new(),
                validators: api.tools.iter().map(|_| OnceLock::new()).collect(),
                output_validators: api.tools.iter().map(|_| OnceLock::new()).collect(),
                index: OnceLock::new(),
                resources: OnceLock::new(),
                operation_resources: OnceLock::new(),
                session_levels: Default::default(),
                permits,
                extra_tools: ExtraTools::default(),
                extra_prompts: Vec::new(),
                subscriptions: Default::default(),
                local_tasks: Default::default(),
                metrics: Metrics::new(),
                audit,
                maskers,
                masked_output_schemas: api.tools.iter().map(|_| OnceLock::new()).collect(),
                confirm_needed,
                confirms,
                confirm_key,
                rate_limiter,
            }),
        })
    }

    /// The places the server sends requests to, one line each and without secrets: the
    /// upstream, the token URL of every OAuth 2.0 client-credentials scheme, and where caller
    /// tokens are exchanged.
    pub fn destinations(&self) -> Vec<String> {
        let api = self.state.api;
        let mut lines: Vec<String> = match api.apis {
            [] => vec![format!("upstream: {}", self.state.config.upstream.url())],
            apis => apis
                .iter()
                .zip(self.state.config.upstreams())
                .map(|(a, upstream)| format!("upstream of `{}`: {}", a.name, upstream.url()))
                .collect(),
        };
        for (scheme, url) in self.state.oauth.destinations() {
            lines.push(format!("OAuth 2.0 token URL of `{scheme}`: {url}"));
        }
        if let Some(exchange) = &self.state.token_exchange {
            lines.push(exchange.destination());
        }
        lines
    }

    /// The OAuth scopes a call of the tool `name` with `arguments` needs from its caller: the
    /// scopes of the operation's OAuth 2.0 security requirement (for search mode's
    /// `call_operation`, those of the operation it names); none for other tools.
    pub fn required_scopes(
        &self,
        name: &str,
        arguments: Option<&serde_json::Value>,
    ) -> &'static [&'static str] {
        let operation = if name == discovery::CALL_TOOL
            && matches!(self.state.mode, ServeMode::Search | ServeMode::Mixed)
        {
            arguments
                .and_then(|a| a.get("name"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        } else {
            name
        };
        match self.state.by_name.get(operation) {
            Some(&i) => self.state.api.tools[i].plan.caller_scopes,
            None => &[],
        }
    }

    /// The OAuth scopes reading the resource `uri` needs from its caller: those of the
    /// operation it reads; none for an API document, or a URI of no resource.
    pub fn resource_scopes(&self, uri: &str) -> &'static [&'static str] {
        match self.operation_resources().resolve(uri) {
            Some((i, _)) => self.state.api.tools[i].plan.caller_scopes,
            None => &[],
        }
    }

    /// The server's counters (calls, latency, upstream answers), as `/metrics` reports them.
    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
    }

    /// Whether the upstream answers at all: a `HEAD` of the base URL, without credentials,
    /// within `timeout`. Any HTTP status counts (an API root often answers 404 or 401); only
    /// no answer does not.
    pub async fn probe_upstream(&self, timeout: std::time::Duration) -> Result<(), String> {
        for (upstream, client) in self
            .state
            .config
            .upstreams()
            .iter()
            .zip(&self.state.clients)
        {
            let url = upstream.url();
            if let Err(e) = client.head(url.clone()).timeout(timeout).send().await {
                return Err(format!("the upstream {url} does not answer: {e}"));
            }
        }
        Ok(())
    }

    /// The index of the API (see [`ApiDescriptor::apis`]) of `tool`, an entry of the table.
    pub(super) fn api_of(&self, tool: &ToolDescriptor) -> usize {
        if self.state.api.apis.is_empty() {
            return 0;
        }
        // The entry's place in the table, from its address: the call path holds the entry,
        // not its index.
        let base = self.state.api.tools.as_ptr() as usize;
        let at = (tool as *const ToolDescriptor as usize).wrapping_sub(base)
            / std::mem::size_of::<ToolDescriptor>().max(1);
        self.state.tool_apis.get(at).copied().unwrap_or(0)
    }

    /// Where the requests of `tool` go.
    pub(super) fn upstream_of(&self, tool: &ToolDescriptor) -> &Upstream {
        self.state.config.upstream_of(self.api_of(tool))
    }

    /// Adds hand-written tools, listed after the generated ones. Fails when a name is invalid
    /// or taken, or when the server has already been cloned (add them before serving).
    pub fn with_extra_tools(mut self, tools: Vec<ExtraTool>) -> Result<Self, ConfigError> {
        let state = Arc::get_mut(&mut self.state).ok_or(ConfigError::ServerShared)?;
        let reserved = discovery_tools_of(state.mode);
        let taken = state
            .api
            .tools
            .iter()
            .map(|t| t.name)
            .chain(reserved.iter().copied());
        // With --read-only, only the hand-written tools whose hints say they only read.
        let read_only = state.config.read_only;
        let filter = &state.config.tool_filter;
        let every_name: Vec<&str> = state
            .api
            .tools
            .iter()
            .map(|t| t.name)
            .chain(tools.iter().map(ExtraTool::name))
            .collect();
        if let Some(glob) = filter.unmatched(&every_name).first() {
            return Err(ConfigError::UnmatchedToolGlob {
                glob: (*glob).to_owned(),
                tools: listed_names(every_name.iter().copied()),
            });
        }
        let mut tags: Vec<&str> = state
            .api
            .tools
            .iter()
            .flat_map(|t| t.tags)
            .copied()
            .collect();
        tags.sort_unstable();
        tags.dedup();
        let limits = &state.config.rate_limits;
        if let Some(selector) = limits.unmatched_selectors(&every_name, &tags).first() {
            return Err(ConfigError::UnmatchedRateLimit {
                selector: (*selector).to_owned(),
                tools: listed_names(every_name.iter().copied()),
                tags: if tags.is_empty() {
                    "none".to_owned()
                } else {
                    tags.join(", ")
                },
            });
        }
        let tools = tools
            .into_iter()
            .filter(|t| (!read_only || reads_only(t)) && filter.serves(t.name()))
            .collect();
        state.extra_tools = ExtraTools::new(tools, taken)?;
        state.tools_json = OnceLock::new();
        Ok(self)
    }

    /// Serves the hand-written `prompts` beside the generated ones. Their names must be valid
    /// and unique among all the server's prompts.
    pub fn with_extra_prompts(mut self, prompts: Vec<ExtraPrompt>) -> Result<Self, ConfigError> {
        let state = Arc::get_mut(&mut self.state).ok_or(ConfigError::ServerShared)?;
        let mut taken: std::collections::HashSet<&str> =
            state.api.prompts.iter().map(|p| p.name).collect();
        for prompt in &prompts {
            if !is_valid_tool_name(prompt.name()) || !taken.insert(prompt.name()) {
                return Err(ConfigError::PromptNameTaken {
                    name: prompt.name().to_owned(),
                });
            }
        }
        state.extra_prompts = prompts;
        Ok(self)
    }

    /// Whether some hand-written tool's calls may become tasks.
    pub(super) fn has_task_tools(&self) -> bool {
        self.state
            .extra_tools
            .iter()
            .any(|t| t.task_support() != super::extra::TaskSupport::Forbidden)
    }

    /// The hand-written prompt named `name`.
    pub(super) fn extra_prompt(&self, name: &str) -> Option<&ExtraPrompt> {
        self.state.extra_prompts.iter().find(|p| p.name() == name)
    }
}

impl GeneratedServer {
    /// Whether the operation is served at all: with `--read-only`, only those that read.
    pub(super) fn is_served(&self, tool: &ToolDescriptor) -> bool {
        serves(&self.state.config, tool)
    }

    /// The output schema of operation `index` as clients see it: loosened where its answers
    /// are masked, so that masked answers still match it.
    pub(super) fn output_schema(&self, index: usize) -> Option<&str> {
        let state = &self.state;
        let tool = &state.api.tools[index];
        let schema = tool.output_schema?;
        let Some(masker) = &state.maskers[index] else {
            return Some(schema);
        };
        let loosened = state.masked_output_schemas[index].get_or_init(|| {
            let mut value = serde_json::from_str(schema).ok()?;
            masker.loosen_schema(&mut value, tool.output_wrapped);
            Some(value.to_string().into_boxed_str())
        });
        Some(loosened.as_deref().unwrap_or(schema))
    }
}

/// What the answers of `tool` have masked: the server's fields and detectors, and the tool's
/// own fields; `None` when nothing.
/// The HTTP client of one API's requests. It follows redirects only within the upstream's
/// origin and below its base path: a redirect elsewhere must not carry the caller's
/// credentials, nor make the server a proxy to another host (another API's among them) or to
/// parts of the host the operator did not configure. A redirect that is not followed is
/// returned to the model as it is.
fn api_client(
    upstream: &Upstream,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, ConfigError> {
    let allowed = upstream.clone();
    let redirect = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 5 {
            attempt.error("too many redirects")
        } else if allowed.may_redirect_to(attempt.url()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    client_builder(timeout, upstream.is_https())
        .redirect(redirect)
        .build()
        .map_err(|source| ConfigError::HttpClient {
            purpose: "",
            source,
        })
}

fn masker_of(
    tool: &ToolDescriptor,
    masking: &MaskingConfig,
) -> Result<Option<Masker>, ConfigError> {
    let mut rules = masking.fields.clone();
    for field in tool.guardrails.masked_fields {
        rules.push(
            MaskRule::parse(field).map_err(|problem| ConfigError::Masking {
                problem: format!("tool `{}`: {problem}", tool.name),
            })?,
        );
    }
    Ok(Masker::new(rules, &masking.detectors))
}

/// Whether `config` serves the operation `tool`: any, or with `read_only` those whose method
/// only reads (GET, HEAD, OPTIONS, QUERY). TRACE is left out too: it reads, but it exists to
/// echo the request.
/// Tool names for a message that lists them: comma-separated, cut after 20.
fn listed_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut names = names.peekable();
    let mut listed: Vec<&str> = names.by_ref().take(20).collect();
    if names.peek().is_some() {
        listed.push("...");
    }
    listed.join(", ")
}

fn serves(config: &RuntimeConfig, tool: &ToolDescriptor) -> bool {
    let reads = matches!(
        tool.plan.method,
        HttpMethod::Get | HttpMethod::Head | HttpMethod::Options | HttpMethod::Query
    );
    (!config.read_only || reads) && config.tool_filter.serves(tool.name)
}

/// Whether a hand-written tool says it only reads (its `readOnlyHint`).
fn reads_only(tool: &ExtraTool) -> bool {
    tool.tool()
        .annotations
        .as_ref()
        .and_then(|a| a.read_only_hint)
        == Some(true)
}

/// Whether the operation itself has an argument named `_fields`, which then keeps its meaning.
fn has_own_fields_arg(tool: &ToolDescriptor) -> bool {
    tool.plan.params.iter().any(|p| p.arg == FIELDS_ARG)
        || match tool.plan.body {
            Some(body) => match body.shape {
                BodyShape::Flattened(names) => names.contains(&FIELDS_ARG),
                BodyShape::Whole(arg) => arg == FIELDS_ARG,
            },
            None => false,
        }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{TOOL, api, config};
    use super::*;
    use rmcp::model::CallToolResult;

    static PLAIN: ApiDescriptor = api(&[TOOL]);
    static CLASHING: ApiDescriptor = api(&[
        ToolDescriptor {
            name: "call_operation",
            ..TOOL
        },
        ToolDescriptor {
            name: "other",
            search_only: true,
            ..TOOL
        },
    ]);

    #[test]
    fn modes_that_cannot_work_are_refused() {
        let err = GeneratedServer::new(&PLAIN, config(Some(ServeMode::Mixed)))
            .err()
            .unwrap();
        assert!(matches!(err, ConfigError::NothingSearchOnly), "{err}");
        assert!(err.to_string().contains("mixed mode needs"), "{err}");
        let err = GeneratedServer::new(&CLASHING, config(Some(ServeMode::Mixed)))
            .err()
            .unwrap();
        assert!(err.to_string().contains("`call_operation`"), "{err}");
        // In search mode nothing is a tool of its own, so nothing clashes.
        assert!(GeneratedServer::new(&CLASHING, config(Some(ServeMode::Search))).is_ok());
        let extra = ExtraTool::new("search_operations", "Mine.", |_, _| async {
            CallToolResult::success(Vec::new())
        });
        let search = GeneratedServer::new(&PLAIN, config(Some(ServeMode::Search))).unwrap();
        assert!(matches!(
            search.with_extra_tools(vec![extra.clone()]),
            Err(ConfigError::ToolNameTaken { .. })
        ));
        let tools = GeneratedServer::new(&PLAIN, config(None)).unwrap();
        assert!(tools.with_extra_tools(vec![extra]).is_ok());
    }

    #[test]
    fn extra_tools_come_before_the_server_is_shared() {
        let server = GeneratedServer::new(&PLAIN, config(None)).unwrap();
        let _shared = server.clone();
        assert!(matches!(
            server.with_extra_tools(Vec::new()),
            Err(ConfigError::ServerShared)
        ));
    }

    use super::super::descriptor::{CallPlan, ToolHints};

    /// `getThing` (GET), `makeThing` (POST, reached through search in mixed mode),
    /// `headThing` (HEAD) and `dropThing` (DELETE).
    static READS_AND_WRITES: ApiDescriptor = api(&[
        TOOL,
        ToolDescriptor {
            name: "makeThing",
            search_only: true,
            plan: CallPlan {
                method: HttpMethod::Post,
                ..TOOL.plan
            },
            ..TOOL
        },
        ToolDescriptor {
            name: "headThing",
            plan: CallPlan {
                method: HttpMethod::Head,
                ..TOOL.plan
            },
            ..TOOL
        },
        ToolDescriptor {
            name: "dropThing",
            plan: CallPlan {
                method: HttpMethod::Delete,
                ..TOOL.plan
            },
            ..TOOL
        },
    ]);

    fn read_only(mode: ServeMode) -> GeneratedServer {
        let mut config = config(Some(mode));
        config.read_only = true;
        let tool = |name: &str, read_only: bool| {
            ExtraTool::new(
                name,
                "Mine.",
                |_, context: crate::rt::extra::ToolContext| async move {
                    // A hand-written tool calling a write on the caller's behalf.
                    match context.call("makeThing", Default::default()).await {
                        None => CallToolResult::success(Vec::new()),
                        Some(_) => CallToolResult::error(Vec::new()),
                    }
                },
            )
            .with_hints(ToolHints {
                read_only,
                destructive: false,
                idempotent: read_only,
            })
        };
        GeneratedServer::new(&READS_AND_WRITES, config)
            .unwrap()
            .with_extra_tools(vec![tool("reader", true), tool("writer", false)])
            .unwrap()
    }

    fn names(server: &GeneratedServer) -> Vec<String> {
        server.tools().iter().map(|t| t.name.to_string()).collect()
    }

    #[tokio::test]
    async fn read_only_serves_only_what_reads() {
        let tools = read_only(ServeMode::Tools);
        assert_eq!(names(&tools), ["getThing", "headThing", "reader"]);
        assert!(tools.call("makeThing", None, None).await.is_none());
        assert!(tools.call("dropThing", None, None).await.is_none());
        assert!(tools.call("writer", None, None).await.is_none());
        // The hand-written tool cannot reach the write either.
        let through = tools.call("reader", None, None).await.unwrap();
        assert_eq!(through.is_error, Some(false));
        assert!(tools.required_scopes("makeThing", None).is_empty());

        for mode in [ServeMode::Search, ServeMode::Mixed] {
            let server = read_only(mode);
            let call = |name: &str| {
                let mut arguments = rmcp::model::JsonObject::new();
                arguments.insert("name".to_owned(), name.into());
                server.call("call_operation", Some(arguments), None)
            };
            let refused = call("makeThing").await.unwrap();
            assert_eq!(refused.is_error, Some(true));
            let text = refused.content[0].as_text().unwrap().text.clone();
            assert!(text.contains("No operation is named `makeThing`"), "{text}");
            let mut search = rmcp::model::JsonObject::new();
            search.insert("query".to_owned(), "thing".into());
            let found = server
                .call("search_operations", Some(search), None)
                .await
                .unwrap();
            let found = serde_json::to_string(&found.structured_content).unwrap();
            assert!(
                !found.contains("makeThing") && !found.contains("dropThing"),
                "{found}"
            );
        }
        assert_eq!(
            names(&read_only(ServeMode::Mixed)),
            [
                "getThing",
                "headThing",
                "search_operations",
                "describe_operation",
                "call_operation",
                "reader"
            ]
        );
    }
}
