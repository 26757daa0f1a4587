//! Attacker bytes survive the JSON round trip exactly and never break a line.
#![no_main]

use honeyward::event::AttackerBytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let json = serde_json::to_string(&AttackerBytes::new(data)).expect("encode");
    assert!(!json.contains('\n'));
    let back: AttackerBytes = serde_json::from_str(&json).expect("decode");
    assert_eq!(back.as_bytes(), data);
});
