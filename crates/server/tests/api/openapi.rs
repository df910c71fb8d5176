//! The OpenAPI document: the checked-in copy matches the code, and the server serves it with
//! a docs page of its own.

use reqwest::StatusCode;
use serde_json::Value;

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
    assert_eq!(
        spec,
        ricochet_api::openapi(),
        "the served document is the checked-in one"
    );

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

/// Every operation of the document, as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn every_response_of_the_document_has_a_description() {
    let doc = ricochet_api::openapi();
    let mut missing = Vec::new();
    for (method, path, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().expect("responses") {
            if response["description"].as_str().is_none_or(str::is_empty) {
                missing.push(format!("{method} {path} {status}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "OpenAPI 3.1 requires a description on every response; missing on {missing:?}"
    );
}

#[test]
fn every_secured_operation_declares_401_and_403_and_every_json_body_400_413_415_422_as_problems() {
    let doc = ricochet_api::openapi();
    let problem = serde_json::json!({"$ref": "#/components/schemas/Problem"});
    let mut undeclared = Vec::new();
    for (method, path, op) in operations(&doc) {
        let mut wanted = Vec::new();
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            wanted.extend(["401", "403"]);
        }
        if op["requestBody"]["content"]
            .as_object()
            .is_some_and(|c| c.keys().any(|k| k.ends_with("json")))
        {
            wanted.extend(["400", "413", "415", "422"]);
        }
        for status in wanted {
            if op["responses"][status]["content"]["application/problem+json"]["schema"] != problem {
                undeclared.push(format!("{method} {path} {status}"));
            }
        }
    }
    assert!(
        undeclared.is_empty(),
        "undeclared problem responses: {undeclared:?}"
    );
}

#[test]
fn operation_ids_are_unique_camel_case_and_tenant_routes_use_the_oauth2_scheme() {
    let doc = ricochet_api::openapi();
    let mut seen = std::collections::BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().expect("an operation id");
        assert!(
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{method} {path}: operation id `{id}` is not camelCase"
        );
        assert!(
            seen.insert(id.to_owned()),
            "operation id `{id}` is used twice"
        );
        if let Some(security) = op["security"].as_array() {
            let scheme = security[0]
                .as_object()
                .and_then(|r| r.keys().next().cloned())
                .unwrap_or_default();
            let expected = if path.starts_with("/api/v2/tenants") {
                "adminKey"
            } else {
                "oauth2"
            };
            assert_eq!(scheme, expected, "{method} {path}");
        }
    }
    assert!(seen.contains("createApiClient") && seen.contains("listIntegrationLogs"));
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"];
    assert_eq!(flow["tokenUrl"], "/oauth/token");
    assert!(flow["scopes"]["integration:edit"].is_string());
}

#[tokio::test]
async fn swagger_ui_authorize_gets_a_token_from_a_client_id_and_secret_in_one_request() {
    let app = TestApp::spawn().await;
    let tenant = app.bare_tenant("swagger").await;
    let spec: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("spec")
        .json()
        .await
        .expect("json");
    let token_url =
        spec["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"]
            .as_str()
            .expect("a token URL");

    // What Swagger UI sends for the client-credentials flow: HTTP Basic, no scope ticked.
    let response = app
        .http
        .post(app.url(token_url))
        .basic_auth(&tenant.client_id, Some(&tenant.secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "")])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.expect("json");
    let listed = app
        .http
        .get(app.url("/api/v2/integrations"))
        .bearer_auth(token["access_token"].as_str().expect("access_token"))
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.status(),
        StatusCode::OK,
        "the token works on the API"
    );
}
