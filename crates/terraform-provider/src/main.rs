//! `terraform-provider-ricochet`: Ricochet's Terraform provider (address
//! `registry.terraform.io/ricochet/ricochet`), served over Terraform's plugin protocol 6 by the
//! vendored `tf-provider` crate. It talks to Ricochet only through the public REST API.

mod api_client;
mod binding;
mod client;
mod data_sources;
mod diag;
mod integration;
mod integration_auth;
mod integration_state;
mod integration_tls;
mod provider;
mod schema;
mod secret;
mod tenant;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Both rustls crypto backends are in the tree (tonic's ring, reqwest's aws-lc-rs), so
    // rustls cannot pick one on its own and would panic at the first TLS use.
    if rustls::crypto::aws_lc_rs::default_provider()
        .install_default()
        .is_err()
    {
        eprintln!("terraform-provider-ricochet: a rustls crypto provider was already installed");
    }
    match tf_provider::serve("ricochet", provider::RicochetProvider::default()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // Only Terraform starts a provider; this reaches its log, not a user's screen.
            eprintln!("terraform-provider-ricochet: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
