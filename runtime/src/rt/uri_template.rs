//! URIs and URI templates of resources: a scheme, then segments between `/`, each literal text
//! and `{name}` variables (RFC 6570, level 1). A URI matches a template segment by segment; a
//! variable takes the text up to the next literal of its segment, percent-decoded. The
//! generator compiles this file too, so that what it checks a document's URIs with is what the
//! server reads them with.

/// One part of a segment: literal text, or a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text the URI must hold as it is.
    Literal(String),
    /// A variable: its name.
    Var(String),
}

/// A parsed URI template (a URI is one without variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    /// The segments between `/`, the scheme (`test:`) the first.
    segments: Vec<Vec<Part>>,
}

impl UriTemplate {
    /// Parses `text`: it needs a scheme (RFC 3986: a letter, then letters, digits, `+`, `-`,
    /// `.`, then `:`), no white space or control character, and variables of the form
    /// `{name}`, never two side by side in one segment (their values could not be told
    /// apart), and no query or fragment in a template. The error
    /// says what to change.
    pub fn parse(text: &str) -> Result<UriTemplate, String> {
        if scheme(text).is_none() {
            return Err(format!(
                "`{text}` has no scheme: a resource URI starts with one (a letter, then letters, \
                 digits, `+`, `-` or `.`, then `:`), as in `docs://readme`"
            ));
        }
        if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "`{text}` holds {c:?}: a URI has no white space or control characters \
                 (percent-encode them)"
            ));
        }
        let mut segments = Vec::new();
        for segment in text.split('/') {
            let mut parts = Vec::new();
            let mut rest = segment;
            while let Some(open) = rest.find(['{', '}']) {
                if rest[open..].starts_with('}') {
                    return Err(format!("`{text}` has a `}}` that closes no `{{`"));
                }
                let close = rest[open..]
                    .find('}')
                    .map(|c| c + open)
                    .ok_or_else(|| format!("`{text}` has a `{{` that is not closed by `}}`"))?;
                if open > 0 {
                    parts.push(Part::Literal(rest[..open].to_owned()));
                }
                let name = &rest[open + 1..close];
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                {
                    return Err(format!(
                        "`{{{name}}}` in `{text}` is not a variable this server fills in: write \
                         `{{name}}`, a name of letters, digits, `_`, `-` and `.` (no operator, \
                         no list)"
                    ));
                }
                if matches!(parts.last(), Some(Part::Var(_))) {
                    return Err(format!(
                        "`{text}` has two variables side by side: their values could not be told \
                         apart; put text between them"
                    ));
                }
                parts.push(Part::Var(name.to_owned()));
                rest = &rest[close + 1..];
            }
            if !rest.is_empty() {
                parts.push(Part::Literal(rest.to_owned()));
            }
            segments.push(parts);
        }
        let template = UriTemplate { segments };
        if template.has_variables() && text.contains(['?', '#']) {
            return Err(format!(
                "`{text}` is a template with a query or a fragment: put the variables in the \
                 path, and no `?` or `#`"
            ));
        }
        Ok(template)
    }

    /// Whether it has variables (a template), or is a URI.
    pub fn has_variables(&self) -> bool {
        self.variables().next().is_some()
    }

    /// The names of its variables, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments
            .iter()
            .flatten()
            .filter_map(|part| match part {
                Part::Var(name) => Some(name.as_str()),
                Part::Literal(_) => None,
            })
    }

    /// The values of the variables when `uri` (its query and fragment left aside) matches,
    /// percent-decoded, by variable name; `None` when it does not match (a value empty, not
    /// UTF-8, or with a bad escape included).
    pub fn matches(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let path = uri.split(['?', '#']).next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        if segments.len() != self.segments.len() {
            return None;
        }
        let mut values = Vec::new();
        for (parts, segment) in self.segments.iter().zip(segments) {
            let mut rest = segment;
            for (i, part) in parts.iter().enumerate() {
                match part {
                    Part::Literal(text) => rest = rest.strip_prefix(text.as_str())?,
                    Part::Var(name) => {
                        // The value runs up to the next literal (or the segment's end).
                        let end = match parts.get(i + 1) {
                            Some(Part::Literal(next)) => rest.find(next.as_str())?,
                            _ => rest.len(),
                        };
                        let raw = &rest[..end];
                        if raw.is_empty() {
                            return None;
                        }
                        values.push((name.clone(), percent_decode(raw)?));
                        rest = &rest[end..];
                    }
                }
            }
            if !rest.is_empty() {
                return None;
            }
        }
        Some(values)
    }

    /// Whether some URI could match both templates. Cheap and cautious: segments with
    /// variables are compared by the text before their first variable and after their last,
    /// so it may say yes for templates that a value's text would tell apart.
    pub fn overlaps(&self, other: &UriTemplate) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| segments_overlap(a, b))
    }
}

/// Whether some text could match both segments.
fn segments_overlap(a: &[Part], b: &[Part]) -> bool {
    let literal = |parts: &[Part]| match parts {
        [] => Some(String::new()),
        [Part::Literal(text)] => Some(text.clone()),
        _ => None,
    };
    match (literal(a), literal(b)) {
        (Some(x), Some(y)) => x == y,
        (Some(text), None) => segment_matches(b, &text),
        (None, Some(text)) => segment_matches(a, &text),
        (None, None) => {
            let (a_start, a_end) = ends(a);
            let (b_start, b_end) = ends(b);
            (a_start.starts_with(b_start) || b_start.starts_with(a_start))
                && (a_end.ends_with(b_end) || b_end.ends_with(a_end))
        }
    }
}

/// The literal text before the first variable of a segment and after its last.
fn ends(parts: &[Part]) -> (&str, &str) {
    fn text(part: Option<&Part>) -> &str {
        match part {
            Some(Part::Literal(text)) => text,
            _ => "",
        }
    }
    (text(parts.first()), text(parts.last()))
}

/// Whether the segment's parts match `text` (an undecoded segment of a URI).
fn segment_matches(parts: &[Part], text: &str) -> bool {
    UriTemplate {
        segments: vec![parts.to_vec()],
    }
    .matches(text)
    .is_some()
}

/// The scheme of `uri` (RFC 3986, section 3.1), without its `:`.
pub fn scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that are not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> UriTemplate {
        UriTemplate::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn templates_match_segment_by_segment() {
        let template = parse("test://template/{id}/data");
        assert_eq!(template.variables().collect::<Vec<_>>(), ["id"]);
        assert_eq!(
            template.matches("test://template/a%2Fb/data?x=1"),
            Some(vec![("id".to_owned(), "a/b".to_owned())])
        );
        for other in [
            "test://template//data",
            "test://template/1/2/data",
            "other://template/1/data",
            "test://template/%zz/data",
            "test://nonexistent-resource-for-conformance-testing",
        ] {
            assert_eq!(template.matches(other), None, "{other}");
        }
        let file = parse("files://{owner}/{name}.json");
        assert_eq!(
            file.matches("files://me/report.v2.json"),
            Some(vec![
                ("owner".to_owned(), "me".to_owned()),
                ("name".to_owned(), "report.v2".to_owned())
            ])
        );
        assert!(!parse("test://static-text?lang=en").has_variables());
    }

    #[test]
    fn what_cannot_be_read_back_is_refused() {
        for (text, says) in [
            ("static-text", "has no scheme"),
            ("1test://x", "has no scheme"),
            ("test://a b", "white space"),
            ("test://{id", "not closed"),
            ("test://id}", "closes no"),
            ("test://{}", "not a variable"),
            ("test://{+id}", "not a variable"),
            ("test://{a}{b}", "side by side"),
            ("test://x/{id}?full=1", "query or a fragment"),
        ] {
            let err = UriTemplate::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        assert_eq!(scheme("git+ssh://host/x"), Some("git+ssh"));
        assert_eq!(scheme("://x"), None);
    }

    #[test]
    fn overlaps_are_found_cautiously() {
        let overlap = |a: &str, b: &str| parse(a).overlaps(&parse(b));
        assert!(overlap("test://pets/{id}", "test://pets/{name}"));
        assert!(overlap("test://pets/{id}", "test://pets/mine"));
        assert!(overlap("test://{kind}/7", "test://pets/{id}"));
        assert!(!overlap("test://pets/{id}.json", "test://pets/{id}.xml"));
        assert!(!overlap("test://pets/{id}", "test://pets/{id}/photo"));
        assert!(!overlap("test://pets/{id}", "other://pets/{id}"));
        assert!(!overlap("test://static-text", "test://static-binary"));
    }
}
