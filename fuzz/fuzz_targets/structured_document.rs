//! OpenAPI-shaped documents built from the fuzzer's bytes, through the whole generator.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let generated = mcpgen_fuzz::document::generate(data);
    // To turn a finding into a test document, run its input with this set to a file name.
    if let Some(path) = std::env::var_os("MCPGEN_FUZZ_DUMP") {
        std::fs::write(path, &generated.text).expect("the dump file is writable");
    }
    let settings = mcpgen_fuzz::settings_for(generated.variant);
    mcpgen_fuzz::run_document(&generated.text, generated.extension, &settings);
});
