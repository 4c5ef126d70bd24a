//! Shared pieces of the fuzz targets: running a document through the generator, and building
//! OpenAPI-shaped JSON from fuzzer bytes.

pub mod document;
pub mod refs;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mcpgen_codegen::Mode;
use mcpgen_codegen::{Settings, map_document, render_crate};

/// Files that documents may reference by relative path (the `multi` fixture's companions), so
/// that the bundler has something to read.
const COMPANIONS: &[(&str, &str)] = &[
    (
        "parameters.yaml",
        include_str!("../../codegen/tests/fixtures/multi/parameters.yaml"),
    ),
    (
        "schemas/pet.yaml",
        include_str!("../../codegen/tests/fixtures/multi/schemas/pet.yaml"),
    ),
    (
        "schemas/tag.yaml",
        include_str!("../../codegen/tests/fixtures/multi/schemas/tag.yaml"),
    ),
    (
        "paths/items.yaml",
        include_str!("../../codegen/tests/fixtures/multi/paths/items.yaml"),
    ),
    (
        "common.json",
        r##"{"components": {"schemas": {"X": {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/Y"}}}, "Y": {"type": "array", "items": {"$ref": "#/components/schemas/X"}}, "Z": {"$ref": "openapi.yaml#/components/schemas/A"}}}, "param": {"name": "q", "in": "query", "schema": {"type": "string"}}, "loop": {"$ref": "#/loop"}}"##,
    ),
];

/// A private folder holding the companion files; documents are written next to them.
fn workdir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mcpgen-fuzz-{}", std::process::id()));
        for (name, text) in COMPANIONS {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("companions have a parent"))
                .expect("temporary folder is writable");
            std::fs::write(&path, text).expect("temporary folder is writable");
        }
        dir
    })
}

/// Makes a stack overflow a reported crash. libFuzzer's `main` is not Rust's, so the handler
/// that turns an overflow into an abort is never installed, and libFuzzer's own SIGSEGV handler
/// cannot run on the exhausted stack: the process would die without saving the input. This
/// handler runs on a stack of its own and aborts, which libFuzzer reports with the input.
pub fn catch_stack_overflow() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        const SIZE: usize = 1 << 20;
        let stack = Box::leak(vec![0u8; SIZE].into_boxed_slice());
        // SAFETY: the alternate stack is leaked, so it lives as long as the process; the
        // handler only writes to stderr and aborts, both async-signal-safe.
        unsafe {
            let alt = libc::stack_t {
                ss_sp: stack.as_mut_ptr().cast(),
                ss_flags: 0,
                ss_size: SIZE,
            };
            assert_eq!(libc::sigaltstack(&alt, std::ptr::null_mut()), 0);
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_segv as *const () as usize;
            action.sa_flags = libc::SA_ONSTACK | libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            for signal in [libc::SIGSEGV, libc::SIGBUS] {
                assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
            }
        }
    });
}

extern "C" fn on_segv(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    const MESSAGE: &[u8] =
        b"\nSIGSEGV in the fuzz target: a stack overflow (safe Rust has no other)\n";
    // SAFETY: write(2) and abort(3) may be called from a signal handler.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::abort();
    }
}

/// Writes `text` as `openapi.<extension>` and runs the whole generator on it: reading,
/// upgrading, bundling, mapping, rendering the crate. A panic anywhere is a finding; errors
/// are the expected answer to most inputs. Returns whether the document mapped.
pub fn run_document(text: &[u8], extension: &str, settings: &Settings) -> bool {
    catch_stack_overflow();
    let path = workdir().join(format!("openapi.{extension}"));
    std::fs::write(&path, text).expect("temporary folder is writable");
    let Ok(mapped) = map_document(&path, settings) else {
        return false;
    };
    check_mapped(&mapped);
    // `generate_crate` is `map_document` followed by this; calling it on the result already
    // at hand avoids mapping every input twice.
    if let Err(e) = render_crate(&mapped, settings) {
        panic!("a mapped document failed to render: {e}");
    }
    true
}

/// Generator settings picked by `variant`: the defaults half of the time, otherwise the lossy
/// compaction steps, the search modes, or skipping broken operations without the embedded
/// document.
pub fn settings_for(variant: u8) -> Settings {
    let settings = Settings::new();
    match variant % 8 {
        0 => settings.inline_refs(true),
        1 => settings.mode(Mode::Search),
        2 => settings.mode(Mode::Mixed).max_description_chars(20),
        3 => settings
            .skip_broken(true)
            .no_output_schemas(true)
            .embed_openapi(false),
        _ => settings,
    }
}

/// Properties every mapped document has, whatever its text.
fn check_mapped(mapped: &mcpgen_codegen::Mapped) {
    let mut names = std::collections::HashSet::new();
    for tool in &mapped.api.tools {
        let name = tool.name.as_str();
        assert!(
            !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)),
            "invalid tool name {name:?}"
        );
        assert!(names.insert(name), "duplicate tool name {name:?}");
        assert_eq!(
            tool.input_schema.get("type").and_then(|t| t.as_str()),
            Some("object"),
            "input schema of {name} is not an object schema"
        );
        // The generated server compiles this schema on the tool's first call.
        let _ = mcpgen::validate::ArgumentValidator::new(&tool.input_schema);
    }
}

/// Chooses the file extension for raw bytes by their first byte: `.json` (JSON parser only)
/// when it opens a JSON object or array, `.yaml` otherwise, where text that looks like JSON
/// after leading whitespace is still tried as JSON first, then as YAML.
pub fn extension_for(bytes: &[u8]) -> &'static str {
    match bytes.first() {
        Some(b'{' | b'[') => "json",
        _ => "yaml",
    }
}
