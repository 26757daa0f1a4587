//! The envelopes HAPI answers in: a searchset Bundle with its paging links, and the
//! OperationOutcome of an error.

use super::node::{escape_text, Node};
use super::ResourceType;

/// Why a resource is in a searchset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    Match,
    Include,
}

impl EntryMode {
    fn as_str(self) -> &'static str {
        match self {
            EntryMode::Match => "match",
            EntryMode::Include => "include",
        }
    }
}

/// One resource of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleEntry {
    pub resource_type: ResourceType,
    pub id: String,
    pub resource: Node,
    pub mode: EntryMode,
}

/// A page of search results and how to name the pages around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a> {
    /// The server's base URL, without a trailing `/` (`https://host/fhir`).
    pub base: &'a str,
    /// The Bundle's id (HAPI: a UUID per search).
    pub bundle_id: &'a str,
    /// When the search ran, as `meta.lastUpdated` (`2024-03-05T10:15:22.123+00:00`).
    pub last_updated: &'a str,
    /// Resources matched in all, and whether to say so (`Bundle.total`).
    pub matched: usize,
    pub show_total: bool,
    /// First match on this page, and the page size.
    pub offset: usize,
    pub count: usize,
    /// The request as the server understood it (the `self` link).
    pub self_link: &'a str,
    /// The search's id in HAPI's paging links (`_getpages`).
    pub paging_id: &'a str,
    /// `_format` and `_pretty`, repeated in the paging links when the request gave them.
    pub format: Option<&'a str>,
    pub pretty: bool,
}

impl Page<'_> {
    /// HAPI's link to the page at `offset`.
    fn link(&self, offset: usize) -> String {
        let mut url = format!("{}?_getpages={}&_getpagesoffset={offset}&_count={}", self.base, self.paging_id, self.count);
        if let Some(f) = self.format {
            url.push_str("&_format=");
            url.extend(form_urlencoded::byte_serialize(f.as_bytes()));
        }
        if self.pretty {
            url.push_str("&_pretty=true");
        }
        url.push_str("&_bundletype=searchset");
        url
    }
}

fn link(relation: &str, url: String) -> Node {
    Node::object().with("relation", relation).with("url", url)
}

/// A searchset Bundle: `self`, and `next` and `previous` when there are such pages; an
/// entry per resource with its full URL and search mode.
pub fn searchset(page: &Page, entries: Vec<BundleEntry>) -> Node {
    let mut links = vec![link("self", page.self_link.to_string())];
    if page.count > 0 && page.offset.saturating_add(page.count) < page.matched {
        links.push(link("next", page.link(page.offset + page.count)));
    }
    if page.offset > 0 && page.count > 0 {
        links.push(link("previous", page.link(page.offset.saturating_sub(page.count))));
    }
    let entries: Vec<Node> = entries
        .into_iter()
        .map(|e| {
            Node::object()
                .with("fullUrl", format!("{}/{}/{}", page.base, e.resource_type, e.id))
                .with("resource", e.resource)
                .with("search", Node::object().with("mode", e.mode.as_str()))
        })
        .collect();
    Node::resource("Bundle")
        .with("id", page.bundle_id)
        .with("meta", Node::object().with("lastUpdated", page.last_updated))
        .with("type", "searchset")
        .with_opt("total", page.show_total.then_some(page.matched))
        .with("link", links)
        .with_opt("entry", Some(entries))
}

/// An issue's type (the IssueType codes HAPI uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    Processing,
    NotFound,
    NotSupported,
}

impl IssueCode {
    fn as_str(self) -> &'static str {
        match self {
            IssueCode::Processing => "processing",
            IssueCode::NotFound => "not-found",
            IssueCode::NotSupported => "not-supported",
        }
    }
}

/// An OperationOutcome as HAPI writes one for an error: a generated narrative table of
/// the issue, and the issue with its diagnostics (`HAPI-2001: Resource Patient/99999 is
/// not known`).
pub fn outcome(code: IssueCode, diagnostics: &str) -> Node {
    let (severity, label) = ("error", "ERROR");
    let div = format!(
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><h1>Operation Outcome</h1><table border=\"0\"><tr><td style=\"font-weight: bold;\">{label}</td><td>[]</td><td>{}</td></tr></table></div>",
        escape_text(diagnostics)
    );
    Node::resource("OperationOutcome")
        .with("text", Node::object().with("status", "generated").with("div", Node::Xhtml(div)))
        .with("issue", vec![Node::object().with("severity", severity).with("code", code.as_str()).with_opt("diagnostics", Some(diagnostics))])
}

#[cfg(test)]
mod tests {
    use super::super::node::{to_json, to_xml};
    use super::*;

    fn page(offset: usize, count: usize, matched: usize) -> Page<'static> {
        Page {
            base: "https://pacs.example/fhir",
            bundle_id: "6f1c",
            last_updated: "2024-03-05T10:15:22.123+00:00",
            matched,
            show_total: true,
            offset,
            count,
            self_link: "https://pacs.example/fhir/Patient?family=ellis&_count=2",
            paging_id: "abc",
            format: None,
            pretty: true,
        }
    }

    fn links(b: &Node) -> Vec<(String, String)> {
        let Some(Node::Array(links)) = b.get("link") else { panic!("no links") };
        links
            .iter()
            .map(|l| (l.get("relation").and_then(Node::as_str).unwrap().to_string(), l.get("url").and_then(Node::as_str).unwrap().to_string()))
            .collect()
    }

    #[test]
    fn a_middle_page_links_to_the_pages_either_side_as_hapi_does() {
        let b = searchset(&page(2, 2, 5), Vec::new());
        let l = links(&b);
        assert_eq!(l.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(), ["self", "next", "previous"]);
        assert_eq!(l[1].1, "https://pacs.example/fhir?_getpages=abc&_getpagesoffset=4&_count=2&_pretty=true&_bundletype=searchset");
        assert_eq!(l[2].1, "https://pacs.example/fhir?_getpages=abc&_getpagesoffset=0&_count=2&_pretty=true&_bundletype=searchset");
        assert_eq!(b.get("total"), Some(&Node::Int(5)));
        assert_eq!(b.get("entry"), None);
    }

    #[test]
    fn the_first_and_last_pages_have_one_neighbour_and_format_is_repeated() {
        assert_eq!(links(&searchset(&page(0, 2, 5), Vec::new())).len(), 2);
        let last = Page { format: Some("application/fhir+xml"), pretty: false, ..page(4, 2, 5) };
        let l = links(&searchset(&last, Vec::new()));
        assert_eq!(l.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(), ["self", "previous"]);
        assert_eq!(l[1].1, "https://pacs.example/fhir?_getpages=abc&_getpagesoffset=2&_count=2&_format=application%2Ffhir%2Bxml&_bundletype=searchset");
        assert_eq!(links(&searchset(&page(0, 0, 5), Vec::new())).len(), 1);
    }

    #[test]
    fn entries_carry_full_urls_and_search_modes() {
        let e =
            BundleEntry { resource_type: ResourceType::Patient, id: "1".into(), resource: Node::resource("Patient").with("id", "1"), mode: EntryMode::Match };
        let b = searchset(&page(0, 2, 1), vec![e]);
        let json = to_json(&b, false);
        assert!(
            json.contains(
                r#""entry":[{"fullUrl":"https://pacs.example/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}}]"#
            ),
            "{json}"
        );
        assert!(json.starts_with(
            r#"{"resourceType":"Bundle","id":"6f1c","meta":{"lastUpdated":"2024-03-05T10:15:22.123+00:00"},"type":"searchset","total":1,"link":"#
        ));
        let xml = to_xml(&b, false);
        assert!(xml.contains(r#"<entry><fullUrl value="https://pacs.example/fhir/Patient/1"/><resource><Patient xmlns="http://hl7.org/fhir"><id value="1"/></Patient></resource><search><mode value="match"/></search></entry>"#), "{xml}");
    }

    #[test]
    fn an_outcome_escapes_its_diagnostics_in_the_narrative() {
        let o = outcome(IssueCode::Processing, "HAPI-0524: Unknown search parameter \"<x>\"");
        let json = to_json(&o, false);
        assert!(json.contains(r#""issue":[{"severity":"error","code":"processing","diagnostics":"HAPI-0524: Unknown search parameter \"<x>\""}]"#), "{json}");
        assert!(json.contains("<td>HAPI-0524: Unknown search parameter &quot;&lt;x&gt;&quot;</td>"), "{json}");
    }
}
