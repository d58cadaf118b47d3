//! Input: one split byte, then two modules back to back (the split byte says where B starts, as
//! a fraction of the rest). Any input must give a report or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = rest.len() * usize::from(split) / 256;
    let (a, b) = rest.split_at(at);
    let options = repro_diff::DiffOptions::default();
    if let Ok(report) = repro_diff::diff(a, b, &options) {
        let _ = repro_diff::diff_text(&report);
    }
    let _ = repro_diff::diff(a, a, &options);
});
