package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"govmail/internal/bench"
)

// Issue 11: a bounded load — 16 SMTP connections and 200 IMAP sessions — with
// zero errors. CI runs it for a few seconds; GOVMAIL_LONG=1 runs the 5 minutes
// of the issue (`govmail bench -load 5m` does the same by hand).
func TestLoadBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a server")
	}
	d := 4 * time.Second
	if os.Getenv("GOVMAIL_LONG") != "" {
		d = 5 * time.Minute
	}
	var out strings.Builder
	res, err := bench.Load(context.Background(), bench.LoadOptions{Binary: buildBinary(t), Duration: d, IMAPConns: 200, SMTPConns: 16}, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if res.SMTPErrors+res.IMAPErrors > 0 {
		t.Fatalf("errors under load: %d SMTP, %d IMAP", res.SMTPErrors, res.IMAPErrors)
	}
	if res.Delivered == 0 || res.IMAPOps == 0 {
		t.Fatal("no traffic: the load test proved nothing")
	}
}
