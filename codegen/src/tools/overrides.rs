//! What a user changes on top of the mapping, whichever front end they use: a prefix on every
//! tool name, a default upstream URL of their own, hand-written descriptions that replace
//! those taken from the document, and the scopes callers need.

use std::collections::HashSet;

use crate::Settings;
use crate::model::Operation;
use crate::select::{SelectionError, resolve_operation};
use crate::tools::ApiSpec;
use crate::tools::naming::{self, MAX_NAME_LEN, ToolNames};

/// Applies every override of `settings` to tools built from `operations`.
pub fn apply(
    api: &mut ApiSpec,
    operations: &[Operation],
    settings: &Settings,
) -> Result<(), SelectionError> {
    apply_descriptions(
        api,
        operations,
        &settings.descriptions,
        !settings.selection.is_everything(),
    )?;
    apply_scopes(api, operations, &settings.scopes)?;
    if let Some(prefix) = &settings.tool_prefix {
        apply_tool_prefix(api, prefix, settings.tool_name_rule())?;
    }
    if let Some(url) = &settings.base_url {
        check_base_url(url).map_err(|message| SelectionError {
            setting: "base_url",
            message,
        })?;
        api.default_base_url = Some(url.clone());
    }
    Ok(())
}

/// The longest tool prefix accepted: short enough that a shortened name (which keeps its first
/// 27 characters, see [`naming::shorten`]) still starts with the whole prefix.
pub const MAX_PREFIX_LEN: usize = 24;

/// Checks a tool prefix: 1 to [`MAX_PREFIX_LEN`] characters that the tool name rule allows
/// (`[A-Za-z0-9_-]`, or `[A-Za-z0-9_.-]` under the `mcp` rule), so that every prefixed name
/// stays a valid tool name.
pub fn check_tool_prefix(prefix: &str, rule: ToolNames) -> Result<(), String> {
    if prefix.is_empty() || prefix.len() > MAX_PREFIX_LEN {
        return Err(format!(
            "a tool prefix must have 1 to {MAX_PREFIX_LEN} characters, `{prefix}` has {}",
            prefix.chars().count()
        ));
    }
    if let Some(c) = prefix.chars().find(|c| !rule.allows(*c)) {
        let allowed = match rule {
            ToolNames::Portable => "letters, digits, `_` and `-`",
            ToolNames::Mcp => "letters, digits, `_`, `.` and `-`",
        };
        return Err(format!(
            "a tool prefix may only hold {allowed} (tool names must match {}, tool_names = \
             \"{rule}\"), `{prefix}` holds `{c}`",
            rule.pattern()
        ));
    }
    Ok(())
}

/// `prefix` + `name`, shortened to [`MAX_NAME_LEN`] the way every long tool name is.
pub fn prefixed_name(prefix: &str, name: &str) -> String {
    naming::shorten(&format!("{prefix}{name}"), MAX_NAME_LEN)
}

/// Puts `prefix` before every tool name. Names stay unique: distinct names keep distinct
/// hashes when shortened, and the rare clash gets `_2`, `_3`, ... as in the mapping itself.
pub fn apply_tool_prefix(
    api: &mut ApiSpec,
    prefix: &str,
    rule: ToolNames,
) -> Result<(), SelectionError> {
    check_tool_prefix(prefix, rule).map_err(|message| SelectionError {
        setting: "tool_prefix",
        message,
    })?;
    let mut taken = HashSet::new();
    for tool in &mut api.tools {
        let mut name = prefixed_name(prefix, &tool.name);
        let mut n = 2;
        while taken.contains(&name) {
            let suffix = format!("_{n}");
            name = format!(
                "{}{suffix}",
                naming::shorten(
                    &format!("{prefix}{}", tool.name),
                    MAX_NAME_LEN - suffix.len()
                )
            );
            n += 1;
        }
        taken.insert(name.clone());
        tool.name = name;
    }
    Ok(())
}

/// Checks a default upstream URL given by the user: absolute `http` or `https` with a host.
/// The runtime checks it fully when the server starts; this catches the likely mistakes at
/// generation time.
pub fn check_base_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("the base URL `{url}` must be absolute and start with http:// or https://")
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("the base URL `{url}` has no host"));
    }
    Ok(())
}

/// Replaces the descriptions of the tools behind the named operations. `operations` are those
/// the tools were built from (after selection); each `(selector, text)` names operations as
/// [`crate::select::Selection`] does.
pub fn apply_descriptions(
    api: &mut ApiSpec,
    operations: &[Operation],
    descriptions: &[(String, String)],
    selection_is_partial: bool,
) -> Result<(), SelectionError> {
    for (selector, text) in descriptions {
        let found = resolve_operation(selector, operations, "describe").map_err(|mut e| {
            if selection_is_partial {
                e.message.push_str(" among the selected operations");
            }
            e
        })?;
        if text.trim().is_empty() {
            return Err(SelectionError {
                setting: "describe",
                message: format!("the description of `{selector}` is empty"),
            });
        }
        for i in found {
            for tool in tools_of(api, &operations[i]) {
                tool.description = text.clone();
            }
        }
    }
    Ok(())
}

/// The tools built from `op`. A method and a path identify one operation, and each tool keeps
/// both in its call plan: that ties the tool to its operation whatever its name became.
fn tools_of<'a>(
    api: &'a mut ApiSpec,
    op: &'a Operation,
) -> impl Iterator<Item = &'a mut crate::tools::ToolSpec> + 'a {
    let method = op.method.to_ascii_uppercase();
    api.tools
        .iter_mut()
        .filter(move |t| t.plan.method == method && t.plan.path == op.path)
}

/// Sets the scopes callers need for the tools of the named operations: tag entries first, so
/// that an operation's own entry wins, whatever the order they were given in.
pub fn apply_scopes(
    api: &mut ApiSpec,
    operations: &[Operation],
    scopes: &[(String, String)],
) -> Result<(), SelectionError> {
    let (by_tag, by_operation): (Vec<_>, Vec<_>) = scopes
        .iter()
        .partition(|(selector, _)| selector.starts_with("tag:"));
    for (selector, list) in by_tag.into_iter().chain(by_operation) {
        let list: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
        if let Some(bad) = list.iter().find(|s| {
            s.bytes()
                .any(|b| !b.is_ascii_graphic() || b == b'"' || b == b'\\')
        }) {
            return Err(SelectionError {
                setting: "scopes",
                message: format!("`{bad}` (for `{selector}`) is not a scope name"),
            });
        }
        for i in crate::guardrails::operations_named(selector, operations, "scopes")? {
            for tool in tools_of(api, &operations[i]) {
                tool.plan.caller_scopes = list.clone();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_checked() {
        let portable = ToolNames::Portable;
        assert!(check_tool_prefix("pets_", portable).is_ok());
        assert!(check_tool_prefix("a-b_c", portable).is_ok());
        let err = check_tool_prefix("a.b-c", portable).unwrap_err();
        assert!(err.contains("^[A-Za-z0-9_-]{1,64}$"), "{err}");
        assert!(check_tool_prefix("a.b-c", ToolNames::Mcp).is_ok());
        assert!(check_tool_prefix("", portable).is_err());
        assert!(check_tool_prefix("has space", ToolNames::Mcp).is_err());
        assert!(check_tool_prefix(&"x".repeat(MAX_PREFIX_LEN + 1), portable).is_err());
    }

    #[test]
    fn prefixed_long_names_keep_the_prefix_and_stay_valid() {
        let long = "enterprise_admin_list_self_hosted_runner_groups_for_enterprise";
        let name = prefixed_name(&"p".repeat(MAX_PREFIX_LEN), long);
        assert!(name.len() <= MAX_NAME_LEN, "{name}");
        assert!(name.starts_with(&"p".repeat(MAX_PREFIX_LEN)), "{name}");
        assert!(name.ends_with("for_enterprise"), "{name}");
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(check_base_url("https://api.example.com/v1").is_ok());
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("api.example.com").is_err());
        assert!(check_base_url("https:///v1").is_err());
    }
}
