package testutil

import (
	"os"
	"testing"
)

// Missing ends a test that lacks something it needs (a program, a package, a
// service): it skips on a developer's machine and fails under CI (CI set),
// where scripts/test.sh must have provided it, so that a broken install never
// passes as a green run.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("under CI, scripts/test.sh must provide this: "+format, args...)
	}
	t.Skipf(format, args...)
}
