variable "endpoint" {
  description = "Ricochet's base URL; null falls back to RICOCHET_ENDPOINT."
  type        = string
  default     = null
}

variable "admin_key" {
  description = "The platform admin key; null falls back to RICOCHET_ADMIN_KEY."
  type        = string
  default     = null
  sensitive   = true
}

variable "tenant_name" {
  type    = string
  default = "acme"
}

variable "crm_url" {
  description = "Where the CRM integration delivers (the guide's URL by default)."
  type        = string
  default     = "https://api.your-crm.com/v1/genesys-events"
}

# Ephemeral: Terraform keeps it out of plan and state files; it can only feed write-only
# attributes such as ricochet_secret.value_wo. Set it with TF_VAR_crm_api_token.
variable "crm_api_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Bump it (with a new crm_api_token) to rotate the secret.
variable "crm_api_token_version" {
  type    = number
  default = 1
}
