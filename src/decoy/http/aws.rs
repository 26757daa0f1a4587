//! The answer to AWS-signed requests: S3's `InvalidAccessKeyId` error, so that an
//! `aws` CLI pointed here by a planted credentials file sees a plausible refusal.

use bytes::Bytes;

use super::message::Response;

/// XML-escapes text (the key id is the attacker's).
fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A 403 `InvalidAccessKeyId` as S3 sends it. `request_id` is ours (unique per request).
pub fn access_denied(key_id: &str, request_id: String) -> Response {
    let key_id: String = key_id.chars().take(128).collect();
    let rid: String = request_id.chars().filter(|c| c.is_ascii_hexdigit()).take(16).collect::<String>().to_uppercase();
    let host_id = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, request_id.as_bytes());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message><AWSAccessKeyId>{}</AWSAccessKeyId><RequestId>{rid}</RequestId><HostId>{host_id}</HostId></Error>",
        xml(&key_id)
    );
    let headers = vec![
        ("x-amz-request-id".to_string(), rid.clone()),
        ("x-amz-id-2".to_string(), host_id),
        ("Content-Type".to_string(), "application/xml".to_string()),
        ("Content-Length".to_string(), body.len().to_string()),
        ("Date".to_string(), super::date::now()),
        ("Server".to_string(), "AmazonS3".to_string()),
    ];
    Response { status: 403, reason: "Forbidden".into(), headers, body: Bytes::from(body), head_only: false, close: false, raw: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_key_ids_cannot_break_the_xml() {
        let r = access_denied("AKIA</AWSAccessKeyId><x>&\u{0}", "01a2-22fa".into());
        assert_eq!(r.status, 403);
        let body = String::from_utf8_lossy(&r.body);
        assert!(body.contains("AKIA&lt;/AWSAccessKeyId&gt;&lt;x&gt;&amp;"), "{body}");
    }
}
