//! Distance kernels: the one place that decides how a metric is computed.
//!
//! Internally every index works with a *distance* where smaller means closer:
//!
//! | metric  | stored vector      | internal distance | score returned to users     |
//! |---------|--------------------|-------------------|-----------------------------|
//! | Cosine  | L2-normalised      | `1 - a·b`         | cosine similarity `1 - d`   |
//! | Dot     | as given           | `-a·b`            | dot product `-d`            |
//! | L2      | as given           | `‖a-b‖²`          | Euclidean distance `sqrt(d)`|
//!
//! Cosine vectors are normalised once, on insert ([`Metric::prepare`]), so the hot loop is a dot
//! product. The kernels are simsimd's runtime-dispatched SIMD routines; [`scalar`] holds the f64
//! reference they are tested against. A Matryoshka prefix search simply passes `&v[..m]`.

use serde::{Deserialize, Serialize};
use simsimd::SpatialSimilarity;

/// The similarity a collection is searched by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity (vectors normalised on insert).
    Cosine,
    /// Inner product (maximum inner product search).
    Dot,
    /// Euclidean distance.
    L2,
}

impl Metric {
    /// Internal distance between two vectors of equal length (smaller is closer).
    #[inline]
    pub fn distance(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Metric::Cosine => 1.0 - dot(a, b),
            Metric::Dot => -dot(a, b),
            Metric::L2 => l2sq(a, b),
        }
    }

    /// Converts an internal distance into the score users see (see the module table).
    #[inline]
    pub fn score(self, distance: f32) -> f32 {
        match self {
            Metric::Cosine => 1.0 - distance,
            Metric::Dot => -distance,
            Metric::L2 => distance.max(0.0).sqrt(),
        }
    }

    /// Converts a user score threshold into an internal distance bound.
    #[inline]
    pub fn distance_from_score(self, score: f32) -> f32 {
        match self {
            Metric::Cosine => 1.0 - score,
            Metric::Dot => -score,
            Metric::L2 => score * score,
        }
    }

    /// Whether a larger user-facing score means a better match.
    pub fn higher_is_better(self) -> bool {
        match self {
            Metric::Cosine | Metric::Dot => true,
            Metric::L2 => false,
        }
    }

    /// Brings a vector into the stored form for this metric (normalises for cosine).
    /// A zero vector is left as it is: its cosine to anything is then 0.
    pub fn prepare(self, v: &mut [f32]) {
        match self {
            Metric::Cosine => normalize(v),
            Metric::Dot | Metric::L2 => {}
        }
    }
}

/// Dot product, SIMD.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    match f32::dot(a, b) {
        Some(d) => d as f32,
        None => scalar::dot(a, b) as f32,
    }
}

/// Squared Euclidean distance, SIMD.
#[inline]
pub fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    match f32::sqeuclidean(a, b) {
        Some(d) => d as f32,
        None => scalar::l2sq(a, b) as f32,
    }
}

/// L2-normalises `v` in place; leaves a zero vector unchanged.
pub fn normalize(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 0.0 && n.is_finite() {
        let inv = 1.0 / n;
        v.iter_mut().for_each(|x| *x *= inv);
    }
}

/// f64 reference kernels: the truth the SIMD kernels are tested against.
pub mod scalar {
    /// Dot product accumulated in f64.
    pub fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
    }

    /// Squared Euclidean distance accumulated in f64.
    pub fn l2sq(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| {
                let d = *x as f64 - *y as f64;
                d * d
            })
            .sum()
    }
}
