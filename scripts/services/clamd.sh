#!/usr/bin/env bash
# Runs a private ClamAV clamd for tests: its own directory, a unix socket and a
# loopback TCP port, and a tiny signature database written here, so that nothing is
# ever downloaded (no freshclam) and the verdicts are known in advance:
#   Local.Eicar-Test-Hash / Local.Eicar-Test-Body  the EICAR test file
#   Local.ClamAV-Test-File-Hash                    clamav-testfiles' clam.exe
#   Local.Govmail-Test-Signature                   the text GOVMAIL-TEST-VIRUS-SIGNATURE
# (clamd reports custom signatures with the suffix .UNOFFICIAL.)
#
# usage: clamd.sh start DIR [TCP_PORT]  starts clamd in the background, waits until
#                                        its socket is up, writes DIR/daemon.pid and
#                                        prints CLAMD_ADDR=unix:DIR/clamd.sock,
#                                        CLAMD_TCP=127.0.0.1:PORT, CLAMD_PID=PID
#        clamd.sh stop DIR               stops what start started
#        clamd.sh run DIR [TCP_PORT]     prints CLAMD_ADDR and CLAMD_TCP, then becomes
#                                        clamd in the foreground (exec), so that the
#                                        caller (internal/testutil) owns and reaps it
# Environment: CLAMD_STREAM_MAX (default 40M), the largest stream clamd accepts;
# GOVMAIL_SERVICE_PARENT, a PID whose exit also stops a clamd made by start (so an
# aborted test run does not leave a daemon behind).
set -euo pipefail

SERVICE=clamd.sh
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# prepare writes the database and clamd.conf into DIR; sets DIR_ABS and PORT.
prepare() {
  local dir=$1
  PORT=${2:-}
  install_missing clamd
  mkdir -p "$dir/db"
  DIR_ABS=$(cd "$dir" && pwd)
  dir=$DIR_ABS
  [ -n "$PORT" ] || PORT=$(free_port)
  # Unix socket paths are limited to 108 bytes.
  [ ${#dir} -lt 90 ] || die "directory path too long for a unix socket: $dir"

  # md5:size:name; 44d886… is the md5 of the 68-byte EICAR file.
  echo '44d88612fea8a8f36de82e1278abb02f:68:Local.Eicar-Test-Hash' >"$dir/db/local.hdb"
  local f=/usr/share/clamav-testfiles/clam.exe
  if [ -f "$f" ]; then
    echo "$(md5sum "$f" | cut -d' ' -f1):$(stat -c %s "$f"):Local.ClamAV-Test-File-Hash" >>"$dir/db/local.hdb"
  fi
  # name:target:offset:hex. Body signatures match anywhere in any file, also
  # inside what clamd decoded from MIME (base64 attachments).
  {
    echo "Local.Eicar-Test-Body:0:*:$(hex 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE')"
    echo "Local.Govmail-Test-Signature:0:*:$(hex 'GOVMAIL-TEST-VIRUS-SIGNATURE')"
  } >"$dir/db/local.ndb"

  cat >"$dir/clamd.conf" <<CONF
LocalSocket $dir/clamd.sock
LocalSocketMode 660
FixStaleSocket yes
TCPSocket $PORT
TCPAddr 127.0.0.1
DatabaseDirectory $dir/db
PidFile $dir/clamd.pid
Foreground yes
User $(id -un)
LogFile $dir/clamd.log
LogTime yes
ScanMail yes
ScanArchive yes
StreamMaxLength ${CLAMD_STREAM_MAX:-40M}
MaxFileSize ${CLAMD_STREAM_MAX:-40M}
MaxScanSize 100M
MaxThreads 4
ReadTimeout 30
CommandReadTimeout 10
SelfCheck 0
CONF
  # clamd drops to User and must still read its own directory.
  chmod 755 "$dir" "$dir/db"
  rm -f "$dir/clamd.sock" "$dir/clamd.pid"
}

run() {
  prepare "$1" "${2:-}"
  echo "CLAMD_ADDR=unix:$DIR_ABS/clamd.sock"
  echo "CLAMD_TCP=127.0.0.1:$PORT"
  # The redirections close our stdout in clamd, so the caller reading it sees EOF.
  exec clamd -c "$DIR_ABS/clamd.conf" </dev/null >>"$DIR_ABS/clamd.out" 2>&1
}

start() {
  prepare "$1" "${2:-}"
  local dir=$DIR_ABS pid
  # setsid: the daemon leaves the caller's process group, so a terminal's ^C does
  # not race our own stop. Its output goes to a file, never to our stdout, which
  # the caller reads until EOF.
  setsid clamd -c "$dir/clamd.conf" </dev/null >>"$dir/clamd.out" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/daemon.pid"
  watch_parent "$dir" "$pid"

  # Ready when the socket exists: clamd creates it after loading the database.
  local deadline=$((SECONDS + ${CLAMD_START_TIMEOUT:-60}))
  until [ -S "$dir/clamd.sock" ]; do
    if ! alive "$pid"; then
      tail -20 "$dir/clamd.out" "$dir/clamd.log" >&2 2>/dev/null || true
      die "clamd exited during start-up"
    fi
    if [ $SECONDS -ge "$deadline" ]; then
      stop "$dir"
      die "clamd not ready after ${CLAMD_START_TIMEOUT:-60}s"
    fi
    sleep 0.05
  done
  echo "CLAMD_ADDR=unix:$dir/clamd.sock"
  echo "CLAMD_TCP=127.0.0.1:$PORT"
  echo "CLAMD_PID=$pid"
}

stop() { stop_daemon "$1" 10; }

case "${1:-}" in
start)
  [ $# -ge 2 ] || die "usage: $0 start DIR [TCP_PORT]"
  start "$2" "${3:-}"
  ;;
run)
  [ $# -ge 2 ] || die "usage: $0 run DIR [TCP_PORT]"
  run "$2" "${3:-}"
  ;;
stop)
  [ $# -ge 2 ] || die "usage: $0 stop DIR"
  stop "$2"
  ;;
*) die "usage: $0 start DIR [TCP_PORT] | stop DIR | run DIR [TCP_PORT]" ;;
esac
