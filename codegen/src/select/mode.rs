//! How a generated server offers its operations (one tool each, through search, or both) and
//! what the selection means in each mode.
//!
//! In search mode the selection chooses the operations the search reaches, as it chooses the
//! tools in tools mode. In mixed mode the includes (`include_tags`, `include_operations`)
//! choose the operations that are tools of their own, the excludes remove operations
//! altogether, and every other operation stays in the table, reached through search.

use std::collections::HashSet;

use crate::Mode;
use crate::model::{Api, Operation};
use crate::select::{Selection, SelectionError, select_operations};
use crate::tools::ApiSpec;

/// The names of the search tools, which no tool of its own may take in mixed mode.
pub const DISCOVERY_TOOLS: [&str; 3] =
    ["search_operations", "describe_operation", "call_operation"];
/// The names of code mode's tools, which no tool of its own may take in code mode.
pub const CODE_TOOLS: [&str; 3] = ["search_operations", "describe_operation", "execute"];

/// An operation as `METHOD /path`, which ties a built tool to its operation.
pub type OperationKey = (String, String);

fn key(op: &Operation) -> OperationKey {
    (op.method.to_ascii_uppercase(), op.path.clone())
}

/// Applies `selection` to `api` as `mode` reads it, and returns the operations that are
/// reached only through search (empty outside mixed mode, and code mode with includes). In
/// those modes the operations that are tools of their own come first, so that they get the
/// names they would get in tools mode. Code mode reads the selection as search mode does, or
/// with includes as mixed mode does: the included operations stay tools of their own, and
/// programs reach every operation.
pub fn select(
    api: &mut Api,
    selection: &Selection,
    mode: Mode,
) -> Result<Vec<OperationKey>, SelectionError> {
    let includes_given =
        !selection.include_tags.is_empty() || !selection.include_operations.is_empty();
    if mode != Mode::Mixed && !(mode == Mode::Code && includes_given) {
        select_operations(api, selection)?;
        return Ok(Vec::new());
    }
    if selection.include_tags.is_empty() && selection.include_operations.is_empty() {
        return Err(SelectionError {
            setting: "mode",
            message: "mixed mode needs include_tags or include_operations: they choose the \
                      operations that are tools of their own, and search reaches the others"
                .to_owned(),
        });
    }
    let includes = Selection {
        include_tags: selection.include_tags.clone(),
        include_operations: selection.include_operations.clone(),
        ..Selection::default()
    };
    let excludes = Selection {
        exclude_tags: selection.exclude_tags.clone(),
        exclude_operations: selection.exclude_operations.clone(),
        ..Selection::default()
    };
    // The includes are resolved against the whole document, so that a misspelt one is
    // reported even when an exclude would have removed what it names.
    let mut probe = api.clone();
    select_operations(&mut probe, &includes)?;
    let direct: HashSet<String> = probe.operations.into_iter().map(|op| op.pointer).collect();
    if !excludes.is_everything() {
        select_operations(api, &excludes)?;
    }
    let (mut first, rest): (Vec<Operation>, Vec<Operation>) = std::mem::take(&mut api.operations)
        .into_iter()
        .partition(|op| direct.contains(&op.pointer));
    if first.is_empty() {
        return Err(SelectionError {
            setting: "selection",
            message: "the excludes remove every included operation, so the server would have \
                      no tool of its own"
                .to_owned(),
        });
    }
    if rest.is_empty() {
        return Err(SelectionError {
            setting: "mode",
            message: "the includes choose every operation, so search would reach nothing; \
                      use tools mode, or include fewer operations"
                .to_owned(),
        });
    }
    let search_only = rest.iter().map(key).collect();
    first.extend(rest);
    api.operations = first;
    Ok(search_only)
}

/// Sets the mode of `spec` and marks the tools of the `search_only` operations. Fails when a
/// tool of its own would take the name of a search tool.
pub fn apply(
    spec: &mut ApiSpec,
    mode: Mode,
    search_only: &[OperationKey],
) -> Result<(), SelectionError> {
    spec.mode = mode;
    let search_only: HashSet<(&str, &str)> = search_only
        .iter()
        .map(|(m, p)| (m.as_str(), p.as_str()))
        .collect();
    for tool in &mut spec.tools {
        tool.search_only =
            search_only.contains(&(tool.plan.method.as_str(), tool.plan.path.as_str()));
    }
    let reserved: &[&str] = match mode {
        Mode::Mixed => &DISCOVERY_TOOLS,
        // Code mode lists tools of their own only beside operations reached through search.
        Mode::Code if !search_only.is_empty() => &CODE_TOOLS,
        _ => &[],
    };
    if let Some(clash) = spec
        .tools
        .iter()
        .find(|t| !t.search_only && reserved.contains(&t.name.as_str()))
    {
        return Err(SelectionError {
            setting: "mode",
            message: format!(
                "the tool `{}` has the name of a search tool; rename it (x-mcpgen `name`, or a \
                 tool prefix) to use {mode} mode",
                clash.name
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::read_api;
    use crate::select::fixtures::doc;

    #[test]
    fn mixed_mode_keeps_everything_but_the_excludes_with_includes_first() {
        let doc = doc();
        let mut api = read_api(&doc, false).unwrap();
        let selection = Selection {
            include_tags: vec!["users".into()],
            exclude_tags: vec!["admin".into()],
            ..Selection::default()
        };
        let search_only = select(&mut api, &selection, Mode::Mixed).unwrap();
        let ids: Vec<&str> = api
            .operations
            .iter()
            .filter_map(|o| o.operation_id.as_deref())
            .collect();
        assert_eq!(ids, ["listUsers", "listPets", "createPet"]);
        assert_eq!(
            search_only,
            [
                ("GET".to_owned(), "/pets".to_owned()),
                ("POST".to_owned(), "/pets".to_owned())
            ]
        );
    }

    #[test]
    fn mixed_mode_needs_includes_and_something_left_for_search() {
        let doc = doc();
        let mut api = read_api(&doc, false).unwrap();
        let err = select(&mut api, &Selection::default(), Mode::Mixed).unwrap_err();
        assert_eq!(err.setting, "mode");
        let mut api = read_api(&doc, false).unwrap();
        let everything = Selection {
            include_tags: vec!["pets".into(), "users".into(), "admin".into()],
            ..Selection::default()
        };
        assert!(select(&mut api, &everything, Mode::Mixed).is_err());
        let mut api = read_api(&doc, false).unwrap();
        let misspelt = Selection {
            include_tags: vec!["user".into()],
            ..Selection::default()
        };
        assert_eq!(
            select(&mut api, &misspelt, Mode::Mixed)
                .unwrap_err()
                .setting,
            "include_tags"
        );
    }

    #[test]
    fn search_mode_selects_like_tools_mode() {
        let doc = doc();
        let mut api = read_api(&doc, false).unwrap();
        let selection = Selection {
            include_tags: vec!["pets".into()],
            ..Selection::default()
        };
        assert!(
            select(&mut api, &selection, Mode::Search)
                .unwrap()
                .is_empty()
        );
        assert_eq!(api.operations.len(), 2);
    }
}
