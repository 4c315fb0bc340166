# The Litestream replica of /data/data.db, and the place for any other backups.
#
# Kept on `terraform destroy`: prevent_destroy makes Terraform refuse any plan that
# would delete the bucket, so a destroy (or a rename that forces replacement) stops
# before touching anything. To tear the stack down while keeping the backups, take
# the bucket out of the state first (see README.md, "Destroy"). force_destroy stays
# false, so even then AWS refuses to delete a bucket that still holds objects.

resource "aws_s3_bucket" "replica" {
  bucket        = var.bucket_name == "" ? null : var.bucket_name
  bucket_prefix = var.bucket_name == "" ? substr("${local.name}-replica-", 0, 37) : null
  force_destroy = false

  tags = { Name = "${local.name}-replica" }

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "replica" {
  bucket = aws_s3_bucket.replica.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "replica" {
  bucket = aws_s3_bucket.replica.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "replica" {
  bucket = aws_s3_bucket.replica.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  bucket = aws_s3_bucket.replica.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

# Versioning keeps every overwritten or deleted object (Litestream rewrites and prunes
# its own files constantly); old versions go after noncurrent_version_days.
resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  bucket = aws_s3_bucket.replica.id

  # The lifecycle rules need versioning to be in place first.
  depends_on = [aws_s3_bucket_versioning.replica]

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    expiration {
      expired_object_delete_marker = true
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# Plain HTTP requests are refused, whoever makes them.
data "aws_iam_policy_document" "replica_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.replica.arn,
      "${aws_s3_bucket.replica.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "replica" {
  bucket = aws_s3_bucket.replica.id
  policy = data.aws_iam_policy_document.replica_bucket.json

  # S3 rejects a bucket policy while the public access block is being written.
  depends_on = [aws_s3_bucket_public_access_block.replica]
}
