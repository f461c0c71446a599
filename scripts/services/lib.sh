# Shared by clamd.sh, rspamd.sh and unbound.sh (sourced, not run). The caller sets SERVICE,
# the name its messages start with.

# The Debian packages both test daemons need; one install brings them all, so
# that two scripts started in parallel do not each run apt-get.
SERVICE_PACKAGES="clamav-daemon clamdscan clamav-testfiles rspamd"

die() { echo "$SERVICE: $*" >&2; exit 1; }

# install_missing CMD [PACKAGES] installs the Debian packages (default
# SERVICE_PACKAGES) when CMD is not there. Tests of several packages start in
# parallel, so the install is serialised with flock (one lock file for every
# script) and re-checked under the lock.
install_missing() {
  local cmd=$1 packages=${2:-$SERVICE_PACKAGES}
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "$cmd is not installed; run scripts/test.sh as root, or apt-get install $packages"
  command -v apt-get >/dev/null 2>&1 || die "$cmd is not installed and there is no apt-get"
  exec 9>/var/lock/govmail-apt.lock
  flock 9
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "$SERVICE: installing $packages" >&2
    apt-get update -qq >&2
    # shellcheck disable=SC2086 # a word list on purpose
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
      --no-install-recommends $packages >&2
  fi
  flock -u 9
  exec 9>&-
}

# free_port returns a loopback TCP port nobody answers on. A probe, not a
# reservation: if another process takes it first, the daemon fails to bind and
# the caller sees it exit.
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# alive is kill -0 that also treats a zombie as dead: a daemon that exits before
# its parent reaps it (or under a PID 1 that reaps late) still answers kill -0.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# watch_parent DIR PID stops PID when GOVMAIL_SERVICE_PARENT exits. It polls once
# a second: a watchdog for aborted test runs, not part of any test.
watch_parent() {
  local dir=$1 pid=$2 parent=${GOVMAIL_SERVICE_PARENT:-}
  [ -n "$parent" ] || return 0
  (
    while alive "$parent" && alive "$pid"; do sleep 1; done
    kill "$pid" 2>/dev/null || true
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watch.pid"
}

# stop_daemon DIR GRACE ends the watchdog and the daemon in DIR/daemon.pid: TERM,
# then KILL if it is still there after GRACE seconds.
stop_daemon() {
  local dir=$1 grace=$2 pid deadline
  if [ -f "$dir/watch.pid" ]; then
    kill "$(cat "$dir/watch.pid")" 2>/dev/null || true
    rm -f "$dir/watch.pid"
  fi
  [ -f "$dir/daemon.pid" ] || return 0
  pid=$(cat "$dir/daemon.pid")
  if alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while alive "$pid"; do
      if [ $SECONDS -ge "$deadline" ]; then
        kill -9 "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.05
    done
  fi
  rm -f "$dir/daemon.pid"
}
