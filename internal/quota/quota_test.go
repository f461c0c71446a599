package quota

import (
	"testing"

	"govmail/internal/store"
)

// R11.6: the level is the highest threshold usage has reached, whatever order
// the thresholds are given in.
func TestLevel(t *testing.T) {
	for _, ts := range [][]int{{80, 90}, {90, 80}} {
		w := &Watcher{Thresholds: ts}
		for _, c := range []struct {
			used, quota int64
			want        int
		}{{0, 100, 0}, {79, 100, 0}, {80, 100, 80}, {89, 100, 80}, {90, 100, 90}, {150, 100, 90}, {5, 0, 0}} {
			if got := w.level(&store.Account{UsedBytes: c.used, QuotaBytes: c.quota}); got != c.want {
				t.Errorf("thresholds %v, %d of %d: level %d, want %d", ts, c.used, c.quota, got, c.want)
			}
		}
	}
}
