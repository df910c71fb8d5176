//! Logging through `tracing`: human-readable or JSON lines, on stderr so that commands'
//! output (the OpenAPI document, credentials) stays clean on stdout. And the export of
//! OpenTelemetry traces, when asked for.

use std::io::IsTerminal;

use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal: never escape codes in a file or a collector.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// Where traces go: the OTLP/HTTP traces URL of `--otlp-endpoint` (`/v1/traces` added to a
/// base URL, as the OpenTelemetry spec has it for `OTEL_EXPORTER_OTLP_ENDPOINT`).
fn traces_url(endpoint: &url::Url) -> String {
    let base = endpoint.as_str().trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

/// Whether traces are exported, and where: `--otlp-endpoint`, else the standard
/// environment variables (read by the exporter itself).
fn traces_wanted(endpoint: Option<&url::Url>) -> Option<Option<String>> {
    match endpoint {
        Some(url) => Some(Some(traces_url(url))),
        None => [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
        .then_some(None),
    }
}

/// The exporter of OpenTelemetry traces, when they are wanted: a batch processor sending
/// OTLP/HTTP protobuf from its own thread, as service `ricochet` (or `OTEL_SERVICE_NAME`).
/// `OTEL_BSP_*` variables tune the batches. Shut it down to send what is queued.
pub fn traces(endpoint: Option<&url::Url>) -> anyhow::Result<Option<SdkTracerProvider>> {
    let Some(url) = traces_wanted(endpoint) else {
        return Ok(None);
    };
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
    if let Some(url) = &url {
        exporter = exporter.with_endpoint(url.clone());
    }
    let exporter = exporter
        .build()
        .context("building the OTLP trace exporter")?;
    let mut resource = Resource::builder()
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("ricochet");
    }
    let provider = SdkTracerProvider::builder()
        .with_resource(resource.build())
        .with_batch_exporter(exporter)
        .build();
    tracing::info!(
        endpoint = url.as_deref().unwrap_or("from OTEL_EXPORTER_OTLP_*"),
        "exporting traces over OTLP/HTTP"
    );
    Ok(Some(provider))
}

/// Sends the spans still queued and stops the exporter (blocking: run off the async threads).
pub fn shut_down_traces(provider: &SdkTracerProvider) {
    if let Err(e) = provider.shutdown_with_timeout(std::time::Duration::from_secs(5)) {
        tracing::warn!(error = %e, "flushing traces at shutdown");
    }
}

#[cfg(test)]
mod tests {
    use super::traces_url;

    #[test]
    fn the_traces_path_is_added_to_a_base_url_only() {
        let url = |s: &str| url::Url::parse(s).expect("a URL");
        assert_eq!(
            traces_url(&url("http://localhost:4318")),
            "http://localhost:4318/v1/traces"
        );
        assert_eq!(
            traces_url(&url("https://otel.example/prefix/")),
            "https://otel.example/prefix/v1/traces"
        );
        assert_eq!(
            traces_url(&url("http://127.0.0.1:4318/v1/traces")),
            "http://127.0.0.1:4318/v1/traces"
        );
    }
}
