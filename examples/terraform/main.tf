# The platform admin's provider: creates the tenant and its API client.
provider "ricochet" {
  endpoint  = var.endpoint
  admin_key = var.admin_key
}

resource "ricochet_tenant" "acme" {
  name = var.tenant_name
}

data "ricochet_tenant" "acme" {
  id = ricochet_tenant.acme.id
}

resource "ricochet_api_client" "terraform" {
  tenant_id   = ricochet_tenant.acme.id
  name        = "terraform"
  permissions = ["integration:view", "integration:edit", "secret:view", "secret:edit"]
}

# The tenant's provider: manages the tenant's resources with the client created above.
provider "ricochet" {
  alias         = "tenant"
  endpoint      = var.endpoint
  client_id     = ricochet_api_client.terraform.id
  client_secret = ricochet_api_client.terraform.client_secret
}

resource "ricochet_secret" "crm_api_token" {
  provider         = ricochet.tenant
  name             = "crm_api_token"
  description      = "Bearer token of the CRM's webhook endpoint"
  value_wo         = var.crm_api_token
  value_wo_version = var.crm_api_token_version
}

# The guide's integration, verbatim.
resource "ricochet_integration" "crm" {
  provider     = ricochet.tenant
  name         = "CRM-Sync-Webhook-Resilient"
  type         = "webhook"
  enabled      = true
  url          = var.crm_url
  http_method  = "POST"
  content_type = "application/json"
  headers = {
    "Authorization"      = "Bearer {{secret:crm_api_token}}"
    "X-Genesys-Event-Id" = "{{eventId}}"
  }
  retry_policy = {
    max_retries       = 5
    retry_delay       = 1000
    retry_policy_type = "exponential"
    jitter            = true
  }

  # The header's template names the secret, which must exist when the integration is saved.
  depends_on = [ricochet_secret.crm_api_token]
}

resource "ricochet_event_binding" "crm_member_updates" {
  provider       = ricochet.tenant
  integration_id = ricochet_integration.crm.id
  event_type     = "routing.queue.member.update"
}

data "ricochet_integration" "crm" {
  provider = ricochet.tenant
  id       = ricochet_integration.crm.id
}
