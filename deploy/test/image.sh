#!/usr/bin/env bash
# The image, as far as this machine can go (no container runs here, no registry is
# reached): a static musl release binary is built, the Dockerfile's final stage is
# built around it with podman, the image's metadata is checked, its root filesystem
# is exported, and the binary from that root filesystem serves on a loopback port
# (as the image's uid, with the image's environment) while `poker healthcheck`
# checks it. Every wait is bounded; everything it creates is removed at the end.
#
#   bash deploy/test/image.sh        (make deploy-image)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

TARGET=x86_64-unknown-linux-musl
IMAGE=localhost/poker:test
UID_GID=65532:65532
T0=$(date +%s)

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
fail() { printf '   FAIL: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || fail "$1 is not installed (make deploy-deps)"; }
for tool in cargo podman musl-gcc file ldd curl setpriv timeout python3 tar; do need "$tool"; done

WORK="$(mktemp -d /tmp/poker-image-test.XXXXXX)"
chmod 755 "$WORK" # the server runs as uid 65532 from inside it
CONTAINER="poker-image-test-$$"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  podman rm --force --ignore "$CONTAINER" >/dev/null 2>&1 || true
  podman rmi --force "$IMAGE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  if [[ $rc -eq 0 ]]; then
    printf '\nimage.sh: all checks passed in %ss\n' "$(($(date +%s) - T0))"
  else
    printf '\nimage.sh: FAILED (exit %s) after %ss\n' "$rc" "$(($(date +%s) - T0))" >&2
  fi
}
trap cleanup EXIT

# --- 1. the static binary ----------------------------------------------------------
step "cargo build --release --locked -p poker --target $TARGET (worktree's own target dir)"
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" \
  || fail "rustup target $TARGET is missing (rustup target add $TARGET)"
# musl-gcc compiles the C in the tree (bundled SQLite, ring) against musl. Stripping
# symbols matches what deploy/Dockerfile does (CARGO_PROFILE_RELEASE_STRIP=symbols).
B0=$(date +%s)
CC_x86_64_unknown_linux_musl=musl-gcc CARGO_PROFILE_RELEASE_STRIP=symbols \
  timeout 1800 cargo build --release --locked -p poker --target "$TARGET"
BUILD_SECS=$(($(date +%s) - B0))
BIN="$ROOT/target/$TARGET/release/poker"
ok "built in ${BUILD_SECS}s: $BIN ($(stat -c %s "$BIN") bytes)"

step "the binary is statically linked"
FILE_OUT="$(file -b "$BIN")"
echo "   file: $FILE_OUT"
[[ "$FILE_OUT" == *"statically linked"* || "$FILE_OUT" == *"static-pie linked"* ]] \
  || fail "file does not call it static"
LDD_OUT="$(ldd "$BIN" 2>&1 || true)"
echo "   ldd:  $LDD_OUT"
[[ "$LDD_OUT" == *"statically linked"* || "$LDD_OUT" == *"not a dynamic executable"* ]] \
  || fail "ldd lists shared libraries"
ok "no dynamic dependencies"

# --- 2. the final stage, built around it ------------------------------------------
# The Dockerfile's `runtime` stage copies from the stage named `build`; a build context
# of that name replaces the stage, so podman never runs the Rust build stage (nor
# needs its base image). The context holds what the build stage leaves in /rootfs.
step "podman build --target runtime with --build-context build=<prebuilt rootfs>"
mkdir -p "$WORK/prebuilt/rootfs/usr/local/bin" "$WORK/prebuilt/rootfs/data" "$WORK/context"
cp "$BIN" "$WORK/prebuilt/rootfs/usr/local/bin/poker"
REVISION="$(git rev-parse HEAD)"
CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
P0=$(date +%s)
# --format docker: the OCI image format has no HEALTHCHECK (podman would drop it).
timeout 300 podman build \
  --file "$ROOT/deploy/Dockerfile" \
  --target runtime \
  --platform linux/amd64 \
  --format docker \
  --build-context "build=$WORK/prebuilt" \
  --build-arg VERSION=test \
  --build-arg "REVISION=$REVISION" \
  --build-arg "CREATED=$CREATED" \
  --build-arg SOURCE=https://github.com/OWNER/poker \
  --tag "$IMAGE" \
  "$WORK/context"
ok "built $IMAGE in $(($(date +%s) - P0))s"

step "podman image inspect: user, port, volume, env, entrypoint, healthcheck, labels"
podman image inspect "$IMAGE" >"$WORK/inspect.json"
python3 - "$WORK/inspect.json" "$REVISION" "$CREATED" <<'PY'
import json, sys

image = json.load(open(sys.argv[1]))[0]
revision, created = sys.argv[2], sys.argv[3]
config = image["Config"]
failures = []

def check(what, actual, expected):
    good = actual == expected
    print(f"   {'ok' if good else 'FAIL'}: {what} = {actual!r}" + ("" if good else f" (expected {expected!r})"))
    if not good:
        failures.append(what)

check("User", config.get("User"), "65532:65532")
check("ExposedPorts", sorted((config.get("ExposedPorts") or {}).keys()), ["8090/tcp"])
check("Volumes", sorted((config.get("Volumes") or {}).keys()), ["/data"])
env = dict(e.split("=", 1) for e in config.get("Env") or [])
check("Env LITEBASE_HTTP", env.get("LITEBASE_HTTP"), "0.0.0.0:8090")
check("Env LITEBASE_DIR", env.get("LITEBASE_DIR"), "/data")
check("Entrypoint", config.get("Entrypoint"), ["/usr/local/bin/poker"])
check("Cmd", config.get("Cmd"), ["serve"])
check("StopSignal", config.get("StopSignal"), "SIGTERM")
health = image.get("Healthcheck") or {}
check("Healthcheck.Test", health.get("Test"), ["CMD", "/usr/local/bin/poker", "healthcheck"])
check("Healthcheck interval/timeout/retries", (health.get("Interval"), health.get("Timeout"), health.get("Retries")), (30 * 10**9, 10 * 10**9, 3))
labels = config.get("Labels") or image.get("Labels") or {}
prefix = "org.opencontainers.image."
check("label title", labels.get(prefix + "title"), "poker")
check("label version", labels.get(prefix + "version"), "test")
check("label revision", labels.get(prefix + "revision"), revision)
check("label created", labels.get(prefix + "created"), created)
check("label source", labels.get(prefix + "source"), "https://github.com/OWNER/poker")
check("label licenses", labels.get(prefix + "licenses"), "MIT")
check("Os/Architecture", (image.get("Os"), image.get("Architecture")), ("linux", "amd64"))
sys.exit(1 if failures else 0)
PY
SIZE_BYTES="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
ok "image size: $SIZE_BYTES bytes ($((SIZE_BYTES / 1024 / 1024)) MiB; binary $(stat -c %s "$BIN") bytes)"

# --- 3. its root filesystem --------------------------------------------------------
# Containers cannot run here, but creating one and exporting its filesystem works.
step "podman create + podman export: the image's root filesystem"
timeout 60 podman create --name "$CONTAINER" "$IMAGE" >/dev/null
timeout 120 podman export --output "$WORK/rootfs.tar" "$CONTAINER"
tar -tvf "$WORK/rootfs.tar" | sed 's/^/   /'
ROOTFS="$WORK/rootfs"
mkdir -p "$ROOTFS"
tar -xpf "$WORK/rootfs.tar" -C "$ROOTFS"
[[ -x "$ROOTFS/usr/local/bin/poker" ]] || fail "no /usr/local/bin/poker in the image"
cmp -s "$ROOTFS/usr/local/bin/poker" "$BIN" || fail "the image's binary is not the one built"
[[ "$(stat -c %u:%g "$ROOTFS/data")" == "$UID_GID" ]] || fail "/data is not owned by $UID_GID"
[[ "$(stat -c %u:%g "$ROOTFS/usr/local/bin/poker")" == "0:0" ]] || fail "the binary is not root-owned"
[[ -z "$(find "$ROOTFS/data" -mindepth 1)" ]] || fail "/data is not empty in the image"
ok "binary identical to the build, root-owned; /data empty and owned by $UID_GID"
POKER="$ROOTFS/usr/local/bin/poker"

step "the subcommand the HEALTHCHECK uses exists"
"$POKER" healthcheck --help >/dev/null 2>&1 \
  || fail "'poker healthcheck' is missing from this binary (the image's HEALTHCHECK needs it)"
ok "poker healthcheck --help exits 0"

# --- 4. the binary from that root filesystem, serving ------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
CLOSED_PORT="$(free_port)"
DATA="$WORK/data"
mkdir -p "$DATA"
chown "$UID_GID" "$DATA"

step "serve from the rootfs as uid 65532 on 127.0.0.1:$PORT (data in $DATA)"
# The image's environment, with a loopback port and a temp data dir instead of the
# container's 0.0.0.0:8090 and /data.
setpriv --reuid 65532 --regid 65532 --clear-groups \
  env -i LITEBASE_HTTP="127.0.0.1:$PORT" LITEBASE_DIR="$DATA" \
  "$POKER" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
S0=$(date +%s)
for _ in $(seq 1 150); do # at most 30 s
  curl -fsS --max-time 2 "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "the server exited"; }
  sleep 0.2
done
curl -fsS --max-time 2 "http://127.0.0.1:$PORT/api/health" >/dev/null \
  || { cat "$WORK/server.log" >&2; fail "no healthy answer within 30 s"; }
ok "GET /api/health answers 2xx after $(($(date +%s) - S0))s: $(curl -sS --max-time 2 "http://127.0.0.1:$PORT/api/health")"
[[ -f "$DATA/data.db" && "$(stat -c %u "$DATA/data.db")" == 65532 ]] || fail "no data.db owned by 65532"
ok "data.db created by uid 65532"

expect_exit() { # expected-code description command...
  local expected=$1 what=$2 rc=0
  shift 2
  timeout 30 "$@" >"$WORK/hc.out" 2>&1 || rc=$?
  if [[ $rc -ne $expected ]]; then
    sed 's/^/   | /' "$WORK/hc.out" >&2
    fail "$what: exit $rc, expected $expected"
  fi
  ok "$what: exit $rc"
}

step "poker healthcheck from the rootfs"
expect_exit 0 "healthcheck --url http://127.0.0.1:$PORT/api/health" \
  "$POKER" healthcheck --url "http://127.0.0.1:$PORT/api/health"
# Exactly the image's HEALTHCHECK: no flags, the address from LITEBASE_HTTP, whose
# 0.0.0.0 becomes 127.0.0.1.
expect_exit 0 "healthcheck with LITEBASE_HTTP=0.0.0.0:$PORT (as in the image)" \
  env -i LITEBASE_HTTP="0.0.0.0:$PORT" "$POKER" healthcheck
expect_exit 1 "healthcheck --url on closed port $CLOSED_PORT" \
  "$POKER" healthcheck --url "http://127.0.0.1:$CLOSED_PORT/api/health"
expect_exit 1 "healthcheck with LITEBASE_HTTP=0.0.0.0:$CLOSED_PORT (closed)" \
  env -i LITEBASE_HTTP="0.0.0.0:$CLOSED_PORT" "$POKER" healthcheck

step "SIGTERM: graceful stop"
kill -TERM "$SERVER_PID"
STOP_RC=""
for _ in $(seq 1 200); do # at most 40 s (shutdown timeout 30 s)
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    STOP_RC=0
    wait "$SERVER_PID" || STOP_RC=$?
    break
  fi
  sleep 0.2
done
[[ -n "$STOP_RC" ]] || fail "still running 40 s after SIGTERM"
SERVER_PID=""
[[ "$STOP_RC" == 0 ]] || { cat "$WORK/server.log" >&2; fail "exit code $STOP_RC after SIGTERM"; }
ok "exited 0"

step "summary"
echo "   musl release build: ${BUILD_SECS}s; binary $(stat -c %s "$BIN") bytes"
echo "   image $IMAGE: $SIZE_BYTES bytes"
