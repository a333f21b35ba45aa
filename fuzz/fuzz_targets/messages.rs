//! libFuzzer entry for the `messages` harness (src/fuzz).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pretrain_playground::fuzz::run_target("messages", data);
});
