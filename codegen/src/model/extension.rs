//! The `x-mcpgen` vendor extension: lets the author of a document (or an Overlay applied to
//! it) shape the tool an operation becomes, without touching the operation itself.
//!
//! ```yaml
//! paths:
//!   /pets/{petId}:
//!     x-mcpgen: {exclude: false}        # on a path item: applies to every operation below
//!     get:
//!       x-mcpgen:
//!         name: fetch_pet               # the tool name
//!         description: Fetch one pet.   # replaces summary and description
//!         scopes: [pets:read]           # what a caller's access token must carry
//!         mask: [owner.email]           # fields of the answer the model never sees
//!         confirm: true                 # ask the user first (with --confirm on)
//!         resource: docs://pets/{petId} # a resource (template) with this URI
//!         parameters:
//!           X-Tenant: {value: acme}     # not an argument; always sent with this value
//!           header:X-Debug: {hide: true} # not an argument and never sent
//!     delete:
//!       x-mcpgen: {exclude: true}       # no tool for this operation
//! ```
//!
//! A parameter is named by its name, or by `<in>:<name>` when several locations use it.

use serde_json::Value;

use crate::model::{ModelError, Param};
use crate::pointer::push_token as pointer_push;
use crate::schema::kind;

/// The name of the extension.
pub const KEY: &str = "x-mcpgen";

/// What `x-mcpgen` says about one operation (path-item settings merged in).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extension {
    /// Make no tool of the operation.
    pub exclude: bool,
    /// The tool's name.
    pub name: Option<String>,
    /// The tool's description.
    pub description: Option<String>,
    /// Parameter overrides, keyed `name` or `in:name`.
    pub parameters: Vec<(String, ParamOverride)>,
    /// The OAuth scopes a caller's access token must carry to call the tool, in place of those
    /// of the operation's security requirement (an empty list: none).
    pub scopes: Option<Vec<String>>,
    /// Fields masked in the tool's answers (`PATH` or `PATH=redact|remove|last4`).
    pub mask: Vec<String>,
    /// Calls need the user's confirmation whatever the method, when confirmation is on.
    pub confirm: bool,
    /// `false`: the tool reads one page only, even if its answers look paged.
    pub pagination: Option<bool>,
    /// Whether the operation runs long (answers 202 Accepted with a status URL): `None` lets
    /// a documented 202 answer decide.
    pub task: Option<bool>,
    /// The URI (or URI template) of the resource a GET operation is; checked against the
    /// operation when the tools are built.
    pub resource: Option<String>,
}

/// What happens to one parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamOverride {
    /// Not an argument and never sent.
    Hide,
    /// Not an argument; always sent with this value.
    Fixed(Value),
}

fn err(pointer: &str, message: impl Into<String>) -> ModelError {
    ModelError {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// Reads the `x-mcpgen` member of `object` (a path item or an operation), at pointer `at`.
pub fn read(object: &serde_json::Map<String, Value>, at: &str) -> Result<Extension, ModelError> {
    let Some(value) = object.get(KEY) else {
        return Ok(Extension::default());
    };
    let at = pointer_push(at, KEY);
    let Value::Object(map) = value else {
        return Err(err(
            &at,
            format!("`{KEY}` must be an object, found {}", kind(value)),
        ));
    };
    let mut out = Extension::default();
    for (key, value) in map {
        let here = pointer_push(&at, key);
        match key.as_str() {
            "exclude" => {
                out.exclude = value
                    .as_bool()
                    .ok_or_else(|| err(&here, "`exclude` must be true or false"))?;
            }
            "name" => {
                let name = value
                    .as_str()
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| err(&here, "`name` must be a non-empty string"))?;
                out.name = Some(name.to_owned());
            }
            "description" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| err(&here, "`description` must be a string"))?;
                out.description = Some(text.to_owned());
            }
            "scopes" => {
                let scopes = value
                    .as_array()
                    .and_then(|list| {
                        list.iter()
                            .map(|s| {
                                s.as_str()
                                    .filter(|s| {
                                        !s.is_empty()
                                            && s.bytes().all(|b| {
                                                b.is_ascii_graphic() && b != b'"' && b != b'\\'
                                            })
                                    })
                                    .map(str::to_owned)
                            })
                            .collect::<Option<Vec<String>>>()
                    })
                    .ok_or_else(|| {
                        err(
                            &here,
                            "`scopes` must be a list of scope names (visible ASCII, no quote or \
                             backslash)",
                        )
                    })?;
                out.scopes = Some(scopes);
            }
            "mask" => {
                out.mask = value
                    .as_array()
                    .and_then(|list| {
                        list.iter()
                            .map(|f| {
                                f.as_str()
                                    .filter(|f| !f.trim().is_empty())
                                    .map(str::to_owned)
                            })
                            .collect::<Option<Vec<String>>>()
                    })
                    .ok_or_else(|| {
                        err(
                            &here,
                            "`mask` must be a list of field paths (`card.number`, \
                             `/owner/email`, optionally `=remove` or `=last4`)",
                        )
                    })?;
            }
            "confirm" => {
                out.confirm = value
                    .as_bool()
                    .ok_or_else(|| err(&here, "`confirm` must be true or false"))?;
            }
            "task" => {
                out.task = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| err(&here, "`task` must be true or false"))?,
                );
            }
            "resource" => {
                let uri = value
                    .as_str()
                    .filter(|u| !u.trim().is_empty())
                    .ok_or_else(|| {
                        err(
                            &here,
                            "`resource` must be a URI (`docs://readme`) or a URI template whose \
                         variables are the path parameters (`docs://pets/{petId}`)",
                        )
                    })?;
                out.resource = Some(uri.to_owned());
            }
            "pagination" => {
                out.pagination = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| err(&here, "`pagination` must be true or false"))?,
                );
            }
            "parameters" => {
                let Value::Object(params) = value else {
                    return Err(err(
                        &here,
                        "`parameters` must be an object keyed by parameter name",
                    ));
                };
                for (name, setting) in params {
                    let p_at = pointer_push(&here, name);
                    let Value::Object(setting) = setting else {
                        return Err(err(&p_at, "expected `{hide: true}` or `{value: ...}`"));
                    };
                    let hide = setting.get("hide").and_then(Value::as_bool) == Some(true);
                    let over = match (hide, setting.get("value")) {
                        (true, None) => ParamOverride::Hide,
                        (false, Some(v)) => ParamOverride::Fixed(v.clone()),
                        _ => {
                            return Err(err(
                                &p_at,
                                "expected exactly one of `hide: true` or `value: ...`",
                            ));
                        }
                    };
                    if let Some(unknown) = setting.keys().find(|k| *k != "hide" && *k != "value") {
                        return Err(err(
                            &p_at,
                            format!("unknown setting `{unknown}`; expected `hide` or `value`"),
                        ));
                    }
                    out.parameters.push((name.clone(), over));
                }
            }
            other => {
                return Err(err(
                    &here,
                    format!(
                        "unknown `{KEY}` setting `{other}`; expected exclude, name, description, scopes, mask, confirm, pagination, task, resource or parameters"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

impl Extension {
    /// This extension with `specific`'s settings taking precedence.
    pub fn merged_with(&self, specific: Extension) -> Extension {
        let mut parameters = self.parameters.clone();
        for (k, v) in specific.parameters {
            parameters.retain(|(existing, _)| existing != &k);
            parameters.push((k, v));
        }
        Extension {
            exclude: self.exclude || specific.exclude,
            name: specific.name.or_else(|| self.name.clone()),
            description: specific.description.or_else(|| self.description.clone()),
            scopes: specific.scopes.or_else(|| self.scopes.clone()),
            mask: self.mask.iter().cloned().chain(specific.mask).collect(),
            confirm: self.confirm || specific.confirm,
            pagination: specific.pagination.or(self.pagination),
            task: specific.task.or(self.task),
            resource: specific.resource.or_else(|| self.resource.clone()),
            parameters,
        }
    }

    /// The override for `param`, by `in:name` first, then by name.
    pub fn for_param(&self, param: &Param) -> Option<&ParamOverride> {
        let qualified = format!("{}:{}", param.location.as_str(), param.name);
        self.parameters
            .iter()
            .find(|(k, _)| *k == qualified)
            .or_else(|| self.parameters.iter().find(|(k, _)| *k == param.name))
            .map(|(_, v)| v)
    }

    /// Keys that name no parameter of the operation: a typo the author should hear about.
    pub fn unknown_params<'a>(&'a self, params: &[Param]) -> Vec<&'a str> {
        self.parameters
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| {
                !params
                    .iter()
                    .any(|p| p.name == *k || format!("{}:{}", p.location.as_str(), p.name) == *k)
            })
            .collect()
    }
}
