package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

// Issue 11: `govmail backup` takes a consistent copy while mail flows, and a
// restored system holds every message acknowledged before the backup began.
func TestBackupWhileMailFlows(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "backup.skhcn@sonla.gov.vn", pw)
	var acked sync.Map
	var seq atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := seq.Add(1)
				// Every third message is large enough to live in a blob file.
				body := fmt.Sprintf("Subject: tok%d\r\n\r\n%s\r\n", n, strings.Repeat("nội dung kiểm tra sao lưu\r\n", 1+int(n%3)*12000))
				if sendPlain(s.Addr("smtp"), "x@example.org", a.Address, body) == nil {
					acked.Store(n, true)
				}
			}
		}()
	}
	for seq.Load() < 30 {
		waitFor(t, "some traffic", func() bool { return seq.Load() >= 30 })
	}
	var before []int64
	acked.Range(func(k, _ any) bool { before = append(before, k.(int64)); return true })
	dst := filepath.Join(t.TempDir(), "backup")
	bs, err := sqlite.Backup(context.Background(), s.Cfg.DataDir, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	rs, err := sqlite.Restore(context.Background(), dst, restored)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	mb, _ := st.MailboxByName(ctx, a.ID, "INBOX")
	msgs, _, _ := st.Messages(ctx, mb.ID, false)
	have := map[string]bool{}
	re := regexp.MustCompile(`Subject: (tok\d+)`)
	for _, m := range msgs {
		raw, err := st.ReadBlob(ctx, m.BlobID)
		if err != nil {
			t.Fatalf("restored body unreadable: %v", err)
		}
		if x := re.FindSubmatch(raw); x != nil {
			have[string(x[1])] = true
		}
	}
	for _, n := range before {
		if !have[fmt.Sprintf("tok%d", n)] {
			t.Errorf("message tok%d, acknowledged before the backup, is not in the restored system", n)
		}
	}
	big := 0
	for _, m := range msgs {
		if m.Size > 256<<10 {
			big++
		}
	}
	if big == 0 {
		t.Error("no message large enough to live in a blob file: the test proved less than it says")
	}
	t.Logf("large messages %d; backup: %d messages, %d files %.1f MB; restored %d messages; %d acknowledged before the backup began", big, bs.Messages, bs.Blobs, float64(bs.Bytes)/(1<<20), rs.Messages, len(before))
}
