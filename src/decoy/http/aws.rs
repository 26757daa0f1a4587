//! The answer to AWS-signed requests: S3's `InvalidAccessKeyId` error, so that an
//! `aws` CLI pointed here by a planted credentials file sees a plausible refusal.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;

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
pub fn access_denied(key_id: &str, request_id: String) -> Response<Full<Bytes>> {
    let key_id: String = key_id.chars().take(128).collect();
    let rid: String = request_id.chars().filter(|c| c.is_ascii_hexdigit()).take(16).collect::<String>().to_uppercase();
    let host_id = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, request_id.as_bytes());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message><AWSAccessKeyId>{}</AWSAccessKeyId><RequestId>{rid}</RequestId><HostId>{host_id}</HostId></Error>",
        xml(&key_id)
    );
    Response::builder()
        .status(403)
        .header("x-amz-request-id", rid.as_str())
        .header("x-amz-id-2", host_id.as_str())
        .header("Content-Type", "application/xml")
        .header("Date", chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .header("Server", "AmazonS3")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_key_ids_cannot_break_the_xml() {
        let r = access_denied("AKIA</AWSAccessKeyId><x>&\u{0}", "01a2-22fa".into());
        assert_eq!(r.status(), 403);
        let body = format!("{:?}", r.body());
        assert!(body.contains("AKIA&lt;/AWSAccessKeyId&gt;&lt;x&gt;&amp;"), "{body}");
    }
}
