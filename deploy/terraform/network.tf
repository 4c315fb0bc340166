# A small VPC of our own rather than the account's default VPC: the default VPC is
# missing in many accounts (deleted, or never created in newer regions and
# organisations), it is shared with whatever else runs there, and its subnets hand
# out public addresses by default. One public subnet, an internet gateway and a route
# table cost nothing (no NAT gateway) and `terraform destroy` removes them cleanly.

data "aws_availability_zones" "available" {
  state = "available"
}

# Not every zone offers every instance type (t4g is missing from some older zones):
# take the first zone, in name order, that offers the chosen type.
data "aws_ec2_instance_type_offerings" "in_zone" {
  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [var.instance_type]
  }

  filter {
    name   = "location"
    values = data.aws_availability_zones.available.names
  }
}

locals {
  availability_zone = sort(data.aws_ec2_instance_type_offerings.in_zone.locations)[0]
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = local.name }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = local.name }
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 0)
  availability_zone = local.availability_zone

  # The instance asks for a public address itself (it needs one to install packages
  # before the Elastic IP is associated); nothing else in the subnet gets one.
  map_public_ip_on_launch = false

  tags = { Name = "${local.name}-public" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }

  tags = { Name = "${local.name}-public" }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

# HTTP (Caddy's ACME challenge and redirect) and HTTPS only. No SSH: shells go
# through SSM Session Manager, which needs only outbound HTTPS from the instance.
resource "aws_security_group" "web" {
  name        = "${local.name}-web"
  description = "poker: HTTP and HTTPS in, everything out"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-web" }
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  security_group_id = aws_security_group.web.id
  description       = "HTTP: ACME HTTP-01 challenge and redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.web.id
  description       = "HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "http3" {
  security_group_id = aws_security_group.web.id
  description       = "HTTP/3 (QUIC), which Caddy serves next to HTTPS"
  ip_protocol       = "udp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.web.id
  description       = "Everything out: packages, images, ACME, S3, SSM"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
