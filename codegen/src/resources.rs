//! Resources of the document's choosing: a GET operation marked `x-mcpgen: {resource: URI}`
//! (or named in the settings' `[resources]` table, which wins) is the resource at that URI
//! when it needs no argument, or the resource template at that URI template when its variables
//! are exactly its path parameters (`docs://pets/{petId}` for `GET /pets/{petId}`).
//!
//! ```yaml
//! paths:
//!   /readme:
//!     get:
//!       x-mcpgen: {resource: "docs://readme"}
//!   /pets/{petId}:
//!     get:
//!       x-mcpgen: {resource: "docs://pets/{petId}"}
//! ```
//!
//! Everything that would leave a URI unreadable or ambiguous is an error at the `resource`
//! that says it: an operation that is not a GET, a URI without a scheme, variables that are
//! not exactly the path parameters, two operations at one URI, and a URI that another
//! operation's template would read too.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Operation;
use crate::pointer::push_token;
use crate::select::resolve_operation;
use crate::tools::{ApiSpec, ResourceSpec, ToolSpec};
use crate::uri_template::{UriTemplate, scheme};

/// The schemes of the server's own resources (`openapi://spec`, and `operation://<tool>` with
/// `--get-resources`), which the document cannot take.
const RESERVED_SCHEMES: &[&str] = &["openapi", "operation"];

/// Where a resource URI was written, for its errors.
#[derive(Debug, Clone)]
enum Origin {
    /// In the document, at this pointer.
    Document(String),
    /// In the settings' `[resources]`, under this operation selector.
    Settings(String),
}

impl Origin {
    fn error(&self, spec: &Path, message: String) -> Error {
        match self {
            Origin::Document(pointer) => Error::Invalid {
                path: spec.to_owned(),
                line: None,
                pointer: pointer.clone(),
                message,
            },
            Origin::Settings(selector) => Error::Settings {
                path: spec.to_owned(),
                setting: "resources",
                message: format!("`{selector}`: {message}"),
            },
        }
    }
}

/// Makes resources of the operations the document's `x-mcpgen` and the settings' `[resources]`
/// (`(operation, URI)` pairs) name, after checking each URI against its operation and the
/// others. `operations` are those the tools of `api` were built from.
pub fn apply(
    api: &mut ApiSpec,
    doc: &Value,
    operations: &[Operation],
    settings: &[(String, String)],
    spec: &Path,
) -> Result<()> {
    let mut claims: Vec<(usize, String, Origin)> = operations
        .iter()
        .enumerate()
        .filter_map(|(i, op)| {
            let uri = op.extension.resource.clone()?;
            let at = push_token(
                &push_token(&op.pointer, crate::model::extension::KEY),
                "resource",
            );
            Some((i, uri, Origin::Document(at)))
        })
        .collect();
    for (selector, uri) in settings {
        let found =
            resolve_operation(selector, operations, "resources").map_err(|e| Error::Settings {
                path: spec.to_owned(),
                setting: "resources",
                message: e.message,
            })?;
        for op in found {
            claims.retain(|(claimed, _, _)| *claimed != op);
            claims.push((op, uri.clone(), Origin::Settings(selector.clone())));
        }
    }

    let mut claimed: Vec<(usize, Origin)> = Vec::new();
    for (op, uri, origin) in claims {
        let operation = &operations[op];
        let method = operation.method.to_ascii_uppercase();
        // An operation left out (broken, with `skip_broken`) has no tool to make a resource.
        let Some(tool) = api
            .tools
            .iter()
            .position(|t| t.plan.method == method && t.plan.path == operation.path)
        else {
            continue;
        };
        check(&api.tools[tool], &uri).map_err(|message| origin.error(spec, message))?;
        api.tools[tool].resource = Some(ResourceSpec {
            uri,
            mime_type: documented_media_type(doc, operation),
        });
        claimed.push((tool, origin));
    }
    // Each against those before it, so that the error is at the later one.
    for (n, (tool, origin)) in claimed.iter().enumerate() {
        for (earlier, _) in &claimed[..n] {
            if let Some(message) = conflict(&api.tools[*earlier], &api.tools[*tool]) {
                return Err(origin.error(spec, message));
            }
        }
    }
    Ok(())
}

/// Whether `uri` can be the resource of `tool`; the error says what to change.
fn check(tool: &ToolSpec, uri: &str) -> Result<(), String> {
    let operation = format!("{} {}", tool.plan.method, tool.plan.path);
    if tool.plan.method != "GET" {
        return Err(format!(
            "`resource` is for GET operations, which only read, and this is {operation}: leave \
             it a tool, or name the GET operation that reads the same thing"
        ));
    }
    let template = UriTemplate::parse(uri)?;
    if let Some(own) =
        scheme(uri).filter(|s| RESERVED_SCHEMES.contains(&s.to_ascii_lowercase().as_str()))
    {
        return Err(format!(
            "the scheme `{own}:` is the server's own (`openapi://spec`, `operation://<tool>`); \
             choose another for `{uri}`"
        ));
    }
    let required = crate::schema::required_names(&tool.input_schema);
    // The path parameters a URI can give: (name in the path, argument).
    let path_params: Vec<(&str, &str)> = tool
        .plan
        .params
        .iter()
        .filter(|p| p.location == crate::model::Location::Path && p.fixed.is_none())
        .map(|p| (p.name.as_str(), p.arg.as_str()))
        .collect();
    let braced = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{{{n}}}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let not_in_path: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !path_params.iter().any(|(_, arg)| arg == r))
        .collect();
    if !not_in_path.is_empty() {
        return Err(format!(
            "{operation} needs {} besides its path parameters, which a resource URI cannot give: \
             make them optional, or fix them with `x-mcpgen` `parameters: {{NAME: {{value: ...}}}}`",
            not_in_path
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let names: Vec<&str> = path_params.iter().map(|(name, _)| *name).collect();
    if !template.has_variables() {
        if !names.is_empty() {
            return Err(format!(
                "`{uri}` is one resource, but {operation} needs its path parameters: make it a \
                 template with {}",
                braced(&names)
            ));
        }
        return Ok(());
    }
    let variables: Vec<&str> = template.variables().collect();
    for (i, variable) in variables.iter().enumerate() {
        if variables[..i].contains(variable) {
            return Err(format!("`{{{variable}}}` appears twice in `{uri}`"));
        }
        if !names.contains(variable) {
            return Err(format!(
                "`{{{variable}}}` in `{uri}` is not a path parameter of {operation}: a \
                 template's variables are exactly its path parameters, {}",
                if names.is_empty() {
                    "and it has none (a URI without variables names it)".to_owned()
                } else {
                    braced(&names)
                }
            ));
        }
    }
    if let Some(missing) = names.iter().find(|n| !variables.contains(n)) {
        return Err(format!(
            "`{uri}` leaves out the path parameter `{{{missing}}}` of {operation}: a \
             template's variables are exactly its path parameters, {}",
            braced(&names)
        ));
    }
    Ok(())
}

/// Why the resources of `earlier` and `later` cannot both be served: one URI for both, or a URI
/// that could be read from both. `None` when they can (or one is no resource).
pub fn conflict(earlier: &ToolSpec, later: &ToolSpec) -> Option<String> {
    let (a, b) = (earlier.resource.as_ref()?, later.resource.as_ref()?);
    let other = format!(
        "`{}` ({} {})",
        earlier.name, earlier.plan.method, earlier.plan.path
    );
    if a.uri == b.uri {
        return Some(format!(
            "`{}` is already the resource of {other}: a URI reads one operation",
            b.uri
        ));
    }
    let (ta, tb) = (
        UriTemplate::parse(&a.uri).ok()?,
        UriTemplate::parse(&b.uri).ok()?,
    );
    let ambiguous = match (ta.has_variables(), tb.has_variables()) {
        (false, false) => false,
        (true, false) => ta.matches(&b.uri).is_some(),
        (false, true) => tb.matches(&a.uri).is_some(),
        (true, true) => ta.overlaps(&tb),
    };
    ambiguous.then(|| {
        format!(
            "`{}` and the resource `{}` of {other} can match the same URI, so a read could not \
             tell which operation it is for; make their literal parts differ",
            b.uri, a.uri
        )
    })
}

/// The media type of the first successful response `op` documents (explicit codes before
/// `2XX`), without parameters; `None` when it documents no content, or any (`*/*`).
fn documented_media_type(doc: &Value, op: &Operation) -> Option<String> {
    let responses_at = push_token(&op.pointer, "responses");
    let responses = crate::pointer::value_at(doc, &responses_at)?.as_object()?;
    let mut codes: Vec<&String> = responses
        .keys()
        .filter(|k| k.starts_with('2') && k.len() == 3)
        .collect();
    codes.sort_by_key(|k| (k.contains(['X', 'x']), (*k).clone()));
    let code = codes.first()?;
    let (response, _) =
        crate::model::follow(doc, &responses[*code], &push_token(&responses_at, code)).ok()?;
    let media = response.get("content")?.as_object()?.keys().next()?;
    let essence = media.split(';').next()?.trim().to_ascii_lowercase();
    (!essence.is_empty() && essence != "*/*").then_some(essence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;
    use crate::tools::{ParamSpec, PlanSpec};
    use serde_json::json;

    /// A tool of `method` and `path` with parameters `(name, "path" or "query")`, of which
    /// `required` are required.
    fn tool(method: &str, path: &str, params: &[(&str, &str)], required: &[&str]) -> ToolSpec {
        let param = |(name, location): &(&str, &str)| {
            let location = match *location {
                "path" => Location::Path,
                _ => Location::Query,
            };
            ParamSpec {
                arg: (*name).to_owned(),
                name: (*name).to_owned(),
                location,
                style: location.default_style(),
                explode: false,
                allow_reserved: false,
                json: false,
                fixed: None,
            }
        };
        ToolSpec {
            name: format!("{method} {path}"),
            title: None,
            description: String::new(),
            input_schema: json!({"type": "object", "required": required}),
            output_schema: None,
            output_wrapped: false,
            hints: crate::tools::Hints {
                read_only: true,
                destructive: false,
                idempotent: true,
            },
            stream: None,
            plan: PlanSpec {
                method: method.to_owned(),
                path: path.to_owned(),
                params: params.iter().map(param).collect(),
                body: None,
                security: Vec::new(),
                oauth_scopes: Vec::new(),
                caller_scopes: Vec::new(),
            },
            tags: Vec::new(),
            search_only: false,
            guardrails: Default::default(),
            pagination: None,
            long_running: false,
            resource: None,
        }
    }

    #[test]
    fn uris_must_fit_their_operation() {
        let data = tool("GET", "/template/{id}/data", &[("id", "path")], &["id"]);
        assert_eq!(check(&data, "test://template/{id}/data"), Ok(()));
        let static_text = tool("GET", "/static/text", &[("lang", "query")], &[]);
        assert_eq!(check(&static_text, "test://static-text"), Ok(()));
        for (tool, uri, says) in [
            (
                tool("POST", "/pets", &[], &[]),
                "test://pets",
                "for GET operations, which only read, and this is POST /pets",
            ),
            (static_text.clone(), "static-text", "has no scheme"),
            (
                static_text.clone(),
                "openapi://other",
                "the scheme `openapi:` is the server's own",
            ),
            (
                data.clone(),
                "test://template/data",
                "make it a template with `{id}`",
            ),
            (
                data.clone(),
                "test://template/{petId}/data",
                "`{petId}` in `test://template/{petId}/data` is not a path parameter of GET \
                 /template/{id}/data: a template's variables are exactly its path parameters, `{id}`",
            ),
            (
                tool(
                    "GET",
                    "/a/{x}/{y}",
                    &[("x", "path"), ("y", "path")],
                    &["x", "y"],
                ),
                "test://a/{x}",
                "leaves out the path parameter `{y}`",
            ),
            (
                tool(
                    "GET",
                    "/a/{x}",
                    &[("x", "path"), ("q", "query")],
                    &["x", "q"],
                ),
                "test://a/{x}",
                "needs `q` besides its path parameters",
            ),
            (data.clone(), "test://{id}/{id}", "`{id}` appears twice"),
            (
                static_text.clone(),
                "test://static/{lang}",
                "and it has none",
            ),
        ] {
            let err = check(&tool, uri).unwrap_err();
            assert!(err.contains(says), "{uri}: {err}");
        }
    }

    #[test]
    fn resources_that_one_read_cannot_tell_apart_conflict() {
        let with = |uri: &str| ToolSpec {
            resource: Some(ResourceSpec {
                uri: uri.to_owned(),
                mime_type: None,
            }),
            ..tool("GET", "/x/{id}", &[("id", "path")], &["id"])
        };
        let conflicts = |a: &str, b: &str| conflict(&with(a), &with(b));
        assert!(
            conflicts("test://a", "test://a")
                .unwrap()
                .contains("`test://a` is already the resource of `GET /x/{id}` (GET /x/{id})")
        );
        assert!(conflicts("test://a/{id}", "test://a/7").is_some());
        assert!(conflicts("test://a/7", "test://a/{id}").is_some());
        assert!(conflicts("test://a/{id}", "test://{id}/b").is_some());
        assert!(conflicts("test://a/{id}", "test://a/{id}/b").is_none());
        assert!(conflicts("test://static-text", "test://template/{id}/data").is_none());
        assert!(
            conflicts(
                "test://nonexistent-resource-for-conformance-testing",
                "test://{id}"
            )
            .is_some()
        );
    }
}
