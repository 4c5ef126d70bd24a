//! What mapping a document produces: the API and its tools as plain data, which the emitters
//! write as Rust, `cargo mcpgen inspect` weighs and `cargo mcpgen diff` compares.

pub use crate::guardrails::GuardrailSettings;
pub use crate::model::{BodyEncoding, Location, ParamStyle, SchemeKind, StreamKind};
pub use crate::prompts::{PromptArgumentSpec, PromptPart, PromptSpec};
pub use crate::tools::pagination::{NextPageSpec, PaginationSpec};
pub use crate::tools::{
    ApiSpec, BodyShapeSpec, BodySpec, Hints, ParamSpec, PlanSpec, ResourceSpec, SchemeSpec,
    ToolGuardrailSpec, ToolSpec, UpstreamApiSpec,
};
