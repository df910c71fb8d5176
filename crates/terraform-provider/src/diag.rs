//! Ricochet's errors as Terraform diagnostics: problem+json `errors[].field` on the attribute
//! it concerns, a stale `If-Match` as "changed outside Terraform".

use reqwest::StatusCode;
use tf_provider::{AttributePath, AttributePathStep, Diagnostics};

use crate::client::ApiError;

/// How a resource names the API's fields: the API's dotted camelCase path (its `settings.`
/// prefix dropped) to the attribute path, one step per segment, in snake_case.
pub(crate) fn field_path(field: &str) -> Option<AttributePath> {
    let field = field.strip_prefix("settings.").unwrap_or(field);
    let mut steps = split_field(field).into_iter();
    let first = steps.next()?;
    let first = match first {
        Step::Name(name) => snake(&name),
        Step::Index(_) => return None,
    };
    let mut path = AttributePath::new(first.clone());
    // `headers.<Name>` is a map key, not an attribute.
    let mut map_key_next = first == "headers";
    for step in steps {
        match step {
            Step::Name(name) if map_key_next => {
                path = path.key(name);
                map_key_next = false;
            }
            Step::Name(name) => path = path.attribute(snake(&name)),
            Step::Index(i) => path = path.index(i),
        }
    }
    Some(path)
}

/// The attribute path as written in a configuration: `retry_policy.max_retries`,
/// `headers["X-Id"]`, `transformations[0].path`.
pub(crate) fn path_name(path: &AttributePath) -> String {
    let mut out = String::new();
    for step in &path.steps {
        match step {
            AttributePathStep::Attribute(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            AttributePathStep::Key(key) => out.push_str(&format!("[{key:?}]")),
            AttributePathStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

enum Step {
    Name(String),
    Index(i64),
}

/// `transformations[0].path` and `transformations.0.path` both give name, index, name.
fn split_field(field: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for part in field.split('.') {
        let mut rest = part;
        let name_end = rest.find('[').unwrap_or(rest.len());
        let name = &rest[..name_end];
        if !name.is_empty() {
            match name.parse::<i64>() {
                Ok(i) => steps.push(Step::Index(i)),
                Err(_) => steps.push(Step::Name(name.to_owned())),
            }
        }
        rest = &rest[name_end..];
        while let Some(open) = rest.strip_prefix('[') {
            let Some(close) = open.find(']') else { break };
            if let Ok(i) = open[..close].parse::<i64>() {
                steps.push(Step::Index(i));
            }
            rest = &open[close + 1..];
        }
    }
    steps
}

fn snake(name: &str) -> String {
    // Durations whose attribute names say their unit.
    if matches!(name, "coolDown" | "maxCoolDown" | "autoDisableAfter") {
        return format!("{}_ms", snake_case(name));
    }
    snake_case(name)
}

fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Records `err` as diagnostics on the resource `what` (e.g. `integration "crm"`).
pub(crate) fn report(diags: &mut Diagnostics, what: &str, err: ApiError) {
    match err {
        ApiError::Config(message) => {
            diags.root_error("Provider configuration incomplete", message);
        }
        ApiError::Transport(message) => {
            diags.root_error(format!("Could not reach Ricochet for {what}"), message);
        }
        ApiError::Status { status, .. } if status == StatusCode::PRECONDITION_FAILED => {
            diags.root_error(
                format!("The {what} changed outside Terraform; refresh and plan again"),
                "Ricochet refused the write because the version Terraform last read is no longer current (412 Precondition Failed). Run `terraform plan` (or `terraform apply -refresh-only`) to see the change, then apply again.",
            );
        }
        ApiError::Status {
            status,
            summary,
            errors,
        } => {
            if errors.is_empty() {
                diags.root_error(format!("Ricochet refused {what} ({status})"), summary);
            }
            for error in errors {
                match field_path(&error.field) {
                    Some(path) => {
                        let name = path_name(&path);
                        diags.error(
                            format!("Invalid {name}"),
                            format!(
                                "{name}: {} (Ricochet's field `{}`)",
                                error.message, error.field
                            ),
                            path,
                        );
                    }
                    None => diags.root_error(
                        format!("Ricochet refused {what}"),
                        format!("{}: {}", error.field, error.message),
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_settings_fields_map_to_snake_case_attribute_paths() {
        assert_eq!(
            field_path("settings.retryPolicy.retryPolicyType"),
            Some(AttributePath::new("retry_policy").attribute("retry_policy_type"))
        );
        assert_eq!(
            field_path("settings.transformations[2].destination"),
            Some(
                AttributePath::new("transformations")
                    .index(2)
                    .attribute("destination")
            )
        );
        assert_eq!(
            field_path("settings.headers.X-Genesys-Event-Id"),
            Some(AttributePath::new("headers").key("X-Genesys-Event-Id"))
        );
        assert_eq!(field_path("name"), Some(AttributePath::new("name")));
        assert_eq!(
            field_path("settings.circuitBreaker.maxCoolDown"),
            Some(AttributePath::new("circuit_breaker").attribute("max_cool_down_ms"))
        );
        assert_eq!(
            field_path("settings.autoDisableAfter"),
            Some(AttributePath::new("auto_disable_after_ms"))
        );
        assert_eq!(
            field_path("settings.rateLimit.requests"),
            Some(AttributePath::new("rate_limit").attribute("requests"))
        );
    }

    #[test]
    fn a_validation_problem_becomes_an_error_on_each_attribute_it_names() {
        let mut diags = Diagnostics::default();
        report(
            &mut diags,
            "integration \"crm\"",
            ApiError::Status {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                summary: "One or more fields are invalid".into(),
                errors: vec![crate::client::FieldError {
                    field: "settings.retryPolicy.maxRetries".into(),
                    message: "must be between 0 and 50, got 500".into(),
                }],
            },
        );
        assert_eq!(diags.errors.len(), 1);
        let error = &diags.errors[0];
        assert_eq!(
            error.attribute,
            AttributePath::new("retry_policy").attribute("max_retries")
        );
        assert_eq!(
            error.detail,
            "retry_policy.max_retries: must be between 0 and 50, got 500 (Ricochet's field `settings.retryPolicy.maxRetries`)"
        );
    }
}
