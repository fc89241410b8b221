//! libFuzzer target: see `securitybot_fuzz::redaction` for what it checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| securitybot_fuzz::redaction(data));
