//! The SSH packet decoder (plain and keyed, every cipher and MAC) and the identification-line rules must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| honeyward::fuzzing::ssh_packet(data));
