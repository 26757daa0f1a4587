//! nginx's gzip content coding, byte for byte: stock zlib (through libz-sys, built from
//! source; Rust deflaters such as zlib-rs and miniz_oxide choose other matches and so
//! other bytes), at nginx's level, with the window and hash memory cut down to the
//! response's size as nginx does, nginx's 10-byte gzip header, and the CRC-32 and
//! length trailer. Also which requests nginx compresses for, and the chunked framing
//! it sends the result in.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

/// nginx's gzip header: no name, no time, "fastest" (XFL 4), Unix.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3];

/// nginx's output buffers (`gzip_buffers 32 4k`): each full one goes out as a chunk.
const BUFFER_BYTES: usize = 4096;

/// Whether an `Accept-Encoding` value accepts gzip the way nginx reads it: a `gzip`
/// token (any case) whose quality is not zero; `x-gzip` and `*` do not count.
pub fn accepted(accept_encoding: &[u8]) -> bool {
    accept_encoding.split(|&b| b == b',').any(|item| {
        let mut parts = item.split(|&b| b == b';');
        let token = parts.next().unwrap_or_default().trim_ascii();
        if !token.eq_ignore_ascii_case(b"gzip") {
            return false;
        }
        let q = parts.map(<[u8]>::trim_ascii).find_map(|p| p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q=")));
        q.is_none_or(|q| q.iter().any(|&b| (b'1'..=b'9').contains(&b)))
    })
}

/// Raw deflate of `input` with stock zlib.
fn deflate_raw(input: &[u8], level: i32, window_bits: i32, mem_level: i32) -> Option<Vec<u8>> {
    deflate_with(input, level, -window_bits, mem_level)
}

/// `input` compressed as servers that hand zlib the whole body do it (Orthanc): zlib's
/// own gzip wrapper (mtime 0, OS Unix) or zlib format, default level and memory.
pub fn zlib_encoded(input: &[u8], coding: ZlibCoding) -> Option<Vec<u8>> {
    let window_bits = match coding {
        ZlibCoding::Gzip => 15 + 16,
        ZlibCoding::Deflate => 15,
    };
    deflate_with(input, 6, window_bits, 8)
}

/// The two codings of [`zlib_encoded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZlibCoding {
    Gzip,
    Deflate,
}

impl ZlibCoding {
    /// The `Content-Encoding` value.
    pub fn name(self) -> &'static str {
        match self {
            ZlibCoding::Gzip => "gzip",
            ZlibCoding::Deflate => "deflate",
        }
    }

    /// The coding Orthanc picks from `Accept-Encoding`: the exact tokens `gzip` or
    /// `deflate` (a token with parameters, or in other case, does not count), gzip
    /// first.
    pub fn orthanc_choice(accept_encoding: &[u8]) -> Option<ZlibCoding> {
        let tokens: Vec<&[u8]> = accept_encoding.split(|&b| b == b',').map(<[u8]>::trim_ascii).collect();
        if tokens.contains(&&b"gzip"[..]) {
            Some(ZlibCoding::Gzip)
        } else if tokens.contains(&&b"deflate"[..]) {
            Some(ZlibCoding::Deflate)
        } else {
            None
        }
    }
}

/// Compresses with stock zlib; `window_bits` as deflateInit2 takes it (negative: raw,
/// 8..=15: zlib format, +16: gzip).
#[allow(unsafe_code)] // zlib's C API; see the SAFETY comments
fn deflate_with(input: &[u8], level: i32, window_bits: i32, mem_level: i32) -> Option<Vec<u8>> {
    use libz_sys::{deflate, deflateEnd, deflateInit2_, uInt, voidpf, z_stream, zlibVersion, Z_DEFAULT_STRATEGY, Z_DEFLATED, Z_FINISH, Z_OK, Z_STREAM_END};

    unsafe extern "C" fn zalloc(_: voidpf, items: uInt, size: uInt) -> voidpf {
        // SAFETY: calloc with a size zlib computed; zlib checks for null.
        unsafe { libc::calloc(items as usize, size as usize) }
    }
    unsafe extern "C" fn zfree(_: voidpf, address: voidpf) {
        // SAFETY: `address` came from `zalloc` above.
        unsafe { libc::free(address) }
    }
    let mut stream = z_stream {
        next_in: std::ptr::null_mut(),
        avail_in: 0,
        total_in: 0,
        next_out: std::ptr::null_mut(),
        avail_out: 0,
        total_out: 0,
        msg: std::ptr::null_mut(),
        state: std::ptr::null_mut(),
        zalloc,
        zfree,
        opaque: std::ptr::null_mut(),
        data_type: 0,
        adler: 0,
        reserved: 0,
    };
    let size = i32::try_from(std::mem::size_of::<z_stream>()).ok()?;
    // Deflate output is never larger than the input plus 5 bytes per 16 KiB block and a few more.
    let mut out = vec![0u8; input.len() + input.len() / 1000 + 96];
    // SAFETY: `stream` is initialised with allocators above; the version string is
    // zlib's own.
    if unsafe { deflateInit2_(&mut stream, level, Z_DEFLATED, window_bits, mem_level, Z_DEFAULT_STRATEGY, zlibVersion(), size) } != Z_OK {
        return None;
    }
    stream.next_in = input.as_ptr().cast_mut();
    stream.avail_in = uInt::try_from(input.len()).ok()?;
    stream.next_out = out.as_mut_ptr();
    stream.avail_out = uInt::try_from(out.len()).ok()?;
    // SAFETY: the pointers cover `input` (read only: zlib never writes through next_in)
    // and `out`, both alive across the call; one call with Z_FINISH and room enough.
    let done = unsafe { deflate(&mut stream, Z_FINISH) };
    let written = stream.total_out as usize;
    // SAFETY: ends the stream initialised above, freeing its state.
    unsafe { deflateEnd(&mut stream) };
    (done == Z_STREAM_END).then(|| {
        out.truncate(written);
        out
    })
}

/// The gzip member nginx sends for `body` at `level`.
pub fn compress(body: &[u8], level: u8) -> Option<Vec<u8>> {
    // nginx shrinks the window and hash for a response of known, smaller length.
    let (mut window_bits, mut mem_level) = (15, 8);
    while !body.is_empty() && body.len() < 1 << (window_bits - 1) && window_bits > 9 {
        window_bits -= 1;
        mem_level -= 1;
    }
    let deflated = deflate_raw(body, i32::from(level), window_bits, mem_level.max(1))?;
    let mut out = Vec::with_capacity(deflated.len() + 18);
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    Some(out)
}

/// `data` in HTTP/1.1 chunks as nginx sends a gzip'd response: one per output buffer.
pub fn chunked(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 32);
    for chunk in data.chunks(BUFFER_BYTES + HEADER.len()) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Compressed bodies by content (pages are few and fixed; a decoy compresses each once).
#[derive(Default)]
pub struct Cache(Mutex<HashMap<(u64, usize), Bytes>>);

/// Most bodies kept; past it the cache starts again.
const CACHE_ENTRIES: usize = 256;

impl Cache {
    /// The gzip member for `body`, compressed once.
    pub fn get(&self, body: &[u8], level: u8) -> Option<Bytes> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut h);
        level.hash(&mut h);
        let key = (h.finish(), body.len());
        if let Some(hit) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Some(hit.clone());
        }
        let compressed = Bytes::from(compress(body, level)?);
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, compressed.clone());
        Some(compressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_accept_encodings_as_nginx_reads_them() {
        for (value, want) in [
            ("gzip", true),
            ("GZIP", true),
            ("gzip, deflate, br", true),
            ("deflate, gzip;q=0.5", true),
            ("gzip;q=0", false),
            ("gzip; q=0.000", false),
            ("x-gzip", false),
            ("*", false),
            ("deflate, br", false),
            ("", false),
        ] {
            assert_eq!(accepted(value.as_bytes()), want, "{value}");
        }
    }

    #[test]
    fn a_compressed_page_inflates_back_and_carries_nginxs_header_and_trailer() {
        use std::io::Read;
        let page = b"<html><body>".repeat(100);
        let gz = compress(&page, 1).unwrap();
        assert_eq!(&gz[..10], &HEADER);
        assert_eq!(&gz[gz.len() - 4..], &(page.len() as u32).to_le_bytes());
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, page);
        let framed = chunked(&gz);
        assert!(framed.starts_with(format!("{:x}\r\n", gz.len()).as_bytes()) && framed.ends_with(b"\r\n0\r\n\r\n"));
        let cache = Cache::default();
        assert_eq!(cache.get(&page, 1).unwrap(), Bytes::from(gz));
    }

    #[test]
    fn orthanc_picks_gzip_or_deflate_by_exact_tokens_and_zlib_round_trips() {
        for (header, want) in [
            (&b"gzip"[..], Some(ZlibCoding::Gzip)),
            (b"deflate", Some(ZlibCoding::Deflate)),
            (b"gzip, deflate", Some(ZlibCoding::Gzip)),
            (b"deflate, gzip", Some(ZlibCoding::Gzip)),
            (b"gzip;q=0", None),
            (b"gzip;q=0.5, deflate;q=1", None),
            (b"GZIP", None),
            (b"x-gzip", None),
            (b"*", None),
            (b"br,  deflate ", Some(ZlibCoding::Deflate)),
        ] {
            assert_eq!(ZlibCoding::orthanc_choice(header), want, "{}", String::from_utf8_lossy(header));
        }
        let body = b"{\n   \"ApiVersion\" : 16\n}".repeat(50);
        let gz = zlib_encoded(&body, ZlibCoding::Gzip).unwrap();
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], "zlib's gzip header: no mtime, Unix");
        let z = zlib_encoded(&body, ZlibCoding::Deflate).unwrap();
        assert_eq!(&z[..2], &[0x78, 0x9c], "zlib format, default level");
        let mut inflated = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut inflated).unwrap();
        assert_eq!(inflated, body);
        assert!(zlib_encoded(b"", ZlibCoding::Gzip).is_some());
    }
}
