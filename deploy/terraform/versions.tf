terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }

  # State stays local (terraform.tfstate next to these files) unless a backend is
  # configured. For a team, keep it in S3 with locking, e.g.:
  #
  # backend "s3" {
  #   bucket       = "my-terraform-state"
  #   key          = "poker/production.tfstate"
  #   region       = "eu-west-3"
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      App       = var.app_name
      Env       = var.environment
      ManagedBy = "terraform"
    }
  }
}
