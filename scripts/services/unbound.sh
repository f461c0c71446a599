#!/usr/bin/env bash
# Runs a private unbound for tests: a DNSSEC-validating resolver on a loopback
# port that sends every query for one zone to the test's authoritative server
# (a stub zone) and trusts the keys the test gives it, so that DANE (RFC 7672)
# is tested against real validation: signed answers get the AD bit, broken
# signatures get SERVFAIL, unsigned zones are insecure. Nothing else resolves:
# there are no root hints to reach and no root trust anchor.
#
# usage: unbound.sh run DIR PORT ZONE STUB_ADDR   prints UNBOUND_ADDR=127.0.0.1:PORT,
#                      then becomes unbound in the foreground (exec), so that the
#                      caller (internal/testutil) owns and reaps it
# Environment: UNBOUND_TRUST_ANCHORS, DNSKEY records one per line (trust anchors).
set -euo pipefail

SERVICE=unbound.sh
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run() {
  local dir=$1 port=$2 zone=$3 stub=$4
  install_missing unbound unbound
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  {
    cat <<CONF
server:
  interface: 127.0.0.1
  port: $port
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: "$dir/unbound.pid"
  use-syslog: no
  logfile: "$dir/unbound.log"
  verbosity: 1
  val-log-level: 2
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "validator iterator"
  qname-minimisation: no
  harden-below-nxdomain: no
  aggressive-nsec: no
  # Tests change records between steps: keep nothing for long.
  cache-max-ttl: 1
  cache-max-negative-ttl: 1
  val-bogus-ttl: 1
  infra-host-ttl: 1
  num-threads: 1
  # "test." and other special-use names (RFC 6761) are answered NXDOMAIN by
  # default; the stub zone must reach the test's server instead.
  local-zone: "$zone" nodefault
CONF
    while IFS= read -r anchor; do
      [ -n "$anchor" ] && printf '  trust-anchor: "%s"\n' "$anchor"
    done <<<"${UNBOUND_TRUST_ANCHORS:-}"
    cat <<CONF
stub-zone:
  name: "$zone"
  stub-addr: ${stub/:/@}
remote-control:
  control-enable: no
CONF
  } >"$dir/unbound.conf"
  unbound-checkconf "$dir/unbound.conf" >&2 || die "bad configuration $dir/unbound.conf"
  echo "UNBOUND_ADDR=127.0.0.1:$port"
  exec unbound -d -c "$dir/unbound.conf" >>"$dir/unbound.log" 2>&1
}

case "${1:-}" in
run)
  [ $# -ge 5 ] || die "usage: $0 run DIR PORT ZONE STUB_ADDR"
  run "$2" "$3" "$4" "$5"
  ;;
*) die "usage: $0 run DIR PORT ZONE STUB_ADDR" ;;
esac
