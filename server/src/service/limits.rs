//! Per-request limits (the `limits` config section), checked before any work is queued.

use crate::api::{QueryInput, QueryRequest, StrategyParam};
use crate::config::LimitsConfig;

use super::{ServiceError, ServiceResult};

/// Default k when a query gives no `limit` (Qdrant's default).
pub const DEFAULT_LIMIT: usize = 10;

/// Counts the conditions of a JSON filter, nested filters included: every object in a
/// must / should / must_not list counts as one, and its own lists are counted too.
pub fn count_conditions(filter: &serde_json::Value) -> usize {
    let Some(obj) = filter.as_object() else { return 0 };
    let mut n = 0;
    for key in ["must", "should", "must_not"] {
        match obj.get(key) {
            Some(serde_json::Value::Array(items)) => {
                for item in items {
                    n += 1 + count_conditions(item);
                }
            }
            // Qdrant also accepts a single condition instead of a list.
            Some(item @ serde_json::Value::Object(_)) => n += 1 + count_conditions(item),
            _ => {}
        }
    }
    // `min_should: {conditions: [..], min_count}` holds conditions like a list does.
    if let Some(serde_json::Value::Array(items)) = obj.get("min_should").and_then(|m| m.get("conditions")) {
        for item in items {
            n += 1 + count_conditions(item);
        }
    }
    if let Some(inner) = obj.get("filter") {
        n += count_conditions(inner);
    }
    // A `nested` condition carries a whole filter under `nested.filter`.
    if let Some(inner) = obj.get("nested").and_then(|nested| nested.get("filter")) {
        n += count_conditions(inner);
    }
    n
}

/// Checks a filter against `max_filter_conditions`.
pub fn check_filter(filter: Option<&serde_json::Value>, limits: &LimitsConfig) -> ServiceResult<()> {
    if let Some(f) = filter {
        let n = count_conditions(f);
        if n > limits.max_filter_conditions {
            return Err(ServiceError::LimitExceeded(format!(
                "filter has {n} conditions; the limit is {} (limits.max_filter_conditions)",
                limits.max_filter_conditions
            )));
        }
    }
    Ok(())
}

/// Checks a number of points (upsert, get, delete by ids) against `max_points_per_request`.
pub fn check_points(n: usize, limits: &LimitsConfig) -> ServiceResult<()> {
    if n > limits.max_points_per_request {
        return Err(ServiceError::LimitExceeded(format!(
            "request has {n} points; the limit is {} (limits.max_points_per_request): split it",
            limits.max_points_per_request
        )));
    }
    Ok(())
}

/// Checks a batch size against `max_batch_size`.
pub fn check_batch(n: usize, limits: &LimitsConfig) -> ServiceResult<()> {
    if n > limits.max_batch_size {
        return Err(ServiceError::LimitExceeded(format!(
            "batch has {n} queries; the limit is {} (limits.max_batch_size)",
            limits.max_batch_size
        )));
    }
    Ok(())
}

/// Checks the size-driving parameters of a Matryoshka calibration (its cost is `sample` x
/// settings x a scan each); errors name the field.
pub fn check_calibration(r: &grove_storage::CalibrateRequest) -> ServiceResult<()> {
    use grove_index::matryoshka::{calibrate, MAX_OVERSAMPLE};
    if r.sample == 0 || r.sample > calibrate::MAX_SAMPLE {
        return Err(ServiceError::invalid(format!(
            "sample = {}; it must be between 1 and {}",
            r.sample,
            calibrate::MAX_SAMPLE
        )));
    }
    if r.oversamples.len() > calibrate::MAX_OVERSAMPLES {
        return Err(ServiceError::invalid(format!(
            "oversamples has {} factors; the most is {}",
            r.oversamples.len(),
            calibrate::MAX_OVERSAMPLES
        )));
    }
    if let Some(o) = r.oversamples.iter().find(|&&o| o == 0 || o > MAX_OVERSAMPLE) {
        return Err(ServiceError::invalid(format!(
            "oversamples: each factor must be between 1 and {MAX_OVERSAMPLE}, got {o}"
        )));
    }
    Ok(())
}

/// A query after validation: what the storage call needs.
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    /// The vector.
    pub vector: Vec<f32>,
    /// k + offset: hits to ask the engine for.
    pub fetch: usize,
    /// Hits to skip.
    pub offset: usize,
    /// ef, when given.
    pub ef: Option<usize>,
    /// Path to force.
    pub strategy: StrategyParam,
}

/// Validates a query's k, offset, ef and strategy against the limits.
pub fn check_query(q: &QueryRequest, limits: &LimitsConfig) -> ServiceResult<CheckedQuery> {
    let vector = match &q.query {
        Some(input) => input.clone().into_vector(),
        None => {
            return Err(ServiceError::invalid(
                "`query` is required: give the query vector as an array or {\"nearest\": [...]}",
            ))
        }
    };
    let multi = q.query.as_ref().and_then(QueryInput::multi);
    if let Some(rows) = multi {
        crate::api::check_matrix("query", rows).map_err(ServiceError::invalid)?;
    }
    if vector.is_empty() && q.query.as_ref().and_then(QueryInput::sparse).is_none() && multi.is_none() {
        return Err(ServiceError::invalid("query vector is empty"));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 {
        return Err(ServiceError::invalid("`limit` must be at least 1"));
    }
    let offset = q.offset.unwrap_or(0);
    let fetch = limit.saturating_add(offset);
    if fetch > limits.max_limit {
        return Err(ServiceError::LimitExceeded(format!(
            "limit + offset = {fetch}; the most is {} (limits.max_limit)",
            limits.max_limit
        )));
    }
    check_filter(q.filter.as_ref(), limits)?;
    let params = q.params.clone().unwrap_or_default();
    if let Some(o) = params.quantization.and_then(|q| q.oversampling) {
        if !(1.0..=grove_index::quant::MAX_OVERSAMPLING).contains(&o) {
            return Err(ServiceError::invalid(format!(
                "params.quantization.oversampling = {o}; it must be between 1 and {}",
                grove_index::quant::MAX_OVERSAMPLING
            )));
        }
    }
    let ef = params.hnsw_ef;
    if let Some(ef) = ef {
        if ef == 0 || ef > limits.max_ef {
            return Err(ServiceError::LimitExceeded(format!(
                "params.hnsw_ef = {ef}; it must be between 1 and {} (limits.max_ef)",
                limits.max_ef
            )));
        }
    }
    let strategy = match (params.exact, q.strategy) {
        (Some(true), None | Some(StrategyParam::Auto) | Some(StrategyParam::Exact)) => StrategyParam::Exact,
        (Some(true), Some(other)) => {
            return Err(ServiceError::invalid(format!(
                "params.exact = true contradicts strategy = {other:?}; give one or the other"
            )))
        }
        (_, s) => s.unwrap_or_default(),
    };
    Ok(CheckedQuery { vector, fetch, offset, ef, strategy })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{QueryInput, SearchParams};
    use serde_json::json;

    #[test]
    fn counts_nested_conditions() {
        let f = json!({"must": [{"key": "a", "match": {"value": 1}}, {"should": [{"key": "b", "match": {"value": 2}}, {"has_id": [1]}]}],
                       "must_not": {"is_empty": {"key": "c"}}});
        // must: 2 (+2 nested in the second), must_not: 1.
        assert_eq!(count_conditions(&f), 5);
        assert_eq!(count_conditions(&json!({})), 0);
    }

    #[test]
    fn min_should_and_nested_conditions_are_counted() {
        // Regression: conditions under min_should (and inside a nested condition's filter) were
        // not counted, so they escaped limits.max_filter_conditions.
        let c = json!({"key": "a", "match": {"value": 1}});
        let f = json!({"min_should": {"conditions": [c, c, c], "min_count": 2}});
        assert_eq!(count_conditions(&f), 3);
        let f = json!({"must": [{"nested": {"key": "arr", "filter": {"must": [c, c]}}}]});
        assert_eq!(count_conditions(&f), 3);
        let limits = LimitsConfig { max_filter_conditions: 2, ..LimitsConfig::default() };
        let f = json!({"min_should": {"conditions": [c, c, c], "min_count": 1}});
        assert!(check_filter(Some(&f), &limits).is_err());
    }

    #[test]
    fn query_limits() {
        let limits = LimitsConfig { max_limit: 100, max_ef: 50, ..LimitsConfig::default() };
        let mut q = QueryRequest { query: Some(QueryInput::Vector(vec![1.0])), ..QueryRequest::default() };
        let ok = check_query(&q, &limits).expect("defaults ok");
        assert_eq!((ok.fetch, ok.offset, ok.strategy), (DEFAULT_LIMIT, 0, StrategyParam::Auto));
        q.limit = Some(90);
        q.offset = Some(20);
        assert!(matches!(check_query(&q, &limits), Err(ServiceError::LimitExceeded(_))));
        q.offset = None;
        q.params = Some(SearchParams { hnsw_ef: Some(51), ..SearchParams::default() });
        assert!(matches!(check_query(&q, &limits), Err(ServiceError::LimitExceeded(_))));
        q.params = Some(SearchParams { exact: Some(true), ..SearchParams::default() });
        assert_eq!(check_query(&q, &limits).expect("exact").strategy, StrategyParam::Exact);
        q.strategy = Some(StrategyParam::Hnsw);
        assert!(matches!(check_query(&q, &limits), Err(ServiceError::InvalidArgument(_))));
        q.query = None;
        assert!(matches!(check_query(&q, &limits), Err(ServiceError::InvalidArgument(_))));
    }
}
