//! The items of a server embedded in the user's own crate, for the two front ends that embed
//! one: the `#[mcpgen::server]` attribute (tokens spliced into the user's module) and build
//! scripts ([`Builder`], a formatted file in `OUT_DIR` for `include!`). Both emit the same
//! items from the same [`Mapped`] document, so a server reads the same whichever is used, and
//! the same as a standalone crate: the tool table is the same.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::tools::Hints;
use crate::tools::overrides::prefixed_name;
use crate::{Mapped, Settings, emit, map_document};

/// The server type's name when none is given.
pub const DEFAULT_SERVER_TYPE: &str = "Server";

/// Names the embedded items take in the user's module, besides the server type: a user item
/// with one of these names would clash.
pub const GENERATED_ITEM_NAMES: &[&str] = &["API", "extra_tools", "main", "serve", "serve_with"];

/// A hand-written tool, as the attribute macro found it in the user's module.
#[derive(Debug, Clone)]
pub struct ExtraToolSpec {
    /// The `async fn` that implements it; its span is the user's, so type errors in the call
    /// point at the function.
    pub function: syn::Ident,
    /// Tool name before the tool prefix (default: the function's name).
    pub name: String,
    /// Human-readable title.
    pub title: Option<String>,
    /// What the model reads.
    pub description: String,
    /// Input JSON Schema as JSON text (default: any object).
    pub input_schema: Option<String>,
    /// Behaviour hints, when any was given.
    pub hints: Option<Hints>,
    /// Whether the function takes a second parameter, the `mcpgen::ToolContext`.
    pub takes_context: bool,
}

/// Everything about the embedded server that is not in the document.
#[derive(Debug, Clone)]
pub struct ServerModule {
    /// Name of the server type.
    pub server_type: syn::Ident,
    /// Files to make the user's crate depend on (absolute paths: the spec, and the settings
    /// files read for it), so that cargo rebuilds it when one changes. Build scripts say so
    /// with `rerun-if-changed` instead and leave this empty.
    pub track_files: Vec<PathBuf>,
    /// Hand-written tools, listed after the generated ones.
    pub extra_tools: Vec<ExtraToolSpec>,
}

impl ServerModule {
    /// A module with the default server type, no tracked file and no extra tools.
    pub fn new() -> Self {
        ServerModule {
            server_type: format_ident!("{}", DEFAULT_SERVER_TYPE),
            track_files: Vec::new(),
            extra_tools: Vec::new(),
        }
    }
}

impl Default for ServerModule {
    fn default() -> Self {
        Self::new()
    }
}

/// A problem with one of the hand-written tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraToolError {
    /// Index into [`ServerModule::extra_tools`].
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a server type name: a Rust identifier that is not a keyword.
pub fn server_type_ident(name: &str) -> Result<syn::Ident, String> {
    syn::parse_str::<syn::Ident>(name)
        .map_err(|_| format!("`{name}` is not a valid Rust type name"))
}

/// Checks the hand-written tools and gives each its final name (with the tool prefix). Names
/// must be valid tool names, unique, and distinct from every generated tool's; input schemas
/// must be JSON objects.
pub fn check_extra_tools(
    mapped: &Mapped,
    settings: &Settings,
    extra_tools: &mut [ExtraToolSpec],
) -> Result<(), ExtraToolError> {
    let mut taken: Vec<String> = mapped.api.tools.iter().map(|t| t.name.clone()).collect();
    for (index, tool) in extra_tools.iter_mut().enumerate() {
        let fail = |message: String| ExtraToolError { index, message };
        settings.tool_name_rule().check(&tool.name).map_err(fail)?;
        if let Some(prefix) = &settings.tool_prefix {
            tool.name = prefixed_name(prefix, &tool.name);
        }
        if mapped.api.mode != crate::Mode::Tools
            && crate::select::mode::DISCOVERY_TOOLS.contains(&tool.name.as_str())
        {
            return Err(fail(format!(
                "the tool name `{}` belongs to a search tool in {} mode; give this tool another \
                 `name`",
                tool.name, mapped.api.mode
            )));
        }
        if taken.contains(&tool.name) {
            return Err(fail(format!(
                "the tool name `{}` is already taken{}; give this tool another `name`",
                tool.name,
                if mapped.api.tools.iter().any(|t| t.name == tool.name) {
                    " by a generated tool"
                } else {
                    " by another extra tool"
                }
            )));
        }
        taken.push(tool.name.clone());
        if let Some(schema) = &tool.input_schema {
            match serde_json::from_str::<Value>(schema) {
                Ok(Value::Object(object)) => {
                    if object.get("type").is_some_and(|t| t != "object") {
                        return Err(fail(
                            "the input schema must describe an object (`\"type\": \"object\"`): \
                             tool arguments are always a JSON object"
                                .to_owned(),
                        ));
                    }
                }
                Ok(_) => {
                    return Err(fail("the input schema must be a JSON object".to_owned()));
                }
                Err(e) => return Err(fail(format!("the input schema is not valid JSON: {e}"))),
            }
        }
        if tool.description.trim().is_empty() {
            return Err(fail(
                "an extra tool needs a description: add a doc comment or `description = \"...\"`"
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

/// The items of the embedded server, with runtime types named through `rt` (`::mcpgen`):
/// the `API` table, the server type implementing rmcp's `ServerHandler`, `extra_tools()`,
/// `main()`, `serve()` and `serve_with(args)`. Call [`check_extra_tools`] first.
pub fn server_items(mapped: &Mapped, module: &ServerModule, rt: &TokenStream) -> TokenStream {
    let api_table = emit::api_tokens(&mapped.api, rt);
    let server = &module.server_type;
    let track = module.track_files.iter().map(|path| {
        let path = path.to_string_lossy();
        quote! {
            // Makes cargo rebuild this crate when the file changes.
            const _: &[u8] = include_bytes!(#path);
        }
    });
    let spec_file = mapped
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Markdown on one line: a Builder prints it as a `///` comment, which must not end early.
    let server_doc = format!(
        " The MCP server for the {} API (from {}): {} generated tools{}.",
        crate::emit::escape::markdown_text(&mapped.api.title),
        crate::emit::escape::code_span(&spec_file),
        mapped.api.tools.len(),
        match module.extra_tools.len() {
            0 => String::new(),
            1 => " and 1 hand-written one".to_owned(),
            n => format!(" and {n} hand-written ones"),
        }
    );
    let extra = module.extra_tools.iter().map(|t| extra_tool_tokens(t, rt));
    let handler = quote!(#rt::rmcp::handler::server::ServerHandler);
    let model = quote!(#rt::rmcp::model);
    quote! {
        #(#track)*

        #api_table

        #[doc = #server_doc]
        ///
        /// Credentials come from the environment (see `API.security_schemes`) and, over HTTP,
        /// from the caller's own headers unless pass-through is turned off.
        #[derive(Clone)]
        #[allow(dead_code)]
        pub struct #server(#rt::GeneratedServer);

        #[allow(dead_code)]
        impl #server {
            /// Builds the server; credentials are read from the environment once, here.
            pub fn new(config: #rt::RuntimeConfig) -> ::std::result::Result<Self, #rt::ConfigError> {
                #rt::GeneratedServer::new(&API, config)?
                    .with_extra_tools(extra_tools())
                    .map(Self)
            }

            /// Builds the server from the environment alone, as the command line does with no
            /// options: the base URL from `<PREFIX>_BASE_URL`, else the default one.
            pub fn from_env() -> ::std::result::Result<Self, #rt::ConfigError> {
                Self::new(#rt::config::config_from_env(&API)?)
            }

            /// The runtime's server, e.g. for `mcpgen::serve::serve_http`.
            pub fn into_inner(self) -> #rt::GeneratedServer {
                self.0
            }

            /// The runtime's server.
            pub fn inner(&self) -> &#rt::GeneratedServer {
                &self.0
            }
        }

        impl #handler for #server {
            fn get_info(&self) -> #model::ServerConfig {
                <#rt::GeneratedServer as #handler>::get_info(&self.0)
            }

            async fn list_tools(
                &self,
                request: ::std::option::Option<#model::PaginatedRequestParams>,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::ListToolsResult, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::list_tools(&self.0, request, context).await
            }

            fn get_tool(&self, name: &str) -> ::std::option::Option<#model::Tool> {
                <#rt::GeneratedServer as #handler>::get_tool(&self.0, name)
            }

            async fn call_tool(
                &self,
                request: #model::CallToolRequestParams,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::CallToolResponse, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::call_tool(&self.0, request, context).await
            }

            async fn list_resources(
                &self,
                request: ::std::option::Option<#model::PaginatedRequestParams>,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::ListResourcesResult, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::list_resources(&self.0, request, context).await
            }

            async fn list_resource_templates(
                &self,
                request: ::std::option::Option<#model::PaginatedRequestParams>,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::ListResourceTemplatesResult, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::list_resource_templates(&self.0, request, context).await
            }

            async fn read_resource(
                &self,
                request: #model::ReadResourceRequestParams,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::ReadResourceResponse, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::read_resource(&self.0, request, context).await
            }

            async fn complete(
                &self,
                request: #model::CompleteRequestParams,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::CompleteResult, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::complete(&self.0, request, context).await
            }

            async fn list_prompts(
                &self,
                request: ::std::option::Option<#model::PaginatedRequestParams>,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::ListPromptsResult, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::list_prompts(&self.0, request, context).await
            }

            async fn get_prompt(
                &self,
                request: #model::GetPromptRequestParams,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::GetPromptResponse, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::get_prompt(&self.0, request, context).await
            }

            async fn get_task(
                &self,
                request: #model::GetTaskParams,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<#model::GetTaskResult, #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::get_task(&self.0, request, context).await
            }

            async fn cancel_task(
                &self,
                request: #model::CancelTaskParams,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<(), #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::cancel_task(&self.0, request, context).await
            }

            // Logging is deprecated in MCP 2026-07-28 (SEP-2577), and still served.
            #[allow(deprecated)]
            async fn set_level(
                &self,
                request: #model::SetLevelRequestParams,
                context: #rt::rmcp::service::RequestContext<#rt::rmcp::service::RoleServer>,
            ) -> ::std::result::Result<(), #rt::rmcp::ErrorData> {
                <#rt::GeneratedServer as #handler>::set_level(&self.0, request, context).await
            }
        }

        /// The hand-written tools of this server, served after the generated ones.
        #[allow(dead_code)]
        pub fn extra_tools() -> ::std::vec::Vec<#rt::ExtraTool> {
            ::std::vec![#(#extra),*]
        }

        /// Parses the command line (the flags of a standalone generated server) and serves
        /// until the client goes away or a signal arrives: a whole `main` in one call.
        #[allow(dead_code)]
        pub fn main() -> ::std::process::ExitCode {
            #rt::main_with_extra_tools(&API, extra_tools)
        }

        /// Parses the command line and serves, inside the caller's own async runtime.
        #[allow(dead_code)]
        pub async fn serve() -> ::std::result::Result<(), #rt::ServeError> {
            serve_with(<#rt::ServeArgs as #rt::__private::clap::Parser>::parse()).await
        }

        /// Serves with the given options, inside the caller's own async runtime.
        #[allow(dead_code)]
        pub async fn serve_with(args: #rt::ServeArgs) -> ::std::result::Result<(), #rt::ServeError> {
            #rt::serve::serve_with_extra_tools(&API, args, extra_tools()).await
        }
    }
}

fn extra_tool_tokens(tool: &ExtraToolSpec, rt: &TokenStream) -> TokenStream {
    let name = &tool.name;
    let description = &tool.description;
    let function = &tool.function;
    let span = function.span();
    // The user's function is called with the user's span, so a wrong parameter or return
    // type is reported at the function rather than at the attribute.
    let call = if tool.takes_context {
        quote_spanned!(span=> #function(args, context).await)
    } else {
        quote_spanned!(span=> { let _ = context; #function(args).await })
    };
    let convert = quote_spanned!(span=> #rt::IntoToolResult::into_tool_result(#call));
    let mut built = quote! {
        #rt::ExtraTool::new(#name, #description, |args, context| async move {
            // Arguments have passed the input schema; this gives them the function's type.
            let args = match #rt::__private::serde_json::from_value(args) {
                ::std::result::Result::Ok(args) => args,
                ::std::result::Result::Err(error) => {
                    return #rt::extra::argument_error(#name, error);
                }
            };
            #convert
        })
    };
    if let Some(schema) = &tool.input_schema {
        built = quote!(#built.with_input_schema_json(#schema));
    }
    if let Some(title) = &tool.title {
        built = quote!(#built.with_title(#title));
    }
    if let Some(hints) = &tool.hints {
        let (read_only, destructive, idempotent) =
            (hints.read_only, hints.destructive, hints.idempotent);
        built = quote! {
            #built.with_hints(#rt::ToolHints {
                read_only: #read_only,
                destructive: #destructive,
                idempotent: #idempotent,
            })
        };
    }
    built
}

/// Generates a server into a build script's `OUT_DIR`, for `include!` inside a module:
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     mcpgen_codegen::Builder::new("openapi/petstore.yaml").generate_to_out_dir()?;
///     Ok(())
/// }
/// ```
///
/// ```text
/// // src/main.rs (OUT_DIR exists only in a build)
/// mod petstore {
///     include!(concat!(env!("OUT_DIR"), "/petstore.rs"));
/// }
/// fn main() -> std::process::ExitCode {
///     petstore::main()
/// }
/// ```
///
/// The file holds the same items as a `#[mcpgen::server]` module without extra tools; the
/// crate depends on `mcpgen` for the runtime. [`Builder::generate`] returns the same source
/// without writing it:
///
/// ```
/// use mcpgen_codegen::{Builder, Mode, Settings};
/// # let dir = std::env::temp_dir().join(format!("mcpgen-builder-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let spec = dir.join("todo.yaml");
/// std::fs::write(&spec, r#"
/// openapi: 3.1.0
/// info: {title: Todo, version: "1"}
/// paths:
///   /todos:
///     get: {operationId: listTodos, responses: {"200": {description: ok}}}
///     post: {operationId: addTodo, responses: {"201": {description: created}}}
/// "#)?;
/// let source = Builder::new(&spec)
///     .settings(Settings::new().mode(Mode::Search))
///     .server_type("TodoServer")
///     .generate()?;
/// assert!(source.contains("pub struct TodoServer"));
/// assert!(source.contains("\"listTodos\""));
/// assert!(source.contains("ServeMode::Search"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    spec: PathBuf,
    settings: Settings,
    server_type: String,
    file_name: Option<String>,
    /// Every document with the namespace asked for it: the first is `spec`; more make a
    /// server of several APIs.
    documents: Vec<(PathBuf, Option<String>)>,
}

impl Builder {
    /// A builder for `spec`; a relative path is taken from `CARGO_MANIFEST_DIR` when cargo
    /// sets it, as it does for build scripts.
    pub fn new(spec: impl AsRef<Path>) -> Self {
        Builder {
            spec: spec.as_ref().to_owned(),
            settings: Settings::new(),
            server_type: DEFAULT_SERVER_TYPE.to_owned(),
            file_name: None,
            documents: vec![(spec.as_ref().to_owned(), None)],
        }
    }

    /// Adds another API document: the server then serves several APIs, each document mapped
    /// with its own settings files and its tools namespaced (see
    /// [`crate::map_documents`]), as `cargo mcpgen generate A B` does.
    pub fn document(mut self, spec: impl AsRef<Path>) -> Self {
        self.documents.push((spec.as_ref().to_owned(), None));
        self
    }

    /// The namespace of the document added last (the first, before any
    /// [`Builder::document`]) instead of one from its title; a namespace makes a server of
    /// several APIs even of one document.
    pub fn namespace(mut self, name: impl Into<String>) -> Self {
        if let Some(last) = self.documents.last_mut() {
            last.1 = Some(name.into());
        }
        self
    }

    /// Generation settings: tool selection, prefix, description overrides, names. They apply
    /// on top of the project's settings files (`[package.metadata.mcpgen]` of the crate's
    /// Cargo.toml, then `mcpgen.toml` beside the spec), which the builder reads itself.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Name of the server type (default `Server`).
    pub fn server_type(mut self, name: impl Into<String>) -> Self {
        self.server_type = name.into();
        self
    }

    /// Name of the file written in `OUT_DIR` (default: the spec's file stem plus `.rs`, e.g.
    /// `petstore.rs` for `petstore.yaml`).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    fn spec_path(&self) -> PathBuf {
        Self::located(&self.spec)
    }

    /// `spec` taken from `CARGO_MANIFEST_DIR` when relative and cargo sets it.
    fn located(spec: &Path) -> PathBuf {
        match std::env::var_os("CARGO_MANIFEST_DIR") {
            Some(dir) if spec.is_relative() => Path::new(&dir).join(spec),
            _ => spec.to_owned(),
        }
    }

    /// Whether the builder makes a server of several APIs.
    fn is_several(&self) -> bool {
        self.documents.len() > 1 || self.documents.iter().any(|(_, ns)| ns.is_some())
    }

    /// Maps the document, or every document into one server of several APIs.
    fn map(&self) -> Result<crate::Mapped> {
        let spec = self.spec_path();
        let (settings, _) = self.project_settings(&spec)?;
        if !self.is_several() {
            return map_document(&spec, &settings);
        }
        let documents = self
            .documents
            .iter()
            .map(|(path, namespace)| {
                let path = Self::located(path);
                let (settings, _) = self.project_settings(&path)?;
                let document = crate::ApiDocument::new(path, settings);
                Ok(match namespace {
                    Some(name) => document.namespace(name.clone()),
                    None => document,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        crate::map_documents(&documents, &settings)
    }

    /// The settings: the project's (`[package.metadata.mcpgen]` of the crate's Cargo.toml,
    /// then `mcpgen.toml` beside the spec), then those given to [`Builder::settings`]; and the
    /// files read for them.
    fn project_settings(&self, spec: &Path) -> Result<(Settings, Vec<PathBuf>)> {
        let manifest =
            std::env::var_os("CARGO_MANIFEST_DIR").map(|dir| Path::new(&dir).join("Cargo.toml"));
        let (project, files) =
            crate::config::project_settings(spec, manifest.as_deref(), None, Settings::new())?;
        Ok((project.then(self.settings.clone()), files))
    }

    /// The formatted source of the server's items.
    pub fn generate(&self) -> Result<String> {
        let spec = self.spec_path();
        let mapped = self.map()?;
        let server_type =
            server_type_ident(&self.server_type).map_err(|message| Error::Settings {
                path: spec.clone(),
                setting: "server_type",
                message,
            })?;
        let module = ServerModule {
            server_type,
            ..ServerModule::new()
        };
        let tokens = server_items(&mapped, &module, &quote!(::mcpgen));
        let spec_file = mapped
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A plain comment: `include!` refuses inner doc comments (`//!`).
        Ok(format!(
            "// @generated by mcpgen {} from {}. Regenerate rather than edit.\n\n{}",
            env!("CARGO_PKG_VERSION"),
            crate::emit::escape::one_line(&spec_file),
            emit::format_file(tokens)?
        ))
    }

    /// Writes the source to `path`, leaving the file untouched when it is already current (so
    /// cargo's fingerprint of it stays).
    pub fn generate_to(&self, path: &Path) -> Result<()> {
        let source = self.generate()?;
        if std::fs::read(path).ok().as_deref() == Some(source.as_bytes()) {
            return Ok(());
        }
        std::fs::write(path, source).map_err(|source| Error::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// From a build script: writes the source into `OUT_DIR`, tells cargo to run the script
    /// again when the spec changes, and returns the file's path.
    pub fn generate_to_out_dir(&self) -> Result<PathBuf> {
        let spec = self.spec_path();
        let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| Error::Write {
            path: PathBuf::from("OUT_DIR"),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "OUT_DIR is not set: call generate_to_out_dir from a build script",
            ),
        })?;
        for (document, _) in &self.documents {
            let document = Self::located(document);
            println!("cargo:rerun-if-changed={}", document.display());
            for file in self.project_settings(&document)?.1 {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
        let file_name = self.file_name.clone().unwrap_or_else(|| {
            let stem = spec
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "api".to_owned());
            format!("{stem}.rs")
        });
        let path = Path::new(&out_dir).join(file_name);
        self.generate_to(&path)?;
        Ok(path)
    }
}
