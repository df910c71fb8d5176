//! The check that the secrets an integration's templates name exist, made when it is saved
//! (and shared by every handler that saves one).

use ricochet_domain::integration::IntegrationSettings;
use ricochet_domain::{TenantId, ValidationErrors};
use ricochet_store::secrets as store;
use sqlx::PgPool;

use crate::error::ApiResult;

/// 422 naming each field whose template references a secret the tenant does not have.
pub async fn check_secret_references(
    pool: &PgPool,
    tenant: TenantId,
    settings: &IntegrationSettings,
) -> ApiResult<()> {
    let references = settings.secret_references();
    if references.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = references.iter().map(|(name, _)| name.clone()).collect();
    let existing = store::existing_names(pool, tenant, &names).await?;
    let mut errors = ValidationErrors::default();
    for (name, field) in references {
        if !existing.contains(&name) {
            errors.add(
                field,
                format!(
                    "secret `{name}` does not exist: create it first with POST /api/v2/secrets"
                ),
            );
        }
    }
    Ok(errors.finish(())?)
}
