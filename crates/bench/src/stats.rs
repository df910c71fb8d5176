//! Percentiles, rounding, and the median of several runs' result objects.

use std::time::Duration;

use serde_json::{Map, Value, json};

/// `value` rounded to three decimals, for output.
pub(crate) fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The nearest-rank percentile `p` (0..=100) of ascending `sorted`; 0 when empty.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Ranks are small: the float round trip is exact.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Adds `{prefix}_p50`, `_p95`, `_p99`, `_max` (and `_min` when `with_min`) in milliseconds.
pub(crate) fn insert_percentiles_ms(
    fields: &mut Map<String, Value>,
    prefix: &str,
    mut millis: Vec<f64>,
    with_min: bool,
) {
    millis.sort_by(f64::total_cmp);
    if with_min {
        let min = millis.first().copied().unwrap_or(0.0);
        fields.insert(format!("{prefix}_min"), json!(round3(min)));
    }
    for (name, p) in [("p50", 50.0), ("p95", 95.0), ("p99", 99.0)] {
        fields.insert(
            format!("{prefix}_{name}"),
            json!(round3(percentile(&millis, p))),
        );
    }
    let max = millis.last().copied().unwrap_or(0.0);
    fields.insert(format!("{prefix}_max"), json!(round3(max)));
}

/// A duration in milliseconds.
pub(crate) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `count / seconds`, 0 when no time passed.
pub(crate) fn per_second(count: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        round3(count as f64 / seconds)
    } else {
        0.0
    }
}

/// The median run of `runs` (objects of one scenario): numbers become their median, anything
/// else is taken from the first run, and `run` becomes `"median"`.
pub(crate) fn median_object(runs: &[&Map<String, Value>]) -> Map<String, Value> {
    let Some(first) = runs.first() else {
        return Map::new();
    };
    let mut median = Map::new();
    for (key, value) in first.iter() {
        let numbers: Option<Vec<f64>> = runs
            .iter()
            .map(|run| run.get(key).and_then(Value::as_f64))
            .collect();
        let merged = match numbers {
            Some(mut numbers) if value.is_number() => {
                numbers.sort_by(f64::total_cmp);
                let mid = numbers.len() / 2;
                let middle = if numbers.len() % 2 == 0 {
                    (numbers[mid - 1] + numbers[mid]) / 2.0
                } else {
                    numbers[mid]
                };
                let integers = runs
                    .iter()
                    .all(|run| run.get(key).is_some_and(|v| v.is_i64() || v.is_u64()));
                if integers && middle.fract() == 0.0 {
                    // Counts stay integers (the values are far below 2^53).
                    json!(middle as i64)
                } else {
                    json!(round3(middle))
                }
            }
            _ => value.clone(),
        };
        median.insert(key.clone(), merged);
    }
    median.insert("run".into(), json!("median"));
    median
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_pick_an_observed_value() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert!((percentile(&sorted, 50.0) - 50.0).abs() < f64::EPSILON);
        assert!((percentile(&sorted, 99.0) - 99.0).abs() < f64::EPSILON);
        assert!((percentile(&sorted, 100.0) - 100.0).abs() < f64::EPSILON);
        assert!((percentile(&[7.0], 1.0) - 7.0).abs() < f64::EPSILON);
    }

    #[test]
    fn the_median_of_two_runs_averages_numbers_and_keeps_text() {
        let a = json!({"scenario": "x", "run": 1, "rate": 10.0, "missing": 0});
        let b = json!({"scenario": "x", "run": 2, "rate": 20.0, "missing": 2});
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            panic!("objects expected");
        };
        let median = median_object(&[a, b]);
        assert_eq!(median["rate"], json!(15.0));
        assert_eq!(median["missing"], json!(1));
        assert_eq!(median["scenario"], json!("x"));
        assert_eq!(median["run"], json!("median"));
    }
}
