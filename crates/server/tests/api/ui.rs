//! The console's files as the server serves them: embedded, with their types, and a policy
//! that lets a page load and call nothing but this server.

use reqwest::StatusCode;

use crate::harness::TestApp;

#[tokio::test]
async fn the_console_page_is_served_at_ui_with_a_same_origin_only_policy() {
    let app = TestApp::spawn().await;

    let bare = app.http.get(app.url("/ui")).send().await.expect("ui");
    let page = app.http.get(app.url("/ui/")).send().await.expect("ui/");

    assert_eq!(bare.url().path(), "/ui/", "/ui redirects to the page");
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let policy = headers["content-security-policy"].to_str().expect("ascii");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<script type="module" src="/ui/app.js">"#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no outside address"
    );
}

#[tokio::test]
async fn every_console_source_file_is_served_with_its_type_and_unknown_files_are_404() {
    let app = TestApp::spawn().await;
    let sources = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/ui");
    let scripts: Vec<String> = std::fs::read_dir(sources)
        .expect("the console's sources")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".js"))
        .collect();
    assert!(scripts.len() >= 9, "{scripts:?}");

    for file in &scripts {
        let response = app
            .http
            .get(app.url(&format!("/ui/{file}")))
            .send()
            .await
            .expect("file");
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert_eq!(
            response.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
    let css = app
        .http
        .get(app.url("/ui/style.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

    let missing = app
        .http
        .get(app.url("/ui/../Cargo.toml"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let missing = app
        .http
        .get(app.url("/ui/nothing.js"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
}
