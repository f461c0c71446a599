package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"govmail/internal/bench"
	"govmail/internal/testutil"
)

// TestBenchPostgres runs `govmail bench` against PostgreSQL with one and two
// nodes, beside SQLite, in one run (issue 10). It is long: GOVMAIL_BENCH_PG=1.
func TestBenchPostgres(t *testing.T) {
	if os.Getenv("GOVMAIL_BENCH_PG") == "" {
		t.Skip("set GOVMAIL_BENCH_PG=1 to measure")
	}
	bin := buildBinary(t)
	for _, c := range []struct {
		name  string
		pg    bool
		nodes int
	}{{"sqlite", false, 1}, {"postgres-1", true, 1}, {"postgres-2", true, 2}} {
		var out strings.Builder
		o := bench.Options{Binary: bin, Quick: os.Getenv("GOVMAIL_LONG") == "", Runs: 1, Nodes: c.nodes}
		if c.pg {
			o.DSN = testutil.StartPostgres(t) // a fresh cluster: an empty database
		}
		if err := bench.Run(context.Background(), o, &out); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		t.Logf("%s:\n%s", c.name, out.String())
	}
}
