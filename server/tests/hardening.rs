//! Bounds on what a client can make the server wait for or hold (issue 12, rows 5 and 7),
//! against the real binary over raw sockets: stalled headers, stalled bodies, bodies over the
//! limits, malformed protobuf.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Server;
use serde_json::Value;

/// A raw HTTP/1.1 exchange: writes `head` and `body`, reads the answer to EOF. Returns the
/// status and the JSON body (`Null` if not JSON). Panics if any write or read fails: a reset
/// instead of an answer is exactly what some of these tests check against.
fn exchange(port: u16, head: &str, body: &[u8], read_timeout: Duration) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(read_timeout)).expect("timeout");
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(body).unwrap_or_else(|e| panic!("writing the body failed ({e}): the server did not read it"));
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap_or_else(|e| panic!("reading the answer failed: {e}"));
    parse(&buf)
}

fn parse(buf: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(buf);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    // Chunked or not, the JSON object is the part between the first '{' and the last '}'.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if a < b => serde_json::from_str(&body[a..=b]).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, json)
}

fn get(port: u16, path: &str) -> (u16, Value) {
    exchange(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        b"",
        Duration::from_secs(30),
    )
}

fn post(port: u16, path: &str, body: &str) -> (u16, Value) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    exchange(port, &head, body.as_bytes(), Duration::from_secs(30))
}

fn error_message(body: &Value) -> &str {
    body["status"]["error"].as_str().unwrap_or_else(|| panic!("not Qdrant's error envelope: {body}"))
}

/// Whether the server closed `s` (EOF or reset) before `deadline`; `false` if it stayed open.
fn closed_by(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).expect("timeout");
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an error answer (408) before the close is fine
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true, // reset
        }
    }
}

#[test]
fn stalled_headers_are_disconnected_and_do_not_block_other_clients() {
    // Regression (row 5): axum::serve set no header read timeout, so a connection that never
    // finished its headers stayed open for ever.
    let s = Server::start(&["--service-header-read-timeout-secs", "2"]);
    let port = s.http_port;
    assert_eq!(get(port, "/collections").0, 200);
    let opened = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..300)
        .map(|i| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            // Half of them never send a byte; the other half stop in the middle of a header.
            if i % 2 == 1 {
                c.write_all(b"GET /collections HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("write");
            }
            c
        })
        .collect();
    // A normal client is served at once while they hang.
    let t = Instant::now();
    let (status, body) = get(port, "/collections");
    assert_eq!(status, 200, "{body}");
    assert!(t.elapsed() < Duration::from_secs(2), "a normal request took {:?}", t.elapsed());
    // Every stalled connection is closed within the bound (2 s, plus slack for a loaded machine).
    let deadline = opened + Duration::from_secs(8);
    let still_open = stalled.iter_mut().map(|c| closed_by(c, deadline)).filter(|closed| !closed).count();
    assert_eq!(still_open, 0, "{still_open} of 300 stalled connections still open 8 s after opening");
    assert_eq!(get(port, "/collections").0, 200);
}

#[test]
fn stalled_bodies_free_their_slot_and_get_408() {
    // Regression (row 5): a client that sent its headers and then stalled its body held a
    // concurrency slot of its route for ever; with more of them than slots the route answered
    // nobody. Here: 4 slots, 6 stalled bodies, and a normal client on the same route.
    let s =
        Server::start(&["--service-body-read-timeout-secs", "2", "--service-max-concurrent-requests", "4"]);
    let port = s.http_port;
    let create = r#"{"vectors": {"size": 2, "distance": "Dot"}}"#;
    let put = format!(
        "PUT /collections/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        create.len()
    );
    assert_eq!(exchange(port, &put, create.as_bytes(), Duration::from_secs(30)).0, 200);
    let started = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            c.write_all(
                b"POST /collections/c/points/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"exact\"",
            )
            .expect("write");
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // The normal client waits at most for the stalled ones to time out.
    let (status, body) = post(port, "/collections/c/points/count", "{}");
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() < Duration::from_secs(10), "served after {:?}", started.elapsed());
    // The stalled ones got a readable 408 that names the knob, and were closed.
    for c in &mut stalled {
        c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
        let (status, body) = parse(&buf);
        assert_eq!(status, 408, "{}", String::from_utf8_lossy(&buf));
        assert!(error_message(&body).contains("service.body_read_timeout_secs"), "{body}");
    }
}

#[test]
fn a_64_mb_body_gets_a_readable_413() {
    // Regression (row 7): the 413 was sent before the body was read and the connection closed
    // with the body unread, so the kernel reset it and a client that sends its whole body
    // before reading (curl, Python requests) saw "connection reset" instead of the answer.
    let s = Server::start(&[]);
    let body = vec![b' '; 64 * 1024 * 1024];
    let head = format!(
        "PUT /collections/c/points HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let (status, answer) = exchange(s.http_port, &head, &body, Duration::from_secs(60));
    assert_eq!(status, 413, "{answer}");
    let msg = error_message(&answer);
    assert!(msg.contains("service.max_body_bytes") && msg.contains("67108864"), "{msg}");
}

/// Sends `total` bytes as one chunk of a chunked body, reading the answer after the terminator
/// (or as soon as the write fails: the server may stop reading at its limit).
fn chunked(port: u16, path: &str, total: usize) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(head.as_bytes()).expect("head");
    let _ = s.write_all(format!("{total:x}\r\n").as_bytes());
    let _ = s.write_all(&vec![b' '; total]);
    let _ = s.write_all(b"\r\n0\r\n\r\n");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse(&buf)
}

#[test]
fn snapshot_uploads_honour_their_own_size_limit() {
    // Regression (row 7): the upload route streamed any body to disk whatever its size.
    let s = Server::start(&["--service-max-snapshot-upload-bytes", "100000"]);
    let head = "POST /collections/c/snapshots/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/octet-stream\r\n\
                Content-Length: 200000\r\n\r\n";
    let (status, body) = exchange(s.http_port, head, &[0u8; 200_000], Duration::from_secs(30));
    assert_eq!(status, 413, "{body}");
    assert!(error_message(&body).contains("service.max_snapshot_upload_bytes"), "{body}");
    // Chunked (no declared length): refused when it passes the limit.
    let (status, body) = chunked(s.http_port, "/collections/c/snapshots/upload", 200_000);
    assert_eq!(status, 413, "{body}");
    assert!(error_message(&body).contains("service.max_snapshot_upload_bytes"), "{body}");
    // No upload file was left behind and no collection was created.
    let (status, body) = get(s.http_port, "/collections");
    assert_eq!(status, 200);
    assert_eq!(body["result"]["collections"], serde_json::json!([]), "{body}");
    let leftovers: Vec<_> = walk(&s.data).into_iter().filter(|p| p.contains("upload")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

/// A message whose field 1 is a varint, where `CountRequest` has a string: prost refuses it.
#[derive(Clone, PartialEq, prost::Message)]
struct NotACountRequest {
    #[prost(uint64, tag = "1")]
    collection_name: u64,
}

#[derive(Debug, Clone, Default)]
struct MismatchCodec;

#[derive(Debug)]
struct Enc;
#[derive(Debug)]
struct Dec;

impl tonic::codec::Encoder for Enc {
    type Item = NotACountRequest;
    type Error = tonic::Status;
    fn encode(&mut self, item: Self::Item, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Self::Error> {
        prost::Message::encode(&item, dst).map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

impl tonic::codec::Decoder for Dec {
    type Item = grove_proto::v1::CountResponse;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        prost::Message::decode(src).map(Some).map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

impl tonic::codec::Codec for MismatchCodec {
    type Encode = NotACountRequest;
    type Decode = grove_proto::v1::CountResponse;
    type Encoder = Enc;
    type Decoder = Dec;
    fn encoder(&mut self) -> Enc {
        Enc
    }
    fn decoder(&mut self) -> Dec {
        Dec
    }
}

#[tokio::test]
async fn malformed_protobuf_is_invalid_argument() {
    // Regression (row 7): tonic's codec answers an undecodable request with INTERNAL.
    let s = Server::start(&[]);
    let channel =
        tonic::transport::Channel::from_shared(s.grpc_url()).expect("uri").connect().await.expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path = http::uri::PathAndQuery::from_static("/grove.v1.Points/Count");
    let err = grpc
        .unary(tonic::Request::new(NotACountRequest { collection_name: 7 }), path, MismatchCodec)
        .await
        .expect_err("a malformed message cannot succeed");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("not a valid protobuf message"), "{}", err.message());
}
