#!/usr/bin/env bash
# Static checks of the deploy files (nothing is built or started):
#   - hadolint on deploy/Dockerfile, every level counts;
#   - policy of the Dockerfile's final stage and of .dockerignore;
#   - docker-compose config on compose.yaml, alone and with compose.nginx.yaml, with
#     the example variables, and the policy of the resolved files (ports, ulimits,
#     health checks, the restore before poker);
#   - systemd-analyze verify and security on the units.
# Caddy's and nginx's own configs are checked by the proxies' test, not here.
#
#   bash deploy/test/static.sh        (make deploy-static)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
T0=$(date +%s)
FAILURES=0

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
bad() { printf '   FAIL: %s\n' "$*" >&2; FAILURES=$((FAILURES + 1)); }
need() { command -v "$1" >/dev/null || { echo "FAIL: $1 is not installed (make deploy-deps)" >&2; exit 1; }; }
for tool in hadolint docker-compose systemd-analyze; do need "$tool"; done

# A python with PyYAML (docker-compose's own, from Debian, has it).
PY=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import yaml' 2>/dev/null; then PY="$candidate"; break; fi
done
[[ -n "$PY" ]] || { echo "FAIL: no python3 with PyYAML" >&2; exit 1; }

WORK="$(mktemp -d /tmp/poker-static-test.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# --- Dockerfile --------------------------------------------------------------------
DOCKERFILE=deploy/Dockerfile
step "hadolint $DOCKERFILE (failure threshold: style, i.e. every finding)"
if hadolint --failure-threshold style "$DOCKERFILE"; then ok "no findings"; else bad "hadolint"; fi

step "Dockerfile policy (final stage)"
# The final stage: from the last FROM line to the end.
FINAL="$WORK/final-stage"
awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$DOCKERFILE" >"$FINAL"
expect_line() { # description, extended regex, file
  if grep -Eq -- "$2" "$3"; then ok "$1"; else bad "$1 (no line matching /$2/ in $3)"; fi
}
expect_line "final stage is FROM scratch" '^FROM scratch( AS [a-z]+)?$' "$FINAL"
expect_line "USER is numeric and non-root" '^USER 65532:65532$' "$FINAL"
if grep -Eiq '^USER +(0|root)([: ]|$)' "$FINAL"; then bad "a USER line names root"; else ok "no USER root"; fi
expect_line "HEALTHCHECK in exec form runs poker healthcheck" \
  '^ *CMD \["/usr/local/bin/poker", "healthcheck"\]$' "$FINAL"
expect_line "HEALTHCHECK instruction present" '^HEALTHCHECK ' "$FINAL"
expect_line "EXPOSE 8090" '^EXPOSE 8090$' "$FINAL"
expect_line "VOLUME /data" '^VOLUME \["/data"\]$' "$FINAL"
expect_line "/data copied in owned by the runtime user" \
  '^COPY --from=build --chown=65532:65532 /rootfs/data /data$' "$FINAL"
expect_line "listens on all interfaces of the container" '^ENV LITEBASE_HTTP=0\.0\.0\.0:8090' "$FINAL"
expect_line "data dir is /data" 'LITEBASE_DIR=/data$' "$FINAL"
expect_line "ENTRYPOINT is the binary (exec form)" '^ENTRYPOINT \["/usr/local/bin/poker"\]$' "$FINAL"
expect_line "CMD serve" '^CMD \["serve"\]$' "$FINAL"
for label in title version revision created source licenses; do
  expect_line "OCI label $label" "org\.opencontainers\.image\.$label=" "$FINAL"
done
expect_line "release build of poker from the lock file" \
  'cargo zigbuild --locked --release -p poker --target' "$DOCKERFILE"
# shellcheck disable=SC2016 # a literal $BUILDPLATFORM in the pattern
expect_line "build stage runs on the build platform (cross, not emulated)" \
  '^FROM --platform=\$BUILDPLATFORM ' "$DOCKERFILE"
if grep -Eq '^(RUN|SHELL)' "$FINAL"; then bad "the final stage has RUN/SHELL (scratch has no shell)"; else ok "no RUN in the final stage"; fi

step ".dockerignore keeps build outputs and VCS data out of the context"
for pattern in '.git' '**/target' '**/node_modules' '**/lb_data' 'tests'; do
  if grep -qxF -- "$pattern" .dockerignore; then ok ".dockerignore: $pattern"; else bad ".dockerignore lacks $pattern"; fi
done

# --- compose -----------------------------------------------------------------------
ENV_EXAMPLE=deploy/compose.env.example
# Only the example's values, whatever this shell has exported.
compose() {
  env -u POKER_IMAGE -u POKER_TAG -u DOMAIN -u ACME_EMAIL -u PROXY_SUBNET -u LITESTREAM_IMAGE \
    -u LITESTREAM_BUCKET -u LITESTREAM_PATH -u LITESTREAM_ENDPOINT -u LITESTREAM_REGION -u LITESTREAM_FORCE_PATH_STYLE \
    -u LITESTREAM_ACCESS_KEY_ID -u LITESTREAM_SECRET_ACCESS_KEY \
    docker-compose "$@"
}
step "docker-compose config: deploy/compose.yaml (variables from $ENV_EXAMPLE)"
if compose --env-file "$ENV_EXAMPLE" -f deploy/compose.yaml config >"$WORK/caddy.yaml"; then
  ok "valid"
else
  bad "docker-compose config on compose.yaml"
fi
step "docker-compose config: deploy/compose.yaml + deploy/compose.nginx.yaml"
if compose --env-file "$ENV_EXAMPLE" -f deploy/compose.yaml -f deploy/compose.nginx.yaml config >"$WORK/nginx.yaml"; then
  ok "valid"
else
  bad "docker-compose config with the nginx override"
fi
step "docker-compose config with only the variables an EC2 first boot writes"
# deploy/terraform/user_data.sh.tftpl writes this .env (no S3 keys: instance role).
printf '%s\n' DOMAIN=poker.example.com ACME_EMAIL=admin@example.com \
  POKER_IMAGE=ghcr.io/example-org/poker POKER_TAG=1.0.0 \
  LITESTREAM_BUCKET=example-poker-backups LITESTREAM_REGION=eu-central-1 >"$WORK/instance.env"
if compose --env-file "$WORK/instance.env" -f deploy/compose.yaml config -q; then
  ok "valid without S3 keys, endpoint, path or subnet"
else
  bad "docker-compose config with the instance's .env"
fi
step "docker-compose config refuses to run without the required variables"
grep -v '^POKER_IMAGE=' "$ENV_EXAMPLE" >"$WORK/incomplete.env"
if compose --env-file "$WORK/incomplete.env" -f deploy/compose.yaml config -q >"$WORK/incomplete.out" 2>&1; then
  bad "config passed without POKER_IMAGE"
elif grep -q 'POKER_IMAGE' "$WORK/incomplete.out"; then
  ok "missing POKER_IMAGE is an error: $(grep -m1 'POKER_IMAGE' "$WORK/incomplete.out")"
else
  bad "config failed without POKER_IMAGE, but not because of it: $(cat "$WORK/incomplete.out")"
fi
for name in compose.yaml compose.nginx.yaml; do
  if grep -Eq '^version:' "deploy/$name"; then bad "$name has a version: key"; else ok "$name: no version: key"; fi
done

step "compose policy (on the resolved files)"
if "$PY" - "$WORK/caddy.yaml" "$WORK/nginx.yaml" <<'PY'; then ok "compose policy"; else bad "compose policy"; fi
import sys
import yaml

failures = 0

def check(what, good, detail=""):
    global failures
    print(f"   {'ok' if good else 'FAIL'}: {what}" + (f" ({detail})" if detail and not good else ""))
    if not good:
        failures += 1

def published(service):
    """(published port, protocol) pairs of a service, in either syntax."""
    out = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            out.append((int(port["published"]), port.get("protocol", "tcp")))
        else:
            spec, _, proto = str(port).partition("/")
            out.append((int(spec.split(":")[-2]), proto or "tcp"))
    return sorted(out)

def active(services, name):
    # A service with profiles starts only when one of them is enabled; none is.
    return name in services and not services[name].get("profiles")

for path, proxy in ((sys.argv[1], "caddy"), (sys.argv[2], "nginx")):
    services = yaml.safe_load(open(path))["services"]
    print(f"   -- {path.rsplit('/', 1)[-1]}: the proxy is {proxy}")
    running = {name: s for name, s in services.items() if active(services, name)}
    exposed = {name: published(s) for name, s in running.items() if s.get("ports")}
    check(f"only {proxy} publishes ports", set(exposed) == {proxy}, f"publishing: {sorted(exposed)}")
    allowed = {(80, "tcp"), (443, "tcp"), (443, "udp")}
    ports = exposed.get(proxy, [])
    check(f"{proxy} publishes only 80 and 443", ports and set(ports) <= allowed, f"{ports}")
    check("every published port is 80 or 443",
          all(p in allowed for ps in exposed.values() for p in ps), f"{exposed}")
    poker = running.get("poker", {})
    check("poker is not published", not poker.get("ports"), f"{poker.get('ports')}")
    nofile = (poker.get("ulimits") or {}).get("nofile") or {}
    check("poker ulimits nofile soft = hard >= 20000",
          isinstance(nofile, dict) and nofile.get("soft") == nofile.get("hard") and int(nofile.get("soft", 0)) >= 20000,
          f"{nofile}")
    test = (poker.get("healthcheck") or {}).get("test")
    check("poker healthcheck runs the binary", test == ["CMD", "/usr/local/bin/poker", "healthcheck"], f"{test}")
    check("poker restarts unless stopped", poker.get("restart") == "unless-stopped")
    check("poker keeps its data in the data volume", "data:/data:rw" in (poker.get("volumes") or [])
          or "data:/data" in (poker.get("volumes") or []), f"{poker.get('volumes')}")
    env = poker.get("environment") or {}
    check("poker trusts X-Forwarded-For from the proxies' network",
          env.get("LITEBASE_TRUSTED_PROXY_HEADERS") == "X-Forwarded-For"
          and bool(env.get("LITEBASE_TRUSTED_PROXIES")), f"{env}")
    grace = str(poker.get("stop_grace_period", ""))
    check("poker's stop_grace_period exceeds the 30 s shutdown timeout",
          grace.endswith("s") and grace[:-1].isdigit() and int(grace[:-1]) > 30, grace)
    restore = running.get("restore", {})
    check("restore runs litestream restore -if-db-not-exists -if-replica-exists",
          restore.get("command") == ["restore", "-if-db-not-exists", "-if-replica-exists", "/data/data.db"],
          f"{restore.get('command')}")
    check("poker starts after the restore completed",
          (poker.get("depends_on") or {}).get("restore", {}).get("condition") == "service_completed_successfully")
    for name in ("restore", "litestream"):
        lenv = running.get(name, {}).get("environment") or {}
        check(f"{name}: LITESTREAM_DB_PATH is poker's database", lenv.get("LITESTREAM_DB_PATH") == "/data/data.db", f"{lenv}")
    check("litestream replicates after the restore",
          running.get("litestream", {}).get("command") == ["replicate"]
          and (running["litestream"].get("depends_on") or {}).get("restore", {}).get("condition")
          == "service_completed_successfully")
    check(f"{proxy} waits for a healthy poker",
          (running.get(proxy, {}).get("depends_on") or {}).get("poker", {}).get("condition") == "service_healthy")

sys.exit(1 if failures else 0)
PY

# --- systemd -----------------------------------------------------------------------
# verify checks that ExecStart= commands exist and are executable, and this machine
# has neither binary at the units' paths. Rather than rewrite the units, they go
# unchanged into a throwaway root at their installed paths, with placeholder
# executables where the real binaries would be and the host's own system units
# (for the targets they order against); verify and security then run on that root.
step "systemd-analyze verify (units unchanged, in a throwaway root)"
SDROOT="$WORK/root"
mkdir -p "$SDROOT/etc/systemd/system" "$SDROOT/usr/lib/systemd" "$SDROOT/usr/local/bin" "$SDROOT/usr/bin" \
  "$SDROOT/usr/local/lib/poker"
cp -a /lib/systemd/system "$SDROOT/usr/lib/systemd/"
printf '#!/bin/sh\nexit 0\n' >"$SDROOT/usr/local/bin/poker"
printf '#!/bin/sh\nexit 0\n' >"$SDROOT/usr/bin/litestream"
install -m 755 deploy/cluster/standby.sh "$SDROOT/usr/local/lib/poker/standby.sh"
chmod 755 "$SDROOT/usr/local/bin/poker" "$SDROOT/usr/bin/litestream"
UNITS=(poker.service litestream.service poker-standby.service)
unit_file() { if [[ -e deploy/systemd/$1 ]]; then echo "deploy/systemd/$1"; else echo "deploy/cluster/$1"; fi; }
for unit in "${UNITS[@]}"; do cp "$(unit_file "$unit")" "$SDROOT/etc/systemd/system/"; done
# Warnings (unknown keys, unparsable values) only print: any output is a failure.
if systemd-analyze verify --root="$SDROOT" "${UNITS[@]}" >"$WORK/verify.out" 2>&1 && [[ ! -s "$WORK/verify.out" ]]; then
  ok "verify: ${UNITS[*]}"
else
  sed 's/^/   | /' "$WORK/verify.out" >&2
  bad "systemd-analyze verify"
fi

step "systemd-analyze security --offline (exposure must stay at or below 2.0)"
for unit in "${UNITS[@]}"; do
  # --threshold is in tenths (0..100).
  if systemd-analyze security --offline=true --root="$SDROOT" --threshold=20 "$unit" >"$WORK/security.out" 2>&1; then
    ok "$(grep -o 'Overall exposure level for .*' "$WORK/security.out")"
  else
    grep '✗\|Overall' "$WORK/security.out" | sed 's/^/   | /' >&2
    bad "security of $unit"
  fi
done

step "systemd-analyze verify poker.service with the cluster node's drop-in"
mkdir -p "$SDROOT/etc/systemd/system/poker.service.d"
cp deploy/cluster/poker-node.conf "$SDROOT/etc/systemd/system/poker.service.d/cluster.conf"
if systemd-analyze verify --root="$SDROOT" poker.service >"$WORK/verify-node.out" 2>&1 && [[ ! -s "$WORK/verify-node.out" ]]; then
  ok "verify: poker.service + deploy/cluster/poker-node.conf"
else
  sed 's/^/   | /' "$WORK/verify-node.out" >&2
  bad "systemd-analyze verify with the drop-in"
fi
rm -rf "$SDROOT/etc/systemd/system/poker.service.d"

step "unit policy"
unit_has() { # unit, exact line
  if grep -qxF -- "$2" "$(unit_file "$1")"; then ok "$1: $2"; else bad "$1 lacks the line: $2"; fi
}
for line in 'DynamicUser=yes' 'User=poker' 'StateDirectory=poker' 'ProtectSystem=strict' 'ProtectHome=yes' \
  'PrivateTmp=yes' 'PrivateDevices=yes' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=' \
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'SystemCallFilter=@system-service' 'Restart=on-failure'; do
  for unit in "${UNITS[@]}"; do unit_has "$unit" "$line"; done
done
unit_has poker.service 'ExecStart=/usr/local/bin/poker serve --dir /var/lib/poker --http 127.0.0.1:8090'
unit_has poker.service 'LimitNOFILE=20000'
unit_has poker.service 'KillSignal=SIGTERM'
unit_has poker.service 'EnvironmentFile=-/etc/poker/poker.env'
unit_has litestream.service \
  'ExecStartPre=/usr/bin/litestream restore -config /etc/litestream.yml -if-db-not-exists -if-replica-exists /var/lib/poker/data.db'
STOP="$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' deploy/systemd/poker.service)"
SHUTDOWN="$(grep -A1 'LITEBASE_SHUTDOWN_TIMEOUT' crates/litebase/src/config.rs | grep -o 'default_value_t = [0-9]*' | grep -o '[0-9]*$' || true)"
if [[ -n "$STOP" && -n "$SHUTDOWN" && "$STOP" -gt "$SHUTDOWN" ]]; then
  ok "TimeoutStopSec=${STOP}s exceeds the server's shutdown timeout (${SHUTDOWN}s, config.rs)"
else
  bad "TimeoutStopSec (${STOP:-unset}) must exceed LITEBASE_SHUTDOWN_TIMEOUT's default (${SHUTDOWN:-not found})"
fi

# --- the test scripts themselves ---------------------------------------------------
SCRIPTS=(deploy/test/static.sh deploy/test/image.sh deploy/cluster/haproxy-cfg.sh deploy/cluster/standby.sh)
step "bash -n and shellcheck on ${SCRIPTS[*]}"
for script in "${SCRIPTS[@]}"; do
  if bash -n "$script"; then ok "bash -n $script"; else bad "bash -n $script"; fi
done
if command -v shellcheck >/dev/null; then
  if shellcheck "${SCRIPTS[@]}"; then ok "shellcheck"; else bad "shellcheck"; fi
else
  echo "   note: shellcheck is not installed; not run (only bash -n above)"
fi

echo
if [[ $FAILURES -eq 0 ]]; then
  echo "static.sh: all checks passed in $(($(date +%s) - T0))s"
else
  echo "static.sh: $FAILURES check(s) FAILED after $(($(date +%s) - T0))s" >&2
  exit 1
fi
