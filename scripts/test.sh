#!/usr/bin/env bash
# The whole test suite of govmail. Installs from Debian's packages what the tests
# need when it is missing, then runs vet and every Go test (end-to-end ones start
# real servers on 127.0.0.1). Long soak and fuzz runs are behind GOVMAIL_LONG=1.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
# Postfix is the foreign MTA peer of the queue tests (a private instance in a
# temporary directory). "No configuration" keeps the package from setting up
# and starting a system mail service.
if [ ! -x /usr/sbin/postfix ]; then
  need+=(postfix)
  if [ "$(id -u)" = 0 ]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  fi
fi
# Independent DKIM implementations: dkimpy verifies our signatures, OpenDKIM signs mail we verify.
/usr/bin/python3 -c 'import dkim, dns.resolver' >/dev/null 2>&1 || need+=(python3-dkim)
command -v opendkim-testmsg >/dev/null 2>&1 || need+=(opendkim-tools)
# Virus and spam scanning (Điều 4.2e, R4.1, R4.2): the tests start a private clamd
# and rspamd through scripts/services/*.sh, offline, with test signatures only.
if ! command -v clamd >/dev/null 2>&1 && [ ! -x /usr/sbin/clamd ]; then
  need+=(clamav-daemon clamdscan)
fi
[ -f /usr/share/clamav-testfiles/clam.exe ] || need+=(clamav-testfiles)
command -v rspamd >/dev/null 2>&1 || need+=(rspamd)
# PostgreSQL backend (DESIGN decision 4): the tests initdb a private cluster in a
# temporary directory on a loopback port (internal/testutil/postgres.go) and
# never use the package's system cluster.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# DANE (RFC 7672) needs a DNSSEC-validating resolver: the tests run a private
# unbound (scripts/services/unbound.sh) in front of their signed test zones.
[ -x /usr/sbin/unbound ] || need+=(unbound)
# Bayes learning (moving mail into or out of Junk) keeps its statistics in Redis.
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# Webmail browser tests (internal/web) drive Debian's headless Chromium.
[ -x /usr/bin/chromium ] || need+=(chromium)
# The LDAP directory (N3, internal/ldapd) is checked with OpenLDAP's ldapsearch.
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
# The migration tests (internal/migrate) import from a private Dovecot started in a temp dir.
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing (install with apt-get): ${need[*]}" >&2
  fi
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt -l lists unformatted files:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
go test -count=1 -timeout 15m "$@" ./...
