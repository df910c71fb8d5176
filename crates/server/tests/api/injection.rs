//! Template values cannot change where a request goes or break its body: URL values are
//! percent-encoded for their component, JSON body values are JSON-encoded.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{GUIDE_TOKEN, Session, TestApp, fields, problem};
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issues_url_probes_reach_only_the_saved_host_and_path_with_the_data_percent_encoded() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    // A placeholder right after the host could make it userinfo or a port: refused at save.
    let response = s
        .create_integration(&json!({ "name": "p", "settings": { "url": format!("{}{{{{data.p}}}}", receiver.url) } }))
        .await;
    assert_eq!(
        fields(&problem(response, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["settings.url"]
    );
    let url = format!(
        "{}/orders/{{{{data.id}}}}/notify?token={{{{secret:crm_api_token}}}}",
        receiver.url
    );
    let id = s.integration("probe", &url, json!({})).await;
    s.bind(&id, &["a.b"]).await;
    let probes = [
        ("@127.0.0.1:19001/x", "%40127.0.0.1%3A19001%2Fx"),
        ("../../admin/delete-all", "..%2F..%2Fadmin%2Fdelete-all"),
        ("42?admin=true&x=", "42%3Fadmin%3Dtrue%26x%3D"),
    ];
    let mut deliveries = Vec::new();
    for (value, _) in probes {
        let (_, published) = s
            .publish(&json!({ "type": "a.b", "data": { "id": value } }))
            .await;
        deliveries.push(
            published["deliveries"][0]["deliveryId"]
                .as_str()
                .expect("a delivery")
                .to_owned(),
        );
    }
    let hits = receiver.wait_for(3, WAIT).await;
    for ((_, encoded), delivery) in probes.iter().zip(&deliveries) {
        let path = format!("/orders/{encoded}/notify");
        assert!(
            hits.iter().any(|h| h.path == path),
            "{path} not among {:?}",
            hits.iter().map(|h| &h.path).collect::<Vec<_>>()
        );
        // The log shows the URL sent, with the secret as its template.
        let logged = s
            .wait_delivery(delivery, WAIT, |d| d["status"] == "succeeded")
            .await;
        let sent = logged["attempts"][0]["request"]["url"]
            .as_str()
            .expect("a URL")
            .to_owned();
        assert_eq!(
            sent,
            format!("{}{path}?token={{{{secret:crm_api_token}}}}", receiver.url)
        );
        assert!(!sent.contains(GUIDE_TOKEN));
    }
    assert_eq!(hits.len(), 3, "nothing went anywhere else");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_with_a_quote_and_a_newline_gives_valid_json_and_an_object_is_inserted_whole() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let template = r#"{"text": "Note: {{data.note}}", "customer": {{data.customer}}, "attempt": {{attempt}}, "missing": {{data.nope}}}"#;
    let id = s
        .integration("body", &receiver.url, json!({ "bodyTemplate": template }))
        .await;
    s.bind(&id, &["a.b"]).await;
    let note = "she said \"hi\"\nthen left \\ ok";
    s.publish(&json!({ "type": "a.b", "data": { "note": note, "customer": { "id": 7, "name": "O\"Brien" } } }))
        .await;
    let hit = receiver.wait_for(1, WAIT).await.remove(0);
    let body: Value = serde_json::from_str(&hit.body).expect("the body is valid JSON");
    assert_eq!(body["text"], format!("Note: {note}"));
    assert_eq!(body["customer"], json!({ "id": 7, "name": "O\"Brien" }));
    assert_eq!(body["attempt"], 1);
    assert_eq!(body["missing"], Value::Null);
}
