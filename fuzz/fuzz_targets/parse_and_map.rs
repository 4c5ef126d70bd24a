//! Arbitrary bytes as an API document, through the whole generator.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The settings follow the length, so that every mutation may try other ones.
    let settings = mcpgen_fuzz::settings_for(data.len() as u8);
    mcpgen_fuzz::run_document(data, mcpgen_fuzz::extension_for(data), &settings);
});
