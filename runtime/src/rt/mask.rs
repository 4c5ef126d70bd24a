//! Response masking: fields of an answer the model must not see (a card number, a customer's
//! e-mail address) are removed, replaced or cut to their last four characters before the
//! answer leaves the server, and opt-in detectors find well-known secrets in any text.
//!
//! A rule names a field the way `_fields` does (a dotted path or a JSON pointer; a name applied
//! to an array applies to each element, `*` matches every key or element) and, after `=`, what
//! to do: `redact` (the default: the value becomes `"[masked]"`), `remove` (the field is left
//! out) or `last4` (`"****1234"`). Rules apply to the answer's JSON before anything is built
//! from it, so the text the model reads, the structured content and a `_fields` selection all
//! see the masked value; answers that are not JSON (an error page, a cut body) have every
//! `"name": value` of a masked field's name replaced, so a rule holds even where the answer
//! cannot be parsed.
//!
//! The tool's output schema is loosened where a rule applies (see [`Masker::loosen_schema`]),
//! so that a masked answer still matches the schema a strict client checks it against.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::fields::FieldPath;

/// What replaces a redacted value.
pub const MASKED: &str = "[masked]";

/// What a rule does to the field it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskAction {
    /// The value becomes `"[masked]"`.
    Redact,
    /// The field is left out of its object.
    Remove,
    /// The value becomes `"****"` and its last four characters.
    Last4,
}

/// One field to mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskRule {
    path: FieldPath,
    action: MaskAction,
}

impl MaskRule {
    /// Parses `PATH` or `PATH=ACTION`, `PATH` a dotted path or a JSON pointer and `ACTION` one
    /// of `redact`, `remove`, `last4`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (path, action) = match text.rsplit_once('=') {
            Some((path, action)) => {
                let action = match action.trim() {
                    "redact" => MaskAction::Redact,
                    "remove" => MaskAction::Remove,
                    "last4" => MaskAction::Last4,
                    other => {
                        return Err(format!(
                            "`{text}`: unknown masking `{other}`; write PATH, PATH=redact, \
                             PATH=remove or PATH=last4"
                        ));
                    }
                };
                (path, action)
            }
            None => (text, MaskAction::Redact),
        };
        let path = FieldPath::parse(path).map_err(|e| format!("masked field {e}"))?;
        if path.segments().last().is_some_and(|s| s == "**") {
            return Err(format!(
                "`{text}` ends with `**`; name the field below it (`**/ssn`)"
            ));
        }
        Ok(MaskRule { path, action })
    }

    /// The last segment that names a key: what the rule looks for in text that is not JSON.
    fn key(&self) -> Option<&str> {
        self.path
            .segments()
            .iter()
            .rev()
            .map(String::as_str)
            .find(|s| *s != "*" && *s != "**" && s.parse::<usize>().is_err())
    }
}

/// A detector of a well-known kind of secret in free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detector {
    /// Payment card numbers (13 to 19 digits, spaces or dashes between, with a valid Luhn
    /// check digit): all but the last four digits are masked.
    Card,
    /// IBANs (with a valid ISO 13616 check): all but the last four characters are masked.
    Iban,
    /// `Bearer` and `Basic` credentials, as in an `Authorization` header.
    Bearer,
    /// API keys and tokens of well-known shapes: JWTs, AWS access key ids, Google API keys,
    /// GitHub, GitLab, Slack and Stripe tokens, `sk-` secret keys.
    ApiKey,
}

impl Detector {
    /// Every detector, by its name.
    pub const ALL: [(&'static str, Detector); 4] = [
        ("card", Detector::Card),
        ("iban", Detector::Iban),
        ("bearer", Detector::Bearer),
        ("api_key", Detector::ApiKey),
    ];

    /// The detector named `name` (`card`, `iban`, `bearer`, `api_key`).
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, d)| *d)
            .ok_or_else(|| {
                format!(
                    "unknown secret detector `{name}`; the detectors are: {}",
                    Self::ALL.map(|(n, _)| n).join(", ")
                )
            })
    }
}

/// The masking of one tool's answers: its rules and the server's detectors.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    rules: Vec<MaskRule>,
    detectors: Vec<Detector>,
}

impl Masker {
    /// The masking of `rules` and `detectors`; `None` when there is nothing to mask.
    pub fn new(rules: Vec<MaskRule>, detectors: &[Detector]) -> Option<Self> {
        (!rules.is_empty() || !detectors.is_empty()).then(|| Masker {
            rules,
            detectors: detectors.to_vec(),
        })
    }

    /// Masks a JSON answer in place.
    pub fn mask_value(&self, value: &mut Value) {
        for rule in &self.rules {
            apply(value, rule.path.segments(), rule.action);
        }
        if !self.detectors.is_empty() {
            self.scan_strings(value);
        }
    }

    /// Masks text: JSON is parsed and masked field by field; other text (or JSON cut short)
    /// has the values of masked fields' names replaced. The detectors then run over the text.
    pub fn mask_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if !self.rules.is_empty() {
            match serde_json::from_str::<Value>(text) {
                Ok(mut value) => {
                    self.mask_value(&mut value);
                    return Cow::Owned(value.to_string());
                }
                Err(_) => {
                    for key in self.rules.iter().filter_map(MaskRule::key) {
                        if let Cow::Owned(masked) = mask_keyed_values(&out, key) {
                            out = Cow::Owned(masked);
                        }
                    }
                }
            }
        }
        for detector in &self.detectors {
            if let Cow::Owned(masked) = detect(&out, *detector) {
                out = Cow::Owned(masked);
            }
        }
        out
    }

    fn scan_strings(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                let masked = self.detectors.iter().fold(None::<String>, |acc, d| {
                    match detect(acc.as_deref().unwrap_or(s), *d) {
                        Cow::Owned(m) => Some(m),
                        Cow::Borrowed(_) => acc,
                    }
                });
                if let Some(m) = masked {
                    *s = m;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scan_strings(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.scan_strings(v)),
            _ => {}
        }
    }

    /// Loosens an output schema so that masked answers match it: each masked field's schema
    /// accepts any value (a redacted number is a string), a removed field is no longer
    /// required, and, with detectors, strings lose the constraints a masked string may break
    /// (`pattern`, `format`, lengths). `wrapped`: the answer sits under `result`.
    pub fn loosen_schema(&self, schema: &mut Value, wrapped: bool) {
        let start = if wrapped { "/properties/result" } else { "" };
        let mut targets = Vec::new();
        for rule in &self.rules {
            let mut seen = Vec::new();
            find_schemas(
                schema,
                start,
                rule.path.segments(),
                &mut targets,
                &mut seen,
                0,
            );
            for target in targets.drain(..) {
                loosen_at(schema, &target, rule.action);
            }
        }
        if !self.detectors.is_empty() {
            loosen_strings(schema, 0);
        }
    }
}

/// Applies `action` to what `path` names below `value`.
fn apply(value: &mut Value, path: &[String], action: MaskAction) {
    let Some((segment, rest)) = path.split_first() else {
        return;
    };
    if segment == "**" {
        // Any depth: here, and below every key and element.
        apply(value, rest, action);
        match value {
            Value::Array(items) => items.iter_mut().for_each(|v| apply(v, path, action)),
            Value::Object(map) => map.values_mut().for_each(|v| apply(v, path, action)),
            _ => {}
        }
        return;
    }
    match value {
        Value::Array(items) => match segment.parse::<usize>() {
            Ok(i) => {
                if let Some(item) = items.get_mut(i) {
                    mask_or_descend(item, rest, action);
                }
            }
            Err(_) if segment == "*" => {
                items
                    .iter_mut()
                    .for_each(|item| mask_or_descend(item, rest, action));
            }
            // A name applies to each element.
            Err(_) => items.iter_mut().for_each(|item| apply(item, path, action)),
        },
        Value::Object(map) => {
            if segment == "*" {
                if rest.is_empty() && action == MaskAction::Remove {
                    map.clear();
                }
                map.values_mut()
                    .for_each(|v| mask_or_descend(v, rest, action));
            } else if rest.is_empty() && action == MaskAction::Remove {
                map.remove(segment.as_str());
            } else if let Some(v) = map.get_mut(segment.as_str()) {
                mask_or_descend(v, rest, action);
            }
        }
        _ => {}
    }
}

fn mask_or_descend(value: &mut Value, rest: &[String], action: MaskAction) {
    if rest.is_empty() {
        mask_in_place(value, action);
    } else {
        apply(value, rest, action);
    }
}

/// Masks one value (an element, where removal cannot shorten the list, is redacted).
fn mask_in_place(value: &mut Value, action: MaskAction) {
    if value.is_null() {
        // Nothing to hide, and `null` keeps meaning "no value".
        return;
    }
    *value = match (action, &*value) {
        (MaskAction::Last4, Value::String(s)) => Value::String(last4(s)),
        (MaskAction::Last4, Value::Number(n)) => Value::String(last4(&n.to_string())),
        _ => Value::String(MASKED.to_owned()),
    };
}

/// `****` and the last four characters (all of it masked when it is that short).
fn last4(text: &str) -> String {
    let count = text.chars().count();
    if count <= 4 {
        return "****".to_owned();
    }
    let tail: String = text.chars().skip(count - 4).collect();
    format!("****{tail}")
}

/// Replaces the value after each `"key":` in text that is not whole JSON: a string (up to its
/// closing quote, or the end), a number or literal, or an object or array (up to its closing
/// bracket, or the end).
fn mask_keyed_values<'a>(text: &'a str, key: &str) -> Cow<'a, str> {
    let quoted = format!("\"{key}\"");
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find(&quoted) {
        let after_key = from + found + quoted.len();
        from = after_key;
        let rest = &text[after_key..];
        let trimmed = rest.trim_start();
        let Some(after_colon) = trimmed.strip_prefix(':') else {
            continue;
        };
        let value = after_colon.trim_start();
        let start = text.len() - value.len();
        let end = start + json_value_len(value);
        if end == start || value.starts_with("null") {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push('"');
        out.push_str(MASKED);
        out.push('"');
        copied = end;
        from = end;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The length of the JSON value that `text` starts with, or of what there is of it.
fn json_value_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'"') => {
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            bytes.len()
        }
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut in_string = false;
            let mut i = 0;
            while i < bytes.len() {
                match (in_string, bytes[i]) {
                    (true, b'\\') => i += 1,
                    (true, b'"') => in_string = false,
                    (false, b'"') => in_string = true,
                    (false, b'{' | b'[') => depth += 1,
                    (false, b'}' | b']') => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            bytes.len()
        }
        _ => bytes
            .iter()
            .position(|b| matches!(b, b',' | b'}' | b']' | b'\n' | b'\r' | b' ' | b'\t'))
            .unwrap_or(bytes.len()),
    }
}

/// Masks what `detector` finds in `text`.
fn detect(text: &str, detector: Detector) -> Cow<'_, str> {
    let spans = match detector {
        Detector::Card => card_spans(text),
        Detector::Iban => iban_spans(text),
        Detector::Bearer => credential_spans(text),
        Detector::ApiKey => api_key_spans(text),
    };
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        out.push_str(&text[copied..start]);
        let found = &text[start..end];
        match detector {
            Detector::Card | Detector::Iban => {
                let alnum: String = found.chars().filter(char::is_ascii_alphanumeric).collect();
                out.push_str(&last4(&alnum));
            }
            Detector::Bearer | Detector::ApiKey => out.push_str(MASKED),
        }
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Whether the byte before `start` ends a word (so that a match does not start inside one).
fn at_word_start(bytes: &[u8], start: usize) -> bool {
    start == 0 || !bytes[start - 1].is_ascii_alphanumeric()
}

/// Runs of 13 to 19 digits, single spaces or dashes between, that pass the Luhn check.
fn card_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || !at_word_start(bytes, i) {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = Vec::new();
        let mut end = i;
        let mut j = i;
        while j < bytes.len() {
            if bytes[j].is_ascii_digit() {
                digits.push(bytes[j] - b'0');
                j += 1;
                end = j;
            } else if matches!(bytes[j], b' ' | b'-')
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        let whole_word = !bytes.get(end).is_some_and(u8::is_ascii_alphanumeric);
        if whole_word && (13..=19).contains(&digits.len()) && luhn(&digits) {
            spans.push((start, end));
        }
        i = end.max(i + 1);
    }
    spans
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if !i.is_multiple_of(2) {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBANs: a country code, two check digits and 11 to 30 letters or digits, written together or
/// in groups of four, whose ISO 7064 MOD 97-10 check holds.
fn iban_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 4 <= bytes.len() {
        let starts = at_word_start(bytes, i)
            && bytes[i].is_ascii_uppercase()
            && bytes[i + 1].is_ascii_uppercase()
            && bytes[i + 2].is_ascii_digit()
            && bytes[i + 3].is_ascii_digit();
        if !starts {
            i += 1;
            continue;
        }
        // Every place the IBAN could end (after a letter or digit), longest first.
        let mut ends = Vec::new();
        let mut count = 0;
        let mut j = i;
        while j < bytes.len() && count < 34 {
            if bytes[j].is_ascii_uppercase() || bytes[j].is_ascii_digit() {
                count += 1;
                j += 1;
                if !bytes.get(j).is_some_and(u8::is_ascii_alphanumeric) {
                    ends.push((j, count));
                }
                if bytes.get(j) == Some(&b' ')
                    && bytes.get(j + 1).is_some_and(|b| b.is_ascii_alphanumeric())
                {
                    j += 1;
                }
            } else {
                break;
            }
        }
        let found = ends
            .iter()
            .rev()
            .find(|(end, count)| (15..=34).contains(count) && iban_checks(&text[i..*end]));
        match found {
            Some(&(end, _)) => {
                spans.push((i, end));
                i = end;
            }
            None => i += 1,
        }
    }
    spans
}

fn iban_checks(candidate: &str) -> bool {
    let compact: Vec<u8> = candidate.bytes().filter(|b| *b != b' ').collect();
    if compact.len() < 15 {
        return false;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut remainder: u32 = 0;
    for &b in rearranged {
        let value = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// The credential after `Bearer ` or `Basic ` (any case).
fn credential_spans(text: &str) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for scheme in ["bearer", "basic"] {
        let mut from = 0;
        while let Some(found) = lower[from..].find(scheme) {
            let at = from + found;
            from = at + scheme.len();
            if !at_word_start(bytes, at) {
                continue;
            }
            let mut start = from;
            while bytes.get(start).is_some_and(|b| *b == b' ' || *b == b'\t') {
                start += 1;
            }
            if start == from {
                continue;
            }
            let end = start
                + bytes[start..]
                    .iter()
                    .position(|b| !is_token_byte(*b))
                    .unwrap_or(bytes.len() - start);
            if end - start >= 8 {
                spans.push((start, end));
            }
        }
    }
    spans.sort_unstable();
    spans.dedup();
    spans
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// Prefixes of well-known key and token formats, and how many characters at least follow.
const KEY_PREFIXES: &[(&str, usize)] = &[
    ("sk-", 20),
    ("sk_live_", 16),
    ("sk_test_", 16),
    ("rk_live_", 16),
    ("ghp_", 30),
    ("gho_", 30),
    ("ghu_", 30),
    ("ghs_", 30),
    ("ghr_", 30),
    ("github_pat_", 30),
    ("glpat-", 20),
    ("xoxb-", 20),
    ("xoxp-", 20),
    ("xoxa-", 20),
    ("xoxs-", 20),
    ("AIza", 35),
];

/// Words (runs of letters, digits, `-`, `_` and `.`) that have the shape of a key or token.
fn api_key_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let is_word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
        if !is_word(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_word(bytes[i]) {
            i += 1;
        }
        // A sentence's full stop is not part of the word.
        let end = if bytes[i - 1] == b'.' { i - 1 } else { i };
        if looks_like_key(&text[start..end]) {
            spans.push((start, end));
        }
    }
    spans
}

fn looks_like_key(word: &str) -> bool {
    let aws = (word.starts_with("AKIA") || word.starts_with("ASIA"))
        && word.len() == 20
        && word[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let jwt = word.starts_with("eyJ") && word.split('.').count() == 3 && word.len() >= 20;
    aws || jwt
        || KEY_PREFIXES
            .iter()
            .any(|(prefix, min)| word.starts_with(prefix) && word.len() >= prefix.len() + min)
}

/// Where in `schema` (JSON pointers below `at`) the data that `path` names is described: a
/// name descends through `properties` (or `additionalProperties`), `*` into every property,
/// and arrays, combinators and `$ref`s into `$defs` are followed without using a segment.
fn find_schemas(
    root: &Value,
    at: &str,
    path: &[String],
    out: &mut Vec<String>,
    seen: &mut Vec<(String, usize)>,
    depth: usize,
) {
    const MAX_DEPTH: usize = 64;
    let Some(node) = root.pointer(at).and_then(Value::as_object) else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    let follow =
        |to: String, path: &[String], out: &mut Vec<String>, seen: &mut Vec<(String, usize)>| {
            find_schemas(root, &to, path, out, seen, depth + 1);
        };
    if let Some(target) = node.get("$ref").and_then(Value::as_str)
        && let Some(def) = target.strip_prefix('#')
    {
        // A recursive schema is followed once per remaining path length.
        let visit = (def.to_owned(), path.len());
        if !seen.contains(&visit) {
            seen.push(visit);
            follow(def.to_owned(), path, out, seen);
        }
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        if let Some(members) = node.get(combinator).and_then(Value::as_array) {
            for i in 0..members.len() {
                follow(format!("{at}/{combinator}/{i}"), path, out, seen);
            }
        }
    }
    let Some((segment, rest)) = path.split_first() else {
        out.push(at.to_owned());
        return;
    };
    if segment == "**" {
        // Any depth: here, and below every property and item.
        follow(at.to_owned(), rest, out, seen);
        let node_children = ["items", "additionalProperties"]
            .into_iter()
            .filter(|k| node.get(*k).is_some_and(Value::is_object))
            .map(|k| format!("{at}/{k}"))
            .chain(
                node.get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(Map::keys)
                    .map(|k| {
                        format!(
                            "{at}/properties/{}",
                            k.replace('~', "~0").replace('/', "~1")
                        )
                    }),
            )
            .collect::<Vec<_>>();
        for child in node_children {
            follow(child, path, out, seen);
        }
        return;
    }
    let index = segment == "*" || segment.parse::<usize>().is_ok();
    if node.get("items").is_some_and(Value::is_object) {
        follow(
            format!("{at}/items"),
            if index { rest } else { path },
            out,
            seen,
        );
    }
    if let Some(items) = node.get("prefixItems").and_then(Value::as_array) {
        for i in 0..items.len() {
            follow(
                format!("{at}/prefixItems/{i}"),
                if index { rest } else { path },
                out,
                seen,
            );
        }
    }
    let properties = node.get("properties").and_then(Value::as_object);
    let escaped = |key: &str| key.replace('~', "~0").replace('/', "~1");
    if segment == "*" {
        for key in properties.into_iter().flat_map(Map::keys) {
            follow(format!("{at}/properties/{}", escaped(key)), rest, out, seen);
        }
    } else if properties.is_some_and(|p| p.contains_key(segment.as_str())) {
        follow(
            format!("{at}/properties/{}", escaped(segment)),
            rest,
            out,
            seen,
        );
        return;
    }
    if node
        .get("additionalProperties")
        .is_some_and(Value::is_object)
    {
        follow(format!("{at}/additionalProperties"), rest, out, seen);
    }
}

/// Makes the schema at `pointer` accept a masked value.
fn loosen_at(root: &mut Value, pointer: &str, action: MaskAction) {
    if let Some(node) = root.pointer_mut(pointer)
        && !is_loosened(node)
    {
        let description = node
            .get("description")
            .and_then(Value::as_str)
            .map(|d| format!("{d} (masked by the server)"))
            .unwrap_or_else(|| "Masked by the server.".to_owned());
        *node = serde_json::json!({ "description": description });
    }
    if action != MaskAction::Remove {
        return;
    }
    // `…/properties/<key>`: the key is no longer required of its object.
    let Some((object, key)) = pointer.rsplit_once("/properties/") else {
        return;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Array(required)) = root.pointer_mut(&format!("{object}/required")) {
        required.retain(|r| r.as_str() != Some(key.as_str()));
    }
}

/// Whether a schema was already loosened (another rule, or another way to the same place).
fn is_loosened(node: &Value) -> bool {
    node.as_object().is_some_and(|o| {
        o.len() == 1
            && o.get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| {
                    d.ends_with("asked by the server.") || d.ends_with("(masked by the server)")
                })
    })
}

/// Drops the string constraints a detector's masking may break, everywhere in a schema.
fn loosen_strings(schema: &mut Value, depth: usize) {
    if depth > 256 {
        return;
    }
    match schema {
        Value::Object(map) => {
            let string_typed = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            if string_typed {
                for keyword in ["pattern", "format", "minLength", "maxLength"] {
                    map.remove(keyword);
                }
            }
            map.values_mut().for_each(|v| loosen_strings(v, depth + 1));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| loosen_strings(v, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn masker(rules: &[&str], detectors: &[Detector]) -> Masker {
        let rules = rules.iter().map(|r| MaskRule::parse(r).unwrap()).collect();
        Masker::new(rules, detectors).unwrap()
    }

    #[test]
    fn rules_parse_paths_and_actions() {
        assert_eq!(
            MaskRule::parse("card.number=last4").unwrap().action,
            MaskAction::Last4
        );
        assert_eq!(
            MaskRule::parse("/owner/email").unwrap().action,
            MaskAction::Redact
        );
        assert!(
            MaskRule::parse("a=hide")
                .unwrap_err()
                .contains("PATH=remove")
        );
        assert!(MaskRule::parse("a..b").is_err());
        assert!(Detector::parse("cards").unwrap_err().contains("card, iban"));
    }

    #[test]
    fn fields_are_masked_through_nested_arrays() {
        let m = masker(
            &[
                "orders.card.number=last4",
                "/owner/email",
                "orders.notes=remove",
            ],
            &[],
        );
        let mut v = json!({
            "owner": {"email": "a@b.example", "name": "Ann"},
            "orders": [
                {"card": {"number": "4111111111111111"}, "notes": "x"},
                [{"card": {"number": 4012888888881881u64}, "notes": null}],
                {"card": {"number": null}}
            ]
        });
        m.mask_value(&mut v);
        assert_eq!(
            v,
            json!({
                "owner": {"email": MASKED, "name": "Ann"},
                "orders": [
                    {"card": {"number": "****1111"}},
                    [{"card": {"number": "****1881"}}],
                    {"card": {"number": null}}
                ]
            })
        );
    }

    #[test]
    fn any_depth_reaches_recursive_answers() {
        let m = masker(&["/card/**/number=last4"], &[]);
        let mut v = json!({"card": {"number": "4111111111111111", "next": {"number": "5500000000000004", "list": [{"number": "12345"}]}}, "number": "kept"});
        m.mask_value(&mut v);
        assert_eq!(
            v,
            json!({"card": {"number": "****1111", "next": {"number": "****0004", "list": [{"number": "****2345"}]}}, "number": "kept"})
        );
        let mut schema = json!({
            "type": "object",
            "properties": {"card": {"$ref": "#/$defs/Card"}, "number": {"type": "string"}},
            "$defs": {"Card": {"type": "object", "properties": {"number": {"type": "string", "pattern": "^[0-9]+$"}, "next": {"$ref": "#/$defs/Card"}}}}
        });
        m.loosen_schema(&mut schema, false);
        assert_eq!(
            schema["$defs"]["Card"]["properties"]["number"],
            json!({"description": "Masked by the server."})
        );
        assert_eq!(schema["properties"]["number"], json!({"type": "string"}));
        assert!(
            MaskRule::parse("/a/**")
                .unwrap_err()
                .contains("ends with `**`")
        );
        assert_eq!(
            MaskRule::parse("card.**.number").unwrap().path.segments(),
            MaskRule::parse("/card/**/number").unwrap().path.segments()
        );
    }

    #[test]
    fn wildcards_and_indices() {
        let m = masker(&["items[0].secret", "meta.*"], &[]);
        let mut v = json!({"items": [{"secret": 1}, {"secret": 2}], "meta": {"a": 1, "b": [2]}});
        m.mask_value(&mut v);
        assert_eq!(
            v,
            json!({"items": [{"secret": MASKED}, {"secret": 2}], "meta": {"a": MASKED, "b": MASKED}})
        );
    }

    #[test]
    fn text_that_is_not_json_has_masked_names_replaced() {
        let m = masker(&["card.number", "ssn"], &[]);
        let cut = r#"{"card": {"number": "4111 1111", "exp": "12/30"}, "ssn": 123-45, "x": {"ssn": {"a": [1, "}"]}}, "ssn": "unterminated"#;
        let masked = m.mask_text(cut);
        assert_eq!(
            masked,
            r#"{"card": {"number": "[masked]", "exp": "12/30"}, "ssn": "[masked]", "x": {"ssn": "[masked]"}, "ssn": "[masked]""#
        );
        assert_eq!(
            m.mask_text("Not found: ssn unknown"),
            "Not found: ssn unknown"
        );
        // Whole JSON is masked field by field, and stays JSON.
        let whole = m.mask_text(r#"{"ssn": "1", "other": "ssn"}"#);
        assert_eq!(
            serde_json::from_str::<Value>(&whole).unwrap(),
            json!({"ssn": MASKED, "other": "ssn"})
        );
    }

    #[test]
    fn card_numbers_with_a_valid_check_digit_are_masked() {
        let m = masker(&[], &[Detector::Card]);
        assert_eq!(
            m.mask_text(
                "paid with 4111 1111 1111 1111, ref 4111111111111112 and 5500-0000-0000-0004."
            ),
            "paid with ****1111, ref 4111111111111112 and ****0004."
        );
        // Not inside longer words or numbers.
        assert_eq!(m.mask_text("id A4111111111111111"), "id A4111111111111111");
        assert_eq!(
            m.mask_text("41111111111111111111111"),
            "41111111111111111111111"
        );
    }

    #[test]
    fn ibans_with_a_valid_check_are_masked() {
        let m = masker(&[], &[Detector::Iban]);
        assert_eq!(
            m.mask_text("to DE89 3704 0044 0532 0130 00 today, not DE89 3704 0044 0532 0130 01"),
            "to ****3000 today, not DE89 3704 0044 0532 0130 01"
        );
        assert_eq!(m.mask_text("GB82WEST12345698765432"), "****5432");
    }

    #[test]
    fn credentials_and_key_shapes_are_masked() {
        let m = masker(&[], &[Detector::Bearer, Detector::ApiKey]);
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";
        let text = format!(
            "Authorization: Bearer abc.def-123456 used key AKIAIOSFODNN7EXAMPLE and {jwt}. \
             ghp_0123456789abcdefghijABCDEFGHIJ0123 basic dXNlcjpwYXNzd29yZA== sk-short"
        );
        assert_eq!(
            m.mask_text(&text),
            "Authorization: Bearer [masked] used key [masked] and [masked]. [masked] basic \
             [masked] sk-short"
        );
        // Inside JSON strings too.
        let mut v = json!({"log": ["token AKIAIOSFODNN7EXAMPLE"], "n": 1});
        m.mask_value(&mut v);
        assert_eq!(v, json!({"log": ["token [masked]"], "n": 1}));
    }

    #[test]
    fn schemas_accept_masked_answers() {
        let m = masker(&["card.number=last4", "pets.tag=remove", "extra"], &[]);
        let mut schema = json!({
            "type": "object",
            "properties": {
                "card": {"$ref": "#/$defs/Card"},
                "pets": {"type": "array", "items": {"allOf": [{"$ref": "#/$defs/Pet"}]}},
            },
            "additionalProperties": {"type": "integer"},
            "$defs": {
                "Card": {"type": "object", "properties": {"number": {"type": "integer"}}, "required": ["number"]},
                "Pet": {"type": "object", "properties": {"tag": {"type": "string"}, "next": {"$ref": "#/$defs/Pet"}}, "required": ["tag"]}
            }
        });
        m.loosen_schema(&mut schema, false);
        assert_eq!(
            schema["$defs"]["Card"]["properties"]["number"],
            json!({"description": "Masked by the server."})
        );
        assert_eq!(schema["$defs"]["Card"]["required"], json!(["number"]));
        assert_eq!(schema["$defs"]["Pet"]["required"], json!([]));
        assert_eq!(
            schema["additionalProperties"],
            json!({"description": "Masked by the server."})
        );

        let mut wrapped = json!({"type": "object", "properties": {"result": {"type": "array", "items": {"type": "object", "properties": {"card": {"type": "object", "properties": {"number": {"type": "string", "pattern": "^[0-9]+$"}}}}}}}});
        masker(&["card.number"], &[Detector::Card]).loosen_schema(&mut wrapped, true);
        assert_eq!(
            wrapped["properties"]["result"]["items"]["properties"]["card"]["properties"]["number"],
            json!({"description": "Masked by the server."})
        );
    }
}
