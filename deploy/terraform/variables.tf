variable "region" {
  type        = string
  description = "AWS region for every resource, e.g. eu-west-3."
  default     = "eu-west-3"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-west-3 or us-gov-west-1."
  }
}

variable "environment" {
  type        = string
  description = "Environment name; becomes the Env tag the release workflow targets and part of resource names."
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.environment))
    error_message = "environment must be 2-20 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "app_name" {
  type        = string
  description = "Application name; becomes the App tag the release workflow targets and the prefix of resource names."
  default     = "poker"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.app_name))
    error_message = "app_name must be 2-20 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "domain" {
  type        = string
  description = "Public host name of the site (Caddy obtains its certificate for it), e.g. poker.example.com."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase fully qualified host name such as poker.example.com."
  }
}

variable "acme_email" {
  type        = string
  description = "E-mail address given to the ACME CA (Let's Encrypt) for certificate expiry notices."

  validation {
    condition     = can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", var.acme_email))
    error_message = "acme_email must be an e-mail address."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type. The AMI's architecture (arm64 or amd64) follows the type, so t4g/m7g and t3/m7i both work."
  default     = "t4g.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like t4g.small."
  }
}

variable "ubuntu_release" {
  type        = string
  description = "Ubuntu LTS release whose latest Canonical AMI is read from the public SSM parameter."
  default     = "24.04"

  validation {
    condition     = contains(["22.04", "24.04"], var.ubuntu_release)
    error_message = "ubuntu_release must be 22.04 or 24.04."
  }
}

variable "image_repository" {
  type        = string
  description = "Container image repository of the poker binary, without tag, e.g. ghcr.io/OWNER/REPO."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$", var.image_repository))
    error_message = "image_repository must be a lowercase registry path such as ghcr.io/owner/repo, without a tag."
  }
}

variable "image_tag" {
  type        = string
  description = "Image tag started on first boot. Later releases change it on the host (the release workflow); a replaced instance keeps the tag last deployed on its data volume."
  default     = "latest"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid OCI tag."
  }
}

variable "registry_credentials_parameter" {
  type        = string
  description = "Name of an SSM SecureString parameter holding USER:TOKEN for a private registry (a GitHub token with read:packages for ghcr.io). Empty: the image is public and no login happens."
  default     = ""

  validation {
    condition     = var.registry_credentials_parameter == "" || can(regex("^/?[A-Za-z0-9_.\\-/]+$", var.registry_credentials_parameter))
    error_message = "registry_credentials_parameter must be empty or an SSM parameter name."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of the VPC created for the instance; the public subnet takes its first /24."
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrsubnet(var.vpc_cidr, 8, 0))
    error_message = "vpc_cidr must be an IPv4 CIDR block of /16 to /24."
  }
}

variable "root_volume_size" {
  type        = number
  description = "Size in GiB of the encrypted gp3 root volume (operating system only)."
  default     = 16

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 200
    error_message = "root_volume_size must be between 8 and 200 GiB."
  }
}

variable "data_volume_size" {
  type        = number
  description = "Size in GiB of the encrypted gp3 data volume holding Docker's data root (images and the /data volume with data.db) and /opt/poker."
  default     = 20

  validation {
    condition     = var.data_volume_size >= 4 && var.data_volume_size <= 1000
    error_message = "data_volume_size must be between 4 and 1000 GiB."
  }
}

variable "bucket_name" {
  type        = string
  description = "Name of the S3 bucket for the Litestream replica and backups. Empty: a unique name starting with APP-ENV-replica- is generated."
  default     = ""

  validation {
    condition     = var.bucket_name == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be empty or a valid S3 bucket name."
  }
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days after which overwritten or deleted objects' old versions in the replica bucket are expired."
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}

variable "route53_zone_id" {
  type        = string
  description = "Route 53 hosted zone id in which to create an A record for domain pointing at the Elastic IP. Empty: manage DNS yourself."
  default     = ""

  validation {
    condition     = var.route53_zone_id == "" || can(regex("^Z[A-Z0-9]{1,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be empty or a hosted zone id such as Z0123456789ABCDEFGHIJ."
  }
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (OWNER/NAME) whose v* tag workflows may assume the deploy role."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/NAME, without wildcards."
  }
}

variable "create_github_oidc_provider" {
  type        = bool
  description = "Create the account's IAM OIDC provider for token.actions.githubusercontent.com. Set false when the account already has one (there can be only one per URL); it is then looked up."
  default     = true
}
