//! JSON Schema's `pattern` and `patternProperties` are ECMA-262 regular expressions. They run
//! here on `regex_lite`, whose searches take time linear in the pattern and the text: a pattern
//! from a hostile document cannot make a call backtrack for minutes. The ECMA pattern is parsed
//! and written again in a syntax with one reading only (every literal a `\x{..}` escape, every
//! class a list of ranges), so the two dialects' differences in escapes, classes and braces
//! cannot change what a pattern means. What a linear-time engine cannot do (look-around,
//! back-references) and Unicode property classes are refused, as are patterns ECMA-262 itself
//! refuses. Where JavaScript reads a pattern two ways (with and without its `u` flag), the
//! reading without it is taken when it is what the pattern plainly means (`[\d-_]`: a digit,
//! `-` or `_`) and the pattern is refused when it is a likely slip (`{1-3}` as literal text).
//!
//! The semantics are those of a pattern with the `u` flag: the text is read in code points;
//! `\d`, `\w` and `\b` are ASCII as ECMA-262 defines them; `\s` is ECMA's white space and line
//! terminators; `.` is anything but a line terminator; `^` and `$` are the text's ends.
//!
//! This file is self-contained (it uses nothing but `regex_lite`): the generator reads it too,
//! to leave out at generation time, with a warning, a pattern the server could not check.

use std::fmt::Write as _;

/// The most code points a pattern may have; schemas' patterns are a few dozen.
const MAX_PATTERN_CHARS: usize = 4096;
/// The compiled program's size limit (bytes): bounded work even for `(a{1000}){1000}`.
const MAX_PROGRAM_BYTES: usize = 1 << 20;

/// Why a pattern cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Compiles an ECMA-262 pattern for unanchored searches (`is_match`), as JSON Schema uses it.
pub fn compile(pattern: &str) -> Result<regex_lite::Regex, PatternError> {
    let translated = translate(pattern)?;
    regex_lite::RegexBuilder::new(&translated)
        .size_limit(MAX_PROGRAM_BYTES)
        .build()
        .map_err(|e| PatternError(format!("the pattern is too large to check: {e}")))
}

/// The pattern in `regex_lite`'s syntax.
fn translate(pattern: &str) -> Result<String, PatternError> {
    let chars: Vec<char> = pattern.chars().collect();
    if chars.len() > MAX_PATTERN_CHARS {
        return Err(PatternError(format!(
            "the pattern is longer than {MAX_PATTERN_CHARS} characters"
        )));
    }
    let mut parser = Parser {
        chars,
        at: 0,
        out: String::with_capacity(pattern.len() * 2),
        groups: 0,
    };
    parser.disjunction()?;
    if parser.at < parser.chars.len() {
        // Only an unbalanced `)` stops a disjunction before the end.
        return Err(parser.error("unmatched `)`"));
    }
    Ok(parser.out)
}

/// Code points ECMA-262 counts as white space or line terminators (`\s`).
const WHITE_SPACE: &[(u32, u32)] = &[
    (0x09, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
];
const DIGITS: &[(u32, u32)] = &[(0x30, 0x39)];
const WORD: &[(u32, u32)] = &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)];
/// What `.` does not match: the line terminators.
const LINE_TERMINATORS: &[(u32, u32)] = &[(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)];
const MAX_CHAR: u32 = 0x10FFFF;

/// A set of code points as sorted, disjoint, non-adjacent ranges.
#[derive(Default, Clone)]
struct CharSet(Vec<(u32, u32)>);

impl CharSet {
    fn of(ranges: &[(u32, u32)]) -> CharSet {
        let mut set = CharSet::default();
        for &(lo, hi) in ranges {
            set.add(lo, hi);
        }
        set
    }

    fn add(&mut self, lo: u32, hi: u32) {
        self.0.push((lo, hi));
        self.0.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.0.len());
        for &(lo, hi) in &self.0 {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        self.0 = merged;
    }

    fn add_set(&mut self, other: &CharSet) {
        for &(lo, hi) in &other.0 {
            self.add(lo, hi);
        }
    }

    fn negated(&self) -> CharSet {
        let mut out = Vec::new();
        let mut next = 0u32;
        for &(lo, hi) in &self.0 {
            if lo > next {
                out.push((next, lo - 1));
            }
            next = hi + 1;
        }
        if next <= MAX_CHAR {
            out.push((next, MAX_CHAR));
        }
        CharSet(out)
    }

    /// `[..]` with every bound escaped; a set with nothing in it never matches.
    fn write(&self, out: &mut String) {
        if self.0.is_empty() {
            // regex_lite has no empty class; a word boundary that is also none never holds.
            out.push_str(r"(?:\b\B)");
            return;
        }
        out.push('[');
        for &(lo, hi) in &self.0 {
            write_char(out, lo);
            if hi != lo {
                out.push('-');
                write_char(out, hi);
            }
        }
        out.push(']');
    }
}

fn write_char(out: &mut String, c: u32) {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() => out.push(ch),
        _ => {
            let _ = write!(out, r"\x{{{c:X}}}");
        }
    }
}

/// One item of a character class: a code point (which may start a range) or a class escape.
enum ClassAtom {
    Char(u32),
    Set(CharSet),
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    out: String,
    /// Capturing groups opened so far (a back-reference's number is read against them).
    groups: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn error(&self, what: &str) -> PatternError {
        PatternError(format!("{what} (character {})", self.at + 1))
    }

    fn unsupported(&self, what: &str) -> PatternError {
        PatternError(format!(
            "{what} (character {}) is beyond the server's linear-time matcher",
            self.at + 1
        ))
    }

    fn disjunction(&mut self) -> Result<(), PatternError> {
        self.alternative()?;
        while self.eat('|') {
            self.out.push('|');
            self.alternative()?;
        }
        Ok(())
    }

    fn alternative(&mut self) -> Result<(), PatternError> {
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let quantifiable = self.term()?;
            if self.quantifier_ahead() {
                if !quantifiable {
                    return Err(self.error("nothing to repeat"));
                }
                self.quantifier()?;
            }
        }
        Ok(())
    }

    /// One assertion or atom, written out; whether a quantifier may follow it.
    fn term(&mut self) -> Result<bool, PatternError> {
        let c = self.peek().expect("called before the end");
        self.at += 1;
        match c {
            '^' => self.out.push('^'),
            '$' => self.out.push('$'),
            '.' => CharSet::of(LINE_TERMINATORS).negated().write(&mut self.out),
            '(' => self.group()?,
            '[' => self.class()?,
            '\\' => return self.atom_escape(),
            '*' | '+' | '?' => return Err(self.error("nothing to repeat")),
            '{' => {
                // Annex B reads a `{` that starts no quantifier as a literal, but `{1-3}` was
                // meant as one: refused, as with the `u` flag, rather than misread.
                self.at -= 1;
                let what = if self.quantifier_ahead() {
                    "nothing to repeat"
                } else {
                    "a `{` that starts no quantifier (`\\{` is a literal brace)"
                };
                return Err(self.error(what));
            }
            other => write_char(&mut self.out, other as u32),
        }
        Ok(!matches!(c, '^' | '$'))
    }

    fn group(&mut self) -> Result<(), PatternError> {
        if self.eat('?') {
            match self.peek() {
                Some(':') => self.at += 1,
                Some('=' | '!') => return Err(self.unsupported("a look-ahead")),
                Some('<') if matches!(self.peek_at(1), Some('=' | '!')) => {
                    return Err(self.unsupported("a look-behind"));
                }
                Some('<') => {
                    // A named group: the name matters only to back-references.
                    self.at += 1;
                    while let Some(c) = self.peek() {
                        self.at += 1;
                        if c == '>' {
                            break;
                        }
                        if !(c.is_alphanumeric() || c == '_' || c == '$') {
                            return Err(self.error("invalid group name"));
                        }
                    }
                    self.groups += 1;
                }
                _ => return Err(self.error("invalid group")),
            }
        } else {
            self.groups += 1;
        }
        self.out.push_str("(?:");
        self.disjunction()?;
        if !self.eat(')') {
            return Err(self.error("unclosed group"));
        }
        self.out.push(')');
        Ok(())
    }

    /// Whether a quantifier starts here: `*`, `+`, `?` or a well-formed `{n}`, `{n,}`, `{n,m}`.
    fn quantifier_ahead(&self) -> bool {
        match self.peek() {
            Some('*' | '+' | '?') => true,
            Some('{') => self.braces().is_some(),
            _ => false,
        }
    }

    /// The bounds of a `{n}`, `{n,}` or `{n,m}` here, and its length in characters.
    fn braces(&self) -> Option<(u64, Option<u64>, usize)> {
        let mut i = self.at + 1;
        let number = |i: &mut usize| -> Option<u64> {
            let start = *i;
            while self.chars.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            (*i > start).then(|| {
                self.chars[start..*i]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .unwrap_or(u64::MAX)
            })
        };
        let min = number(&mut i)?;
        let max = if self.chars.get(i) == Some(&',') {
            i += 1;
            if self.chars.get(i) == Some(&'}') {
                None
            } else {
                Some(number(&mut i)?)
            }
        } else {
            Some(min)
        };
        (self.chars.get(i) == Some(&'}')).then_some((min, max, i + 1 - self.at))
    }

    fn quantifier(&mut self) -> Result<(), PatternError> {
        match self.peek() {
            Some(c @ ('*' | '+' | '?')) => {
                self.at += 1;
                self.out.push(c);
            }
            _ => {
                let (min, max, len) = self.braces().expect("checked by quantifier_ahead");
                if max.is_some_and(|max| max < min) {
                    return Err(self.error("numbers out of order in a `{}` quantifier"));
                }
                self.at += len;
                match max {
                    Some(max) if max == min => {
                        let _ = write!(self.out, "{{{min}}}");
                    }
                    Some(max) => {
                        let _ = write!(self.out, "{{{min},{max}}}");
                    }
                    None => {
                        let _ = write!(self.out, "{{{min},}}");
                    }
                }
            }
        }
        if self.eat('?') {
            self.out.push('?');
        }
        Ok(())
    }

    /// After a `\` outside a class; whether a quantifier may follow.
    fn atom_escape(&mut self) -> Result<bool, PatternError> {
        match self.peek() {
            None => Err(self.error("`\\` at the end of the pattern")),
            Some('b') => {
                self.at += 1;
                self.out.push_str(r"\b");
                Ok(false)
            }
            Some('B') => {
                self.at += 1;
                self.out.push_str(r"\B");
                Ok(false)
            }
            Some('1'..='9') => Err(self.unsupported("a back-reference")),
            Some('k') if self.peek_at(1) == Some('<') => {
                Err(self.unsupported("a named back-reference"))
            }
            _ => {
                match self.class_escape()? {
                    ClassAtom::Char(c) => write_char(&mut self.out, c),
                    ClassAtom::Set(set) => set.write(&mut self.out),
                }
                Ok(true)
            }
        }
    }

    /// After a `\`: a character escape or a class escape (`\d`, `\s`, `\w` and their negations).
    fn class_escape(&mut self) -> Result<ClassAtom, PatternError> {
        let Some(c) = self.peek() else {
            return Err(self.error("`\\` at the end of the pattern"));
        };
        self.at += 1;
        let set = |ranges: &[(u32, u32)], negate: bool| {
            let set = CharSet::of(ranges);
            Ok(ClassAtom::Set(if negate { set.negated() } else { set }))
        };
        let char = |c: u32| Ok(ClassAtom::Char(c));
        match c {
            'd' | 'D' => set(DIGITS, c == 'D'),
            's' | 'S' => set(WHITE_SPACE, c == 'S'),
            'w' | 'W' => set(WORD, c == 'W'),
            'p' | 'P' => Err(self.unsupported("a Unicode property class")),
            'f' => char(0x0C),
            'n' => char(0x0A),
            'r' => char(0x0D),
            't' => char(0x09),
            'v' => char(0x0B),
            '0' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => char(0),
            '0'..='9' => Err(self.unsupported("an octal escape or back-reference")),
            'c' => match self.peek() {
                Some(letter) if letter.is_ascii_alphabetic() => {
                    self.at += 1;
                    char(letter as u32 % 32)
                }
                _ => Err(self.error("`\\c` without a control letter")),
            },
            'x' => {
                let value = self
                    .hex_digits(2)
                    .ok_or_else(|| self.error("invalid `\\x` escape"))?;
                char(value)
            }
            'u' => self.unicode_escape().map(ClassAtom::Char),
            other => char(other as u32),
        }
    }

    /// After `\u`: `{hex}`, or four hex digits (a surrogate pair written as two escapes is one
    /// code point).
    fn unicode_escape(&mut self) -> Result<u32, PatternError> {
        if self.eat('{') {
            let start = self.at;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.at += 1;
            }
            let digits: String = self.chars[start..self.at].iter().collect();
            let value = u32::from_str_radix(&digits, 16).ok();
            if !self.eat('}') || value.is_none_or(|v| v > MAX_CHAR) {
                return Err(self.error("invalid `\\u{}` escape"));
            }
            return self.scalar(value.unwrap_or_default());
        }
        let high = self
            .hex_digits(4)
            .ok_or_else(|| self.error("invalid `\\u` escape"))?;
        if (0xD800..0xDC00).contains(&high)
            && self.peek() == Some('\\')
            && self.peek_at(1) == Some('u')
        {
            let back = self.at;
            self.at += 2;
            match self.hex_digits(4) {
                Some(low) if (0xDC00..0xE000).contains(&low) => {
                    return Ok(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
                }
                _ => self.at = back,
            }
        }
        self.scalar(high)
    }

    fn scalar(&self, value: u32) -> Result<u32, PatternError> {
        if (0xD800..0xE000).contains(&value) {
            // No text the server receives holds a lone surrogate.
            return Err(self.unsupported("a lone surrogate"));
        }
        Ok(value)
    }

    fn hex_digits(&mut self, count: usize) -> Option<u32> {
        let digits: String = self.chars.get(self.at..self.at + count)?.iter().collect();
        if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.at += count;
        u32::from_str_radix(&digits, 16).ok()
    }

    /// After `[`: the class, written as one set of ranges.
    fn class(&mut self) -> Result<(), PatternError> {
        let negate = self.eat('^');
        let mut set = CharSet::default();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("unclosed character class"));
            };
            if c == ']' {
                self.at += 1;
                break;
            }
            let first = self.class_atom()?;
            let range_follows =
                self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c != ']');
            match first {
                ClassAtom::Char(lo) if range_follows => {
                    self.at += 1;
                    match self.class_atom()? {
                        ClassAtom::Char(hi) if hi >= lo => set.add(lo, hi),
                        ClassAtom::Char(_) => {
                            return Err(self.error("range out of order in character class"));
                        }
                        ClassAtom::Set(other) => {
                            // `[a-\d]`: Annex B reads the `-` as a literal.
                            set.add(lo, lo);
                            set.add('-' as u32, '-' as u32);
                            set.add_set(&other);
                        }
                    }
                }
                ClassAtom::Char(c) => set.add(c, c),
                ClassAtom::Set(other) => {
                    set.add_set(&other);
                    if range_follows {
                        // `[\d-z]`: the `-` is a literal (Annex B).
                        self.at += 1;
                        set.add('-' as u32, '-' as u32);
                    }
                }
            }
        }
        if negate {
            set = set.negated();
        }
        set.write(&mut self.out);
        Ok(())
    }

    fn class_atom(&mut self) -> Result<ClassAtom, PatternError> {
        let c = self
            .peek()
            .ok_or_else(|| self.error("unclosed character class"))?;
        self.at += 1;
        if c != '\\' {
            return Ok(ClassAtom::Char(c as u32));
        }
        match self.peek() {
            // In a class, `\b` is a backspace and `\-` a dash.
            Some('b') => {
                self.at += 1;
                Ok(ClassAtom::Char(0x08))
            }
            Some('-') => {
                self.at += 1;
                Ok(ClassAtom::Char('-' as u32))
            }
            _ => self.class_escape(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        compile(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(text)
    }

    #[test]
    fn common_schema_patterns_mean_what_they_mean_in_ecma_262() {
        let cases: &[(&str, &str, bool)] = &[
            ("^[a-zA-Z0-9_-]+$", "abc_DEF-9", true),
            ("^[a-zA-Z0-9_-]+$", "abc def", false),
            (r"^\d{3}-\d{4}$", "555-1234", true),
            (r"^\d{3}-\d{4}$", "555-12345", false),
            // Unanchored: a match anywhere counts.
            ("b", "abc", true),
            // `\d` and `\w` are ASCII only.
            (r"^\d$", "٣", false),
            (r"^\w+$", "héllo", false),
            // `\s` is ECMA's white space, Unicode's included.
            (r"^\s$", "\u{00A0}", true),
            (r"^\S$", "\u{3000}", false),
            // `.` stops at every line terminator, not only `\n`.
            ("^.$", "\r", false),
            ("^.$", "\u{2028}", false),
            ("^.$", "é", true),
            ("^.$", "😀", true),
            // `$` is the end of the text: no trailing newline slips through.
            ("^a$", "a\n", false),
            // Identity escapes of punctuation are literals.
            (r"^\/\-\:\#$", "/-:#", true),
            (r"^\{a\}$", "{a}", true),
            ("^a{2}$", "aa", true),
            ("^a{2,}$", "aaaa", true),
            ("^a{1,2}$", "aaa", false),
            // Classes: `[` and `&&` inside are literals, `\b` a backspace, `]` first is not empty.
            ("^[[]$", "[", true),
            ("^[a&&b]+$", "a&&b", true),
            (r"^[\b]$", "\u{8}", true),
            (r"^[\d-z]+$", "1-z", true),
            (r"^[^\d\s]+$", "ab", true),
            (r"^[^\d\s]+$", "a b", false),
            (r"^[\D]$", "a", true),
            (r"^[\W\d]$", "5", true),
            (r"^[\W\d]$", "a", false),
            // `[]` matches nothing and `[^]` anything.
            ("a[]", "a", false),
            ("^[^]$", "\n", true),
            // Escapes of code points.
            (r"^\x41\u0042\u{43}$", "ABC", true),
            (r"^\uD83D\uDE00$", "😀", true),
            (r"^\cJ$", "\n", true),
            (r"^\0$", "\0", true),
            // Groups, named ones included, alternation and lazy quantifiers.
            ("^(?:ab|cd)+?$", "abcd", true),
            ("^(?<year>[0-9]{4})-(x|y)$", "2024-y", true),
            // Non-ASCII literals.
            ("^é+$", "éé", true),
            ("^[à-ÿ]+$", "éü", true),
        ];
        for &(pattern, text, expected) in cases {
            assert_eq!(matches(pattern, text), expected, "{pattern} on {text:?}");
        }
    }

    #[test]
    fn what_needs_backtracking_or_unicode_tables_is_refused_by_name() {
        for (pattern, what) in [
            ("^(?=.*[A-Z]).{8,}$", "look-ahead"),
            ("(?!x)", "look-ahead"),
            ("(?<=a)b", "look-behind"),
            ("(?<!a)b", "look-behind"),
            (r"(a)\1", "back-reference"),
            (r"(?<n>a)\k<n>", "named back-reference"),
            (r"\p{L}", "Unicode property class"),
            (r"[\P{L}]", "Unicode property class"),
            (r"\uD800", "lone surrogate"),
        ] {
            let error = compile(pattern).unwrap_err().to_string();
            assert!(error.contains(what), "{pattern}: {error}");
            assert!(error.contains("linear-time"), "{pattern}: {error}");
        }
    }

    #[test]
    fn patterns_ecma_262_refuses_are_refused() {
        for pattern in [
            "*a",
            "a**",
            "a{2,1}",
            "(a",
            "a)",
            "[a",
            "[z-a]",
            "\\",
            r"\c1",
            r"\x4",
            r"\u{110000}",
            "^*",
            "(?x)",
        ] {
            assert!(compile(pattern).is_err(), "{pattern} was accepted");
        }
    }

    /// Pieces of pattern syntax, well-formed or not, for the property test below.
    const PIECES: &[&str] = &[
        "a",
        "é",
        "0",
        "-",
        ",",
        "^",
        "$",
        ".",
        "|",
        "*",
        "+",
        "?",
        "{2}",
        "{1,3}",
        "{2,}",
        "{3,1}",
        "{",
        "}",
        "[",
        "]",
        "[^",
        "(",
        ")",
        "(?:",
        "(?<n>",
        "(?=",
        "(?!",
        "(?<=",
        "(?x)",
        r"\d",
        r"\D",
        r"\s",
        r"\W",
        r"\b",
        r"\B",
        r"\c",
        r"\cA",
        r"\x4",
        r"\x41",
        r"\u00e9",
        r"\u{1F600}",
        r"\u{110000}",
        r"\uD83D",
        r"\uDE00",
        r"\p{L}",
        r"\1",
        r"\k<n>",
        r"\0",
        r"\/",
        r"\-",
        r"\",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2000,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Any sequence of pattern pieces compiles or is refused, never panics (the generator
        /// reads patterns from the documents it is given), and what compiles can be matched.
        #[test]
        fn any_pattern_compiles_or_is_refused(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..14),
            text in "[a-c0-9{}é-]{0,8}",
        ) {
            if let Ok(regex) = compile(&pieces.concat()) {
                let _ = regex.is_match(&text);
            }
        }
    }

    #[test]
    fn huge_repetitions_are_refused_not_built() {
        let error = compile("(a{1000}){1000}").unwrap_err().to_string();
        assert!(error.contains("too large"), "{error}");
        let long = "a".repeat(MAX_PATTERN_CHARS + 1);
        assert!(
            compile(&long)
                .unwrap_err()
                .to_string()
                .contains("longer than")
        );
    }
}
