//! Hull distance (pairwise Frank-Wolfe) against a brute-force oracle on tiny random cases.
//!
//! The oracle: the minimum-norm point of `conv(A) − conv(B)` lies in the relative interior of a
//! face spanned by at most d+1 affinely independent vertices `a_i − b_j`; enumerating every such
//! subset, solving the affine least-norm problem on it (KKT system) and keeping solutions with
//! non-negative weights finds it exactly.

use grove_index::diagnostics::hull::{hull_distance, HullConfig, HullVerdict};
use grove_index::diagnostics::Budget;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Solves `m x = b` (n×n) by Gaussian elimination with partial pivoting; `None` if singular.
fn solve(mut m: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[piv][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, piv);
        b.swap(col, piv);
        for r in 0..n {
            if r != col {
                let f = m[r][col] / m[col][col];
                let pivot_row = m[col].clone();
                m[r].iter_mut().zip(&pivot_row).skip(col).for_each(|(x, p)| *x -= f * p);
                b[r] -= f * b[col];
            }
        }
    }
    Some((0..n).map(|i| b[i] / m[i][i]).collect())
}

fn subsets(n: usize, max: usize) -> Vec<Vec<usize>> {
    (1u32..(1 << n))
        .filter(|m| m.count_ones() as usize <= max)
        .map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect())
        .collect()
}

fn brute_force_distance(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    let dim = a[0].len();
    let verts: Vec<Vec<f64>> = a
        .iter()
        .flat_map(|p| b.iter().map(move |q| p.iter().zip(q).map(|(x, y)| *x as f64 - *y as f64).collect()))
        .collect();
    let mut best = f64::INFINITY;
    for s in subsets(verts.len(), dim + 1) {
        let k = s.len();
        // [G 1; 1ᵀ 0] [α; ν] = [0; 1]
        let mut m = vec![vec![0.0; k + 1]; k + 1];
        for i in 0..k {
            for j in 0..k {
                m[i][j] = verts[s[i]].iter().zip(&verts[s[j]]).map(|(x, y)| x * y).sum();
            }
            m[i][k] = 1.0;
            m[k][i] = 1.0;
        }
        let mut rhs = vec![0.0; k + 1];
        rhs[k] = 1.0;
        let Some(sol) = solve(m, rhs) else { continue };
        if sol[..k].iter().any(|w| *w < -1e-12) {
            continue;
        }
        let x: Vec<f64> = (0..dim).map(|c| (0..k).map(|i| sol[i] * verts[s[i]][c]).sum()).collect();
        best = best.min(x.iter().map(|v| v * v).sum::<f64>().sqrt());
    }
    best
}

fn random_set(rng: &mut ChaCha8Rng, n: usize, dim: usize, shift: f32) -> Vec<Vec<f32>> {
    (0..n)
        .map(|_| (0..dim).map(|c| rng.gen_range(-1.0f32..1.0) + if c == 0 { shift } else { 0.0 }).collect())
        .collect()
}

#[test]
fn frank_wolfe_distance_matches_brute_force_on_tiny_cases() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut separated, mut intersecting) = (0, 0);
    for case in 0..300 {
        let dim = 2 + case % 2;
        let a = random_set(&mut rng, 1 + case % 4, dim, 0.0);
        // Shifts from overlapping to well apart, so both verdicts occur.
        let shift = rng.gen_range(0.0f32..1.2);
        let b = random_set(&mut rng, 2 + (case / 4) % 4, dim, shift);
        let truth = brute_force_distance(&a, &b);
        if truth > 1e-9 && truth < 1e-3 {
            continue; // too close to the tolerance to demand either verdict
        }
        let ar: Vec<&[f32]> = a.iter().map(|v| v.as_slice()).collect();
        let br: Vec<&[f32]> = b.iter().map(|v| v.as_slice()).collect();
        let h = hull_distance(&ar, &br, &HullConfig::default(), &Budget::unlimited()).unwrap();
        if truth <= 1e-9 {
            intersecting += 1;
            assert_eq!(h.verdict, HullVerdict::Intersecting, "case {case}: truth {truth}, got {h:?}");
        } else {
            separated += 1;
            assert_eq!(h.verdict, HullVerdict::Separated, "case {case}: truth {truth}, got {h:?}");
            // Certificates bracket the truth, and the bracket is tight.
            assert!(
                h.lower <= truth * (1.0 + 1e-9) && h.upper >= truth * (1.0 - 1e-9),
                "case {case}: {truth} vs {h:?}"
            );
            assert!((h.lower - truth).abs() <= 2e-4 * truth, "case {case}: {truth} vs {}", h.lower);
        }
    }
    assert!(separated > 40 && intersecting > 40, "both verdicts exercised: {separated} / {intersecting}");
}

#[test]
fn iteration_cap_yields_undetermined_not_a_guess() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let a = random_set(&mut rng, 40, 8, 0.5);
    let b = random_set(&mut rng, 40, 8, -0.5);
    let ar: Vec<&[f32]> = a.iter().map(|v| v.as_slice()).collect();
    let br: Vec<&[f32]> = b.iter().map(|v| v.as_slice()).collect();
    let cfg = HullConfig { max_iterations: 1, ..HullConfig::default() };
    let h = hull_distance(&ar, &br, &cfg, &Budget::unlimited()).unwrap();
    assert_eq!(h.verdict, HullVerdict::Undetermined);
    let full = hull_distance(&ar, &br, &HullConfig::default(), &Budget::unlimited()).unwrap();
    assert_ne!(full.verdict, HullVerdict::Undetermined);
}
