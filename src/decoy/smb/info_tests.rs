//! Tests of the information encoders: exact bytes for a listing entry, FileBasicInformation
//! and a security descriptor; every class's length per MS-FSCC; chaining, alignment and
//! cutting of listings, checked by a small reference parser over generated names and sizes.
use super::*;

use crate::secret_eq::hex;

fn file(name: &str) -> Node<'_> {
    Node { name, directory: false, size: 5000, created: 0x01d8_1234_5678_9abc, written: 0x01d9_0000_1111_2222, file_id: 0x0005_0000_0000_1234 }
}

fn dir(name: &str) -> Node<'_> {
    Node { directory: true, size: 0, ..file(name) }
}

fn volume() -> Volume<'static> {
    Volume {
        label: "Data",
        serial: 0x1a2b_3c4d,
        created: 0x01d5_0000_0000_0000,
        total_units: 26_214_400,
        free_units: 9_000_000,
        sectors_per_unit: 8,
        bytes_per_sector: 512,
    }
}

const ALL_ACCESS: u32 = 0x001f_01ff;

#[test]
fn attributes_and_allocation() {
    assert_eq!(file("x").attributes(), 0x20);
    assert_eq!(dir("x").attributes(), 0x10);
    assert_eq!(file("x").allocation(), 8192);
    assert_eq!(Node { size: 0, ..file("x") }.allocation(), 0);
    assert_eq!(Node { size: 4096, ..file("x") }.allocation(), 4096);
    assert_eq!(Node { size: 4097, ..file("x") }.allocation(), 8192);
    assert_eq!(Node { size: u64::MAX, ..file("x") }.allocation(), u64::MAX);
    assert_eq!(Node { size: 9, ..dir("x") }.allocation(), 0);
}

#[test]
fn one_id_both_directory_entry_exactly() {
    let (bytes, n) = directory_entries(class::FILE_ID_BOTH_DIRECTORY, &[file("a.txt")], 65536).unwrap();
    let want = hex("00000000 00000000
         bc9a785634 12d801 2222111100 00d901 2222111100 00d901 2222111100 00d901
         8813000000000000 0020000000000000 20000000 0a000000 00000000
         00 00 000000000000000000000000000000000000000000000000 0000
         3412000000000500
         61002e0074007800 7400");
    assert_eq!(n, 1);
    assert_eq!(bytes, want);
}

#[test]
fn basic_information_exactly() {
    let info = file_info(class::FILE_BASIC, &file("a.txt"), "\\a.txt", ALL_ACCESS, 40).unwrap();
    let want = hex("bc9a785634 12d801 2222111100 00d901 2222111100 00d901 2222111100 00d901 20000000 00000000");
    assert_eq!(info, Info { bytes: want, overflow: false });
    assert_eq!(info.status(), 0);
    let d = file_info(class::FILE_BASIC, &dir("d"), "\\d", ALL_ACCESS, 40).unwrap();
    assert_eq!(d.bytes[32..36], [0x10, 0, 0, 0]);
}

#[test]
fn security_descriptor_exactly() {
    let sd = security_descriptor_of(false, 0x7, 4096).unwrap();
    let want = hex("01 00 0484 5c000000 6c000000 00000000 14000000
         02 00 4800 0300 0000
         00 10 1400 a9001200 010100000000000100000000
         00 10 1800 ff011f00 0102000000000005 20000000 20020000
         00 10 1400 ff011f00 010100000000000512000000
         0102000000000005 20000000 20020000
         010100000000000512000000");
    assert_eq!(sd, want);
    // A directory's ACEs also pass on to what is below it.
    let d = security_descriptor_of(true, 0x7, 4096).unwrap();
    assert_eq!((d.len(), d[29], d[49], d[73]), (120, 0x13, 0x13, 0x13));
    assert_eq!(security_descriptor(0x7, 4096), Ok(d));
}

#[test]
fn security_descriptor_parts() {
    // Nothing asked: the header alone.
    assert_eq!(security_descriptor_of(false, 0, 20).unwrap(), hex("01 00 0080 00000000 00000000 00000000 00000000"));
    // Owner alone, group alone, owner and group.
    assert_eq!(
        security_descriptor_of(false, secinfo::OWNER, 36).unwrap(),
        hex("01 00 0080 14000000 00000000 00000000 00000000 0102000000000005 20000000 20020000")
    );
    assert_eq!(security_descriptor_of(false, secinfo::GROUP, 32).unwrap(), hex("01 00 0080 00000000 14000000 00000000 00000000 010100000000000512000000"));
    assert_eq!(security_descriptor_of(false, 3, 48).unwrap().len(), 48);
    // The DACL alone: 0x8404, at 20.
    let d = security_descriptor_of(false, secinfo::DACL, 92).unwrap();
    assert_eq!((d.len(), &d[2..4], &d[16..20]), (92, &[0x04, 0x84][..], &[20, 0, 0, 0][..]));
    // Label and other bits add nothing.
    assert_eq!(security_descriptor_of(false, 0x7 | 0x10 | 0x20 | 0x40, 120).unwrap(), security_descriptor_of(false, 0x7, 120).unwrap());
}

#[test]
fn security_descriptor_refusals() {
    assert_eq!(security_descriptor_of(false, 0x7, 119), Err(InfoError::BufferTooSmall { needed: 120 }));
    assert_eq!(security_descriptor_of(false, 0x7, 0), Err(InfoError::BufferTooSmall { needed: 120 }));
    assert_eq!(security_descriptor_of(false, 0, 0), Err(InfoError::BufferTooSmall { needed: 20 }));
    assert_eq!(security_descriptor_of(false, 0xf, 4096), Err(InfoError::AccessDenied));
    assert_eq!(security_descriptor_of(true, secinfo::SACL, 4096), Err(InfoError::AccessDenied));
    assert_eq!(security_descriptor_of(false, secinfo::BACKUP, 4096), Err(InfoError::AccessDenied));
    assert_eq!(InfoError::BufferTooSmall { needed: 1 }.status(), 0xc000_0023);
}

#[test]
fn statuses() {
    use InfoError::*;
    let table = [(UnknownClass, 0xc000_0003), (LengthMismatch, 0xc000_0004), (NameNotFound, 0xc000_0034), (AccessDenied, 0xc000_0022), (NoEas, 0xc000_0052)];
    for (e, s) in table {
        assert_eq!(e.status(), s, "{e}");
    }
    assert_eq!(Info { bytes: vec![], overflow: true }.status(), 0x8000_0005);
}

/// Listing classes: (class, FieldOffset(FileName), FieldOffset(FileNameLength)) per MS-FSCC.
const LISTINGS: [(u8, usize, usize); 6] = [(1, 64, 60), (2, 68, 60), (3, 94, 60), (12, 12, 8), (37, 104, 60), (38, 80, 60)];

#[test]
fn listing_entry_lengths() {
    for (c, fixed, _) in LISTINGS {
        let (bytes, n) = directory_entries(c, &[file("report.docx")], 65536).unwrap();
        assert_eq!((bytes.len(), n), (fixed + 22, 1), "class {c}");
        assert_eq!(directory_entries(c, &[], fixed - 1), Err(InfoError::LengthMismatch), "class {c}");
        assert_eq!(directory_entries(c, &[], fixed), Ok((vec![], 0)), "class {c}");
        // The first entry must fit whole.
        assert_eq!(directory_entries(c, &[file("report.docx")], fixed + 21), Err(InfoError::LengthMismatch), "class {c}");
        assert_eq!(directory_entries(c, &[file("report.docx")], fixed + 22).unwrap().1, 1, "class {c}");
    }
    for c in [0, 4, 13, 18, 36, 39, 60, 255] {
        assert_eq!(directory_entries(c, &[file("a")], 65536), Err(InfoError::UnknownClass), "class {c}");
    }
}

#[test]
fn listing_chains_and_aligns() {
    let nodes = [dir("."), dir(".."), file("a"), file("bb.txt"), dir("Finance 2024"), file("ü€𝄞.pdf")];
    let (bytes, n) = directory_entries(class::FILE_ID_FULL_DIRECTORY, &nodes, 65536).unwrap();
    assert_eq!(n, nodes.len());
    let lens: Vec<usize> = nodes.iter().map(|n| 80 + 2 * n.name.encode_utf16().count()).collect();
    let mut at = 0;
    for (i, len) in lens.iter().enumerate() {
        let next = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if i + 1 == lens.len() {
            assert_eq!(next, 0);
            assert_eq!(at + len, bytes.len(), "the last entry is not padded");
        } else {
            assert_eq!(next, len.next_multiple_of(8));
            assert!(bytes[at + len..at + next].iter().all(|&b| b == 0), "padding is zeros");
        }
        at += next;
    }
    // "." is a directory: attributes 0x10, no size.
    assert_eq!(bytes[56..60], [0x10, 0, 0, 0]);
    assert_eq!(bytes[40..56], [0; 16]);
}

#[test]
fn listing_cut_by_max_output() {
    let nodes = [file("one.txt"), file("two.txt"), file("three.txt")];
    // 104 + 14 = 118, padded to 120; the second ends at 238, the third at 120 + 120 + 122 = 362.
    for (max, want) in [(118, 1), (237, 1), (238, 2), (361, 2), (362, 3), (65536, 3)] {
        let (bytes, n) = directory_entries(class::FILE_ID_BOTH_DIRECTORY, &nodes, max).unwrap();
        assert_eq!(n, want, "max {max}");
        assert!(bytes.len() <= max);
        let last = bytes.len() - 104 - 2 * nodes[n - 1].name.len();
        assert_eq!(bytes[last..last + 4], [0; 4], "max {max}: the last entry ends the chain");
    }
}

/// A reference parser: the names of a chained listing, checking offsets and bounds.
fn parse(class: u8, bytes: &[u8]) -> Vec<String> {
    let (_, fixed, len_at) = LISTINGS.iter().copied().find(|l| l.0 == class).unwrap();
    let mut names = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        assert_eq!(at % 8, 0);
        let e = &bytes[at..];
        let next = u32::from_le_bytes(e[0..4].try_into().unwrap()) as usize;
        let len = u32::from_le_bytes(e[len_at..len_at + 4].try_into().unwrap()) as usize;
        assert_eq!(u32::from_le_bytes(e[4..8].try_into().unwrap()), 0, "FileIndex");
        let units: Vec<u16> = e[fixed..fixed + len].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        names.push(String::from_utf16(&units).unwrap());
        if next == 0 {
            assert_eq!(fixed + len, e.len(), "no bytes after the last entry");
            break;
        }
        assert!(next >= fixed + len && next < e.len());
        at += next;
    }
    names
}

#[test]
fn generated_listings_parse_back() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let alphabet: Vec<char> = "abcXYZ019 ._-~äöüßéñ€中文𝄞😀".chars().collect();
    for round in 0..300 {
        let names: Vec<String> = (0..rand(12)).map(|_| (0..1 + rand(40)).map(|_| alphabet[rand(alphabet.len() as u64) as usize]).collect()).collect();
        let nodes: Vec<Node<'_>> = names
            .iter()
            .map(|n| Node { name: n, directory: rand(3) == 0, size: rand(1 << 40), created: rand(u64::MAX), written: rand(u64::MAX), file_id: rand(u64::MAX) })
            .collect();
        let (c, fixed, _) = LISTINGS[round % LISTINGS.len()];
        let max = fixed + rand(3000) as usize;
        match directory_entries(c, &nodes, max) {
            Ok((bytes, n)) => {
                assert!(bytes.len() <= max);
                assert_eq!(parse(c, &bytes), names[..n]);
                if n < names.len() {
                    let need = bytes.len().next_multiple_of(8) + fixed + 2 * names[n].encode_utf16().count();
                    assert!(need > max, "round {round}: entry {n} would have fitted");
                }
            }
            Err(e) => {
                assert_eq!(e, InfoError::LengthMismatch);
                assert!(fixed + 2 * names[0].encode_utf16().count() > max);
            }
        }
    }
}

#[test]
fn file_class_lengths() {
    let f = file("a.txt");
    // (class, length of the answer for a file at "\\dir\\a.txt", least output accepted)
    let table = [
        (class::FILE_BASIC, 40, 40),
        (class::FILE_STANDARD, 24, 24),
        (class::FILE_INTERNAL, 8, 8),
        (class::FILE_EA, 4, 4),
        (class::FILE_ACCESS, 4, 4),
        (class::FILE_POSITION, 8, 8),
        (class::FILE_MODE, 4, 4),
        (class::FILE_ALIGNMENT, 4, 4),
        (class::FILE_ALL, 100 + 20, 104),
        (class::FILE_STREAM, 24 + 14, 32),
        (class::FILE_COMPRESSION, 16, 16),
        (class::FILE_NETWORK_OPEN, 56, 56),
        (class::FILE_ATTRIBUTE_TAG, 8, 8),
        (class::FILE_NORMALIZED_NAME, 4 + 18, 8),
    ];
    for (c, len, least) in table {
        let info = file_info(c, &f, "\\dir\\a.txt", ALL_ACCESS, 4096).unwrap();
        assert_eq!((info.bytes.len(), info.overflow), (len, false), "class {c}");
        assert_eq!(file_info(c, &f, "\\dir\\a.txt", ALL_ACCESS, least - 1), Err(InfoError::LengthMismatch), "class {c}");
        assert!(file_info(c, &f, "\\dir\\a.txt", ALL_ACCESS, least).is_ok(), "class {c}");
    }
    for c in [0, 1, 9, 10, 13, 19, 20, 23, 29, 36, 37, 59, 255] {
        assert_eq!(file_info(c, &f, "\\a.txt", ALL_ACCESS, 4096), Err(InfoError::UnknownClass), "class {c}");
    }
}

#[test]
fn file_info_fields() {
    let f = file("a.txt");
    let std = file_info(class::FILE_STANDARD, &f, "\\a.txt", ALL_ACCESS, 24).unwrap().bytes;
    assert_eq!(std, hex("0020000000000000 8813000000000000 01000000 00 00 0000"));
    let d = file_info(class::FILE_STANDARD, &dir("d"), "\\d", ALL_ACCESS, 24).unwrap().bytes;
    assert_eq!(d, hex("0000000000000000 0000000000000000 01000000 00 01 0000"));
    assert_eq!(file_info(class::FILE_INTERNAL, &f, "\\a.txt", ALL_ACCESS, 8).unwrap().bytes, hex("3412000000000500"));
    assert_eq!(file_info(class::FILE_ACCESS, &f, "\\a.txt", 0x0012_0089, 8).unwrap().bytes, hex("89001200"));
    assert_eq!(file_info(class::FILE_ATTRIBUTE_TAG, &f, "\\a.txt", ALL_ACCESS, 8).unwrap().bytes, hex("20000000 00000000"));
    assert_eq!(file_info(class::FILE_COMPRESSION, &f, "\\a.txt", ALL_ACCESS, 16).unwrap().bytes, hex("8813000000000000 0000 00 00 00 000000"));
    let net = file_info(class::FILE_NETWORK_OPEN, &f, "\\a.txt", ALL_ACCESS, 56).unwrap().bytes;
    assert_eq!(net[32..], hex("0020000000000000 8813000000000000 20000000 00000000"));
    let streams = file_info(class::FILE_STREAM, &f, "\\a.txt", ALL_ACCESS, 64).unwrap().bytes;
    assert_eq!(streams, hex("00000000 0e000000 8813000000000000 0020000000000000 3a003a0024004400410054004100"));
    assert_eq!(file_info(class::FILE_STREAM, &dir("d"), "\\d", ALL_ACCESS, 64).unwrap(), Info { bytes: vec![], overflow: false });
}

#[test]
fn all_information_and_names() {
    let f = file("a.txt");
    let all = file_info(class::FILE_ALL, &f, "\\dir\\a.txt", 0x0012_0089, 4096).unwrap().bytes;
    assert_eq!(all[..40], file_info(class::FILE_BASIC, &f, "", ALL_ACCESS, 40).unwrap().bytes);
    assert_eq!(all[40..64], file_info(class::FILE_STANDARD, &f, "", ALL_ACCESS, 40).unwrap().bytes);
    assert_eq!(all[64..96], hex("3412000000000500 00000000 89001200 0000000000000000 00000000 00000000"));
    assert_eq!(all[96..], hex("14000000 5c006400690072005c0061002e00740078007400"));
    // The normalized name has no leading backslash; the root's is empty.
    let norm = file_info(class::FILE_NORMALIZED_NAME, &f, "\\dir\\a.txt", ALL_ACCESS, 4096).unwrap().bytes;
    assert_eq!(norm, hex("12000000 6400690072005c0061002e00740078007400"));
    assert_eq!(file_info(class::FILE_NORMALIZED_NAME, &dir(""), "\\", ALL_ACCESS, 8).unwrap().bytes, hex("00000000"));
    let root = file_info(class::FILE_ALL, &dir(""), "\\", ALL_ACCESS, 4096).unwrap().bytes;
    assert_eq!(root[96..], hex("02000000 5c00"));
}

#[test]
fn names_cut_with_buffer_overflow() {
    let f = file("a.txt");
    // 20 bytes of name after 100: room for 5 whole units in 111, 5 in 110.
    for max in [110, 111] {
        let info = file_info(class::FILE_ALL, &f, "\\dir\\a.txt", ALL_ACCESS, max).unwrap();
        assert!(info.overflow);
        assert_eq!(info.status(), 0x8000_0005);
        assert_eq!(info.bytes.len(), 110);
        assert_eq!(info.bytes[96..100], [20, 0, 0, 0], "FileNameLength stays the whole name's");
    }
    assert!(!file_info(class::FILE_ALL, &f, "\\dir\\a.txt", ALL_ACCESS, 120).unwrap().overflow);
    let norm = file_info(class::FILE_NORMALIZED_NAME, &f, "\\dir\\a.txt", ALL_ACCESS, 9).unwrap();
    assert_eq!((norm.bytes, norm.overflow), (hex("12000000 64006900"), true));
    // A stream entry does not fit in 32..38 bytes: none is returned.
    for max in [32, 37] {
        assert_eq!(file_info(class::FILE_STREAM, &f, "\\a.txt", ALL_ACCESS, max), Ok(Info { bytes: vec![], overflow: true }));
    }
    let label = fs_info(class::FS_VOLUME, &Volume { label: "Finance", ..volume() }, 25).unwrap();
    assert_eq!((label.bytes.len(), label.overflow, label.bytes[12]), (24, true, 14));
    let ntfs = fs_info(class::FS_ATTRIBUTE, &volume(), 17).unwrap();
    assert_eq!((ntfs.bytes, ntfs.overflow), (hex("ff06c700 ff000000 08000000 4e005400"), true));
}

#[test]
fn file_info_refusals() {
    let f = file("a.txt");
    for c in [class::FILE_BASIC, class::FILE_ALL, class::FILE_NETWORK_OPEN, class::FILE_ATTRIBUTE_TAG] {
        assert_eq!(file_info(c, &f, "\\a.txt", 0x0012_0001, 4096), Err(InfoError::AccessDenied), "class {c}");
        assert!(file_info(c, &f, "\\a.txt", 0x80, 4096).is_ok(), "class {c}");
    }
    assert!(file_info(class::FILE_STANDARD, &f, "\\a.txt", 0, 4096).is_ok());
    assert_eq!(file_info(class::FILE_FULL_EA, &f, "\\a.txt", 0x80, 4096), Err(InfoError::AccessDenied));
    assert_eq!(file_info(class::FILE_FULL_EA, &f, "\\a.txt", 0x08, 4096), Err(InfoError::NoEas));
    assert_eq!(file_info(class::FILE_ALTERNATE_NAME, &f, "\\a.txt", ALL_ACCESS, 4096), Err(InfoError::NameNotFound));
    assert_eq!(file_info(class::FILE_ALTERNATE_NAME, &f, "\\a.txt", ALL_ACCESS, 7), Err(InfoError::LengthMismatch));
}

#[test]
fn fs_class_lengths_and_fields() {
    let v = volume();
    // (class, length, least output accepted)
    let table = [
        (class::FS_VOLUME, 18 + 8, 24),
        (class::FS_SIZE, 24, 24),
        (class::FS_DEVICE, 8, 8),
        (class::FS_ATTRIBUTE, 20, 12),
        (class::FS_FULL_SIZE, 32, 32),
        (class::FS_SECTOR_SIZE, 28, 28),
    ];
    for (c, len, least) in table {
        assert_eq!(fs_info(c, &v, 4096).unwrap().bytes.len(), len, "class {c}");
        assert_eq!(fs_info(c, &v, least - 1), Err(InfoError::LengthMismatch), "class {c}");
        assert!(fs_info(c, &v, least).is_ok(), "class {c}");
    }
    let vol = fs_info(class::FS_VOLUME, &v, 4096).unwrap().bytes;
    assert_eq!(vol, hex("0000000000 00d501 4d3c2b1a 08000000 01 00 44006100740061 00"));
    assert_eq!(fs_info(class::FS_VOLUME, &Volume { label: "", ..v }, 24).unwrap().bytes.len(), 18);
    assert_eq!(fs_info(class::FS_SIZE, &v, 24).unwrap().bytes, hex("0000900100000000 4054890000000000 08000000 00020000"));
    let full = fs_info(class::FS_FULL_SIZE, &v, 32).unwrap().bytes;
    assert_eq!(full[8..16], full[16..24]);
    assert_eq!(fs_info(class::FS_DEVICE, &v, 8).unwrap().bytes, hex("07000000 20000000"));
    assert_eq!(fs_info(class::FS_ATTRIBUTE, &v, 64).unwrap().bytes, hex("ff06c700 ff000000 08000000 4e00540046005300"));
    assert_eq!(fs_info(class::FS_SECTOR_SIZE, &v, 28).unwrap().bytes, hex("00020000 00020000 00020000 00020000 03000000 00000000 00000000"));
    assert_eq!(fs_info(class::FS_OBJECT_ID, &v, 64), Err(InfoError::NameNotFound));
    assert_eq!(fs_info(class::FS_OBJECT_ID, &v, 63), Err(InfoError::LengthMismatch));
    for c in [0, 2, 6, 9, 10, 12, 13, 255] {
        assert_eq!(fs_info(c, &v, 4096), Err(InfoError::UnknownClass), "class {c}");
    }
}
