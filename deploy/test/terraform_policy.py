#!/usr/bin/env python3
"""Policy checks on the Terraform in deploy/terraform, without Terraform.

Every .tf file is parsed with python-hcl2 and the resources are checked against the
deployment's rules: only ports 80 and 443 open, no SSH key, IMDSv2, encrypted disks,
a private, encrypted, versioned replica bucket, SSM on the instance, a GitHub OIDC
role limited to one repository's tags, pinned provider, described variables, the
outputs the release needs. The user-data template is rendered with dummy values and
checked with bash -n (and shellcheck when installed), as are deploy/release/*.sh.

Then each rule is shown able to fail: a copy of the files with one rule broken
(e.g. port 22 opened, http_tokens optional) must make exactly that check fail. A
mutation that slips through is itself a failure.

Usage: terraform_policy.py [TERRAFORM_DIR]   (default: deploy/terraform)
Prints one line per check, then "N passed, M failed"; exits 1 on any failure.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import hcl2

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DIR = os.path.join(REPO, "deploy", "terraform")
RELEASE_DIR = os.path.join(REPO, "deploy", "release")

ALLOWED_PORTS = {80, 443}
GITHUB_OIDC = "token.actions.githubusercontent.com"


# ---------------------------------------------------------------------------------
# Reading the files
# ---------------------------------------------------------------------------------


def clean(value):
    """python-hcl2's output without its bookkeeping: quotes around string literals
    removed ("\\"tcp\\"" -> "tcp"), __is_block__ / __comments__ keys dropped."""
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


class Model:
    """The parsed configuration: resources and data sources as (type, name, body)."""

    def __init__(self, directory, texts):
        self.directory = directory
        self.texts = texts  # file name -> source text
        self.resources, self.data = [], []
        self.variables, self.outputs, self.terraform = {}, {}, []
        self.errors = []
        for name, text in sorted(texts.items()):
            try:
                parsed = clean(hcl2.loads(text))
            except Exception as exc:  # the parser's errors have no common base class
                self.errors.append(f"{name}: {exc}".splitlines()[0])
                continue
            for kind, target in (("resource", self.resources), ("data", self.data)):
                for block in parsed.get(kind, []):
                    for rtype, named in block.items():
                        for rname, body in named.items():
                            target.append((rtype, rname, body))
            for block in parsed.get("variable", []):
                self.variables.update(block)
            for block in parsed.get("output", []):
                self.outputs.update(block)
            self.terraform.extend(parsed.get("terraform", []))

    @classmethod
    def load(cls, directory):
        texts = {}
        for path in sorted(glob.glob(os.path.join(directory, "*.tf"))):
            with open(path, encoding="utf-8") as f:
                texts[os.path.basename(path)] = f.read()
        return cls(directory, texts)

    def of(self, rtype):
        return [(n, b) for t, n, b in self.resources if t == rtype]

    def data_of(self, dtype):
        return [(n, b) for t, n, b in self.data if t == dtype]


def blocks(body, key):
    """A nested block (or attribute) as a list of dicts, whatever hcl2 made of it."""
    value = body.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)]


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def refers(value, address):
    """Whether an expression mentions a resource address such as aws_s3_bucket.replica."""
    return re.search(r"(?<![\w.])" + re.escape(address) + r"(\W|$)", str(value)) is not None


def as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


# ---------------------------------------------------------------------------------
# The checks. Each returns a list of problems; an empty list is a pass.
# ---------------------------------------------------------------------------------


def port_problems(where, protocol, from_port, to_port):
    protocol = str(protocol).lower()
    if protocol in ("-1", "all"):
        return [f"{where}: all protocols and ports (protocol {protocol})"]
    low, high = as_int(from_port), as_int(to_port)
    if low is None or high is None:
        return [f"{where}: ports {from_port!r}..{to_port!r} are not literal numbers"]
    problems = []
    if low <= 22 <= high:
        problems.append(f"{where}: opens port 22 ({low}..{high})")
    others = [p for p in (low, high) if p not in ALLOWED_PORTS]
    if low != high or others:
        problems.append(f"{where}: opens {low}..{high}, not only 80 or 443")
    return problems


def ingress_rules(m):
    """(where, protocol, from, to) for every ingress rule, however it is written."""
    for name, body in m.of("aws_security_group"):
        for i, rule in enumerate(blocks(body, "ingress")):
            yield (f"aws_security_group.{name} ingress #{i + 1}",
                   rule.get("protocol"), rule.get("from_port"), rule.get("to_port"))
    for name, body in m.of("aws_security_group_rule"):
        if body.get("type") == "ingress":
            yield (f"aws_security_group_rule.{name}",
                   body.get("protocol"), body.get("from_port"), body.get("to_port"))
    for name, body in m.of("aws_vpc_security_group_ingress_rule"):
        yield (f"aws_vpc_security_group_ingress_rule.{name}",
               body.get("ip_protocol"), body.get("from_port"), body.get("to_port"))


def check_ingress(m):
    rules = list(ingress_rules(m))
    problems = []
    for rule in rules:
        problems += port_problems(*rule)
    if not any(as_int(frm) == 443 for _, _, frm, _ in rules):
        problems.append("no ingress rule for 443 at all (the site would be unreachable)")
    return problems


def check_no_ssh_key(m):
    problems = [f"aws_key_pair.{n} exists" for n, _ in m.of("aws_key_pair")]
    for rtype in ("aws_instance", "aws_launch_template", "aws_spot_instance_request"):
        for name, body in m.of(rtype):
            if "key_name" in body:
                problems.append(f"{rtype}.{name} sets key_name")
    return problems


def instances(m):
    found = m.of("aws_instance")
    return found


def check_imdsv2(m):
    problems = []
    if not instances(m):
        return ["no aws_instance found"]
    for name, body in instances(m):
        meta = blocks(body, "metadata_options")
        if not meta or meta[0].get("http_tokens") != "required":
            problems.append(f"aws_instance.{name}: metadata_options.http_tokens is not \"required\"")
        elif as_int(meta[0].get("http_put_response_hop_limit")) != 2:
            problems.append(f"aws_instance.{name}: http_put_response_hop_limit is not 2 "
                            "(containers need it to reach the role's credentials)")
        if meta and meta[0].get("http_endpoint") == "disabled":
            problems.append(f"aws_instance.{name}: metadata endpoint disabled (no role credentials)")
    return problems


def check_encrypted_volumes(m):
    problems = []
    for name, body in instances(m):
        roots = blocks(body, "root_block_device")
        if not roots:
            problems.append(f"aws_instance.{name}: no root_block_device (encryption left to the account default)")
        for i, dev in enumerate(roots + blocks(body, "ebs_block_device")):
            if dev.get("encrypted") is not True:
                problems.append(f"aws_instance.{name}: block device #{i + 1} not encrypted")
    for name, body in m.of("aws_launch_template"):
        for dev in blocks(body, "block_device_mappings"):
            for ebs in blocks(dev, "ebs"):
                if ebs.get("encrypted") not in (True, "true"):
                    problems.append(f"aws_launch_template.{name}: EBS mapping not encrypted")
    for name, body in m.of("aws_ebs_volume"):
        if body.get("encrypted") is not True:
            problems.append(f"aws_ebs_volume.{name} not encrypted")
    return problems


def bucket_companions(m, rtype, bucket):
    return [b for _, b in m.of(rtype) if refers(b.get("bucket"), f"aws_s3_bucket.{bucket}")]


def check_bucket(m):
    buckets = m.of("aws_s3_bucket")
    if not buckets:
        return ["no aws_s3_bucket found"]
    problems = []
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    for name, body in buckets:
        where = f"aws_s3_bucket.{name}"
        pabs = bucket_companions(m, "aws_s3_bucket_public_access_block", name)
        if not pabs:
            problems.append(f"{where}: no public access block")
        for pab in pabs:
            for flag in flags:
                if pab.get(flag) is not True:
                    problems.append(f"{where}: public access block {flag} is not true")
        algorithms = [
            default.get("sse_algorithm")
            for sse in bucket_companions(m, "aws_s3_bucket_server_side_encryption_configuration", name)
            for rule in blocks(sse, "rule")
            for default in blocks(rule, "apply_server_side_encryption_by_default")
        ]
        if not any(a in ("AES256", "aws:kms", "aws:kms:dsse") for a in algorithms):
            problems.append(f"{where}: no server-side encryption configuration")
        statuses = [
            conf.get("status")
            for ver in bucket_companions(m, "aws_s3_bucket_versioning", name)
            for conf in blocks(ver, "versioning_configuration")
        ]
        if "Enabled" not in statuses:
            problems.append(f"{where}: versioning not enabled")
        owners = [
            rule.get("object_ownership")
            for own in bucket_companions(m, "aws_s3_bucket_ownership_controls", name)
            for rule in blocks(own, "rule")
        ]
        if "BucketOwnerEnforced" not in owners:
            problems.append(f"{where}: object ownership is not BucketOwnerEnforced (ACLs still apply)")
        expiring = [
            rule
            for lc in bucket_companions(m, "aws_s3_bucket_lifecycle_configuration", name)
            for rule in blocks(lc, "rule")
            if rule.get("status") == "Enabled" and blocks(rule, "noncurrent_version_expiration")
        ]
        if not expiring:
            problems.append(f"{where}: no enabled lifecycle rule expiring noncurrent versions")
        if body.get("force_destroy") is True:
            problems.append(f"{where}: force_destroy = true (destroy would delete the backups)")
        if not any(lc.get("prevent_destroy") is True for lc in blocks(body, "lifecycle")):
            problems.append(f"{where}: lifecycle.prevent_destroy is not true")
    return problems


def address_in(value, rtype):
    """The resource name in a reference like ${aws_iam_role.instance.name}."""
    found = re.search(re.escape(rtype) + r"\.([A-Za-z0-9_-]+)", str(value))
    return found.group(1) if found else None


def check_ssm_profile(m):
    if not instances(m):
        return ["no aws_instance found"]
    problems = []
    for name, body in instances(m):
        profile = address_in(body.get("iam_instance_profile"), "aws_iam_instance_profile")
        if not profile:
            problems.append(f"aws_instance.{name}: no iam_instance_profile from this configuration")
            continue
        profiles = dict(m.of("aws_iam_instance_profile"))
        role = address_in(profiles.get(profile, {}).get("role"), "aws_iam_role")
        if not role:
            problems.append(f"aws_iam_instance_profile.{profile}: no role from this configuration")
            continue
        attached = [
            b.get("policy_arn") for _, b in m.of("aws_iam_role_policy_attachment")
            if refers(b.get("role"), f"aws_iam_role.{role}")
        ]
        attached += as_list(dict(m.of("aws_iam_role")).get(role, {}).get("managed_policy_arns"))
        if not any(str(arn).endswith(":policy/AmazonSSMManagedInstanceCore") for arn in attached):
            problems.append(f"aws_iam_role.{role} (instance {name}): AmazonSSMManagedInstanceCore not attached")
    return problems


def policy_documents(m):
    return dict(m.data_of("aws_iam_policy_document"))


def statements(doc):
    found = list(blocks(doc, "statement"))
    for dyn in blocks(doc, "dynamic"):
        for content in blocks(dyn.get("statement", {}), "content"):
            found.append(content)
    return found


def role_policy_docs(m, role):
    """The policy documents of inline policies on aws_iam_role.<role>."""
    docs = policy_documents(m)
    for _, body in m.of("aws_iam_role_policy"):
        if refers(body.get("role"), f"aws_iam_role.{role}"):
            doc = address_in(body.get("policy"), "data.aws_iam_policy_document")
            if doc is None:
                yield None, body.get("policy")
            else:
                yield doc, docs.get(doc, {})


def check_instance_s3_scope(m):
    problems = []
    for name, body in instances(m):
        profile = address_in(body.get("iam_instance_profile"), "aws_iam_instance_profile")
        role = address_in(dict(m.of("aws_iam_instance_profile")).get(profile, {}).get("role"), "aws_iam_role")
        if not role:
            continue
        for doc_name, doc in role_policy_docs(m, role):
            if doc_name is None:
                problems.append(f"aws_iam_role.{role}: inline policy not from an aws_iam_policy_document ({doc!r:.60})")
                continue
            for st in statements(doc):
                actions = [str(a) for a in as_list(st.get("actions"))]
                if any(a in ("*", "s3:*") for a in actions):
                    problems.append(f"{doc_name}: wildcard action {actions}")
                if any(a.startswith("s3:") for a in actions):
                    for res in as_list(st.get("resources")):
                        if not refers(res, "aws_s3_bucket"):
                            problems.append(f"{doc_name}: S3 access to {res!r}, not the replica bucket")
    return problems


def check_github_oidc(m):
    problems = []
    providers = [b for _, b in m.of("aws_iam_openid_connect_provider") + m.data_of("aws_iam_openid_connect_provider")
                 if GITHUB_OIDC in str(b.get("url"))]
    if not providers:
        problems.append(f"no aws_iam_openid_connect_provider for {GITHUB_OIDC}")
    docs = policy_documents(m)
    trust_docs = []
    for name, body in m.of("aws_iam_role"):
        policy = body.get("assume_role_policy")
        doc = address_in(policy, "data.aws_iam_policy_document")
        if doc is None:
            if "AssumeRoleWithWebIdentity" in str(policy) or GITHUB_OIDC in str(policy):
                problems.append(f"aws_iam_role.{name}: web-identity trust not written as an aws_iam_policy_document")
            continue
        if any("sts:AssumeRoleWithWebIdentity" in as_list(st.get("actions")) for st in statements(docs.get(doc, {}))):
            trust_docs.append((name, doc))
    if not trust_docs:
        problems.append("no role trusts GitHub's OIDC tokens (sts:AssumeRoleWithWebIdentity)")
    repo = r"(\$\{var\.[A-Za-z0-9_]+\}|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)"
    tag_subject = re.compile(r"repo:" + repo + r":ref:refs/tags/[A-Za-z0-9_.-]*\*?")
    for role, doc in trust_docs:
        for st in statements(docs[doc]):
            if "sts:AssumeRoleWithWebIdentity" not in as_list(st.get("actions")):
                continue
            where = f"data.aws_iam_policy_document.{doc} (role {role})"
            conditions = blocks(st, "condition")
            subs = [c for c in conditions if c.get("variable") == f"{GITHUB_OIDC}:sub"]
            auds = [c for c in conditions if c.get("variable") == f"{GITHUB_OIDC}:aud"]
            if not subs:
                problems.append(f"{where}: no condition on {GITHUB_OIDC}:sub")
            for cond in subs:
                if cond.get("test") not in ("StringLike", "StringEquals"):
                    problems.append(f"{where}: sub condition test {cond.get('test')!r}")
                values = as_list(cond.get("values"))
                if not values:
                    problems.append(f"{where}: sub condition without values")
                for value in values:
                    if not tag_subject.fullmatch(str(value)):
                        problems.append(f"{where}: subject {value!r} is not tags of one repository")
                repos = {tag_subject.fullmatch(str(v)).group(1) for v in values if tag_subject.fullmatch(str(v))}
                if len(repos) > 1:
                    problems.append(f"{where}: subjects name several repositories {sorted(repos)}")
            if not any("sts.amazonaws.com" in as_list(c.get("values")) and c.get("test") == "StringEquals"
                       for c in auds):
                problems.append(f"{where}: audience not pinned to sts.amazonaws.com")
        for doc_name, policy in role_policy_docs(m, role):
            if doc_name is None:
                problems.append(f"aws_iam_role.{role}: inline policy not from an aws_iam_policy_document")
                continue
            for st in statements(policy):
                actions = [str(a) for a in as_list(st.get("actions"))]
                if any("*" in a for a in actions):
                    problems.append(f"{doc_name}: wildcard action {actions}")
                if "ssm:SendCommand" in actions and "*" in as_list(st.get("resources")):
                    problems.append(f"{doc_name}: ssm:SendCommand on any resource")
    return problems


def check_provider_pin(m):
    for block in m.terraform:
        for req in blocks(block, "required_providers"):
            aws = req.get("aws")
            if isinstance(aws, dict):
                source, version = aws.get("source"), str(aws.get("version", ""))
                problems = []
                if source != "hashicorp/aws":
                    problems.append(f"aws provider source is {source!r}")
                if not re.fullmatch(r"\s*(~>\s*\d+\.\d+(\.\d+)?|=?\s*\d+\.\d+\.\d+|.*<\s*\d.*)\s*", version):
                    problems.append(f"aws provider version {version!r} has no upper bound")
                return problems
    return ["no required_providers entry for aws"]


def check_variables_described(m):
    if not m.variables:
        return ["no variables"]
    return [f"variable {n} has no description" for n, b in sorted(m.variables.items())
            if not str(b.get("description", "")).strip()]


def check_outputs(m):
    wanted = {
        "instance id": r"aws_instance\.\w+\.id\b",
        "public ip": r"(aws_eip\.\w+\.public_ip|aws_instance\.\w+\.public_ip)\b",
        "bucket": r"aws_s3_bucket\.\w+\.(id|bucket)\b",
        "GitHub deploy role ARN": r"aws_iam_role\.\w+\.arn\b",
    }
    values = [str(b.get("value")) for b in m.outputs.values()]
    return [f"no output for the {what}" for what, pattern in wanted.items()
            if not any(re.search(pattern, v) for v in values)]


def render_template(text):
    """A stand-in for Terraform's templatefile(): interpolations become a dummy word,
    directives are dropped (both branches kept), escapes unescaped."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            out.append(text[i + 1:i + 3])
            i += 3
        elif text.startswith("${", i) or text.startswith("%{", i):
            depth, j = 1, i + 2
            while depth and j < len(text):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if text[i] == "$":
                out.append("placeholder")
            elif text[j:j + 1] == "\n" and text[j - 2:j] == "~}":
                j += 1  # a "~}" directive eats its newline
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def shell_problems(where, script):
    problems = []
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        run = subprocess.run(["bash", "-n", path], capture_output=True, text=True)
        if run.returncode:
            problems.append(f"{where}: bash -n: {run.stderr.strip()}")
        if shutil.which("shellcheck"):
            run = subprocess.run(["shellcheck", "-s", "bash", "-f", "gcc", path], capture_output=True, text=True)
            if run.returncode:
                problems += [f"{where}: {line.split(':', 1)[1]}" for line in run.stdout.splitlines()]
    finally:
        os.unlink(path)
    return problems


def check_user_data(m):
    problems = []
    templates = re.findall(r'templatefile\("\$\{path\.module\}/([^"]+)"', "".join(m.texts.values()))
    if not templates:
        return ["no templatefile() user data found"]
    for name in templates:
        path = os.path.join(m.directory, name)
        if not os.path.exists(path):
            problems.append(f"{name} is missing")
            continue
        with open(path, encoding="utf-8") as f:
            problems += shell_problems(name, render_template(f.read()))
    return problems


def check_release_scripts(_m):
    scripts = sorted(glob.glob(os.path.join(RELEASE_DIR, "*.sh")))
    if not scripts:
        return ["no deploy/release/*.sh"]
    problems = []
    for path in scripts:
        with open(path, encoding="utf-8") as f:
            problems += shell_problems(os.path.relpath(path, REPO), f.read())
    return problems


CHECKS = [
    ("files parse", lambda m: m.errors or ([] if m.texts else ["no .tf files"])),
    ("ingress only 80/443, never 22", check_ingress),
    ("no key pair, no key_name", check_no_ssh_key),
    ("instances require IMDSv2 (hop limit 2)", check_imdsv2),
    ("every EBS volume encrypted", check_encrypted_volumes),
    ("replica bucket private, encrypted, versioned, kept", check_bucket),
    ("instance profile role has AmazonSSMManagedInstanceCore", check_ssm_profile),
    ("instance role's S3 access limited to the bucket", check_instance_s3_scope),
    ("GitHub OIDC role: one repository's tags, SendCommand scoped", check_github_oidc),
    ("required_providers pins aws", check_provider_pin),
    ("every variable has a description", check_variables_described),
    ("outputs: instance id, public ip, bucket, deploy role", check_outputs),
    ("user data renders to a valid shell script", check_user_data),
    ("release scripts pass bash -n / shellcheck", check_release_scripts),
]


# ---------------------------------------------------------------------------------
# Mutations: each breaks one rule in a copy; the named check must then fail.
# (check name, file, text to replace, replacement)
# ---------------------------------------------------------------------------------

MUTATIONS = [
    ("ingress only 80/443, never 22", "network.tf",
     "from_port         = 443\n  to_port           = 443\n  cidr_ipv4         = \"0.0.0.0/0\"\n}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"http3\"",
     "from_port         = 22\n  to_port           = 22\n  cidr_ipv4         = \"0.0.0.0/0\"\n}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"http3\""),
    ("ingress only 80/443, never 22", "network.tf",
     "  from_port         = 80\n  to_port           = 80\n",
     "  from_port         = 0\n  to_port           = 1024\n"),
    ("ingress only 80/443, never 22", "network.tf",
     "  tags = { Name = \"${local.name}-web\" }\n",
     "  ingress {\n    from_port   = 20\n    to_port     = 25\n    protocol    = \"tcp\"\n"
     "    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n\n  tags = { Name = \"${local.name}-web\" }\n"),
    ("ingress only 80/443, never 22", "network.tf",
     "resource \"aws_vpc_security_group_egress_rule\" \"all\"",
     "resource \"aws_security_group_rule\" \"ssh\" {\n  type = \"ingress\"\n  security_group_id = aws_security_group.web.id\n"
     "  protocol = \"tcp\"\n  from_port = 22\n  to_port = 22\n  cidr_blocks = [\"0.0.0.0/0\"]\n}\n\n"
     "resource \"aws_vpc_security_group_egress_rule\" \"all\""),
    ("ingress only 80/443, never 22", "network.tf",
     "  ip_protocol       = \"udp\"\n", "  ip_protocol       = \"-1\"\n"),
    ("no key pair, no key_name", "instance.tf",
     "  instance_type        = var.instance_type\n",
     "  instance_type        = var.instance_type\n  key_name             = \"admin\"\n"),
    ("no key pair, no key_name", "instance.tf",
     "resource \"aws_eip\" \"poker\" {",
     "resource \"aws_key_pair\" \"admin\" {\n  public_key = \"ssh-ed25519 AAAA\"\n}\n\nresource \"aws_eip\" \"poker\" {"),
    ("instances require IMDSv2 (hop limit 2)", "instance.tf",
     "http_tokens                 = \"required\"", "http_tokens                 = \"optional\""),
    ("instances require IMDSv2 (hop limit 2)", "instance.tf",
     "    http_tokens                 = \"required\"\n", ""),
    ("every EBS volume encrypted", "instance.tf",
     "    volume_size           = var.root_volume_size\n    encrypted             = true\n",
     "    volume_size           = var.root_volume_size\n    encrypted             = false\n"),
    ("every EBS volume encrypted", "instance.tf",
     "  type              = \"gp3\"\n  encrypted         = true\n", "  type              = \"gp3\"\n"),
    ("every EBS volume encrypted", "instance.tf",
     "    delete_on_termination = true\n  }\n",
     "    delete_on_termination = true\n  }\n\n  ebs_block_device {\n    device_name = \"/dev/sdg\"\n    volume_size = 8\n  }\n"),
    ("replica bucket private, encrypted, versioned, kept", "storage.tf",
     "restrict_public_buckets = true", "restrict_public_buckets = false"),
    ("replica bucket private, encrypted, versioned, kept", "storage.tf",
     "  block_public_acls       = true\n", ""),
    ("replica bucket private, encrypted, versioned, kept", "storage.tf",
     "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"replica\" {\n  bucket = aws_s3_bucket.replica.id",
     "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"replica\" {\n  bucket = \"some-other-bucket\""),
    ("replica bucket private, encrypted, versioned, kept", "storage.tf",
     "    status = \"Enabled\"\n  }\n}", "    status = \"Suspended\"\n  }\n}"),
    ("replica bucket private, encrypted, versioned, kept", "storage.tf",
     "  force_destroy = false\n", "  force_destroy = true\n"),
    ("replica bucket private, encrypted, versioned, kept", "storage.tf",
     "    prevent_destroy = true\n", "    prevent_destroy = false\n"),
    ("instance profile role has AmazonSSMManagedInstanceCore", "iam.tf",
     "policy/AmazonSSMManagedInstanceCore", "policy/ReadOnlyAccess"),
    ("instance profile role has AmazonSSMManagedInstanceCore", "instance.tf",
     "  iam_instance_profile = aws_iam_instance_profile.instance.name\n", ""),
    ("instance role's S3 access limited to the bucket", "iam.tf",
     "resources = [\"${aws_s3_bucket.replica.arn}/*\"]", "resources = [\"*\"]"),
    ("GitHub OIDC role: one repository's tags, SendCommand scoped", "iam.tf",
     "\"repo:${var.github_repository}:ref:refs/tags/v*\"", "\"repo:${var.github_repository}:*\""),
    ("GitHub OIDC role: one repository's tags, SendCommand scoped", "iam.tf",
     "\"repo:${var.github_repository}:ref:refs/tags/v*\"", "\"repo:*:ref:refs/tags/v*\""),
    ("GitHub OIDC role: one repository's tags, SendCommand scoped", "iam.tf",
     "\"repo:${var.github_repository}:ref:refs/tags/v*\"", "\"repo:${var.github_repository}:ref:refs/heads/main\""),
    ("GitHub OIDC role: one repository's tags, SendCommand scoped", "iam.tf",
     "      variable = \"token.actions.githubusercontent.com:sub\"\n",
     "      variable = \"token.actions.githubusercontent.com:actor\"\n"),
    ("GitHub OIDC role: one repository's tags, SendCommand scoped", "iam.tf",
     "      aws_instance.poker.arn,\n", "      \"*\",\n"),
    ("required_providers pins aws", "versions.tf", "version = \"~> 5.60\"", "version = \">= 5.0\""),
    ("every variable has a description", "variables.tf",
     "  description = \"Environment name; becomes", "  #description = \"Environment name; becomes"),
    ("outputs: instance id, public ip, bucket, deploy role", "outputs.tf",
     "value       = aws_s3_bucket.replica.id", "value       = var.bucket_name"),
    ("outputs: instance id, public ip, bucket, deploy role", "outputs.tf",
     "value       = aws_eip.poker.public_ip", "value       = var.domain"),
    ("outputs: instance id, public ip, bucket, deploy role", "outputs.tf",
     "value       = aws_instance.poker.id", "value       = var.domain"),
    ("user data renders to a valid shell script", "user_data.sh.tftpl",
     "if ! blkid \"$DATA_DEVICE\"", "if ! blkid \"$DATA_DEVICE\" ) "),
]


def describe(old, new):
    """The mutation in a few words: its first removed and first added line."""
    old_lines = [line.strip() for line in old.splitlines() if line.strip()]
    new_lines = [line.strip() for line in new.splitlines() if line.strip()]
    removed = [line for line in old_lines if line not in new_lines]
    added = [line for line in new_lines if line not in old_lines]
    parts = []
    if removed:
        parts.append(f"- {removed[0][:60]}")
    if added:
        parts.append(f"+ {added[0][:60]}")
    return "  ".join(parts)


def run_checks(model):
    return [(name, check(model)) for name, check in CHECKS]


def mutated_model(directory, model, filename, old, new):
    """A copy of the directory with one edit, and its model; None if `old` is absent."""
    copy = tempfile.mkdtemp(prefix="tf-policy-")
    for path in glob.glob(os.path.join(directory, "*")):
        if os.path.isfile(path):
            shutil.copy(path, copy)
    target = os.path.join(copy, filename)
    with open(target, encoding="utf-8") as f:
        text = f.read()
    if old not in text:
        return copy, None
    with open(target, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new, 1))
    texts = dict(model.texts)
    if filename in texts:
        texts[filename] = text.replace(old, new, 1)
    return copy, Model(copy, texts)


def main():
    directory = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    model = Model.load(directory)
    passed = failed = 0

    print(f"Terraform policy: {os.path.relpath(directory, REPO)} ({len(model.texts)} files)")
    results = run_checks(model)
    for name, problems in results:
        if problems:
            failed += 1
            print(f"FAIL  {name}")
            for problem in problems:
                print(f"        - {problem}")
        else:
            passed += 1
            print(f"ok    {name}")

    referenced = sorted(set(re.findall(r'file\("\$\{path\.module\}/(\.\./[^"]+)"', "".join(model.texts.values()))))
    missing = [r for r in referenced if not os.path.exists(os.path.join(directory, r))]
    if referenced:
        print(f"note  user data embeds {', '.join(referenced)}"
              + (f"; not in this tree yet: {', '.join(missing)} (terraform plan needs them)" if missing else ""))

    if not shutil.which("shellcheck"):
        print("note  shellcheck not installed: shell scripts checked with bash -n only")

    print("Mutations (each must make its check fail):")
    clean_names = {name for name, problems in results if not problems}
    for check_name, filename, old, new in MUTATIONS:
        label = f"{filename}: {describe(old, new)}"
        copy, mutated = mutated_model(directory, model, filename, old, new)
        try:
            if mutated is None:
                failed += 1
                print(f"FAIL  {check_name}: mutation target not found in {filename} (update MUTATIONS)")
                continue
            if check_name not in clean_names:
                failed += 1
                print(f"FAIL  {check_name}: already failing, mutation proves nothing: {label}")
                continue
            problems = dict(run_checks(mutated))[check_name]
            if problems:
                passed += 1
                print(f"ok    caught by '{check_name}': {label}")
                print(f"        - {problems[0]}")
            else:
                failed += 1
                print(f"FAIL  NOT caught by '{check_name}': {label}")
        finally:
            shutil.rmtree(copy, ignore_errors=True)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
