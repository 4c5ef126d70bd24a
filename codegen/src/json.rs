//! Compact JSON text of values, byte for byte what `serde_json::to_string` writes, in less
//! time: strings (most of an OpenAPI document) are scanned eight bytes at a time for the few
//! bytes JSON escapes, and runs without them are copied at once. The generator writes tens of
//! megabytes of JSON for a large API (tool schemas, the embedded document).

use serde_json::Value;

/// Where JSON text goes: a buffer, or a counter of its length.
pub(crate) trait Sink {
    /// Appends bytes.
    fn bytes(&mut self, bytes: &[u8]);
    /// Appends one byte.
    fn byte(&mut self, byte: u8);
    /// Makes room for about `additional` more bytes.
    fn reserve(&mut self, _additional: usize) {}
}

impl Sink for Vec<u8> {
    fn bytes(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn byte(&mut self, byte: u8) {
        self.push(byte);
    }
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional);
    }
}

/// Counts the bytes of the text instead of keeping them.
struct Count(usize);

impl Sink for Count {
    fn bytes(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
    fn byte(&mut self, _byte: u8) {
        self.0 += 1;
    }
}

/// `value` as compact JSON text, as `serde_json::to_string` writes it.
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = Vec::new();
    write(value, &mut out);
    // Only whole UTF-8 strings and ASCII are written.
    String::from_utf8(out).unwrap_or_else(|_| value.to_string())
}

/// The length of `value` as compact JSON text, without writing it.
pub(crate) fn len(value: &Value) -> usize {
    let mut count = Count(0);
    write(value, &mut count);
    count.0
}

/// Appends `value` as compact JSON text.
pub(crate) fn write<S: Sink>(value: &Value, out: &mut S) {
    match value {
        Value::Null => out.bytes(b"null"),
        Value::Bool(true) => out.bytes(b"true"),
        Value::Bool(false) => out.bytes(b"false"),
        Value::Number(n) => {
            // Rare in documents: serde_json's own formatting (itoa, ryu) keeps the digits equal.
            let mut text = Vec::new();
            if serde_json::to_writer(&mut text, n).is_ok() {
                out.bytes(&text);
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.byte(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.byte(b',');
                }
                write(item, out);
            }
            out.byte(b']');
        }
        Value::Object(map) => {
            out.byte(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.byte(b',');
                }
                write_str(key, out);
                out.byte(b':');
                write(item, out);
            }
            out.byte(b'}');
        }
    }
}

/// What byte `b` becomes after a `\` in JSON text (`u` for `\u00XX`), or 0 when it stands for
/// itself: serde_json's table.
const fn escape(b: u8) -> u8 {
    match b {
        0x08 => b'b',
        0x09 => b't',
        0x0A => b'n',
        0x0C => b'f',
        0x0D => b'r',
        0x00..=0x1F => b'u',
        b'"' => b'"',
        b'\\' => b'\\',
        _ => 0,
    }
}

static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = escape(i as u8);
        i += 1;
    }
    table
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is a control character, `"` or `\`. Each test is exact as a
/// whole (borrows only carry past a byte that already matched).
fn needs_escape(word: u64) -> bool {
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGHS != 0
}

/// Appends `text` as a JSON string.
pub(crate) fn write_str<S: Sink>(text: &str, out: &mut S) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.byte(b'"');
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if !needs_escape(u64::from_le_bytes(word)) {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(bytes.len());
        while i < end {
            let byte = bytes[i];
            let e = ESCAPE[usize::from(byte)];
            if e != 0 {
                out.bytes(&bytes[run..i]);
                if e == b'u' {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.bytes(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 0xF)],
                    ]);
                } else {
                    out.bytes(&[b'\\', e]);
                }
                run = i + 1;
            }
            i += 1;
        }
    }
    out.bytes(&bytes[run..]);
    out.byte(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn same(value: &Value) {
        let expected = serde_json::to_string(value).unwrap();
        assert_eq!(to_string(value), expected);
        assert_eq!(len(value), expected.len());
    }

    #[test]
    fn every_character_below_0x80_and_some_beyond() {
        for b in 0u32..0x80 {
            let c = char::from_u32(b).unwrap();
            for pad in 0..18 {
                let text = format!("{}{c}{}", "a".repeat(pad), "é".repeat(pad % 3));
                same(&Value::String(text));
            }
        }
        same(&json!("\u{7f}\u{80}\u{2028}\u{202e}\u{1F600}\"\\/"));
        same(&json!(""));
    }

    #[test]
    fn scalars_and_nesting() {
        same(&json!({
            "a": [1, -2, 3.5, 1e300, -0.0, 0.1, u64::MAX, i64::MIN, null, true, false],
            "b\n": {"c": {}, "d": [], "e": [[{}]]},
            "": "x"
        }));
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec(("[\\x00-\\x7f]{0,12}", inner), 0..8)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn writes_what_serde_json_writes(v in value()) {
            let expected = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(to_string(&v), expected.clone());
            prop_assert_eq!(len(&v), expected.len());
        }
    }
}
