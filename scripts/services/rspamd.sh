#!/usr/bin/env bash
# Runs a private rspamd for tests, offline: its own directory, a scanner worker and
# a controller worker on loopback ports, all DNS sent to an unused loopback port
# (nothing resolves, nothing leaves the machine) and the modules that only work
# with the network switched off. The hyperscan cache, which takes ~8 s to build on
# the first start, is kept in a stable place ($RSPAMD_HS_CACHE, default
# /var/tmp/govmail-rspamd-cache) so later starts take under a second.
#
# usage: rspamd.sh start DIR [PORT CONTROLLER_PORT]  starts rspamd in the background,
#                      waits until it answers, writes DIR/daemon.pid and prints
#                      RSPAMD_URL=http://127.0.0.1:PORT,
#                      RSPAMD_CONTROLLER_URL=http://127.0.0.1:CONTROLLER_PORT,
#                      RSPAMD_PID=PID
#        rspamd.sh stop DIR                   stops what start started
#        rspamd.sh run DIR [PORT CONTROLLER_PORT]  prints the two URLs, then becomes
#                      rspamd in the foreground (exec), so that the caller
#                      (internal/testutil) owns and reaps it
# Environment: RSPAMD_PASSWORD, the controller password (default: none, and then
# only 127.0.0.1 may use the controller); RSPAMD_REDIS=auto|yes|no, whether to run
# a private redis-server for Bayes learning (auto: when installed);
# GOVMAIL_SERVICE_PARENT, a PID whose exit also stops an rspamd made by start.
set -euo pipefail

SERVICE=rspamd.sh
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The port DNS goes to. Nothing listens there, so every query fails at once with
# "connection refused" instead of reaching the machine's resolver.
DEAD_DNS=127.0.0.1:53530

# prepare writes DIR/rspamd.conf and DIR/local.d; sets DIR_ABS, PORT, CPORT and
# RSPAMD_ARGS.
prepare() {
  local dir=$1
  PORT=${2:-}
  CPORT=${3:-}
  install_missing rspamd
  mkdir -p "$dir/db" "$dir/local.d"
  DIR_ABS=$(cd "$dir" && pwd)
  dir=$DIR_ABS
  [ -n "$PORT" ] || PORT=$(free_port)
  [ -n "$CPORT" ] || CPORT=$(free_port)
  [ "$PORT" != "$CPORT" ] || die "scanner and controller ports must differ"

  local cache=${RSPAMD_HS_CACHE:-/var/tmp/govmail-rspamd-cache}
  [ "$(id -u)" = 0 ] || cache=${RSPAMD_HS_CACHE:-/var/tmp/govmail-rspamd-cache-$(id -u)}
  mkdir -p "$cache"

  # Our own top-level file instead of /etc/rspamd/rspamd.conf: it binds only the
  # two workers we need, on our ports (the packaged one binds fixed ports 11332-11334,
  # which two test runs would fight over), and controls the controller's password.
  local pw=""
  if [ -n "${RSPAMD_PASSWORD:-}" ]; then
    case $RSPAMD_PASSWORD in *'"'* | *'\'*) die "RSPAMD_PASSWORD must not contain quotes or backslashes" ;; esac
    pw="password = \"$RSPAMD_PASSWORD\"; enable_password = \"$RSPAMD_PASSWORD\";"
  else
    pw='secure_ip = "127.0.0.1";'
  fi
  cat >"$dir/rspamd.conf" <<CONF
.include "\$CONFDIR/common.conf"

options {
    pidfile = "\$RUNDIR/rspamd.pid";
    .include "\$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "\$LOCAL_CONFDIR/local.d/options.inc"
}

logging {
    type = "file";
    filename = "\$LOGDIR/rspamd.log";
    .include "\$CONFDIR/logging.inc"
    level = "notice";
}

worker "normal" {
    bind_socket = "127.0.0.1:$PORT";
    count = 1;
    .include "\$CONFDIR/worker-normal.inc"
}

worker "controller" {
    bind_socket = "127.0.0.1:$CPORT";
    count = 1;
    static_dir = "\${WWWDIR}";
    $pw
}
CONF

  cat >"$dir/local.d/options.inc" <<CONF
dns { nameserver = ["$DEAD_DNS"]; timeout = 0.2s; retransmits = 1; }
hs_cache_dir = "$cache/";
CONF
  # Vietnamese text mixes Latin letters with Vietnamese ones (ư, ơ, ạ…), which
  # rspamd's chartable rule scores as an obfuscation trick (R_MIXED_CHARSET,
  # 5 points): in a Vietnamese deployment it would junk ordinary official mail.
  # Production configurations need the same override (docs/operations.md).
  cat >"$dir/local.d/headers_group.conf" <<'CONF'
symbols {
  "R_MIXED_CHARSET" { weight = 0.0; }
}
CONF
  # Modules whose only work is asking the network (RBLs, fuzzy hash servers, URL
  # and phishing feeds, ASN lookups) or that would send mail-derived data out.
  local m
  for m in fuzzy_check rbl surbl emails phishing dkim_signing url_redirector asn multimap \
    rspamd_update metric_exporter; do
    echo 'enabled = false;' >"$dir/local.d/$m.conf"
  done

  # Bayes (what /learnspam and /learnham teach) keeps its statistics only in
  # Redis; without it rspamd answers learn requests but stores nothing. When
  # redis-server is installed, a private one on a unix socket serves the Bayes
  # classifier only (other modules stay without Redis, as in the offline setup).
  REDIS=0
  if [ "${RSPAMD_REDIS:-auto}" != no ] && command -v redis-server >/dev/null 2>&1; then
    REDIS=1
    echo "servers = \"$dir/redis.sock\";" >"$dir/local.d/classifier-bayes.conf"
  elif [ "${RSPAMD_REDIS:-auto}" = yes ]; then
    die "RSPAMD_REDIS=yes but redis-server is not installed"
  fi

  RSPAMD_ARGS=(-f -c "$dir/rspamd.conf"
    --var=LOCAL_CONFDIR="$dir" --var=RUNDIR="$dir" --var=DBDIR="$dir/db" --var=LOGDIR="$dir")
  if [ "$(id -u)" = 0 ]; then
    # rspamd refuses to run its workers as root; _rspamd comes with the package.
    chown -R _rspamd:_rspamd "$dir" "$cache"
    chmod 755 "$dir"
    RSPAMD_ARGS+=(-u _rspamd -g _rspamd)
  fi
  rm -f "$dir/rspamd.pid"
}

# start_redis runs redis-server for Bayes in DIR, without persistence, and stops
# it when the process $2 (rspamd's main process) is gone: rspamd cannot stop it.
start_redis() {
  local dir=$1 owner=$2 deadline
  [ "$REDIS" = 1 ] || return 0
  rm -f "$dir/redis.sock"
  # Permission 777 on the socket: rspamd's workers run as _rspamd.
  setsid redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 777 \
    --save '' --appendonly no --dir "$dir" --logfile "$dir/redis.log" \
    </dev/null >/dev/null 2>&1 &
  REDIS_PID=$!
  echo "$REDIS_PID" >"$dir/redis.pid"
  (
    while alive "$owner" && alive "$REDIS_PID"; do sleep 1; done
    kill "$REDIS_PID" 2>/dev/null || true
  ) </dev/null >/dev/null 2>&1 &
  deadline=$((SECONDS + 20))
  until [ -S "$dir/redis.sock" ]; do
    alive "$REDIS_PID" || die "redis-server exited during start-up; see $dir/redis.log"
    [ $SECONDS -lt "$deadline" ] || die "redis-server not ready after 20s"
    sleep 0.02
  done
}

run() {
  prepare "$1" "${2:-}" "${3:-}"
  # exec keeps our PID, so $$ is rspamd's main process from here on.
  start_redis "$DIR_ABS" $$
  echo "RSPAMD_URL=http://127.0.0.1:$PORT"
  echo "RSPAMD_CONTROLLER_URL=http://127.0.0.1:$CPORT"
  [ "$REDIS" = 0 ] || echo "RSPAMD_REDIS_PID=$REDIS_PID"
  exec rspamd "${RSPAMD_ARGS[@]}" </dev/null >>"$DIR_ABS/rspamd.out" 2>&1
}

# ping asks the controller's /ping over bash's /dev/tcp (no curl needed).
ping() {
  local reply
  reply=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    timeout 2 cat <&3
  ) || return 1
  [[ $reply == *pong* ]]
}

start() {
  prepare "$1" "${2:-}" "${3:-}"
  local dir=$DIR_ABS pid
  setsid rspamd "${RSPAMD_ARGS[@]}" </dev/null >>"$dir/rspamd.out" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/daemon.pid"
  watch_parent "$dir" "$pid"
  start_redis "$dir" "$pid"
  # The first start compiles hyperscan databases (~8 s, longer on a busy machine).
  local deadline=$((SECONDS + ${RSPAMD_START_TIMEOUT:-180}))
  until ping "$CPORT" && ping "$PORT"; do
    if ! alive "$pid"; then
      tail -20 "$dir/rspamd.out" "$dir/rspamd.log" >&2 2>/dev/null || true
      die "rspamd exited during start-up"
    fi
    if [ $SECONDS -ge "$deadline" ]; then
      stop "$dir"
      die "rspamd not ready after ${RSPAMD_START_TIMEOUT:-180}s"
    fi
    sleep 0.1
  done
  echo "RSPAMD_URL=http://127.0.0.1:$PORT"
  echo "RSPAMD_CONTROLLER_URL=http://127.0.0.1:$CPORT"
  echo "RSPAMD_PID=$pid"
  [ "$REDIS" = 0 ] || echo "RSPAMD_REDIS_PID=$REDIS_PID"
}

# stop sends TERM to the main process, which stops its workers; they take up to a
# few seconds to finish. Then the private redis, if one was started.
stop() {
  local dir=$1 pid deadline
  stop_daemon "$dir" 15
  if [ -f "$dir/redis.pid" ]; then
    pid=$(cat "$dir/redis.pid")
    kill "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while alive "$pid" && [ $SECONDS -lt "$deadline" ]; do sleep 0.05; done
    rm -f "$dir/redis.pid"
  fi
}

case "${1:-}" in
start)
  [ $# -ge 2 ] || die "usage: $0 start DIR [PORT CONTROLLER_PORT]"
  start "$2" "${3:-}" "${4:-}"
  ;;
run)
  [ $# -ge 2 ] || die "usage: $0 run DIR [PORT CONTROLLER_PORT]"
  run "$2" "${3:-}" "${4:-}"
  ;;
stop)
  [ $# -ge 2 ] || die "usage: $0 stop DIR"
  stop "$2"
  ;;
*) die "usage: $0 start DIR [PORT CONTROLLER_PORT] | stop DIR | run DIR [PORT CONTROLLER_PORT]" ;;
esac
