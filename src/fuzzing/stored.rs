//! Fuzz entry points for what the store and the controller read back: an event's JSON
//! (a sensor sends it; every stored body is read with it).

use crate::event::Event;

/// The event reader: never panics, and an event it reads writes back to text that
/// reads as the same event.
pub fn event_json(bytes: &[u8]) {
    if let Ok(event) = serde_json::from_slice::<Event>(bytes) {
        let text = serde_json::to_string(&event).expect("an event read is written");
        let again: Event = serde_json::from_str(&text).expect("what was written reads back");
        assert_eq!(again, event, "{text}");
    }
}
