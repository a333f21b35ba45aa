//! libFuzzer entry for the `saved_run` harness (src/fuzz).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pretrain_playground::fuzz::run_target("saved_run", data);
});
