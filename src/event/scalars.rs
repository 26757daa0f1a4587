//! The scalar details of an event, visited in place (no intermediate JSON value), for
//! the key=value formats: attacker bytes by their lossy text, numbers and flags as
//! text, nested credentials as `credential.*`. Lists (headers, keys, contexts, tags)
//! are left to the JSON message. The match is exhaustive: a new kind must say what
//! it shows here.

use std::borrow::Cow;

use super::kind::EventKind;
use super::AttackerBytes;

fn text(b: &AttackerBytes) -> Cow<'_, str> {
    String::from_utf8_lossy(b.as_bytes())
}

fn num(n: impl ToString) -> Cow<'static, str> {
    Cow::Owned(n.to_string())
}

fn flag(b: bool) -> Cow<'static, str> {
    Cow::Borrowed(if b { "true" } else { "false" })
}

impl EventKind {
    /// Calls `f(name, value)` for each scalar detail.
    pub fn scalars<'a>(&'a self, f: &mut dyn FnMut(&'static str, Cow<'a, str>)) {
        let opt = |f: &mut dyn FnMut(&'static str, Cow<'a, str>), n: &'static str, v: Option<Cow<'a, str>>| {
            if let Some(v) = v {
                f(n, v);
            }
        };
        match self {
            EventKind::ConnectionOpened => {}
            EventKind::ConnectionClosed { duration_ms, bytes_in, bytes_out, reason } => {
                f("duration_ms", num(duration_ms));
                f("bytes_in", num(bytes_in));
                f("bytes_out", num(bytes_out));
                f("reason", Cow::Borrowed(reason.as_str()));
            }
            EventKind::DataReceived { data, truncated } => {
                f("data", text(data));
                f("truncated", flag(*truncated));
            }
            EventKind::SshAuth { method, username, password, key_fingerprint, key_algorithm, accepted, methods_tried } => {
                f("method", Cow::Borrowed(method.as_str()));
                f("username", text(username));
                opt(f, "password", password.as_ref().map(text));
                opt(f, "key_fingerprint", key_fingerprint.as_deref().map(Cow::Borrowed));
                opt(f, "key_algorithm", key_algorithm.as_deref().map(Cow::Borrowed));
                f("accepted", flag(*accepted));
                opt(f, "methods_tried", methods_tried.as_deref().map(Cow::Borrowed));
            }
            EventKind::SshClient { version, hassh, algorithms, negotiated } => {
                f("version", text(version));
                f("hassh", Cow::Borrowed(hassh));
                f("algorithms", text(algorithms));
                opt(f, "negotiated", negotiated.as_deref().map(Cow::Borrowed));
            }
            EventKind::SshCommand { line, exec } => {
                f("line", text(line));
                f("exec", flag(*exec));
            }
            EventKind::SshSessionClosed { recording, sha256, bytes } => {
                f("recording", Cow::Borrowed(recording));
                f("sha256", Cow::Borrowed(sha256));
                f("bytes", num(bytes));
            }
            EventKind::SshRequestRefused { request, target } => {
                f("request", Cow::Borrowed(request));
                f("target", text(target));
            }
            EventKind::HttpRequest {
                method,
                target,
                version,
                headers: _,
                headers_truncated,
                user_agent,
                credential,
                body_bytes,
                body_sha256,
                body,
                status,
                tags: _,
            } => {
                f("method", text(method));
                f("target", text(target));
                f("version", Cow::Borrowed(version));
                f("headers_truncated", flag(*headers_truncated));
                opt(f, "user_agent", user_agent.as_ref().map(text));
                if let Some(c) = credential {
                    f("credential.scheme", Cow::Borrowed(&c.scheme));
                    opt(f, "credential.username", c.username.as_ref().map(text));
                    opt(f, "credential.secret", c.secret.as_ref().map(text));
                }
                f("body_bytes", num(body_bytes));
                opt(f, "body_sha256", body_sha256.as_deref().map(Cow::Borrowed));
                opt(f, "body", body.as_ref().map(text));
                f("status", num(status));
            }
            EventKind::DicomAssociation {
                calling_ae,
                called_ae,
                implementation_class_uid,
                implementation_version,
                max_pdu_length,
                contexts: _,
                accepted,
                rejected,
            } => {
                f("calling_ae", text(calling_ae));
                f("called_ae", text(called_ae));
                opt(f, "implementation_class_uid", implementation_class_uid.as_ref().map(text));
                opt(f, "implementation_version", implementation_version.as_ref().map(text));
                opt(f, "max_pdu_length", max_pdu_length.map(num));
                f("accepted", flag(*accepted));
                opt(f, "rejected", rejected.as_deref().map(Cow::Borrowed));
            }
            EventKind::DicomCommand { command, sop_class, level, keys: _, move_destination, matches, status } => {
                f("command", Cow::Borrowed(command));
                opt(f, "sop_class", sop_class.as_ref().map(text));
                opt(f, "level", level.as_ref().map(text));
                opt(f, "move_destination", move_destination.as_ref().map(text));
                f("matches", num(matches));
                f("status", num(status));
            }
            EventKind::DicomStore { sop_class, sop_instance_uid, bytes, sha256, quarantined } => {
                opt(f, "sop_class", sop_class.as_ref().map(text));
                f("sop_instance_uid", text(sop_instance_uid));
                f("bytes", num(bytes));
                f("sha256", Cow::Borrowed(sha256));
                f("quarantined", flag(*quarantined));
            }
            EventKind::DicomRelease { how, reason } => {
                f("how", Cow::Borrowed(how));
                opt(f, "reason", reason.as_deref().map(Cow::Borrowed));
            }
            EventKind::SmbNegotiate { protocol, dialects, chosen, client_guid, signing_required } => {
                f("protocol", Cow::Borrowed(protocol));
                f("dialects", text(dialects));
                opt(f, "chosen", chosen.as_deref().map(Cow::Borrowed));
                opt(f, "client_guid", client_guid.as_deref().map(Cow::Borrowed));
                f("signing_required", flag(*signing_required));
            }
            EventKind::NtlmAuth { protocol, username, domain, workstation, ntlm, flags, client_version, target, hashcat, accepted, status } => {
                f("protocol", Cow::Borrowed(protocol));
                f("username", text(username));
                f("domain", text(domain));
                f("workstation", text(workstation));
                f("ntlm", Cow::Borrowed(ntlm));
                f("flags", Cow::Borrowed(flags));
                opt(f, "client_version", client_version.as_deref().map(Cow::Borrowed));
                opt(f, "target", target.as_ref().map(text));
                opt(f, "hashcat", hashcat.as_ref().map(text));
                f("accepted", flag(*accepted));
                f("status", Cow::Borrowed(status));
            }
            EventKind::SmbExploit { stage, command, bytes, sha256, quarantined } => {
                f("stage", Cow::Borrowed(stage));
                f("command", Cow::Borrowed(command));
                f("bytes", num(bytes));
                opt(f, "sha256", sha256.as_deref().map(Cow::Borrowed));
                f("quarantined", flag(*quarantined));
            }
            EventKind::SmbFile { operation, user, share, path, status, bytes, detail } => {
                f("operation", Cow::Borrowed(operation));
                f("user", text(user));
                f("share", text(share));
                f("path", text(path));
                f("status", Cow::Borrowed(status));
                opt(f, "bytes", bytes.as_ref().map(num));
                opt(f, "detail", detail.as_ref().map(text));
            }
            EventKind::Hl7Message {
                framing,
                message_type,
                control_id,
                processing_id,
                version,
                sending,
                receiving,
                patient_ids,
                patient_names,
                segments,
                ack,
                matches,
                bytes,
                raw,
            } => {
                f("framing", Cow::Borrowed(framing));
                for (key, value) in [
                    ("message_type", message_type),
                    ("control_id", control_id),
                    ("processing_id", processing_id),
                    ("version", version),
                    ("sending", sending),
                    ("receiving", receiving),
                    ("patient_ids", patient_ids),
                    ("patient_names", patient_names),
                ] {
                    opt(f, key, value.as_ref().map(text));
                }
                opt(f, "segments", segments.as_deref().map(Cow::Borrowed));
                opt(f, "ack", ack.as_deref().map(Cow::Borrowed));
                opt(f, "matches", matches.map(num));
                f("bytes", num(bytes));
                f("raw", text(raw));
            }
            EventKind::NamePoisoning { protocol, name, addresses, mac, offered } => {
                f("protocol", Cow::Borrowed(protocol));
                f("name", text(name));
                f("addresses", Cow::Borrowed(addresses));
                opt(f, "mac", mac.as_deref().map(Cow::Borrowed));
                opt(f, "offered", offered.as_deref().map(Cow::Borrowed));
            }
            EventKind::RdpNegotiate { cookie, mstshash, requested, selected, refused } => {
                opt(f, "cookie", cookie.as_ref().map(text));
                opt(f, "mstshash", mstshash.as_ref().map(text));
                f("requested", Cow::Borrowed(requested));
                opt(f, "selected", selected.as_deref().map(Cow::Borrowed));
                opt(f, "refused", refused.as_deref().map(Cow::Borrowed));
            }
            EventKind::FileOpened { path } | EventKind::CanaryMissing { path } => f("path", Cow::Borrowed(path)),
            EventKind::ConnectionsRefused { count, limit } => {
                f("count", num(count));
                f("limit", Cow::Borrowed(limit.as_str()));
            }
            EventKind::SensorRefused { sensor, reason, count } => {
                f("sensor", text(sensor));
                f("reason", Cow::Borrowed(reason));
                f("count", num(count));
            }
            EventKind::SensorSilent { sensor, silent_seconds } => {
                f("sensor", Cow::Borrowed(sensor));
                f("silent_seconds", num(silent_seconds));
            }
            EventKind::SpoolShed { events, first_seq, last_seq } => {
                f("events", num(events));
                f("first_seq", num(first_seq));
                f("last_seq", num(last_seq));
            }
            EventKind::StoreFull { events, full_seconds } => {
                f("events", num(events));
                f("full_seconds", num(full_seconds));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::{AttackerBytes, HttpCredential};

    #[test]
    fn nested_credentials_and_attacker_text_are_visited() {
        let k = crate::event::login_request(
            Some(HttpCredential { scheme: "form".into(), username: Some(AttackerBytes::new(b"a\xffb".to_vec())), secret: None }),
            &[],
        );
        let mut seen = Vec::new();
        k.scalars(&mut |n, v| seen.push((n, v.into_owned())));
        assert!(seen.contains(&("credential.username", "a\u{fffd}b".to_string())));
        assert!(seen.contains(&("status", "200".to_string())));
        assert!(!seen.iter().any(|(n, _)| *n == "headers"));
    }
}
