//! The metrics table of `docs/operations.md` lists every family of
//! `icsfwd::testing::metrics::families::FAMILIES` — name, type and labels — and nothing else. (The
//! end-to-end test `e2e/metrics.rs` checks the same table against a real scrape.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeMap;

use icsfwd::testing::metrics::families::FAMILIES;

/// The table's rows: name → (type, labels).
fn documented() -> BTreeMap<String, (String, Vec<String>)> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    doc.lines()
        .filter(|l| l.starts_with("| `icsfwd_"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_owned();
            let labels = cells[3]
                .split(',')
                .map(|label| label.trim().trim_matches('`').to_owned())
                .filter(|label| !label.is_empty())
                .collect();
            (name, (cells[2].to_owned(), labels))
        })
        .collect()
}

#[test]
fn the_operations_doc_lists_every_metric_family_with_its_type_and_labels() {
    let documented = documented();
    let families: BTreeMap<String, (String, Vec<String>)> = FAMILIES
        .iter()
        .map(|f| {
            let labels = f.labels.iter().map(|l| (*l).to_owned()).collect();
            (f.name.to_owned(), (f.kind.as_str().to_owned(), labels))
        })
        .collect();
    assert_eq!(documented, families);
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    let rows = doc.lines().filter(|l| l.starts_with("| `icsfwd_")).count();
    assert_eq!(rows, FAMILIES.len(), "a family documented twice");
}
