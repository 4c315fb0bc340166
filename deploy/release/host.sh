#!/usr/bin/env bash
# Runs on the poker instance, as root, through SSM Run Command: rollout.sh sends this
# file with each command (so it changes with the repo, not with the instance).
#
#   host.sh current                 print the image tag in /opt/poker/.env
#   host.sh deploy TAG [SECONDS]    pull TAG, switch POKER_TAG to it, restart poker and
#                                   wait up to SECONDS (default 300) for /api/health
#
# The health check asks the poker container directly on its address on the compose
# network (port 8090 is not published on the host): it needs neither DNS nor a
# certificate, nor any tool inside the image. Three answers in a row are required,
# so a container that starts and then crashes is not taken for healthy.
set -euo pipefail

APP_DIR=${POKER_DIR:-/opt/poker}
ENV_FILE=$APP_DIR/.env
SERVICE=poker
PORT=8090

current_tag() {
  if [ -f "$ENV_FILE" ]; then
    sed -n 's/^POKER_TAG=//p' "$ENV_FILE" | tail -n 1
  fi
}

set_tag() {
  local tag=$1 tmp
  tmp=$(mktemp "$APP_DIR/.env.XXXXXX")
  if grep -q '^POKER_TAG=' "$ENV_FILE"; then
    sed "s/^POKER_TAG=.*/POKER_TAG=$tag/" "$ENV_FILE" >"$tmp"
  else
    cat "$ENV_FILE" >"$tmp"
    echo "POKER_TAG=$tag" >>"$tmp"
  fi
  chmod 600 "$tmp"
  mv "$tmp" "$ENV_FILE"
}

container_id() {
  docker compose ps -q "$SERVICE" | head -n 1
}

healthy() {
  local id ip health
  id=$(container_id)
  [ -n "$id" ] || return 1
  [ "$(docker inspect -f '{{.State.Running}}' "$id")" = true ] || return 1
  # A compose healthcheck, when the service has one, must not say unhealthy.
  health=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")
  [ "$health" != unhealthy ] || return 1
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id" | awk '{print $1}')
  [ -n "$ip" ] || return 1
  curl -fsS --max-time 5 -o /dev/null "http://$ip:$PORT/api/health"
}

deploy() {
  local tag=$1 timeout=${2:-300} previous deadline streak=0 image
  if ! [[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
    echo "host.sh: not an image tag: $tag" >&2
    return 2
  fi
  if [ ! -f "$ENV_FILE" ]; then
    echo "host.sh: no $ENV_FILE: did the instance's first boot finish? (/var/log/poker-bootstrap.log)" >&2
    return 1
  fi
  cd "$APP_DIR"
  previous=$(current_tag)
  echo "poker: $previous -> $tag"

  # Pull before touching .env: an unknown tag changes nothing.
  POKER_TAG=$tag docker compose pull --quiet "$SERVICE"
  set_tag "$tag"
  # The whole project, not just poker: only poker's image changed, so only poker is
  # recreated, and services that are not running (a first boot that could not pull
  # yet) are started as well.
  docker compose up -d

  deadline=$((SECONDS + timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if healthy; then
      streak=$((streak + 1))
      [ "$streak" -ge 3 ] && break
    else
      streak=0
    fi
    sleep 5
  done

  image=$(docker inspect -f '{{.Config.Image}}' "$(container_id)" 2>/dev/null || true)
  if [ "$streak" -lt 3 ]; then
    echo "poker: $tag not healthy after ${timeout}s (image $image); last log lines:" >&2
    docker compose logs --no-color --tail 40 "$SERVICE" >&2 || true
    return 1
  fi
  case $image in
    *":$tag") ;;
    *)
      echo "poker: healthy, but running $image rather than tag $tag" >&2
      return 1
      ;;
  esac
  echo "poker: $tag healthy ($image)"
}

case ${1:-} in
  current) current_tag ;;
  deploy) deploy "${2:?usage: host.sh deploy TAG [SECONDS]}" "${3:-300}" ;;
  *)
    echo "usage: host.sh current | host.sh deploy TAG [SECONDS]" >&2
    exit 2
    ;;
esac
