//! Serialises parameter values the way the OpenAPI `style` and `explode` rules say, and
//! percent-encodes them for their place in the request.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use super::descriptor::{ParamPlan, ParamStyle};

/// Everything but RFC 3986 unreserved characters: what a path segment or query component
/// value must encode so that it can never change the request's structure.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// For `allowReserved` query values: keep RFC 3986 reserved characters, but still encode the
/// ones that would end the value or the query (`&`, `=`, `#`, `+`) and anything not ASCII.
const RESERVED_ALLOWED: &AsciiSet = &COMPONENT
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b',')
    .remove(b';');

/// A scalar as it appears in a URL or header before encoding.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        // Nested structures have no OpenAPI serialisation; JSON text is the least surprising.
        other => other.to_string(),
    }
}

/// The parts a value splits into: a scalar, a list, or ordered key-value pairs.
enum Shape {
    Scalar(String),
    List(Vec<String>),
    Pairs(Vec<(String, String)>),
}

fn shape(value: &Value, json: bool) -> Shape {
    if json {
        return Shape::Scalar(value.to_string());
    }
    match value {
        Value::Array(items) => Shape::List(items.iter().map(scalar_text).collect()),
        Value::Object(map) => Shape::Pairs(
            map.iter()
                .map(|(k, v)| (k.clone(), scalar_text(v)))
                .collect(),
        ),
        other => Shape::Scalar(scalar_text(other)),
    }
}

/// Encodes text for a path segment or a query component.
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// `name=value`, both sides encoded as components.
pub fn encoded_pair(name: &str, value: &str) -> String {
    format!("{}={}", encode_component(name), encode_component(value))
}

/// An object as `application/x-www-form-urlencoded` text: a pair per member, an array
/// repeating its member's name, each value as its scalar text (nested values as JSON).
pub fn form_urlencoded(map: &Map<String, Value>) -> String {
    let mut pairs = Vec::with_capacity(map.len());
    for (name, value) in map {
        let values: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for value in values {
            pairs.push(encoded_pair(name, &scalar_text(value)));
        }
    }
    pairs.join("&")
}

fn encode_query_value(text: &str, allow_reserved: bool) -> String {
    let set = if allow_reserved {
        RESERVED_ALLOWED
    } else {
        COMPONENT
    };
    utf8_percent_encode(text, set).to_string()
}

/// The text substituted for `{name}` in a path template, already percent-encoded.
pub fn path_value(param: &ParamPlan, value: &Value) -> String {
    let enc = encode_component;
    let name = enc(param.name);
    let explode = param.explode;
    let join_pairs = |pairs: &[(String, String)], kv: &str, sep: &str| {
        pairs
            .iter()
            .map(|(k, v)| format!("{}{kv}{}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let join_list =
        |items: &[String], sep: &str| items.iter().map(|s| enc(s)).collect::<Vec<_>>().join(sep);
    match (param.style, shape(value, param.json)) {
        (ParamStyle::Label, Shape::Scalar(s)) => format!(".{}", enc(&s)),
        (ParamStyle::Label, Shape::List(items)) => {
            format!(".{}", join_list(&items, if explode { "." } else { "," }))
        }
        (ParamStyle::Label, Shape::Pairs(pairs)) if explode => {
            format!(".{}", join_pairs(&pairs, "=", "."))
        }
        (ParamStyle::Label, Shape::Pairs(pairs)) => format!(".{}", join_pairs(&pairs, ",", ",")),
        (ParamStyle::Matrix, Shape::Scalar(s)) => format!(";{name}={}", enc(&s)),
        (ParamStyle::Matrix, Shape::List(items)) if explode => items
            .iter()
            .map(|s| format!(";{name}={}", enc(s)))
            .collect(),
        (ParamStyle::Matrix, Shape::List(items)) => format!(";{name}={}", join_list(&items, ",")),
        (ParamStyle::Matrix, Shape::Pairs(pairs)) if explode => {
            format!(";{}", join_pairs(&pairs, "=", ";"))
        }
        (ParamStyle::Matrix, Shape::Pairs(pairs)) => {
            format!(";{name}={}", join_pairs(&pairs, ",", ","))
        }
        // simple, and anything not meaningful in a path
        (_, Shape::Scalar(s)) => enc(&s),
        (_, Shape::List(items)) => join_list(&items, ","),
        (_, Shape::Pairs(pairs)) if explode => join_pairs(&pairs, "=", ","),
        (_, Shape::Pairs(pairs)) => join_pairs(&pairs, ",", ","),
    }
}

/// How many rounds of percent-decoding [`has_dot_segment`] applies before it gives up on a
/// value and treats it as an escape attempt: each round that changes anything shortens the
/// text, and no honest value is encoded more than a couple of times.
const MAX_DECODE_ROUNDS: usize = 8;

/// Whether `text`, once percent-decoded as often as it takes to stop changing, has a `.` or
/// `..` segment when split on `/` or `\`. Upstreams and proxies that decode `%2F` (or `%252F`)
/// before they normalise a path would otherwise let `..%2F..%2Fadmin` climb out of the
/// operation's path; `\` counts because Windows servers and some proxies read it as `/`. A
/// segment counts up to its first `;` as well, since some servers drop `;params` from a
/// segment (`..;` is `..` to them). Overlong UTF-8 forms of `.`, `/` and `\` count as those
/// characters, as lenient decoders read them. Text that is still changing after
/// `MAX_DECODE_ROUNDS` rounds of decoding counts as having one.
pub fn has_dot_segment(text: &str) -> bool {
    let mut current: Vec<u8> = text.as_bytes().to_vec();
    for _ in 0..MAX_DECODE_ROUNDS {
        if bytes_have_dot_segment(&current) {
            return true;
        }
        let decoded: Vec<u8> = percent_encoding::percent_decode(&current).collect();
        let decoded = normalise_overlong(decoded);
        if decoded == current {
            return false;
        }
        current = decoded;
    }
    true
}

fn bytes_have_dot_segment(bytes: &[u8]) -> bool {
    bytes.split(|b| *b == b'/' || *b == b'\\').any(|segment| {
        let before_params = segment.split(|b| *b == b';').next().unwrap_or_default();
        matches!(before_params, b"." | b"..")
    })
}

/// Replaces the two-byte overlong UTF-8 forms of `.` (`C0 AE`), `/` (`C0 AF`) and `\`
/// (`C1 9C`) by the characters themselves.
fn normalise_overlong(bytes: Vec<u8>) -> Vec<u8> {
    if !bytes.iter().any(|b| matches!(b, 0xC0 | 0xC1)) {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let replaced = match (bytes[i], bytes.get(i + 1)) {
            (0xC0, Some(0xAE)) => Some(b'.'),
            (0xC0, Some(0xAF)) => Some(b'/'),
            (0xC1, Some(0x9C)) => Some(b'\\'),
            _ => None,
        };
        match replaced {
            Some(c) => {
                out.push(c);
                i += 2;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// Appends the query-string pairs for one parameter, already percent-encoded.
pub fn push_query(out: &mut Vec<String>, param: &ParamPlan, value: &Value) {
    let name = encode_component(param.name);
    let ev = |s: &str| encode_query_value(s, param.allow_reserved);
    match (param.style, shape(value, param.json)) {
        (_, Shape::Scalar(s)) => out.push(format!("{name}={}", ev(&s))),
        (ParamStyle::DeepObject, Shape::Pairs(pairs)) => {
            for (k, v) in pairs {
                out.push(format!("{name}%5B{}%5D={}", encode_component(&k), ev(&v)));
            }
        }
        (ParamStyle::DeepObject, Shape::List(items)) => {
            for (i, v) in items.iter().enumerate() {
                out.push(format!("{name}%5B{i}%5D={}", ev(v)));
            }
        }
        (_, Shape::List(items)) if param.explode => {
            for v in items {
                out.push(format!("{name}={}", ev(&v)));
            }
        }
        (_, Shape::Pairs(pairs)) if param.explode => {
            for (k, v) in pairs {
                out.push(format!("{}={}", encode_component(&k), ev(&v)));
            }
        }
        (style, Shape::List(items)) => {
            let sep = delimiter(style);
            let joined = items.iter().map(|s| ev(s)).collect::<Vec<_>>().join(sep);
            out.push(format!("{name}={joined}"));
        }
        (style, Shape::Pairs(pairs)) => {
            let sep = delimiter(style);
            let joined = pairs
                .iter()
                .map(|(k, v)| format!("{}{sep}{}", ev(k), ev(v)))
                .collect::<Vec<_>>()
                .join(sep);
            out.push(format!("{name}={joined}"));
        }
    }
}

fn delimiter(style: ParamStyle) -> &'static str {
    match style {
        ParamStyle::SpaceDelimited => "%20",
        ParamStyle::PipeDelimited => "%7C",
        _ => ",",
    }
}

/// A header value (style `simple`), not encoded: the caller rejects control characters.
pub fn header_value(param: &ParamPlan, value: &Value) -> String {
    match shape(value, param.json) {
        Shape::Scalar(s) => s,
        Shape::List(items) => items.join(","),
        Shape::Pairs(pairs) => pairs
            .iter()
            .map(|(k, v)| {
                if param.explode {
                    format!("{k}={v}")
                } else {
                    format!("{k},{v}")
                }
            })
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// A `name=value` pair for the `Cookie` header (style `form`), value percent-encoded so that
/// `;` and `,` cannot start another cookie.
pub fn cookie_pairs(param: &ParamPlan, value: &Value) -> Vec<String> {
    let name = encode_component(param.name);
    match shape(value, param.json) {
        Shape::Scalar(s) => vec![format!("{name}={}", encode_component(&s))],
        Shape::List(items) if param.explode => items
            .iter()
            .map(|s| format!("{name}={}", encode_component(s)))
            .collect(),
        Shape::List(items) => vec![format!(
            "{name}={}",
            items
                .iter()
                .map(|s| encode_component(s))
                .collect::<Vec<_>>()
                .join(",")
        )],
        Shape::Pairs(pairs) if param.explode => {
            pairs.iter().map(|(k, v)| encoded_pair(k, v)).collect()
        }
        Shape::Pairs(pairs) => vec![format!(
            "{name}={}",
            pairs
                .iter()
                .map(|(k, v)| format!("{},{}", encode_component(k), encode_component(v)))
                .collect::<Vec<_>>()
                .join(",")
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::ParamLocation;
    use super::*;
    use serde_json::json;

    fn plan(location: ParamLocation, style: ParamStyle, explode: bool) -> ParamPlan {
        ParamPlan {
            arg: "id",
            name: "id",
            location,
            style,
            explode,
            allow_reserved: false,
            json: false,
            fixed: None,
        }
    }

    #[test]
    fn path_styles_follow_the_openapi_table() {
        let arr = json!([3, 4, 5]);
        let obj = json!({"role": "admin", "firstName": "Alex"});
        let cases = [
            (ParamStyle::Simple, false, json!(5), "5"),
            (ParamStyle::Simple, false, arr.clone(), "3,4,5"),
            (
                ParamStyle::Simple,
                false,
                obj.clone(),
                "role,admin,firstName,Alex",
            ),
            (
                ParamStyle::Simple,
                true,
                obj.clone(),
                "role=admin,firstName=Alex",
            ),
            (ParamStyle::Label, false, json!(5), ".5"),
            (ParamStyle::Label, false, arr.clone(), ".3,4,5"),
            (ParamStyle::Label, true, arr.clone(), ".3.4.5"),
            (
                ParamStyle::Label,
                true,
                obj.clone(),
                ".role=admin.firstName=Alex",
            ),
            (ParamStyle::Matrix, false, json!(5), ";id=5"),
            (ParamStyle::Matrix, false, arr.clone(), ";id=3,4,5"),
            (ParamStyle::Matrix, true, arr.clone(), ";id=3;id=4;id=5"),
            (
                ParamStyle::Matrix,
                false,
                obj.clone(),
                ";id=role,admin,firstName,Alex",
            ),
            (ParamStyle::Matrix, true, obj, ";role=admin;firstName=Alex"),
        ];
        for (style, explode, value, want) in cases {
            let p = plan(ParamLocation::Path, style, explode);
            assert_eq!(path_value(&p, &value), want, "{style:?} explode={explode}");
        }
    }

    #[test]
    fn path_values_cannot_escape_their_segment() {
        let p = plan(ParamLocation::Path, ParamStyle::Simple, false);
        assert_eq!(path_value(&p, &json!("../admin")), "..%2Fadmin");
        assert_eq!(path_value(&p, &json!("a?b#c")), "a%3Fb%23c");
        assert_eq!(path_value(&p, &json!("%2e%2e")), "%252e%252e");
        assert_eq!(
            path_value(&p, &json!("http://evil.example/")),
            "http%3A%2F%2Fevil.example%2F"
        );
        assert_eq!(path_value(&p, &json!("é \\")), "%C3%A9%20%5C");
    }

    #[test]
    fn encoded_traversal_is_recognised_however_it_is_spelled() {
        let attacks = [
            "..",
            ".",
            "../admin",
            "..%2F..%2Fadmin",
            "..%2f..%2fadmin",
            "%2e%2e%2fadmin",
            "%2E%2E/admin",
            "..\\admin",
            "..%5Cadmin",
            "%252e%252e%252fadmin",
            "%25252e%25252e%25252fadmin",
            "a/./b",
            "a%2F.%2Fb",
            "..;/admin",
            "..%3B%2Fadmin",
            "%c0%ae%c0%ae%c0%afadmin",
            "x/..",
        ];
        for attack in attacks {
            assert!(has_dot_segment(attack), "{attack}");
            // What path_value makes of it (one more level of encoding) is caught as well.
            assert!(has_dot_segment(&encode_component(attack)), "{attack}");
        }
        let fine = [
            "a/b",
            "...",
            ".hidden",
            "v1.2",
            "a..b",
            "..a",
            "%2e%2e%2e",
            "100%",
            "%zz",
            "é",
            ";id=..x",
        ];
        for value in fine {
            assert!(!has_dot_segment(value), "{value}");
            assert!(!has_dot_segment(&encode_component(value)), "{value}");
        }
        // Encoded past the decoding bound: refused rather than trusted.
        let mut deep = "..".to_owned();
        for _ in 0..MAX_DECODE_ROUNDS + 1 {
            deep = encode_component(&deep).replace('.', "%2E");
        }
        assert!(has_dot_segment(&deep));
    }

    #[test]
    fn query_styles_follow_the_openapi_table() {
        let arr = json!(["a b", "c"]);
        let obj = json!({"role": "admin", "n": 1});
        let run = |style, explode, value: &Value| {
            let mut out = Vec::new();
            push_query(&mut out, &plan(ParamLocation::Query, style, explode), value);
            out.join("&")
        };
        assert_eq!(run(ParamStyle::Form, true, &arr), "id=a%20b&id=c");
        assert_eq!(run(ParamStyle::Form, false, &arr), "id=a%20b,c");
        assert_eq!(run(ParamStyle::Form, true, &obj), "role=admin&n=1");
        assert_eq!(run(ParamStyle::Form, false, &obj), "id=role,admin,n,1");
        assert_eq!(run(ParamStyle::SpaceDelimited, false, &arr), "id=a%20b%20c");
        assert_eq!(run(ParamStyle::PipeDelimited, false, &arr), "id=a%20b%7Cc");
        assert_eq!(
            run(ParamStyle::DeepObject, true, &obj),
            "id%5Brole%5D=admin&id%5Bn%5D=1"
        );
        assert_eq!(run(ParamStyle::Form, true, &json!("x&y=z")), "id=x%26y%3Dz");
        assert_eq!(run(ParamStyle::Form, true, &json!(true)), "id=true");
    }

    #[test]
    fn allow_reserved_keeps_reserved_but_not_separators() {
        let mut p = plan(ParamLocation::Query, ParamStyle::Form, true);
        p.allow_reserved = true;
        let mut out = Vec::new();
        push_query(&mut out, &p, &json!("a/b:c?d&e#f"));
        assert_eq!(out, ["id=a/b:c?d%26e%23f"]);
    }

    #[test]
    fn json_content_parameters_are_sent_as_json_text() {
        let mut p = plan(ParamLocation::Query, ParamStyle::Form, true);
        p.json = true;
        let mut out = Vec::new();
        push_query(&mut out, &p, &json!({"a": [1]}));
        assert_eq!(out, ["id=%7B%22a%22%3A%5B1%5D%7D"]);
    }

    #[test]
    fn headers_and_cookies() {
        let p = plan(ParamLocation::Header, ParamStyle::Simple, false);
        assert_eq!(header_value(&p, &json!([1, 2])), "1,2");
        let c = plan(ParamLocation::Cookie, ParamStyle::Form, true);
        assert_eq!(cookie_pairs(&c, &json!("a;b=c")), ["id=a%3Bb%3Dc"]);
        let c = plan(ParamLocation::Cookie, ParamStyle::Form, false);
        assert_eq!(cookie_pairs(&c, &json!(["x", "y"])), ["id=x,y"]);
    }
}
