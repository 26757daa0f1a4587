//! Delivering one batch: when the destination refuses events for good, narrow the
//! batch down (by halves) until each refused event is found, so that one poisoned
//! event does not hold back the thousands around it.

use super::{AnySink, Sink, SinkError};
use crate::store::StoredEvent;

/// Sends `batch` in pieces of at most the sink's batch size. Returns the events
/// refused for good (index in `batch`, reason); everything else was delivered. A
/// retryable error stops the delivery: the whole batch is tried again later.
pub async fn deliver(sink: &mut AnySink, batch: &[StoredEvent]) -> Result<Vec<(usize, String)>, SinkError> {
    let step = sink.max_batch().max(1);
    let mut refused = Vec::new();
    // Ranges still to send, the next one last.
    let mut pending: Vec<(usize, usize)> = (0..batch.len()).step_by(step).map(|s| (s, (s + step).min(batch.len()))).rev().collect();
    while let Some((start, end)) = pending.pop() {
        match sink.send(&batch[start..end]).await {
            Ok(()) => {}
            Err(SinkError::Rejected { items, .. }) if !items.is_empty() => {
                refused.extend(items.into_iter().filter(|(i, _)| start + i < end).map(|(i, r)| (start + i, r)));
            }
            Err(SinkError::Rejected { reason, .. }) if end - start == 1 => refused.push((start, reason)),
            Err(SinkError::Rejected { .. }) => {
                let mid = start + (end - start) / 2;
                pending.push((mid, end));
                pending.push((start, mid));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(refused)
}
