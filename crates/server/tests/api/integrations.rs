//! Integrations through the API: the guide's payload, validation, concurrency guards,
//! merge patch, pagination and deletion.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, fields, guide_integration, problem};

async fn setup() -> (TestApp, crate::harness::Tenant) {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    (app, tenant)
}

#[tokio::test]
async fn the_guides_payload_is_created_verbatim_and_returned_with_every_default() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;

    let created = s.create_integration(&guide_integration()).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["etag"], "\"1\"");
    let created: Value = created.json().await.expect("json");
    let id = created["id"].as_str().expect("id");

    let fetched: Value = s
        .req(Method::GET, &format!("/api/v2/integrations/{id}"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    // Read alone, it also carries its delivery health: nothing sent yet.
    let mut fetched = fetched;
    let health = fetched
        .as_object_mut()
        .and_then(|o| o.remove("health"))
        .expect("health");
    assert_eq!(
        health,
        json!({ "inFlight": 0, "pause": null, "consecutiveFailures": 0,
                "lastSuccessAt": null, "lastFailureAt": null, "failingSince": null,
                "circuit": "closed", "effectiveMaxConcurrency": 10, "effectiveRatePerSecond": null })
    );
    let mut created = created;
    let written = created.as_object_mut().and_then(|o| o.remove("health"));
    assert_eq!(
        written,
        Some(Value::Null),
        "a write's answer carries no health"
    );
    assert_eq!(fetched, created);
    let guide = guide_integration();
    assert_eq!(fetched["name"], guide["name"]);
    assert_eq!(fetched["type"], "webhook");
    assert_eq!(fetched["settings"]["url"], guide["settings"]["url"]);
    assert_eq!(fetched["settings"]["headers"], guide["settings"]["headers"]);
    let policy = &fetched["settings"]["retryPolicy"];
    assert_eq!(policy["maxRetries"], 5);
    assert_eq!(policy["retryDelay"], 1000);
    assert_eq!(policy["retryPolicyType"], "exponential");
    assert_eq!(policy["jitter"], true);
    assert_eq!(policy["multiplier"], 2.0);
    assert_eq!(policy["maxDelay"], 3_600_000);
    assert_eq!(policy["jitterRatio"], 0.2);
    assert_eq!(policy["jitterMode"], "ratio");
    assert_eq!(policy["retryOnStatus"], json!([]));
    assert_eq!(policy["retryOnTimeout"], true);
    assert_eq!(policy["respectRetryAfter"], true);
    assert_eq!(policy["maxRetryAfter"], 3_600_000);
    assert_eq!(fetched["settings"]["requestTimeout"], 10_000);
    assert_eq!(fetched["settings"]["payloadFormat"], "envelope");
    assert_eq!(fetched["version"], 1);
    assert!(fetched["createdAt"].is_string() && fetched["updatedAt"].is_string());
}

#[tokio::test]
async fn invalid_fields_are_each_named_and_nothing_is_written() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let mut body = guide_integration();
    body["settings"]["url"] = json!("ftp://example.com/hook");
    body["settings"]["headers"]["Bad Header"] = json!("x");
    body["settings"]["retryPolicy"]["retryDelay"] = json!(-1);
    body["settings"]["retryPolicy"]["maxRetries"] = json!(51);

    let problem = problem(
        s.create_integration(&body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let fields = fields(&problem);
    for field in [
        "settings.url",
        "settings.headers.Bad Header",
        "settings.retryPolicy.retryDelay",
        "settings.retryPolicy.maxRetries",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not named in {problem}"
        );
    }
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
}

#[tokio::test]
async fn an_unknown_retry_policy_type_is_a_problem_naming_the_field() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let mut body = guide_integration();
    body["settings"]["retryPolicy"]["retryPolicyType"] = json!("fibonacci");

    let problem = problem(
        s.create_integration(&body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    assert_eq!(
        fields(&problem),
        vec!["settings.retryPolicy.retryPolicyType"]
    );
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
}

#[tokio::test]
async fn a_wrong_type_is_a_problem_naming_the_field() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let mut body = guide_integration();
    body["settings"]["retryPolicy"]["maxRetries"] = json!("five");

    let problem = problem(
        s.create_integration(&body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    assert_eq!(fields(&problem), vec!["settings.retryPolicy.maxRetries"]);
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
}

#[tokio::test]
async fn malformed_json_and_a_wrong_content_type_get_problems_not_plain_text() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;

    let malformed = s
        .req(Method::POST, "/api/v2/integrations")
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("request");
    let body = problem(malformed, StatusCode::BAD_REQUEST).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("malformed JSON"),
        "{body}"
    );

    let text = s
        .req(Method::POST, "/api/v2/integrations")
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("request");
    problem(text, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
}

#[tokio::test]
async fn an_unknown_field_is_rejected_rather_than_ignored() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let mut body = guide_integration();
    body["settings"]["retryPolicy"]["retryDelya"] = json!(5);

    let problem = problem(
        s.create_integration(&body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("retryDelya"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_duplicate_name_in_the_same_tenant_conflicts() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    assert_eq!(
        s.create_integration(&guide_integration()).await.status(),
        StatusCode::CREATED
    );

    problem(
        s.create_integration(&guide_integration()).await,
        StatusCode::CONFLICT,
    )
    .await;

    assert_eq!(app.count("integrations", &tenant.id).await, 1);
}

#[tokio::test]
async fn the_same_name_in_another_tenant_is_fine() {
    let app = TestApp::spawn().await;
    let a = Session::new(&app, &app.tenant("a").await).await;
    let b = Session::new(&app, &app.tenant("b").await).await;

    assert_eq!(
        a.create_integration(&guide_integration()).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        b.create_integration(&guide_integration()).await.status(),
        StatusCode::CREATED
    );
}

async fn created_id(s: &Session<'_>, body: &Value) -> String {
    let created: Value = s.create_integration(body).await.json().await.expect("json");
    created["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn put_replaces_and_a_stale_if_match_is_refused() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let id = created_id(&s, &guide_integration()).await;
    let path = format!("/api/v2/integrations/{id}");
    let mut replacement = guide_integration();
    replacement["enabled"] = json!(false);

    let replaced = s
        .req(Method::PUT, &path)
        .header("if-match", "\"1\"")
        .json(&replacement)
        .send()
        .await
        .expect("put");
    assert_eq!(replaced.status(), StatusCode::OK);
    assert_eq!(replaced.headers()["etag"], "\"2\"");
    let replaced: Value = replaced.json().await.expect("json");
    assert_eq!(replaced["enabled"], false);
    assert_eq!(replaced["version"], 2);

    let stale = s
        .req(Method::PUT, &path)
        .header("if-match", "\"1\"")
        .json(&guide_integration())
        .send()
        .await
        .expect("put");
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let current: Value = s
        .req(Method::GET, &path)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        current["enabled"], false,
        "a refused write must change nothing"
    );
}

#[tokio::test]
async fn patch_merges_and_null_resets_a_field_to_its_default() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let id = created_id(&s, &guide_integration()).await;
    let path = format!("/api/v2/integrations/{id}");

    let patch = json!({ "settings": { "retryPolicy": { "maxRetries": 8, "jitter": null }, "requestTimeout": 2500 } });
    let patched = s
        .req(Method::PATCH, &path)
        .header("content-type", "application/merge-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .expect("patch");

    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.expect("json");
    assert_eq!(patched["settings"]["retryPolicy"]["maxRetries"], 8);
    assert_eq!(
        patched["settings"]["retryPolicy"]["jitter"], true,
        "null restores the default"
    );
    assert_eq!(
        patched["settings"]["retryPolicy"]["retryDelay"], 1000,
        "untouched fields stay"
    );
    assert_eq!(patched["settings"]["requestTimeout"], 2500);
    assert_eq!(
        patched["settings"]["headers"],
        guide_integration()["settings"]["headers"]
    );
    assert_eq!(patched["version"], 2);
}

#[tokio::test]
async fn an_invalid_patch_is_refused_and_changes_nothing() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let id = created_id(&s, &guide_integration()).await;
    let path = format!("/api/v2/integrations/{id}");

    let bad = s
        .req(Method::PATCH, &path)
        .json(&json!({ "settings": { "retryPolicy": { "multiplier": 0 } } }))
        .send()
        .await
        .expect("patch");
    let body = problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&body), vec!["settings.retryPolicy.multiplier"]);

    let stale = s
        .req(Method::PATCH, &path)
        .header("if-match", "\"7\"")
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .expect("patch");
    problem(stale, StatusCode::PRECONDITION_FAILED).await;

    let current: Value = s
        .req(Method::GET, &path)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(current["version"], 1);
    assert_eq!(current["enabled"], true);
}

#[tokio::test]
async fn lists_page_through_every_integration_in_creation_order() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let mut body = guide_integration();
        body["name"] = json!(format!("hook-{i}"));
        expected.push(created_id(&s, &body).await);
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/api/v2/integrations?limit=2&cursor={c}"),
            None => "/api/v2/integrations?limit=2".to_owned(),
        };
        let page: Value = s
            .req(Method::GET, &path)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        let data = page["data"].as_array().expect("data");
        assert!(data.len() <= 2);
        seen.extend(
            data.iter()
                .map(|i| i["id"].as_str().expect("id").to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_bad_cursor_or_limit_is_a_bad_request() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;

    problem(
        s.req(Method::GET, "/api/v2/integrations?cursor=nope")
            .send()
            .await
            .expect("list"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        s.req(Method::GET, "/api/v2/integrations?limit=0")
            .send()
            .await
            .expect("list"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        s.req(Method::GET, "/api/v2/integrations?limit=ten")
            .send()
            .await
            .expect("list"),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn a_deleted_integration_is_gone_and_its_name_can_be_reused() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let id = created_id(&s, &guide_integration()).await;
    let path = format!("/api/v2/integrations/{id}");

    assert_eq!(
        s.req(Method::DELETE, &path)
            .send()
            .await
            .expect("delete")
            .status(),
        StatusCode::NO_CONTENT
    );

    problem(
        s.req(Method::GET, &path).send().await.expect("get"),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        s.req(Method::DELETE, &path).send().await.expect("delete"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let list: Value = s
        .req(Method::GET, "/api/v2/integrations")
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"], json!([]));
    assert_eq!(
        s.create_integration(&guide_integration()).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_path_id_that_is_not_a_uuid_is_a_bad_request_naming_it() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;

    let body = problem(
        s.req(Method::GET, "/api/v2/integrations/not-a-uuid")
            .send()
            .await
            .expect("get"),
        StatusCode::BAD_REQUEST,
    )
    .await;

    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("integrationId"),
        "{body}"
    );
}

#[tokio::test]
async fn a_nul_character_in_any_setting_is_refused_naming_the_field() {
    let (app, tenant) = setup().await;
    let s = Session::new(&app, &tenant).await;
    let body = r#"{"name": "n", "settings": {"url": "https://example.com/", "transformations": [{"type": "set", "path": "a", "value": "x\u0000"}]}}"#;

    let response = s
        .req(Method::POST, "/api/v2/integrations")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");

    let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&problem), vec!["settings.transformations[0].value"]);
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
}
