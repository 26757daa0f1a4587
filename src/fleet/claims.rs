//! What a sensor says in its events, checked by the controller before it stores them.
//! Times: an event must fall between eight days before the controller's clock (a
//! sensor's spool bridges outages) and five minutes after it; one outside is kept,
//! with its claim in `claimed_time` and its `time` moved to the nearest edge, so a
//! forged date cannot hide an incident in the past or hold one open in the future.
//! Token hits: the controller's own matcher looks at the event's material; where it
//! finds a token its hit stands (with the controller's labels and plants). Where the
//! sensor had already removed the secret (as it must once it recognised a token), the
//! digest it reports with the hit must be one the controller derived for that sensor
//! and token: then the controller's full hit replaces the sensor's (a sensor knows only
//! token ids); otherwise the sensor's hit is kept and marked `claimed_by_sensor`.

use crate::event::{Event, Timestamp};
use crate::token::{material_of, Matcher, SensorDigests};

/// How far ahead of the controller's clock an event may be.
pub const FUTURE_SKEW_US: i64 = 5 * 60 * 1_000_000;
/// How old an event may be (a week of outage, as NATS keeps, and a day more).
pub const PAST_WINDOW_US: i64 = 8 * 86_400 * 1_000_000;

/// What the checks changed in a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// Events whose time was outside the window.
    pub clamped: usize,
    /// Token hits the controller found itself.
    pub found: usize,
    /// Token hits the sensor reported with a digest it was given for that token.
    pub vouched: usize,
    /// Token hits kept on the sensor's word.
    pub claimed: usize,
}

/// Moves `e`'s time into the window around `now`, keeping the claim; true if it moved.
pub fn clamp_time(e: &mut Event, now: Timestamp) -> bool {
    let (t, now) = (e.time.as_micros(), now.as_micros());
    let (earliest, latest) = (now.saturating_sub(PAST_WINDOW_US), now.saturating_add(FUTURE_SKEW_US));
    if (earliest..=latest).contains(&t) {
        return false;
    }
    e.claimed_time = Some(e.time);
    e.time = Timestamp::from_micros(t.clamp(earliest, latest));
    true
}

/// Checks every event of `sensor`'s batch.
pub fn check(events: &mut [Event], now: Timestamp, matcher: &Matcher, sensor: &str) -> Checked {
    let mut c = Checked::default();
    // Derived once per batch, and only for a batch that reports a hit.
    let mut digests: Option<SensorDigests> = None;
    for e in events {
        c.clamped += usize::from(clamp_time(e, now));
        let own = material_of(&e.kind).into_iter().find_map(|(kind, value)| matcher.lookup(kind, value));
        match (own, e.token.take()) {
            (Some(hit), _) => {
                e.token = Some(hit);
                e.kind.redact_token_secret();
                c.found += 1;
            }
            (None, Some(mut claimed)) => {
                let digests = digests.get_or_insert_with(|| matcher.sensor_digests(sensor));
                match claimed.digest.as_deref().and_then(|d| digests.hit(d)).filter(|hit| hit.id == claimed.id) {
                    Some(hit) => {
                        e.token = Some(hit);
                        c.vouched += 1;
                    }
                    None => {
                        claimed.claimed_by_sensor = true;
                        claimed.digest = None;
                        e.token = Some(claimed);
                        c.claimed += 1;
                    }
                }
            }
            (None, None) => {}
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AttackerBytes, EventId, EventKind, SshAuthMethod, TokenHit, TokenKind, TokenState};
    use crate::token::{create_token, CreateOptions, Registry};

    fn auth(password: &str, time: Timestamp) -> Event {
        Event {
            id: EventId::new(),
            time,
            sensor: "ward-7".into(),
            decoy: Some("ssh".into()),
            source: Some("203.0.113.9:40000".parse().unwrap()),
            destination: None,
            session: None,
            kind: EventKind::SshAuth {
                method: SshAuthMethod::Password,
                username: AttackerBytes::new("svc_ris"),
                password: Some(AttackerBytes::new(password)),
                key_fingerprint: None,
                key_algorithm: None,
                accepted: false,
                methods_tried: None,
            },
            token: None,
            claimed_time: None,
        }
    }

    #[test]
    fn table_of_times_a_sensor_may_claim() {
        let now = Timestamp::from_micros(1_795_883_913_000_000);
        let at = |offset_us: i64| Timestamp::from_micros(now.as_micros() + offset_us);
        for (claimed, kept, moved) in [
            (at(0), at(0), false),
            (at(-PAST_WINDOW_US), at(-PAST_WINDOW_US), false),
            (at(FUTURE_SKEW_US), at(FUTURE_SKEW_US), false),
            (at(FUTURE_SKEW_US + 1), at(FUTURE_SKEW_US), true),
            (at(365 * 86_400_000_000), at(FUTURE_SKEW_US), true),
            (Timestamp::from_micros(0), at(-PAST_WINDOW_US), true),
            (Timestamp::from_micros(i64::MIN), at(-PAST_WINDOW_US), true),
        ] {
            let mut e = auth("x", claimed);
            assert_eq!(clamp_time(&mut e, now), moved, "{claimed:?}");
            assert_eq!(e.time, kept);
            assert_eq!(e.claimed_time, moved.then_some(claimed));
        }
    }

    #[test]
    fn a_forged_token_hit_is_marked_and_a_planted_password_is_recognised_by_the_controller() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Registry::open(&dir.path().join("t.db"), &dir.path().join("state"), crate::config::StoreSync::Normal).unwrap();
        let planted = create_token(&CreateOptions::new(TokenKind::SshPassword, "backup svc")).unwrap();
        reg.insert(&[&planted]).unwrap();
        let matcher = Matcher::load(&reg).unwrap();
        let password = planted.secrets.password.as_ref().unwrap().expose().to_string();
        let now = Timestamp::now();

        // The sensor did not know the token: the controller recognises it and removes the secret.
        let mut recognised = auth(&password, now);
        // The sensor claims a hit on material it has removed: nothing to check it with.
        let mut forged = auth("[redacted]", now);
        forged.token = Some(TokenHit {
            id: "tok-forged".into(),
            kind: TokenKind::SshPassword,
            label: "domain admin".into(),
            state: TokenState::Active,
            plants: vec![],
            claimed_by_sensor: false,
            digest: Some(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32])),
        });
        let mut plain = auth("hunter2", now);
        let mut batch = vec![recognised.clone(), forged.clone(), plain.clone()];
        let c = check(&mut batch, now, &matcher, "ward-7");
        assert_eq!(c, Checked { clamped: 0, found: 1, vouched: 0, claimed: 1 });
        [recognised, forged, plain] = [batch[0].clone(), batch[1].clone(), batch[2].clone()];
        assert_eq!(recognised.token.as_ref().map(|t| (t.id.as_str(), t.claimed_by_sensor)), Some((planted.token.id.as_str(), false)));
        assert!(!serde_json::to_string(&recognised).unwrap().contains(&password), "the secret is gone");
        assert_eq!(forged.token.as_ref().map(|t| (t.id.as_str(), t.claimed_by_sensor)), Some(("tok-forged", true)));
        assert!(serde_json::to_string(&forged).unwrap().contains("\"claimed_by_sensor\":true"));
        assert!(plain.token.is_none());
    }
}
