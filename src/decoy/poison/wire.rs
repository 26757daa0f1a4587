//! Wire formats of the poisoning canary: LLMNR (RFC 4795), NBT-NS (RFC 1002) and mDNS (RFC 6762) queries for honey names, and a parser of the responses a poisoner sends back, written for attacker-controlled packets (bounded, never panics).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The DNS-style header every one of the three protocols shares: id, flags, four counts.
const HEADER_LEN: usize = 12;
/// RFC 1035 §2.3.4: a name is at most 255 bytes on the wire, a label at most 63.
const MAX_NAME_LEN: usize = 255;
const MAX_LABEL_LEN: usize = 63;
/// Compression pointers followed while reading one name; more is a loop or an attack.
const MAX_POINTER_HOPS: usize = 16;
/// Questions skipped before the answers (a response to us echoes one, if any); more is malformed.
const MAX_QUESTIONS: usize = 32;
/// Answer records read; any beyond are ignored.
const MAX_RECORDS: usize = 32;
/// Addresses kept in an [`Answer`].
const MAX_ADDRESSES: usize = 16;

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
/// RFC 1002 §4.2.1.2: the NB (general name service) resource record type.
const TYPE_NB: u16 = 0x0020;
const CLASS_IN: u16 = 1;
/// RFC 6762 §10.2: the top bit of an mDNS record's class is the cache-flush bit.
const MDNS_CACHE_FLUSH: u16 = 0x8000;

/// QR (DNS, LLMNR, mDNS) or R (NBT-NS): the packet is a response.
const FLAG_RESPONSE: u16 = 0x8000;
/// RFC 1002 §4.2.12: opcode 0 (query), RD, B (broadcast).
const NBNS_QUERY_FLAGS: u16 = 0x0110;

/// A NetBIOS name is 15 bytes plus the suffix byte, 32 bytes first-level encoded.
const NETBIOS_NAME_LEN: usize = 15;
const NETBIOS_ENCODED_LEN: usize = 32;
/// An NB record's RDATA entry: NB_FLAGS (2) and NB_ADDRESS (4).
const NB_ENTRY_LEN: usize = 6;

/// LLMNR (RFC 4795): UDP 5355, multicast 224.0.0.252 / ff02::1:3. A standard query (flags 0) for `name`, `qtype` (1 = A, 28 = AAAA), class IN.
pub fn llmnr_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = header(id, 0);
    push_dns_name(&mut out, name);
    push_question_tail(&mut out, qtype, CLASS_IN);
    out
}

/// mDNS (RFC 6762): UDP 5353, 224.0.0.251 / ff02::fb. A one-shot query with id 0 and the QU bit unset; `name` is e.g. "pacs-backup02.local".
pub fn mdns_query(name: &str, qtype: u16) -> Vec<u8> {
    let mut out = header(0, 0);
    push_dns_name(&mut out, name);
    push_question_tail(&mut out, qtype, CLASS_IN);
    out
}

/// NBT-NS (RFC 1002 §4.2.12): UDP 137, broadcast. A NAME QUERY REQUEST (flags 0x0110: query, RD, B) for the NetBIOS name `name` with `suffix`
/// (0x20 file server, 0x00 workstation), QTYPE NB, QCLASS IN, no scope.
pub fn nbns_query(id: u16, name: &str, suffix: u8) -> Vec<u8> {
    let mut out = header(id, NBNS_QUERY_FLAGS);
    out.push(NETBIOS_ENCODED_LEN as u8);
    out.extend_from_slice(&netbios_encode(name, suffix));
    out.push(0);
    push_question_tail(&mut out, TYPE_NB, CLASS_IN);
    out
}

/// The first-level encoding of a NetBIOS name (RFC 1001 §14.1): the name upper-cased, cut or space-padded to 15 bytes, the suffix byte,
/// then each nibble as `'A' + nibble`.
pub fn netbios_encode(name: &str, suffix: u8) -> [u8; 32] {
    let raw = name.bytes().map(|b| b.to_ascii_uppercase()).chain(std::iter::repeat(b' ')).take(NETBIOS_NAME_LEN).chain(std::iter::once(suffix));
    let mut out = [0u8; NETBIOS_ENCODED_LEN];
    for (pair, byte) in out.chunks_exact_mut(2).zip(raw) {
        if let [high, low] = pair {
            *high = b'A' + (byte >> 4);
            *low = b'A' + (byte & 0x0F);
        }
    }
    out
}

/// Decodes a first-level encoded NetBIOS name into the name (trailing spaces trimmed, bytes that are not UTF-8 replaced) and its suffix byte;
/// `None` unless `encoded` is exactly 32 bytes of `'A'..='P'`.
pub fn netbios_decode(encoded: &[u8]) -> Option<(String, u8)> {
    if encoded.len() != NETBIOS_ENCODED_LEN {
        return None;
    }
    let mut raw = Vec::with_capacity(NETBIOS_ENCODED_LEN / 2);
    for pair in encoded.chunks_exact(2) {
        let &[high, low] = pair else { return None };
        raw.push(nibble(high)? << 4 | nibble(low)?);
    }
    let suffix = raw.pop()?;
    while raw.last() == Some(&b' ') {
        raw.pop();
    }
    Some((String::from_utf8_lossy(&raw).into_owned(), suffix))
}

/// What a response to one of our queries says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The protocol the response came in on.
    pub protocol: Protocol,
    /// The response's transaction id (0 for mDNS).
    pub id: u16,
    /// The name asked about, as the response's question (or answer) names it, lower-cased for LLMNR/mDNS; the decoded NetBIOS name for NBT-NS.
    pub name: String,
    /// Addresses the responder claims the name has (A, AAAA records; NB records' addresses for NBT-NS), at most 16.
    pub addresses: Vec<IpAddr>,
}

/// The name-resolution protocol of a query or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Link-Local Multicast Name Resolution (RFC 4795).
    Llmnr,
    /// Multicast DNS (RFC 6762).
    Mdns,
    /// NetBIOS over TCP/IP name service (RFC 1002).
    Nbns,
}

/// Parses a UDP payload received on the port of `protocol` as a response (QR bit set; for NBT-NS the R bit in the flags).
///
/// Returns `None` for queries, non-zero opcodes or response codes (an error or a negative NBT-NS response claims nothing), malformed
/// packets, or responses with no answer records. The name is the first question's, else the first answer record's; addresses come from
/// the A/AAAA (NB for NBT-NS) records of that name with class IN (mDNS: with or without the cache-flush bit). Records of other types or
/// names are skipped, at most 32 records are read, and the authority and additional sections are ignored.
pub fn parse_response(protocol: Protocol, payload: &[u8]) -> Option<Answer> {
    let id = u16_at(payload, 0)?;
    let flags = u16_at(payload, 2)?;
    let questions = usize::from(u16_at(payload, 4)?);
    let answers = usize::from(u16_at(payload, 6)?);
    let opcode = (flags >> 11) & 0x0F;
    let rcode = flags & 0x0F;
    if flags & FLAG_RESPONSE == 0 || opcode != 0 || rcode != 0 || answers == 0 || questions > MAX_QUESTIONS {
        return None;
    }

    let mut pos = HEADER_LEN;
    let mut target: Option<String> = None;
    for _ in 0..questions {
        let (labels, next) = read_name(payload, pos)?;
        if target.is_none() {
            target = Some(name_key(protocol, &labels)?);
        }
        // QTYPE and QCLASS.
        pos = next.checked_add(4)?;
        payload.get(next..pos)?;
    }

    let mut addresses = Vec::new();
    for _ in 0..answers.min(MAX_RECORDS) {
        let (labels, next) = read_name(payload, pos)?;
        let rtype = u16_at(payload, next)?;
        let class = u16_at(payload, next.checked_add(2)?)?;
        // TTL (4 bytes) sits between the class and RDLENGTH.
        let rdlength = usize::from(u16_at(payload, next.checked_add(8)?)?);
        let rdata_start = next.checked_add(10)?;
        pos = rdata_start.checked_add(rdlength)?;
        let rdata = payload.get(rdata_start..pos)?;

        let key = name_key(protocol, &labels);
        if target.is_none() {
            target = Some(key.clone()?);
        }
        if key != target || !class_is_in(protocol, class) {
            continue;
        }
        match (protocol, rtype) {
            (Protocol::Nbns, TYPE_NB) => {
                if rdata.len() % NB_ENTRY_LEN != 0 {
                    return None;
                }
                for entry in rdata.chunks_exact(NB_ENTRY_LEN) {
                    let octets: [u8; 4] = entry.get(2..)?.try_into().ok()?;
                    push_address(&mut addresses, IpAddr::V4(Ipv4Addr::from(octets)));
                }
            }
            (Protocol::Llmnr | Protocol::Mdns, TYPE_A) => {
                let octets: [u8; 4] = rdata.try_into().ok()?;
                push_address(&mut addresses, IpAddr::V4(Ipv4Addr::from(octets)));
            }
            (Protocol::Llmnr | Protocol::Mdns, TYPE_AAAA) => {
                let octets: [u8; 16] = rdata.try_into().ok()?;
                push_address(&mut addresses, IpAddr::V6(Ipv6Addr::from(octets)));
            }
            _ => {}
        }
    }
    Some(Answer { protocol, id, name: target?, addresses })
}

/// A header with `id`, `flags`, QDCOUNT 1 and no other records.
fn header(id: u16, flags: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for field in [id, flags, 1, 0, 0, 0] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    out
}

/// Appends `name` as uncompressed labels: empty labels dropped, labels cut to 63 bytes, labels that would pass 255 bytes in all left out.
fn push_dns_name(out: &mut Vec<u8>, name: &str) {
    let mut total = 1;
    for label in name.split('.').filter(|label| !label.is_empty()) {
        let bytes = label.as_bytes().get(..label.len().min(MAX_LABEL_LEN)).unwrap_or_default();
        let Ok(len) = u8::try_from(bytes.len()) else { break };
        if total + 1 + bytes.len() > MAX_NAME_LEN {
            break;
        }
        out.push(len);
        out.extend_from_slice(bytes);
        total += 1 + bytes.len();
    }
    out.push(0);
}

fn push_question_tail(out: &mut Vec<u8>, qtype: u16, qclass: u16) {
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&qclass.to_be_bytes());
}

/// Reads the (possibly compressed) name at `start`: its labels and the offset just past the name where it starts. At most 16 pointers are
/// followed and 255 bytes of name read, so loops end and the work is bounded.
fn read_name(msg: &[u8], start: usize) -> Option<(Vec<&[u8]>, usize)> {
    let mut labels = Vec::new();
    let mut pos = start;
    let mut end = None;
    let mut hops = 0;
    let mut total = 1;
    loop {
        let len = *msg.get(pos)?;
        match len & 0xC0 {
            0x00 if len == 0 => return Some((labels, end.unwrap_or(pos + 1))),
            0x00 => {
                let len = usize::from(len);
                total += 1 + len;
                if total > MAX_NAME_LEN {
                    return None;
                }
                labels.push(msg.get(pos + 1..pos + 1 + len)?);
                pos += 1 + len;
            }
            0xC0 => {
                let low = *msg.get(pos + 1)?;
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return None;
                }
                end.get_or_insert(pos + 2);
                pos = usize::from(len & 0x3F) << 8 | usize::from(low);
            }
            // 0x40 and 0x80 (extended label types) are not used by any of the three protocols.
            _ => return None,
        }
    }
}

/// What a record's name is compared by: the lower-cased dotted name, or for NBT-NS the decoded NetBIOS name (its first label; any further
/// labels are the scope), `None` if that is not a valid encoding.
fn name_key(protocol: Protocol, labels: &[&[u8]]) -> Option<String> {
    match protocol {
        Protocol::Nbns => labels.first().and_then(|label| netbios_decode(label)).map(|(name, _)| name),
        Protocol::Llmnr | Protocol::Mdns => {
            let dotted = labels.iter().map(|label| String::from_utf8_lossy(&label.to_ascii_lowercase()).into_owned()).collect::<Vec<_>>().join(".");
            Some(dotted)
        }
    }
}

fn class_is_in(protocol: Protocol, class: u16) -> bool {
    match protocol {
        Protocol::Mdns => class & !MDNS_CACHE_FLUSH == CLASS_IN,
        Protocol::Llmnr | Protocol::Nbns => class == CLASS_IN,
    }
}

fn push_address(addresses: &mut Vec<IpAddr>, address: IpAddr) {
    if addresses.len() < MAX_ADDRESSES {
        addresses.push(address);
    }
}

fn u16_at(msg: &[u8], pos: usize) -> Option<u16> {
    let bytes: [u8; 2] = msg.get(pos..pos.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

fn nibble(c: u8) -> Option<u8> {
    (b'A'..=b'P').contains(&c).then(|| c - b'A')
}

#[cfg(test)]
mod tests {
    use super::*;

    const POISON_V4: Ipv4Addr = Ipv4Addr::new(10, 6, 6, 6);

    fn be16(out: &mut Vec<u8>, value: u16) {
        out.extend_from_slice(&value.to_be_bytes());
    }

    fn response_header(id: u16, flags: u16, questions: u16, answers: u16) -> Vec<u8> {
        let mut out = Vec::new();
        for field in [id, flags, questions, answers, 0, 0] {
            be16(&mut out, field);
        }
        out
    }

    fn dns_name(name: &str) -> Vec<u8> {
        let mut out = Vec::new();
        push_dns_name(&mut out, name);
        out
    }

    fn nb_name(name: &str, suffix: u8) -> Vec<u8> {
        let mut out = vec![32];
        out.extend_from_slice(&netbios_encode(name, suffix));
        out.push(0);
        out
    }

    /// A resource record: `name` already on the wire, TTL 30.
    fn record(out: &mut Vec<u8>, name: &[u8], rtype: u16, class: u16, rdata: &[u8]) {
        out.extend_from_slice(name);
        be16(out, rtype);
        be16(out, class);
        out.extend_from_slice(&30u32.to_be_bytes());
        be16(out, u16::try_from(rdata.len()).unwrap());
        out.extend_from_slice(rdata);
    }

    /// As Responder answers an LLMNR query: question echoed, the name written out again in the answer.
    fn llmnr_response(id: u16, name: &str, rtype: u16, rdata: &[u8]) -> Vec<u8> {
        let mut out = response_header(id, 0x8000, 1, 1);
        out.extend_from_slice(&dns_name(name));
        be16(&mut out, rtype);
        be16(&mut out, CLASS_IN);
        record(&mut out, &dns_name(name), rtype, CLASS_IN, rdata);
        out
    }

    /// As Responder answers an mDNS query: id 0, flags 0x8400, no question, one A record with the cache-flush bit.
    fn mdns_response(name: &str) -> Vec<u8> {
        let mut out = response_header(0, 0x8400, 0, 1);
        record(&mut out, &dns_name(name), TYPE_A, 0x8001, &POISON_V4.octets());
        out
    }

    /// A positive name query response (RFC 1002 §4.2.13) as Responder sends it: flags 0x8500 (R, AA, RD), no question, one NB record.
    fn nbns_response(id: u16, name: &str, addresses: &[Ipv4Addr]) -> Vec<u8> {
        let mut out = response_header(id, 0x8500, 0, 1);
        let rdata: Vec<u8> = addresses.iter().flat_map(|a| [0u8, 0].into_iter().chain(a.octets())).collect();
        record(&mut out, &nb_name(name, 0x20), TYPE_NB, CLASS_IN, &rdata);
        out
    }

    #[test]
    fn netbios_encoding_matches_rfc_form_and_round_trips() {
        assert_eq!(&netbios_encode("FRED", 0x20), b"EGFCEFEECACACACACACACACACACACACA");
        assert_eq!(&netbios_encode("fred", 0x20), b"EGFCEFEECACACACACACACACACACACACA");
        assert_eq!(&netbios_encode("PACS-BACKUP02", 0x20), b"FAEBEDFDCNECEBEDELFFFADADCCACACA");
        assert_eq!(&netbios_encode("PACS-BACKUP02", 0x00), b"FAEBEDFDCNECEBEDELFFFADADCCACAAA");
        assert_eq!(netbios_decode(&netbios_encode("PACS-BACKUP02", 0x20)), Some(("PACS-BACKUP02".to_string(), 0x20)));
        assert_eq!(netbios_decode(&netbios_encode("FRED", 0x1c)), Some(("FRED".to_string(), 0x1c)));
        // Cut to 15 bytes.
        assert_eq!(netbios_decode(&netbios_encode("RADIOLOGY-ARCHIVE-7", 0)), Some(("RADIOLOGY-ARCHI".to_string(), 0)));
        assert_eq!(netbios_decode(b"EGFCEFEECACACACACACACACACACACAC"), None);
        assert_eq!(netbios_decode(b"EGFCEFEECACACACACACACACACACACACAC"), None);
        assert_eq!(netbios_decode(b"QGFCEFEECACACACACACACACACACACACA"), None);
        assert_eq!(netbios_decode(b"egfcefeecacacacacacacacacacacaca"), None);
    }

    #[test]
    fn queries_have_the_rfc_headers() {
        let q = llmnr_query(0xbeef, "PACS-BACKUP02", TYPE_AAAA);
        assert_eq!(&q[..12], &[0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..], b"\x0dPACS-BACKUP02\x00\x00\x1c\x00\x01");

        let q = mdns_query("pacs-backup02.local", TYPE_A);
        assert_eq!(&q[..12], &[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..], b"\x0dpacs-backup02\x05local\x00\x00\x01\x00\x01");
        assert_eq!(mdns_query("pacs-backup02.local.", TYPE_A), q);

        let q = nbns_query(0x1234, "pacs-backup02", 0x20);
        assert_eq!(&q[..12], &[0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(q[12], 32);
        assert_eq!(&q[13..45], b"FAEBEDFDCNECEBEDELFFFADADCCACACA");
        assert_eq!(&q[45..], &[0, 0x00, 0x20, 0x00, 0x01]);

        // Our own queries are not responses.
        for (protocol, q) in [(Protocol::Llmnr, llmnr_query(1, "x", 1)), (Protocol::Mdns, mdns_query("x.local", 1)), (Protocol::Nbns, nbns_query(1, "X", 0))] {
            assert_eq!(parse_response(protocol, &q), None);
        }
    }

    #[test]
    fn query_names_are_bounded() {
        let long = format!("{}.{}", "a".repeat(100), vec!["b".repeat(60); 10].join("."));
        let q = mdns_query(&long, TYPE_A);
        let (labels, end) = read_name(&q, HEADER_LEN).unwrap();
        assert_eq!(labels[0].len(), 63);
        assert!(end - HEADER_LEN <= MAX_NAME_LEN);
        assert_eq!(end + 4, q.len());
    }

    #[test]
    fn responder_style_responses_parse() {
        let a = llmnr_response(0xbeef, "PACS-BACKUP02", TYPE_A, &POISON_V4.octets());
        let expected = Answer { protocol: Protocol::Llmnr, id: 0xbeef, name: "pacs-backup02".into(), addresses: vec![IpAddr::V4(POISON_V4)] };
        assert_eq!(parse_response(Protocol::Llmnr, &a), Some(expected));

        let v6: Ipv6Addr = "fe80::dead:beef".parse().unwrap();
        let aaaa = llmnr_response(7, "pacs-backup02", TYPE_AAAA, &v6.octets());
        assert_eq!(parse_response(Protocol::Llmnr, &aaaa).unwrap().addresses, vec![IpAddr::V6(v6)]);

        let expected = Answer { protocol: Protocol::Mdns, id: 0, name: "pacs-backup02.local".into(), addresses: vec![IpAddr::V4(POISON_V4)] };
        assert_eq!(parse_response(Protocol::Mdns, &mdns_response("PACS-BACKUP02.local")), Some(expected));

        let two = [POISON_V4, Ipv4Addr::new(10, 6, 6, 7)];
        let expected = Answer { protocol: Protocol::Nbns, id: 0x1234, name: "PACS-BACKUP02".into(), addresses: two.map(IpAddr::V4).to_vec() };
        assert_eq!(parse_response(Protocol::Nbns, &nbns_response(0x1234, "PACS-BACKUP02", &two)), Some(expected));
    }

    #[test]
    fn compressed_answer_name_parses() {
        let mut packet = response_header(9, 0x8000, 1, 1);
        packet.extend_from_slice(&dns_name("pacs-backup02"));
        be16(&mut packet, TYPE_A);
        be16(&mut packet, CLASS_IN);
        record(&mut packet, &[0xC0, 0x0C], TYPE_A, CLASS_IN, &POISON_V4.octets());
        let answer = parse_response(Protocol::Llmnr, &packet).unwrap();
        assert_eq!((answer.name.as_str(), answer.addresses), ("pacs-backup02", vec![IpAddr::V4(POISON_V4)]));

        // NBT-NS names may be compressed too (RFC 1002 §4.1).
        let mut packet = response_header(9, 0x8500, 1, 1);
        packet.extend_from_slice(&nb_name("PACS-BACKUP02", 0x20));
        be16(&mut packet, TYPE_NB);
        be16(&mut packet, CLASS_IN);
        record(&mut packet, &[0xC0, 0x0C], TYPE_NB, CLASS_IN, &[0, 0, 10, 6, 6, 6]);
        assert_eq!(parse_response(Protocol::Nbns, &packet).unwrap().addresses, vec![IpAddr::V4(POISON_V4)]);
    }

    #[test]
    fn pointer_loops_end() {
        // The answer name points at itself.
        let mut packet = response_header(1, 0x8000, 0, 1);
        record(&mut packet, &[0xC0, 0x0C], TYPE_A, CLASS_IN, &POISON_V4.octets());
        assert_eq!(parse_response(Protocol::Llmnr, &packet), None);
        // Two names pointing at each other, with a label on the way.
        let mut packet = response_header(1, 0x8000, 1, 1);
        packet.extend_from_slice(&[1, b'a', 0xC0, 0x11]);
        be16(&mut packet, TYPE_A);
        be16(&mut packet, CLASS_IN);
        record(&mut packet, &[1, b'b', 0xC0, 0x0C], TYPE_A, CLASS_IN, &POISON_V4.octets());
        assert_eq!(parse_response(Protocol::Llmnr, &packet), None);
        assert_eq!(parse_response(Protocol::Mdns, &packet), None);
        // A long but finite chain of pointers beyond the hop cap.
        let mut packet = response_header(0, 0x8400, 0, 1);
        let first = packet.len();
        for i in 0..20u16 {
            let next = u16::try_from(first).unwrap() + 2 * (i + 1);
            packet.extend_from_slice(&(0xC000 | next).to_be_bytes());
        }
        packet.push(0);
        be16(&mut packet, TYPE_A);
        be16(&mut packet, CLASS_IN);
        assert_eq!(read_name(&packet, first), None);
    }

    #[test]
    fn non_answers_are_none() {
        // Negative NBT-NS response: RCODE 3 (name error).
        let mut negative = nbns_response(1, "PACS-BACKUP02", &[POISON_V4]);
        negative[3] |= 0x03;
        assert_eq!(parse_response(Protocol::Nbns, &negative), None);
        // No answer records.
        let mut empty = llmnr_response(1, "pacs-backup02", TYPE_A, &POISON_V4.octets());
        empty[7] = 0;
        assert_eq!(parse_response(Protocol::Llmnr, &empty), None);
        // A wrong-length A record, and an NB record whose RDATA is not whole entries.
        assert_eq!(parse_response(Protocol::Llmnr, &llmnr_response(1, "x", TYPE_A, &[1, 2, 3])), None);
        let mut odd = response_header(1, 0x8500, 0, 1);
        record(&mut odd, &nb_name("X", 0), TYPE_NB, CLASS_IN, &[0, 0, 1, 2, 3]);
        assert_eq!(parse_response(Protocol::Nbns, &odd), None);
        // The cache-flush bit is only accepted for mDNS.
        let mut flush = response_header(1, 0x8000, 0, 1);
        record(&mut flush, &dns_name("x"), TYPE_A, 0x8001, &POISON_V4.octets());
        assert_eq!(parse_response(Protocol::Llmnr, &flush).unwrap().addresses, Vec::<IpAddr>::new());
        assert_eq!(parse_response(Protocol::Mdns, &flush).unwrap().addresses, vec![IpAddr::V4(POISON_V4)]);
    }

    #[test]
    fn other_records_are_skipped_and_counts_capped() {
        // A TXT record and a record for another name before the A record.
        let mut packet = response_header(0, 0x8400, 0, 3);
        record(&mut packet, &dns_name("pacs-backup02.local"), 16, 0x8001, b"\x05hello");
        record(&mut packet, &dns_name("printer.local"), TYPE_A, 0x8001, &[192, 168, 1, 9]);
        record(&mut packet, &dns_name("pacs-backup02.local"), TYPE_A, 0x8001, &POISON_V4.octets());
        let answer = parse_response(Protocol::Mdns, &packet).unwrap();
        assert_eq!((answer.name.as_str(), answer.addresses), ("pacs-backup02.local", vec![IpAddr::V4(POISON_V4)]));

        // 40 records claimed, 32 present: the rest are never read; 16 addresses kept.
        let mut packet = response_header(5, 0x8000, 0, 40);
        for i in 0..32u8 {
            record(&mut packet, &dns_name("x"), TYPE_A, CLASS_IN, &[10, 0, 0, i]);
        }
        let answer = parse_response(Protocol::Llmnr, &packet).unwrap();
        assert_eq!(answer.addresses.len(), MAX_ADDRESSES);
        assert_eq!(answer.addresses[15], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 15)));

        let many: Vec<Ipv4Addr> = (0..40).map(|i| Ipv4Addr::new(10, 1, 0, i)).collect();
        assert_eq!(parse_response(Protocol::Nbns, &nbns_response(1, "X", &many)).unwrap().addresses.len(), MAX_ADDRESSES);
    }

    fn valid_responses() -> Vec<(Protocol, Vec<u8>)> {
        vec![
            (Protocol::Llmnr, llmnr_response(0xbeef, "pacs-backup02", TYPE_A, &POISON_V4.octets())),
            (Protocol::Llmnr, llmnr_response(2, "pacs-backup02", TYPE_AAAA, &[0xfe; 16])),
            (Protocol::Mdns, mdns_response("pacs-backup02.local")),
            (Protocol::Nbns, nbns_response(3, "PACS-BACKUP02", &[POISON_V4, POISON_V4])),
        ]
    }

    #[test]
    fn every_truncation_is_none() {
        for (protocol, packet) in valid_responses() {
            assert!(parse_response(protocol, &packet).is_some());
            for len in 0..packet.len() {
                assert_eq!(parse_response(protocol, &packet[..len]), None, "{protocol:?} cut at {len}");
            }
        }
    }

    #[test]
    fn random_inputs_never_panic() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = valid_responses();
        for round in 0..2000 {
            let packet = if round % 2 == 0 {
                let (_, base) = &valid[(next() as usize) % valid.len()];
                let mut packet = base.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % packet.len();
                    match next() % 3 {
                        0 => packet[at] = next() as u8,
                        1 => packet[at] = 0xC0 | (next() as u8 & 0x3F),
                        _ => packet.truncate(at.max(1)),
                    }
                }
                packet
            } else {
                (0..next() % 96).map(|_| next() as u8).collect()
            };
            for protocol in [Protocol::Llmnr, Protocol::Mdns, Protocol::Nbns] {
                if let Some(answer) = parse_response(protocol, &packet) {
                    assert!(answer.addresses.len() <= MAX_ADDRESSES);
                    assert!(answer.name.len() <= 4 * MAX_NAME_LEN);
                }
            }
        }
    }
}
