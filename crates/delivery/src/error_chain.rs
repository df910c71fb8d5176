//! One line for an error and its causes: what attempts, token requests and TLS set-up store
//! and show (reqwest's own message names only the outermost layer, e.g. "error sending request").

/// The error and its causes, one line.
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
