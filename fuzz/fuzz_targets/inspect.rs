//! Any bytes must give a fingerprint or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(fp) = repro_diff::inspect(data, &[]) {
        let _ = repro_diff::fingerprint_text(&fp);
    }
});
