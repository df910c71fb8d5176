//! `POST /api/v2/events/batch`: up to [`MAX_BATCH_EVENTS`] events in one request, each checked,
//! stored and answered as `POST /api/v2/events` would, through the same group commit.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use axum::Json;
use axum::extract::State;
use ricochet_domain::Permission;
use ricochet_domain::event::EventIn;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::{DeliveryRefOut, delivery_refs, parse_event, publication};
use crate::extract::{Body, parse_json, require_json};

/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 1_000;

/// Events to publish together.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsBatchIn {
    /// 1 to 1,000 events, each as `POST /api/v2/events` takes it (with its own optional `id`).
    #[schema(min_items = 1, max_items = 1000)]
    pub events: Vec<EventIn>,
}

/// The batch as read: each event kept as its own JSON text, so that one invalid event is
/// refused alone, with the same problem (and size limit) as its single publish.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

/// What became of one event of a batch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum BatchEventResult {
    /// Stored with one delivery per enabled integration bound to its type: what a 202 of
    /// `POST /api/v2/events` says.
    Created {
        /// The event's id (the client's, or the one generated).
        #[serde(rename = "eventId")]
        event_id: String,
        /// Its deliveries.
        deliveries: Vec<DeliveryRefOut>,
    },
    /// This id was published before (or earlier in this batch); nothing new was made: what a
    /// 200 of `POST /api/v2/events` says.
    Duplicate {
        /// The event's id.
        #[serde(rename = "eventId")]
        event_id: String,
        /// The deliveries made when it was first published.
        deliveries: Vec<DeliveryRefOut>,
    },
    /// Not stored: the problem `POST /api/v2/events` would have answered for this event alone
    /// (a 422 or 413 for an invalid event; a 5xx when it could not be stored).
    Failed {
        /// Why.
        problem: Problem,
    },
}

impl BatchEventResult {
    /// The result of the same id again later in the batch.
    fn repeated(&self) -> BatchEventResult {
        match self {
            BatchEventResult::Created {
                event_id,
                deliveries,
            } => BatchEventResult::Duplicate {
                event_id: event_id.clone(),
                deliveries: deliveries.clone(),
            },
            other => other.clone(),
        }
    }
}

/// What publishing a batch did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchPublishedOut {
    /// One result per event of the request, in its order.
    pub results: Vec<BatchEventResult>,
    /// How many results are `created`.
    pub created: usize,
    /// How many results are `duplicate`.
    pub duplicates: usize,
    /// How many results are `failed`.
    pub failed: usize,
}

/// One event of the request, before it is published.
enum Item {
    /// Refused before publishing.
    Invalid(Problem),
    /// The `n`th publication.
    Publishing(usize),
    /// The same id as the `n`th publication.
    Repeat(usize),
}

/// Publish up to 1,000 events. Each is checked, stored and made idempotent by id exactly as by
/// `POST /api/v2/events`, and every stored one is durable when this answers. One result per
/// event, in order: `created`, `duplicate` (an id published before, or earlier in this batch)
/// or `failed` with the problem the single publish would have answered; an invalid event writes
/// nothing and does not fail the others. Events without an id get a generated one.
#[utoipa::path(post, path = "/api/v2/events/batch", tag = "events", security(("bearer" = ["event:publish"])),
    request_body = EventsBatchIn,
    params(("traceparent" = Option<String>, Header, description = "W3C trace context of the caller's span. With traces exported (`--otlp-endpoint`) the publish span is its child, stored with the event (`traceparent` of `GET /api/v2/events/{eventId}`) and continued by every attempt; ignored otherwise, or if malformed.", example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")),
    responses(
        (status = 200, description = "Every event's result, in order", body = BatchPublishedOut),
        (status = 413, description = "Body over the configured batch limit; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No events or more than 1,000, or the body is not a batch; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable: nothing was accepted; retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn publish_events_batch(
    auth: TenantAuth,
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Json<BatchPublishedOut>> {
    auth.require(Permission::EventPublish)?;
    if body.bytes.len() > state.limits.batch_body_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    require_json(&body.headers)?;
    let batch: RawBatch<'_> = parse_json(&body.bytes)?;
    if batch.events.is_empty() || batch.events.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::invalid(
            "events",
            format!(
                "must list 1 to {MAX_BATCH_EVENTS} events, got {}",
                batch.events.len()
            ),
        ));
    }
    let mut items = Vec::with_capacity(batch.events.len());
    let mut publications = Vec::with_capacity(batch.events.len());
    // A repeated id is answered from its first publication rather than published again: two
    // publications of one id could be committed side by side, and the second could win.
    let mut first_with_id: HashMap<String, usize> = HashMap::new();
    for raw in batch.events {
        match parse_event(raw.get().as_bytes(), &state.limits) {
            Err(e) => items.push(Item::Invalid(e.into_problem().1)),
            Ok(input) => {
                let publication = publication(auth.tenant, input);
                match first_with_id.entry(publication.id.clone()) {
                    Entry::Occupied(first) => items.push(Item::Repeat(*first.get())),
                    Entry::Vacant(slot) => {
                        slot.insert(publications.len());
                        items.push(Item::Publishing(publications.len()));
                        publications.push(publication);
                    }
                }
            }
        }
    }
    let ids: Vec<String> = publications.iter().map(|p| p.id.clone()).collect();
    let outcomes = state.publisher.publish_all(publications).await;
    // Nothing accepted because the database is out of reach: refused as a whole, as the single
    // publish would be, so that the client retries it all.
    if !outcomes.is_empty()
        && outcomes
            .iter()
            .all(|o| o.as_ref().is_err_and(|e| e.is_unavailable()))
    {
        let refused = outcomes
            .into_iter()
            .find_map(Result::err)
            .expect("every outcome is a refusal");
        return Err(refused.into());
    }
    let mut published: Vec<Option<BatchEventResult>> = outcomes
        .into_iter()
        .zip(ids)
        .map(|(outcome, event_id)| {
            Some(match outcome {
                Ok(p) if p.created => BatchEventResult::Created {
                    event_id,
                    deliveries: delivery_refs(p),
                },
                Ok(p) => BatchEventResult::Duplicate {
                    event_id,
                    deliveries: delivery_refs(p),
                },
                Err(e) => BatchEventResult::Failed {
                    problem: ApiError::from(e).into_problem().1,
                },
            })
        })
        .collect();
    // Repeats first, while every first publication's result is still in place.
    let mut results: Vec<Option<BatchEventResult>> = items
        .iter()
        .map(|item| match item {
            Item::Repeat(n) => published[*n].as_ref().map(BatchEventResult::repeated),
            _ => None,
        })
        .collect();
    for (result, item) in results.iter_mut().zip(items) {
        match item {
            Item::Invalid(problem) => *result = Some(BatchEventResult::Failed { problem }),
            Item::Publishing(n) => *result = published[n].take(),
            Item::Repeat(_) => {}
        }
    }
    let results: Vec<BatchEventResult> = results
        .into_iter()
        .map(|r| r.expect("every item has a result: its own, or its first publication's"))
        .collect();
    let count = |f: fn(&BatchEventResult) -> bool| results.iter().filter(|r| f(r)).count();
    Ok(Json(BatchPublishedOut {
        created: count(|r| matches!(r, BatchEventResult::Created { .. })),
        duplicates: count(|r| matches!(r, BatchEventResult::Duplicate { .. })),
        failed: count(|r| matches!(r, BatchEventResult::Failed { .. })),
        results,
    }))
}
