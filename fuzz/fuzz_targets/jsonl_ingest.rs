#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| segq_fuzz::jsonl_ingest(data));
