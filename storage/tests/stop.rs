//! Storage passes the caller's stop signal to the engine: a raised flag or a passed deadline
//! fails a query or a calibration with `ErrorKind::Stopped` (the server's 504), and an unarmed
//! one changes nothing.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use grove_index::{Metric, Stop};
use grove_storage::*;

fn point(i: u64) -> PointStruct {
    let v: Vec<f32> = (0..8).map(|j| ((i * 31 + j * 17) % 97) as f32 / 97.0 - 0.5).collect();
    PointStruct { id: PointId::Num(i), vector: v, payload: None }
}

#[test]
fn query_and_calibration_stop_with_the_signal() {
    let s = Storage::in_memory();
    let mut cfg = CollectionConfig::new(8, Metric::Cosine);
    cfg.matryoshka_dims = vec![4];
    s.create_collection("c", cfg).unwrap();
    s.upsert("c", (0..2000).map(point).collect()).unwrap();
    let q = QueryRequest { exact: true, ..QueryRequest::new(point(5).vector, 3) };
    let raised = Stop::unlimited().with_cancel(Some(Arc::new(AtomicBool::new(true))));
    let passed = Stop::at(Some(Instant::now()));
    assert_eq!(s.query_with_stop("c", &q, &Stop::unlimited()).unwrap().points.len(), 3);
    for stop in [&raised, &passed] {
        let e = s.query_with_stop("c", &q, stop).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Stopped, "{e}");
        let e = s.calibrate_matryoshka_with_stop("c", &CalibrateRequest::default(), stop).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Stopped, "{e}");
    }
    assert!(s.calibrate_matryoshka_with_stop("c", &CalibrateRequest::default(), &Stop::unlimited()).is_ok());
}
