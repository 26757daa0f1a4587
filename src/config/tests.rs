//! Table tests of configuration parsing: every mistake found, each at its position.

use super::*;

fn errors(yaml: &str) -> Vec<ConfigError> {
    match parse_str("t.yaml", yaml) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => e.0,
    }
}

#[test]
fn embedded_default_and_complete_example_parse() {
    let c = parse_str(EMBEDDED_DEFAULT_NAME, EMBEDDED_DEFAULT).unwrap();
    assert_eq!(c.decoys.len(), 4);
    assert_eq!(c.decoys[0].listen().to_string(), "127.0.0.1:2323");
    assert_eq!(c.store.path, std::path::PathBuf::from("./honeyward.db"));
    assert!(matches!(c.sinks[0], SinkConfig::Stdout(_)));
    let full = parse_str("hospital.yaml", EXAMPLE_COMPLETE).unwrap();
    assert_eq!(full.sensor.name, "pacs-vlan-sensor-01");
    assert_eq!(full.decoys.len(), 10);
    assert!(full.decoys.iter().any(|d| matches!(d, DecoyConfig::Http(h) if h.tls.is_some())), "the example shows HTTPS");
    assert!(full.decoys.iter().any(|d| matches!(d, DecoyConfig::Smb(_))), "the example shows an SMB decoy");
}

#[test]
fn three_different_mistakes_are_all_reported_with_line_and_column() {
    let yaml = "\
decoys:
  - name: a
    type: tcp
    listen: 127.0.0.1:99999
  - name: a
    type: tcp
    listen: 127.0.0.1:2324
    bannr: hello
";
    let errs = errors(yaml);
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert_eq!(errs[0].position, Some((4, 13)));
    assert!(errs[0].message.contains("invalid listen address"));
    assert_eq!(errs[1].position.map(|p| p.0), Some(5));
    assert!(errs[1].message.contains("duplicate decoy name `a`"), "{}", errs[1].message);
    assert_eq!(errs[2].position.map(|p| p.0), Some(8));
    assert!(errs[2].message.contains("bannr"));
    let shown = errs[0].to_string();
    assert!(shown.starts_with("t.yaml:4:13: "), "{shown}");
    assert!(shown.contains("hint:"));
}

#[test]
fn table_of_single_mistakes() {
    let cases: &[(&str, &str, usize)] = &[
        ("sensr: {}\n", "unknown section `sensr`", 1),
        ("decoys:\n  - {name: a, type: tcp, listen: '127.0.0.1:1', limits: {max_connections: 0}}\n", "outside the allowed range", 2),
        ("decoys:\n  - {name: a, type: ftp, listen: '127.0.0.1:1'}\n", "unknown decoy type `ftp`", 2),
        ("decoys:\n  - {name: a, type: tcp, listen: '127.0.0.1:1', banner_file: /nonexistent/b}\n", "cannot read banner file", 2),
        ("store:\n  path: /nonexistent-dir/x.db\n", "does not exist", 2),
        ("store:\n  sync: sometimes\n", "sometimes", 2),
        ("decoys:\n  - {name: a, type: tcp, listen: '0.0.0.0:25'}\n  - {name: b, type: tcp, listen: '127.0.0.1:25'}\n", "already uses", 3),
        ("sinks:\n  - {name: 'bad name', type: stdout}\n", "not usable", 2),
        ("sinks:\n  - {name: s, type: file, path: /nonexistent-dir/e.jsonl}\n", "does not exist", 2),
        ("decoys:\n  - {name: a, type: tcp, listen: '127.0.0.1:1'}\n  - {name: b, type: tcp}\n", "missing field `listen`", 3),
        ("decoys: [\n", "invalid YAML", 2),
        ("sensor:\n  name: a\n  name: b\n", "invalid YAML", 3),
        ("sensor:\n  max_memory_mb: 8\n", "outside the allowed range", 2),
        ("console:\n  listen: 0.0.0.0:9080\n", "not loopback", 2),
        ("console:\n  listen: 127.0.0.1:9080\n  public_url: https://10.1.2.3\n", "IP address", 3),
        ("console:\n  listen: 127.0.0.1:9080\n  public_url: ftp://x/y\n", "invalid public_url", 3),
        ("console:\n  listen: 127.0.0.1:9080\n  session_hours: 0\n", "outside the allowed range", 3),
        ("decoys:\n  - {name: f, type: smb, listen: '127.0.0.1:1',\n     accept: everyone}\n", "unknown accept mode `everyone`", 3),
        ("decoys:\n  - {name: h, type: hl7, listen: '127.0.0.1:1',\n     personality: cloverleaf}\n", "unknown HL7 personality `cloverleaf`", 3),
        ("decoys:\n  - {name: h, type: hl7, listen: '127.0.0.1:1', max_message_bytes: 10}\n", "outside the allowed range", 2),
        ("decoys:\n  - name: f\n    type: smb\n    listen: '127.0.0.1:1'\n    shares:\n      - name: 'IPC$'\n", "not a share name", 6),
        ("decoys:\n  - name: f\n    type: smb\n    listen: '127.0.0.1:1'\n    shares:\n      - name: S\n        files:\n          - {path: '../etc/passwd', text: x}\n", "not a path in a share", 8),
        ("decoys:\n  - name: f\n    type: smb\n    listen: '127.0.0.1:1'\n    shares:\n      - name: S\n        files:\n          - {path: a.txt}\n", "needs one of source or text", 8),
        ("decoys:\n  - name: f\n    type: smb\n    listen: '127.0.0.1:1'\n    shares:\n      - name: S\n        files:\n          - {path: a.txt,\n             source: /nonexistent/a.txt}\n", "cannot read source file", 9),
        ("decoys:\n  - name: f\n    type: smb\n    listen: '127.0.0.1:1'\n    shares:\n      - name: S\n        files:\n          - {path: a/b.txt, text: x}\n          - {path: A, text: y}\n", "clashes", 9),
    ];
    for (yaml, needle, line) in cases {
        let errs = errors(yaml);
        assert_eq!(errs.len(), 1, "{yaml}: {errs:#?}");
        assert!(errs[0].message.contains(needle), "{yaml}: {}", errs[0].message);
        assert_eq!(errs[0].position.map(|p| p.0), Some(*line), "{yaml}: {errs:#?}");
    }
}

#[test]
fn defaults_fill_what_is_left_out() {
    let c = parse_str("t", "decoys:\n  - {name: d, type: tcp, listen: '[::1]:0'}\n").unwrap();
    let l = c.decoys[0].limits();
    assert_eq!(c.sensor.max_memory_mb, None, "no memory budget unless asked for");
    assert_eq!(l.max_connections, 1024);
    assert_eq!(l.max_connections_per_source, 64);
    assert_eq!(l.idle_timeout.as_secs(), 30);
    assert_eq!(c.store.sync, StoreSync::Full);
    assert!(c.sinks.is_empty());
    assert!(!c.sensor.name.is_empty());
}

#[test]
fn schema_describes_decoys_and_sinks() {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let text = schema.to_string();
    for needle in ["decoys", "sinks", "idle_timeout_seconds", "\"tcp\"", "\"file\""] {
        assert!(text.contains(needle), "schema lacks {needle}");
    }
}

#[test]
fn http_sinks_read_secrets_from_files_and_name_each_mistake_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("hec-token");
    std::fs::write(&token, "abc-123\n").unwrap();
    let ok = format!(
        "sinks:\n  - name: splunk\n    type: splunk_hec\n    url: https://10.20.0.9:8088\n    token_file: {}\n    allow_private_addresses: true\n",
        token.display()
    );
    let c = parse_str("t.yaml", &ok).unwrap();
    let SinkConfig::Http(h) = &c.sinks[0] else { panic!() };
    assert_eq!(h.url.path, "/services/collector/event");
    assert!(matches!(&h.auth, HttpAuth::Splunk(s) if s.expose() == "abc-123"));
    assert!(h.gzip && !h.incidents_only);
    assert!(!format!("{h:?}").contains("abc-123"), "Debug never shows the secret");

    let bad = "\
sinks:
  - name: splunk
    type: splunk_hec
    url: http://10.20.0.9:8088
    token_env: HONEYWARD_TEST_UNSET_VARIABLE_7
  - name: chat
    type: webhook
    format: irc
    url: https://hooks.example.com/x
  - name: es
    type: elastic
    url: ftp://es
";
    let errs = errors(bad);
    let at = |needle: &str| errs.iter().find(|e| e.message.contains(needle)).unwrap_or_else(|| panic!("{needle}: {errs:#?}")).position;
    assert_eq!(at("private address 10.20.0.9"), Some((4, 10)));
    assert_eq!(at("HONEYWARD_TEST_UNSET_VARIABLE_7 is not set"), Some((5, 16)));
    assert_eq!(at("format `irc`"), Some((8, 13)));
    assert_eq!(at("invalid URL"), Some((12, 10)));
}

#[test]
fn chat_webhooks_are_incidents_only_and_elastic_gets_its_bulk_path() {
    let yaml = "\
sinks:
  - name: teams
    type: webhook
    format: teams
    url: https://contoso.webhook.office.com/webhookb2/x
  - name: es
    type: elastic
    url: https://es.example.com:9200/
";
    let c = parse_str("t.yaml", yaml).unwrap();
    assert!(c.sinks[0].incidents_only());
    let SinkConfig::Http(es) = &c.sinks[1] else { panic!() };
    assert_eq!(es.url.path, "/_bulk");
    assert_eq!(es.url.to_string(), "https://es.example.com:9200/_bulk");
}

#[test]
fn credentials_over_plain_http_are_refused_except_to_loopback_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let sink = |url: &str, extra: &str| {
        format!("sinks:\n  - name: siem\n    type: http\n    url: {url}\n    token_file: {}\n    allow_private_addresses: true\n{extra}", token.display())
    };
    let refused = errors(&sink("http://10.20.0.9:8080/in", ""));
    assert!(refused.iter().any(|e| e.message.contains("credentials in clear over http://") && e.position == Some((4, 10))), "{refused:#?}");
    let refused = errors(&sink("http://10.20.0.9:8080/in", "    allow_plain_http: true\n"));
    assert!(refused.iter().any(|e| e.message.contains("credentials in clear")), "no opt-out beyond loopback: {refused:#?}");
    let refused = errors(&sink("http://127.0.0.1:8080/in", ""));
    assert!(refused.iter().any(|e| e.hint.as_deref().is_some_and(|h| h.contains("allow_plain_http"))), "{refused:#?}");
    assert!(parse_str("t.yaml", &sink("http://127.0.0.1:8080/in", "    allow_plain_http: true\n")).is_ok());
    assert!(parse_str("t.yaml", &sink("https://10.20.0.9:8443/in", "")).is_ok());
    assert!(
        parse_str("t.yaml", "sinks:\n  - name: plain\n    type: http\n    url: http://10.20.0.9:8080/in\n    allow_private_addresses: true\n").is_ok(),
        "no credentials, no refusal"
    );
}

#[test]
fn nats_credentials_and_ca_must_be_what_they_claim_and_name_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
    let creds = dir.path().join("ward.creds");
    std::fs::write(
        &creds,
        "-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\nSUAM\n------END USER NKEY SEED------\n",
    )
    .unwrap();
    let ok = format!(
        "controller:\n  listen: 127.0.0.1:8443\n  nats_url: tls://10.20.0.11:4222,tls://10.20.0.12:4222\n  nats_ca_file: {}\n  nats_creds_file: {}\n",
        ca.display(),
        creds.display()
    );
    let c = parse_str("t.yaml", &ok).unwrap();
    let nats = c.controller.unwrap().nats.unwrap();
    assert_eq!((nats.ca_file.as_deref(), nats.creds_file.as_deref()), (Some(ca.as_path()), Some(creds.as_path())));

    // The CA where the creds should be, a missing file, and a CA without a URL.
    let bad = format!(
        "controller:\n  listen: 127.0.0.1:8443\n  nats_url: nats://10.20.0.11:4222\n  nats_creds_file: {}\n  nats_ca_file: {}/missing.pem\nupstream:\n  url: https://10.20.0.4:8443\n  credential_file: {}/none.json\n  nats_ca_file: {}\n",
        ca.display(),
        dir.path().display(),
        dir.path().display(),
        ca.display()
    );
    let errs = errors(&bad);
    let at = |line: usize| errs.iter().find(|e| e.position.map(|p| p.0) == Some(line)).map(|e| e.message.clone()).unwrap_or_default();
    assert!(at(4).contains("is not a NATS .creds file"), "{errs:?}");
    assert!(at(5).contains("cannot read"), "{errs:?}");
}

#[test]
fn networks_name_addresses_by_the_most_specific_range_and_a_bad_range_is_placed() {
    let c = parse_str("t.yaml", "networks:\n  10.20.0.0/16: Clinical network\n  10.20.14.0/24: Radiology VLAN\n").unwrap();
    assert_eq!(c.networks.name_of("10.20.14.7".parse().unwrap()), Some("Radiology VLAN"));
    assert_eq!(c.networks.name_of("10.20.9.1".parse().unwrap()), Some("Clinical network"));
    assert_eq!(c.networks.name_of("192.0.2.1".parse().unwrap()), None);
    let e = errors("networks:\n  10.20.0.0/33: Too wide\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].position, Some((2, 17)), "{e:?}");
    assert!(e[0].message.contains("10.20.0.0/33"), "{e:?}");
}
