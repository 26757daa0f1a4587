//! DIMSE command sets (group 0000, always implicit VR little endian): decoding what a
//! peer sends, under caps, and encoding the decoy's responses with the group length
//! first and elements in tag order, as DCMTK-based servers write them.

/// Command Field values.
pub mod field {
    pub const C_STORE_RQ: u16 = 0x0001;
    pub const C_STORE_RSP: u16 = 0x8001;
    pub const C_GET_RQ: u16 = 0x0010;
    pub const C_FIND_RQ: u16 = 0x0020;
    pub const C_MOVE_RQ: u16 = 0x0021;
    pub const C_ECHO_RQ: u16 = 0x0030;
    pub const C_ECHO_RSP: u16 = 0x8030;
    pub const C_CANCEL_RQ: u16 = 0x0FFF;
}

/// Command Data Set Type meaning "no data set follows".
pub const NO_DATA_SET: u16 = 0x0101;

/// Most elements read from one command set.
const MAX_ELEMENTS: usize = 64;

/// A decoded command set: the elements the decoy acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    pub field: u16,
    pub message_id: u16,
    /// Affected or Requested SOP Class UID (0000,0002 / 0000,0003).
    pub sop_class: Option<String>,
    /// Affected SOP Instance UID (0000,1000).
    pub sop_instance: Option<String>,
    /// Move Destination (0000,0600).
    pub move_destination: Option<String>,
    pub priority: u16,
    /// A data set follows (Command Data Set Type other than 0x0101).
    pub has_data_set: bool,
    /// Status (0000,0900), in responses to our sub-operations.
    pub status: Option<u16>,
}

/// Why a command set could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DimseError {
    Truncated,
    TooManyElements,
    MissingCommandField,
}

fn text(value: &[u8]) -> String {
    let t = String::from_utf8_lossy(value);
    t.trim_end_matches(['\0', ' ']).trim_start().to_string()
}

fn u16_of(value: &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(value.get(..2)?.try_into().ok()?))
}

/// Decodes a command set.
pub fn decode(bytes: &[u8]) -> Result<Command, DimseError> {
    let mut cmd = Command { has_data_set: true, ..Default::default() };
    let mut field = None;
    let mut at = 0usize;
    let mut count = 0;
    while at < bytes.len() {
        count += 1;
        if count > MAX_ELEMENTS {
            return Err(DimseError::TooManyElements);
        }
        let head = bytes.get(at..at + 8).ok_or(DimseError::Truncated)?;
        let group = u16::from_le_bytes([head[0], head[1]]);
        let element = u16::from_le_bytes([head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let value = bytes.get(at + 8..(at + 8).checked_add(len).ok_or(DimseError::Truncated)?).ok_or(DimseError::Truncated)?;
        at += 8 + len;
        if group != 0x0000 {
            continue;
        }
        match element {
            0x0002 | 0x0003 => cmd.sop_class = Some(text(value)),
            0x0100 => field = u16_of(value),
            0x0110 => cmd.message_id = u16_of(value).unwrap_or(0),
            0x0600 => cmd.move_destination = Some(text(value)),
            0x0700 => cmd.priority = u16_of(value).unwrap_or(0),
            0x0800 => cmd.has_data_set = u16_of(value) != Some(NO_DATA_SET),
            0x0900 => cmd.status = u16_of(value),
            0x1000 => cmd.sop_instance = Some(text(value)),
            _ => {}
        }
    }
    cmd.field = field.ok_or(DimseError::MissingCommandField)?;
    Ok(cmd)
}

/// A value for an element of a command we write.
pub enum Value<'a> {
    Uid(&'a str),
    /// An AE title (padded with a space).
    Ae(&'a str),
    Us(u16),
}

fn push(out: &mut Vec<u8>, element: u16, value: &Value<'_>) {
    let bytes: Vec<u8> = match value {
        Value::Uid(uid) => {
            let mut b = uid.as_bytes().to_vec();
            if b.len() % 2 == 1 {
                b.push(0); // UIDs are padded with NUL to even length
            }
            b
        }
        Value::Ae(ae) => {
            let mut b = ae.as_bytes().to_vec();
            if b.len() % 2 == 1 {
                b.push(b' ');
            }
            b
        }
        Value::Us(v) => v.to_le_bytes().to_vec(),
    };
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&bytes);
}

/// Encodes a command set from (element, value) pairs, which must be in tag order;
/// the group length (0000,0000) is computed and written first.
pub fn encode(elements: &[(u16, Value<'_>)]) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    for (element, value) in elements {
        push(&mut body, *element, value);
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(&[0, 0, 0, 0, 4, 0, 0, 0]);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A response command: Affected SOP Class, Command Field, Message ID Being Responded
/// To, Command Data Set Type, Status (and the Affected SOP Instance when given).
pub fn response(field: u16, sop_class: &str, responding_to: u16, data_set: bool, status: u16, sop_instance: Option<&str>) -> Vec<u8> {
    let mut elements = vec![
        (0x0002, Value::Uid(sop_class)),
        (0x0100, Value::Us(field)),
        (0x0120, Value::Us(responding_to)),
        (0x0800, Value::Us(if data_set { 0x0000 } else { NO_DATA_SET })),
        (0x0900, Value::Us(status)),
    ];
    if let Some(uid) = sop_instance {
        elements.push((0x1000, Value::Uid(uid)));
    }
    encode(&elements)
}

/// The name of a command field, as recorded in events.
pub fn name(field: u16) -> String {
    match field {
        field::C_STORE_RQ => "C-STORE".into(),
        field::C_GET_RQ => "C-GET".into(),
        field::C_FIND_RQ => "C-FIND".into(),
        field::C_MOVE_RQ => "C-MOVE".into(),
        field::C_ECHO_RQ => "C-ECHO".into(),
        field::C_CANCEL_RQ => "C-CANCEL".into(),
        other => format!("0x{other:04X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_round_trip_through_the_decoder() {
        let bytes = response(field::C_ECHO_RSP, "1.2.840.10008.1.1", 7, false, 0, None);
        assert_eq!(&bytes[..12], &[0, 0, 0, 0, 4, 0, 0, 0, (bytes.len() - 12) as u8, 0, 0, 0], "group length first");
        let c = decode(&bytes).unwrap();
        assert_eq!((c.field, c.sop_class.as_deref(), c.has_data_set, c.status), (field::C_ECHO_RSP, Some("1.2.840.10008.1.1"), false, Some(0)));
    }

    #[test]
    fn table_of_hostile_command_sets() {
        assert_eq!(decode(&[0, 0, 0, 1]), Err(DimseError::Truncated));
        // A length running past the end.
        assert_eq!(decode(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1]), Err(DimseError::Truncated));
        // No command field.
        assert_eq!(decode(&encode(&[(0x0110, Value::Us(1))])), Err(DimseError::MissingCommandField));
        let many: Vec<u8> = (0..100u16).flat_map(|i| encode(&[(0x0100 + i, Value::Us(1))])).collect();
        assert_eq!(decode(&many), Err(DimseError::TooManyElements));
    }

    #[test]
    fn requests_from_dcmtk_decode() {
        let rq = encode(&[
            (0x0002, Value::Uid("1.2.840.10008.5.1.4.1.2.2.1")),
            (0x0100, Value::Us(field::C_FIND_RQ)),
            (0x0110, Value::Us(3)),
            (0x0700, Value::Us(0)),
            (0x0800, Value::Us(0)),
        ]);
        let c = decode(&rq).unwrap();
        assert_eq!((c.field, c.message_id, c.has_data_set), (field::C_FIND_RQ, 3, true));
        let mv = encode(&[(0x0100, Value::Us(field::C_MOVE_RQ)), (0x0600, Value::Ae("EVIL"))]);
        assert_eq!(decode(&mv).unwrap().move_destination.as_deref(), Some("EVIL"));
    }
}
