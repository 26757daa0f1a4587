//! The console's incident list and page as an analyst drives them with curl: three
//! sources (127.0.0.2, .3 and .9) make three incidents; the list filters by severity,
//! source network, decoy and words, sorts by events, names the network from
//! `networks:`, and acknowledges chosen rows together; an incident's events come 100
//! a page and by kind; an acknowledgement can be taken back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::process::Command;
use std::time::Duration;

use common::console::{set_password, Curl};
use common::*;

/// Incident ids in the order a list page shows them.
fn rows(page: &str) -> Vec<String> {
    page.split("<td class=\"title\"><a href=\"/incidents/").skip(1).map(|r| r.split('"').next().unwrap().to_string()).collect()
}

#[test]
fn the_incident_list_filters_sorts_searches_and_acknowledges_in_bulk_and_an_incident_pages_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = format!("{}  - name: portal\n    type: http\n    listen: 127.0.0.1:0\n", tcp_decoy("banner", ""));
    let yaml =
        config(&decoys) + "networks:\n  127.0.0.0/30: Radiology VLAN\n  127.0.0.0/8: Loopback\nconsole:\n  listen: 127.0.0.1:0\n  password_login: true\n";
    let hw = Honeyward::start(dir.path(), &yaml);
    let (web, banner) = (hw.addr("portal"), hw.addr("banner"));
    let get = |from: &str, path: &str| {
        let ok = Command::new("curl").args(["-s", "-o", "/dev/null", "--interface", from, &format!("http://{web}{path}")]).status().unwrap().success();
        assert!(ok, "curl from {from}");
    };
    for p in ["/", "/admin", "/login"] {
        get("127.0.0.2", p);
    }
    let urls: Vec<String> = (0..120).map(|i| format!("http://{web}/wl/{i}.php")).collect();
    let mut many = Command::new("curl");
    many.args(["-s", "--interface", "127.0.0.3", "-o", "/dev/null"]);
    for u in &urls {
        many.args([u.as_str(), "-o", "/dev/null"]);
    }
    assert!(many.status().unwrap().success());
    let banner_from_9 = Command::new("curl")
        .args(["-s", "-m", "2", "-o", "/dev/null", "--interface", "127.0.0.9", &format!("telnet://{banner}")])
        .stdin(std::process::Stdio::null())
        .status();
    assert!(banner_from_9.is_ok());
    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "http_request") == 123 && count_kind(&db, "connection_closed") >= 2));
    std::thread::sleep(Duration::from_millis(1500));

    assert!(set_password(dir.path(), "duty-analyst", "a long enough passphrase").status.success());
    let jar = dir.path().join("cookies.txt");
    let curl = Curl { jar: &jar };
    let base = format!("http://localhost:{}", hw.addr("console").port());
    assert_eq!(curl.run(&["-d", "account=duty-analyst&password=a+long+enough+passphrase", &format!("{base}/login/password")]).0, 303);
    let list = |query: &str| {
        let (status, page) = curl.run(&[&format!("{base}/incidents{query}")]);
        assert_eq!(status, 200, "{query}");
        page
    };
    let all = list("");
    assert_eq!(rows(&all).len(), 3, "{all}");
    assert!(all.contains("Radiology VLAN") && all.contains("Loopback"), "the most specific network names each source");
    let text = cli(dir.path(), &["incidents", "list"]);
    assert!(text.contains("127.0.0.2 (Radiology VLAN)") && text.contains("127.0.0.9 (Loopback)"), "the CLI names them too: {text}");
    let sorted = list("?sort=events");
    let by_events = rows(&sorted);
    let scan = by_events[0].clone();
    assert!(sorted.contains("Web scan of portal"), "the scanner's title");
    assert_eq!(rows(&list("?source=127.0.0.0%2F30")).len(), 2, "the network holds .2 and .3");
    assert_eq!(rows(&list("?source=127.0.0.9")).len(), 1);
    assert_eq!(rows(&list("?decoy=banner")).len(), 1);
    assert_eq!(rows(&list("?q=scanned+portal")), std::slice::from_ref(&scan), "words of the summary");
    assert_eq!(rows(&list("?severity=critical")).len(), 0);
    let low = rows(&list("?severity=low"));
    assert_eq!(low.len(), 1, "the banner grab is low");
    assert!(list("?source=nonsense").contains("role=\"alert\""), "a bad address is said, not ignored silently");

    // The list's selection exported: CSV, an ATT&CK layer, STIX with the chosen marking.
    let (status, csv) = curl.run(&[&format!("{base}/incidents/export?format=csv&source=127.0.0.0%2F30")]);
    assert_eq!(status, 200);
    assert_eq!(csv.trim_end().lines().count(), 3, "a header and the two incidents of the network: {csv}");
    let (status, layer) = curl.run(&[&format!("{base}/incidents/export?format=attack&decoy=portal")]);
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&layer).unwrap()["techniques"].as_array().is_some_and(|t| !t.is_empty()), "{layer}");
    let (status, stix) =
        curl.run(&[&format!("{base}/incidents/export?format=stix&tlp=green&include_private=1&organisation=Example+Trust&source=127.0.0.0%2F30")]);
    assert_eq!(status, 200);
    let bundle: serde_json::Value = serde_json::from_str(&stix).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    assert!(objects.iter().any(|o| o["name"] == "TLP:GREEN") && objects.iter().any(|o| o["name"] == "Example Trust"), "{stix}");
    assert_eq!(objects.iter().filter(|o| o["type"] == "sighting").count(), 2);

    // Two chosen rows acknowledged together, with one note.
    let csrf = all.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let chosen = format!("csrf={csrf}&id={}&id={}&note=INC0042", by_events[0], by_events[1]);
    assert_eq!(curl.run(&["-H", &format!("Origin: {base}"), "-d", &chosen, &format!("{base}/incidents/ack")]).0, 303);
    assert_eq!(rows(&list("?unacked=1")), [by_events[2].clone()]);
    assert_eq!(cli(dir.path(), &["incidents", "list", "--unacked", "--json"]).lines().count(), 1, "the CLI sees the same acknowledgements");

    // The scanner's events: 100 a page, and by kind.
    let page = |query: &str| {
        let (status, page) = curl.run(&[&format!("{base}/incidents/{scan}{query}")]);
        assert_eq!(status, 200);
        page
    };
    let first = page("");
    let events_table = |p: &str| p.split("<h2 id=\"events\">").nth(1).unwrap().matches("<tr class=\"sev-").count();
    assert_eq!(events_table(&first), 100);
    assert!(first.contains("Next page") && !first.contains("Previous page"));
    assert!(first.contains("120 ×") && first.contains("&#x2f;wl&#x2f;*.php"), "the scan collapsed into one row");
    let second = page("?page=2");
    let total = db.query_row("SELECT events FROM incidents WHERE id = ?1", [&scan], |r| r.get::<_, i64>(0)).unwrap() as usize;
    assert_eq!(events_table(&second), total - 100);
    assert_eq!(events_table(&page("?kind=http_request")), 100);
    assert_eq!(events_table(&page("?kind=http_request&page=2")), 20);
    assert!(first.contains("<svg") && first.contains("Events per minute by decoy"), "the timeline");

    // Taking the acknowledgement back.
    assert!(first.contains("Take the acknowledgement back"));
    assert_eq!(curl.run(&["-H", &format!("Origin: {base}"), "-d", &format!("csrf={csrf}"), &format!("{base}/incidents/{scan}/unack")]).0, 303);
    assert!(rows(&list("?unacked=1")).contains(&scan));
}
