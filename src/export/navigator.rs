//! A MITRE ATT&CK Navigator layer of the techniques the decoys observed: each
//! technique scored by the number of incidents that showed it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::event::Technique;
use crate::incident::Incident;

/// Layer format 4.5 (Navigator 5), Enterprise ATT&CK.
pub fn layer(incidents: &[Incident], title: &str) -> Value {
    let mut seen: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for i in incidents.iter().filter(|i| !i.suppressed) {
        for t in &i.techniques {
            let e = seen.entry(t.as_str()).or_default();
            e.0 += 1;
            e.1 += i.events;
        }
    }
    let max = seen.values().map(|(n, _)| *n).max().unwrap_or(1);
    let techniques: Vec<Value> = seen
        .iter()
        .map(|(id, (n, events))| {
            let name = Technique::from_id(id).map(Technique::name).unwrap_or(id);
            json!({
                "techniqueID": id,
                "score": n,
                "comment": format!("{name}: {n} incident(s), {events} event(s)"),
                "enabled": true,
                "showSubtechniques": true,
            })
        })
        .collect();
    json!({
        "name": title,
        "versions": {"attack": "16", "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": "Techniques observed by honeyward decoys; score = incidents.",
        "sorting": 3,
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": ["#fff7ec", "#d7301f"], "minValue": 0, "maxValue": max},
        "legendItems": [],
        "metadata": [{"name": "generated_by", "value": "honeyward"}],
    })
}
