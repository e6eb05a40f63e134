//! The JSON rendering (design.md §5): one object per topology, an array for several.

use super::Report;

/// JSON per design.md §5: an object for one report, an array for several.
pub fn json(reports: &[Report]) -> String {
    let v = if reports.len() == 1 {
        serde_json::to_value(&reports[0])
    } else {
        serde_json::to_value(reports)
    };
    serde_json::to_string_pretty(&v.expect("reports serialise")).expect("json")
}
