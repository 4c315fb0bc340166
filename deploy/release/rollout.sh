#!/usr/bin/env bash
# Rolls a released image tag out to the poker instance(s) through SSM Run Command,
# and rolls back to the previous tag if the new one does not come up healthy.
# Run by .github/workflows/release.yml with the deploy role's credentials; works the
# same from a laptop with credentials allowed to do the same.
#
#   deploy/release/rollout.sh TAG
#
# Environment:
#   AWS_REGION       region of the stack (required)
#   APP_TAG, ENV_TAG the instances' App and Env tags (default poker, production)
#   HEALTH_TIMEOUT   seconds each instance may take to answer /api/health (default 300)
#   PUBLIC_URL       optional, e.g. https://poker.example.com: also checked from here,
#                    through DNS, Caddy and TLS, after the instances report healthy
#
# Needs the AWS CLI v2, jq, base64 and curl. Exit status 0: TAG is live; 1: it was
# not, and the instances are back on their previous tag (or the rollback failed too,
# which the log says loudly).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tag=${1:?usage: rollout.sh TAG}
: "${AWS_REGION:?set AWS_REGION}"
app_tag=${APP_TAG:-poker}
env_tag=${ENV_TAG:-production}
health_timeout=${HEALTH_TIMEOUT:-300}
public_url=${PUBLIC_URL:-}

if ! [[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "rollout: not an image tag: $tag" >&2
  exit 2
fi
if ! [[ $health_timeout =~ ^[0-9]+$ ]]; then
  echo "rollout: HEALTH_TIMEOUT must be a number of seconds" >&2
  exit 2
fi

host_script=$(base64 -w0 "$here/host.sh")

log() {
  echo "rollout: $*" >&2
}

summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    echo "$*" >>"$GITHUB_STEP_SUMMARY"
  fi
}

# run_on INSTANCE SECONDS ARG...: runs host.sh ARG... on the instance and waits up to
# SECONDS (plus delivery time) for it. The command's output goes to stdout, its
# errors to stderr; the status is the command's.
run_on() {
  local instance=$1 seconds=$2 params command_id status deadline
  shift 2
  params=$(jq -cn --arg script "$host_script" --arg timeout "$((seconds + 60))" '
    { commands: [
        "set -e",
        "printf %s \($script | @sh) | base64 -d > /tmp/poker-host.sh",
        "bash /tmp/poker-host.sh \($ARGS.positional | map(@sh) | join(" "))"
      ],
      executionTimeout: [$timeout] }' --args "$@")
  command_id=$(aws ssm send-command \
    --instance-ids "$instance" \
    --document-name AWS-RunShellScript \
    --comment "poker rollout: $*" \
    --timeout-seconds 120 \
    --parameters "$params" \
    --query Command.CommandId --output text)
  log "$instance: host.sh $* (command $command_id)"

  # Not `aws ssm wait command-executed`: it gives up after a fixed ~100 s.
  deadline=$((SECONDS + seconds + 180))
  while :; do
    sleep 5
    status=$(aws ssm get-command-invocation --command-id "$command_id" --instance-id "$instance" \
      --query Status --output text 2>/dev/null || echo Pending)
    case $status in
      Pending | InProgress | Delayed) ;;
      *) break ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      status=TimedOutWaiting
      break
    fi
  done

  aws ssm get-command-invocation --command-id "$command_id" --instance-id "$instance" \
    --query StandardOutputContent --output text 2>/dev/null || true
  aws ssm get-command-invocation --command-id "$command_id" --instance-id "$instance" \
    --query StandardErrorContent --output text 2>/dev/null | sed 's/^/  | /' >&2 || true
  log "$instance: $status"
  [ "$status" = Success ]
}

public_check() {
  local deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if curl -fsS --max-time 10 -o /dev/null "${public_url%/}/api/health"; then
      return 0
    fi
    sleep 5
  done
  return 1
}

read -r -a instances <<<"$(aws ec2 describe-instances \
  --filters "Name=tag:App,Values=$app_tag" "Name=tag:Env,Values=$env_tag" \
  "Name=instance-state-name,Values=running" \
  --query 'Reservations[].Instances[].InstanceId' --output text)"
if [ "${#instances[@]}" -eq 0 ]; then
  log "no running instance tagged App=$app_tag Env=$env_tag in $AWS_REGION"
  exit 1
fi
log "instances: ${instances[*]}"

# The rollback target of each instance: the tag it runs now.
declare -A previous
for instance in "${instances[@]}"; do
  if ! previous[$instance]=$(run_on "$instance" 60 current | tail -n 1 | tr -d '[:space:]'); then
    log "$instance: could not read its current tag; there will be nothing to roll back to"
    previous[$instance]=""
  fi
  log "$instance runs ${previous[$instance]:-(no tag)}"
done

touched=()
failed=""
for instance in "${instances[@]}"; do
  touched+=("$instance")
  if ! run_on "$instance" "$health_timeout" deploy "$tag" "$health_timeout"; then
    failed="$instance: deploy of $tag failed (its output is above)"
    break
  fi
done

if [ -z "$failed" ] && [ -n "$public_url" ]; then
  if public_check; then
    log "$public_url/api/health answers"
  else
    failed="$public_url/api/health does not answer"
  fi
fi

if [ -z "$failed" ]; then
  log "$tag is live on ${instances[*]}"
  summary "Deployed \`$tag\` to ${instances[*]}."
  exit 0
fi

log "FAILED: $failed; rolling back"
rollback_failed=""
for instance in "${touched[@]}"; do
  target=${previous[$instance]}
  if [ -z "$target" ] || [ "$target" = "$tag" ]; then
    log "$instance: no earlier tag to roll back to"
    rollback_failed="$rollback_failed $instance"
    continue
  fi
  if ! run_on "$instance" "$health_timeout" deploy "$target" "$health_timeout"; then
    rollback_failed="$rollback_failed $instance"
  fi
done
if [ -n "$rollback_failed" ]; then
  log "ROLLBACK FAILED on:$rollback_failed; the site may be down"
  summary "Deploy of \`$tag\` failed ($failed); **rollback failed** on$rollback_failed."
else
  log "rolled back to the previous tag"
  summary "Deploy of \`$tag\` failed ($failed); rolled back."
fi
exit 1
