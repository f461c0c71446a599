package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"govmail/internal/store"
)

// TestLogSearchScale measures the transaction-log search of R11.3 on a large
// log (issue 7: "fast on 10 million rows"). It is long, so it runs only with
// GOVMAIL_LOG_ROWS set (e.g. 10000000); it reports medians.
func TestLogSearchScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GOVMAIL_LOG_ROWS"))
	if n <= 0 {
		t.Skip("set GOVMAIL_LOG_ROWS=10000000 to measure")
	}
	dir := os.Getenv("GOVMAIL_LOG_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var have int
	s.rdb.QueryRow(`SELECT count(*) FROM translog`).Scan(&have)
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	span := 180 * 24 * time.Hour
	if have < n {
		t0 := time.Now()
		r := rand.New(rand.NewPCG(1, 2))
		for done := have; done < n; {
			batch := min(100000, n-done)
			err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
				st, err := tx.Prepare(`INSERT INTO translog (time, time_offset, direction, proto, envelope_from, header_from, recipient, client_ip, size, message_id, auth_user, status, error)
					VALUES (?,25200,?,?,?,?,?,?,?,?,?,?,?)`)
				if err != nil {
					return err
				}
				defer st.Close()
				for i := 0; i < batch; i++ {
					k := done + i
					at := start.Add(span / time.Duration(n) * time.Duration(k))
					user := fmt.Sprintf("user%d.unit%d@sonla.gov.vn", r.IntN(100), r.IntN(90))
					peer := fmt.Sprintf("sender%d@example%d.org", r.IntN(50000), r.IntN(500))
					dir, from, to := "in", peer, user
					if k%3 == 0 {
						dir, from, to = "out", user, peer
					}
					status := store.LogDelivered
					if r.IntN(50) == 0 {
						status = store.LogRefused
					}
					if _, err := st.Exec(at.UnixMicro(), dir, "smtp", from, from, to, fmt.Sprintf("192.0.2.%d", r.IntN(250)), 2000+r.IntN(50000),
						fmt.Sprintf("<m%d@example.org>", k), "", status, ""); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			done += batch
		}
		t.Logf("inserted %d rows in %s", n-have, time.Since(t0).Round(time.Second))
	}
	cases := []struct {
		name string
		f    store.LogFilter
	}{
		{"by address, newest 100", store.LogFilter{Address: "user42.unit7@sonla.gov.vn", Limit: 100}},
		{"by address and month", store.LogFilter{Address: "user42.unit7@sonla.gov.vn", Since: start.Add(30 * 24 * time.Hour), Until: start.Add(60 * 24 * time.Hour), Limit: 100}},
		{"by message-id", store.LogFilter{MessageID: fmt.Sprintf("<m%d@example.org>", n/2), Limit: 10}},
		{"by IP and day", store.LogFilter{ClientIP: "192.0.2.7", Since: start.Add(90 * 24 * time.Hour), Until: start.Add(91 * 24 * time.Hour), Limit: 100}},
		{"refused, newest 100", store.LogFilter{Status: store.LogRefused, Limit: 100}},
		{"one day, first page", store.LogFilter{Since: start.Add(100 * 24 * time.Hour), Until: start.Add(101 * 24 * time.Hour), Limit: 100}},
	}
	for _, c := range cases {
		var ds []time.Duration
		var rows int
		for i := 0; i < 5; i++ {
			t0 := time.Now()
			res, err := s.SearchLog(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
			rows = len(res)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		t.Logf("%-26s rows %3d  median %8s", c.name, rows, ds[2].Round(10*time.Microsecond))
	}
}
