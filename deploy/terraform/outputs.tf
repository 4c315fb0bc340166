output "instance_id" {
  description = "EC2 instance id (for aws ssm start-session --target ...)."
  value       = aws_instance.poker.id
}

output "public_ip" {
  description = "Elastic IP of the instance: point the domain's A record here."
  value       = aws_eip.poker.public_ip
}

output "url" {
  description = "Public URL of the site (set it as the repository variable PUBLIC_URL)."
  value       = "https://${var.domain}"
}

output "bucket_name" {
  description = "S3 bucket holding the Litestream replica and backups."
  value       = aws_s3_bucket.replica.id
}

output "data_volume_id" {
  description = "EBS volume holding Docker's data root (the database) and /opt/poker."
  value       = aws_ebs_volume.data.id
}

output "region" {
  description = "AWS region of the stack (set it as the repository variable AWS_REGION)."
  value       = data.aws_region.current.name
}

output "instance_tags" {
  description = "Tags the release workflow finds the instance by (repository variables APP_TAG and ENV_TAG)."
  value       = local.target_tags
}

output "github_deploy_role_arn" {
  description = "IAM role the release workflow assumes through OIDC (set it as the repository variable AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.github_deploy.arn
}
