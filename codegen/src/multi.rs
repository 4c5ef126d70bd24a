//! Several documents, one server: each document is mapped on its own, with its own settings,
//! and the mapped APIs are joined into one table whose tools are namespaced per API
//! (`<namespace>_<tool>`). Each API keeps its own base URL (`<NAMESPACE>_BASE_URL`), its own
//! credential variables (`<NAMESPACE>_<SCHEME>_...`), its own document and its own masking;
//! the runtime sends each tool's requests to its API's upstream only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::guardrails::GuardrailSettings;
use crate::prompts::PromptPart;
use crate::tools::overrides::{MAX_PREFIX_LEN, apply_tool_prefix};
use crate::tools::{ApiSpec, UpstreamApiSpec, upper_snake};
use crate::{Error, Mapped, Result, Settings};

/// One document of a server of several, with the settings it is mapped with (its own
/// `mcpgen.toml`, say, under the flags) and the namespace asked for, if any.
#[derive(Debug, Clone)]
pub struct ApiDocument {
    /// The document.
    pub path: PathBuf,
    /// The namespace: the prefix of its tool names and environment variables. Default: from
    /// the document's title ([`default_namespace`]).
    pub namespace: Option<String>,
    /// The settings it is mapped with.
    pub settings: Settings,
}

impl ApiDocument {
    /// `path` with `settings`, its namespace taken from its title.
    pub fn new(path: impl Into<PathBuf>, settings: Settings) -> Self {
        ApiDocument {
            path: path.into(),
            namespace: None,
            settings,
        }
    }

    /// The namespace `name` instead of one from the title.
    pub fn namespace(mut self, name: impl Into<String>) -> Self {
        self.namespace = Some(name.into());
        self
    }
}

/// The longest namespace: with its `_`, it is a tool prefix ([`MAX_PREFIX_LEN`]).
pub const MAX_NAMESPACE_LEN: usize = MAX_PREFIX_LEN - 1;

/// Checks a namespace: a lowercase letter, then lowercase letters, digits and single `_`, at
/// most [`MAX_NAMESPACE_LEN`] characters; it starts tool names and, upper-cased, environment
/// variables.
pub fn check_namespace(name: &str) -> std::result::Result<(), String> {
    let valid = name.len() <= MAX_NAMESPACE_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__");
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a namespace: use a lowercase letter, then lowercase letters, digits \
             and single `_`, at most {MAX_NAMESPACE_LEN} characters (e.g. `petstore`)"
        ))
    }
}

/// A namespace from an API title: `Swagger Petstore` → `swagger_petstore`; `api` when
/// nothing usable is left.
pub fn default_namespace(title: &str) -> String {
    let mut name = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
    let mut name: String = name.chars().take(MAX_NAMESPACE_LEN).collect();
    while name.ends_with('_') {
        name.pop();
    }
    if name.is_empty() {
        "api".to_owned()
    } else {
        name
    }
}

/// Maps every document of `documents` with its own settings and joins them into one server
/// named by `server` (its `crate_name`, `crate_version`, `env_prefix`). Fails, naming the
/// document, when a namespace is invalid or taken twice, when two tools or prompts end up
/// with one name, when two resources could be read at one URI, or when the documents disagree
/// on what is the whole server's (the serving mode, rate limits, the audit log, confirmation,
/// secret detectors).
pub fn map_documents(documents: &[ApiDocument], server: &Settings) -> Result<Mapped> {
    let Some(first) = documents.first() else {
        return Err(Error::Settings {
            path: PathBuf::new(),
            setting: "documents",
            message: "no API document was given".to_owned(),
        });
    };
    let explicit: Vec<Option<&str>> = documents.iter().map(|d| d.namespace.as_deref()).collect();
    for (document, name) in documents.iter().zip(&explicit) {
        if let Some(name) = name {
            check_namespace(name).map_err(|message| namespace_error(&document.path, message))?;
        }
    }
    let mut mapped = Vec::with_capacity(documents.len());
    for document in documents {
        // The server's identity for every document: its tables are the server's.
        let mut settings = document.settings.clone();
        if let Some(name) = &server.crate_name {
            settings = settings.crate_name(name.clone());
        }
        settings.env_prefix = None;
        mapped.push(crate::map_document(&document.path, &settings)?);
    }
    let namespaces: Vec<String> = explicit
        .iter()
        .zip(&mapped)
        .map(|(given, m)| match given {
            Some(name) => (*name).to_owned(),
            None => default_namespace(&m.api.title),
        })
        .collect();
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for (name, document) in namespaces.iter().zip(documents) {
        if let Some(other) = seen.insert(name, &document.path) {
            return Err(namespace_error(
                &document.path,
                format!(
                    "the namespace `{name}` is already that of {}; choose another with \
                     --namespace NAME={}",
                    other.display(),
                    document.path.display()
                ),
            ));
        }
    }

    let crate_name = server.crate_name.clone().unwrap_or_else(|| {
        format!(
            "{}-mcp",
            namespaces
                .iter()
                .map(|n| n.replace('_', "-"))
                .collect::<Vec<_>>()
                .join("-")
        )
    });
    let env_prefix = server
        .env_prefix
        .clone()
        .unwrap_or_else(|| upper_snake(crate_name.strip_suffix("-mcp").unwrap_or(&crate_name)));
    crate::emit::standalone::check_identity(
        &first.path,
        &crate_name,
        server.crate_version.as_deref(),
        &env_prefix,
    )?;

    let mode = mapped[0].api.mode;
    let shared = server_wide(&mapped[0].api.guardrails);
    let mut joined = ApiSpec {
        title: mapped
            .iter()
            .map(|m| m.api.title.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        version: server
            .crate_version
            .clone()
            .unwrap_or_else(|| "0.1.0".to_owned()),
        description: None,
        server_name: crate_name.clone(),
        instructions: format!(
            "This server serves {} APIs; each tool's name starts with its API's namespace.",
            mapped.len()
        ),
        default_base_url: None,
        env_prefix,
        schemes: Vec::new(),
        tools: Vec::new(),
        warnings: Vec::new(),
        mode,
        openapi: None,
        guardrails: GuardrailSettings {
            mask_fields: Vec::new(),
            ..mapped[0].api.guardrails.clone()
        },
        prompts: Vec::new(),
        apis: Vec::new(),
    };
    let mut owner_of_tool: HashMap<String, usize> = HashMap::new();
    let mut owner_of_prompt: HashMap<String, usize> = HashMap::new();
    let mut warnings = Vec::new();
    for (i, ((document, namespace), m)) in documents.iter().zip(&namespaces).zip(mapped).enumerate()
    {
        let path = &document.path;
        let mut api = m.api;
        if api.mode != mode {
            return Err(Error::Settings {
                path: path.clone(),
                setting: "mode",
                message: format!(
                    "this document is served in {} mode and {} in {mode} mode: one server has \
                     one mode; set it for all (--mode)",
                    api.mode,
                    documents[0].path.display()
                ),
            });
        }
        if let Some(setting) = differing(&shared, &server_wide(&api.guardrails)) {
            return Err(Error::Settings {
                path: path.clone(),
                setting,
                message: format!(
                    "this setting applies to the whole server, and this document's differs \
                     from {}'s; give it the same value for every document, or pass it to the \
                     server as a flag",
                    documents[0].path.display()
                ),
            });
        }
        apply_tool_prefix(
            &mut api,
            &format!("{namespace}_"),
            document.settings.tool_name_rule(),
        )
        .map_err(|e| Error::Settings {
            path: path.clone(),
            setting: e.setting,
            message: e.message,
        })?;
        // The server-wide masks of this document become its tools' own, so that they never
        // touch another API's answers.
        for tool in &mut api.tools {
            tool.guardrails
                .masked_fields
                .extend(api.guardrails.mask_fields.iter().cloned());
        }
        let api_prefix = upper_snake(namespace);
        for scheme in &mut api.schemes {
            scheme.env = crate::tools::env_names(&api_prefix, &scheme.key, &scheme.kind);
        }
        let (tool_offset, scheme_offset) = (joined.tools.len(), joined.schemes.len());
        for tool in &mut api.tools {
            if let Some(&other) = owner_of_tool.get(&tool.name) {
                return Err(name_clash(path, "tool", &tool.name, &documents[other].path));
            }
            owner_of_tool.insert(tool.name.clone(), i);
            if tool.resource.is_some()
                && let Some(message) = joined
                    .tools
                    .iter()
                    .find_map(|earlier| crate::resources::conflict(earlier, tool))
            {
                return Err(Error::Settings {
                    path: path.clone(),
                    setting: "resources",
                    message,
                });
            }
            for alternative in &mut tool.plan.security {
                for scheme in alternative {
                    *scheme += scheme_offset;
                }
            }
        }
        for prompt in &mut api.prompts {
            prompt.name =
                crate::tools::overrides::prefixed_name(&format!("{namespace}_"), &prompt.name);
            if let Some(&other) = owner_of_prompt.get(&prompt.name) {
                return Err(name_clash(
                    path,
                    "prompt",
                    &prompt.name,
                    &documents[other].path,
                ));
            }
            owner_of_prompt.insert(prompt.name.clone(), i);
            for part in &mut prompt.parts {
                if let PromptPart::Tool(t) | PromptPart::ToolItem(t) = part {
                    *t += tool_offset;
                }
            }
        }
        joined
            .instructions
            .push_str(&format!("\n\n`{namespace}_*`: {}", api.instructions));
        joined.apis.push(UpstreamApiSpec {
            name: namespace.clone(),
            title: api.title.clone(),
            default_base_url: api.default_base_url.clone(),
            env_prefix: api_prefix,
            openapi: api.openapi.take(),
            tool_count: api.tools.len(),
            scheme_count: api.schemes.len(),
        });
        joined.tools.append(&mut api.tools);
        joined.schemes.append(&mut api.schemes);
        joined.prompts.append(&mut api.prompts);
        joined.warnings.append(&mut api.warnings);
        warnings.extend(
            m.warnings
                .into_iter()
                .map(|w| format!("{}: {w}", path.display())),
        );
    }
    joined.warnings.clear();
    Ok(Mapped {
        path: first.path.clone(),
        api: joined,
        warnings,
        crate_name,
    })
}

/// The guardrail settings that apply to the whole server, which documents must agree on.
type ServerWide = [(&'static str, Option<String>); 7];

fn server_wide(g: &GuardrailSettings) -> ServerWide {
    let mut detectors = g.mask_detectors.clone();
    detectors.sort();
    detectors.dedup();
    [
        (
            "masking.detectors",
            (!detectors.is_empty()).then(|| detectors.join(",")),
        ),
        ("rate_limits.per_caller", g.rate_limit.clone()),
        ("rate_limits.global", g.global_rate_limit.clone()),
        (
            "rate_limits.max_concurrent_per_caller",
            g.max_concurrent_per_caller.map(|n| n.to_string()),
        ),
        (
            "rate_limits.unauthenticated",
            g.unauthenticated_rate_limit.clone(),
        ),
        ("audit.log", g.audit_log.clone()),
        ("confirm", g.confirm.clone()),
    ]
}

fn differing(a: &ServerWide, b: &ServerWide) -> Option<&'static str> {
    a.iter().zip(b).find(|(x, y)| x.1 != y.1).map(|(x, _)| x.0)
}

fn namespace_error(path: &Path, message: String) -> Error {
    Error::Settings {
        path: path.to_owned(),
        setting: "namespace",
        message,
    }
}

fn name_clash(path: &Path, what: &str, name: &str, other: &Path) -> Error {
    Error::Settings {
        path: path.to_owned(),
        setting: "namespace",
        message: format!(
            "the {what} `{name}` of this document has the name of a {what} of {}: choose \
             namespaces that do not start one another (--namespace NAME=FILE)",
            other.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_come_from_titles() {
        assert_eq!(default_namespace("Swagger Petstore"), "swagger_petstore");
        assert_eq!(default_namespace("  Echo API v2!"), "echo_api_v2");
        assert_eq!(default_namespace("3D Prints"), "d_prints");
        assert_eq!(default_namespace("日本"), "api");
        assert!(default_namespace(&"long title ".repeat(10)).len() <= MAX_NAMESPACE_LEN);
        for title in ["Swagger Petstore", "3D Prints", &"x_ ".repeat(30)] {
            assert!(
                check_namespace(&default_namespace(title)).is_ok(),
                "{title}"
            );
        }
    }

    #[test]
    fn namespaces_are_checked() {
        assert!(check_namespace("pets").is_ok());
        assert!(check_namespace("pets_v2").is_ok());
        for bad in [
            "",
            "Pets",
            "2pets",
            "pets-v2",
            "pets_",
            "a__b",
            &"a".repeat(24),
        ] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }
}
