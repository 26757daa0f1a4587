#![no_main]
//! Fuzz target: honeyward::fuzzing::fhir_search must never panic on any input.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| honeyward::fuzzing::fhir_search(data));
