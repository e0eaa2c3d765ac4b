//! The README's curl walk-through, run as printed against a fresh `grove serve`.
//!
//! The block after `<!-- readme-test: walkthrough -->` in README.md is run by bash with only
//! `localhost:6333` replaced by the test server's port, and `curl` wrapped to fail on an HTTP
//! error (`--fail-with-body`) and end each answer with a newline. Every answer must be Qdrant's
//! `"status": "ok"` envelope, and the query and count must return what the README says.

mod common;

use std::process::Command;

const README: &str = include_str!("../../README.md");
const MARKER: &str = "<!-- readme-test: walkthrough -->";
/// The LIMIT diagnostics example, which runs on the walk-through's collection.
const DIAGNOSTICS_MARKER: &str = "<!-- readme-test: diagnostics -->";

/// The shell block following `marker`.
fn block_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).unwrap_or_else(|| panic!("README.md lacks {marker}"));
    let rest = &text[start + marker.len()..];
    let open = rest.find("```sh\n").expect("a ```sh block after the marker") + "```sh\n".len();
    let close = rest[open..].find("\n```").expect("the block is closed");
    rest[open..open + close].to_string()
}

#[test]
fn readme_curl_walkthrough_runs_as_printed() {
    let server = common::Server::start(&[]);
    let block = [MARKER, DIAGNOSTICS_MARKER]
        .map(|m| block_after(README, m))
        .join("\n")
        .replace("localhost:6333", &format!("127.0.0.1:{}", server.http_port));
    assert!(!block.contains("localhost:"), "the walk-through must only talk to localhost:6333");
    let script = format!(
        "set -euo pipefail\ncurl() {{ command curl --fail-with-body --max-time 30 \"$@\"; echo; }}\n{block}\n"
    );
    let out = Command::new("bash").arg("-c").arg(&script).output().expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "walk-through failed ({}):\nstdout:\n{stdout}\nstderr:\n{}\nserver log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.log_text()
    );
    let answers: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(answers.len(), 8, "one answer per curl: {stdout}");
    for a in &answers {
        assert_eq!(a["status"], "ok", "{a}");
    }
    let query = &answers[4]["result"];
    let ids: Vec<u64> =
        query["points"].as_array().expect("points").iter().map(|p| p["id"].as_u64().expect("id")).collect();
    assert_eq!(ids, vec![2, 3], "{query}");
    assert_eq!(query["explain"]["path"], "exact", "{query}");
    assert_eq!(query["explain"]["allowed_points"], 2, "{query}");
    assert_eq!(query["explain"]["filter"]["indexed_fields"], serde_json::json!(["year"]), "{query}");
    assert_eq!(answers[5]["result"]["count"], 2, "{}", answers[5]);
    assert_eq!(answers[6]["result"]["points_count"], 5, "{}", answers[6]);
    let diagnosis = &answers[7]["result"];
    assert!(diagnosis.to_string().contains("\"label\""), "the diagnostic labels its query: {diagnosis}");
}

#[test]
fn block_extraction_finds_the_marked_block_only() {
    let text = "```sh\nnot this\n```\n<!-- m -->\ntext\n```sh\necho a\necho b\n```\n```sh\nnor this\n```";
    assert_eq!(block_after(text, "<!-- m -->"), "echo a\necho b");
}
