//! Chat messages announcing an incident: Slack (Block Kit) and Microsoft Teams (an
//! Adaptive Card). One message when an incident first passes the sink's filter, with
//! its title and summary so far and the event that announced it; one more if it later
//! becomes critical (a planted token used).
//!
//! Attacker text never reaches a markup parser raw. Slack: it goes only into
//! `plain_text` objects (no mrkdwn, no mentions), with `&`, `<` and `>` escaped as
//! Slack requires. Teams: TextBlock/FactSet text is Markdown, so every Markdown
//! punctuation character is backslash-escaped and `<`, `>`, `&` become entities. In
//! both, control and bidi characters are shown as visible escapes and values are cut.

use serde_json::{json, Value};

use super::fields::{fields, visible};
use super::Announcement;
pub use crate::config::ChatFormat;
use crate::store::StoredEvent;

/// Longest attacker value shown in a chat message, in characters.
const SHOWN_CHARS: usize = 200;
/// Detail fields shown (the full event is in the SIEM and `honeyward incidents show`).
const SHOWN_FIELDS: usize = 8;

/// Fields already in the headline, not repeated as details.
const HEADLINE: &[&str] =
    &["id", "kind", "sensor", "decoy", "src", "spt", "dst", "dpt", "session", "severity", "technique", "token_id", "token_label", "token_kind", "token_plant"];

/// Slack's three escapes for text it parses.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Markdown made literal for Teams: punctuation backslash-escaped, `<>&` as entities.
pub fn teams_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.' | '!' | '|' | '~' | '"' | '\'' | '=' | ':' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn cut(text: &str) -> String {
    let shown = visible(text);
    if shown.chars().count() <= SHOWN_CHARS {
        return shown;
    }
    let mut s: String = shown.chars().take(SHOWN_CHARS).collect();
    s.push('…');
    s
}

/// What a message says, before any markup.
struct Summary {
    title: String,
    facts: Vec<(String, String)>,
}

/// Longest summary shown, in characters.
const SUMMARY_CHARS: usize = 1000;

fn summary(stored: &StoredEvent, announced: &Announcement) -> Summary {
    let e = &stored.event;
    let incident = announced.incident;
    let source = e.source.map(|s| s.ip().to_string()).unwrap_or_else(|| "local".into());
    let decoy = e.decoy.as_deref().unwrap_or("sensor");
    let title = match &e.token {
        _ if !announced.title.is_empty() => {
            format!("{}{} from {source} at {}", if announced.escalation { "Now critical: " } else { "" }, cut(&announced.title), e.sensor)
        }
        Some(hit) => format!("Token hit: {} ({}) used from {source} on {decoy}@{}", cut(&hit.label), hit.kind.as_str(), e.sensor),
        None => format!("New incident: {} from {source} on {decoy}@{}", e.kind.name(), e.sensor),
    };
    let mut facts = Vec::new();
    if !announced.summary.is_empty() {
        facts.push(("Summary".to_string(), crate::event::visible_capped(&announced.summary, SUMMARY_CHARS).into_owned()));
    }
    facts.extend([("Severity".to_string(), format!("{:?}", e.severity()).to_lowercase()), ("Incident".to_string(), incident.to_string())]);
    if let Some(t) = e.technique() {
        facts.push(("ATT&CK".into(), format!("{} {}", t.id(), t.name())));
    }
    if let Some(hit) = &e.token {
        facts.push(("Token".into(), hit.id.clone()));
        for p in hit.plants.iter().take(3) {
            facts.push(("Planted at".into(), cut(&format!("{}:{}", p.host, p.path))));
        }
    }
    for f in fields(stored).into_iter().filter(|f| !HEADLINE.contains(&f.name.as_ref())).take(SHOWN_FIELDS) {
        facts.push((f.name.to_string(), cut(&f.value)));
    }
    Summary { title, facts }
}

/// The message announcing an incident, whose first notable event is `stored`.
pub fn chat_message(format: ChatFormat, stored: &StoredEvent, announced: &Announcement) -> Value {
    let s = summary(stored, announced);
    let hint = format!("honeyward incidents show {}", announced.incident);
    match format {
        ChatFormat::Slack => {
            let fields: Vec<Value> =
                s.facts.iter().map(|(k, v)| json!({"type": "plain_text", "emoji": false, "text": slack_escape(&format!("{k}: {v}"))})).collect();
            let mut blocks = vec![json!({"type": "header", "text": {"type": "plain_text", "emoji": false, "text": slack_escape(&cut_to(&s.title, 150))}})];
            // A section holds at most 10 fields.
            for chunk in fields.chunks(10) {
                blocks.push(json!({"type": "section", "fields": chunk}));
            }
            blocks.push(json!({"type": "context", "elements": [{"type": "plain_text", "emoji": false, "text": slack_escape(&hint)}]}));
            json!({"text": slack_escape(&s.title), "blocks": blocks, "unfurl_links": false, "unfurl_media": false})
        }
        ChatFormat::Teams => {
            let facts: Vec<Value> = s.facts.iter().map(|(k, v)| json!({"title": teams_escape(k), "value": teams_escape(v)})).collect();
            let card = json!({
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": teams_escape(&s.title), "weight": "Bolder", "size": "Medium", "wrap": true},
                    {"type": "FactSet", "facts": facts},
                    {"type": "TextBlock", "text": teams_escape(&hint), "isSubtle": true, "wrap": true}
                ]
            });
            json!({"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}]})
        }
    }
}

fn cut_to(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::format::syslog::tests::auth;

    #[test]
    fn table_of_slack_and_teams_escapes() {
        for (raw, slack, teams) in [
            ("<!channel>", "&lt;!channel&gt;", "&lt;\\!channel&gt;"),
            ("<http://x|click>", "&lt;http://x|click&gt;", "&lt;http\\://x\\|click&gt;"),
            ("**bold** [a](b)", "**bold** [a](b)", "\\*\\*bold\\*\\* \\[a\\]\\(b\\)"),
            ("a&b", "a&amp;b", "a&amp;b"),
        ] {
            assert_eq!(slack_escape(raw), slack, "{raw}");
            assert_eq!(teams_escape(raw), teams, "{raw}");
        }
    }

    #[test]
    fn hostile_text_is_plain_text_in_slack_and_escaped_markdown_in_teams() {
        let e = auth(b"<!here> *root*\n\x1b[2J\xe2\x80\xae");
        let slack = chat_message(ChatFormat::Slack, &e, &Announcement::bare(e.event.id));
        let text = slack.to_string();
        assert!(!text.contains("<!here>") && text.contains("&lt;!here&gt;"), "{text}");
        assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "control and bidi are shown as escapes");
        for block in slack["blocks"].as_array().unwrap() {
            for f in block["fields"].as_array().into_iter().flatten() {
                assert_eq!(f["type"], "plain_text", "attacker text never in mrkdwn");
            }
        }
        let teams = chat_message(ChatFormat::Teams, &e, &Announcement::bare(e.event.id)).to_string();
        assert!(teams.contains("&lt;\\\\!here&gt; \\\\*root\\\\*"), "{teams}");
        assert!(teams.contains("application/vnd.microsoft.card.adaptive"));
    }
}
