//! The runtime of a generated MCP server: the descriptor types that generated tables fill in,
//! and the code that executes them. This module is self-contained (it names its siblings only
//! through `super::`), so the generator can copy it verbatim into a standalone crate.

pub mod credentials;
pub mod descriptor;
pub mod discovery;
pub mod extra;
pub mod fields;
pub mod files;
pub mod oauth;
pub mod params;
pub mod request;
pub mod response;
pub mod retry;
pub mod search;
pub mod serve;
pub mod server;
pub mod stdio;
pub mod validate;

pub use descriptor::*;
pub use extra::{ExtraTool, IntoToolResult, ToolContext};
pub use serve::{ServeArgs, Transport, main, main_with_extra_tools};
pub use server::{GeneratedServer, RuntimeConfig};
