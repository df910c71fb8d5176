terraform {
  # Write-only attributes (`value_wo`) and ephemeral variables need Terraform 1.11.
  required_version = ">= 1.11"

  required_providers {
    ricochet = {
      source = "ricochet/ricochet"
    }
  }
}
