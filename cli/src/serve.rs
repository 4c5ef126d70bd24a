//! `cargo mcpgen serve`: the tool table a generated crate would compile, built at start-up
//! instead, and served by the same runtime.
//!
//! [`descriptor`] writes the mapped API into the runtime's descriptor types field for field as
//! the generator's emitter writes it into Rust source, so that everything after the table (the
//! runtime) is one code path. The table lives as long as the process, so its text is leaked
//! into the `'static` data the runtime's types hold.

use mcpgen::{
    ApiDescriptor, BodyEncoding, BodyPlan, BodyShape, CallPlan, Guardrails, HttpMethod, NextPage,
    Pagination, ParamLocation, ParamPlan, ParamStyle, PromptArgumentDescriptor, PromptDescriptor,
    PromptPart, ResourceDescriptor, SecurityKind, SecuritySchemeDescriptor, ServeMode,
    StreamFormat, ToolDescriptor, ToolGuardrails, ToolHints, UpstreamApi,
};
use mcpgen_codegen::spec;

/// The runtime table of `api`, as the generated `tools.rs` would hold it.
pub fn descriptor(api: &spec::ApiSpec) -> &'static ApiDescriptor {
    Box::leak(Box::new(ApiDescriptor {
        server_name: text(&api.server_name),
        server_version: text(&api.version),
        title: text(&api.title),
        instructions: text(&api.instructions),
        default_base_url: api.default_base_url.as_deref().map(text),
        env_prefix: text(&api.env_prefix),
        security_schemes: slice(api.schemes.iter().map(scheme)),
        tools: slice(api.tools.iter().map(tool)),
        mode: mode(api.mode),
        openapi: api.openapi.as_deref().map(text),
        guardrails: guardrails(&api.guardrails),
        prompts: slice(api.prompts.iter().map(prompt)),
        apis: slice(api.apis.iter().map(|a| UpstreamApi {
            name: text(&a.name),
            title: text(&a.title),
            default_base_url: a.default_base_url.as_deref().map(text),
            env_prefix: text(&a.env_prefix),
            openapi: a.openapi.as_deref().map(text),
            tool_count: a.tool_count,
            scheme_count: a.scheme_count,
        })),
    }))
}

fn prompt(prompt: &spec::PromptSpec) -> PromptDescriptor {
    PromptDescriptor {
        name: text(&prompt.name),
        title: prompt.title.as_deref().map(text),
        description: text(&prompt.description),
        arguments: slice(prompt.arguments.iter().map(|a| PromptArgumentDescriptor {
            name: text(&a.name),
            description: a.description.as_deref().map(text),
            required: a.required,
            values: texts(&a.values),
        })),
        parts: slice(prompt.parts.iter().map(prompt_part)),
        resources: slice(
            prompt
                .resources
                .iter()
                .map(|uri| slice(uri.iter().map(prompt_part))),
        ),
        needs_every_tool: prompt.needs_every_tool,
    }
}

fn prompt_part(part: &spec::PromptPart) -> PromptPart {
    match part {
        spec::PromptPart::Text(t) => PromptPart::Text(text(t)),
        spec::PromptPart::Argument(name) => PromptPart::Argument(text(name)),
        spec::PromptPart::Given { argument, text: t } => PromptPart::Given {
            argument: text(argument),
            text: text(t),
        },
        spec::PromptPart::Tool(i) => PromptPart::Tool(*i),
        spec::PromptPart::ToolItem(i) => PromptPart::ToolItem(*i),
    }
}

fn guardrails(settings: &spec::GuardrailSettings) -> Guardrails {
    Guardrails {
        masked_fields: texts(&settings.mask_fields),
        mask_detectors: texts(&settings.mask_detectors),
        rate_limit: settings.rate_limit.as_deref().map(text),
        global_rate_limit: settings.global_rate_limit.as_deref().map(text),
        max_concurrent_per_caller: settings.max_concurrent_per_caller,
        unauthenticated_rate_limit: settings.unauthenticated_rate_limit.as_deref().map(text),
        audit_log: settings.audit_log.as_deref().map(text),
        confirm: settings.confirm.as_deref().map(text),
    }
}

fn text(value: &str) -> &'static str {
    Box::leak(value.to_owned().into_boxed_str())
}

fn slice<T>(items: impl Iterator<Item = T>) -> &'static [T] {
    Box::leak(items.collect::<Vec<T>>().into_boxed_slice())
}

fn texts(values: &[String]) -> &'static [&'static str] {
    slice(values.iter().map(|v| text(v)))
}

/// Compact JSON, as the emitter writes schemas and fixed values.
fn json(value: &serde_json::Value) -> &'static str {
    text(&value.to_string())
}

/// The generator's name for a serving mode (the same modes: the generator compiles the
/// runtime's definition of them).
pub fn generation_mode(mode: ServeMode) -> mcpgen_codegen::Mode {
    match mode {
        ServeMode::Tools => mcpgen_codegen::Mode::Tools,
        ServeMode::Search => mcpgen_codegen::Mode::Search,
        ServeMode::Mixed => mcpgen_codegen::Mode::Mixed,
        ServeMode::Code => mcpgen_codegen::Mode::Code,
    }
}

fn mode(mode: mcpgen_codegen::Mode) -> ServeMode {
    match mode {
        mcpgen_codegen::Mode::Tools => ServeMode::Tools,
        mcpgen_codegen::Mode::Search => ServeMode::Search,
        mcpgen_codegen::Mode::Mixed => ServeMode::Mixed,
        mcpgen_codegen::Mode::Code => ServeMode::Code,
    }
}

fn location(location: spec::Location) -> ParamLocation {
    match location {
        spec::Location::Path => ParamLocation::Path,
        spec::Location::Query => ParamLocation::Query,
        spec::Location::Header => ParamLocation::Header,
        spec::Location::Cookie => ParamLocation::Cookie,
        spec::Location::QueryString => ParamLocation::QueryString,
    }
}

fn scheme(scheme: &spec::SchemeSpec) -> SecuritySchemeDescriptor {
    let kind = match &scheme.kind {
        spec::SchemeKind::Bearer => SecurityKind::Bearer,
        spec::SchemeKind::Basic => SecurityKind::Basic,
        spec::SchemeKind::ApiKey { location: at, name } => {
            SecurityKind::ApiKey(location(*at), text(name))
        }
        spec::SchemeKind::OAuth2ClientCredentials { token_url, .. } => {
            SecurityKind::OAuth2ClientCredentials {
                token_url: text(token_url),
            }
        }
    };
    SecuritySchemeDescriptor {
        name: text(&scheme.key),
        kind,
        env: texts(&scheme.env),
    }
}

fn tool(tool: &spec::ToolSpec) -> ToolDescriptor {
    ToolDescriptor {
        name: text(&tool.name),
        title: tool.title.as_deref().map(text),
        description: text(&tool.description),
        input_schema: json(&tool.input_schema),
        output_schema: tool.output_schema.as_ref().map(json),
        output_wrapped: tool.output_wrapped,
        hints: ToolHints {
            read_only: tool.hints.read_only,
            destructive: tool.hints.destructive,
            idempotent: tool.hints.idempotent,
        },
        stream: tool.stream.map(stream),
        plan: plan(&tool.plan),
        tags: texts(&tool.tags),
        search_only: tool.search_only,
        guardrails: ToolGuardrails {
            masked_fields: texts(&tool.guardrails.masked_fields),
            rate_limit: tool.guardrails.rate_limit.as_deref().map(text),
            confirm: tool.guardrails.confirm,
        },
        pagination: tool.pagination.as_ref().map(pagination),
        long_running: tool.long_running,
        resource: tool.resource.as_ref().map(|r| ResourceDescriptor {
            uri: text(&r.uri),
            mime_type: r.mime_type.as_deref().map(text),
        }),
    }
}

fn pagination(spec: &spec::PaginationSpec) -> Pagination {
    use spec::NextPageSpec as Spec;
    Pagination {
        next: match &spec.next {
            Spec::Link => NextPage::Link,
            Spec::NextUrl(field) => NextPage::NextUrl(text(field)),
            Spec::Cursor { arg, cursor } => NextPage::Cursor {
                arg: text(arg),
                cursor: text(cursor),
            },
            Spec::AfterLast { arg, id, more } => NextPage::AfterLast {
                arg: text(arg),
                id: text(id),
                more: text(more),
            },
            Spec::Page { arg, first } => NextPage::Page {
                arg: text(arg),
                first: *first,
            },
            Spec::Offset { arg } => NextPage::Offset { arg: text(arg) },
        },
        items: text(&spec.items),
    }
}

fn stream(format: spec::StreamKind) -> StreamFormat {
    match format {
        spec::StreamKind::Events => StreamFormat::Events,
        spec::StreamKind::EventsJson => StreamFormat::EventsJson,
        spec::StreamKind::EventData => StreamFormat::EventData,
        spec::StreamKind::JsonLines => StreamFormat::JsonLines,
        spec::StreamKind::JsonSeq => StreamFormat::JsonSeq,
    }
}

fn method(name: &str) -> HttpMethod {
    match name {
        "GET" => HttpMethod::Get,
        "PUT" => HttpMethod::Put,
        "POST" => HttpMethod::Post,
        "DELETE" => HttpMethod::Delete,
        "OPTIONS" => HttpMethod::Options,
        "HEAD" => HttpMethod::Head,
        "PATCH" => HttpMethod::Patch,
        "TRACE" => HttpMethod::Trace,
        "QUERY" => HttpMethod::Query,
        other => HttpMethod::Other(text(other)),
    }
}

fn plan(plan: &spec::PlanSpec) -> CallPlan {
    CallPlan {
        method: method(&plan.method),
        path: text(&plan.path),
        params: slice(plan.params.iter().map(param)),
        body: plan.body.as_ref().map(body),
        security: slice(plan.security.iter().map(|alt| slice(alt.iter().copied()))),
        oauth_scopes: texts(&plan.oauth_scopes),
        caller_scopes: texts(&plan.caller_scopes),
    }
}

fn param(param: &spec::ParamSpec) -> ParamPlan {
    ParamPlan {
        arg: text(&param.arg),
        name: text(&param.name),
        location: location(param.location),
        style: style(param.style),
        explode: param.explode,
        allow_reserved: param.allow_reserved,
        json: param.json,
        fixed: param.fixed.as_ref().map(json),
    }
}

fn style(style: spec::ParamStyle) -> ParamStyle {
    match style {
        spec::ParamStyle::Simple => ParamStyle::Simple,
        spec::ParamStyle::Label => ParamStyle::Label,
        spec::ParamStyle::Matrix => ParamStyle::Matrix,
        spec::ParamStyle::Form => ParamStyle::Form,
        spec::ParamStyle::SpaceDelimited => ParamStyle::SpaceDelimited,
        spec::ParamStyle::PipeDelimited => ParamStyle::PipeDelimited,
        spec::ParamStyle::DeepObject => ParamStyle::DeepObject,
    }
}

fn body(body: &spec::BodySpec) -> BodyPlan {
    BodyPlan {
        media_type: text(&body.media_type),
        encoding: match body.encoding {
            spec::BodyEncoding::Json => BodyEncoding::Json,
            spec::BodyEncoding::Form => BodyEncoding::Form,
            spec::BodyEncoding::Text => BodyEncoding::Text,
            spec::BodyEncoding::Multipart => BodyEncoding::Multipart,
            spec::BodyEncoding::Binary => BodyEncoding::Binary,
        },
        shape: match &body.shape {
            spec::BodyShapeSpec::Flattened(names) => BodyShape::Flattened(texts(names)),
            spec::BodyShapeSpec::Whole(arg) => BodyShape::Whole(text(arg)),
        },
        required: body.required,
        file_fields: texts(&body.file_fields),
    }
}
