//! Every key exchange method's server side must answer or refuse any client message without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| honeyward::fuzzing::ssh_kex_reply(data));
