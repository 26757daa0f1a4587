//! Keeping a sensor's spool within its quota: while the controller is away, the oldest
//! events not yet forwarded whose kind is low-severity are deleted (never a token hit,
//! nothing of medium severity or above, nothing already forwarded).

use std::time::Duration;

use crate::event::EventKind;

/// One round of shedding; (count, first seq, last seq) if anything was dropped.
pub fn shed_spool(path: &std::path::Path, quota_bytes: u64) -> Result<Option<(u64, u64, u64)>, rusqlite::Error> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let used = |c: &rusqlite::Connection| -> rusqlite::Result<u64> {
        let pages: i64 =
            c.query_row("SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())", [], |r| r.get(0))?;
        let size: i64 = c.query_row("SELECT page_size FROM pragma_page_size()", [], |r| r.get(0))?;
        Ok((pages.max(0) * size) as u64)
    };
    if used(&conn)? <= quota_bytes {
        return Ok(None);
    }
    let cursor: i64 = conn.query_row("SELECT coalesce((SELECT seq FROM sink_cursors WHERE sink = 'controller'), 0)", [], |r| r.get(0))?;
    let low: Vec<String> = EventKind::low_severity_ids().iter().map(|id| id.to_string()).collect();
    let (mut count, mut first, mut last) = (0u64, u64::MAX, 0u64);
    // Down to 90% of the quota, in steps, oldest first; the freed pages are reused.
    while used(&conn)? > quota_bytes / 10 * 9 {
        let sql = format!("SELECT seq FROM events WHERE seq > ?1 AND kind IN ({}) AND body NOT LIKE '%\"token\":%' ORDER BY seq LIMIT 2000", low.join(","));
        let seqs: Vec<i64> = conn.prepare(&sql)?.query_map([cursor], |r| r.get(0))?.collect::<Result<_, _>>()?;
        if seqs.is_empty() {
            break;
        }
        let tx = conn.unchecked_transaction()?;
        for s in &seqs {
            tx.execute("DELETE FROM events WHERE seq = ?1", [s])?;
        }
        tx.commit()?;
        count += seqs.len() as u64;
        first = first.min(seqs[0] as u64);
        last = last.max(seqs[seqs.len() - 1] as u64);
    }
    Ok((count > 0).then_some((count, first, last)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AttackerBytes, CloseReason, Event, EventId, SshAuthMethod, Timestamp};

    fn event(kind: EventKind) -> Event {
        Event {
            claimed_time: None,
            id: EventId::new(),
            time: Timestamp::now(),
            sensor: "ward-7".into(),
            decoy: Some("d".into()),
            source: Some("203.0.113.9:4000".parse().unwrap()),
            destination: None,
            session: None,
            kind,
            token: None,
        }
    }

    #[test]
    fn a_full_spool_sheds_only_unforwarded_low_severity_events_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.db");
        let mut conn = crate::store::open_connection(&path, crate::config::StoreSync::Normal, true).unwrap();
        let padding = "x".repeat(2000);
        let mut batch = Vec::new();
        for i in 0..3000 {
            batch.push(if i % 3 == 0 {
                event(EventKind::SshAuth {
                    method: SshAuthMethod::Password,
                    username: AttackerBytes::new(padding.as_str()),
                    password: None,
                    key_fingerprint: None,
                    key_algorithm: None,
                    accepted: false,
                    methods_tried: None,
                })
            } else {
                event(EventKind::ConnectionClosed { duration_ms: 1, bytes_in: 1, bytes_out: 1, reason: CloseReason::PeerClosed })
            });
        }
        crate::store::commit(&mut conn, &batch, &mut Vec::new()).unwrap();
        conn.execute("INSERT INTO sink_cursors (sink, seq, updated_us) VALUES ('controller', 100, 0)", []).unwrap();
        let auths_before: i64 = conn.query_row("SELECT count(*) FROM events WHERE kind = 200", [], |r| r.get(0)).unwrap();
        let (count, first, last) = shed_spool(&path, 4 * 1024 * 1024).unwrap().expect("over the quota: something is shed");
        assert!(count > 0 && first > 100, "never what was already forwarded: {first}");
        assert!(last >= first);
        let auths_after: i64 = conn.query_row("SELECT count(*) FROM events WHERE kind = 200", [], |r| r.get(0)).unwrap();
        assert_eq!(auths_before, auths_after, "authentication attempts are never shed");
        let kept_early: i64 = conn.query_row("SELECT count(*) FROM events WHERE seq <= 100", [], |r| r.get(0)).unwrap();
        assert_eq!(kept_early, 100);
        assert!(shed_spool(&path, 1 << 30).unwrap().is_none(), "under the quota: nothing");
    }
}
