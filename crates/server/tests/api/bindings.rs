//! Event bindings through the API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, fields, problem};

#[tokio::test]
async fn binding_the_guides_event_twice_is_not_an_error_and_lists_it_once() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let id = s
        .integration("hook", "https://example.com/hook", json!({}))
        .await;
    let path = format!("/api/v2/integrations/{id}/eventbindings");

    let first: Value = s
        .req(Method::POST, &path)
        .json(&json!({"events": ["routing.queue.member.update"]}))
        .send()
        .await
        .expect("bind")
        .json()
        .await
        .expect("json");
    let again = s
        .req(Method::POST, &path)
        .json(&json!({"events": ["routing.queue.member.update", "routing.queue.*"]}))
        .send()
        .await
        .expect("bind");

    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Value = again.json().await.expect("json");
    assert_eq!(
        again["data"][0]["id"], first["data"][0]["id"],
        "the existing binding is returned"
    );
    let list = s.get_json(&path).await;
    let types: Vec<&str> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|b| b["eventType"].as_str())
        .collect();
    assert_eq!(
        types,
        vec!["routing.queue.member.update", "routing.queue.*"]
    );
}

#[tokio::test]
async fn an_invalid_pattern_is_refused_and_nothing_is_bound() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let id = s
        .integration("hook", "https://example.com/hook", json!({}))
        .await;

    let response = s
        .req(
            Method::POST,
            &format!("/api/v2/integrations/{id}/eventbindings"),
        )
        .json(&json!({"events": ["ok.type", "routing.*.update"]}))
        .send()
        .await
        .expect("bind");

    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&body), vec!["events[1]"]);
    assert_eq!(app.count("event_bindings", &tenant.id).await, 0);
}

#[tokio::test]
async fn a_removed_binding_no_longer_delivers() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let id = s
        .integration("hook", "https://example.com/hook", json!({}))
        .await;
    let path = format!("/api/v2/integrations/{id}/eventbindings");
    let bound: Value = s
        .req(Method::POST, &path)
        .json(&json!({"events": ["a.b"]}))
        .send()
        .await
        .expect("bind")
        .json()
        .await
        .expect("json");
    let binding = bound["data"][0]["id"].as_str().expect("binding id");

    let removed = s
        .req(Method::DELETE, &format!("{path}/{binding}"))
        .send()
        .await
        .expect("unbind");
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);

    let (_, published) = s.publish(&json!({"type": "a.b", "data": {}})).await;
    assert_eq!(published["deliveries"], json!([]));
    problem(
        s.req(Method::DELETE, &format!("{path}/{binding}"))
            .send()
            .await
            .expect("unbind"),
        StatusCode::NOT_FOUND,
    )
    .await;
}
