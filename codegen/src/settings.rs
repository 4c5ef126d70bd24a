//! Settings of a generation run, as layers: every value is optional, and a layer put on top of
//! another with [`Settings::then`] sets exactly the values it names, to anything (`false`
//! included), leaving the rest to the layers under it. Every front end stacks the same layers
//! in the same order: `[package.metadata.mcpgen]` of the crate's manifest, then `mcpgen.toml`
//! beside the document, then its own options (command-line flags, attribute options, the
//! Builder's settings).
//!
//! Settings files and the attribute name settings by key (`skip_broken = true`); both go
//! through [`Settings::set`], so that a key means the same wherever it is written.

use std::path::{Path, PathBuf};

use crate::Mode;
use crate::ToolNames;
use crate::compact::Compaction;
use crate::emit::standalone::{self, RuntimeDependency};
use crate::guardrails::GuardrailSettings;
use crate::prompts::PromptSettings;
use crate::select::Selection;

/// One layer of generation settings. Build one with the methods below; read the value that
/// applies (the layer's own, or the default) with the getters (`skips_broken`,
/// `serving_mode`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub(crate) crate_name: Option<String>,
    pub(crate) crate_version: Option<String>,
    pub(crate) env_prefix: Option<String>,
    pub(crate) skip_broken: Option<bool>,
    pub(crate) runtime: Option<RuntimeDependency>,
    pub(crate) selection: Selection,
    pub(crate) tool_prefix: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) descriptions: Vec<(String, String)>,
    pub(crate) scopes: Vec<(String, String)>,
    pub(crate) resources: Vec<(String, String)>,
    pub(crate) overlays: Vec<PathBuf>,
    /// `Some(0)`: explicitly no limit (so that a higher layer can lift a lower one's).
    pub(crate) max_description_chars: Option<usize>,
    pub(crate) inline_refs: Option<bool>,
    pub(crate) no_output_schemas: Option<bool>,
    pub(crate) mode: Option<Mode>,
    pub(crate) embed_openapi: Option<bool>,
    pub(crate) release_profile: Option<bool>,
    pub(crate) allow_remote_refs: Option<bool>,
    pub(crate) allowed_remote_hosts: Vec<String>,
    pub(crate) allow_hidden_refs: Option<bool>,
    pub(crate) ref_root: Option<PathBuf>,
    pub(crate) tool_names: Option<ToolNames>,
    pub(crate) guardrails: GuardrailSettings,
    pub(crate) prompts: PromptSettings,
}

/// A value written for a setting key in a settings file or an attribute option.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A string.
    Str(String),
    /// A list of strings.
    List(Vec<String>),
    /// A table of strings by key (`[descriptions]`).
    Table(Vec<(String, String)>),
    /// A table that holds more than strings (`[masking]`, with lists and tables in it).
    Map(Vec<(String, SettingValue)>),
}

/// Every key a settings file or the attribute may name.
pub const KEYS: &[&str] = &[
    "crate_name",
    "crate_version",
    "env_prefix",
    "base_url",
    "tool_prefix",
    "include_tags",
    "exclude_tags",
    "include_operations",
    "exclude_operations",
    "overlays",
    "skip_broken",
    "max_description_chars",
    "inline_refs",
    "no_output_schemas",
    "mode",
    "embed_openapi",
    "release_profile",
    "allow_remote_refs",
    "allow_remote_hosts",
    "allow_hidden_refs",
    "ref_root",
    "tool_names",
    "descriptions",
    "scopes",
    "resources",
    "masking",
    "rate_limits",
    "audit",
    "confirm",
    "confirm_operations",
    "prompts",
    "arazzo",
    "guide_prompts",
];

/// Keys that widen what the generator reads or fetches. A `mcpgen.toml` can ship beside a
/// third-party document, so these may only be set by the user: on the command line, in the
/// project's own `[package.metadata.mcpgen]`, or in code (the Builder). A settings file may
/// only turn them off.
pub const USER_ONLY_KEYS: &[&str] = &[
    "allow_remote_refs",
    "allow_remote_hosts",
    "allow_hidden_refs",
    // A settings file beside a third-party document must not widen what its references read.
    "ref_root",
    // A file the server appends to: `[audit] log = "-"` (stderr) is harmless anywhere.
    "audit",
];

impl Settings {
    /// A layer that sets nothing: every setting at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// These settings with `over` on top: every value `over` sets wins, whatever it is, and
    /// lists (selections, overlays, description overrides, allowed hosts) are joined.
    pub fn then(self, over: Settings) -> Settings {
        fn join<T>(mut base: Vec<T>, over: Vec<T>) -> Vec<T> {
            base.extend(over);
            base
        }
        Settings {
            crate_name: over.crate_name.or(self.crate_name),
            crate_version: over.crate_version.or(self.crate_version),
            env_prefix: over.env_prefix.or(self.env_prefix),
            skip_broken: over.skip_broken.or(self.skip_broken),
            runtime: over.runtime.or(self.runtime),
            selection: Selection {
                include_tags: join(self.selection.include_tags, over.selection.include_tags),
                exclude_tags: join(self.selection.exclude_tags, over.selection.exclude_tags),
                include_operations: join(
                    self.selection.include_operations,
                    over.selection.include_operations,
                ),
                exclude_operations: join(
                    self.selection.exclude_operations,
                    over.selection.exclude_operations,
                ),
            },
            tool_prefix: over.tool_prefix.or(self.tool_prefix),
            base_url: over.base_url.or(self.base_url),
            descriptions: join(self.descriptions, over.descriptions),
            scopes: join(self.scopes, over.scopes),
            resources: join(self.resources, over.resources),
            guardrails: self.guardrails.then(over.guardrails),
            prompts: self.prompts.then(over.prompts),
            overlays: join(self.overlays, over.overlays),
            max_description_chars: over.max_description_chars.or(self.max_description_chars),
            inline_refs: over.inline_refs.or(self.inline_refs),
            no_output_schemas: over.no_output_schemas.or(self.no_output_schemas),
            mode: over.mode.or(self.mode),
            embed_openapi: over.embed_openapi.or(self.embed_openapi),
            release_profile: over.release_profile.or(self.release_profile),
            allow_remote_refs: over.allow_remote_refs.or(self.allow_remote_refs),
            allowed_remote_hosts: join(self.allowed_remote_hosts, over.allowed_remote_hosts),
            allow_hidden_refs: over.allow_hidden_refs.or(self.allow_hidden_refs),
            ref_root: over.ref_root.or(self.ref_root),
            tool_names: over.tool_names.or(self.tool_names),
        }
    }

    /// Sets the setting `key` (a name of [`KEYS`]) to `value`, as a settings file or an
    /// attribute option writes it. Relative paths (`overlays`, `ref_root`) are taken from `base`. The
    /// error says what the key takes.
    pub fn set(self, key: &str, value: SettingValue, base: &Path) -> Result<Settings, String> {
        let string = |value: SettingValue| match value {
            SettingValue::Str(s) => Ok(s),
            _ => Err(format!("`{key}` must be a string")),
        };
        let strings = |value: SettingValue| match value {
            SettingValue::Str(s) => Ok(vec![s]),
            SettingValue::List(items) => Ok(items),
            _ => Err(format!("`{key}` must be a list of strings")),
        };
        let boolean = |value: SettingValue| match value {
            SettingValue::Bool(b) => Ok(b),
            _ => Err(format!("`{key}` must be true or false")),
        };
        // Names checked here as well as when a crate is rendered, so that a settings file's
        // mistake is reported at its line.
        let checked = |value: SettingValue, check: fn(&str) -> Result<(), String>| {
            let text = string(value)?;
            check(&text)?;
            Ok::<_, String>(text)
        };
        Ok(match key {
            "crate_name" => self.crate_name(checked(value, standalone::check_crate_name)?),
            "crate_version" => self.crate_version(checked(value, standalone::check_crate_version)?),
            "env_prefix" => self.env_prefix(checked(value, standalone::check_env_prefix)?),
            "base_url" => self.base_url(string(value)?),
            "tool_prefix" => self.tool_prefix(string(value)?),
            "include_tags" => self.include_tags(strings(value)?),
            "exclude_tags" => self.exclude_tags(strings(value)?),
            "include_operations" => self.include_operations(strings(value)?),
            "exclude_operations" => self.exclude_operations(strings(value)?),
            "overlays" => strings(value)?.into_iter().fold(self, |settings, overlay| {
                settings.overlay(base.join(overlay))
            }),
            "skip_broken" => self.skip_broken(boolean(value)?),
            "max_description_chars" => match value {
                SettingValue::Int(n) if n >= 0 => self.max_description_chars(
                    usize::try_from(n).map_err(|_| format!("`{key}` is too large"))?,
                ),
                _ => {
                    return Err(format!(
                        "`{key}` must be a whole number of characters (0: no limit)"
                    ));
                }
            },
            "inline_refs" => self.inline_refs(boolean(value)?),
            "no_output_schemas" => self.no_output_schemas(boolean(value)?),
            "mode" => self.mode(string(value)?.parse()?),
            "embed_openapi" => self.embed_openapi(boolean(value)?),
            "release_profile" => self.release_profile(boolean(value)?),
            "allow_remote_refs" => self.allow_remote_refs(boolean(value)?),
            "allow_remote_hosts" => strings(value)?
                .into_iter()
                .fold(self, Settings::allow_remote_host),
            "allow_hidden_refs" => self.allow_hidden_refs(boolean(value)?),
            "ref_root" => self.ref_root(base.join(string(value)?)),
            "tool_names" => self.tool_names(string(value)?.parse()?),
            "descriptions" => match value {
                SettingValue::Table(entries) => entries
                    .into_iter()
                    .fold(self, |settings, (op, text)| settings.describe(op, text)),
                _ => return Err(format!("`{key}` maps operations to descriptions")),
            },
            "scopes" => match value {
                SettingValue::Table(entries) => entries
                    .into_iter()
                    .fold(self, |settings, (selector, scopes)| {
                        settings.require_scopes(selector, scopes)
                    }),
                _ => {
                    return Err(format!(
                        "`{key}` maps operations (or `tag:NAME`) to space-separated scopes"
                    ));
                }
            },
            "resources" => match value {
                SettingValue::Table(entries) => {
                    let mut settings = self;
                    for (operation, uri) in entries {
                        // Checked here too, so that a settings file's mistake has its line.
                        crate::uri_template::UriTemplate::parse(&uri)
                            .map_err(|e| format!("`{key}.{operation}`: {e}"))?;
                        settings = settings.resource(operation, uri);
                    }
                    settings
                }
                _ => {
                    return Err(format!(
                        "`{key}` maps GET operations to the URIs (or URI templates) they are \
                         read at"
                    ));
                }
            },
            guardrail if crate::guardrails::KEYS.contains(&guardrail) => {
                let mut settings = self;
                settings.guardrails.set(guardrail, value)?;
                settings
            }
            prompt if crate::prompts::KEYS.contains(&prompt) => {
                let mut settings = self;
                settings.prompts.set(prompt, value, base)?;
                settings
            }
            other => {
                return Err(format!(
                    "unknown setting `{other}`; the settings are: {}",
                    KEYS.join(", ")
                ));
            }
        })
    }

    /// Name of the generated crate and server (default: from the API title, plus `-mcp`).
    pub fn crate_name(mut self, name: impl Into<String>) -> Self {
        self.crate_name = Some(name.into());
        self
    }
    /// Version of the generated crate (default `0.1.0`).
    pub fn crate_version(mut self, version: impl Into<String>) -> Self {
        self.crate_version = Some(version.into());
        self
    }
    /// Prefix of the server's environment variables (default: from the crate name).
    pub fn env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.env_prefix = Some(prefix.into());
        self
    }
    /// Applies an OpenAPI Overlay 1.0 document to the spec before anything else; several
    /// overlays apply in the order given.
    pub fn overlay(mut self, path: impl Into<PathBuf>) -> Self {
        self.overlays.push(path.into());
        self
    }
    /// Lossy schema compaction beyond the default (which loses no argument information): sets
    /// all three of its settings.
    pub fn compaction(self, compaction: Compaction) -> Self {
        self.max_description_chars(compaction.max_description_chars.unwrap_or(0))
            .inline_refs(compaction.inline_refs)
            .no_output_schemas(compaction.no_output_schemas)
    }
    /// Cut tool and schema descriptions to this many characters (0: no limit, which lifts a
    /// limit set by a lower layer).
    pub fn max_description_chars(mut self, n: usize) -> Self {
        self.max_description_chars = Some(n);
        self
    }
    /// Inline `$ref`s in tool schemas (recursive schemas keep theirs). Default: off.
    pub fn inline_refs(mut self, inline: bool) -> Self {
        self.inline_refs = Some(inline);
        self
    }
    /// Leave out output schemas. Default: off.
    pub fn no_output_schemas(mut self, none: bool) -> Self {
        self.no_output_schemas = Some(none);
        self
    }
    /// Leave out operations that cannot be read, with a warning, instead of failing. Default:
    /// off.
    pub fn skip_broken(mut self, skip: bool) -> Self {
        self.skip_broken = Some(skip);
        self
    }
    /// How the generated crate gets the runtime (inlined by default).
    pub fn runtime(mut self, runtime: RuntimeDependency) -> Self {
        self.runtime = Some(runtime);
        self
    }
    /// Keep only operations with one of these tags (see [`Selection`]).
    pub fn include_tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .include_tags
            .extend(tags.into_iter().map(Into::into));
        self
    }
    /// Leave out operations with any of these tags.
    pub fn exclude_tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .exclude_tags
            .extend(tags.into_iter().map(Into::into));
        self
    }
    /// Keep only these operations (by `operationId` or `METHOD /path`) and those of the
    /// included tags.
    pub fn include_operations<S: Into<String>>(mut self, ops: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .include_operations
            .extend(ops.into_iter().map(Into::into));
        self
    }
    /// Leave out these operations (by `operationId` or `METHOD /path`).
    pub fn exclude_operations<S: Into<String>>(mut self, ops: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .exclude_operations
            .extend(ops.into_iter().map(Into::into));
        self
    }
    /// Put this prefix before every tool name (at most 24 characters of `[A-Za-z0-9_.-]`).
    pub fn tool_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.tool_prefix = Some(prefix.into());
        self
    }
    /// Upstream base URL used when neither `--base-url` nor `<PREFIX>_BASE_URL` is given
    /// (default: the document's first absolute server URL).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// How the server offers its operations (see [`Mode`]): one tool each (the default),
    /// through three search tools, the selected ones as tools and the rest through search, or
    /// code mode (programs call operations in a sandbox; the generated crate turns its
    /// `code-mode` feature on). In mixed mode, and code mode with includes, the includes choose
    /// the tools of their own and the excludes remove operations altogether.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }
    /// Embed the API document (limited to the server's operations) so that the server serves
    /// it as the resource `openapi://spec` (default: on).
    pub fn embed_openapi(mut self, embed: bool) -> Self {
        self.embed_openapi = Some(embed);
        self
    }
    /// Write a `[profile.release]` into the standalone crate's `Cargo.toml` (default: on):
    /// thin link-time optimisation, and the crate's own code in two codegen units at
    /// `opt-level = 2`, which keeps its hot paths inlined for half the build time of
    /// whole-program optimisation. Turn it off
    /// when the crate is a member of a workspace, where cargo ignores a member's profiles (and
    /// warns about them): set the profile at the workspace root instead.
    pub fn release_profile(mut self, on: bool) -> Self {
        self.release_profile = Some(on);
        self
    }
    /// Fetch `https` documents that `$ref`s name (default: off, and such references are an
    /// error). Needs the `remote-refs` feature, which `cargo mcpgen` has and the
    /// `#[mcpgen::server]` macro does not (builds must not reach the network). Hosts that
    /// resolve to loopback, private, link-local or metadata addresses are refused unless
    /// named with [`Settings::allow_remote_host`]. Not read from `mcpgen.toml` (see
    /// [`USER_ONLY_KEYS`]).
    pub fn allow_remote_refs(mut self, on: bool) -> Self {
        self.allow_remote_refs = Some(on);
        self
    }
    /// A host that remote references may be fetched from even though it resolves to an
    /// internal address or is reached over plain `http` (an internal schema registry, a test
    /// server). Repeatable. Not read from `mcpgen.toml`.
    pub fn allow_remote_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_remote_hosts.push(host.into());
        self
    }
    /// An Arazzo 1.0 document whose workflows become prompts, one per workflow (repeatable).
    pub fn arazzo(mut self, path: impl Into<PathBuf>) -> Self {
        self.prompts.arazzo.push(path.into());
        self
    }
    /// Offer a guide prompt per tag (default: on).
    pub fn guide_prompts(mut self, on: bool) -> Self {
        self.prompts.guides = Some(on);
        self
    }
    /// Let local references read files in hidden folders or hidden files (a path segment
    /// starting with `.`), which are refused by default: `.env` or `.kube/config` do not
    /// belong in a generated crate. Not read from `mcpgen.toml`.
    pub fn allow_hidden_refs(mut self, on: bool) -> Self {
        self.allow_hidden_refs = Some(on);
        self
    }
    /// The folder that local references may not leave (default: the root of the repository
    /// that holds the document, found by its `.git`, `.hg`, `.svn` or `.jj`; else the nearest
    /// folder above the document with a project manifest such as `Cargo.toml`,
    /// `package.json`, `pyproject.toml` or `go.mod`; else the document's own folder). Even
    /// inside it, hidden files and folders are refused unless
    /// [`allow_hidden_refs`](Self::allow_hidden_refs), and so is a symbolic link whose target
    /// is outside it. Not read from `mcpgen.toml` (see [`USER_ONLY_KEYS`]).
    pub fn ref_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.ref_root = Some(dir.into());
        self
    }
    /// Replace the description of the tool behind an operation (by `operationId` or
    /// `METHOD /path`).
    pub fn describe(
        mut self,
        operation: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.descriptions
            .push((operation.into(), description.into()));
        self
    }

    /// The OAuth scopes a caller's access token must carry to call the tools of an operation
    /// (`operationId` or `METHOD /path`) or of every operation of a tag (`tag:NAME`), as a
    /// space-separated list ("" for none), in place of those of the document's security
    /// requirements and `x-mcpgen`. An operation's own entry wins over its tags'.
    pub fn require_scopes(
        mut self,
        selector: impl Into<String>,
        scopes: impl Into<String>,
    ) -> Self {
        self.scopes.push((selector.into(), scopes.into()));
        self
    }

    /// Make the GET operation `operation` (`operationId` or `METHOD /path`) the resource
    /// `uri`, or the resource template `uri` whose variables are its path parameters
    /// (`docs://pets/{petId}`), in place of any `x-mcpgen` `resource` of the document.
    pub fn resource(mut self, operation: impl Into<String>, uri: impl Into<String>) -> Self {
        self.resources.push((operation.into(), uri.into()));
        self
    }

    /// Which tool names are given and accepted: [`ToolNames::Portable`]
    /// (`^[A-Za-z0-9_-]{1,64}$`, what every client and model API accepts; the default) or
    /// [`ToolNames::Mcp`] (MCP's own rule, dots kept: `users.get`).
    pub fn tool_names(mut self, rule: ToolNames) -> Self {
        self.tool_names = Some(rule);
        self
    }

    /// The tool name rule that applies (default: portable).
    pub fn tool_name_rule(&self) -> ToolNames {
        self.tool_names.unwrap_or_default()
    }
    /// The tool name rule when one of the layers sets it.
    pub fn tool_names_set(&self) -> Option<ToolNames> {
        self.tool_names
    }
    /// Whether unreadable operations are skipped (default: no).
    pub fn skips_broken(&self) -> bool {
        self.skip_broken.unwrap_or(false)
    }
    /// How the server offers its operations (default: one tool each).
    pub fn serving_mode(&self) -> Mode {
        self.mode.unwrap_or_default()
    }
    /// The compaction that applies.
    pub fn compaction_settings(&self) -> Compaction {
        Compaction {
            max_description_chars: self.max_description_chars.filter(|n| *n > 0),
            inline_refs: self.inline_refs.unwrap_or(false),
            no_output_schemas: self.no_output_schemas.unwrap_or(false),
        }
    }
    /// Whether the API document is embedded (default: yes).
    pub fn embeds_openapi(&self) -> bool {
        self.embed_openapi.unwrap_or(true)
    }
    /// Whether the standalone crate gets a release profile (default: yes).
    pub fn writes_release_profile(&self) -> bool {
        self.release_profile.unwrap_or(true)
    }
    /// How the standalone crate gets the runtime (default: inlined).
    pub fn runtime_dependency(&self) -> RuntimeDependency {
        self.runtime.clone().unwrap_or_default()
    }
    /// Whether remote references are fetched (default: no).
    pub fn allows_remote_refs(&self) -> bool {
        self.allow_remote_refs.unwrap_or(false)
    }
    /// Hosts remote references may reach although internal or plain `http`.
    pub fn allowed_remote_hosts(&self) -> &[String] {
        &self.allowed_remote_hosts
    }
    /// Whether references may read hidden files (default: no).
    pub fn allows_hidden_refs(&self) -> bool {
        self.allow_hidden_refs.unwrap_or(false)
    }
    /// The operations to keep.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }
    /// What references the bundler may follow.
    pub(crate) fn ref_policy(&self) -> crate::bundle::RefPolicy {
        crate::bundle::RefPolicy {
            allow_remote: self.allows_remote_refs(),
            allowed_hosts: self.allowed_remote_hosts().to_vec(),
            allow_hidden: self.allows_hidden_refs(),
            root: self.ref_root.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For every key with a scalar value: a lower layer sets one value, a higher layer the
    /// other, and the higher one wins, in both directions.
    #[test]
    fn every_scalar_setting_can_be_set_either_way_by_a_higher_layer() {
        let base = Path::new("/project");
        let pairs: Vec<(&str, SettingValue, SettingValue)> = vec![
            (
                "skip_broken",
                SettingValue::Bool(true),
                SettingValue::Bool(false),
            ),
            (
                "inline_refs",
                SettingValue::Bool(true),
                SettingValue::Bool(false),
            ),
            (
                "no_output_schemas",
                SettingValue::Bool(true),
                SettingValue::Bool(false),
            ),
            (
                "embed_openapi",
                SettingValue::Bool(false),
                SettingValue::Bool(true),
            ),
            (
                "release_profile",
                SettingValue::Bool(false),
                SettingValue::Bool(true),
            ),
            (
                "allow_remote_refs",
                SettingValue::Bool(true),
                SettingValue::Bool(false),
            ),
            (
                "allow_hidden_refs",
                SettingValue::Bool(true),
                SettingValue::Bool(false),
            ),
            (
                "mode",
                SettingValue::Str("search".into()),
                SettingValue::Str("tools".into()),
            ),
            (
                "max_description_chars",
                SettingValue::Int(40),
                SettingValue::Int(0),
            ),
            (
                "crate_name",
                SettingValue::Str("a-mcp".into()),
                SettingValue::Str("b-mcp".into()),
            ),
            (
                "crate_version",
                SettingValue::Str("1.0.0".into()),
                SettingValue::Str("2.0.0".into()),
            ),
            (
                "env_prefix",
                SettingValue::Str("A".into()),
                SettingValue::Str("B".into()),
            ),
            (
                "base_url",
                SettingValue::Str("https://a".into()),
                SettingValue::Str("https://b".into()),
            ),
            (
                "tool_prefix",
                SettingValue::Str("a_".into()),
                SettingValue::Str("b_".into()),
            ),
        ];
        for (key, first, second) in pairs {
            for (low, high) in [(&first, &second), (&second, &first)] {
                let lower = Settings::new().set(key, low.clone(), base).unwrap();
                let higher = Settings::new().set(key, high.clone(), base).unwrap();
                let alone = Settings::new().set(key, high.clone(), base).unwrap();
                assert_eq!(
                    lower.then(higher),
                    alone,
                    "`{key}`: the higher layer must win"
                );
            }
            // A layer that does not name the key leaves the lower layer's value.
            let lower = Settings::new().set(key, first.clone(), base).unwrap();
            assert_eq!(lower.clone().then(Settings::new()), lower, "`{key}`");
        }
    }

    #[test]
    fn lists_are_joined_across_layers() {
        let base = Path::new("/p");
        let low = Settings::new()
            .set("include_tags", SettingValue::List(vec!["a".into()]), base)
            .unwrap()
            .set("overlays", SettingValue::Str("o.yaml".into()), base)
            .unwrap();
        let high = Settings::new()
            .set("include_tags", SettingValue::Str("b".into()), base)
            .unwrap()
            .set(
                "overlays",
                SettingValue::Str("p.yaml".into()),
                Path::new("/q"),
            )
            .unwrap();
        let both = low.then(high);
        assert_eq!(both.selection().include_tags, ["a", "b"]);
        assert_eq!(
            both.overlays,
            [PathBuf::from("/p/o.yaml"), PathBuf::from("/q/p.yaml")]
        );
    }

    #[test]
    fn defaults_and_explicit_no_limit() {
        let s = Settings::new();
        assert!(!s.skips_broken() && s.embeds_openapi() && s.writes_release_profile());
        assert_eq!(s.serving_mode(), Mode::Tools);
        let limited = Settings::new().max_description_chars(10);
        assert_eq!(
            limited.compaction_settings().max_description_chars,
            Some(10)
        );
        let lifted = limited.then(Settings::new().max_description_chars(0));
        assert_eq!(lifted.compaction_settings().max_description_chars, None);
    }

    #[test]
    fn every_key_is_known_and_wrong_values_say_what_the_key_takes() {
        for key in KEYS {
            let err = Settings::new()
                .set(key, SettingValue::Int(-1), Path::new("."))
                .unwrap_err();
            assert!(err.contains(&format!("`{key}`")), "{key}: {err}");
        }
        let err = Settings::new()
            .set("nope", SettingValue::Bool(true), Path::new("."))
            .unwrap_err();
        assert!(err.contains("unknown setting `nope`"), "{err}");
    }
}
