//! Upgrades Swagger 2.0 and OpenAPI 3.0 documents to OpenAPI 3.1, and maps OpenAPI 3.2
//! documents onto the same shape: this module detects the version and runs the steps in
//! order, one module per source version.
//!
//! - [`swagger2`]: Swagger 2.0 to OpenAPI 3.0 (servers, components, request bodies from body
//!   and form parameters, parameter schemas, responses, security schemes).
//! - [`v30`]: OpenAPI 3.0 to 3.1, the schema keywords JSON Schema 2020-12 spells differently
//!   (`nullable`, boolean exclusive bounds, `example`). A Swagger 2.0 document takes this step
//!   after its own.
//! - [`v32`]: OpenAPI 3.2 keeps its version and everything 3.2 adds that changes a tool
//!   (`query` and `additionalOperations` operations, `in: querystring` parameters,
//!   `itemSchema`, tag hierarchies) for the later stages to read; what has no place in the 3.1
//!   shape is resolved here: `$self` (see [`apply_self`]) and references to reusable Media
//!   Type Objects, which are inlined.
//! - [`walk`] finds every Schema Object of an OpenAPI 3.0 document for the first two, and
//!   [`value`] copies and drops deep values.
//!
//! The upgrade works on `serde_json::Value` rather than a typed model so that
//! everything it does not understand (unknown fields, `x-` extensions, key
//! order) passes through untouched.
//!
//! Two rules shape the code:
//! - A fatal [`UpgradeError`] is only returned before the document is
//!   modified, so a caller that gets `Err` still holds its original document.
//!   Every later problem becomes a warning and the offending value is left as
//!   it was (or, for fields that have no place in 3.x, dropped).
//! - Nothing recurses over the document. Schemas may be nested arbitrarily
//!   deep, so walks use an explicit stack, and subtrees that might be deep are
//!   copied with `deep_clone` and thrown away with `discard`, because
//!   serde_json's own `Clone` and `Drop` recurse.

mod swagger2;
#[cfg(test)]
mod test_support;
mod v30;
mod v32;
mod value;
mod walk;

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::limits::MAX_WARNINGS;

pub use v32::apply_self;

type Object = Map<String, Value>;

/// A problem found while upgrading, located by a JSON pointer into the input document.
///
/// The same type carries fatal errors and non-fatal warnings. Warnings raised
/// while upgrading schemas of a Swagger 2.0 document point into the
/// intermediate OpenAPI 3.0 form (for example `/components/schemas/Pet`
/// rather than `/definitions/Pet`), because that is where the schema lives by
/// the time it is inspected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct UpgradeError {
    /// RFC 6901 JSON pointer (`~0`/`~1` escaped); empty for the document root.
    pub pointer: String,
    /// What was wrong, or what was changed or dropped.
    pub message: String,
}

impl UpgradeError {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Which dialect the input document was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceVersion {
    /// Swagger 2.0 (`swagger: "2.0"`).
    Swagger2,
    /// OpenAPI 3.0.x (`openapi: "3.0.*"`).
    OpenApi30,
    /// OpenAPI 3.1.x (`openapi: "3.1.*"`).
    OpenApi31,
    /// OpenAPI 3.2.x (`openapi: "3.2.*"`).
    OpenApi32,
}

/// Detects the version from `swagger`/`openapi` fields; errors name what was found.
pub fn detect_version(doc: &Value) -> Result<SourceVersion, UpgradeError> {
    let root = doc.as_object().ok_or_else(|| root_error(doc))?;
    match (root.get("swagger"), root.get("openapi")) {
        (Some(_), Some(_)) => Err(UpgradeError::new(
            "",
            "both `swagger` and `openapi` are present, so the version is ambiguous",
        )),
        (Some(version), None) => swagger_version(version),
        (None, Some(version)) => openapi_version(version),
        (None, None) => Err(UpgradeError::new(
            "",
            "missing version field: expected `swagger: \"2.0\"` or `openapi: \"3.x.y\"`",
        )),
    }
}

/// Upgrades a document in place to OpenAPI 3.1 (whose schemas are JSON Schema 2020-12).
/// Returns non-fatal warnings (pointer + message), e.g. features dropped.
///
/// On `Err` the document has not been modified. A 3.1 document is returned
/// unchanged.
pub fn upgrade_to_31(doc: &mut Value) -> Result<(SourceVersion, Vec<UpgradeError>), UpgradeError> {
    let version = detect_version(doc)?;
    let mut warnings = Vec::new();
    match version {
        SourceVersion::Swagger2 => {
            swagger2::convert(doc, &mut warnings)?;
            v30::convert(doc, &mut warnings)?;
        }
        SourceVersion::OpenApi30 => v30::convert(doc, &mut warnings)?,
        SourceVersion::OpenApi31 => {}
        SourceVersion::OpenApi32 => v32::convert(doc, &mut warnings)?,
    }
    let truncated = warnings.len() >= MAX_WARNINGS;
    let mut warnings = dedup(warnings);
    if truncated {
        warnings.push(UpgradeError::new(
            "",
            format!("warning limit of {MAX_WARNINGS} reached; the rest were not recorded"),
        ));
    }
    Ok((version, warnings))
}

fn swagger_version(version: &Value) -> Result<SourceVersion, UpgradeError> {
    match version {
        Value::String(s) if s == "2.0" => Ok(SourceVersion::Swagger2),
        // Unquoted `swagger: 2.0` is common in real YAML files and parses as a number.
        Value::Number(n) if n.as_f64() == Some(2.0) => Ok(SourceVersion::Swagger2),
        Value::String(s) => Err(UpgradeError::new(
            "/swagger",
            format!("unsupported Swagger version {s:?}; only \"2.0\" is supported"),
        )),
        Value::Number(n) => Err(UpgradeError::new(
            "/swagger",
            format!("unsupported Swagger version {n}; only \"2.0\" is supported"),
        )),
        other => Err(UpgradeError::new(
            "/swagger",
            expected("the version as a string", other),
        )),
    }
}

fn openapi_version(version: &Value) -> Result<SourceVersion, UpgradeError> {
    match version {
        Value::String(s) if is_minor(s, "3.0") => Ok(SourceVersion::OpenApi30),
        Value::String(s) if is_minor(s, "3.1") => Ok(SourceVersion::OpenApi31),
        Value::String(s) if is_minor(s, "3.2") => Ok(SourceVersion::OpenApi32),
        Value::String(s) => Err(UpgradeError::new(
            "/openapi",
            format!(
                "unsupported OpenAPI version {s:?}; supported are 3.0.x, 3.1.x, 3.2.x and Swagger 2.0"
            ),
        )),
        other => Err(UpgradeError::new(
            "/openapi",
            expected("the version as a string", other),
        )),
    }
}

/// `3.1` must not match `3.10.0`, hence the explicit dot.
fn is_minor(version: &str, minor: &str) -> bool {
    version == minor
        || version
            .strip_prefix(minor)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|patch| !patch.is_empty())
}

fn root_error(doc: &Value) -> UpgradeError {
    UpgradeError::new("", expected("the document root to be an object", doc))
}

/// One wording for every type mismatch, so the same problem seen by several
/// passes deduplicates into one warning.
fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", crate::schema::kind(found))
}

/// Records a warning, unless [`MAX_WARNINGS`] are recorded already: rendering a pointer costs
/// its depth, so `pointer` is only called for a warning that is kept.
fn warn(
    warnings: &mut Vec<UpgradeError>,
    pointer: impl FnOnce() -> String,
    message: impl Into<String>,
) {
    if warnings.len() < MAX_WARNINGS {
        warnings.push(UpgradeError::new(pointer(), message));
    }
}

/// One reference token of a `$ref` fragment, percent-decoded and unescaped; a token with an
/// invalid percent escape is only unescaped.
fn decode_token(token: &str) -> String {
    crate::pointer::decode_fragment_token(token)
        .unwrap_or_else(|| crate::pointer::unescape_token(token).into_owned())
}

fn dedup(warnings: Vec<UpgradeError>) -> Vec<UpgradeError> {
    let mut seen = HashSet::new();
    warnings
        .into_iter()
        .filter(|w| seen.insert((w.pointer.clone(), w.message.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::test_support::*;
    use super::value::discard;
    use super::*;

    // ---- detect_version -------------------------------------------------

    #[test]
    fn detects_swagger_2_as_string_and_unquoted_number() {
        assert_eq!(
            detect_version(&json!({"swagger": "2.0"})),
            Ok(SourceVersion::Swagger2)
        );
        assert_eq!(
            detect_version(&json!({"swagger": 2.0})),
            Ok(SourceVersion::Swagger2)
        );
    }

    #[test]
    fn detects_openapi_30_and_31() {
        for v in ["3.0", "3.0.0", "3.0.3", "3.0.4-rc1"] {
            assert_eq!(
                detect_version(&json!({"openapi": v})),
                Ok(SourceVersion::OpenApi30),
                "{v}"
            );
        }
        for v in ["3.1", "3.1.0", "3.1.1"] {
            assert_eq!(
                detect_version(&json!({"openapi": v})),
                Ok(SourceVersion::OpenApi31),
                "{v}"
            );
        }
        for v in ["3.2", "3.2.0", "3.2.1"] {
            assert_eq!(
                detect_version(&json!({"openapi": v})),
                Ok(SourceVersion::OpenApi32),
                "{v}"
            );
        }
    }

    #[test]
    fn missing_version_is_an_error_at_the_root() {
        let err = detect_version(&json!({"info": {}})).unwrap_err();
        assert_eq!(err.pointer, "");
        assert!(err.message.contains("missing version"), "{err}");
    }

    #[test]
    fn unknown_openapi_version_names_what_was_found() {
        for v in ["4.0", "3.10.0", "3.", "2.0", "3.20.0", "3.3.0"] {
            let err = detect_version(&json!({"openapi": v})).unwrap_err();
            assert_eq!(err.pointer, "/openapi");
            assert!(err.message.contains(&format!("{v:?}")), "{err}");
        }
        let err = detect_version(&json!({"openapi": 3.1})).unwrap_err();
        assert_eq!(err.pointer, "/openapi");
        assert!(err.message.contains("found a number"), "{err}");
    }

    #[test]
    fn unknown_swagger_version_names_what_was_found() {
        let err = detect_version(&json!({"swagger": "1.2"})).unwrap_err();
        assert_eq!(err.pointer, "/swagger");
        assert!(err.message.contains("\"1.2\""), "{err}");
        let err = detect_version(&json!({"swagger": 3})).unwrap_err();
        assert!(err.message.contains('3'), "{err}");
        let err = detect_version(&json!({"swagger": ["2.0"]})).unwrap_err();
        assert!(err.message.contains("found an array"), "{err}");
    }

    #[test]
    fn both_version_fields_are_ambiguous() {
        let err = detect_version(&json!({"swagger": "2.0", "openapi": "3.0.0"})).unwrap_err();
        assert_eq!(err.pointer, "");
        assert!(err.message.contains("ambiguous"), "{err}");
    }

    #[test]
    fn non_object_roots_are_errors_and_left_untouched() {
        for (root, found) in [
            (json!(null), "null"),
            (json!(true), "a boolean"),
            (json!(1), "a number"),
            (json!("swagger: 2.0"), "a string"),
            (json!([{"swagger": "2.0"}]), "an array"),
        ] {
            let mut doc = root.clone();
            let err = upgrade_to_31(&mut doc).unwrap_err();
            assert_eq!(err.pointer, "");
            assert!(err.message.contains(found), "{err}");
            assert_eq!(doc, root);
        }
    }

    #[test]
    fn error_display_is_pointer_then_message() {
        let err = UpgradeError::new("/a~1b", "bad");
        assert_eq!(err.to_string(), "/a~1b: bad");
    }

    #[test]
    fn failed_upgrade_leaves_document_untouched() {
        let original = json!({"openapi": "4.0", "paths": {"/a": {}}});
        let mut doc = original.clone();
        assert!(upgrade_to_31(&mut doc).is_err());
        assert_eq!(doc, original);
    }

    #[test]
    fn openapi_31_is_returned_unchanged() {
        let original = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "components": {"schemas": {"A": {"type": "string", "nullable": true, "example": 1}}}
        });
        let mut doc = original.clone();
        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::OpenApi31);
        assert!(warnings.is_empty());
        assert_eq!(doc, original);
    }

    #[test]
    fn upgrading_twice_is_idempotent() {
        let inputs = [
            schemas30(json!({
                "A": {"$ref": "#/components/schemas/B", "nullable": true},
                "B": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "example": 3, "nullable": true}
            })),
            swagger(json!({
                "host": "h.io",
                "definitions": {"P": {"type": "object", "x-nullable": true, "properties": {"f": {"type": "file"}}}},
                "paths": {"/a": {"post": {
                    "parameters": [{"name": "f", "in": "formData", "type": "file"}, {"name": "q", "in": "query", "type": "array", "items": {"type": "string"}}],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/P"}}}
                }}}
            })),
        ];
        for input in inputs {
            let (once, _) = upgrade(input);
            let mut twice = once.clone();
            let (version, warnings) = upgrade_to_31(&mut twice).unwrap();
            assert_eq!(version, SourceVersion::OpenApi31);
            assert!(warnings.is_empty());
            assert_eq!(once, twice);
        }
    }

    #[test]
    fn warnings_are_deduplicated() {
        let warnings = dedup(vec![
            UpgradeError::new("/a", "x"),
            UpgradeError::new("/a", "x"),
            UpgradeError::new("/a", "y"),
        ]);
        assert_eq!(
            warnings,
            [UpgradeError::new("/a", "x"), UpgradeError::new("/a", "y")]
        );
    }

    #[test]
    fn warnings_are_capped_for_deep_documents_with_a_problem_at_every_level() {
        let schema = nest(json!({}), DEEP, |child| {
            let mut map = Object::new();
            map.insert("nullable".into(), json!("yes"));
            map.insert("properties".into(), single("p", child));
            Value::Object(map)
        });
        let mut doc = schemas30(single("Deep", schema));
        let (_, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(warnings.len(), MAX_WARNINGS + 1);
        assert_warning(
            &warnings,
            "/components/schemas/Deep/nullable",
            "expected a boolean",
        );
        assert_warning(&warnings, "", "the rest were not recorded");
        discard(doc);
    }
}
