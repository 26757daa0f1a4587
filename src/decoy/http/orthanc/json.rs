//! JSON as Orthanc writes it (JsonCpp's styled writer as Orthanc 1.10 configures it):
//! three-space indents, `"key" : value`, keys in byte order, every non-empty array or
//! object on its own lines with the opening bracket on a fresh line after its key,
//! `[]`/`{}` for empty ones, no newline at the end. Pure; checked against captures.

use serde_json::Value;

/// `value` in Orthanc's layout. Object keys come out sorted, as JsonCpp's map keeps them
/// (serde_json's map is ordered by key unless `preserve_order` is on; we sort anyway).
pub fn styled(value: &Value) -> String {
    styled_with(value, "   ")
}

/// `value` in the same layout indented by `unit` (the DICOMweb plugin's writer
/// indents by a tab).
pub fn styled_with(value: &Value, unit: &str) -> String {
    let mut out = String::new();
    write(&mut out, value, 0, unit);
    out
}

fn indent(out: &mut String, level: usize, unit: &str) {
    for _ in 0..level {
        out.push_str(unit);
    }
}

/// Writes `value` at `level`; a container that follows a key starts on a fresh line.
fn write(out: &mut String, value: &Value, level: usize, unit: &str) {
    match value {
        Value::Array(items) if !items.is_empty() => members(out, (level, unit), ('[', ']'), items.iter().map(|v| (None, v))),
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            members(out, (level, unit), ('{', '}'), keys.into_iter().map(|k| (Some(k), &map[k])));
        }
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A non-empty container's members, one a line between its brackets: `"key" : ` before
/// each object member, and a fresh line before a member that is itself a container.
fn members<'a>(
    out: &mut String,
    (level, unit): (usize, &str),
    (open, close): (char, char),
    items: impl ExactSizeIterator<Item = (Option<&'a String>, &'a Value)>,
) {
    out.push(open);
    let last = items.len().saturating_sub(1);
    for (i, (key, child)) in items.enumerate() {
        out.push('\n');
        indent(out, level + 1, unit);
        if let Some(key) = key {
            out.push_str(&Value::String(key.clone()).to_string());
            out.push_str(" : ");
            if is_open_container(child) {
                out.push('\n');
                indent(out, level + 1, unit);
            }
        }
        write(out, child, level + 1, unit);
        if i < last {
            out.push(',');
        }
    }
    out.push('\n');
    indent(out, level, unit);
    out.push(close);
}

fn is_open_container(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty()) || matches!(v, Value::Object(o) if !o.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layouts_match_orthanc_captures() {
        // Each expected text was captured from Debian's Orthanc 1.10.1 on loopback.
        for (value, want) in [
            (json!([]), "[]"),
            (json!(["faf19e12-c0473804-e38fbd37-39b2be66-938912fd"]), "[\n   \"faf19e12-c0473804-e38fbd37-39b2be66-938912fd\"\n]"),
            (json!({"Done": true, "Exports": [], "Last": 0}), "{\n   \"Done\" : true,\n   \"Exports\" : [],\n   \"Last\" : 0\n}"),
            (
                json!({"ID": "x", "MainDicomTags": {"PatientSex": "M"}, "Studies": ["s"], "Type": "Patient", "IsStable": false}),
                "{\n   \"ID\" : \"x\",\n   \"IsStable\" : false,\n   \"MainDicomTags\" : \n   {\n      \"PatientSex\" : \"M\"\n   },\n   \"Studies\" : \n   [\n      \"s\"\n   ],\n   \"Type\" : \"Patient\"\n}",
            ),
            (json!([{"A": null}]), "[\n   {\n      \"A\" : null\n   }\n]"),
        ] {
            assert_eq!(styled(&value), want);
        }
    }
}
