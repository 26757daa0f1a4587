//! Which events a sink forwards: its filter, and in incidents-only mode (chat
//! webhooks) the first event of each incident that passes the filter — and the first
//! critical one of an incident announced before it became critical, so a token used
//! later in an intrusion is never silent.

use std::collections::HashMap;

use super::format::Announcement;
use crate::config::{SinkConfig, SinkFilter};
use crate::event::{Audience, Severity};
use crate::incident::{Grouper, IncidentConfig};
use crate::store::StoredEvent;

/// Incidents remembered as announced (older ones are forgotten).
const ANNOUNCED_CAP: usize = 200_000;

/// A sink's choice of events; follows the stream in commit order.
#[derive(Debug, Clone)]
pub struct Selection {
    filter: SinkFilter,
    /// The grouper, and the incidents announced (whether as critical).
    incidents: Option<(Grouper, HashMap<usize, bool>)>,
}

/// What a sink does with one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Skip,
    /// Send the event itself.
    Send,
    /// Send it as the announcement of its incident (incidents-only mode).
    Announce(Announcement),
}

impl Selection {
    pub fn new(config: &SinkConfig, incidents: &IncidentConfig) -> Self {
        Selection { filter: config.filter().clone(), incidents: config.incidents_only().then(|| (Grouper::untracked(incidents), HashMap::new())) }
    }

    /// True in incidents-only mode (the selection then depends on earlier events).
    pub fn follows_incidents(&self) -> bool {
        self.incidents.is_some()
    }

    /// Whether the sink forwards `e`; every event must be shown, in order.
    pub fn pass(&mut self, e: &StoredEvent) -> bool {
        self.pick(e) != Pick::Skip
    }

    /// Like [`pass`](Self::pass), with the announcement in incidents-only mode.
    pub fn pick(&mut self, e: &StoredEvent) -> Pick {
        let Some((grouper, announced)) = self.incidents.as_mut() else {
            return if self.filter.accepts(&e.event) { Pick::Send } else { Pick::Skip };
        };
        let placed = grouper.place(e);
        if placed.suppressed || !self.filter.accepts(&e.event) {
            return Pick::Skip;
        }
        let critical = e.event.severity() == Severity::Critical;
        let escalation = match announced.get(&placed.incident) {
            Some(&was_critical) if was_critical || !critical => return Pick::Skip,
            Some(_) => true,
            None => false,
        };
        if announced.len() >= ANNOUNCED_CAP {
            let oldest = placed.incident.saturating_sub(ANNOUNCED_CAP / 2);
            announced.retain(|&i, _| i >= oldest);
        }
        announced.insert(placed.incident, critical);
        let source = e.event.source.map_or_else(|| "local".to_string(), |s| s.ip().to_string());
        let story = grouper.story_of(e).cloned().unwrap_or_default();
        Pick::Announce(Announcement { incident: placed.id, title: story.title(Audience::Team), summary: story.summary(&source, Audience::Team), escalation })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(min_severity: &str) -> Selection {
        let yaml = format!("sinks:\n  - name: teams\n    type: webhook\n    format: teams\n    url: https://contoso.webhook.office.com/webhookb2/x\n    filter: {{min_severity: {min_severity}}}\n");
        let c = crate::config::parse_str("t.yaml", &yaml).expect("config");
        Selection::new(&c.sinks[0], &IncidentConfig::default())
    }

    fn auth(seq: u64, token: bool) -> StoredEvent {
        let mut event = crate::incident::fixtures::ssh_auth("203.0.113.9", seq as i64);
        if token {
            event.token = Some(crate::event::hit_fixture("tok-1", crate::event::TokenKind::SshPassword, "backup svc"));
        }
        StoredEvent { seq, event }
    }

    #[test]
    fn an_incident_is_announced_once_and_once_more_when_a_token_makes_it_critical() {
        let mut s = chat("medium");
        let picks: Vec<Pick> = [auth(1, false), auth(2, false), auth(3, true), auth(4, true), auth(5, false)].iter().map(|e| s.pick(e)).collect();
        let Pick::Announce(first) = &picks[0] else { panic!("{picks:?}") };
        assert!(!first.escalation && first.title == "SSH password guessing on ssh" && first.summary.contains("guessed 1 SSH password"), "{first:?}");
        assert_eq!(picks[1], Pick::Skip);
        let Pick::Announce(critical) = &picks[2] else { panic!("{picks:?}") };
        assert!(critical.escalation && critical.incident == first.incident && critical.title == "Planted SSH password used: backup svc", "{critical:?}");
        assert_eq!((&picks[3], &picks[4]), (&Pick::Skip, &Pick::Skip), "nothing after that is news");

        // A sink that hears only of high and critical gets one message, at the hit.
        let mut s = chat("high");
        let picks: Vec<Pick> = [auth(1, false), auth(2, true), auth(3, true)].iter().map(|e| s.pick(e)).collect();
        assert!(matches!(&picks[1], Pick::Announce(a) if !a.escalation && a.summary.contains("guessed 2 SSH passwords")), "{picks:?}");
        assert_eq!((&picks[0], &picks[2]), (&Pick::Skip, &Pick::Skip));
    }
}
