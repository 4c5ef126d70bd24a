//! How deep a document may nest and how far references are followed: the bounds every stage
//! that recurses over what a document says takes from here, so that a hostile document is
//! refused (or a walk stops) at one documented depth rather than overflowing the stack.
//!
//! Depth is counted in two units. A *JSON level* is one object or array inside another. A
//! *schema level* is one schema inside another (`properties/x`, `items`, `allOf/0`, ...), which
//! takes one or two JSON levels. Stages that do not recurse (the upgrade, the walks that use
//! an explicit stack) need no bound: they handle any depth the parsers let through.
//!
//! Size budgets (how many files, bytes or nodes) stay with the stage that charges them:
//! [`MAX_DOCUMENT_BYTES`](crate::load::MAX_DOCUMENT_BYTES),
//! [`MAX_REFERENCED_FILES`](crate::bundle::MAX_REFERENCED_FILES) and
//! [`MAX_COPIED_NODES`](crate::bundle::MAX_COPIED_NODES), among others.

/// JSON levels one file may nest. Not ours to set: the parsers refuse deeper documents
/// (their recursion limit) before any stage here sees them; serde_yaml_ng accepts up to this
/// many levels, serde_json one fewer. Stated because [`MAX_DOCUMENT_DEPTH`] is reckoned from
/// it; a test checks that the parsers still stop here.
pub const MAX_FILE_DEPTH: usize = 128;

/// JSON levels a whole document may nest once references to other files are bundled into it,
/// counting each reference followed while copying as one more level (so that a chain of
/// references is bounded like nesting). Twice [`MAX_FILE_DEPTH`], so that the content of one
/// file may sit inside another as deep as a file itself may nest.
///
/// The bundler applies it: deeper documents are refused with the pointer where the limit was
/// passed, and the bundler's thread has a stack sized for this many levels. The recursive
/// walks over tool schemas (the compactor, the copies it inlines for `inline_refs`, and the
/// replacement of left-out `$defs` references) stop at the same depth. A tool schema the
/// converter accepted is far shallower (see [`MAX_SCHEMA_DEPTH`]), so there the bound guards
/// the stack and stops inlined copies from nesting without end.
pub const MAX_DOCUMENT_DEPTH: usize = 2 * MAX_FILE_DEPTH;

/// Schema levels a schema may nest. The schema converter applies it, refusing a deeper schema
/// with its pointer (it recurses on the caller's stack, which may be a proc macro's), and so
/// do the questions asked about a schema's shape (is it an object?), which answer no beyond
/// it. 64 is far more than a readable schema nests, and it keeps a tool schema, at two JSON
/// levels per schema level at most plus the tool's own wrapping, well inside
/// [`MAX_DOCUMENT_DEPTH`].
pub const MAX_SCHEMA_DEPTH: usize = 64;

/// References followed one after another (a `$ref` to something that is itself only a
/// `$ref`) before the chain is given up as a loop: the schema converter then refuses the
/// reference, and the OpenAPI 3.2 upgrade leaves a reference to a reusable media type in place
/// with a warning. An alias chain someone wrote on purpose is short; this only has to tell
/// one from a loop.
pub const MAX_REF_HOPS: usize = 32;

/// Warnings one stage records per document (the upgrade, the schema converter); later ones
/// are dropped, and the upgrade says so in one more. A document with a problem at every level
/// of a deep nesting would otherwise cost quadratic time and memory in pointers alone.
pub const MAX_WARNINGS: usize = 1_000;

// A tool schema (two JSON levels per schema level, and two for the tool's wrapping around
// it) fits in a document, so the walks bounded by `MAX_DOCUMENT_DEPTH` never cut one short.
const _: () = assert!(2 * (MAX_SCHEMA_DEPTH + 2) < MAX_DOCUMENT_DEPTH);

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_json(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn the_parsers_stop_at_the_file_depth() {
        let json = |levels| serde_json::from_str::<serde_json::Value>(&nested_json(levels));
        assert!(json(MAX_FILE_DEPTH - 1).is_ok());
        assert!(json(MAX_FILE_DEPTH).is_err());
        let yaml = |levels| serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&nested_json(levels));
        assert!(yaml(MAX_FILE_DEPTH).is_ok());
        assert!(yaml(MAX_FILE_DEPTH + 1).is_err());
    }
}
