//! Mutual TLS toward receivers (`settings.tls`): a real TLS receiver on loopback that requires a
//! client certificate signed by its CA gets deliveries made with the configured identity;
//! without one the handshake fails (`tls`, retried); unusable material fails the attempt as
//! `tls_config` and dead-letters it; what is saved is checked.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use reqwest::{Method, StatusCode};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

use crate::harness::{Session, fields, problem};

const WAIT: Duration = Duration::from_secs(30);

/// A CA with a server certificate for localhost and a client certificate, all PEM.
struct Pki {
    ca: String,
    ca_der: CertificateDer<'static>,
    server: (CertificateDer<'static>, Vec<u8>),
    client_cert: String,
    client_key: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = params.self_signed(&ca_key).expect("the CA");

    let server_key = KeyPair::generate().expect("a server key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = params
        .signed_by(&server_key, &ca, &ca_key)
        .expect("the server certificate");

    let client_key = KeyPair::generate().expect("a client key");
    let mut params = CertificateParams::new(vec!["ricochet.client".to_owned()]).expect("params");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = params
        .signed_by(&client_key, &ca, &ca_key)
        .expect("the client certificate");
    Pki {
        ca: ca.pem(),
        ca_der: ca.der().clone(),
        server: (server.der().clone(), server_key.serialize_der()),
        client_cert: client.pem(),
        client_key: client_key.serialize_pem(),
    }
}

/// An HTTPS receiver on loopback that requires a client certificate signed by the CA.
struct TlsReceiver {
    url: String,
    /// Requests served (each came over a verified client certificate).
    served: Arc<Mutex<Vec<String>>>,
    /// Connections whose handshake failed.
    refused: Arc<AtomicUsize>,
}

impl TlsReceiver {
    async fn start(pki: &Pki) -> TlsReceiver {
        Self::start_with(pki, rustls::DEFAULT_VERSIONS).await
    }

    /// A receiver speaking only `versions`.
    async fn start_with(
        pki: &Pki,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> TlsReceiver {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_der.clone()).expect("the CA as a root");
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots.into(),
            provider.clone(),
        )
        .build()
        .expect("a client verifier");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("TLS versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![pki.server.0.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server.1.clone())),
            )
            .expect("the server identity");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the receiver");
        let port = listener.local_addr().expect("an address").port();
        let served = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(AtomicUsize::new(0));
        let (log, failures) = (served.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, log, failures) = (acceptor.clone(), log.clone(), failures.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        failures.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
                        let log = log.clone();
                        async move {
                            log.lock()
                                .expect("log lock")
                                .push(request.uri().path().to_owned());
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(
                                "hello over mTLS",
                            ))))
                        }
                    });
                    let served = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                    // TLS 1.3: a missing client certificate is refused after the client's
                    // handshake ends, so it surfaces here.
                    if served.is_err() {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        TlsReceiver {
            url: format!("https://localhost:{port}/hook"),
            served,
            refused,
        }
    }

    fn served(&self) -> Vec<String> {
        self.served.lock().expect("log lock").clone()
    }
}

async fn secret(s: &Session<'_>, name: &str, value: &str) {
    let response = s
        .req(Method::POST, "/api/v2/secrets")
        .json(&json!({ "name": name, "value": value }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED, "secret {name}");
}

fn full_tls() -> Value {
    json!({ "clientCertificate": "{{secret:client_cert}}", "clientKey": "{{secret:client_key}}",
            "caCertificate": "{{secret:receiver_ca}}" })
}

/// A receiver requiring a client certificate, the tenant's secrets holding the certificate, key
/// and CA, and integration `name` pointing at the receiver with them (bound to `a.b`).
async fn mtls_integration(s: &Session<'_>, name: &str) -> (TlsReceiver, String) {
    let pki = pki();
    let receiver = TlsReceiver::start(&pki).await;
    secret(s, "client_cert", &pki.client_cert).await;
    secret(s, "client_key", &pki.client_key).await;
    secret(s, "receiver_ca", &pki.ca).await;
    let id = s
        .integration(name, &receiver.url, json!({ "tls": full_tls() }))
        .await;
    s.bind(&id, &["a.b"]).await;
    (receiver, id)
}

/// Publishes one event for the integration and returns its delivery id.
async fn publish(s: &Session<'_>) -> String {
    let (status, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_requiring_a_client_certificate_gets_deliveries_made_with_the_configured_one() {
    let app = crate::harness::TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let (receiver, id) = mtls_integration(&s, "mtls").await;
    let shown = s.get_json(&format!("/api/v2/integrations/{id}")).await;
    assert_eq!(shown["settings"]["tls"], full_tls());

    for _ in 0..2 {
        let delivery = publish(&s).await;
        let done = s
            .wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
            .await;
        assert_eq!(done["attempts"][0]["statusCode"], 200, "{done}");
        assert_eq!(done["attempts"][0]["response"]["body"], "hello over mTLS");
    }
    assert_eq!(receiver.served(), vec!["/hook", "/hook"]);
    assert_eq!(receiver.refused.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_certificate_the_receiver_refuses_and_the_attempt_is_recorded_as_tls() {
    let app = crate::harness::TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let pki = pki();
    // TLS 1.2: the receiver refuses the missing certificate within the handshake. Under TLS
    // 1.3 the refusal comes after the client's handshake has ended, and the HTTP client may
    // see only a connection closed before the request went out (recorded as `connect`).
    let receiver = TlsReceiver::start_with(&pki, &[&rustls::version::TLS12]).await;
    secret(&s, "receiver_ca", &pki.ca).await;
    let policy = json!({ "tls": { "caCertificate": "{{secret:receiver_ca}}" },
        "retryPolicy": { "maxRetries": 1, "retryDelay": 500, "retryPolicyType": "fixed", "jitter": false } });
    let id = s.integration("ca-only", &receiver.url, policy).await;
    s.bind(&id, &["a.b"]).await;

    let delivery = publish(&s).await;
    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(
        dead["attemptCount"], 2,
        "retried as a network error: {dead}"
    );
    for attempt in dead["attempts"].as_array().expect("attempts") {
        assert_eq!(attempt["errorKind"], "tls", "{attempt}");
    }
    assert!(
        receiver.served().is_empty(),
        "nothing served without a certificate"
    );
    assert!(receiver.refused.load(Ordering::SeqCst) >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn material_that_is_not_pem_fails_as_tls_config_and_dead_letters_at_once() {
    let app = crate::harness::TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let pki = pki();
    let receiver = TlsReceiver::start(&pki).await;
    secret(&s, "client_cert", "this is not a certificate").await;
    secret(&s, "client_key", &pki.client_key).await;
    secret(&s, "receiver_ca", &pki.ca).await;
    let policy = json!({ "tls": full_tls(),
        "retryPolicy": { "maxRetries": 3, "retryDelay": 500, "retryPolicyType": "fixed", "jitter": false } });
    let id = s.integration("bad-pem", &receiver.url, policy).await;
    s.bind(&id, &["a.b"]).await;

    let delivery = publish(&s).await;
    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["attemptCount"], 1, "not retried: {dead}");
    let attempt = &dead["attempts"][0];
    assert_eq!(attempt["errorKind"], "tls_config", "{attempt}");
    let message = attempt["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("clientCertificate"), "{message}");
    assert!(!message.contains("BEGIN"), "no PEM in the log: {message}");
    assert_eq!(dead["reason"], "tls_config", "{dead}");
    assert_eq!(
        receiver.refused.load(Ordering::SeqCst),
        0,
        "never connected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_secret_fails_as_tls_config() {
    let app = crate::harness::TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let (receiver, _) = mtls_integration(&s, "gone").await;
    let deleted = s
        .req(Method::DELETE, "/api/v2/secrets/client_key")
        .send()
        .await
        .expect("request");
    assert!(deleted.status().is_success(), "{}", deleted.status());

    let delivery = publish(&s).await;
    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    let attempt = &dead["attempts"][0];
    assert_eq!(attempt["errorKind"], "tls_config", "{attempt}");
    assert!(
        attempt["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("client_key")),
        "{attempt}"
    );
    assert!(receiver.served().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_settings_other_than_whole_existing_secret_references_are_refused_at_save() {
    let app = crate::harness::TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    secret(&s, "client_cert", "x").await;
    // Secrets keep line breaks only in PEM text.
    let multiline = s
        .req(Method::POST, "/api/v2/secrets")
        .json(&json!({ "name": "token", "value": "abc\n" }))
        .send()
        .await
        .expect("request");
    let refused = problem(multiline, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&refused), vec!["value"]);
    secret(
        &s,
        "pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .await;

    let cases = [
        (
            json!({ "clientCertificate": "-----BEGIN CERTIFICATE-----", "clientKey": "{{secret:client_cert}}" }),
            "settings.tls.clientCertificate",
        ),
        (
            json!({ "clientCertificate": "{{secret:client_cert}}" }),
            "settings.tls.clientKey",
        ),
        (
            json!({ "caCertificate": format!("{{{{secret:{}}}}}", "c".repeat(300)) }),
            "settings.tls.caCertificate",
        ),
        (json!({}), "settings.tls"),
        (
            json!({ "caCertificate": "{{secret:no_such_secret}}" }),
            "settings.tls.caCertificate",
        ),
    ];
    for (tls, field) in cases {
        let response = s
            .create_integration(
                &json!({ "name": "t", "settings": { "url": "https://127.0.0.1:9/", "tls": tls } }),
            )
            .await;
        let refused = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            fields(&refused).iter().any(|f| f == field),
            "{field} not named for {tls}: {refused}"
        );
    }
}
