//! What a honey share says about its files and its volume: the structures an SMB2 server
//! returns for QUERY_DIRECTORY and QUERY_INFO (MS-FSCC §2.4 file and §2.5 file system
//! information classes, MS-SMB2 §2.2.34 and §2.2.38), laid out as a Windows Server 2019
//! NTFS volume answers over SMB for a read-only share, and the self-relative security
//! descriptor (MS-DTYP §2.4.6) its files show. Pure encoders: no I/O, no state.
//!
//! Too small an OutputBufferLength is answered as MS-SMB2 §3.3.5.18/§3.3.5.20 and MS-FSA
//! §2.1.5.6.3/§2.1.5.12-14 say: less than a structure's fixed part is refused with
//! STATUS_INFO_LENGTH_MISMATCH; a name (FileAllInformation's path, a volume label, the
//! file system's name) that does not fit is cut to whole UTF-16 units and answered with
//! STATUS_BUFFER_OVERFLOW and the cut bytes (`Info::overflow`); a security descriptor that
//! does not fit is refused with STATUS_BUFFER_TOO_SMALL and the size it needs.

/// FILE_ATTRIBUTE_DIRECTORY.
const ATTRIBUTE_DIRECTORY: u32 = 0x10;
/// FILE_ATTRIBUTE_ARCHIVE: NTFS sets it on every file written and nobody clears it here.
const ATTRIBUTE_ARCHIVE: u32 = 0x20;
/// The NTFS cluster size of a volume formatted with the defaults.
const CLUSTER: u64 = 4096;
/// FILE_READ_EA and FILE_READ_ATTRIBUTES (MS-SMB2 §2.2.13.1.1).
const FILE_READ_EA: u32 = 0x08;
const FILE_READ_ATTRIBUTES: u32 = 0x80;
/// The UTF-16 name of the single data stream every file has.
const DATA_STREAM: &str = "::$DATA";
/// What Windows Server's srv2 reports for NTFS in FileFsAttributeInformation (case
/// sensitive search, case preserved and Unicode names, persistent ACLs, compression,
/// quotas, sparse files, reparse points, cleanup results, POSIX unlink/rename, object ids,
/// encryption, named streams, hard links, extended attributes): the local 0x03E706FF
/// without the USN journal, open by file id and transactions, which it does not offer
/// remotely.
const NTFS_ATTRIBUTES: u32 = 0x00c7_06ff;

/// Information class numbers (MS-FSCC §2.4 and §2.5), as the request's FileInfoClass.
pub mod class {
    pub const FILE_DIRECTORY: u8 = 1;
    pub const FILE_FULL_DIRECTORY: u8 = 2;
    pub const FILE_BOTH_DIRECTORY: u8 = 3;
    pub const FILE_BASIC: u8 = 4;
    pub const FILE_STANDARD: u8 = 5;
    pub const FILE_INTERNAL: u8 = 6;
    pub const FILE_EA: u8 = 7;
    pub const FILE_ACCESS: u8 = 8;
    pub const FILE_NAMES: u8 = 12;
    pub const FILE_POSITION: u8 = 14;
    pub const FILE_FULL_EA: u8 = 15;
    pub const FILE_MODE: u8 = 16;
    pub const FILE_ALIGNMENT: u8 = 17;
    pub const FILE_ALL: u8 = 18;
    pub const FILE_ALTERNATE_NAME: u8 = 21;
    pub const FILE_STREAM: u8 = 22;
    pub const FILE_COMPRESSION: u8 = 28;
    pub const FILE_NETWORK_OPEN: u8 = 34;
    pub const FILE_ATTRIBUTE_TAG: u8 = 35;
    pub const FILE_ID_BOTH_DIRECTORY: u8 = 37;
    pub const FILE_ID_FULL_DIRECTORY: u8 = 38;
    pub const FILE_NORMALIZED_NAME: u8 = 48;
    pub const FS_VOLUME: u8 = 1;
    pub const FS_SIZE: u8 = 3;
    pub const FS_DEVICE: u8 = 4;
    pub const FS_ATTRIBUTE: u8 = 5;
    pub const FS_FULL_SIZE: u8 = 7;
    pub const FS_OBJECT_ID: u8 = 8;
    pub const FS_SECTOR_SIZE: u8 = 11;
}

/// SECURITY_INFORMATION bits of a QUERY_INFO's AdditionalInformation (MS-DTYP §2.4.7).
pub mod secinfo {
    pub const OWNER: u32 = 0x0000_0001;
    pub const GROUP: u32 = 0x0000_0002;
    pub const DACL: u32 = 0x0000_0004;
    pub const SACL: u32 = 0x0000_0008;
    pub const BACKUP: u32 = 0x0001_0000;
}

/// One file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    /// The last path component as a listing shows it ("." and ".." are ordinary nodes).
    pub name: &'a str,
    pub directory: bool,
    /// EndOfFile (0 for directories).
    pub size: u64,
    /// CreationTime, as a FILETIME (100 ns ticks since 1601).
    pub created: u64,
    /// LastWriteTime, also given as ChangeTime and LastAccessTime.
    pub written: u64,
    /// IndexNumber (FileInternalInformation), FileId in the Id* listings.
    pub file_id: u64,
}

impl Node<'_> {
    /// FILE_ATTRIBUTE_DIRECTORY for directories, FILE_ATTRIBUTE_ARCHIVE for files.
    pub fn attributes(&self) -> u32 {
        if self.directory {
            ATTRIBUTE_DIRECTORY
        } else {
            ATTRIBUTE_ARCHIVE
        }
    }

    /// AllocationSize: the size rounded up to whole 4 KiB clusters (0 for directories).
    pub fn allocation(&self) -> u64 {
        if self.directory {
            0
        } else {
            self.size.div_ceil(CLUSTER).saturating_mul(CLUSTER)
        }
    }
}

/// The volume a honey share sits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume<'a> {
    /// The volume label ("" for none).
    pub label: &'a str,
    pub serial: u32,
    /// VolumeCreationTime, as a FILETIME.
    pub created: u64,
    /// Allocation units (clusters) in all, and free.
    pub total_units: u64,
    pub free_units: u64,
    pub sectors_per_unit: u32,
    pub bytes_per_sector: u32,
}

/// An answer that is not refused: the bytes for the response's Buffer, and whether they
/// were cut to fit (STATUS_BUFFER_OVERFLOW, sent with the bytes in a QUERY_INFO response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub bytes: Vec<u8>,
    pub overflow: bool,
}

impl Info {
    /// The NT status the response carries: STATUS_SUCCESS or STATUS_BUFFER_OVERFLOW.
    pub fn status(&self) -> u32 {
        if self.overflow {
            0x8000_0005
        } else {
            0
        }
    }

    fn whole(bytes: Vec<u8>) -> Self {
        Info { bytes, overflow: false }
    }
}

/// Why an information request is refused; `status()` gives the NT status the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InfoError {
    /// STATUS_INVALID_INFO_CLASS: a class this server does not answer.
    #[error("unknown information class")]
    UnknownClass,
    /// STATUS_INFO_LENGTH_MISMATCH: the output buffer cannot hold the fixed part (or, in a
    /// listing, the first entry whole).
    #[error("output buffer too small for the structure")]
    LengthMismatch,
    /// STATUS_OBJECT_NAME_NOT_FOUND: no 8.3 name (FileAlternateNameInformation), no volume
    /// object id (FileFsObjectIdInformation).
    #[error("no such name")]
    NameNotFound,
    /// STATUS_ACCESS_DENIED: the open lacks the access the class needs, or a SACL was asked
    /// for (nobody holds ACCESS_SYSTEM_SECURITY on a decoy).
    #[error("access denied")]
    AccessDenied,
    /// STATUS_BUFFER_TOO_SMALL: a security descriptor that does not fit; the error response
    /// carries `needed` as its 4-byte ErrorData (MS-SMB2 §2.2.2.2, §3.3.5.20.3).
    #[error("security descriptor needs {needed} bytes")]
    BufferTooSmall { needed: u32 },
    /// STATUS_NO_EAS_ON_FILE: FileFullEaInformation on a file without extended attributes.
    #[error("no extended attributes")]
    NoEas,
}

impl InfoError {
    /// The NT status the server answers with.
    pub fn status(self) -> u32 {
        match self {
            InfoError::UnknownClass => 0xc000_0003,
            InfoError::LengthMismatch => 0xc000_0004,
            InfoError::NameNotFound => 0xc000_0034,
            InfoError::AccessDenied => 0xc000_0022,
            InfoError::BufferTooSmall { .. } => 0xc000_0023,
            InfoError::NoEas => 0xc000_0052,
        }
    }
}

trait Put {
    fn put16(&mut self, v: u16);
    fn put32(&mut self, v: u32);
    fn put64(&mut self, v: u64);
}

impl Put for Vec<u8> {
    fn put16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A length as a 32-bit field (lengths here are far below 4 GiB; saturates otherwise).
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The fixed part (FieldOffset of FileName) of each listing class.
fn listing_fixed(class: u8) -> Option<usize> {
    Some(match class {
        class::FILE_DIRECTORY => 64,
        class::FILE_FULL_DIRECTORY => 68,
        class::FILE_BOTH_DIRECTORY => 94,
        class::FILE_NAMES => 12,
        class::FILE_ID_BOTH_DIRECTORY => 104,
        class::FILE_ID_FULL_DIRECTORY => 80,
        _ => return None,
    })
}

/// QUERY_DIRECTORY output: as many whole entries of `class` as fit in `max_output` bytes,
/// each 8-byte aligned and chained by NextEntryOffset (the last one's is 0 and it is not
/// padded), and how many were written. FileIndex 0, EaSize 0, no 8.3 names (as on Windows
/// Server data volumes), FileId the node's `file_id`. An empty `entries` gives no bytes and
/// 0 (the caller answers STATUS_NO_MORE_FILES or STATUS_NO_SUCH_FILE). A buffer smaller
/// than the class's fixed part, or than the first entry, is refused with
/// STATUS_INFO_LENGTH_MISMATCH, as Samba does (MS-FSA would cut the first name with
/// STATUS_BUFFER_OVERFLOW, which MS-SMB2 §3.3.4.4 sends as an error without data anyway).
pub fn directory_entries(class: u8, entries: &[Node<'_>], max_output: usize) -> Result<(Vec<u8>, usize), InfoError> {
    let fixed = listing_fixed(class).ok_or(InfoError::UnknownClass)?;
    if max_output < fixed {
        return Err(InfoError::LengthMismatch);
    }
    let mut out = Vec::new();
    let mut last: Option<usize> = None;
    let mut count = 0;
    for node in entries {
        let name = utf16(node.name);
        let start = out.len().checked_next_multiple_of(8).ok_or(InfoError::LengthMismatch)?;
        match start.checked_add(fixed).and_then(|n| n.checked_add(name.len())) {
            Some(end) if end <= max_output => {}
            _ => break,
        }
        out.resize(start, 0);
        if let Some(prev) = last {
            if let Some(slot) = out.get_mut(prev..prev + 4) {
                slot.copy_from_slice(&len32(start - prev).to_le_bytes());
            }
        }
        listing_entry(&mut out, class, node, &name);
        last = Some(start);
        count += 1;
    }
    if count == 0 && !entries.is_empty() {
        return Err(InfoError::LengthMismatch);
    }
    Ok((out, count))
}

fn listing_entry(out: &mut Vec<u8>, class: u8, node: &Node<'_>, name: &[u8]) {
    out.put32(0); // NextEntryOffset, set when another entry follows
    out.put32(0); // FileIndex
    if class != class::FILE_NAMES {
        out.put64(node.created);
        out.put64(node.written); // LastAccessTime
        out.put64(node.written);
        out.put64(node.written); // ChangeTime
        out.put64(node.size);
        out.put64(node.allocation());
        out.put32(node.attributes());
    }
    out.put32(len32(name.len()));
    if class != class::FILE_NAMES && class != class::FILE_DIRECTORY {
        out.put32(0); // EaSize
    }
    if class == class::FILE_BOTH_DIRECTORY || class == class::FILE_ID_BOTH_DIRECTORY {
        out.extend_from_slice(&[0; 26]); // ShortNameLength, Reserved, ShortName[24]
    }
    if class == class::FILE_ID_BOTH_DIRECTORY {
        out.put16(0); // Reserved2
        out.put64(node.file_id);
    } else if class == class::FILE_ID_FULL_DIRECTORY {
        out.put32(0); // Reserved
        out.put64(node.file_id);
    }
    out.extend_from_slice(name);
}

/// QUERY_INFO, InfoType SMB2_0_INFO_FILE (1), for the open `node` at `path` (from the share
/// root, with a leading backslash: "\" for the root) opened with `access_mask` granted.
/// FileBasic/All/NetworkOpen/AttributeTagInformation need FILE_READ_ATTRIBUTES and
/// FileFullEaInformation FILE_READ_EA, or STATUS_ACCESS_DENIED (MS-SMB2 §3.3.5.20.1).
/// FileAllInformation carries `path`; FileNormalizedNameInformation the same path without
/// its leading backslash ("" for the root), as Samba answers over SMB 3.1.1
/// (the caller refuses it on older dialects with STATUS_NOT_SUPPORTED). FileStreamInformation
/// lists "::$DATA" for a file and nothing for a directory. FileAlternateNameInformation is
/// refused with STATUS_OBJECT_NAME_NOT_FOUND (no 8.3 names), FileFullEaInformation with
/// STATUS_NO_EAS_ON_FILE.
pub fn file_info(class: u8, node: &Node<'_>, path: &str, access_mask: u32, max_output: usize) -> Result<Info, InfoError> {
    use class::*;
    let needs = match class {
        FILE_BASIC | FILE_ALL | FILE_NETWORK_OPEN | FILE_ATTRIBUTE_TAG => FILE_READ_ATTRIBUTES,
        FILE_FULL_EA => FILE_READ_EA,
        _ => 0,
    };
    if access_mask & needs != needs {
        return Err(InfoError::AccessDenied);
    }
    let mut out = Vec::with_capacity(128);
    let fixed = match class {
        FILE_BASIC => {
            basic(&mut out, node);
            40
        }
        FILE_STANDARD => {
            standard(&mut out, node);
            24
        }
        FILE_INTERNAL | FILE_POSITION => {
            out.put64(if class == FILE_INTERNAL { node.file_id } else { 0 });
            8
        }
        FILE_EA | FILE_ACCESS | FILE_MODE | FILE_ALIGNMENT => {
            out.put32(if class == FILE_ACCESS { access_mask } else { 0 });
            4
        }
        FILE_ALL => {
            basic(&mut out, node);
            standard(&mut out, node);
            out.put64(node.file_id);
            out.put32(0); // EaSize
            out.put32(access_mask);
            out.put64(0); // CurrentByteOffset
            out.put32(0); // Mode
            out.put32(0); // AlignmentRequirement
            name_information(&mut out, path);
            104
        }
        FILE_ALTERNATE_NAME | FILE_NORMALIZED_NAME if max_output < 8 => return Err(InfoError::LengthMismatch),
        FILE_ALTERNATE_NAME => return Err(InfoError::NameNotFound),
        FILE_NORMALIZED_NAME => {
            name_information(&mut out, path.strip_prefix('\\').unwrap_or(path));
            8
        }
        FILE_FULL_EA => return Err(InfoError::NoEas),
        FILE_STREAM => return streams(node, max_output),
        FILE_COMPRESSION => {
            out.put64(node.size); // CompressedFileSize: the size of a file not compressed
            out.extend_from_slice(&[0; 8]); // COMPRESSION_FORMAT_NONE, shifts, Reserved
            16
        }
        FILE_NETWORK_OPEN => {
            times(&mut out, node);
            out.put64(node.allocation());
            out.put64(node.size);
            out.put32(node.attributes());
            out.put32(0); // Reserved
            56
        }
        FILE_ATTRIBUTE_TAG => {
            out.put32(node.attributes());
            out.put32(0); // ReparseTag
            8
        }
        _ => return Err(InfoError::UnknownClass),
    };
    fit(out, fixed, max_output)
}

fn times(out: &mut Vec<u8>, node: &Node<'_>) {
    out.put64(node.created);
    out.put64(node.written); // LastAccessTime
    out.put64(node.written);
    out.put64(node.written); // ChangeTime
}

fn basic(out: &mut Vec<u8>, node: &Node<'_>) {
    times(out, node);
    out.put32(node.attributes());
    out.put32(0); // Reserved
}

fn standard(out: &mut Vec<u8>, node: &Node<'_>) {
    out.put64(node.allocation());
    out.put64(node.size);
    out.put32(1); // NumberOfLinks
    out.push(0); // DeletePending
    out.push(u8::from(node.directory));
    out.put16(0); // Reserved
}

/// FILE_NAME_INFORMATION: FileNameLength (the whole name's, even when cut) and the name.
fn name_information(out: &mut Vec<u8>, name: &str) {
    let name = utf16(name);
    out.put32(len32(name.len()));
    out.extend_from_slice(&name);
}

/// FileStreamInformation (MS-FSA §2.1.5.12.29): less than sizeof(FILE_STREAM_INFORMATION)
/// is refused; an entry that does not fit is left out, with STATUS_BUFFER_OVERFLOW.
fn streams(node: &Node<'_>, max_output: usize) -> Result<Info, InfoError> {
    if max_output < 32 {
        return Err(InfoError::LengthMismatch);
    }
    if node.directory {
        return Ok(Info::whole(Vec::new()));
    }
    let name = utf16(DATA_STREAM);
    if 24 + name.len() > max_output {
        return Ok(Info { bytes: Vec::new(), overflow: true });
    }
    let mut out = Vec::with_capacity(24 + name.len());
    out.put32(0); // NextEntryOffset
    out.put32(len32(name.len()));
    out.put64(node.size);
    out.put64(node.allocation());
    out.extend_from_slice(&name);
    Ok(Info::whole(out))
}

/// `bytes` answered in `max_output`: refused under `fixed`; a trailing name that does not
/// fit cut to whole UTF-16 units (every name here starts at an even offset).
fn fit(mut bytes: Vec<u8>, fixed: usize, max_output: usize) -> Result<Info, InfoError> {
    if max_output < fixed {
        return Err(InfoError::LengthMismatch);
    }
    if bytes.len() <= max_output {
        return Ok(Info::whole(bytes));
    }
    bytes.truncate(max_output & !1);
    Ok(Info { bytes, overflow: true })
}

/// QUERY_INFO, InfoType SMB2_0_INFO_FILESYSTEM (2): the volume as NTFS describes it.
/// FileFsDeviceInformation is FILE_DEVICE_DISK with FILE_DEVICE_IS_MOUNTED, as the servers
/// made to pass for Windows (Samba, illumos) answer over SMB; FileFsAttributeInformation
/// "NTFS" with 255-character names; FileFsObjectIdInformation is refused with STATUS_OBJECT_NAME_NOT_FOUND, as NTFS does for
/// a volume that was never given an object id (MS-FSA §2.1.5.13.8); FileFsSectorSize
/// reports `bytes_per_sector` throughout, the device and partition aligned.
pub fn fs_info(class: u8, volume: &Volume<'_>, max_output: usize) -> Result<Info, InfoError> {
    use class::*;
    let mut out = Vec::with_capacity(64);
    let fixed = match class {
        FS_VOLUME => {
            let label = utf16(volume.label);
            out.put64(volume.created);
            out.put32(volume.serial);
            out.put32(len32(label.len()));
            out.push(1); // SupportsObjects
            out.push(0); // Reserved
            out.extend_from_slice(&label);
            24 // BlockAlign(FieldOffset(VolumeLabel), 8)
        }
        FS_SIZE | FS_FULL_SIZE => {
            out.put64(volume.total_units);
            out.put64(volume.free_units); // CallerAvailable (Available in FsSize)
            if class == FS_FULL_SIZE {
                out.put64(volume.free_units); // ActualAvailable
            }
            out.put32(volume.sectors_per_unit);
            out.put32(volume.bytes_per_sector);
            out.len()
        }
        FS_DEVICE => {
            out.put32(7); // FILE_DEVICE_DISK
            out.put32(0x20); // FILE_DEVICE_IS_MOUNTED
            8
        }
        FS_ATTRIBUTE => {
            let name = utf16("NTFS");
            out.put32(NTFS_ATTRIBUTES);
            out.put32(255); // MaximumComponentNameLength
            out.put32(len32(name.len()));
            out.extend_from_slice(&name);
            12
        }
        FS_OBJECT_ID if max_output < 64 => return Err(InfoError::LengthMismatch),
        FS_OBJECT_ID => return Err(InfoError::NameNotFound),
        FS_SECTOR_SIZE => {
            for _ in 0..4 {
                // Logical, physical for atomicity and for performance, effective physical
                out.put32(volume.bytes_per_sector);
            }
            out.put32(0x3); // SSINFO_FLAGS_ALIGNED_DEVICE | SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE
            out.put32(0); // ByteOffsetForSectorAlignment
            out.put32(0); // ByteOffsetForPartitionAlignment
            28
        }
        _ => return Err(InfoError::UnknownClass),
    };
    fit(out, fixed, max_output)
}

/// SE_SELF_RELATIVE, SE_DACL_PRESENT, SE_DACL_AUTO_INHERITED.
const SE_SELF_RELATIVE: u16 = 0x8000;
const SE_DACL_PRESENT: u16 = 0x0004;
const SE_DACL_AUTO_INHERITED: u16 = 0x0400;
/// OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE, and INHERITED_ACE.
const ACE_OI_CI: u8 = 0x03;
const ACE_INHERITED: u8 = 0x10;
/// FILE_GENERIC_READ | FILE_GENERIC_EXECUTE, and FILE_ALL_ACCESS.
const READ_EXECUTE: u32 = 0x0012_00a9;
const FULL_CONTROL: u32 = 0x001f_01ff;
/// S-1-1-0, S-1-5-32-544, S-1-5-18: (identifier authority, subauthorities).
const EVERYONE: (u8, &[u32]) = (1, &[0]);
const ADMINISTRATORS: (u8, &[u32]) = (5, &[32, 544]);
const SYSTEM: (u8, &[u32]) = (5, &[18]);

fn sid(out: &mut Vec<u8>, (authority, subs): (u8, &[u32])) {
    out.push(1); // Revision
    out.push(u8::try_from(subs.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&[0, 0, 0, 0, 0, authority]); // IdentifierAuthority, big-endian
    for s in subs {
        out.put32(*s);
    }
}

fn sid_len((_, subs): (u8, &[u32])) -> usize {
    8 + 4 * subs.len()
}

/// QUERY_INFO, InfoType SMB2_0_INFO_SECURITY (3): the security descriptor of anything in a
/// honey share, as `security_descriptor_of` gives it for a subfolder (its ACEs marked
/// INHERITED_ACE | OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE).
pub fn security_descriptor(additional: u32, max_output: usize) -> Result<Vec<u8>, InfoError> {
    security_descriptor_of(true, additional, max_output)
}

/// QUERY_INFO, InfoType SMB2_0_INFO_SECURITY (3): a self-relative SECURITY_DESCRIPTOR with
/// the parts `additional` asks for: owner BUILTIN\Administrators, group NT AUTHORITY\SYSTEM,
/// a DACL allowing read and execute to Everyone and full control to Administrators and
/// SYSTEM. The ACEs are inherited from the share's root, as on anything below it: INHERITED_ACE
/// on a file, INHERITED_ACE | OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE on a `directory`;
/// with the DACL the control is SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_AUTO_INHERITED
/// (0x8404), else SE_SELF_RELATIVE. Laid out as Windows lays it out: the DACL right after the
/// 20-byte header, then owner, then group. A SACL (or BACKUP_SECURITY_INFORMATION) is refused
/// with STATUS_ACCESS_DENIED: the open never holds ACCESS_SYSTEM_SECURITY. Other bits (label,
/// attribute, scope) add nothing. The caller checks READ_CONTROL. A descriptor larger than
/// `max_output` is refused with STATUS_BUFFER_TOO_SMALL and its size (MS-SMB2 §3.3.5.20.3).
pub fn security_descriptor_of(directory: bool, additional: u32, max_output: usize) -> Result<Vec<u8>, InfoError> {
    if additional & (secinfo::SACL | secinfo::BACKUP) != 0 {
        return Err(InfoError::AccessDenied);
    }
    let (owner, group, dacl) = (additional & secinfo::OWNER != 0, additional & secinfo::GROUP != 0, additional & secinfo::DACL != 0);
    let aces = [(READ_EXECUTE, EVERYONE), (FULL_CONTROL, ADMINISTRATORS), (FULL_CONTROL, SYSTEM)];
    let acl_len = 8 + aces.iter().map(|(_, s)| 8 + sid_len(*s)).sum::<usize>();
    let dacl_len = if dacl { acl_len } else { 0 };
    let owner_at = 20 + dacl_len;
    let group_at = owner_at + if owner { sid_len(ADMINISTRATORS) } else { 0 };
    let total = group_at + if group { sid_len(SYSTEM) } else { 0 };
    if total > max_output {
        return Err(InfoError::BufferTooSmall { needed: len32(total) });
    }
    let mut out = Vec::with_capacity(total);
    out.push(1); // Revision
    out.push(0); // Sbz1
    out.put16(if dacl { SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_AUTO_INHERITED } else { SE_SELF_RELATIVE });
    out.put32(if owner { len32(owner_at) } else { 0 });
    out.put32(if group { len32(group_at) } else { 0 });
    out.put32(0); // OffsetSacl
    out.put32(if dacl { 20 } else { 0 });
    if dacl {
        out.push(2); // AclRevision
        out.push(0); // Sbz1
        out.put16(u16::try_from(acl_len).unwrap_or(u16::MAX));
        out.put16(3); // AceCount
        out.put16(0); // Sbz2
        let flags = if directory { ACE_INHERITED | ACE_OI_CI } else { ACE_INHERITED };
        for (mask, who) in aces {
            out.push(0); // ACCESS_ALLOWED_ACE_TYPE
            out.push(flags);
            out.put16(u16::try_from(8 + sid_len(who)).unwrap_or(u16::MAX));
            out.put32(mask);
            sid(&mut out, who);
        }
    }
    if owner {
        sid(&mut out, ADMINISTRATORS);
    }
    if group {
        sid(&mut out, SYSTEM);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "info_tests.rs"]
mod tests;
