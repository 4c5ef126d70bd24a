//! JSON pointers (RFC 6901) and the URI fragments that carry them in `$ref`s (RFC 3986): the
//! one place that escapes, splits, joins, resolves and percent-decodes them.
//!
//! A pointer is a string of `/`-prefixed reference tokens in which `~` is written `~0` and `/`
//! is written `~1`. In a `$ref` it is a URI fragment, so it is percent-encoded as well:
//! `#/components/schemas/a%20b~1c` names the schema `a b/c`. Decoding undoes the percent
//! encoding first and the token escaping second, and encoding does the reverse.

use std::borrow::Cow;

use serde_json::Value;

/// `token` escaped as a reference token: `~` as `~0`, `/` as `~1`; borrowed when there is
/// nothing to escape.
pub fn escape_token(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        let mut out = String::with_capacity(token.len() + 2);
        escape_token_into(token, &mut out);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(token)
    }
}

/// Appends `token`, escaped as a reference token, to `out`.
pub fn escape_token_into(token: &str, out: &mut String) {
    if !token.contains(['~', '/']) {
        out.push_str(token);
        return;
    }
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// A reference token unescaped: `~1` as `/` and `~0` as `~`, in one pass, so that `~01` is
/// `~1` (not `/`). A `~` followed by anything else is not a valid escape and is kept as it is.
/// Borrowed when there is nothing to unescape.
pub fn unescape_token(token: &str) -> Cow<'_, str> {
    if !token.contains('~') {
        return Cow::Borrowed(token);
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('~', Some('0')) => {
                out.push('~');
                chars.next();
            }
            ('~', Some('1')) => {
                out.push('/');
                chars.next();
            }
            (c, _) => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `pointer` with one more reference token, `token` (escaped here).
pub fn push_token(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    escape_token_into(token, &mut out);
    out
}

/// The pointer made of `tokens` (unescaped); `""`, the whole document, for none.
pub fn from_tokens<T: AsRef<str>>(tokens: &[T]) -> String {
    let mut out = String::new();
    for token in tokens {
        out.push('/');
        escape_token_into(token.as_ref(), &mut out);
    }
    out
}

/// The reference tokens of `pointer`, unescaped: none for `""` (the whole document), one
/// empty token for `/`. Whatever precedes the first `/` is not a token and is skipped.
pub fn tokens(pointer: &str) -> impl Iterator<Item = Cow<'_, str>> {
    pointer.split('/').skip(1).map(unescape_token)
}

/// The value `pointer` designates in `value`, as `Value::pointer` finds it (array indexes
/// without sign or leading zero), without allocating for tokens that need no unescaping.
pub fn value_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').try_fold(value, |target, token| {
        let token = unescape_token(token);
        match target {
            Value::Object(map) => map.get(token.as_ref()),
            Value::Array(list) => {
                if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
                    return None;
                }
                token.parse::<usize>().ok().and_then(|i| list.get(i))
            }
            _ => None,
        }
    })
}

/// `text` with its `%XX` escapes decoded; borrowed when it has none. `None` when a `%` is not
/// followed by two hexadecimal digits (the text is then not a URI, and guessing what it meant
/// could name the wrong node) or when the decoded bytes are not UTF-8 (no JSON key or file
/// name this generator reads can hold them).
pub fn percent_decode(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('%') {
        return Some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let digit = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
            let (high, low) = (digit(i + 1)?, digit(i + 2)?);
            // Two hexadecimal digits are at most 255.
            out.push(u8::try_from(high * 16 + low).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// The JSON pointer a URI fragment (without its `#`) holds, percent-decoded but still
/// escaped: `/a%20b/~1c` → `/a b/~1c`. `None` when the fragment has an invalid escape or is
/// not a pointer (neither empty nor starting with `/`).
pub fn decode_fragment(fragment: &str) -> Option<String> {
    let decoded = percent_decode(fragment)?;
    (decoded.is_empty() || decoded.starts_with('/')).then(|| decoded.into_owned())
}

/// The JSON pointer of a local reference: `#/a%20b/~1c` → `/a b/~1c`. `None` when the
/// reference does not start with `#` or its fragment is not a valid pointer.
pub fn fragment_pointer(reference: &str) -> Option<String> {
    decode_fragment(reference.strip_prefix('#')?)
}

/// One reference token as a URI fragment writes it, decoded: `a%20b~1c` → `a b/c`. `None`
/// when it has an invalid percent escape.
pub fn decode_fragment_token(token: &str) -> Option<String> {
    let decoded = percent_decode(token)?;
    Some(unescape_token(&decoded).into_owned())
}

/// `token` as one reference token of a URI fragment: escaped (`~0`, `~1`), then every byte
/// a fragment may not hold as it is percent-encoded. The reverse of `decode_fragment_token`.
pub fn fragment_token(token: &str) -> String {
    let escaped = escape_token(token);
    let mut out = String::with_capacity(escaped.len());
    for byte in escaped.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AWKWARD: [&str; 10] = [
        "", "plain", "a/b", "a~b", "~1", "~01", "/~/", "a b%c", "é/ü", "~",
    ];

    #[test]
    fn tokens_escape_and_unescape_in_round_trips() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
        assert!(matches!(escape_token("plain"), Cow::Borrowed("plain")));
        assert!(matches!(unescape_token("plain"), Cow::Borrowed("plain")));
        for token in AWKWARD {
            assert_eq!(unescape_token(&escape_token(token)), token, "{token:?}");
            let mut out = String::from("/x/");
            escape_token_into(token, &mut out);
            assert_eq!(out, format!("/x/{}", escape_token(token)));
        }
    }

    #[test]
    fn tilde_zero_one_is_a_tilde_then_a_one() {
        // `~1` is unescaped before `~0`: `~01` is `~` + `1`, never `/`.
        assert_eq!(unescape_token("~01"), "~1");
        assert_eq!(unescape_token("~10"), "/0");
        assert_eq!(unescape_token("~0~1"), "~/");
        assert_eq!(escape_token("~1"), "~01");
        // Not an escape: kept as written.
        assert_eq!(unescape_token("~2~"), "~2~");
        // The same as unescaping `~1` first and `~0` second, as RFC 6901 puts it.
        for token in ["~~01", "~001", "~~1", "a~0~1~01~10b", "~0~0~1~1"] {
            assert_eq!(
                unescape_token(token),
                token.replace("~1", "/").replace("~0", "~"),
                "{token:?}"
            );
        }
    }

    #[test]
    fn pointers_are_pushed_joined_and_split() {
        assert_eq!(push_token("", "paths"), "/paths");
        assert_eq!(push_token("/paths", "/pets/{id}"), "/paths/~1pets~1{id}");
        assert_eq!(push_token("/a", ""), "/a/");
        assert_eq!(from_tokens::<&str>(&[]), "");
        assert_eq!(from_tokens(&["a/b", "~", "0"]), "/a~1b/~0/0");
        for token in AWKWARD {
            let pointer = from_tokens(&["x", token, "y"]);
            assert_eq!(tokens(&pointer).collect::<Vec<_>>(), ["x", token, "y"]);
        }
        assert_eq!(tokens("").count(), 0);
        assert_eq!(tokens("/").collect::<Vec<_>>(), [""]);
        assert_eq!(tokens("//").collect::<Vec<_>>(), ["", ""]);
    }

    #[test]
    fn values_are_found_by_pointer() {
        let doc = json!({
            "a/b": {"~": [10, 11, {"": "empty key"}]},
            "list": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            "0": "zero"
        });
        for pointer in [
            "",
            "/a~1b",
            "/a~1b/~0",
            "/a~1b/~0/1",
            "/a~1b/~0/2/",
            "/list/0",
            "/list/11",
            "/list/12",
            "/list/01",
            "/list/+1",
            "/list/-1",
            "/list/x",
            "/0",
            "/nope",
            "/0/x",
            "a~1b",
        ] {
            assert_eq!(value_at(&doc, pointer), doc.pointer(pointer), "{pointer:?}");
        }
        assert_eq!(value_at(&doc, "/a~1b/~0/2/"), Some(&json!("empty key")));
        assert_eq!(value_at(&doc, "/list/11"), Some(&json!(11)));
        assert_eq!(value_at(&doc, "/list/01"), None);
    }

    #[test]
    fn percent_escapes_decode_strictly() {
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("%C3%a9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%25").as_deref(), Some("%"));
        assert!(matches!(percent_decode("plain"), Some(Cow::Borrowed(_))));
        // Not two hexadecimal digits: not a URI.
        for text in ["%", "a%2", "%zz", "%+1", "%-1", "%é1", "%2é"] {
            assert_eq!(percent_decode(text), None, "{text:?}");
        }
        // Bytes that are not UTF-8.
        assert_eq!(percent_decode("%FF"), None);
        assert_eq!(percent_decode("%C3"), None);
    }

    #[test]
    fn fragments_decode_to_pointers_and_tokens() {
        assert_eq!(fragment_pointer("#/a%20b/~1c").as_deref(), Some("/a b/~1c"));
        let pointer = fragment_pointer("#/a%20b/~1c").unwrap();
        assert_eq!(tokens(&pointer).collect::<Vec<_>>(), ["a b", "/c"]);
        assert_eq!(fragment_pointer("#").as_deref(), Some(""));
        assert_eq!(fragment_pointer("#/").as_deref(), Some("/"));
        assert_eq!(fragment_pointer("#a"), None);
        assert_eq!(fragment_pointer("#%2Fa").as_deref(), Some("/a"));
        assert_eq!(fragment_pointer("/a"), None);
        assert_eq!(fragment_pointer("#/a%zz"), None);
        assert_eq!(decode_fragment("").as_deref(), Some(""));
        assert_eq!(
            decode_fragment_token("a%20b~1c~01").as_deref(),
            Some("a b/c~1")
        );
        assert_eq!(decode_fragment_token("100%"), None);
    }

    #[test]
    fn fragment_tokens_round_trip() {
        assert_eq!(fragment_token("a b/c~d"), "a%20b~1c~0d");
        assert_eq!(fragment_token("Pet"), "Pet");
        assert_eq!(fragment_token("100%"), "100%25");
        assert_eq!(fragment_token("é"), "%C3%A9");
        for token in AWKWARD.into_iter().chain(["#?[]{}\"", "a%20b"]) {
            let written = fragment_token(token);
            assert_eq!(decode_fragment_token(&written).as_deref(), Some(token));
            let pointer = fragment_pointer(&format!("#/$defs/{written}")).unwrap();
            assert_eq!(tokens(&pointer).collect::<Vec<_>>(), ["$defs", token]);
        }
    }
}
