//! The `#[mcpgen::server(spec = "...")]` attribute macro.

use proc_macro::TokenStream;

/// Expands an inline module into an MCP server for an OpenAPI document.
#[proc_macro_attribute]
pub fn server(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let message = "#[mcpgen::server] is not available yet";
    format!("compile_error!({message:?});")
        .parse()
        .unwrap_or(item)
}
