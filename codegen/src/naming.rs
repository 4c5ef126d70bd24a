//! Tool and argument names: always `^[A-Za-z0-9_.-]{1,64}$`, unique, and readable when they
//! had to be shortened.

use std::collections::HashSet;

/// The longest name MCP clients accept for a tool, and Anthropic's limit for property names.
pub const MAX_NAME_LEN: usize = 64;

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
}

impl NameAllocator {
    /// An allocator with no names taken.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    /// Returns `base` (sanitized and shortened) if free, else the first free `base_2`,
    /// `base_3`, ...
    pub fn allocate(&mut self, base: &str) -> String {
        let base = shorten(&sanitize(base, "tool"), MAX_NAME_LEN);
        if self.taken.insert(base.clone()) {
            return base;
        }
        for n in 2.. {
            let suffix = format!("_{n}");
            let candidate = format!("{}{suffix}", shorten(&base, MAX_NAME_LEN - suffix.len()));
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("an unbounded counter always finds a free name")
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
