//! The SSH client identification line and KEXINIT parser must never panic, and a
//! parse must describe bytes that were actually there.
#![no_main]

use honeyward::decoy::ssh::client_hello;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(hello) = client_hello::parse(data) {
        assert!(hello.version.starts_with(b"SSH-"));
        assert_eq!(hello.hassh.len(), 32);
        assert_eq!(hello.algorithms.iter().filter(|&&b| b == b';').count() >= 3, true);
    }
});
