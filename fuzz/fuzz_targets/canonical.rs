//! libFuzzer target: see `securitybot_fuzz::canonical` for what it checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| securitybot_fuzz::canonical(data));
