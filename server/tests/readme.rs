//! Every example in README.md and deploy/README.md, run in order as printed.
//!
//! Each fenced `sh`, `bash`, `console` or `python` block must follow a marker comment:
//! `<!-- readme-test: run -->` (run it) or `<!-- readme-test: skip: <reason> -->` (the reason is
//! printed). A block without a marker fails the test, so a new example is run or explicitly
//! skipped. The run blocks of one file become one bash script, in order, against a fresh
//! `grove serve`, in a temporary working directory: `sh` blocks as they are, the `$ ` commands
//! of `console` blocks (with their `\` continuation lines; the rest is printed output), and
//! `python` blocks through `python3` (the one on PATH, which is a venv's after a block
//! activates it). Only `localhost:6333` is replaced, by the test server's address; `curl` is
//! wrapped to fail on an HTTP error (`--fail-with-body`) and end each answer with a newline.
//! deploy/README.md runs with an API key in `GROVE_API_KEY`, `GROVE_URL` set for `grove-cli`, and
//! a copy of `clients/python` in the working directory (its steps run from the repository root).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const README: &str = include_str!("../../README.md");
const DEPLOY_README: &str = include_str!("../../deploy/README.md");
const RUN: &str = "<!-- readme-test: run -->";
const SKIP: &str = "<!-- readme-test: skip:";
const SHELL_LANGS: &[&str] = &["sh", "bash", "console", "python"];

#[derive(Debug, Clone, PartialEq)]
enum Marker {
    Run,
    Skip(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    lang: String,
    body: String,
    marker: Option<Marker>,
}

/// Every fenced block of `text`, with the marker on the closest non-empty line before it.
fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(lang) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i;
        let mut end = i + 1;
        while end < lines.len() && lines[end].trim_end() != "```" {
            end += 1;
        }
        assert!(end < lines.len(), "the block at line {} is not closed", start + 1);
        let before = lines[..start].iter().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim());
        let marker = match before {
            Some(l) if l == RUN => Some(Marker::Run),
            Some(l) => l
                .strip_prefix(SKIP)
                .and_then(|r| r.strip_suffix("-->"))
                .map(|reason| Marker::Skip(reason.trim().to_owned())),
            None => None,
        };
        out.push(Block {
            line: start + 1,
            lang: lang.trim().to_owned(),
            body: lines[start + 1..end].join("\n"),
            marker,
        });
        i = end + 1;
    }
    out
}

/// The commands of a `console` block: `$ ` lines and the lines continuing them.
fn console_commands(body: &str) -> String {
    let mut out = Vec::new();
    let mut continuing = false;
    for l in body.lines() {
        if let Some(cmd) = l.strip_prefix("$ ") {
            out.push(cmd.to_owned());
            continuing = cmd.trim_end().ends_with('\\');
        } else if continuing {
            out.push(l.to_owned());
            continuing = l.trim_end().ends_with('\\');
        }
    }
    out.join("\n")
}

/// The bash script running a file's run blocks in order; each block's output follows a line
/// `@@block <line>@@`. Skipped blocks print their reason to stderr.
fn script(file: &str, text: &str, addr: &str) -> (String, Vec<usize>) {
    let mut s = String::from(
        "set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 120 \"$@\"; echo; }\n",
    );
    let mut run = Vec::new();
    for b in blocks(text) {
        if !SHELL_LANGS.contains(&b.lang.as_str()) {
            assert!(
                !b.lang.is_empty(),
                "{file}:{}: an untagged block; tag it (sh, console, text, ...)",
                b.line
            );
            continue;
        }
        match b.marker {
            None => panic!("{file}:{}: a {} block without `{RUN}` or `{SKIP} <reason> -->`", b.line, b.lang),
            Some(Marker::Skip(reason)) => {
                assert!(!reason.is_empty(), "{file}:{}: a skip marker needs a reason", b.line);
                eprintln!("readme: {file}:{}: skipped: {reason}", b.line);
            }
            Some(Marker::Run) => {
                let body = match b.lang.as_str() {
                    "console" => console_commands(&b.body),
                    "python" => format!("python3 - <<'GROVE_README_PY'\n{}\nGROVE_README_PY", b.body),
                    _ => b.body.clone(),
                };
                let body = body.replace("localhost:6333", addr);
                assert!(
                    !body.contains("localhost:"),
                    "{file}:{}: examples talk to localhost:6333 only",
                    b.line
                );
                s.push_str(&format!("echo '@@block {}@@'\n{body}\n", b.line));
                run.push(b.line);
            }
        }
    }
    (s, run)
}

/// `grove serve` on a port p with p + 1 free too (the clients derive gRPC = REST port + 1).
struct Server {
    child: Child,
    http_port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let (http, grpc) = loop {
            let a = TcpListener::bind("127.0.0.1:0").expect("bind");
            let p = a.local_addr().expect("addr").port();
            if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
                break (p, p + 1);
            }
        };
        let log = dir.path().join("grove.log");
        let child = Command::new(env!("CARGO_BIN_EXE_grove"))
            .arg("serve")
            .args(["--service-http-port", &http.to_string(), "--service-grpc-port", &grpc.to_string()])
            .args(["--storage-data-dir", dir.path().join("db").to_str().expect("utf-8")])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("spawn grove");
        let s = Server { child, http_port: http, log, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready(http) {
            assert!(Instant::now() < deadline, "grove did not become ready:\n{}", s.log_text());
            std::thread::sleep(Duration::from_millis(100));
        }
        s
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Whether `GET /readyz` answers 200 (collections loaded).
fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
    if c.write_all(b"GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    c.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a file's examples; returns each run block's output by its line.
fn run_file(
    file: &str,
    text: &str,
    server: &Server,
    cwd: &Path,
    env: &[(&str, String)],
) -> Vec<(usize, String)> {
    let addr = format!("127.0.0.1:{}", server.http_port);
    let (script, run) = script(file, text, &addr);
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{file}: examples failed ({}):\nstdout:\n{stdout}\nstderr:\n{}\nserver log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.log_text()
    );
    eprintln!("readme: {file}: ran the blocks at lines {run:?}");
    let mut parts = Vec::new();
    for chunk in stdout.split("@@block ").skip(1) {
        let (line, rest) = chunk.split_once("@@\n").unwrap_or((chunk.trim_end_matches('@'), ""));
        parts.push((line.trim_end_matches('@').parse().expect("block line"), rest.to_owned()));
    }
    for (line, out) in &parts {
        eprintln!("readme: {file}:{line} printed:\n{out}");
    }
    assert_eq!(parts.iter().map(|p| p.0).collect::<Vec<_>>(), run, "every run block printed its marker");
    parts
}

/// The JSON answers in a block's output (one per curl line); every Qdrant envelope must be ok.
fn answers(file: &str, line: usize, out: &str) -> Vec<serde_json::Value> {
    let v: Vec<serde_json::Value> = out
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{file}:{line}: not JSON ({e}): {l}")))
        .collect();
    for a in &v {
        if let Some(s) = a.get("status") {
            assert!(s == "ok" || s.get("error").is_none(), "{file}:{line}: {a}");
        }
    }
    v
}

fn block_output<'a>(parts: &'a [(usize, String)], text: &str, needle: &str) -> (usize, &'a str) {
    let line = blocks(text)
        .into_iter()
        .find(|b| b.marker == Some(Marker::Run) && b.body.contains(needle))
        .unwrap_or_else(|| panic!("no run block contains {needle}"))
        .line;
    let out = parts.iter().find(|p| p.0 == line).map(|p| p.1.as_str()).expect("the block ran");
    (line, out)
}

#[test]
fn readme_examples_run_in_order_as_printed() {
    let server = Server::start(&[]);
    let cwd = tempfile::tempdir().expect("cwd");
    let parts = run_file("README.md", README, &server, cwd.path(), &[]);
    for (line, out) in &parts {
        answers("README.md", *line, out);
    }

    // The walk-through: what the README says it answers.
    let (line, out) = block_output(&parts, README, "collections/papers/points/query");
    let a = answers("README.md", line, out);
    assert_eq!(a.len(), 7, "one answer per curl: {out}");
    let query = &a[4]["result"];
    let ids: Vec<u64> =
        query["points"].as_array().expect("points").iter().map(|p| p["id"].as_u64().expect("id")).collect();
    assert_eq!(ids, vec![2, 3], "{query}");
    assert_eq!(query["explain"]["path"], "exact", "{query}");
    assert_eq!(query["explain"]["allowed_points"], 2, "{query}");
    assert_eq!(query["explain"]["filter"]["indexed_fields"], serde_json::json!(["year"]), "{query}");
    assert_eq!(a[5]["result"]["count"], 2, "{}", a[5]);
    assert_eq!(a[6]["result"]["points_count"], 5, "{}", a[6]);

    let (line, out) = block_output(&parts, README, "mrl_docs/matryoshka/calibrate");
    let a = answers("README.md", line, out);
    let stages: Vec<u64> = a[2]["result"]["explain"]["matryoshka"]
        .as_array()
        .unwrap_or_else(|| panic!("matryoshka stages: {}", a[2]))
        .iter()
        .map(|s| s["dim"].as_u64().expect("dim"))
        .collect();
    assert_eq!(stages, vec![64, 128, 256], "{}", a[2]);
    assert!(!a[3]["result"]["rows"].as_array().expect("calibration rows").is_empty(), "{}", a[3]);

    let (line, out) = block_output(&parts, README, "bm25_docs/points/query");
    let a = answers("README.md", line, out);
    assert!(a[2]["result"]["explain"]["path"].as_str().expect("path").starts_with("sparse_"), "{}", a[2]);

    let (line, out) = block_output(&parts, README, "quant_docs/points/query");
    let a = answers("README.md", line, out);
    assert_eq!(a[2]["result"]["points"].as_array().expect("points").len(), 10, "{}", a[2]);
    assert!(a[2]["result"]["explain"]["quantization"].is_object(), "{}", a[2]);

    let (line, out) = block_output(&parts, README, "\"fusion\": \"rrf\"");
    let a = answers("README.md", line, out);
    assert_eq!(a[2]["result"]["points"][0]["id"], 1, "{}", a[2]);
    assert!(a[2]["result"]["stages"].is_object(), "{}", a[2]);

    let (line, out) = block_output(&parts, README, "diagnostics/subsets");
    let a = answers("README.md", line, out);
    // Point 1 (2024) is nearer the query than point 3, so the exact top-2 is not {2, 3}.
    let label = a[0]["result"]["queries"][0]["label"].as_str().unwrap_or_else(|| panic!("a label: {}", a[0]));
    assert!(["encoder_gap", "geometry_gap", "fragile"].contains(&label), "{}", a[0]);

    let (line, out) = block_output(&parts, README, "diagnostics/capacity");
    let a = answers("README.md", line, out);
    assert_eq!(a.len(), 3, "{out}");
    assert_eq!(a[0]["result"]["id"], 1, "{}", a[0]);
}

#[test]
fn deploy_readme_examples_run_in_order_as_printed() {
    let key = "readme-test-key";
    let server = Server::start(&["--security-api-key", key]);
    let cwd = tempfile::tempdir().expect("cwd");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let copy = Command::new("cp")
        .args([
            "-r",
            "--parents",
            "clients/python/pyproject.toml",
            "clients/python/README.md",
            "clients/python/src",
        ])
        .arg(cwd.path())
        .current_dir(&root)
        .status()
        .expect("cp");
    assert!(copy.success(), "copy clients/python");
    let env = [
        ("GROVE_API_KEY", key.to_owned()),
        ("GROVE_URL", format!("http://127.0.0.1:{}", server.http_port)),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1".to_owned()),
    ];
    let parts = run_file("deploy/README.md", DEPLOY_README, &server, cwd.path(), &env);
    let (_, out) = block_output(&parts, DEPLOY_README, "GroveClient(");
    let printed: Vec<&str> = out.lines().collect();
    assert_eq!(printed.len(), 3, "{out}");
    assert!(printed[1].contains("'category': 'cs.LG'"), "{out}");
    assert!(printed[2].starts_with("exact 0.0714 714 allowed points"), "{out}");
    let (_, out) = block_output(&parts, DEPLOY_README, "collections info papers");
    // Indexing is asynchronous: how many are in the graph yet depends on the machine's load.
    assert!(out.contains("points=10000 indexed="), "{out}");
    assert!(out.contains("explain: path=exact"), "{out}");
    let (line, out) = block_output(&parts, DEPLOY_README, "points/count");
    let a = answers("deploy/README.md", line, out);
    assert_eq!(a[0]["result"]["count"], 3334, "{out}");
}

#[test]
fn block_parsing_finds_markers_and_console_commands() {
    let text = "```sh\nnot marked\n```\n<!-- readme-test: run -->\n\n```console\n$ echo a \\\n  b\nout\n$ echo c\n```\n\
                <!-- readme-test: skip: needs Docker -->\n```python\nprint(1)\n```\n```json\n{}\n```";
    let b = blocks(text);
    assert_eq!(b.len(), 4);
    assert_eq!(b[0].marker, None);
    assert_eq!(b[1].marker, Some(Marker::Run));
    assert_eq!(console_commands(&b[1].body), "echo a \\\n  b\necho c");
    assert_eq!(b[2].marker, Some(Marker::Skip("needs Docker".to_owned())));
    assert_eq!((b[3].lang.as_str(), b[3].marker.clone()), ("json", None));
    let r = std::panic::catch_unwind(|| script("t.md", text, "127.0.0.1:1"));
    assert!(r.is_err(), "an unmarked sh block must fail the test");
}
