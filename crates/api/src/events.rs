//! `POST /api/v2/events`: publish an event to every integration bound to its type.

use crate::publisher::Publication;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ricochet_domain::event::{EventIn, matching_patterns};
use ricochet_domain::{IntegrationId, Permission, TenantId};
use ricochet_store::events::Published;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, parse_json, require_json};
use crate::{AppState, Limits};

/// A delivery made for a published event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRefOut {
    /// The delivery (see `GET /api/v2/deliveries/{deliveryId}`).
    pub delivery_id: Uuid,
    /// The integration it goes to.
    pub integration_id: IntegrationId,
}

/// What publishing did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedOut {
    /// The event's id (the client's, or the one generated).
    pub event_id: String,
    /// One delivery per enabled integration bound to the event's type.
    pub deliveries: Vec<DeliveryRefOut>,
}

/// Publish an event. It is stored with one delivery per enabled integration bound to its type
/// in one transaction: a 202 means it will be delivered. Publishing an `id` again answers 200
/// with the original deliveries and makes no new ones.
#[utoipa::path(post, path = "/api/v2/events", tag = "events", security(("bearer" = ["event:publish"])),
    request_body = EventIn,
    params(("traceparent" = Option<String>, Header, description = "W3C trace context of the caller's span. With traces exported (`--otlp-endpoint`) the publish span is its child, stored with the event (`traceparent` of `GET /api/v2/events/{eventId}`) and continued by every attempt; ignored otherwise, or if malformed.", example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")),
    responses(
        (status = 202, description = "Accepted", body = PublishedOut),
        (status = 200, description = "This id was published before; nothing new was made", body = PublishedOut),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable: nothing was accepted; retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn publish_event(
    auth: TenantAuth,
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<(StatusCode, Json<PublishedOut>)> {
    auth.require(Permission::EventPublish)?;
    if body.bytes.len() > state.limits.event_body_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    require_json(&body.headers)?;
    let input = parse_event(&body.bytes, &state.limits)?;
    let publication = publication(auth.tenant, input);
    let id = publication.id.clone();
    let published = state.publisher.publish(publication).await?;
    let status = if published.created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let deliveries = delivery_refs(published);
    Ok((
        status,
        Json(PublishedOut {
            event_id: id,
            deliveries,
        }),
    ))
}

/// One event as a client sent it (a body, or an item of a batch): within the size limit, well
/// formed and valid.
pub(crate) fn parse_event(bytes: &[u8], limits: &Limits) -> Result<EventIn, ApiError> {
    if bytes.len() > limits.event_body_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    let input: EventIn = parse_json(bytes)?;
    input.validate()?;
    Ok(input)
}

/// What the publisher stores for a valid event of `tenant`, with its id generated if it has
/// none.
pub(crate) fn publication(tenant: TenantId, input: EventIn) -> Publication {
    Publication {
        tenant,
        id: input.id.unwrap_or_else(|| Uuid::now_v7().to_string()),
        patterns: matching_patterns(&input.kind),
        kind: input.kind,
        occurred_at: input.occurred_at.unwrap_or_else(chrono::Utc::now),
        data: input.data,
        ordering_key: input.ordering_key,
    }
}

/// The deliveries of a published event, as answered.
pub(crate) fn delivery_refs(published: Published) -> Vec<DeliveryRefOut> {
    published
        .deliveries
        .into_iter()
        .map(|d| DeliveryRefOut {
            delivery_id: d.id,
            integration_id: IntegrationId(d.integration_id),
        })
        .collect()
}
