#![no_main]
//! Fuzz target: honeyward::fuzzing::event_json (the one-pass event reader) must never
//! panic, and what it reads must write back and read as the same event.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| honeyward::fuzzing::event_json(data));
