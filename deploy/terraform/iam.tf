# ---------------------------------------------------------------------------------
# The instance's role: SSM (Session Manager shells, Run Command deploys) and the
# replica bucket, nothing else. Containers reach these credentials through IMDSv2
# (hop limit 2, see instance.tf); Litestream picks them up when no keys are set.
# ---------------------------------------------------------------------------------

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  name               = "${local.name}-instance"
  description        = "poker EC2 instance: SSM management and its Litestream bucket"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_role_policy_attachment" "instance_ssm" {
  role       = aws_iam_role.instance.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "instance_replica" {
  statement {
    sid       = "ListReplicaBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.replica.arn]
  }

  statement {
    sid       = "ReadWriteReplicaObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.replica.arn}/*"]
  }

  dynamic "statement" {
    for_each = var.registry_credentials_parameter == "" ? [] : [var.registry_credentials_parameter]

    content {
      sid     = "ReadRegistryCredentials"
      actions = ["ssm:GetParameter"]
      resources = [
        "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter/${trimprefix(statement.value, "/")}",
      ]
    }
  }
}

resource "aws_iam_role_policy" "instance_replica" {
  name   = "replica-bucket"
  role   = aws_iam_role.instance.id
  policy = data.aws_iam_policy_document.instance_replica.json
}

resource "aws_iam_instance_profile" "instance" {
  name = "${local.name}-instance"
  role = aws_iam_role.instance.name
}

# ---------------------------------------------------------------------------------
# GitHub Actions: the release workflow assumes this role through OIDC (no stored
# keys) and may only run AWS-RunShellScript on this stack's instance and read the
# results.
# ---------------------------------------------------------------------------------

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]

  # IAM trusts GitHub's issuer through its own CA library and ignores these, but
  # older provider versions require the argument. They are GitHub's published
  # intermediate certificate thumbprints.
  thumbprint_list = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
  ]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1

  url = "https://token.actions.githubusercontent.com"
}

locals {
  github_oidc_provider_arn = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

# Only workflow runs of one repository for a pushed v* tag. A job that names a GitHub
# environment gets the subject repo:OWNER/NAME:environment:NAME instead, which does
# not match: the release workflow keeps its environment (approval) on a separate job.
data "aws_iam_policy_document" "github_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:ref:refs/tags/v*"]
    }
  }
}

resource "aws_iam_role" "github_deploy" {
  name                 = "${local.name}-github-deploy"
  description          = "GitHub Actions release workflow of ${var.github_repository}: rolls out tags over SSM"
  assume_role_policy   = data.aws_iam_policy_document.github_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "github_deploy" {
  statement {
    sid     = "RunShellScriptOnThisInstance"
    actions = ["ssm:SendCommand"]
    resources = [
      aws_instance.poker.arn,
      "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}::document/AWS-RunShellScript",
    ]
  }

  # These three have no resource-level permissions.
  statement {
    sid = "ReadCommandResultsAndFindInstance"
    actions = [
      "ssm:GetCommandInvocation",
      "ssm:ListCommandInvocations",
      "ec2:DescribeInstances",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "github_deploy" {
  name   = "ssm-rollout"
  role   = aws_iam_role.github_deploy.id
  policy = data.aws_iam_policy_document.github_deploy.json
}
