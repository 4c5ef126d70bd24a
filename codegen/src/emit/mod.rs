//! Writes the tool table as Rust: plain constant data (names, schemas as JSON text, call
//! plans) that the runtime executes, so that generated code stays small and compiles fast.
//!
//! The table is described once, as an [`Expr`] tree, by [`api_expr`]; the tree has two
//! printers: [`Expr::to_tokens`] for the attribute macro and [`Expr::to_text`] for the file of a
//! standalone crate, written directly as formatted Rust (no parse and re-print of megabytes of
//! tokens). Every string of the tree is printed as a literal, escaped as Rust requires (or as a
//! raw string when that is safe), so text from a document never becomes code.

pub mod embed;
pub mod escape;
pub mod standalone;

use std::borrow::Cow;
use std::fmt::Write as _;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream};
use quote::{TokenStreamExt, quote};

use crate::Mode;
use crate::guardrails::GuardrailSettings;
use crate::model::{BodyEncoding, Location, ParamStyle, SchemeKind, StreamKind};
use crate::prompts::{PromptArgumentSpec, PromptPart, PromptSpec};
use crate::tools::pagination::{NextPageSpec, PaginationSpec};
use crate::tools::{
    ApiSpec, BodyShapeSpec, ParamSpec, SchemeSpec, ToolGuardrailSpec, ToolSpec, UpstreamApiSpec,
};

/// A constant Rust expression of the tool table. Paths are relative to the runtime module
/// (`"ParamLocation::Query"` prints as `<rt>::ParamLocation::Query`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr<'a> {
    /// A string literal, escaped.
    Str(Cow<'a, str>),
    /// A string literal printed raw, `r#"..."#`; only [`text_literal`] makes one.
    RawStr(RawText<'a>),
    /// `true` or `false`.
    Bool(bool),
    /// An integer literal, typed `usize` by where it stands.
    Usize(usize),
    /// An integer literal, typed `i64` by where it stands.
    I64(i64),
    /// A runtime path: a unit variant or a constant.
    Path(&'static str),
    /// `None`.
    None,
    /// `Some(..)`.
    Some(Box<Expr<'a>>),
    /// A tuple-variant call, `<rt>::Path(a, b)`.
    Call(&'static str, Vec<Expr<'a>>),
    /// A struct literal with named fields, `<rt>::Path { a: .., b: .. }`.
    Struct(&'static str, Vec<(&'static str, Expr<'a>)>),
    /// A slice, `&[..]`.
    Slice(Vec<Expr<'a>>),
    /// A method call on a value, `<value>.name(a, b)`.
    Method(Box<Expr<'a>>, &'static str, Vec<Expr<'a>>),
    /// The text of a file beside the generated one, `include_str!("name")`.
    IncludeStr(&'static str),
}

/// Text that a raw string literal can hold, with the number of `#` it needs around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawText<'a> {
    text: Cow<'a, str>,
    hashes: usize,
}

/// Slices of plain values at most this long stay on one line in text.
const INLINE_SLICE_WIDTH: usize = 60;

impl<'a> Expr<'a> {
    fn str(text: &'a str) -> Self {
        Expr::Str(Cow::Borrowed(text))
    }

    /// `self.name(args)`.
    fn then(self, name: &'static str, args: Vec<Expr<'a>>) -> Self {
        Expr::Method(Box::new(self), name, args)
    }

    fn some(value: Expr<'a>) -> Self {
        Expr::Some(Box::new(value))
    }

    fn option_str(value: Option<&'a str>) -> Self {
        match value {
            Some(v) => Expr::some(Expr::str(v)),
            None => Expr::None,
        }
    }

    fn strs(values: &'a [String]) -> Self {
        Expr::Slice(values.iter().map(|v| Expr::str(v)).collect())
    }

    /// Tokens, with runtime paths under `rt` (e.g. `::mcpgen`).
    pub fn to_tokens(&self, rt: &TokenStream) -> TokenStream {
        let mut out = TokenStream::new();
        self.tokens_into(rt, &mut out);
        out
    }

    fn tokens_into(&self, rt: &TokenStream, out: &mut TokenStream) {
        match self {
            Expr::Str(text) => out.append(Literal::string(text)),
            Expr::RawStr(raw) => match raw_literal(&raw.text, raw.hashes).parse::<Literal>() {
                Ok(lit) => out.append(lit),
                // Unreachable: `text_literal` only builds raw strings that lex.
                Err(_) => out.append(Literal::string(&raw.text)),
            },
            Expr::Bool(value) => out.append(Ident::new(
                if *value { "true" } else { "false" },
                Span::call_site(),
            )),
            Expr::Usize(value) => out.append(Literal::usize_unsuffixed(*value)),
            Expr::I64(value) => out.append(Literal::i64_unsuffixed(*value)),
            Expr::Path(path) => path_tokens(rt, path, out),
            Expr::None => out.append(Ident::new("None", Span::call_site())),
            Expr::Some(value) => {
                out.append(Ident::new("Some", Span::call_site()));
                out.append(Group::new(Delimiter::Parenthesis, value.to_tokens(rt)));
            }
            Expr::Call(path, args) => {
                path_tokens(rt, path, out);
                out.append(Group::new(Delimiter::Parenthesis, list_tokens(rt, args)));
            }
            Expr::Struct(path, fields) => {
                path_tokens(rt, path, out);
                let mut inner = TokenStream::new();
                for (name, value) in fields {
                    inner.append(Ident::new(name, Span::call_site()));
                    inner.append(Punct::new(':', Spacing::Alone));
                    value.tokens_into(rt, &mut inner);
                    inner.append(Punct::new(',', Spacing::Alone));
                }
                out.append(Group::new(Delimiter::Brace, inner));
            }
            Expr::Slice(items) => {
                out.append(Punct::new('&', Spacing::Alone));
                out.append(Group::new(Delimiter::Bracket, list_tokens(rt, items)));
            }
            Expr::Method(value, name, args) => {
                value.tokens_into(rt, out);
                out.append(Punct::new('.', Spacing::Alone));
                out.append(Ident::new(name, Span::call_site()));
                out.append(Group::new(Delimiter::Parenthesis, list_tokens(rt, args)));
            }
            Expr::IncludeStr(name) => {
                out.append(Ident::new("include_str", Span::call_site()));
                out.append(Punct::new('!', Spacing::Alone));
                let file =
                    TokenStream::from(proc_macro2::TokenTree::Literal(Literal::string(name)));
                out.append(Group::new(Delimiter::Parenthesis, file));
            }
        }
    }

    /// Formatted Rust text at indentation level `indent` (four spaces each), with runtime paths
    /// under `rt` (e.g. `crate::mcpgen_runtime`): one struct field per line, trailing commas,
    /// short slices of plain values on one line.
    #[cfg(test)]
    pub fn to_text(&self, rt: &str, indent: usize) -> String {
        let mut out = String::new();
        self.text_into(rt, indent, &mut out);
        out
    }

    fn text_into(&self, rt: &str, indent: usize, out: &mut String) {
        match self {
            Expr::Str(text) => push_str_literal(text, out),
            Expr::RawStr(raw) => push_raw_literal(&raw.text, raw.hashes, out),
            Expr::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Expr::Usize(value) => {
                let _ = write!(out, "{value}");
            }
            Expr::I64(value) => {
                let _ = write!(out, "{value}");
            }
            Expr::Path(path) => push_path(rt, path, out),
            Expr::None => out.push_str("None"),
            Expr::Some(value) => {
                out.push_str("Some(");
                value.text_into(rt, indent, out);
                out.push(')');
            }
            Expr::Call(path, args) => {
                push_path(rt, path, out);
                push_args(args, rt, indent, out);
            }
            Expr::Method(value, name, args) => {
                value.text_into(rt, indent, out);
                out.push('.');
                out.push_str(name);
                push_args(args, rt, indent, out);
            }
            Expr::IncludeStr(name) => {
                out.push_str("include_str!(");
                push_str_literal(name, out);
                out.push(')');
            }
            Expr::Struct(path, fields) => {
                push_path(rt, path, out);
                if fields.is_empty() {
                    out.push_str(" {}");
                    return;
                }
                out.push_str(" {\n");
                for (name, value) in fields {
                    push_indent(indent + 1, out);
                    out.push_str(name);
                    out.push_str(": ");
                    value.text_into(rt, indent + 1, out);
                    out.push_str(",\n");
                }
                push_indent(indent, out);
                out.push('}');
            }
            Expr::Slice(items) => {
                if items.is_empty() {
                    out.push_str("&[]");
                    return;
                }
                if items.iter().all(Expr::is_plain) {
                    let start = out.len();
                    out.push_str("&[");
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        item.text_into(rt, indent, out);
                    }
                    out.push(']');
                    if out.len() - start <= INLINE_SLICE_WIDTH {
                        return;
                    }
                    out.truncate(start);
                }
                out.push_str("&[\n");
                for item in items {
                    push_indent(indent + 1, out);
                    item.text_into(rt, indent + 1, out);
                    out.push_str(",\n");
                }
                push_indent(indent, out);
                out.push(']');
            }
        }
    }

    /// About how long the text is (indentation counted roughly).
    fn text_size_hint(&self, rt: &str) -> usize {
        let path = |p: &str| rt.len() + 2 + p.len();
        match self {
            Expr::Str(text) => text.len() + 2,
            Expr::RawStr(raw) => raw.text.len() + 3 + 2 * raw.hashes,
            Expr::Bool(_) => 5,
            Expr::Usize(_) | Expr::I64(_) => 8,
            Expr::Path(p) => path(p),
            Expr::None => 4,
            Expr::Some(value) => 6 + value.text_size_hint(rt),
            Expr::Call(p, args) => {
                path(p) + 2 + args.iter().map(|a| a.text_size_hint(rt) + 2).sum::<usize>()
            }
            Expr::Method(value, name, args) => {
                value.text_size_hint(rt)
                    + name.len()
                    + 3
                    + args.iter().map(|a| a.text_size_hint(rt) + 2).sum::<usize>()
            }
            Expr::IncludeStr(name) => name.len() + 16,
            Expr::Struct(p, fields) => {
                path(p)
                    + 4
                    + fields
                        .iter()
                        .map(|(name, value)| name.len() + 24 + value.text_size_hint(rt))
                        .sum::<usize>()
            }
            Expr::Slice(items) => {
                4 + items
                    .iter()
                    .map(|i| i.text_size_hint(rt) + 24)
                    .sum::<usize>()
            }
        }
    }

    /// Whether this is a value that may share a line with others in a slice.
    fn is_plain(&self) -> bool {
        match self {
            Expr::Str(_)
            | Expr::Bool(_)
            | Expr::Usize(_)
            | Expr::I64(_)
            | Expr::Path(_)
            | Expr::None => true,
            Expr::Slice(items) => items.iter().all(Expr::is_plain),
            Expr::RawStr(..)
            | Expr::Some(_)
            | Expr::Call(..)
            | Expr::Struct(..)
            | Expr::Method(..)
            | Expr::IncludeStr(_) => false,
        }
    }
}

fn path_tokens(rt: &TokenStream, path: &str, out: &mut TokenStream) {
    out.extend(rt.clone());
    for segment in path.split("::") {
        out.append(Punct::new(':', Spacing::Joint));
        out.append(Punct::new(':', Spacing::Alone));
        out.append(Ident::new(segment, Span::call_site()));
    }
}

fn list_tokens(rt: &TokenStream, items: &[Expr<'_>]) -> TokenStream {
    let mut out = TokenStream::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.append(Punct::new(',', Spacing::Alone));
        }
        item.tokens_into(rt, &mut out);
    }
    out
}

fn push_path(rt: &str, path: &str, out: &mut String) {
    out.push_str(rt);
    out.push_str("::");
    out.push_str(path);
}

/// `(a, b)`: the arguments of a call, on one line.
fn push_args(args: &[Expr<'_>], rt: &str, indent: usize, out: &mut String) {
    out.push('(');
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        arg.text_into(rt, indent, out);
    }
    out.push(')');
}

fn push_indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str("    ");
    }
}

/// Appends `text` as a Rust string literal, escaped exactly as `proc_macro2::Literal::string`
/// does (so both printers agree): `char::escape_debug` for every character but `'` (left as is)
/// and NUL (`\0`, or `\x00` before an octal digit).
fn push_str_literal(text: &str, out: &mut String) {
    out.reserve(text.len() + 2);
    out.push('"');
    let mut plain = 0;
    for (i, byte) in text.bytes().enumerate() {
        // Printable ASCII other than `"` and `\` stands for itself; copy runs of it at once.
        if (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\' {
            continue;
        }
        if byte >= 0x80 && !text.is_char_boundary(i) {
            continue;
        }
        out.push_str(&text[plain..i]);
        let ch = text[i..].chars().next().unwrap_or_default();
        if ch == '\0' {
            let octal_next = text[i + 1..].starts_with(|c: char| ('0'..='7').contains(&c));
            out.push_str(if octal_next { "\\x00" } else { "\\0" });
        } else {
            out.extend(ch.escape_debug());
        }
        plain = i + ch.len_utf8();
    }
    out.push_str(&text[plain..]);
    out.push('"');
}

fn push_raw_literal(text: &str, hashes: usize, out: &mut String) {
    out.reserve(text.len() + 3 + 2 * hashes);
    out.push('r');
    push_hashes(hashes, out);
    out.push('"');
    out.push_str(text);
    out.push('"');
    push_hashes(hashes, out);
}

fn push_hashes(count: usize, out: &mut String) {
    for _ in 0..count {
        out.push('#');
    }
}

fn raw_literal(text: &str, hashes: usize) -> String {
    let mut out = String::new();
    push_raw_literal(text, hashes, &mut out);
    out
}

/// Whether `bytes` hold a Unicode character that changes the direction of text: U+202A to
/// U+202E or U+2066 to U+2069, all starting with the byte 0xE2 in UTF-8. Only the chunks that
/// hold that (rare) byte are looked at closely.
fn has_text_flow_control(bytes: &[u8]) -> bool {
    const CHUNK: usize = 4096;
    let mut start = 0;
    while start < bytes.len() {
        let end = (start + CHUNK).min(bytes.len());
        if bytes[start..end].contains(&0xE2) {
            // The windows that start in this chunk.
            let window_end = (end + 2).min(bytes.len());
            if bytes[start..window_end]
                .windows(3)
                .any(|w| matches!(w, [0xE2, 0x80, 0xAA..=0xAE] | [0xE2, 0x81, 0xA6..=0xA9]))
            {
                return true;
            }
        }
        start = end;
    }
    false
}

/// The number of `#` a raw string literal of `text` needs (one more than the longest run of
/// `#` after a `"`), or `None` when `text` cannot be one: it holds a carriage return, or a
/// Unicode character that changes the direction of text (rustc refuses those unescaped in any
/// literal: `text_direction_codepoint_in_literal`), or needs more than 255 `#`. Schemas are
/// megabytes of JSON with a `"` every few bytes, so each scan looks for a rare byte (`memchr`).
fn raw_hashes(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.contains(&b'\r') {
        return None;
    }
    if has_text_flow_control(bytes) {
        return None;
    }
    let mut longest = 0;
    for (i, _) in text.match_indices('#') {
        // The first `#` of a run after a `"`.
        if i > 0 && bytes[i - 1] == b'"' {
            let run = bytes[i..].iter().take_while(|b| **b == b'#').count();
            longest = longest.max(run);
        }
    }
    (longest < 255).then_some(longest + 1)
}

/// A literal of JSON text: a raw string (`r#"..."#`), far easier to read in review than an
/// escaped one, when the text can be one (see [`raw_hashes`]); an escaped string otherwise.
/// JSON text from serde_json never holds a control character (they are escaped).
pub fn text_literal<'a>(text: impl Into<Cow<'a, str>>) -> Expr<'a> {
    let text = text.into();
    match raw_hashes(&text) {
        Some(hashes) => Expr::RawStr(RawText { text, hashes }),
        None => Expr::Str(text),
    }
}

/// The `ApiDescriptor` static named `API` as tokens, with runtime types named through `rt`
/// (`::mcpgen` for the macro).
pub fn api_tokens(api: &ApiSpec, rt: &TokenStream) -> TokenStream {
    let table = api_expr(api, None).to_tokens(rt);
    let format = proc_macro2::Literal::u32_unsuffixed(DESCRIPTOR_FORMAT);
    let message = format_mismatch_message();
    quote! {
        const _: () = assert!(#rt::DESCRIPTOR_FORMAT == #format, #message);
        /// The generated API table.
        pub static API: #rt::ApiDescriptor = #table;
    }
}

/// The layout of the runtime's descriptor tables that this generator writes; the runtime's
/// `DESCRIPTOR_FORMAT` must be the same (a test keeps them equal). Raised with every change
/// to the tables' fields, so that a table written for one layout never meets a runtime of
/// another: the generated check stops the build with a message that says to regenerate.
pub const DESCRIPTOR_FORMAT: u32 = 5;

/// What a build says when a generated table and the runtime disagree on the layout.
fn format_mismatch_message() -> String {
    format!(
        "this tool table was generated by mcpgen {} for another version of the mcpgen runtime: \
         regenerate it with the cargo-mcpgen of the runtime's version (`cargo mcpgen generate`), \
         or depend on the runtime version it was generated for",
        env!("CARGO_PKG_VERSION")
    )
}

/// The `ApiDescriptor` static named `API` as formatted Rust, with runtime types named through
/// `rt` (e.g. `crate::mcpgen_runtime` in a standalone crate, `::mcpgen` for a dependency).
#[cfg(test)]
pub fn api_text(api: &ApiSpec, rt: &str) -> String {
    let mut out = String::new();
    write_api_text(api, rt, None, &mut out);
    out
}

/// The `ApiDescriptor` static named `API` as formatted Rust, appended to `out` (after a file header, say: megabytes are not copied again).
/// With `openapi_file`, the embedded document is read from that file beside the generated one
/// (which the caller writes) rather than written inline.
pub fn write_api_text(
    api: &ApiSpec,
    rt: &str,
    openapi_file: Option<&'static str>,
    out: &mut String,
) {
    let table = api_expr(api, openapi_file);
    // One allocation for megabytes of text: an estimate with some room to spare.
    out.reserve(table.text_size_hint(rt) / 8 * 9 + 512);
    out.push_str("const _: () = assert!(");
    push_path(rt, "DESCRIPTOR_FORMAT", out);
    out.push_str(&format!(" == {DESCRIPTOR_FORMAT}, "));
    push_str_literal(&format_mismatch_message(), out);
    out.push_str(");\n");
    out.push_str("/// The generated API table.\npub static API: ");
    push_path(rt, "ApiDescriptor", out);
    out.push_str(" = ");
    table.text_into(rt, 0, out);
    out.push_str(";\n");
}

/// The table of `api`, described once for both printers; the embedded document is inline, or
/// included from `openapi_file`.
pub fn api_expr<'a>(api: &'a ApiSpec, openapi_file: Option<&'static str>) -> Expr<'a> {
    let mode = match api.mode {
        Mode::Tools => "ServeMode::Tools",
        Mode::Search => "ServeMode::Search",
        Mode::Mixed => "ServeMode::Mixed",
        Mode::Code => "ServeMode::Code",
    };
    Expr::Struct(
        "ApiDescriptor",
        vec![
            ("server_name", Expr::str(&api.server_name)),
            ("server_version", Expr::str(&api.version)),
            ("title", Expr::str(&api.title)),
            ("instructions", Expr::str(&api.instructions)),
            (
                "default_base_url",
                Expr::option_str(api.default_base_url.as_deref()),
            ),
            ("env_prefix", Expr::str(&api.env_prefix)),
            (
                "security_schemes",
                Expr::Slice(api.schemes.iter().map(scheme_expr).collect()),
            ),
            (
                "tools",
                Expr::Slice(api.tools.iter().map(tool_expr).collect()),
            ),
            ("mode", Expr::Path(mode)),
            (
                "openapi",
                match (&api.openapi, openapi_file) {
                    (Some(_), Some(file)) => Expr::some(Expr::IncludeStr(file)),
                    (Some(text), None) => Expr::some(text_literal(text.as_str())),
                    (None, _) => Expr::None,
                },
            ),
            ("guardrails", guardrails_expr(&api.guardrails)),
            (
                "prompts",
                Expr::Slice(api.prompts.iter().map(prompt_expr).collect()),
            ),
            (
                "apis",
                Expr::Slice(api.apis.iter().map(upstream_expr).collect()),
            ),
        ],
    )
}

/// One API of a server of several; its document is written inline.
fn upstream_expr(upstream: &UpstreamApiSpec) -> Expr<'_> {
    Expr::Struct(
        "UpstreamApi",
        vec![
            ("name", Expr::str(&upstream.name)),
            ("title", Expr::str(&upstream.title)),
            (
                "default_base_url",
                Expr::option_str(upstream.default_base_url.as_deref()),
            ),
            ("env_prefix", Expr::str(&upstream.env_prefix)),
            (
                "openapi",
                match &upstream.openapi {
                    Some(text) => Expr::some(text_literal(text.as_str())),
                    None => Expr::None,
                },
            ),
            ("tool_count", Expr::Usize(upstream.tool_count)),
            ("scheme_count", Expr::Usize(upstream.scheme_count)),
        ],
    )
}

fn prompt_expr(prompt: &PromptSpec) -> Expr<'_> {
    fn argument(a: &PromptArgumentSpec) -> Expr<'_> {
        Expr::Struct(
            "PromptArgumentDescriptor",
            vec![
                ("name", Expr::str(&a.name)),
                ("description", Expr::option_str(a.description.as_deref())),
                ("required", Expr::Bool(a.required)),
                ("values", Expr::strs(&a.values)),
            ],
        )
    }
    fn part(p: &PromptPart) -> Expr<'_> {
        match p {
            PromptPart::Text(text) => Expr::Call("PromptPart::Text", vec![text_literal(text)]),
            PromptPart::Argument(name) => Expr::Call("PromptPart::Argument", vec![Expr::str(name)]),
            PromptPart::Given { argument, text } => Expr::Struct(
                "PromptPart::Given",
                vec![("argument", Expr::str(argument)), ("text", Expr::str(text))],
            ),
            PromptPart::Tool(i) => Expr::Call("PromptPart::Tool", vec![Expr::Usize(*i)]),
            PromptPart::ToolItem(i) => Expr::Call("PromptPart::ToolItem", vec![Expr::Usize(*i)]),
        }
    }
    Expr::Struct(
        "PromptDescriptor",
        vec![
            ("name", Expr::str(&prompt.name)),
            ("title", Expr::option_str(prompt.title.as_deref())),
            ("description", Expr::str(&prompt.description)),
            (
                "arguments",
                Expr::Slice(prompt.arguments.iter().map(argument).collect()),
            ),
            (
                "parts",
                Expr::Slice(prompt.parts.iter().map(part).collect()),
            ),
            (
                "resources",
                Expr::Slice(
                    prompt
                        .resources
                        .iter()
                        .map(|uri| Expr::Slice(uri.iter().map(part).collect()))
                        .collect(),
                ),
            ),
            ("needs_every_tool", Expr::Bool(prompt.needs_every_tool)),
        ],
    )
}

fn location_expr(location: Location) -> Expr<'static> {
    Expr::Path(match location {
        Location::Path => "ParamLocation::Path",
        Location::Query => "ParamLocation::Query",
        Location::Header => "ParamLocation::Header",
        Location::Cookie => "ParamLocation::Cookie",
        Location::QueryString => "ParamLocation::QueryString",
    })
}

fn scheme_expr(scheme: &SchemeSpec) -> Expr<'_> {
    let kind = match &scheme.kind {
        SchemeKind::Bearer => Expr::Path("SecurityKind::Bearer"),
        SchemeKind::Basic => Expr::Path("SecurityKind::Basic"),
        SchemeKind::ApiKey { location, name } => Expr::Call(
            "SecurityKind::ApiKey",
            vec![location_expr(*location), Expr::str(name)],
        ),
        SchemeKind::OAuth2ClientCredentials { token_url, .. } => Expr::Struct(
            "SecurityKind::OAuth2ClientCredentials",
            vec![("token_url", Expr::str(token_url))],
        ),
    };
    Expr::Struct(
        "SecuritySchemeDescriptor",
        vec![
            ("name", Expr::str(&scheme.key)),
            ("kind", kind),
            ("env", Expr::strs(&scheme.env)),
        ],
    )
}

/// A parameter as its location's constructor, then only what differs from the defaults.
fn param_expr(p: &ParamSpec) -> Expr<'_> {
    let constructor = match p.location {
        Location::Path => "ParamPlan::path",
        Location::Query => "ParamPlan::query",
        Location::Header => "ParamPlan::header",
        Location::Cookie => "ParamPlan::cookie",
        Location::QueryString => "ParamPlan::query_string",
    };
    let mut plan = Expr::Call(constructor, vec![Expr::str(&p.name)]);
    if p.arg != p.name {
        plan = plan.then("argument", vec![Expr::str(&p.arg)]);
    }
    if p.style != p.location.default_style() || p.explode != p.style.explodes_by_default() {
        plan = plan.then("styled", vec![style_expr(p.style), Expr::Bool(p.explode)]);
    }
    if p.allow_reserved {
        plan = plan.then("reserved", Vec::new());
    }
    if p.json {
        plan = plan.then("json_text", Vec::new());
    }
    if let Some(value) = &p.fixed {
        plan = plan.then("fixed_to", vec![Expr::Str(Cow::Owned(json_text(value)))]);
    }
    plan
}

fn style_expr(style: ParamStyle) -> Expr<'static> {
    Expr::Path(match style {
        ParamStyle::Simple => "ParamStyle::Simple",
        ParamStyle::Label => "ParamStyle::Label",
        ParamStyle::Matrix => "ParamStyle::Matrix",
        ParamStyle::Form => "ParamStyle::Form",
        ParamStyle::SpaceDelimited => "ParamStyle::SpaceDelimited",
        ParamStyle::PipeDelimited => "ParamStyle::PipeDelimited",
        ParamStyle::DeepObject => "ParamStyle::DeepObject",
    })
}

/// Compact JSON text: what `value.to_string()` gives, written straight into a byte buffer
/// rather than through `fmt::Write` (megabytes of schemas, in small pieces).
fn json_text(value: &serde_json::Value) -> String {
    crate::json::to_string(value)
}

fn tool_expr(tool: &ToolSpec) -> Expr<'_> {
    let method = match tool.plan.method.as_str() {
        "GET" => Expr::Path("HttpMethod::Get"),
        "PUT" => Expr::Path("HttpMethod::Put"),
        "POST" => Expr::Path("HttpMethod::Post"),
        "DELETE" => Expr::Path("HttpMethod::Delete"),
        "OPTIONS" => Expr::Path("HttpMethod::Options"),
        "HEAD" => Expr::Path("HttpMethod::Head"),
        "PATCH" => Expr::Path("HttpMethod::Patch"),
        "TRACE" => Expr::Path("HttpMethod::Trace"),
        "QUERY" => Expr::Path("HttpMethod::Query"),
        other => Expr::Call("HttpMethod::Other", vec![Expr::str(other)]),
    };
    let stream = match tool.stream {
        Some(kind) => Expr::some(Expr::Path(match kind {
            StreamKind::Events => "StreamFormat::Events",
            StreamKind::EventsJson => "StreamFormat::EventsJson",
            StreamKind::EventData => "StreamFormat::EventData",
            StreamKind::JsonLines => "StreamFormat::JsonLines",
            StreamKind::JsonSeq => "StreamFormat::JsonSeq",
        })),
        None => Expr::None,
    };
    let body = match &tool.plan.body {
        Some(body) => {
            let encoding = match body.encoding {
                BodyEncoding::Json => "BodyEncoding::Json",
                BodyEncoding::Form => "BodyEncoding::Form",
                BodyEncoding::Text => "BodyEncoding::Text",
                BodyEncoding::Multipart => "BodyEncoding::Multipart",
                BodyEncoding::Binary => "BodyEncoding::Binary",
            };
            let shape = match &body.shape {
                BodyShapeSpec::Flattened(names) => {
                    Expr::Call("BodyShape::Flattened", vec![Expr::strs(names)])
                }
                BodyShapeSpec::Whole(arg) => Expr::Call("BodyShape::Whole", vec![Expr::str(arg)]),
            };
            Expr::some(Expr::Struct(
                "BodyPlan",
                vec![
                    ("media_type", Expr::str(&body.media_type)),
                    ("encoding", Expr::Path(encoding)),
                    ("shape", shape),
                    ("required", Expr::Bool(body.required)),
                    ("file_fields", Expr::strs(&body.file_fields)),
                ],
            ))
        }
        None => Expr::None,
    };
    let security = tool
        .plan
        .security
        .iter()
        .map(|alt| Expr::Slice(alt.iter().map(|i| Expr::Usize(*i)).collect()))
        .collect();
    Expr::Struct(
        "ToolDescriptor",
        vec![
            ("name", Expr::str(&tool.name)),
            ("title", Expr::option_str(tool.title.as_deref())),
            ("description", Expr::str(&tool.description)),
            ("input_schema", text_literal(json_text(&tool.input_schema))),
            (
                "output_schema",
                match &tool.output_schema {
                    Some(schema) => Expr::some(text_literal(json_text(schema))),
                    None => Expr::None,
                },
            ),
            ("output_wrapped", Expr::Bool(tool.output_wrapped)),
            (
                "hints",
                Expr::Struct(
                    "ToolHints",
                    vec![
                        ("read_only", Expr::Bool(tool.hints.read_only)),
                        ("destructive", Expr::Bool(tool.hints.destructive)),
                        ("idempotent", Expr::Bool(tool.hints.idempotent)),
                    ],
                ),
            ),
            ("stream", stream),
            (
                "plan",
                Expr::Struct(
                    "CallPlan",
                    vec![
                        ("method", method),
                        ("path", Expr::str(&tool.plan.path)),
                        (
                            "params",
                            Expr::Slice(tool.plan.params.iter().map(param_expr).collect()),
                        ),
                        ("body", body),
                        ("security", Expr::Slice(security)),
                        ("oauth_scopes", Expr::strs(&tool.plan.oauth_scopes)),
                        ("caller_scopes", Expr::strs(&tool.plan.caller_scopes)),
                    ],
                ),
            ),
            ("tags", Expr::strs(&tool.tags)),
            ("search_only", Expr::Bool(tool.search_only)),
            ("guardrails", tool_guardrails_expr(&tool.guardrails)),
            (
                "pagination",
                match &tool.pagination {
                    Some(p) => Expr::some(pagination_expr(p)),
                    None => Expr::None,
                },
            ),
            ("long_running", Expr::Bool(tool.long_running)),
            (
                "resource",
                match &tool.resource {
                    Some(resource) => Expr::some(Expr::Struct(
                        "ResourceDescriptor",
                        vec![
                            ("uri", Expr::str(&resource.uri)),
                            ("mime_type", Expr::option_str(resource.mime_type.as_deref())),
                        ],
                    )),
                    None => Expr::None,
                },
            ),
        ],
    )
}

fn pagination_expr(pagination: &PaginationSpec) -> Expr<'_> {
    let next = match &pagination.next {
        NextPageSpec::Link => Expr::Path("NextPage::Link"),
        NextPageSpec::NextUrl(field) => Expr::Call("NextPage::NextUrl", vec![Expr::str(field)]),
        NextPageSpec::Cursor { arg, cursor } => Expr::Struct(
            "NextPage::Cursor",
            vec![("arg", Expr::str(arg)), ("cursor", Expr::str(cursor))],
        ),
        NextPageSpec::AfterLast { arg, id, more } => Expr::Struct(
            "NextPage::AfterLast",
            vec![
                ("arg", Expr::str(arg)),
                ("id", Expr::str(id)),
                ("more", Expr::str(more)),
            ],
        ),
        NextPageSpec::Page { arg, first } => Expr::Struct(
            "NextPage::Page",
            vec![("arg", Expr::str(arg)), ("first", Expr::I64(*first))],
        ),
        NextPageSpec::Offset { arg } => {
            Expr::Struct("NextPage::Offset", vec![("arg", Expr::str(arg))])
        }
    };
    Expr::Struct(
        "Pagination",
        vec![("next", next), ("items", Expr::str(&pagination.items))],
    )
}

/// A tool's guardrails: the constant `NONE` for the many tools that have none.
fn tool_guardrails_expr(guardrails: &ToolGuardrailSpec) -> Expr<'_> {
    if *guardrails == ToolGuardrailSpec::default() {
        return Expr::Path("ToolGuardrails::NONE");
    }
    Expr::Struct(
        "ToolGuardrails",
        vec![
            ("masked_fields", Expr::strs(&guardrails.masked_fields)),
            (
                "rate_limit",
                Expr::option_str(guardrails.rate_limit.as_deref()),
            ),
            ("confirm", Expr::Bool(guardrails.confirm)),
        ],
    )
}

/// The server's guardrails as the settings chose them.
fn guardrails_expr(guardrails: &GuardrailSettings) -> Expr<'_> {
    Expr::Struct(
        "Guardrails",
        vec![
            ("masked_fields", Expr::strs(&guardrails.mask_fields)),
            ("mask_detectors", Expr::strs(&guardrails.mask_detectors)),
            (
                "rate_limit",
                Expr::option_str(guardrails.rate_limit.as_deref()),
            ),
            (
                "global_rate_limit",
                Expr::option_str(guardrails.global_rate_limit.as_deref()),
            ),
            (
                "max_concurrent_per_caller",
                match guardrails.max_concurrent_per_caller {
                    Some(n) => Expr::some(Expr::Usize(n)),
                    None => Expr::None,
                },
            ),
            (
                "unauthenticated_rate_limit",
                Expr::option_str(guardrails.unauthenticated_rate_limit.as_deref()),
            ),
            (
                "audit_log",
                Expr::option_str(guardrails.audit_log.as_deref()),
            ),
            ("confirm", Expr::option_str(guardrails.confirm.as_deref())),
        ],
    )
}

/// Formats tokens as a Rust file.
pub fn format_file(tokens: TokenStream) -> Result<String, crate::Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| crate::Error::Internal(e.to_string()))?;
    Ok(prettyplease::unparse(&file))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proc_macro2::TokenTree;
    use quote::ToTokens;

    use super::*;
    use crate::{Settings, map_document};

    /// Strings that would end a literal, a comment or a raw string early, or open code, if
    /// they were pasted into the text unescaped.
    const HOSTILE: &[&str] = &[
        "\"",
        "\\",
        "\\\"",
        "\"#",
        "\"##",
        "\"#######",
        "#\"#",
        "*/",
        "/*",
        "//",
        "#[",
        "#![allow(warnings)]",
        "{{",
        "}}",
        "{}",
        "line\nbreak",
        "carriage\rreturn",
        "crlf\r\n",
        "nul\0end",
        "nul\x007 before a digit",
        "tab\there",
        "\u{2028}\u{2029}\u{85}",
        "bidi \u{202E}dlrow\u{202C} \u{2066}x\u{2069}",
        "combining \u{301} and zero width \u{200B}\u{FEFF}",
        "escape \u{1b}[31m bell \u{7}",
        "emoji 🦀 and ü and 中文",
        "]\n[x]",
        "\"), bad(), (\"",
        "\"; fn main() {} //",
        "r#\"raw\"#",
        "'",
        "''",
        "",
    ];

    fn repo(path: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
    }

    /// The value of every string literal, in order.
    fn string_literals(tokens: TokenStream, out: &mut Vec<String>) {
        for tree in tokens {
            match tree {
                TokenTree::Group(group) => string_literals(group.stream(), out),
                TokenTree::Literal(lit) => {
                    if let syn::Lit::Str(s) = syn::Lit::new(lit) {
                        out.push(s.value());
                    }
                }
                _ => {}
            }
        }
    }

    /// Tokens with the trailing comma of every group dropped: the text has them where the
    /// tokens do not.
    fn without_trailing_commas(tokens: TokenStream) -> TokenStream {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out = TokenStream::new();
        let last = trees.len().saturating_sub(1);
        for (i, tree) in trees.into_iter().enumerate() {
            match tree {
                TokenTree::Punct(p) if p.as_char() == ',' && i == last => {}
                TokenTree::Group(g) => out.append(Group::new(
                    g.delimiter(),
                    without_trailing_commas(g.stream()),
                )),
                other => out.append(other),
            }
        }
        out
    }

    /// The format check and the static of a file, the static without its attributes (the doc
    /// comment's literal is raw in tokens, plain in text), and the values of its doc
    /// attributes.
    fn split_static(file: &syn::File) -> (TokenStream, Vec<String>) {
        let [syn::Item::Const(check), syn::Item::Static(item)] = file.items.as_slice() else {
            panic!("the format check and one static");
        };
        assert!(
            check
                .to_token_stream()
                .to_string()
                .contains(&format!("DESCRIPTOR_FORMAT == {DESCRIPTOR_FORMAT}")),
            "the format check comes first"
        );
        let mut item = item.clone();
        let docs = item
            .attrs
            .drain(..)
            .map(|attr| match &attr.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    path,
                    value:
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(doc),
                            ..
                        }),
                    ..
                }) if path.is_ident("doc") => doc.value(),
                _ => panic!("only doc attributes"),
            })
            .collect();
        let mut both = check.to_token_stream();
        both.extend(without_trailing_commas(item.to_token_stream()));
        (both, docs)
    }

    /// Parses the text as a Rust file and checks it is token for token what the tokens
    /// printer makes; returns the values of its string literals.
    fn check_printers_agree(api: &ApiSpec) -> Vec<String> {
        let text = api_text(api, "::mcpgen");
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
        let (from_text, text_docs) = split_static(&file);
        let tokens = api_tokens(api, &quote!(::mcpgen));
        let (from_tokens, token_docs) = split_static(&syn::parse2(tokens.clone()).unwrap());
        assert_eq!(text_docs, [" The generated API table."]);
        assert_eq!(text_docs, token_docs);
        let (a, b) = (from_text.to_string(), from_tokens.to_string());
        if a != b {
            let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            let window = |s: &str| {
                let start = (0..=at.saturating_sub(80))
                    .rev()
                    .find(|i| s.is_char_boundary(*i))
                    .unwrap_or(0);
                s[start..].chars().take(200).collect::<String>()
            };
            panic!(
                "the printers differ:\ntext:   {}\ntokens: {}",
                window(&a),
                window(&b)
            );
        }

        let mut text_values = Vec::new();
        string_literals(text.parse().unwrap(), &mut text_values);
        let mut token_values = Vec::new();
        string_literals(tokens, &mut token_values);
        assert_eq!(text_values, token_values);
        text_values
    }

    #[test]
    fn string_literals_escape_like_proc_macro2() {
        for text in HOSTILE {
            let mut out = String::new();
            push_str_literal(text, &mut out);
            assert_eq!(out, Literal::string(text).to_string(), "{text:?}");
        }
    }

    #[test]
    fn hostile_strings_stay_literals() {
        let mut fields = Vec::new();
        let mut expected = Vec::new();
        for text in HOSTILE {
            fields.push(("plain", Expr::str(text)));
            fields.push(("json", text_literal((*text).to_owned())));
            fields.push(("option", Expr::some(Expr::str(text))));
            fields.push((
                "call",
                Expr::Call("Kind::Pair", vec![Expr::str(text), Expr::str(text)]),
            ));
            fields.push(("slice", Expr::Slice(vec![Expr::str(text), Expr::str("x")])));
            expected.extend([*text; 6]);
            expected.push("x");
        }
        let table = Expr::Struct("Table", fields);
        let text = format!("static T: Table = {};\n", table.to_text("crate::rt", 0));
        syn::parse_file(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
        let mut values = Vec::new();
        string_literals(text.parse().unwrap(), &mut values);
        assert_eq!(values, expected);
        // JSON text is raw when it can be, escaped when it cannot.
        assert_eq!(
            text_literal("{\"a\":\"#\"}".to_owned()).to_text("rt", 0),
            "r##\"{\"a\":\"#\"}\"##"
        );
        assert!(matches!(text_literal("a\rb".to_owned()), Expr::Str(_)));
        assert!(matches!(text_literal("\u{202E}".to_owned()), Expr::Str(_)));
        assert_eq!(raw_hashes("a\"##b\"#"), Some(3));
        assert_eq!(raw_hashes("##\" #"), Some(1));
        assert_eq!(raw_hashes("#"), Some(1));
        let hashes = format!("\"{}", "#".repeat(254));
        assert!(matches!(
            text_literal(hashes.clone()),
            Expr::RawStr(RawText { hashes: 255, .. })
        ));
        assert!(matches!(text_literal(hashes + "#"), Expr::Str(_)));
        // Across the chunks the scan is split into.
        for at in 4090..4100 {
            let text = format!("{}\u{202E}{}", "a".repeat(at), "b".repeat(10));
            assert_eq!(raw_hashes(&text), None, "{at}");
        }
        for ch in '\u{2000}'..='\u{2FFF}' {
            let flow = matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            assert_eq!(raw_hashes(&format!("a{ch}b")).is_none(), flow, "{ch:?}");
        }

        // The same through the whole table: every string the document gives.
        let spec = repo("examples/petstore/openapi.yaml");
        let mut api = map_document(&spec, &Settings::new()).unwrap().api;
        let all: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
        let joined = all.concat();
        api.title = joined.clone();
        api.version = joined.clone();
        api.server_name = joined.clone();
        api.instructions = joined.clone();
        api.env_prefix = joined.clone();
        api.default_base_url = Some(joined.clone());
        api.openapi =
            Some(serde_json::json!({ "info": { "title": joined }, "x": all }).to_string());
        api.schemes[0].key = joined.clone();
        api.schemes[0].env = all.clone();
        api.schemes.push(SchemeSpec {
            key: joined.clone(),
            kind: SchemeKind::ApiKey {
                location: Location::Header,
                name: joined.clone(),
            },
            env: all.clone(),
        });
        for (tool, text) in api.tools.iter_mut().zip(HOSTILE.iter().cycle()) {
            tool.name = (*text).to_owned();
            tool.title = Some(joined.clone());
            tool.description = joined.clone();
            tool.input_schema = serde_json::json!({ "description": text, *text: all });
            tool.tags = all.clone();
            tool.plan.path = joined.clone();
            tool.plan.oauth_scopes = all.clone();
            tool.plan.caller_scopes = all.clone();
            for p in &mut tool.plan.params {
                p.arg = (*text).to_owned();
                p.name = joined.clone();
                p.fixed = Some(serde_json::json!(all));
            }
        }
        let values = check_printers_agree(&api);
        for text in &all {
            assert!(values.contains(text), "{text:?} is a literal");
        }
        assert!(values.contains(&joined));
        for tool in &api.tools {
            assert!(values.contains(&tool.input_schema.to_string()));
        }
    }

    #[test]
    fn printers_agree_on_fixtures() {
        for path in [
            "examples/petstore/openapi.yaml",
            "tests/fixtures/kitchen-sink.yaml",
            "tests/fixtures/oauth.yaml",
            "tests/fixtures/search.yaml",
            "tests/fixtures/faults.yaml",
        ] {
            let api = map_document(&repo(path), &Settings::new()).unwrap().api;
            check_printers_agree(&api);
        }
    }

    #[test]
    fn text_layout() {
        let y = "y".repeat(40);
        let table = Expr::Struct(
            "Table",
            vec![
                ("name", Expr::str("a")),
                ("short", Expr::Slice(vec![Expr::str("x"), Expr::Usize(1)])),
                ("empty", Expr::Slice(Vec::new())),
                (
                    "nested",
                    Expr::Slice(vec![Expr::Slice(vec![Expr::Usize(0)])]),
                ),
                (
                    "long",
                    Expr::Call(
                        "Shape::Flattened",
                        vec![Expr::Slice(vec![Expr::str(&y); 2])],
                    ),
                ),
                (
                    "inner",
                    Expr::some(Expr::Struct("Inner", vec![("on", Expr::Bool(true))])),
                ),
                ("unit", Expr::Path("Mode::Tools")),
                ("none", Expr::None),
            ],
        );
        assert_eq!(
            table.to_text("rt", 0),
            format!(
                "rt::Table {{
    name: \"a\",
    short: &[\"x\", 1],
    empty: &[],
    nested: &[&[0]],
    long: rt::Shape::Flattened(&[
        \"{y}\",
        \"{y}\",
    ]),
    inner: Some(rt::Inner {{
        on: true,
    }}),
    unit: rt::Mode::Tools,
    none: None,
}}"
            )
        );
    }
}
