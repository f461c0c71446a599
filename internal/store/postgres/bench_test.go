package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

// BenchmarkDeliver measures concurrent deliveries of a 4 KB message, each
// durable before it returns, on SQLite and on PostgreSQL (a cluster of its own
// with fsync on, so both pay for durable commits); compare the msg/s figures
// of the two rather than either alone. One node here: the NOTIFY of the change
// feed is part of every PostgreSQL delivery.
func BenchmarkDeliver(b *testing.B) {
	body := append([]byte("From: a@example.org\r\nSubject: bench\r\n\r\n"), bytes.Repeat([]byte("Kính gửi các đơn vị. "), 180)...)
	run := func(b *testing.B, s store.Store) {
		ctx := context.Background()
		var ids []int64
		for i := 0; i < 16; i++ {
			a := &store.Account{Address: fmt.Sprintf("bench%d@sonla.gov.vn", i), QuotaBytes: 1 << 40}
			if err := s.CreateAccount(ctx, a); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		var n atomic.Int64
		b.SetParallelism(4)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				// A distinct body each time, as real mail is.
				raw := append(fmt.Appendf(nil, "Message-ID: <%d@bench>\r\n", i), body...)
				out, err := s.Deliver(ctx, &store.NewMessage{Raw: raw, SearchText: "kinh gui cac don vi", InternalDate: time.Now()},
					[]store.DeliveryTarget{{AccountID: ids[i%int64(len(ids))]}})
				if err == nil && out[0].Err != nil {
					err = out[0].Err
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
	}
	b.Run("sqlite", func(b *testing.B) {
		s, err := sqlite.Open(context.Background(), sqlite.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, s)
	})
	c, err := testutil.StartPostgresCluster(testutil.PostgresOptions{Durable: true})
	if errors.Is(err, testutil.ErrNoPostgres) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Stop)
	b.Run("postgres", func(b *testing.B) {
		// A fresh database each round: the benchmark calls this with growing b.N.
		s, err := postgres.Open(context.Background(), postgres.Options{DSN: c.Database(b), MaxConns: 16})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, s)
	})
}
