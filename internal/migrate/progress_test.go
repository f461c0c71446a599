package migrate

import (
	"strings"
	"testing"
	"time"

	"govmail/internal/clock"
)

// Progress shows accounts done, messages and bytes, rates and the time left,
// extrapolated to accounts not started yet.
func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC)
	p := &Progress{Started: start}
	p.AccountsTotal.Store(4)
	p.AccountsStarted.Store(2)
	p.AccountsDone.Store(1)
	p.plan(1000, 0) // two accounts found 1000 messages: four will have about 2000
	p.add(500, 50e6)
	got := p.Line(start.Add(10 * time.Second))
	for _, want := range []string{"1/4", "500/2000", "50.0 MB", "50.0 thư/s", "5.00 MB/s", "~30s"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	var b strings.Builder
	stop := p.Run(&b, clock.NewFake(start.Add(10*time.Second)), time.Hour)
	stop()
	stop()
	if strings.Count(b.String(), "\n") != 1 {
		t.Errorf("stop prints the last line once: %q", b.String())
	}
}
