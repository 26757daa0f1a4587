#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// A BIND for srvsvc offering NDR (and, second, NDR64 as Windows 10 clients do).
fn bind(contexts: &[([u8; 16], [u8; 16])]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(4280u16.to_le_bytes());
    body.extend(4280u16.to_le_bytes());
    body.extend(0u32.to_le_bytes());
    body.extend([contexts.len() as u8, 0, 0, 0]);
    for (i, (abstract_syntax, transfer)) in contexts.iter().enumerate() {
        body.extend((i as u16).to_le_bytes());
        body.extend([1, 0]);
        body.extend(abstract_syntax);
        body.extend(3u32.to_le_bytes());
        body.extend(transfer);
        body.extend(2u32.to_le_bytes());
    }
    let mut p = pdu(11, 7, &body);
    p[3] = 0x03;
    p
}

fn request(opnum: u16, stub: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend((stub.len() as u32).to_le_bytes());
    body.extend(0u16.to_le_bytes());
    body.extend(opnum.to_le_bytes());
    body.extend_from_slice(stub);
    pdu(0, 8, &body)
}

fn shares() -> Vec<ShareEntry> {
    vec![
        ShareEntry { name: "IPC$".into(), kind: STYPE_SPECIAL | STYPE_IPC, remark: "Remote IPC".into() },
        ShareEntry { name: "Radiology".into(), kind: STYPE_DISKTREE, remark: String::new() },
    ]
}

/// The (name, type, remark) list in a level-1 NetrShareEnum answer, decoded as NDR.
fn decode(stub: &[u8]) -> Vec<(String, u32, String)> {
    let n = u32_at(stub, 12).unwrap() as usize;
    assert_eq!(u32_at(stub, 20).unwrap() as usize, n, "conformance");
    let mut at = 24 + n * 12;
    let mut string = || {
        let count = u32_at(stub, at + 8).unwrap() as usize;
        let units: Vec<u16> = (0..count).map(|i| u16_at(stub, at + 12 + i * 2).unwrap()).collect();
        at = (at + 12 + count * 2 + 3) & !3;
        String::from_utf16(&units[..count - 1]).unwrap()
    };
    let names: Vec<(String, String)> = (0..n).map(|_| (string(), string())).collect();
    names.into_iter().enumerate().map(|(i, (name, remark))| (name, u32_at(stub, 28 + i * 12).unwrap(), remark)).collect()
}

#[test]
fn a_bind_for_srvsvc_is_accepted_with_ndr_and_other_syntaxes_are_refused() {
    let mut pipe = Pipe::default();
    let ndr64 = [0x33, 0x05, 0x71, 0x71, 0xba, 0xbe, 0x37, 0x49, 0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36];
    let calls = pipe.write(&bind(&[(SRVSVC, NDR), (SRVSVC, ndr64)]), &shares()).unwrap();
    assert_eq!(calls, vec![Call::Bind { srvsvc: true }]);
    let ack = pipe.read(4280);
    assert_eq!((ack[2], u16_at(&ack, 8).unwrap() as usize, u32_at(&ack, 12).unwrap()), (12, ack.len(), 7));
    assert_eq!(&ack[26..39], b"\\PIPE\\srvsvc\0");
    let results = &ack[40..];
    assert_eq!(results[0], 2, "two results");
    assert_eq!(&results[4..8], &[0, 0, 0, 0], "NDR accepted");
    assert_eq!(&results[8..24], &NDR);
    assert_eq!(&results[28..32], &[2, 0, 2, 0], "NDR64 refused");
    assert!(!pipe.has_output());
}

#[test]
fn share_enum_at_level_1_lists_every_share_with_its_type_and_remark() {
    let mut pipe = Pipe::default();
    pipe.write(&bind(&[(SRVSVC, NDR)]), &shares()).unwrap();
    pipe.read(usize::MAX);
    // impacket's request: a server name, level 1, an empty container, max length, a resume handle.
    let mut stub = Vec::new();
    stub.extend(0x0002_0000u32.to_le_bytes());
    let server: Vec<u16> = "\\\\FS01\0".encode_utf16().collect();
    stub.extend((server.len() as u32).to_le_bytes());
    stub.extend(0u32.to_le_bytes());
    stub.extend((server.len() as u32).to_le_bytes());
    server.iter().for_each(|u| stub.extend(u.to_le_bytes()));
    while stub.len() % 4 != 0 {
        stub.push(0);
    }
    stub.extend([1, 0, 0, 0, 1, 0, 0, 0, 4, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 8, 0, 2, 0, 0, 0, 0, 0]);
    let calls = pipe.write(&request(15, &stub), &shares()).unwrap();
    assert_eq!(calls, vec![Call::ShareEnum { level: 1, listed: 2 }]);
    let answer = pipe.read(usize::MAX);
    assert_eq!(answer[2], 2, "a response");
    let listed = decode(&answer[24..]);
    assert_eq!(listed, vec![("IPC$".into(), 0x8000_0003, "Remote IPC".into()), ("Radiology".into(), 0, String::new())]);
    assert_eq!(u32_at(&answer, answer.len() - 4), Some(0), "WERR_OK");
}

#[test]
fn other_operations_fault_and_hostile_bytes_are_refused_without_panicking() {
    let mut pipe = Pipe::default();
    pipe.write(&request(16, &[0; 8]), &shares()).unwrap();
    assert_eq!(pipe.read(usize::MAX)[2], 3, "a fault");
    assert_eq!(Pipe::default().write(b"GET / HTTP/1.1\r\n\r\n", &shares()), Err(RpcError::NotRpc));
    assert_eq!(Pipe::default().write(&vec![5; MAX_BUFFERED + 1], &shares()), Err(RpcError::TooLarge));
    // Every truncation of a bind and a request: no panic, a whole PDU or nothing.
    let whole = [bind(&[(SRVSVC, NDR)]), request(15, &[0xff; 40])].concat();
    for cut in 0..whole.len() {
        let mut pipe = Pipe::default();
        let _ = pipe.write(&whole[..cut], &shares());
    }
    // Split across writes, as a client may send it.
    let mut pipe = Pipe::default();
    let b = bind(&[(SRVSVC, NDR)]);
    assert_eq!(pipe.write(&b[..10], &shares()), Ok(vec![]));
    assert_eq!(pipe.write(&b[10..], &shares()), Ok(vec![Call::Bind { srvsvc: true }]));
}
