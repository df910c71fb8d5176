//! `Authorized<P>`: a tenant's request whose token carries permission `P`, checked while the
//! request's head is read, so a token lacking the permission gets 403 before its body or query
//! is parsed (a bad body must not tell it more than "forbidden").

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use ricochet_domain::Permission;

use crate::auth::{AuthKeys, TenantAuth};
use crate::error::ApiError;

/// A permission as a type, for [`Authorized`].
pub trait Required {
    /// The permission.
    const PERMISSION: Permission;
}

macro_rules! permissions {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("[`Permission::", stringify!($name), "`] as a type.")]
        #[derive(Debug)]
        pub struct $name;
        impl Required for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )*};
}

permissions!(
    IntegrationView,
    IntegrationEdit,
    SecretView,
    SecretEdit,
    EventPublish,
    LogView,
    DeadletterEdit,
);

/// A request authenticated with a tenant's token that carries `P`'s permission.
#[derive(Debug)]
pub struct Authorized<P> {
    /// The authenticated tenant and its token's permissions.
    pub auth: TenantAuth,
    permission: PhantomData<P>,
}

impl<S, P> FromRequestParts<S> for Authorized<P>
where
    S: Send + Sync,
    Arc<AuthKeys>: FromRef<S>,
    P: Required,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = TenantAuth::from_request_parts(parts, state).await?;
        auth.require(P::PERMISSION)?;
        Ok(Authorized {
            auth,
            permission: PhantomData,
        })
    }
}
