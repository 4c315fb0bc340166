#!/usr/bin/env bash
# A shard's standby: watches the primary's health and, once it has failed long
# enough, takes the primary out of every HAProxy, restores the shard from its
# Litestream replica into an empty directory and serves it, replicating onward
# to the same place. HAProxy sends the shard's traffic to it as soon as its
# health check passes (it is the `backup` server of the shard's backend).
#
#   POKER_SHARD=1 PRIMARY_URL=http://10.0.1.11:8090 POKER_HTTP=0.0.0.0:8090 \
#   POKER_DIR=/var/lib/poker HAPROXY_ADMINS="10.0.0.5:9999 10.0.0.6:9999" \
#   LITESTREAM_CONFIG=/etc/litestream.yml deploy/cluster/standby.sh
#
# POKER_SHARD        the shard this standby covers (the primary's POKER_SHARD).
# PRIMARY_URL        the primary's base URL; its /api/health is polled.
# POKER_HTTP         where this node serves once it takes over (host:port).
# POKER_DIR          this node's data directory; must hold no database yet.
# LITESTREAM_CONFIG  deploy/litestream.yml, with the shard's LITESTREAM_* variables
#                    in the environment (LITESTREAM_PATH names the shard's replica;
#                    LITESTREAM_DB_PATH is set here to POKER_DIR/data.db).
# HAPROXY_ADMINS     the runtime APIs (host:port) of every HAProxy instance, where
#                    the dead primary is put in maintenance so that it gets no more
#                    traffic even if it comes back (optional).
# STANDBY_FAILS      failed checks in a row that mean "dead" (default 3).
# STANDBY_INTERVAL   seconds between checks (default 1).
# STANDBY_SETTLE     whole seconds the replica's position must stay unchanged
#                    before the restore (default 3): if only the process died and
#                    its disk survives, the primary's Litestream is still shipping
#                    its last writes (its sync-interval is 1 s, longer on a busy
#                    machine); restoring once the replica has stopped moving loses
#                    no acknowledged write.
# STANDBY_MAX_WAIT   seconds to wait for that at the most (default 120): a replica
#                    that never settles is restored as it is then.
# POKER_BIN, LITESTREAM_BIN, CURL_BIN  the programs (default: from PATH).
#
# The old primary must not serve this shard again: it stays in maintenance in
# HAProxy until an operator has turned it into the new standby (empty data
# directory, this script) and put it back with `set server shard_N/primary state
# ready` on each HAProxy's runtime API. See deploy/cluster/README.md.
set -euo pipefail

: "${POKER_SHARD:?POKER_SHARD is required}"
: "${PRIMARY_URL:?PRIMARY_URL is required}"
: "${POKER_HTTP:?POKER_HTTP is required}"
: "${POKER_DIR:?POKER_DIR is required}"
: "${LITESTREAM_CONFIG:?LITESTREAM_CONFIG is required}"
FAILS=${STANDBY_FAILS:-3}
INTERVAL=${STANDBY_INTERVAL:-1}
SETTLE=${STANDBY_SETTLE:-3}
MAX_WAIT=${STANDBY_MAX_WAIT:-120}
[[ $SETTLE =~ ^[0-9]+$ && $MAX_WAIT =~ ^[0-9]+$ ]] || {
  echo "STANDBY_SETTLE and STANDBY_MAX_WAIT are whole seconds" >&2; exit 2; }
POKER_BIN=${POKER_BIN:-poker}
LITESTREAM_BIN=${LITESTREAM_BIN:-litestream}
CURL_BIN=${CURL_BIN:-curl}
export LITESTREAM_DB_PATH="$POKER_DIR/data.db"

say() { printf 'standby shard %s: %s\n' "$POKER_SHARD" "$*"; }

# The marker a takeover leaves: this node is the shard's primary from then on, and
# a restart of this script (a reboot, a crash of poker) serves the shard again.
TOOK_OVER="$POKER_DIR/.took-over"

serve() {
  # Litestream runs poker as its child and replicates to the shard's replica.
  exec "$LITESTREAM_BIN" replicate -config "$LITESTREAM_CONFIG" \
    -exec "$POKER_BIN serve --dir $POKER_DIR --http $POKER_HTTP"
}

if [[ -e $TOOK_OVER && -e $LITESTREAM_DB_PATH ]]; then
  say "this node took over the shard before: serving it on $POKER_HTTP"
  serve
fi
if [[ -e $LITESTREAM_DB_PATH ]]; then
  say "$LITESTREAM_DB_PATH exists: a standby starts from an empty directory" >&2
  exit 2
fi

say "watching $PRIMARY_URL/api/health every ${INTERVAL}s"
failed=0
while (( failed < FAILS )); do
  if "$CURL_BIN" -fsS -m 2 -o /dev/null "$PRIMARY_URL/api/health" 2>/dev/null; then
    failed=0
  else
    failed=$((failed + 1))
  fi
  sleep "$INTERVAL"
done
t0=$(date +%s%N)
say "the primary failed $FAILS checks in a row: taking over"

# Out of service everywhere first, so a primary that comes back serves no one.
# One command on an HAProxy runtime API (host, port, command), bounded in time
# even when the host does not answer at all.
haproxy_command() {
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "%s\n" "$3" >&3 && cat <&3' _ "$1" "$2" "$3"
}
for admin in ${HAPROXY_ADMINS:-}; do
  host=${admin%:*}; port=${admin##*:}
  command="set server shard_$POKER_SHARD/primary state maint; set server any/shard_${POKER_SHARD}_primary state maint"
  if answer=$(haproxy_command "$host" "$port" "$command" 2>&1); then
    say "HAProxy $admin: primary in maintenance${answer:+ ($answer)}"
  else
    say "HAProxy $admin: runtime API unreachable; the primary stays in its rotation" >&2
  fi
done

# The replica's position: the highest transaction id of its LTX files, any
# level (fixed-width hex, so the text order is the numeric one).
replica_position() {
  "$LITESTREAM_BIN" ltx -config "$LITESTREAM_CONFIG" -level all "$LITESTREAM_DB_PATH" 2>/dev/null |
    awk 'NR > 1 { print $3 }' | sort | tail -n 1
}
last="" stable=0 waited=0
while (( waited < MAX_WAIT )); do
  position=$(replica_position || true)
  if [[ -n $position && $position == "$last" ]]; then
    stable=$((stable + 1))
  else
    stable=0
    last=$position
  fi
  (( stable >= SETTLE )) && break
  sleep 1
  waited=$((waited + 1))
done
say "the replica is at transaction ${last:-none} (unchanged for ${stable}s, ${waited}s waited)"
mkdir -p "$POKER_DIR"
"$LITESTREAM_BIN" restore -config "$LITESTREAM_CONFIG" -o "$LITESTREAM_DB_PATH" "$LITESTREAM_DB_PATH"
touch "$TOOK_OVER"
t1=$(date +%s%N)
say "restored $LITESTREAM_DB_PATH in $(( (t1 - t0) / 1000000 )) ms; serving on $POKER_HTTP"
serve
