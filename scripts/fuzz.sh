#!/usr/bin/env bash
# Runs every Go fuzz target of the project for FUZZTIME each (default 30s).
# Not part of the CI suite (scripts/test.sh runs the seed corpora only); run it
# before a release and keep any crasher it finds under the package's testdata/.
#   FUZZTIME=5m ./scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-30s}
fail=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -h '^func Fuzz' "$dir"/*_test.go 2>/dev/null | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do
    echo "== $pkg $target ($t)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$t" "$pkg"; then
      fail=1
    fi
  done
done
exit $fail
