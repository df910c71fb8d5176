//! Database outages: kill -9 of the embedded PostgreSQL under load. Publishes are refused
//! quickly with 503 while it is down, Ricochet starts it again by itself, and every accepted
//! event is delivered.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::*;
use crate::receiver::Receiver;

/// One publish: when it started, how it was answered, how long it took.
struct Answer {
    started: Instant,
    status: StatusCode,
    took: Duration,
    retry_after: Option<String>,
    id: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_of_the_embedded_postgres_under_load_is_answered_with_fast_503s_then_healed_and_every_accepted_event_delivered()
 {
    let dir = DataDir::new();
    let receiver = Receiver::start().await;
    let env = [
        ("RICOCHET_LOG", "info,ricochet_delivery=debug"),
        ("RICOCHET_LEASE_GRACE_MS", "3000"),
    ];
    let mut server = Server::role(&dir, "serve", &env);
    let api = Api::provision(&server, &dir).await;
    let settings = json!({"requestTimeout": 2000, "retryPolicy": {"retryDelay": 50}});
    api.hook("hook", &receiver.url, "order.created", settings)
        .await;
    let first_postmaster = dir.postmaster_pid().expect("the embedded cluster runs");

    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let publishers: Vec<_> = (0..4)
        .map(|p| {
            let (stop, answers) = (stop.clone(), answers.clone());
            let (http, base, token) = (api.http.clone(), api.base.clone(), api.token.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let id = format!("o-{p}-{i}");
                    i += 1;
                    let started = Instant::now();
                    let response = http
                        .post(format!("{base}/api/v2/events"))
                        .bearer_auth(&token)
                        .json(&json!({"type": "order.created", "id": id, "data": {"i": i}}))
                        .send()
                        .await
                        .expect("the API answers while PostgreSQL is down");
                    let answer = Answer {
                        started,
                        status: response.status(),
                        took: started.elapsed(),
                        retry_after: response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        id,
                    };
                    let refused = answer.status != StatusCode::ACCEPTED;
                    answers.lock().expect("answers").push(answer);
                    if refused {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        })
        .collect();
    let accepted = |answers: &Mutex<Vec<Answer>>, after: Instant| {
        let answers = answers.lock().expect("answers");
        answers
            .iter()
            .filter(|a| a.status == StatusCode::ACCEPTED && a.started >= after)
            .count()
    };
    let start = Instant::now();
    wait_until("some events accepted under load", || {
        accepted(&answers, start) >= 100
    });

    signal(first_postmaster, "-KILL");
    let killed = Instant::now();
    // Attempts sent and not yet recorded when PostgreSQL died may be sent again: those
    // that reached the receiver by now, less those recorded.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let in_flight = receiver
        .hits()
        .len()
        .saturating_sub(server.recorded.load(Ordering::Relaxed));

    wait_until("a new postmaster, started by Ricochet", || {
        dir.postmaster_pid()
            .is_some_and(|pid| pid != first_postmaster && alive(pid))
    });
    let back = Instant::now();
    wait_until("publishes accepted again", || {
        accepted(&answers, back) >= 50
    });
    stop.store(true, Ordering::Relaxed);
    for publisher in publishers {
        publisher.await.expect("publisher");
    }

    assert!(
        server.child.try_wait().expect("status").is_none(),
        "Ricochet kept running"
    );
    let answers = std::mem::take(&mut *answers.lock().expect("answers"));
    let refused: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status != StatusCode::ACCEPTED)
        .collect();
    assert!(
        refused.iter().any(|a| a.started >= killed),
        "publishes during the outage were refused"
    );
    for answer in &refused {
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(answer.retry_after.is_some(), "a 503 says when to retry");
        assert!(
            answer.took < Duration::from_secs(2),
            "a refusal took {:?}",
            answer.took
        );
    }
    let accepted_ids: HashSet<&str> = answers
        .iter()
        .filter(|a| a.status == StatusCode::ACCEPTED)
        .map(|a| a.id.as_str())
        .collect();

    let deadline = Instant::now() + Duration::from_secs(120);
    let hits = loop {
        let hits = receiver.hits();
        let arrived: HashSet<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
        if accepted_ids.is_subset(&arrived) {
            break hits;
        }
        assert!(
            Instant::now() < deadline,
            "{} accepted events never arrived",
            accepted_ids.difference(&arrived).count()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let unique: HashSet<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
    let duplicates = hits.len() - unique.len();
    eprintln!(
        "accepted {}, refused {} (slowest {:?}), outage healed after {:?}, {duplicates} duplicates, {in_flight} in flight at the kill",
        accepted_ids.len(),
        refused.len(),
        refused.iter().map(|a| a.took).max(),
        back - killed,
    );
    assert!(
        duplicates <= in_flight,
        "{duplicates} duplicates, {in_flight} attempts were in flight at the kill"
    );
    assert_eq!(
        get(format!("{}/readyz", server.base), None).await.status(),
        StatusCode::OK
    );
}
