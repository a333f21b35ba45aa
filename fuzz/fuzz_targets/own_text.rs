//! libFuzzer entry for the `own_text` harness (src/fuzz).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pretrain_playground::fuzz::run_target("own_text", data);
});
