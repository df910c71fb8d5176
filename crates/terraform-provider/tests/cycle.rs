//! The real `terraform` runs `examples/terraform/` through the provider against the real
//! Ricochet: apply, an empty second plan, drift and its repair, re-creation after an
//! out-of-band delete, the resilience settings (rate limit, circuit breaker, disable on `410`,
//! auto-disable) applied, read back, changed and imported, the trust settings (receiver auth,
//! mutual TLS, the signature scheme) applied, imported, drifted and removed, import (CLI and
//! `import {}`), a
//! secret rotation that the next delivery
//! carries without any value reaching a file, a plan-time diagnostic on a bad retry policy,
//! and a destroy that empties the tenant.

mod support;

use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

use support::{Receiver, Ricochet, TempDir, Workspace};

const OLD_TOKEN: &str = "crm-token-one-5f1d0c";
const NEW_TOKEN: &str = "crm-token-two-9a7e42";

/// Blocking calls of Ricochet's REST API.
struct Rest {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Rest {
    fn new(base: &str) -> Rest {
        Rest {
            runtime: tokio::runtime::Runtime::new().expect("a tokio runtime"),
            http: reqwest::Client::new(),
            base: base.to_owned(),
        }
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.runtime.block_on(async {
            let mut request = self
                .http
                .request(method, format!("{}{path}", self.base))
                .bearer_auth(bearer);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("calling Ricochet");
            let status = response.status().as_u16();
            let text = response.text().await.expect("a body");
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    fn token(&self, client_id: &str, client_secret: &str) -> String {
        self.runtime.block_on(async {
            let response: Value = self
                .http
                .post(format!("{}/oauth/token", self.base))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                ])
                .send()
                .await
                .expect("token request")
                .json()
                .await
                .expect("token json");
            response["access_token"]
                .as_str()
                .expect("an access token")
                .to_owned()
        })
    }
}

/// Terraform's output with its line wrapping undone.
fn flat(output: &[u8]) -> String {
    String::from_utf8_lossy(output)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn names(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Files under `dir` (Terraform's provider copies aside) that contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)
            .expect("read_dir")
            .map_while(Result::ok)
        {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("providers") {
                    stack.push(path);
                }
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// An override of the integration's resilience settings, with its rate limit's period.
fn resilience_override(per: &str) -> String {
    format!(
        "resource \"ricochet_integration\" \"crm\" {{
  rate_limit = {{
    requests = 50
    per      = \"{per}\"
  }}
  circuit_breaker = {{
    failure_threshold = 3
    cool_down_ms      = 5000
  }}
  disable_on_gone       = false
  auto_disable_after_ms = 86400000
}}
"
    )
}

/// Resource changes of a saved plan other than no-ops: `(address, actions)`.
fn planned_changes(workspace: &Workspace) -> Vec<(String, Value, Value, Value)> {
    workspace.expect(2, &["plan", "-detailed-exitcode", "-out", "import.plan"]);
    let show: Value = serde_json::from_str(&workspace.expect(0, &["show", "-json", "import.plan"]))
        .expect("plan json");
    show["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["change"]["actions"] != json!(["no-op"]) && c["mode"] == "managed")
        .map(|c| {
            (
                c["address"].as_str().unwrap_or_default().to_owned(),
                c["change"]["actions"].clone(),
                c["change"]["before"].clone(),
                c["change"]["after"].clone(),
            )
        })
        .collect()
}

/// An override with the trust settings: HTTP Basic to the receiver (in place of the guide's
/// Authorization header), mutual TLS material and both signature schemes. The references
/// name the one secret the example has; whether its value is a PEM matters only at send.
const TRUST_OVERRIDE: &str = "resource \"ricochet_integration\" \"crm\" {
  headers = {
    \"X-Genesys-Event-Id\" = \"{{eventId}}\"
  }
  auth = {
    type     = \"basic\"
    username = \"ricochet\"
    password = \"{{secret:crm_api_token}}\"
  }
  tls = {
    client_certificate = \"{{secret:crm_api_token}}\"
    client_key         = \"{{secret:crm_api_token}}\"
    ca_certificate     = \"{{secret:crm_api_token}}\"
  }
  signature_scheme = \"both\"
}
";

/// `auth`, `tls` and `signature_scheme` through apply, read-back, an empty plan, state rm and
/// import, drift and its repair, and removal (back to the example's settings).
fn trust_settings(tf: &Workspace, rest: &Rest, token: &str, path: &str) {
    let get = reqwest::Method::GET;
    let trust = tf.work().join("trust_override.tf");
    std::fs::write(&trust, TRUST_OVERRIDE).expect("writing the override");
    tf.expect(0, &["apply", "-auto-approve"]);
    let (_, read) = rest.call(get.clone(), path, token, None);
    let secret = "{{secret:crm_api_token}}";
    assert_eq!(
        read["settings"]["auth"],
        json!({"type": "basic", "username": "ricochet", "password": secret})
    );
    assert_eq!(
        read["settings"]["tls"],
        json!({"clientCertificate": secret, "clientKey": secret, "caCertificate": secret})
    );
    assert_eq!(read["settings"]["signature"], json!({"scheme": "both"}));
    let (status, signing) = rest.call(get.clone(), &format!("{path}/signing-secret"), token, None);
    assert_eq!(status, 200);
    assert!(
        signing["publicKey"]
            .as_str()
            .is_some_and(|k| k.starts_with("whpk_")),
        "{signing}"
    );
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    // Imported, the three read back as configured.
    let id = tf.output("integration_id");
    tf.expect(0, &["state", "rm", "ricochet_integration.crm"]);
    tf.expect(0, &["import", "ricochet_integration.crm", id.as_str()]);
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    // Drift of each shows in the plan; apply restores them.
    let (status, _) = rest.call(
        reqwest::Method::PATCH,
        path,
        token,
        Some(json!({"settings": {
            "signature": {"scheme": "v1"},
            "tls": {"clientCertificate": null, "clientKey": null},
            "auth": {"type": "basic", "username": "someone-else", "password": secret},
        }})),
    );
    assert_eq!(status, 200);
    let plan = tf.expect(2, &["plan", "-detailed-exitcode"]);
    for change in [
        "\"v1\" -> \"both\"",
        "\"someone-else\" -> \"ricochet\"",
        "+ client_certificate",
    ] {
        assert!(plan.contains(change), "{change} missing from {plan}");
    }
    tf.expect(0, &["apply", "-auto-approve"]);
    let (_, restored) = rest.call(get.clone(), path, token, None);
    assert_eq!(restored["settings"]["signature"], json!({"scheme": "both"}));
    assert_eq!(restored["settings"]["auth"]["username"], "ricochet");
    assert_eq!(restored["settings"]["tls"]["clientKey"], secret);
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    // Removed from the configuration, they are removed from the integration.
    std::fs::remove_file(&trust).expect("removing the override");
    tf.expect(0, &["apply", "-auto-approve"]);
    let (_, removed) = rest.call(get, path, token, None);
    assert_eq!(removed["settings"]["auth"], Value::Null);
    assert_eq!(removed["settings"]["tls"], Value::Null);
    assert_eq!(removed["settings"]["signature"], json!({"scheme": "v1"}));
    tf.expect(0, &["plan", "-detailed-exitcode"]);
}

#[test]
fn terraform_manages_a_tenant_end_to_end_through_the_provider() {
    let Some(terraform) = support::terraform_or_skip() else {
        return;
    };
    let started = Instant::now();
    let data = TempDir::new("ricochet-tf-data");
    let ricochet = Ricochet::start(&support::ricochet_binary(), &data);
    let receiver = Receiver::start();
    let rest = Rest::new(&ricochet.base);
    let admin = ricochet.admin_key.clone();
    let mut tf = Workspace::new(
        terraform,
        &[
            ("RICOCHET_ENDPOINT", ricochet.base.as_str()),
            ("RICOCHET_ADMIN_KEY", admin.as_str()),
            ("TF_VAR_crm_api_token", OLD_TOKEN),
            ("TF_VAR_crm_url", receiver.url.as_str()),
        ],
    );
    let get = reqwest::Method::GET;
    let lap = |step: &str| eprintln!("[{:>5.1} s] {step}", started.elapsed().as_secs_f64());
    lap("ricochet started");

    // One apply creates everything; the client's token lists the integration.
    tf.expect(0, &["init"]);
    tf.expect(0, &["apply", "-auto-approve"]);
    assert_eq!(tf.output("tenant_name"), "acme");
    let client_id = tf.output("client_id");
    let token = rest.token(&client_id, &tf.output("client_secret"));
    let (status, list) = rest.call(get.clone(), "/api/v2/integrations", &token, None);
    assert_eq!(status, 200);
    assert_eq!(names(&list), ["CRM-Sync-Webhook-Resilient"]);
    let integration = list["data"][0].clone();
    assert_eq!(integration["settings"]["url"], receiver.url.as_str());
    assert_eq!(
        integration["settings"]["headers"]["Authorization"],
        "Bearer {{secret:crm_api_token}}"
    );
    assert_eq!(integration["settings"]["retryPolicy"]["maxRetries"], 5);

    lap("applied");
    // A second plan is empty.
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    // The resilience settings: applied, read back through the API, an empty plan; one of them
    // changed and re-applied. They stay configured for the rest of the cycle (drift, import).
    let id = tf.output("integration_id");
    let path = format!("/api/v2/integrations/{id}");
    let resilience = tf.work().join("resilience_override.tf");
    std::fs::write(&resilience, resilience_override("second")).expect("writing the override");
    tf.expect(0, &["apply", "-auto-approve"]);
    let (status, read) = rest.call(get.clone(), &path, &token, None);
    assert_eq!(status, 200);
    assert_eq!(
        read["settings"]["rateLimit"],
        json!({"requests": 50, "per": "second"})
    );
    assert_eq!(
        read["settings"]["circuitBreaker"],
        json!({"failureThreshold": 3, "coolDown": 5000, "maxCoolDown": 600_000})
    );
    assert_eq!(read["settings"]["disableOnGone"], false);
    assert_eq!(read["settings"]["autoDisableAfter"], 86_400_000);
    tf.expect(0, &["plan", "-detailed-exitcode"]);
    std::fs::write(&resilience, resilience_override("minute")).expect("writing the override");
    let plan = tf.expect(2, &["plan", "-detailed-exitcode"]);
    assert!(plan.contains("\"second\" -> \"minute\""), "{plan}");
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    tf.expect(0, &["apply", "-auto-approve"]);
    let (_, read) = rest.call(get.clone(), &path, &token, None);
    assert_eq!(
        read["settings"]["rateLimit"],
        json!({"requests": 50, "per": "minute"})
    );
    assert_eq!(read["settings"]["circuitBreaker"]["failureThreshold"], 3);
    assert_eq!(read["settings"]["disableOnGone"], false);
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    lap("resilience settings");
    trust_settings(&tf, &rest, &token, &path);
    lap("trust settings");
    // Drift: an out-of-band PATCH shows in the plan, and apply restores the configuration.
    let (status, _) = rest.call(
        reqwest::Method::PATCH,
        &path,
        &token,
        Some(json!({"settings": {
            "url": "https://elsewhere.example.com/hook",
            "retryPolicy": {"maxRetries": 9},
            "circuitBreaker": {"failureThreshold": 20},
            "rateLimit": null,
        }})),
    );
    assert_eq!(status, 200);
    let plan = tf.expect(2, &["plan", "-detailed-exitcode", "-out", "drift.plan"]);
    assert!(
        plan.contains("https://elsewhere.example.com/hook"),
        "{plan}"
    );
    assert!(
        plan.contains("max_retries") && plan.contains("9 -> 5"),
        "{plan}"
    );
    assert!(
        plan.contains("failure_threshold") && plan.contains("20 -> 3"),
        "{plan}"
    );
    assert!(plan.contains("+ rate_limit"), "{plan}");
    // Another change after that plan: applying it is refused (If-Match with the version the
    // plan read), with a diagnostic saying what to do.
    let (status, _) = rest.call(
        reqwest::Method::PATCH,
        &path,
        &token,
        Some(json!({"settings": {"requestTimeout": 20000}})),
    );
    assert_eq!(status, 200);
    let output = tf.run(&["apply", "drift.plan"]);
    let stderr = flat(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("changed outside Terraform; refresh and plan again"),
        "{stderr}"
    );
    tf.expect(0, &["apply", "-auto-approve"]);
    let (_, restored) = rest.call(get.clone(), &path, &token, None);
    assert_eq!(restored["settings"]["url"], receiver.url.as_str());
    assert_eq!(restored["settings"]["retryPolicy"]["maxRetries"], 5);
    assert_eq!(restored["settings"]["requestTimeout"], 10_000);
    assert_eq!(
        restored["settings"]["circuitBreaker"]["failureThreshold"],
        3
    );
    assert_eq!(
        restored["settings"]["rateLimit"],
        json!({"requests": 50, "per": "minute"})
    );
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    lap("drift repaired");
    // An out-of-band DELETE shows as a re-creation.
    let (status, _) = rest.call(reqwest::Method::DELETE, &path, &token, None);
    assert_eq!(status, 204);
    let plan = tf.expect(2, &["plan", "-detailed-exitcode"]);
    assert!(
        plan.contains("ricochet_integration.crm will be created"),
        "{plan}"
    );
    tf.expect(0, &["apply", "-auto-approve"]);
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    lap("re-created");
    // Deliveries carry the secret; a publisher client of the tenant sends events.
    let tenant_id = tf.output("tenant_id");
    let (status, publisher) = rest.call(
        reqwest::Method::POST,
        &format!("/api/v2/tenants/{tenant_id}/clients"),
        &admin,
        Some(json!({"name": "publisher", "permissions": ["event:publish"]})),
    );
    assert_eq!(status, 201);
    let publish_token = rest.token(
        publisher["clientId"].as_str().expect("clientId"),
        publisher["clientSecret"].as_str().expect("clientSecret"),
    );
    let publish = || {
        let (status, _) = rest.call(
            reqwest::Method::POST,
            "/api/v2/events",
            &publish_token,
            Some(json!({"type": "routing.queue.member.update", "data": {"queue": "support"}})),
        );
        assert_eq!(status, 202);
    };
    publish();
    receiver.wait_for_authorization(&format!("Bearer {OLD_TOKEN}"));

    lap("first delivery");
    // state rm + import of the tenant's resources: an empty plan but for the write-only
    // secret's version, which no API can return.
    let integration_id = tf.output("integration_id");
    let binding_id = tf.output("binding_id");
    let binding_import = format!("{integration_id}/{binding_id}");
    let imports = [
        ("ricochet_secret.crm_api_token", "crm_api_token"),
        ("ricochet_integration.crm", integration_id.as_str()),
        (
            "ricochet_event_binding.crm_member_updates",
            binding_import.as_str(),
        ),
    ];
    let mut state_rm = vec!["state", "rm"];
    state_rm.extend(imports.iter().map(|(address, _)| *address));
    tf.expect(0, &state_rm);
    for (address, import_id) in imports {
        tf.expect(0, &["import", address, import_id]);
    }
    let changes = planned_changes(&tf);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let (address, actions, before, after) = &changes[0];
    assert_eq!(address, "ricochet_secret.crm_api_token");
    assert_eq!(actions, &json!(["update"]));
    assert_eq!(before["value_wo_version"], Value::Null);
    assert_eq!(after["value_wo_version"], 1);
    tf.expect(0, &["apply", "-auto-approve"]);
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    lap("imported");
    // An `import {}` block.
    tf.expect(
        0,
        &["state", "rm", "ricochet_event_binding.crm_member_updates"],
    );
    let import_block = tf.work().join("imports.tf");
    std::fs::write(
        &import_block,
        format!("import {{\n  to = ricochet_event_binding.crm_member_updates\n  id = \"{binding_import}\"\n}}\n"),
    )
    .expect("writing imports.tf");
    let plan = tf.expect(2, &["plan", "-detailed-exitcode"]);
    assert!(
        plan.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    let apply = tf.expect(0, &["apply", "-auto-approve"]);
    assert!(apply.contains("1 imported"), "{apply}");
    std::fs::remove_file(&import_block).expect("removing imports.tf");
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    lap("import block");
    // Rotation: a new value and version; the next delivery carries it, and neither value is
    // in any file Terraform wrote.
    tf.set_env("TF_VAR_crm_api_token", NEW_TOKEN);
    tf.set_env("TF_VAR_crm_api_token_version", "2");
    let plan = tf.expect(2, &["plan", "-detailed-exitcode", "-out", "rotate.plan"]);
    assert!(
        plan.contains("value_wo_version") && plan.contains("1 -> 2"),
        "{plan}"
    );
    tf.expect(0, &["apply", "-auto-approve", "rotate.plan"]);
    publish();
    receiver.wait_for_authorization(&format!("Bearer {NEW_TOKEN}"));
    for value in [OLD_TOKEN, NEW_TOKEN] {
        let leaks = files_containing(&tf.work(), value);
        assert!(leaks.is_empty(), "{value} was written to {leaks:?}");
    }
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    lap("rotated");
    // An invalid retry policy fails at plan with a diagnostic naming the attribute.
    let override_file = tf.work().join("invalid_override.tf");
    std::fs::write(
        &override_file,
        "resource \"ricochet_integration\" \"crm\" {\n  retry_policy = {\n    retry_policy_type = \"sometimes\"\n  }\n}\n",
    )
    .expect("writing the override");
    let output = tf.run(&["plan", "-detailed-exitcode"]);
    let stderr = flat(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("retry_policy.retry_policy_type"),
        "{stderr}"
    );
    assert!(stderr.contains("`sometimes` is not one of"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    // What only the server checks comes back from its problem+json on the attribute too.
    std::fs::write(
        &override_file,
        "resource \"ricochet_integration\" \"crm\" {\n  retry_policy = {\n    max_retries = 500\n  }\n}\n",
    )
    .expect("writing the override");
    let output = tf.run(&["apply", "-auto-approve"]);
    let stderr = flat(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("retry_policy.max_retries: must be between"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Ricochet's field `settings.retryPolicy.maxRetries`"),
        "{stderr}"
    );
    std::fs::remove_file(&override_file).expect("removing the override");
    tf.expect(0, &["plan", "-detailed-exitcode"]);
    // The same for the resilience settings: a period checked at plan, a cool-down range that
    // only the server checks, each on its attribute.
    std::fs::write(
        &resilience,
        "resource \"ricochet_integration\" \"crm\" {\n  rate_limit = {\n    requests = 5\n    per      = \"hour\"\n  }\n}\n",
    )
    .expect("writing the override");
    let output = tf.run(&["plan", "-detailed-exitcode"]);
    let stderr = flat(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("rate_limit.per: `hour` is not one of `second`, `minute`"),
        "{stderr}"
    );
    std::fs::write(
        &resilience,
        "resource \"ricochet_integration\" \"crm\" {\n  circuit_breaker = {\n    cool_down_ms     = 60000\n    max_cool_down_ms = 1000\n  }\n}\n",
    )
    .expect("writing the override");
    let output = tf.run(&["apply", "-auto-approve"]);
    let stderr = flat(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("circuit_breaker.max_cool_down_ms: must be between 60000 and"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Ricochet's field `settings.circuitBreaker.maxCoolDown`"),
        "{stderr}"
    );
    std::fs::write(&resilience, resilience_override("minute")).expect("writing the override");
    tf.expect(0, &["plan", "-detailed-exitcode"]);

    lap("diagnostics");
    // Destroy the tenant's resources: its lists are empty.
    tf.expect(
        0,
        &[
            "destroy",
            "-auto-approve",
            "-target=ricochet_event_binding.crm_member_updates",
            "-target=ricochet_integration.crm",
            "-target=ricochet_secret.crm_api_token",
        ],
    );
    let (_, integrations) = rest.call(get.clone(), "/api/v2/integrations", &token, None);
    assert_eq!(names(&integrations), Vec::<String>::new());
    let (_, secrets) = rest.call(get.clone(), "/api/v2/secrets", &token, None);
    assert_eq!(names(&secrets), Vec::<String>::new());

    lap("tenant's resources destroyed");
    // state rm + import of the admin's resources (the client's secret cannot be imported, so
    // this comes after the resources its provider block manages).
    let client_import = format!("{tenant_id}/{client_id}");
    // One at a time: the tenant's provider block is configured from the client's state, so
    // Terraform refuses an import while that is missing.
    for (address, import_id) in [
        ("ricochet_tenant.acme", tenant_id.as_str()),
        ("ricochet_api_client.terraform", client_import.as_str()),
    ] {
        tf.expect(0, &["state", "rm", address]);
        tf.expect(0, &["import", address, import_id]);
    }
    tf.expect(
        0,
        &[
            "plan",
            "-detailed-exitcode",
            "-target=ricochet_tenant.acme",
            "-target=ricochet_api_client.terraform",
        ],
    );

    lap("admin's resources imported");
    // Destroy removes the tenant.
    tf.expect(0, &["destroy", "-auto-approve"]);
    let (status, _) = rest.call(
        get.clone(),
        &format!("/api/v2/tenants/{tenant_id}"),
        &admin,
        None,
    );
    assert_eq!(status, 404);
    let (_, tenants) = rest.call(get, "/api/v2/tenants", &admin, None);
    assert_eq!(names(&tenants), Vec::<String>::new());

    eprintln!(
        "terraform cycle took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
