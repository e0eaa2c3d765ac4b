//! Starts the real `grove` binary on free ports over a temporary data dir.

#![allow(dead_code, reason = "each test binary uses a different subset of the helpers")]

pub mod oneshot;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

pub struct Server {
    pub child: Option<Child>,
    pub http_port: u16,
    pub grpc_port: u16,
    pub data: PathBuf,
    pub log: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts grove over a fresh temporary data dir.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("db");
        let mut s = Server::start_on(&data, extra);
        s._dir = Some(dir);
        s
    }

    /// Starts grove over `data` (kept by the caller).
    pub fn start_on(data: &Path, extra: &[&str]) -> Server {
        let http_port = free_port();
        let mut grpc_port = free_port();
        while grpc_port == http_port {
            grpc_port = free_port();
        }
        let log = data.with_extension(format!("{http_port}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_grove"))
            .arg("serve")
            .args(["--service-http-port", &http_port.to_string()])
            .args(["--service-grpc-port", &grpc_port.to_string()])
            .args(["--storage-data-dir", data.to_str().expect("utf-8 path")])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn grove");
        let mut server =
            Server { child: Some(child), http_port, grpc_port, data: data.to_owned(), log, _dir: None };
        server.wait_ready();
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = format!("127.0.0.1:{}", self.http_port);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("grove exited early with {status}; log:\n{}", self.log_text());
                }
            }
            if http_status(&addr, "/readyz") == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("grove not ready after 60 s; log:\n{}", self.log_text());
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("grove did not exit within 60 s of SIGTERM; log:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A bare HTTP/1.1 GET returning the status code (no client needed while polling).
fn http_status(addr: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

/// Sends a request; the status and the body as JSON (a string when it is not JSON).
pub async fn send(req: reqwest::RequestBuilder) -> (reqwest::StatusCode, serde_json::Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// Sends a request that must answer 200; its `result`.
pub async fn ok(req: reqwest::RequestBuilder) -> serde_json::Value {
    let (status, body) = send(req).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    body["result"].clone()
}
