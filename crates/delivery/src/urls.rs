//! Receiver URLs parsed once. Parsing a URL runs IDNA over its host and allocates its parts;
//! most integrations send every attempt to the same literal URL, so the worker keeps what it
//! parsed, by text. Only literal URLs are kept (a template that renders per event or holds a
//! secret is parsed each time), and the map is bounded: when full it starts again empty.

use url::Url;

use crate::memo::Memo;

/// Literal URLs kept at most; past it the map is cleared (a worker serving more integrations
/// than this parses again after each clear, never holds more).
const MAX_URLS: usize = 1_024;

/// The parsed form of each literal receiver URL seen.
pub(crate) struct ParsedUrls(Memo<String, Url>);

impl Default for ParsedUrls {
    fn default() -> Self {
        ParsedUrls(Memo::new(MAX_URLS))
    }
}

impl ParsedUrls {
    /// `text` parsed. `literal` says `text` is the integration's URL as saved, not rendered from
    /// a template: only then is the parsed form kept for the next attempt.
    pub(crate) fn parse(&self, text: &str, literal: bool) -> Result<Url, url::ParseError> {
        if literal {
            self.0.get_or_try_insert(text, || Url::parse(text))
        } else {
            Url::parse(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_url_is_kept_and_a_rendered_one_is_not() {
        let urls = ParsedUrls::default();
        let kept = urls
            .parse("https://Example.COM/hook", true)
            .expect("a valid URL");
        assert_eq!(kept.as_str(), "https://example.com/hook");
        assert_eq!(urls.0.len(), 1);
        assert_eq!(
            urls.parse("https://Example.COM/hook", true)
                .expect("a valid URL"),
            kept,
            "the kept URL is the one parsed"
        );
        assert_eq!(urls.0.len(), 1);
        urls.parse("https://example.com/hook?event=evt_1", false)
            .expect("a valid URL");
        assert_eq!(urls.0.len(), 1, "a rendered URL is parsed, not kept");
        assert!(urls.parse("not a url", true).is_err());
        assert_eq!(urls.0.len(), 1, "an invalid URL is not kept");
    }
}
