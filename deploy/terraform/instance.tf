# The latest Canonical Ubuntu LTS image for the instance type's architecture, read
# from the public SSM parameter Canonical maintains (never a hard-coded AMI id).
# Ubuntu rather than Amazon Linux 2023 because its archive ships both docker.io and
# the compose plugin (docker-compose-v2), so nothing is downloaded outside the
# distribution's signed packages; its AMIs come with the SSM agent.

data "aws_ec2_instance_type" "this" {
  instance_type = var.instance_type
}

locals {
  ami_arch = contains(data.aws_ec2_instance_type.this.supported_architectures, "arm64") ? "arm64" : "amd64"
}

data "aws_ssm_parameter" "ubuntu" {
  name = "/aws/service/canonical/ubuntu/server/${var.ubuntu_release}/stable/current/${local.ami_arch}/hvm/ebs-gp3/ami-id"
}

# The application's state (Docker's data root: images and the compose project's /data
# volume with data.db; and /opt/poker with compose.yaml and .env) lives on its own
# volume, so replacing the instance (new AMI, changed user data) keeps the database.
# The S3 replica is the second copy; a final snapshot is taken if the volume is ever
# destroyed.
resource "aws_ebs_volume" "data" {
  availability_zone = local.availability_zone
  size              = var.data_volume_size
  type              = "gp3"
  encrypted         = true
  final_snapshot    = true

  tags = { Name = "${local.name}-data" }
}

locals {
  # The files the instance runs, embedded in its user data. They are the repo's own
  # deploy files, next to this folder: deploy/compose.yaml, deploy/Caddyfile and
  # deploy/litestream.yml. Changing any of them replaces the instance on the next
  # apply (user_data_replace_on_change); the data volume carries the state over.
  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    data_volume_id                 = aws_ebs_volume.data.id
    compose_yaml_b64               = base64encode(file("${path.module}/../compose.yaml"))
    caddyfile_b64                  = base64encode(file("${path.module}/../Caddyfile"))
    litestream_yml_b64             = base64encode(file("${path.module}/../litestream.yml"))
    domain                         = var.domain
    acme_email                     = var.acme_email
    image_repository               = var.image_repository
    image_tag                      = var.image_tag
    bucket                         = aws_s3_bucket.replica.id
    region                         = data.aws_region.current.name
    registry_host                  = split("/", var.image_repository)[0]
    registry_credentials_parameter = var.registry_credentials_parameter
  })
}

resource "aws_instance" "poker" {
  ami                  = data.aws_ssm_parameter.ubuntu.insecure_value
  instance_type        = var.instance_type
  subnet_id            = aws_subnet.public.id
  iam_instance_profile = aws_iam_instance_profile.instance.name

  vpc_security_group_ids = [aws_security_group.web.id]

  # A public address from launch, so the first boot can install packages before the
  # Elastic IP takes over. No key pair: shells go through SSM Session Manager.
  associate_public_ip_address = true

  # cloud-init reads gzip-compressed user data; it keeps the embedded files well
  # under the 16 KiB limit.
  user_data_base64            = base64gzip(local.user_data)
  user_data_replace_on_change = true

  # IMDSv2 only; hop limit 2 so containers on Docker's bridge network (Litestream)
  # can reach the instance role's credentials.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = true
    delete_on_termination = true
  }

  tags = merge(local.target_tags, { Name = local.name })

  # A new Ubuntu image is published every few weeks; do not replace the server each
  # time. Roll to a newer one deliberately: terraform apply -replace=aws_instance.poker
  lifecycle {
    ignore_changes = [ami]
  }

  depends_on = [aws_internet_gateway.this, aws_route_table_association.public]
}

resource "aws_volume_attachment" "data" {
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.poker.id

  # Stop the instance before detaching (on replacement), so the database is closed
  # cleanly rather than yanked away from a running container.
  stop_instance_before_detaching = true
}

resource "aws_eip" "poker" {
  domain   = "vpc"
  instance = aws_instance.poker.id

  tags = { Name = local.name }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route53_record" "site" {
  count = var.route53_zone_id == "" ? 0 : 1

  zone_id = var.route53_zone_id
  name    = var.domain
  type    = "A"
  ttl     = 300
  records = [aws_eip.poker.public_ip]
}
