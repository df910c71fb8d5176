//! Request templates: `{{eventId}}`, `{{data.some.path}}`, `{{secret:NAME}}` and `<<secret:NAME>>`
//! in URLs, header values and bodies. Parsed when an integration is saved, so a typo is a 422
//! then, not a failed delivery later.

use std::fmt;
use std::sync::Arc;

/// Longest secret name: a slug of letters, digits, `_`, `-` and `.`.
pub const MAX_SECRET_NAME_LEN: usize = 64;
/// Most names in a dotted path (`a.b.c` has 3), in templates and transformations alike. Every
/// name can add a level of nesting to a body, so this bounds the depth a request can build.
pub const MAX_PATH_SEGMENTS: usize = 32;
/// Longest dotted path, in bytes.
pub const MAX_PATH_LEN: usize = 512;

/// A value filled in at send time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variable {
    /// The event's id (`{{eventId}}`).
    EventId,
    /// The event's type (`{{eventType}}`).
    EventType,
    /// The tenant's id (`{{tenantId}}`).
    TenantId,
    /// The integration's id (`{{integrationId}}`).
    IntegrationId,
    /// The attempt number, 1 for the first (`{{attempt}}`).
    Attempt,
    /// A value inside the event's data (`{{data.customer.id}}`): the path below `data`.
    Data(Vec<String>),
    /// A tenant secret's current value (`{{secret:NAME}}` or `<<secret:NAME>>`).
    Secret(String),
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text copied as is.
    Literal(String),
    /// A placeholder.
    Variable(Variable),
}

/// Why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` or `<<secret:` without its closing delimiter.
    #[error("unclosed placeholder starting at `{0}`")]
    Unclosed(String),
    /// A placeholder naming nothing Ricochet knows.
    #[error(
        "unknown placeholder `{0}`: use eventId, eventType, tenantId, integrationId, attempt, data.<path> or secret:<name>"
    )]
    UnknownVariable(String),
    /// A secret reference whose name is not a slug.
    #[error("invalid secret name `{0}`: use 1 to 64 letters, digits, `_`, `-` or `.`")]
    InvalidSecretName(String),
    /// A `data.` path beyond [`MAX_PATH_SEGMENTS`] names or [`MAX_PATH_LEN`] bytes.
    #[error("{0}")]
    PathTooLong(String),
}

/// Parses a template's text: [`Template::parse_shared`], or a parsed form kept from before (the
/// worker keeps each template it parsed, by text, so an integration's templates are parsed once
/// rather than at every attempt).
pub type ParseTemplate<'a> = &'a dyn Fn(&str) -> Result<Arc<Template>, TemplateError>;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(pub Vec<Segment>);

impl Template {
    /// Whether `source` has no placeholder opening (`{{` or `<<`): such text is sent and shown
    /// as it is, and names no secret, so it need not be parsed.
    pub fn is_literal(source: &str) -> bool {
        !source.contains("{{") && !source.contains("<<")
    }

    /// [`Template::parse`], shared: the form a [`ParseTemplate`] gives.
    pub fn parse_shared(source: &str) -> Result<Arc<Template>, TemplateError> {
        Template::parse(source).map(Arc::new)
    }

    /// Parses `source`; text without placeholders is one literal.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = source;
        while !rest.is_empty() {
            let (open, close) = if rest.starts_with("{{") {
                ("{{", "}}")
            } else if rest.starts_with("<<secret:") {
                ("<<", ">>")
            } else {
                let next = rest.char_indices().nth(1).map_or(rest.len(), |(i, _)| i);
                literal.push_str(&rest[..next]);
                rest = &rest[next..];
                continue;
            };
            let body_start = open.len();
            let Some(end) = rest[body_start..].find(close) else {
                return Err(TemplateError::Unclosed(rest.chars().take(24).collect()));
            };
            let body = rest[body_start..body_start + end].trim();
            let variable = if open == "<<" {
                parse_secret(body)?
            } else {
                parse_variable(body)?
            };
            if !literal.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Variable(variable));
            rest = &rest[body_start + end + close.len()..];
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Template(segments))
    }

    /// The variables the template uses, in order.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.0.iter().filter_map(|s| match s {
            Segment::Variable(v) => Some(v),
            Segment::Literal(_) => None,
        })
    }

    /// The names of the secrets the template references.
    pub fn secret_names(&self) -> impl Iterator<Item = &str> {
        self.variables().filter_map(|v| match v {
            Variable::Secret(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Renders with `value` deciding each variable's text.
    pub fn render(&self, mut value: impl FnMut(&Variable) -> String) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Variable(v) => out.push_str(&value(v)),
            }
        }
        out
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variable::EventId => f.write_str("{{eventId}}"),
            Variable::EventType => f.write_str("{{eventType}}"),
            Variable::TenantId => f.write_str("{{tenantId}}"),
            Variable::IntegrationId => f.write_str("{{integrationId}}"),
            Variable::Attempt => f.write_str("{{attempt}}"),
            Variable::Data(path) => write!(f, "{{{{data.{}}}}}", path.join(".")),
            Variable::Secret(name) => write!(f, "{{{{secret:{name}}}}}"),
        }
    }
}

fn parse_variable(body: &str) -> Result<Variable, TemplateError> {
    if let Some(name) = body.strip_prefix("secret:") {
        return parse_secret(&format!("secret:{}", name.trim()));
    }
    match body {
        "eventId" => Ok(Variable::EventId),
        "eventType" => Ok(Variable::EventType),
        "tenantId" => Ok(Variable::TenantId),
        "integrationId" => Ok(Variable::IntegrationId),
        "attempt" => Ok(Variable::Attempt),
        _ => match body.strip_prefix("data.") {
            Some(path) if check_path_size(path).is_err() => {
                Err(TemplateError::PathTooLong(format!(
                    "`data.` path {}",
                    check_path_size(path).err().unwrap_or_default()
                )))
            }
            Some(path) if is_dotted_path(path) => {
                Ok(Variable::Data(path.split('.').map(str::to_owned).collect()))
            }
            _ => Err(TemplateError::UnknownVariable(body.to_owned())),
        },
    }
}

fn parse_secret(body: &str) -> Result<Variable, TemplateError> {
    let name = body.strip_prefix("secret:").unwrap_or(body).trim();
    if is_secret_name(name) {
        Ok(Variable::Secret(name.to_owned()))
    } else {
        Err(TemplateError::InvalidSecretName(name.to_owned()))
    }
}

/// Whether `name` is a valid secret name (a slug of 1 to 64 characters).
pub fn is_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SECRET_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Checks that a dotted path stays within [`MAX_PATH_LEN`] bytes and [`MAX_PATH_SEGMENTS`]
/// names; the error completes a sentence starting with the field's name.
pub fn check_path_size(path: &str) -> Result<(), String> {
    if path.len() > MAX_PATH_LEN {
        Err(format!("must be at most {MAX_PATH_LEN} bytes long"))
    } else if path.split('.').nth(MAX_PATH_SEGMENTS).is_some() {
        Err(format!(
            "must have at most {MAX_PATH_SEGMENTS} names separated by dots"
        ))
    } else {
        Ok(())
    }
}

/// Whether `path` is a dotted path of non-empty segments (`a.b.c`).
pub fn is_dotted_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| !c.is_whitespace() && !c.is_control() && c != '{' && c != '}')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_header_parses_into_text_and_a_secret() {
        let t = Template::parse("Bearer {{secret:crm_api_token}}").expect("valid template");
        assert_eq!(
            t.0,
            vec![
                Segment::Literal("Bearer ".into()),
                Segment::Variable(Variable::Secret("crm_api_token".into()))
            ]
        );
    }

    #[test]
    fn both_secret_syntaxes_name_the_same_secret() {
        let a = Template::parse("<<secret:tok>>").expect("valid");
        let b = Template::parse("{{ secret:tok }}").expect("valid");
        assert_eq!(a, b);
    }

    #[test]
    fn data_paths_and_builtins_render() {
        let t =
            Template::parse("/{{eventType}}/{{data.customer.id}}?a={{attempt}}").expect("valid");
        let out = t.render(|v| match v {
            Variable::EventType => "t".into(),
            Variable::Data(p) => p.join("-"),
            Variable::Attempt => "2".into(),
            _ => "?".into(),
        });
        assert_eq!(out, "/t/customer-id?a=2");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_rejected() {
        assert!(matches!(
            Template::parse("{{eventid}}"),
            Err(TemplateError::UnknownVariable(_))
        ));
        assert!(matches!(
            Template::parse("x {{eventId"),
            Err(TemplateError::Unclosed(_))
        ));
        assert!(matches!(
            Template::parse("<<secret:a b>>"),
            Err(TemplateError::InvalidSecretName(_))
        ));
        assert!(matches!(
            Template::parse("{{data.}}"),
            Err(TemplateError::UnknownVariable(_))
        ));
    }

    #[test]
    fn text_without_placeholders_is_one_literal_even_with_multibyte_characters() {
        let t = Template::parse("héllo < world {").expect("valid");
        assert_eq!(t.0, vec![Segment::Literal("héllo < world {".into())]);
    }
}
