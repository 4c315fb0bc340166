# Shared names and look-ups. The resources are split by concern:
#   network.tf   VPC, public subnet, security group (80/443 only)
#   instance.tf  AMI look-up, EC2 instance, data volume, Elastic IP, DNS record
#   storage.tf   S3 bucket for the Litestream replica and backups
#   iam.tf       instance role (SSM + that bucket) and the GitHub Actions deploy role

locals {
  name = "${var.app_name}-${var.environment}"

  # The tags the release workflow (deploy/release/rollout.sh) finds the instance by.
  target_tags = {
    App = var.app_name
    Env = var.environment
  }
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}
