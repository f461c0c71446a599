package delivery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"govmail/internal/store"
	"govmail/internal/store/sqlite"
)

func benchMessage(size int) []byte {
	w := strings.Fields("cuộc họp giao ban tháng báo cáo tổng kết công văn đến đi sở khoa học công nghệ ủy ban nhân dân tỉnh sơn la")
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nSubject: Báo cáo\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		b.WriteString(w[i%len(w)])
		if i%12 == 11 {
			b.WriteString("\r\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return []byte(b.String())
}

func BenchmarkPrepare(b *testing.B) {
	for _, size := range []int{2 << 10, 100 << 10} {
		raw := benchMessage(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				Prepare(raw, time.Now())
			}
		})
	}
}

func BenchmarkStoreDeliver(b *testing.B) {
	for _, size := range []int{2 << 10, 100 << 10} {
		raw := benchMessage(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlite.Open(ctx, sqlite.Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			a := &store.Account{Address: "a@sonla.gov.vn", QuotaBytes: 1 << 40}
			st.CreateAccount(ctx, a)
			b.SetBytes(int64(len(raw)))
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					r := append([]byte(fmt.Sprintf("X-N: %d %p\r\n", i, pb)), raw...)
					nm, _ := Prepare(r, time.Now())
					if _, err := st.Deliver(ctx, nm, []store.DeliveryTarget{{AccountID: a.ID}}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
