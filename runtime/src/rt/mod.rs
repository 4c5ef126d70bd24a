//! The runtime of a generated MCP server: the descriptor types that generated tables fill in,
//! and the code that executes them. This module is self-contained (it names its siblings only
//! through `super::`), so the generator can copy it verbatim into a standalone crate.
//!
//! A server is configured ([`config`]), built ([`server`]), served over a transport
//! ([`serve`], [`stdio`], [`http`] with [`trace`] ids, [`metrics`], optional [`tls`] and its
//! callers checked by [`inbound`]), answers the MCP methods ([`handler`]) and runs each call of
//! an operation through one path ([`call`]): validate the arguments ([`validate`], [`fields`]),
//! ask the user where the call needs it ([`confirm`]), admit the call under the
//! [`rate_limit`]s, choose credentials ([`credentials`], [`oauth`], [`token_exchange`]), build
//! the request ([`request`], [`params`], [`files`]), send it ([`retry`]) and shape the answer
//! ([`response`], [`mask`]). Resources ([`resources`], [`templates`], [`uri_template`]) and
//! the resources prompts embed ([`prompts`]) are read through the same path, and so are the
//! calls of code mode's programs, run in a sandbox (`code`, with the `code-mode` feature).

pub mod allocator;
pub mod audit;
pub mod call;
#[cfg(feature = "code-mode")]
pub mod code;
pub mod config;
pub mod confirm;
pub mod credentials;
// The tables' types, which the generator compiles too: which variants a table uses, and which
// of the helpers the generator shares, depends on the API.
#[allow(dead_code)]
pub mod descriptor;
pub mod direct;
pub mod discovery;
pub mod extra;
pub mod fields;
pub mod files;
pub mod handler;
pub mod http;
pub mod inbound;
pub mod interaction;
mod json_schema;
pub mod local_tasks;
pub mod mask;
pub mod metrics;
pub mod notify;
pub mod oauth;
pub mod pages;
pub mod params;
mod pattern;
pub mod prompts;
pub mod rate_limit;
pub mod request;
pub mod resource_server;
pub mod resources;
pub mod response;
pub mod retry;
pub mod search;
pub mod serve;
pub mod server;
pub mod stdio;
pub mod subscriptions;
pub mod tasks;
pub mod templates;
pub mod tls;
pub mod token_exchange;
pub mod trace;
#[cfg(feature = "code-mode")]
pub mod typescript;
// The generator compiles it too, and checks with parts a server never needs (`overlaps`).
#[allow(dead_code)]
pub mod uri_template;
pub mod validate;

pub use descriptor::*;
pub use serve::main;
// What users of the library crate name as `mcpgen::…`; a standalone crate's `main` needs only
// the two above.
#[allow(unused_imports)]
pub use {
    call::CallError,
    config::{CodeLimits, ConfigError, LogFormat, RuntimeConfig, ServeArgs, Transport},
    confirm::ConfirmMode,
    extra::{ExtraPrompt, ExtraTool, IntoToolResult, TaskSupport, ToolContext},
    interaction::{Answer, InputNeeded},
    serve::{Extras, ServeError, main_with_extra_tools, run},
    server::GeneratedServer,
};

#[cfg(test)]
mod tests {
    //! Descriptors the unit tests of the modules above build on, varied with struct update
    //! syntax.

    use super::config::RuntimeConfig;
    use super::descriptor::{
        ApiDescriptor, CallPlan, Guardrails, HttpMethod, ServeMode, ToolDescriptor, ToolGuardrails,
        ToolHints,
    };
    use super::request::Upstream;

    /// `GET /thing`: no argument, and an object with a required `id` back.
    pub(super) const TOOL: ToolDescriptor = ToolDescriptor {
        name: "getThing",
        title: None,
        description: "Gets the thing.",
        input_schema: r#"{"type":"object","properties":{},"additionalProperties":false}"#,
        output_schema: Some(
            r#"{"type":"object","required":["id"],"properties":{"id":{"type":"string"},"name":{"type":"string"}}}"#,
        ),
        output_wrapped: false,
        hints: ToolHints {
            read_only: true,
            destructive: false,
            idempotent: true,
        },
        stream: None,
        plan: CallPlan {
            method: HttpMethod::Get,
            path: "/thing",
            params: &[],
            body: None,
            security: &[],
            oauth_scopes: &[],
            caller_scopes: &[],
        },
        tags: &[],
        search_only: false,
        guardrails: ToolGuardrails::NONE,
        pagination: None,
        long_running: false,
        resource: None,
    };

    /// An API of `tools` in tools mode, with no security scheme and no document.
    pub(super) const fn api(tools: &'static [ToolDescriptor]) -> ApiDescriptor {
        ApiDescriptor {
            server_name: "t",
            server_version: "1",
            title: "T",
            instructions: "",
            default_base_url: None,
            env_prefix: "T",
            security_schemes: &[],
            tools,
            mode: ServeMode::Tools,
            openapi: None,
            guardrails: Guardrails::NONE,
            prompts: &[],
            apis: &[],
        }
    }

    /// The defaults, with an upstream nothing listens on, in `mode`.
    pub(super) fn config(mode: Option<ServeMode>) -> RuntimeConfig {
        let mut config =
            RuntimeConfig::new(Upstream::parse("http://127.0.0.1:9").expect("a valid URL"));
        config.mode = mode;
        config
    }
}
