//! The OpenAPI document: the checked-in copy matches the code, and the server serves it with
//! a docs page of its own.

use reqwest::StatusCode;

use crate::harness::TestApp;

const REGENERATE: &str =
    "cargo run -q -p ricochet-server --bin ricochet -- openapi > openapi/openapi.json";

#[test]
fn the_checked_in_openapi_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    let generated = ricochet_api::openapi_pretty_json();

    assert!(
        checked_in.trim_end() == generated.trim_end(),
        "openapi/openapi.json is stale; regenerate it with:\n    {REGENERATE}"
    );
}

#[tokio::test]
async fn the_server_serves_its_spec_and_a_self_hosted_docs_page() {
    let app = TestApp::spawn().await;

    let spec: serde_json::Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("spec")
        .json()
        .await
        .expect("json");
    assert!(spec["paths"]["/api/v2/integrations"].is_object());

    let docs = app.http.get(app.url("/docs/")).send().await.expect("docs");
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.expect("html");
    assert!(
        !html.contains("cdn."),
        "the docs page must not load from a CDN"
    );
    let script = app
        .http
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .expect("bundle");
    assert_eq!(
        script.status(),
        StatusCode::OK,
        "Swagger UI's assets are served by Ricochet itself"
    );
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;

    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .status(),
        StatusCode::OK
    );
}
