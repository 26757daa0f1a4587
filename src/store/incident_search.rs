//! Finding incidents as an analyst asks for them: by severity, acknowledgement, decoy,
//! token, time range and words of the title and summary, in one of three orders, with
//! the count of each severity beside — one SQL query each. The address filter (one
//! address or a CIDR) is applied to the rows the query returns. The console's list and
//! `incidents list` both search through here, so they agree.

use rusqlite::types::Value as Sql;

use super::incidents::{incident, COLUMNS};
use super::{Incident, StoreError, StoreReader};
use crate::config::Cidr;
use crate::event::{Severity, Timestamp};

/// How a list of incidents is sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IncidentOrder {
    /// Most recently seen first (the default).
    #[default]
    LastSeen,
    /// Most severe first, then most recently seen.
    Severity,
    /// Most events first, then most recently seen.
    Events,
}

impl IncidentOrder {
    /// Every order with its name (`last`, `severity`, `events`).
    pub const NAMES: [(&'static str, IncidentOrder); 3] =
        [("last", IncidentOrder::LastSeen), ("severity", IncidentOrder::Severity), ("events", IncidentOrder::Events)];

    /// The order a name asks for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, o)| *o == self).map_or("last", |(n, _)| n)
    }

    fn sql(self) -> &'static str {
        match self {
            IncidentOrder::LastSeen => "last_us DESC, first_seq DESC",
            IncidentOrder::Severity => "severity DESC, last_us DESC, first_seq DESC",
            IncidentOrder::Events => "events DESC, last_us DESC, first_seq DESC",
        }
    }
}

/// What to look for; the default finds every incident that is not suppressed.
#[derive(Debug, Clone, Default)]
pub struct IncidentSearch {
    /// Only these severities (none: every one).
    pub severities: Vec<Severity>,
    pub unacknowledged: bool,
    /// Only incidents that touched this decoy.
    pub decoy: Option<String>,
    /// A token's id, or words of its label.
    pub token: Option<String>,
    /// Only sources in this network.
    pub source: Option<Cidr>,
    /// Only incidents with an event at or after `since`, and one at or before `until`.
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Words of the title or summary.
    pub text: Option<String>,
    /// Include suppressed incidents.
    pub suppressed: bool,
    pub order: IncidentOrder,
    /// At most this many (0: no limit).
    pub limit: usize,
}

/// `%text%` for LIKE, with LIKE's own characters escaped by `\`.
fn like(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl IncidentSearch {
    /// The WHERE clause and its parameters.
    fn clause(&self) -> (String, Vec<Sql>) {
        let mut sql = String::from("WHERE 1");
        let mut args: Vec<Sql> = Vec::new();
        let mut arg = |sql: &mut String, text: &str, v: Sql| {
            args.push(v);
            sql.push_str(&text.replace('?', &format!("?{}", args.len())));
        };
        if !self.suppressed {
            sql.push_str(" AND suppressed = 0");
        }
        if !self.severities.is_empty() {
            let ranks: Vec<String> = self.severities.iter().map(|s| s.rank().to_string()).collect();
            sql.push_str(&format!(" AND severity IN ({})", ranks.join(",")));
        }
        if self.unacknowledged {
            sql.push_str(" AND id NOT IN (SELECT incident FROM incident_acks)");
        }
        if let Some(d) = &self.decoy {
            arg(&mut sql, " AND decoys LIKE ? ESCAPE '\\'", Sql::Text(like(&serde_json::to_string(d).unwrap_or_default())));
        }
        if let Some(t) = &self.token {
            let pattern = like(t);
            arg(&mut sql, " AND (token LIKE ? ESCAPE '\\'", Sql::Text(pattern.clone()));
            arg(&mut sql, " OR story LIKE ? ESCAPE '\\')", Sql::Text(pattern));
        }
        if let Some(t) = self.since {
            arg(&mut sql, " AND last_us >= ?", Sql::Integer(t.as_micros()));
        }
        if let Some(t) = self.until {
            arg(&mut sql, " AND first_us <= ?", Sql::Integer(t.as_micros()));
        }
        if let Some(words) = &self.text {
            for word in words.split_whitespace().take(8) {
                let pattern = like(word);
                arg(&mut sql, " AND (title LIKE ? ESCAPE '\\'", Sql::Text(pattern.clone()));
                arg(&mut sql, " OR summary LIKE ? ESCAPE '\\'", Sql::Text(pattern.clone()));
                arg(&mut sql, " OR coalesce(source_ip, '') LIKE ? ESCAPE '\\')", Sql::Text(pattern));
            }
        }
        (sql, args)
    }
}

impl StoreReader {
    /// The incidents `q` finds, in its order.
    pub fn search_incidents(&self, q: &IncidentSearch) -> Result<Vec<Incident>, StoreError> {
        let (clause, args) = q.clause();
        // The address filter is applied after: without a limit in SQL then.
        let limit = if q.limit == 0 || q.source.is_some() { -1 } else { q.limit.min(i64::MAX as usize) as i64 };
        let sql = format!("SELECT {COLUMNS} FROM incidents {clause} ORDER BY {} LIMIT {limit}", q.order.sql());
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.wrap(e))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), incident).map_err(|e| self.wrap(e))?;
        let mut out = Vec::new();
        for row in rows {
            let i = row.map_err(|e| self.wrap(e))?;
            if q.source.as_ref().is_none_or(|net| i.source.is_some_and(|ip| net.contains(ip))) {
                out.push(i);
                if q.limit != 0 && out.len() >= q.limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The incidents that used a token, most recently seen first.
    pub fn latest_token_incidents(&self, limit: usize) -> Result<Vec<Incident>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM incidents WHERE token IS NOT NULL ORDER BY last_us DESC LIMIT ?1");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.wrap(e))?;
        let rows = stmt.query_map([limit.min(1_000) as i64], incident).map_err(|e| self.wrap(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.wrap(e))
    }

    /// Events per decoy and hour since `since` (hour 0 is the one starting then).
    pub fn events_per_hour(&self, since: Timestamp) -> Result<Vec<(String, i64, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT coalesce(decoy, ''), (time_us - ?1) / 3600000000, count(*) FROM events WHERE time_us >= ?1 GROUP BY 1, 2 ORDER BY 1, 2")
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([since.as_micros()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?.max(0) as u64)))
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.wrap(e))
    }

    /// Incidents that are not suppressed, by severity (least first), with an event at
    /// or after `since`.
    pub fn severity_counts(&self, since: Option<Timestamp>) -> Result<[u64; 5], StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT severity, count(*) FROM incidents WHERE suppressed = 0 AND last_us >= ?1 GROUP BY severity")
            .map_err(|e| self.wrap(e))?;
        let rows =
            stmt.query_map([since.map_or(i64::MIN, Timestamp::as_micros)], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).map_err(|e| self.wrap(e))?;
        let mut counts = [0u64; 5];
        for row in rows {
            let (rank, n) = row.map_err(|e| self.wrap(e))?;
            if let Some(c) = usize::try_from(rank).ok().and_then(|r| counts.get_mut(r)) {
                *c = n.max(0) as u64;
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
#[path = "incident_search_tests.rs"]
mod tests;
