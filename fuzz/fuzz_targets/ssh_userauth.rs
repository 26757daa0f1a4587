//! USERAUTH_REQUEST parsing, both families' judgement and the public-key checks must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| honeyward::fuzzing::ssh_userauth(data));
