//! Tool and argument names: unique, readable when they had to be shortened, and valid under
//! the active [`ToolNames`] rule (tool names) or `^[A-Za-z0-9_.-]{1,64}$` (argument names,
//! which every model API accepts as property names).

use std::collections::HashSet;

/// The longest name Anthropic's and OpenAI's APIs accept for a tool, and Anthropic's limit for
/// property names: generated names are never longer, under either rule.
pub const MAX_NAME_LEN: usize = 64;

/// The longest tool name MCP itself allows.
pub const MAX_MCP_NAME_LEN: usize = 128;

/// Which tool names the generator gives and accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolNames {
    /// `^[A-Za-z0-9_-]{1,64}$`: what Anthropic's and OpenAI's tool (function) names allow, so
    /// every client and model API accepts the names. A `.` of an operationId becomes `_`.
    #[default]
    Portable,
    /// MCP's own rule: 1 to 128 characters of `[A-Za-z0-9_.-]`. Dots are kept (`users.get`);
    /// generated names still stay within 64 characters.
    Mcp,
}

impl ToolNames {
    /// The name used in settings and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolNames::Portable => "portable",
            ToolNames::Mcp => "mcp",
        }
    }

    /// The rule as a regular expression, for messages.
    pub fn pattern(self) -> &'static str {
        match self {
            ToolNames::Portable => "^[A-Za-z0-9_-]{1,64}$",
            ToolNames::Mcp => "^[A-Za-z0-9_.-]{1,128}$",
        }
    }

    /// The longest name the rule accepts.
    pub fn max_len(self) -> usize {
        match self {
            ToolNames::Portable => MAX_NAME_LEN,
            ToolNames::Mcp => MAX_MCP_NAME_LEN,
        }
    }

    /// Whether `c` may appear in a name.
    pub fn allows(self, c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_' || c == '-' || (c == '.' && self == ToolNames::Mcp)
    }

    /// Checks a name given by a user (x-mcpgen `name`, an extra tool, a prefix): the message
    /// says what is wrong and what the rule is.
    pub fn check(self, name: &str) -> Result<(), String> {
        let rule = self.pattern();
        if name.is_empty() || name.len() > self.max_len() {
            return Err(format!(
                "the tool name `{name}` has {} characters; tool names must match {rule} \
                 (tool_names = \"{}\")",
                name.chars().count(),
                self.as_str()
            ));
        }
        if let Some(c) = name.chars().find(|c| !self.allows(*c)) {
            let hint = if c == '.' {
                "; write `_` instead, or keep dots with --tool-names mcp (tool_names = \"mcp\")"
            } else {
                ""
            };
            return Err(format!(
                "the tool name `{name}` holds `{c}`; tool names must match {rule} \
                 (tool_names = \"{}\"){hint}",
                self.as_str()
            ));
        }
        Ok(())
    }

    /// A tool name from any text: `sanitize`, then, under the portable rule, each `.` as
    /// `_` (`api.v1.rooms.create` → `api_v1_rooms_create`).
    pub fn sanitize(self, raw: &str, fallback: &str) -> String {
        let name = sanitize(raw, fallback);
        match self {
            ToolNames::Mcp => name,
            ToolNames::Portable if !name.contains('.') => name,
            ToolNames::Portable => sanitize(&name.replace('.', "_"), fallback),
        }
    }
}

impl std::str::FromStr for ToolNames {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "portable" => Ok(ToolNames::Portable),
            "mcp" => Ok(ToolNames::Mcp),
            other => Err(format!(
                "`{other}` is not a tool name rule: use portable (^[A-Za-z0-9_-]{{1,64}}$, the \
                 default) or mcp (^[A-Za-z0-9_.-]{{1,128}}$, dots kept)"
            )),
        }
    }
}

impl std::fmt::Display for ToolNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Replaces every character outside `[A-Za-z0-9_.-]` by `_`, collapses runs of `_`, and
/// trims `_` from both ends. Never returns an empty string.
pub fn sanitize(raw: &str, fallback: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
            c
        } else {
            '_'
        };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        fallback.to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The name of an operation without an `operationId`: the method and the path, with
/// `{param}` segments read as `by_param`, e.g. `get_pets_by_petId`.
pub fn from_method_and_path(method: &str, path: &str) -> String {
    let mut parts = vec![method.to_ascii_lowercase()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            parts.push(format!("by_{inner}"));
        } else {
            parts.push(segment.to_owned());
        }
    }
    sanitize(&parts.join("_"), "operation")
}

/// Shortens a sanitized name to `max` characters, keeping its beginning and its end (where
/// the verb and the object usually are) and putting a short hash of the whole name in
/// between, so that two long names sharing both ends still differ.
pub fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let hash = format!("{:08x}", fnv1a(name.as_bytes()));
    // head + "_" + hash + "_" + tail == max
    let room = max.saturating_sub(hash.len() + 2);
    let head_len = room.div_ceil(2);
    let tail_len = room - head_len;
    // Sanitized names are ASCII, so byte offsets are character offsets.
    let head = name[..head_len].trim_end_matches(['_', '.', '-']);
    let tail = name[name.len() - tail_len..].trim_start_matches(['_', '.', '-']);
    format!("{head}_{hash}_{tail}")
}

fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Hands out unique names in the order they are asked for, so that the same document always
/// yields the same names.
#[derive(Debug, Default)]
pub struct NameAllocator {
    taken: HashSet<String>,
    /// Tool names under this rule; argument names (dots kept) when `None`.
    rule: Option<ToolNames>,
}

impl NameAllocator {
    /// An allocator of argument names with no names taken.
    pub fn new() -> Self {
        Self::default()
    }

    /// An allocator of tool names under `rule`.
    pub fn for_tools(rule: ToolNames) -> Self {
        NameAllocator {
            taken: HashSet::new(),
            rule: Some(rule),
        }
    }

    fn clean(&self, base: &str) -> String {
        match self.rule {
            Some(rule) => rule.sanitize(base, "tool"),
            None => sanitize(base, "tool"),
        }
    }

    /// `name` as it is when free (a name given by a user and checked against the rule,
    /// which may be longer than generated names), else the first free `name_2`, `name_3`, ...
    pub fn allocate_given(&mut self, name: &str) -> String {
        if self.taken.insert(name.to_owned()) {
            return name.to_owned();
        }
        let max = self.rule.map_or(MAX_NAME_LEN, ToolNames::max_len);
        self.numbered(name, max)
    }

    fn numbered(&mut self, base: &str, max: usize) -> String {
        for n in 2.. {
            let suffix = format!("_{n}");
            let candidate = format!("{}{suffix}", shorten(base, max - suffix.len()));
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("an unbounded counter always finds a free name")
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    /// Returns `base` (sanitized and shortened) if free, else the first free `base_2`,
    /// `base_3`, ...
    pub fn allocate(&mut self, base: &str) -> String {
        let base = shorten(&self.clean(base), MAX_NAME_LEN);
        if self.taken.insert(base.clone()) {
            return base;
        }
        self.numbered(&base, MAX_NAME_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    }

    #[test]
    fn sanitizes() {
        assert_eq!(sanitize("repos/get-content", "x"), "repos_get-content");
        assert_eq!(sanitize("  list pets!! ", "x"), "list_pets");
        assert_eq!(sanitize("日本", "x"), "x");
        assert_eq!(sanitize("a__b", "x"), "a_b");
    }

    #[test]
    fn fallback_names_read_well() {
        assert_eq!(
            from_method_and_path("GET", "/pets/{petId}"),
            "get_pets_by_petId"
        );
        assert_eq!(from_method_and_path("post", "/"), "post");
        assert_eq!(
            from_method_and_path("get", "/store/inventory.json"),
            "get_store_inventory.json"
        );
    }

    #[test]
    fn shortening_keeps_both_ends() {
        let long = "enterprise_admin_list_self_hosted_runner_groups_for_enterprise_and_organization_with_details";
        let short = shorten(long, MAX_NAME_LEN);
        assert!(short.len() <= MAX_NAME_LEN && short.len() >= MAX_NAME_LEN - 2);
        assert!(short.starts_with("enterprise_admin"), "{short}");
        assert!(short.ends_with("with_details"), "{short}");
        assert!(valid(&short));
        let other = shorten(&long.replace("groups", "grpss"), MAX_NAME_LEN);
        assert_ne!(short, other);
    }

    #[test]
    fn portable_names_have_no_dots_and_stay_unique() {
        let mut names = NameAllocator::for_tools(ToolNames::Portable);
        let got: Vec<String> = ["users.get", "users_get", "api.v1.rooms.create", "a._b", "."]
            .iter()
            .map(|n| names.allocate(n))
            .collect();
        assert_eq!(
            got,
            [
                "users_get",
                "users_get_2",
                "api_v1_rooms_create",
                "a_b",
                "tool"
            ]
        );
        let mut kept = NameAllocator::for_tools(ToolNames::Mcp);
        assert_eq!(kept.allocate("users.get"), "users.get");
        assert_eq!(kept.allocate("users.get"), "users.get_2");
    }

    #[test]
    fn given_names_are_checked_against_the_rule() {
        assert!(ToolNames::Portable.check("fetch_pet-2").is_ok());
        let err = ToolNames::Portable.check("pets.get").unwrap_err();
        assert!(err.contains("^[A-Za-z0-9_-]{1,64}$"), "{err}");
        assert!(err.contains("tool_names = \"mcp\""), "{err}");
        assert!(ToolNames::Mcp.check("pets.get").is_ok());
        assert!(ToolNames::Portable.check(&"x".repeat(65)).is_err());
        assert!(ToolNames::Mcp.check(&"x".repeat(128)).is_ok());
        assert!(ToolNames::Mcp.check(&"x".repeat(129)).is_err());
        assert!(ToolNames::Mcp.check("has space").is_err());
        assert!(ToolNames::Mcp.check("").is_err());
        assert_eq!("MCP".parse::<ToolNames>(), Ok(ToolNames::Mcp));
        assert!("dots".parse::<ToolNames>().is_err());
    }

    #[test]
    fn allocation_is_unique_and_valid() {
        let mut names = NameAllocator::new();
        let long = "x".repeat(100);
        let got: Vec<String> = ["a", "a", "a", &long, &long, "b/c", "b_c"]
            .iter()
            .map(|n| names.allocate(n))
            .collect();
        assert_eq!(got[..3], ["a", "a_2", "a_3"]);
        assert_ne!(got[3], got[4]);
        assert_eq!(got[5], "b_c");
        assert_eq!(got[6], "b_c_2");
        assert!(got.iter().all(|n| valid(n)), "{got:?}");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    }

    proptest! {
        #[test]
        fn any_text_gives_a_valid_name(raw in "\\PC{0,200}") {
            let mut names = NameAllocator::new();
            prop_assert!(valid(&names.allocate(&raw)));
            let mut tools = NameAllocator::for_tools(ToolNames::Portable);
            let name = tools.allocate(&raw);
            prop_assert!(ToolNames::Portable.check(&name).is_ok(), "{}", name);
        }

        #[test]
        fn allocated_names_are_unique_and_valid(raws in proptest::collection::vec("[a-zA-Z_/{} -]{0,90}", 1..40)) {
            let mut names = NameAllocator::new();
            let got: Vec<String> = raws.iter().map(|r| names.allocate(r)).collect();
            let unique: std::collections::HashSet<&String> = got.iter().collect();
            prop_assert_eq!(unique.len(), got.len());
            prop_assert!(got.iter().all(|n| valid(n)));
        }

        #[test]
        fn fallback_names_are_valid(method in "(get|put|post|delete)", path in "(/[a-z{}_.]{0,12}){0,12}") {
            let mut names = NameAllocator::new();
            prop_assert!(valid(&names.allocate(&from_method_and_path(&method, &path))));
        }
    }
}
