//! Writes the tool table as Rust: plain constant data (names, schemas as JSON text, call
//! plans) that the runtime executes, so that generated code stays small and compiles fast.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::mode::Mode;
use crate::model::{BodyEncoding, Location, SchemeKind};
use crate::tools::{ApiSpec, BodyShapeSpec, ParamSpec, SchemeSpec, ToolSpec};

/// The `ApiDescriptor` static named `API`, with runtime types named through `rt` (e.g.
/// `crate::mcpgen_runtime` in a standalone crate, `::mcpgen` for the macro).
pub fn api_tokens(api: &ApiSpec, rt: &TokenStream) -> TokenStream {
    let server_name = &api.server_name;
    let server_version = &api.version;
    let title = &api.title;
    let instructions = &api.instructions;
    let default_base_url = option_str(api.default_base_url.as_deref());
    let env_prefix = &api.env_prefix;
    let schemes = api.schemes.iter().map(|s| scheme_tokens(s, rt));
    let tools = api.tools.iter().map(|t| tool_tokens(t, rt));
    let mode = format_ident!(
        "{}",
        match api.mode {
            Mode::Tools => "Tools",
            Mode::Search => "Search",
            Mode::Mixed => "Mixed",
        }
    );
    let openapi = match &api.openapi {
        Some(text) => {
            let lit = raw_str(text);
            quote!(Some(#lit))
        }
        None => quote!(None),
    };
    quote! {
        /// The generated API table.
        pub static API: #rt::ApiDescriptor = #rt::ApiDescriptor {
            server_name: #server_name,
            server_version: #server_version,
            title: #title,
            instructions: #instructions,
            default_base_url: #default_base_url,
            env_prefix: #env_prefix,
            security_schemes: &[#(#schemes),*],
            tools: &[#(#tools),*],
            mode: #rt::ServeMode::#mode,
            openapi: #openapi,
        };
    }
}

/// A raw string literal (`r#"..."#`) for JSON text, which is far easier to read in review
/// than an escaped one. The hash count is one more than the longest `"#...` run in the text.
fn raw_str(text: &str) -> TokenStream {
    let mut longest = 0;
    for (i, _) in text.match_indices('"') {
        let run = text[i + 1..].bytes().take_while(|b| *b == b'#').count();
        longest = longest.max(run);
    }
    let hashes = "#".repeat(longest + 1);
    // JSON text never holds a bare carriage return (serde_json escapes control characters),
    // the one character a raw string literal cannot contain.
    let literal = format!("r{hashes}\"{text}\"{hashes}");
    match literal.parse::<proc_macro2::Literal>() {
        Ok(lit) => quote!(#lit),
        Err(_) => quote!(#text),
    }
}

fn option_str(value: Option<&str>) -> TokenStream {
    match value {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}

fn location_tokens(location: Location, rt: &TokenStream) -> TokenStream {
    let ident = format_ident!(
        "{}",
        match location {
            Location::Path => "Path",
            Location::Query => "Query",
            Location::Header => "Header",
            Location::Cookie => "Cookie",
        }
    );
    quote!(#rt::ParamLocation::#ident)
}

fn scheme_tokens(scheme: &SchemeSpec, rt: &TokenStream) -> TokenStream {
    let name = &scheme.key;
    let env = &scheme.env;
    let kind = match &scheme.kind {
        SchemeKind::Bearer => quote!(#rt::SecurityKind::Bearer),
        SchemeKind::Basic => quote!(#rt::SecurityKind::Basic),
        SchemeKind::ApiKey { location, name } => {
            let location = location_tokens(*location, rt);
            quote!(#rt::SecurityKind::ApiKey(#location, #name))
        }
        SchemeKind::OAuth2ClientCredentials { token_url, .. } => {
            quote!(#rt::SecurityKind::OAuth2ClientCredentials { token_url: #token_url })
        }
    };
    quote! {
        #rt::SecuritySchemeDescriptor {
            name: #name,
            kind: #kind,
            env: &[#(#env),*],
        }
    }
}

fn param_tokens(p: &ParamSpec, rt: &TokenStream) -> TokenStream {
    let arg = &p.arg;
    let name = &p.name;
    let location = location_tokens(p.location, rt);
    let style = format_ident!(
        "{}",
        match p.style.as_str() {
            "label" => "Label",
            "matrix" => "Matrix",
            "form" => "Form",
            "spaceDelimited" => "SpaceDelimited",
            "pipeDelimited" => "PipeDelimited",
            "deepObject" => "DeepObject",
            _ => "Simple",
        }
    );
    let explode = p.explode;
    let allow_reserved = p.allow_reserved;
    let json = p.json;
    let fixed = match &p.fixed {
        Some(value) => {
            let text = value.to_string();
            quote!(Some(#text))
        }
        None => quote!(None),
    };
    quote! {
        #rt::ParamPlan {
            arg: #arg,
            name: #name,
            location: #location,
            style: #rt::ParamStyle::#style,
            explode: #explode,
            allow_reserved: #allow_reserved,
            json: #json,
            fixed: #fixed,
        }
    }
}

fn tool_tokens(tool: &ToolSpec, rt: &TokenStream) -> TokenStream {
    let name = &tool.name;
    let title = option_str(tool.title.as_deref());
    let description = &tool.description;
    let input_schema = raw_str(&tool.input_schema.to_string());
    let output_schema = match &tool.output_schema {
        Some(schema) => {
            let lit = raw_str(&schema.to_string());
            quote!(Some(#lit))
        }
        None => quote!(None),
    };
    let output_wrapped = tool.output_wrapped;
    let read_only = tool.hints.read_only;
    let destructive = tool.hints.destructive;
    let idempotent = tool.hints.idempotent;
    let method = format_ident!(
        "{}",
        match tool.plan.method.as_str() {
            "GET" => "Get",
            "PUT" => "Put",
            "POST" => "Post",
            "DELETE" => "Delete",
            "OPTIONS" => "Options",
            "HEAD" => "Head",
            "PATCH" => "Patch",
            _ => "Trace",
        }
    );
    let path = &tool.plan.path;
    let params = tool.plan.params.iter().map(|p| param_tokens(p, rt));
    let body = match &tool.plan.body {
        Some(body) => {
            let media_type = &body.media_type;
            let encoding = format_ident!(
                "{}",
                match body.encoding {
                    BodyEncoding::Json => "Json",
                    BodyEncoding::Form => "Form",
                    BodyEncoding::Text => "Text",
                    BodyEncoding::Multipart => "Multipart",
                    BodyEncoding::Binary => "Binary",
                }
            );
            let shape = match &body.shape {
                BodyShapeSpec::Flattened(names) => {
                    quote!(#rt::BodyShape::Flattened(&[#(#names),*]))
                }
                BodyShapeSpec::Whole(arg) => quote!(#rt::BodyShape::Whole(#arg)),
            };
            let required = body.required;
            let file_fields = &body.file_fields;
            quote! {
                Some(#rt::BodyPlan {
                    media_type: #media_type,
                    encoding: #rt::BodyEncoding::#encoding,
                    shape: #shape,
                    required: #required,
                    file_fields: &[#(#file_fields),*],
                })
            }
        }
        None => quote!(None),
    };
    let security = tool.plan.security.iter().map(|alt| quote!(&[#(#alt),*]));
    let oauth_scopes = &tool.plan.oauth_scopes;
    let tags = &tool.tags;
    let search_only = tool.search_only;
    quote! {
        #rt::ToolDescriptor {
            name: #name,
            title: #title,
            description: #description,
            input_schema: #input_schema,
            output_schema: #output_schema,
            output_wrapped: #output_wrapped,
            hints: #rt::ToolHints {
                read_only: #read_only,
                destructive: #destructive,
                idempotent: #idempotent,
            },
            plan: #rt::CallPlan {
                method: #rt::HttpMethod::#method,
                path: #path,
                params: &[#(#params),*],
                body: #body,
                security: &[#(#security),*],
                oauth_scopes: &[#(#oauth_scopes),*],
            },
            tags: &[#(#tags),*],
            search_only: #search_only,
        }
    }
}

/// Formats tokens as a Rust file.
pub fn format_file(tokens: TokenStream) -> Result<String, crate::Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| crate::Error::Internal(e.to_string()))?;
    Ok(prettyplease::unparse(&file))
}
