//! The corpus runner: runs the generator over published OpenAPI documents and checks that
//! every tool it produces is one an MCP client accepts.
//!
//! [`select`] picks the documents ([`collect`] finds them in registry packages, for the second
//! corpus), [`document`] runs one of them, [`check`] holds the rules a
//! tool must follow and [`report`] prints the summary. The binary runs documents in worker
//! processes so that even a stack overflow in one document is counted instead of ending the run.

pub mod check;
pub mod collect;
pub mod document;
pub mod instances;
pub mod report;
pub mod select;
pub mod server_validator;
