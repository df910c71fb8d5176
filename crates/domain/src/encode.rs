//! Where a template value lands decides how it is written, so event data cannot change the
//! request's shape: in a URL it is percent-encoded for its component (it cannot add a path
//! segment, a query parameter or a fragment); in a JSON body it is JSON-encoded (quoted and
//! escaped inside a string, a complete JSON value outside one); in a form body it is
//! form-encoded; elsewhere (header values) it is inserted as text.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Everything but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a template renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A URL whose scheme and authority hold no placeholder (checked at save).
    Url,
    /// A JSON body.
    Json,
    /// An `application/x-www-form-urlencoded` body.
    Form,
    /// Text as is (header values; bodies of other types).
    Text,
}

impl Target {
    /// The target of a body of `content_type`.
    pub fn for_body(content_type: &str) -> Target {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence == "application/json" || essence.ends_with("+json") {
            Target::Json
        } else if essence == "application/x-www-form-urlencoded" {
            Target::Form
        } else {
            Target::Text
        }
    }
}

/// A value that cannot be placed safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a value of `.` or `..` in the URL's path would move the request to another path")]
pub struct DotSegment;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlPart {
    Path,
    Query,
    Fragment,
}

/// Follows the literal text of a template to know where the next value lands.
#[derive(Debug, Clone)]
pub struct Encoder {
    target: Target,
    url: UrlPart,
    in_string: bool,
    escaped: bool,
}

/// A value as text: a string as is, anything else as its JSON, a missing value as nothing.
pub fn text_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

impl Encoder {
    /// An encoder at the start of a template for `target`.
    pub fn new(target: Target) -> Encoder {
        Encoder {
            target,
            url: UrlPart::Path,
            in_string: false,
            escaped: false,
        }
    }

    /// Moves past literal text.
    pub fn literal(&mut self, text: &str) {
        for c in text.chars() {
            match self.target {
                Target::Url => match c {
                    '?' if self.url == UrlPart::Path => self.url = UrlPart::Query,
                    '#' if self.url != UrlPart::Fragment => self.url = UrlPart::Fragment,
                    _ => {}
                },
                Target::Json => {
                    if self.escaped {
                        self.escaped = false;
                    } else if self.in_string && c == '\\' {
                        self.escaped = true;
                    } else if c == '"' {
                        self.in_string = !self.in_string;
                    }
                }
                Target::Form | Target::Text => {}
            }
        }
    }

    /// Writes `value` (`None`: missing) for where it lands.
    pub fn value(&self, value: Option<&Value>) -> Result<String, DotSegment> {
        Ok(match self.target {
            Target::Url => {
                let text = text_of(value);
                if self.url == UrlPart::Path && (text == "." || text == "..") {
                    return Err(DotSegment);
                }
                utf8_percent_encode(&text, COMPONENT).to_string()
            }
            Target::Form => utf8_percent_encode(&text_of(value), COMPONENT).to_string(),
            Target::Json if self.in_string => {
                let quoted = Value::String(text_of(value)).to_string();
                quoted[1..quoted.len() - 1].to_owned()
            }
            Target::Json => value.unwrap_or(&Value::Null).to_string(),
            Target::Text => text_of(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(target: Target, parts: &[Result<&str, Value>]) -> Result<String, DotSegment> {
        let mut encoder = Encoder::new(target);
        let mut out = String::new();
        for part in parts {
            match part {
                Ok(text) => {
                    encoder.literal(text);
                    out.push_str(text);
                }
                Err(value) => out.push_str(&encoder.value(Some(value))?),
            }
        }
        Ok(out)
    }

    #[test]
    fn url_values_stay_inside_their_component() {
        let url = render(
            Target::Url,
            &[
                Ok("https://h.test/orders/"),
                Err(json!("../../admin/delete-all")),
                Ok("/notify?id="),
                Err(json!("42?admin=true&x=")),
                Ok("#"),
                Err(json!("@127.0.0.1:19001/x")),
            ],
        )
        .expect("renders");
        assert_eq!(
            url,
            "https://h.test/orders/..%2F..%2Fadmin%2Fdelete-all/notify?id=42%3Fadmin%3Dtrue%26x%3D#%40127.0.0.1%3A19001%2Fx"
        );
        let parsed = url::Url::parse(&url).expect("a URL");
        assert_eq!(parsed.host_str(), Some("h.test"));
        assert_eq!(parsed.path_segments().map(Iterator::count), Some(3));
        assert_eq!(parsed.query_pairs().count(), 1);
    }

    #[test]
    fn a_dot_segment_value_is_refused_in_the_path_only() {
        for dots in [".", ".."] {
            assert_eq!(
                render(Target::Url, &[Ok("https://h.test/a/"), Err(json!(dots))]),
                Err(DotSegment)
            );
            assert!(render(Target::Url, &[Ok("https://h.test/a?q="), Err(json!(dots))]).is_ok());
        }
    }

    #[test]
    fn json_values_are_escaped_inside_strings_and_whole_values_outside() {
        let body = render(
            Target::Json,
            &[
                Ok(r#"{"text": "said "#),
                Err(json!("a \"quote\"\nand a newline")),
                Ok(r#"", "e": "an escaped \" stays in the string", "n": "#),
                Err(json!(7)),
                Ok(r#", "customer": "#),
                Err(json!({"id": 1, "tags": ["x"]})),
                Ok(r#", "name": "#),
                Err(json!("O\"Brien")),
                Ok("}"),
            ],
        )
        .expect("renders");
        let parsed: Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(parsed["text"], "said a \"quote\"\nand a newline");
        assert_eq!(parsed["e"], "an escaped \" stays in the string");
        assert_eq!(parsed["n"], 7);
        assert_eq!(parsed["customer"], json!({"id": 1, "tags": ["x"]}));
        assert_eq!(parsed["name"], "O\"Brien");
    }

    #[test]
    fn the_body_target_follows_the_content_type() {
        assert_eq!(Target::for_body("application/json"), Target::Json);
        assert_eq!(
            Target::for_body("application/cloudevents+json; charset=utf-8"),
            Target::Json
        );
        assert_eq!(
            Target::for_body("application/x-www-form-urlencoded"),
            Target::Form
        );
        assert_eq!(Target::for_body("text/plain"), Target::Text);
    }
}
