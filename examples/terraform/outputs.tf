output "tenant_id" {
  value = ricochet_tenant.acme.id
}

output "tenant_name" {
  value = data.ricochet_tenant.acme.name
}

output "client_id" {
  value = ricochet_api_client.terraform.id
}

output "client_secret" {
  value     = ricochet_api_client.terraform.client_secret
  sensitive = true
}

output "integration_id" {
  value = ricochet_integration.crm.id
}

output "binding_id" {
  value = ricochet_event_binding.crm_member_updates.id
}

output "crm_retry_policy" {
  value = data.ricochet_integration.crm.retry_policy
}
