//! Reading a request body, only after its headers passed: capped in size and time,
//! gzip decoded with a cap on the decoded size and on the compression ratio (a small
//! gzip bomb is refused as soon as it expands past either), and hashed (SHA-256) as
//! it streams, so the signature check needs no second pass.

use std::io::Write;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;

/// Largest request body, as sent and decoded (a batch of events).
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// Largest decoded size per compressed byte.
pub const MAX_GZIP_RATIO: usize = 100;
/// Decoded bytes allowed whatever the ratio (a small body compresses well).
const RATIO_SLACK_BYTES: usize = 64 << 10;

/// A body read whole.
pub struct Body {
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes` (decoded).
    pub sha256: ring::digest::Digest,
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body too slow")]
    TooSlow,
    #[error("body too large")]
    TooLarge,
    #[error("body expands too much when decompressed")]
    Bomb,
    #[error("bad gzip")]
    BadGzip,
    #[error("connection failed while reading the body")]
    Broken,
}

/// Collects decoded bytes and their hash, up to a limit the reader moves.
struct Sink {
    bytes: Vec<u8>,
    hash: ring::digest::Context,
    limit: usize,
    over: bool,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.limit {
            self.over = true;
            return Err(std::io::Error::other("over the limit"));
        }
        self.bytes.extend_from_slice(buf);
        self.hash.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[allow(clippy::large_enum_variant)] // one per body being read, for as long as it is read
enum Decoder {
    Identity(Sink),
    Gzip(flate2::write::GzDecoder<Sink>),
}

impl Decoder {
    /// Takes `data`, the body's next bytes as sent (`sent` of them so far).
    fn take(&mut self, data: &[u8], sent: usize) -> Result<(), BodyError> {
        match self {
            Decoder::Identity(s) => s.write_all(data).map_err(|_| BodyError::TooLarge),
            Decoder::Gzip(d) => {
                d.get_mut().limit = MAX_BODY_BYTES.min(sent.saturating_mul(MAX_GZIP_RATIO).saturating_add(RATIO_SLACK_BYTES));
                d.write_all(data).map_err(|_| if d.get_ref().over { BodyError::Bomb } else { BodyError::BadGzip })
            }
        }
    }

    fn finish(self) -> Result<Sink, BodyError> {
        match self {
            Decoder::Identity(s) => Ok(s),
            Decoder::Gzip(mut d) => {
                d.try_finish().map_err(|_| if d.get_ref().over { BodyError::Bomb } else { BodyError::BadGzip })?;
                d.finish().map_err(|_| BodyError::BadGzip)
            }
        }
    }
}

/// Reads `incoming` (gzip-decoded when `gzip`) within `deadline`.
pub async fn read(incoming: Incoming, gzip: bool, deadline: Duration) -> Result<Body, BodyError> {
    tokio::time::timeout(deadline, collect(incoming, gzip)).await.map_err(|_| BodyError::TooSlow)?
}

async fn collect(mut incoming: Incoming, gzip: bool) -> Result<Body, BodyError> {
    let sink = Sink { bytes: Vec::new(), hash: ring::digest::Context::new(&ring::digest::SHA256), limit: MAX_BODY_BYTES, over: false };
    let mut decoder = if gzip { Decoder::Gzip(flate2::write::GzDecoder::new(sink)) } else { Decoder::Identity(sink) };
    let mut sent = 0usize;
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        let Ok(data) = frame.into_data() else { continue };
        sent += data.len();
        if sent > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        decoder.take(&data, sent)?;
    }
    let sink = decoder.finish()?;
    Ok(Body { bytes: sink.bytes, sha256: sink.hash.finish() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(sent: &[u8], frame: usize) -> Result<Vec<u8>, BodyError> {
        let sink = Sink { bytes: Vec::new(), hash: ring::digest::Context::new(&ring::digest::SHA256), limit: MAX_BODY_BYTES, over: false };
        let mut d = Decoder::Gzip(flate2::write::GzDecoder::new(sink));
        let mut n = 0;
        for chunk in sent.chunks(frame) {
            n += chunk.len();
            d.take(chunk, n)?;
        }
        let s = d.finish()?;
        assert_eq!(s.hash.finish().as_ref(), ring::digest::digest(&ring::digest::SHA256, &s.bytes).as_ref());
        Ok(s.bytes)
    }

    #[test]
    fn a_batch_of_events_decodes_whole_with_its_hash() {
        let json = br#"{"events":[{"kind":"connection_opened"}]}"#.repeat(2000);
        assert_eq!(decode(&gzip(&json), 1000).unwrap(), json);
        assert_eq!(decode(&gzip(&json), 7).unwrap(), json, "in small frames too");
    }

    #[test]
    fn a_gzip_bomb_is_refused_as_it_expands() {
        // 30 MB of zeros compress to about 30 KB: a ratio of 1000.
        let bomb = gzip(&vec![0u8; 30 << 20]);
        assert!(bomb.len() < 64 << 10);
        assert_eq!(decode(&bomb, 4096), Err(BodyError::Bomb));
    }

    #[test]
    fn truncated_or_garbage_gzip_is_refused() {
        let json = br#"{"events":[]}"#.repeat(100);
        let whole = gzip(&json);
        assert_eq!(decode(&whole[..whole.len() - 9], 64), Err(BodyError::BadGzip));
        assert_eq!(decode(b"not gzip at all", 64), Err(BodyError::BadGzip));
    }
}
