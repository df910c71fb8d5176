//! A token lacking a route's permission gets 403 whatever its body or query holds: the
//! permission is checked before either is parsed, so a bad body tells it nothing more.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Session, TestApp, problem};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_the_permission_gets_403_even_with_a_bad_body_or_query() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let full = Session::new(&app, &tenant).await;
    let id = full
        .integration("target", "http://127.0.0.1:9/hook", json!({}))
        .await;
    let publisher = Session {
        app: &app,
        token: app
            .token(&tenant.client_id, &tenant.secret, Some("event:publish"))
            .await,
    };
    let viewer = Session {
        app: &app,
        token: app
            .token(&tenant.client_id, &tenant.secret, Some("log:view"))
            .await,
    };
    let with_bodies = [
        ("POST", "/api/v2/integrations".to_owned()),
        ("PUT", format!("/api/v2/integrations/{id}")),
        ("PATCH", format!("/api/v2/integrations/{id}")),
        ("POST", format!("/api/v2/integrations/{id}/eventbindings")),
        ("POST", format!("/api/v2/integrations/{id}/preview")),
        ("POST", "/api/v2/integrations/preview".to_owned()),
        (
            "POST",
            format!("/api/v2/integrations/{id}/signing-secret/rotate"),
        ),
        ("POST", "/api/v2/secrets".to_owned()),
        ("PUT", "/api/v2/secrets/some_secret".to_owned()),
        ("POST", "/api/v2/deadletters/replay".to_owned()),
    ];
    let with_queries = [
        "/api/v2/integrations",
        "/api/v2/secrets",
        "/api/v2/deadletters",
        "/api/v2/events",
        "/api/v2/deliveries",
        "/api/v2/stats",
    ]
    .map(str::to_owned)
    .into_iter()
    .chain(["logs", "stats", "eventbindings"].map(|r| format!("/api/v2/integrations/{id}/{r}")));
    let bad_body = |s: &Session<'_>, method: &str, path: &str| {
        s.req(
            Method::from_bytes(method.as_bytes()).expect("a method"),
            path,
        )
        .header("content-type", "application/json")
        .body(r#"{"name": 42, "settings": ["#)
    };

    for (method, path) in &with_bodies {
        let response = bad_body(&publisher, method, path)
            .send()
            .await
            .expect("request");
        problem(response, StatusCode::FORBIDDEN).await;
    }
    for path in ["/api/v2/events", "/api/v2/events/batch"] {
        let response = bad_body(&viewer, "POST", path)
            .send()
            .await
            .expect("request");
        problem(response, StatusCode::FORBIDDEN).await;
    }
    for path in with_queries {
        let response = publisher
            .req(
                Method::GET,
                &format!("{path}?limit=many&cursor=%00&statusCode=abc&from=yesterday"),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "GET {path}");
    }
    // With the permission, the same bad body is what it is: a client error about the body.
    let response = bad_body(&full, "POST", "/api/v2/integrations")
        .send()
        .await
        .expect("request");
    assert!(matches!(
        response.status(),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
    ));
}
