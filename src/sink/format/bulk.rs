//! Elasticsearch `_bulk` bodies: for each event a `create` action whose `_id` is the
//! event id, then the ECS document. `create` with our id makes re-sending idempotent:
//! an event already indexed comes back as 409 and counts as delivered.

use super::encode_ecs;
use super::json::write_value;
use crate::store::StoredEvent;

/// Appends the action line and the document line for one event.
pub fn encode_bulk(stored: &StoredEvent, index: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"create\":{\"_index\":");
    write_value(&serde_json::Value::String(index.to_string()), out);
    out.extend_from_slice(b",\"_id\":\"");
    let mut id = [0u8; 36];
    out.extend_from_slice(stored.event.id.encode(&mut id).as_bytes());
    out.extend_from_slice(b"\"}}\n");
    encode_ecs(stored, out);
    out.push(b'\n');
}

/// What Elasticsearch said about one item of a bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkItem {
    /// Indexed now (201) or already there (409 on `create`).
    Stored,
    /// Try again (429, 5xx).
    Retry(String),
    /// Refused for good (mapping errors and other 4xx).
    Rejected(String),
}

/// A `_bulk` response that is not one.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("unreadable _bulk response: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("a _bulk response without items")]
    NoItems,
}

/// Reads a `_bulk` response: one outcome per item, in request order.
pub fn bulk_outcome(body: &[u8]) -> Result<Vec<BulkItem>, BulkError> {
    let v: serde_json::Value = serde_json::from_slice(body)?;
    let items = v["items"].as_array().ok_or(BulkError::NoItems)?;
    Ok(items
        .iter()
        .map(|item| {
            let result = item.as_object().and_then(|o| o.values().next()).cloned().unwrap_or_default();
            let status = result["status"].as_u64().unwrap_or(0);
            let reason = || {
                format!("{status} {} {}", result["error"]["type"].as_str().unwrap_or(""), result["error"]["reason"].as_str().unwrap_or("")).trim().to_string()
            };
            match status {
                200..=299 | 409 => BulkItem::Stored,
                408 | 429 | 500..=599 | 0 => BulkItem::Retry(reason()),
                _ => BulkItem::Rejected(reason()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::format::syslog::tests::auth;

    #[test]
    fn action_and_document_alternate_and_carry_the_event_id() {
        let events = [auth(b"root"), auth(b"a\nb")];
        let mut body = Vec::new();
        for e in &events {
            encode_bulk(e, "honeyward-events", &mut body);
        }
        let lines: Vec<serde_json::Value> = body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
        assert_eq!(lines.len(), 4);
        for (pair, e) in lines.chunks(2).zip(&events) {
            assert_eq!(pair[0]["create"]["_index"], "honeyward-events");
            assert_eq!(pair[0]["create"]["_id"], e.event.id.to_string());
            assert_eq!(pair[1]["event"]["id"], e.event.id.to_string());
        }
    }

    #[test]
    fn table_of_bulk_item_outcomes() {
        let body = br#"{"took":3,"errors":true,"items":[
            {"create":{"_id":"a","status":201}},
            {"create":{"_id":"b","status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},
            {"create":{"_id":"c","status":400,"error":{"type":"mapper_parsing_exception","reason":"bad field"}}},
            {"create":{"_id":"d","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]}"#;
        let out = bulk_outcome(body).unwrap();
        assert_eq!(out[0], BulkItem::Stored);
        assert_eq!(out[1], BulkItem::Stored, "409 on create: already indexed");
        assert_eq!(out[2], BulkItem::Rejected("400 mapper_parsing_exception bad field".into()));
        assert!(matches!(out[3], BulkItem::Retry(_)));
        assert!(bulk_outcome(b"<html>").is_err());
    }
}
