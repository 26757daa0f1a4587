//! A client KEXINIT must parse or fail, and negotiate against every personality, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| honeyward::fuzzing::ssh_kexinit(data));
