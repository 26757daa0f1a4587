//! Exports of what the incident list shows (the same filters from the query string):
//! a STIX 2.1 bundle with the chosen TLP marking and producer, CSV, or an ATT&CK
//! Navigator layer, each as a download.

use std::sync::Arc;

use hyper::StatusCode;

use super::accounts::Session;
use super::http::{self, Reply};
use super::incident_list::search;
use super::pages::read;
use super::Console;
use crate::export::{csv, navigator, stix};
use crate::store::StoreReader;

/// Most incidents one export holds.
const EXPORT_MAX: usize = 10_000;

pub async fn export(console: &Arc<Console>, _s: &Session, query: Option<&str>) -> anyhow::Result<Reply> {
    let (mut wanted, _) = search(query);
    wanted.limit = EXPORT_MAX;
    let value = |key: &str| http::query_value(query, key).map(|v| v.trim().chars().take(200).collect::<String>()).filter(|v| !v.is_empty());
    let format = value("format").unwrap_or_default();
    let (incidents, acks) = read(console, move |r: &StoreReader| Ok((r.search_incidents(&wanted)?, r.acks()?))).await?;
    let (name, bytes) = match format.as_str() {
        "stix" => {
            let options = stix::StixOptions {
                organisation: value("organisation").unwrap_or_else(|| console.config.sensor.name.clone()),
                tlp: value("tlp").and_then(|t| stix::Tlp::parse(&t)).unwrap_or(stix::Tlp::Amber),
                include_private: value("include_private").is_some(),
                now: crate::event::Timestamp::now(),
            };
            ("honeyward-incidents.stix.json", serde_json::to_vec_pretty(&stix::bundle(&incidents, &options))?)
        }
        "csv" => ("honeyward-incidents.csv", csv::incidents(&incidents, &acks).into_bytes()),
        "attack" => ("honeyward-attack-layer.json", serde_json::to_vec_pretty(&navigator::layer(&incidents, "honeyward: techniques observed"))?),
        _ => return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", "format must be stix, csv or attack")),
    };
    Ok(http::attachment(name, bytes))
}
