//! Templates parsed once. An integration's URL, headers, body and credentials may hold
//! placeholders, rendered for every attempt; their text changes only with a new version of the
//! integration, so the worker keeps each template it parsed, by text. The map is bounded: when
//! full it starts again empty.

use std::sync::Arc;

use ricochet_domain::template::{Template, TemplateError};

use crate::memo::Memo;

/// Templates kept at most (a few per integration); past it the map is cleared (a worker
/// serving more parses again after each clear, never holds more).
const MAX_TEMPLATES: usize = 4_096;

/// The parsed form of each template text seen.
pub(crate) struct ParsedTemplates(Memo<String, Arc<Template>>);

impl Default for ParsedTemplates {
    fn default() -> Self {
        ParsedTemplates(Memo::new(MAX_TEMPLATES))
    }
}

impl ParsedTemplates {
    /// `source` parsed: the form kept from before, or parsed now and kept (one that does not
    /// parse is not kept).
    pub(crate) fn parse(&self, source: &str) -> Result<Arc<Template>, TemplateError> {
        self.0
            .get_or_try_insert(source, || Template::parse_shared(source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_parsed_once_and_one_that_does_not_parse_is_not_kept() {
        let templates = ParsedTemplates::default();
        let source = "https://example.com/hooks/{{eventType}}";
        let first = templates.parse(source).expect("parses");
        assert_eq!(*first, Template::parse(source).expect("parses"));
        let again = templates.parse(source).expect("parses");
        assert!(Arc::ptr_eq(&first, &again), "parsed again");
        assert_eq!(templates.0.len(), 1);
        assert!(templates.parse("{{unclosed").is_err());
        assert_eq!(templates.0.len(), 1, "an invalid template is not kept");
    }
}
