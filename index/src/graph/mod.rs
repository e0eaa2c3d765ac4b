//! Grove's own proximity graph: HNSW layers, with ACORN-gamma and ACORN-1 filtered search.
//!
//! (Skeleton: the public API is final; internals are being replaced by the real graph.)

use std::path::Path;

use parking_lot::RwLock;

use crate::{DenseIdSet, IndexError, Metric, Neighbor, Result, TopK, VectorStore};

/// Construction parameters, named as in the HNSW and ACORN papers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphParams {
    /// `M`: neighbours per node on the upper layers (level 0 holds `2·M` for HNSW, `M·gamma`
    /// for ACORN-gamma).
    pub m: usize,
    /// `ef_construction`: candidate list size while inserting.
    pub ef_construction: usize,
    /// `gamma` (γ): neighbour list expansion factor of ACORN-gamma; 1 builds a plain HNSW graph.
    pub gamma: usize,
    /// `M_beta` (M_β): ACORN-gamma compression: the nearest `M_beta` neighbours are always kept.
    pub m_beta: usize,
    /// Seed of the level assignment.
    pub seed: u64,
}

impl Default for GraphParams {
    fn default() -> Self {
        Self { m: 16, ef_construction: 100, gamma: 1, m_beta: 32, seed: 0x6772_6f76_6521 }
    }
}

impl GraphParams {
    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<()> {
        if self.m < 2 || self.m > 256 {
            return Err(IndexError::InvalidParameter {
                name: "M",
                reason: format!("{} is outside 2..=256", self.m),
            });
        }
        Ok(())
    }
}

/// Which points a search may return, and how the graph is walked.
#[derive(Debug, Clone, Copy)]
pub enum GraphFilter<'a> {
    /// Unfiltered HNSW search.
    None,
    /// Filtered HNSW: walk the whole graph, only allowed ids enter the results.
    Hnsw(&'a DenseIdSet),
    /// ACORN: walk only the predicate subgraph.
    Acorn(&'a DenseIdSet),
}

/// Work counters of one search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Nodes whose neighbour lists were expanded.
    pub nodes_visited: u64,
    /// Distance evaluations.
    pub distances_computed: u64,
}

/// The proximity graph.
#[derive(Debug)]
pub struct Graph {
    params: GraphParams,
    metric: Metric,
    dim: usize,
    ids: RwLock<Vec<u32>>,
}

impl Graph {
    /// An empty graph.
    pub fn new(params: GraphParams, metric: Metric, dim: usize) -> Result<Self> {
        params.validate()?;
        Ok(Self { params, metric, dim, ids: RwLock::new(Vec::new()) })
    }

    /// The construction parameters.
    pub fn params(&self) -> &GraphParams {
        &self.params
    }

    /// The metric.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Thread-safe incremental insert.
    pub fn insert(&self, id: u32, _vectors: &VectorStore) {
        let mut ids = self.ids.write();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// Parallel bulk build.
    pub fn build(
        params: GraphParams,
        metric: Metric,
        vectors: &VectorStore,
        ids: &[u32],
        _threads: usize,
    ) -> Result<Self> {
        let g = Self::new(params, metric, vectors.dim())?;
        for &id in ids {
            g.insert(id, vectors);
        }
        Ok(g)
    }

    /// Nodes in the graph.
    pub fn len(&self) -> usize {
        self.ids.read().len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `id` is in the graph.
    pub fn contains(&self, id: u32) -> bool {
        self.ids.read().contains(&id)
    }

    /// The `k` nearest allowed nodes, closest first.
    pub fn search(
        &self,
        vectors: &VectorStore,
        query: &[f32],
        k: usize,
        _ef: usize,
        filter: GraphFilter<'_>,
        stats: &mut SearchStats,
    ) -> Vec<Neighbor> {
        let mut top = TopK::new(k);
        for &id in self.ids.read().iter() {
            let ok = match filter {
                GraphFilter::None => true,
                GraphFilter::Hnsw(s) | GraphFilter::Acorn(s) => s.contains(id),
            };
            if ok {
                stats.distances_computed += 1;
                top.push(Neighbor::new(id, self.metric.distance(vectors.get(id), query)));
            }
        }
        top.into_sorted_vec()
    }

    /// Writes the graph to `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        Err(IndexError::Format {
            path: path.to_path_buf(),
            reason: format!("not implemented yet (dim {})", self.dim),
        })
    }

    /// Reads a graph written by [`Graph::save`].
    pub fn load(path: &Path, _metric: Metric, _dim: usize) -> Result<Self> {
        Err(IndexError::Format { path: path.to_path_buf(), reason: "not implemented yet".into() })
    }

    /// Bytes held by the graph.
    pub fn memory_bytes(&self) -> usize {
        self.ids.read().capacity() * 4
    }
}
