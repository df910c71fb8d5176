//! Field-level validation errors, collected so a user sees every problem of a request at once.

use serde::Serialize;

/// One invalid field: its JSON path (`settings.retryPolicy.retryDelay`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted JSON path of the offending field.
    pub field: String,
    /// What is wrong with it, in a sentence.
    pub message: String,
}

/// Every invalid field of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Records that `field` is invalid.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// `Ok(value)` when nothing was recorded, else the errors.
    pub fn finish<T>(self, value: T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Whether `field` has an error (for tests and callers that branch on it).
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// Checks that an integer lies in `min..=max`.
    pub fn check_range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if !(min..=max).contains(&value) {
            self.add(
                field,
                format!("must be between {min} and {max}, got {value}"),
            );
        }
    }
}

/// Deepest JSON a user may store (event data, a transformation's `set` value): an object or
/// array counts one level. Far below serde_json's own parsing limit of 128, so a body built
/// from such values by transformations (each path adding at most
/// [`crate::template::MAX_PATH_SEGMENTS`] levels) stays shallow enough to serialize, compare
/// and drop without deep recursion.
pub const MAX_JSON_DEPTH: usize = 64;

/// How deeply `value` nests (a scalar is 0, `[]` and `{}` are 1). Iterative, so it is safe on
/// any value.
pub fn json_depth(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

/// Records `field` when `value` nests deeper than [`MAX_JSON_DEPTH`].
pub fn check_depth(errors: &mut ValidationErrors, field: &str, value: &serde_json::Value) {
    if json_depth(value) > MAX_JSON_DEPTH {
        errors.add(
            field,
            format!("must not nest objects and arrays more than {MAX_JSON_DEPTH} levels deep"),
        );
    }
}

/// Checks a human-facing name: not blank, at most `max` characters, no control characters.
pub fn check_name(errors: &mut ValidationErrors, field: &str, name: &str, max: usize) {
    if name.trim().is_empty() {
        errors.add(field, "must not be blank");
    } else if name.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if name.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
    } else if name.trim() != name {
        errors.add(field, "must not start or end with whitespace");
    }
}

/// The path of the first string (or object key) inside `value` that holds a NUL character,
/// which PostgreSQL cannot store in `text` or `jsonb`.
pub fn find_nul(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_nul(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(field)
            } else {
                find_nul(v, &field)
            }
        }),
        _ => None,
    }
}

/// Records a NUL character anywhere inside `value`, naming where.
pub fn check_no_nul(errors: &mut ValidationErrors, value: &serde_json::Value, path: &str) {
    if let Some(field) = find_nul(value, path) {
        errors.add(field, "must not contain NUL characters (\\u0000)");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{find_nul, json_depth};

    #[test]
    fn depth_counts_nested_objects_and_arrays() {
        assert_eq!(json_depth(&json!(1)), 0);
        assert_eq!(json_depth(&json!({})), 1);
        assert_eq!(json_depth(&json!({"a": [1, {"b": []}], "c": 2})), 4);
    }

    #[test]
    fn a_nul_is_found_with_its_path_and_clean_values_pass() {
        assert_eq!(
            find_nul(&json!({"a": [1, {"b": "x\u{0}"}]}), "data"),
            Some("data.a[1].b".into())
        );
        assert_eq!(find_nul(&json!({"k\u{0}": 1}), ""), Some("k\u{0}".into()));
        assert_eq!(
            find_nul(&json!({"a": "fine", "b": [true, null, 2.5]}), "data"),
            None
        );
    }
}
