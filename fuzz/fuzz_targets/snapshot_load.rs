#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| segq_fuzz::snapshot_load(data));
