package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"govmail/internal/delivery"
	"govmail/internal/store"
)

// fill puts n small distinct messages into mb, eight writers at a time so the
// store's group commit shares the syncs.
func fill(t testing.TB, e *env, mb *store.Mailbox, n int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				raw := fmt.Sprintf("From: Người gửi %d <nguoi%d@sonla.gov.vn>\r\nSubject: Công văn số %d/UBND\r\nDate: Mon, 09 Mar 2026 08:30:00 +0700\r\n\r\nNội dung %d\r\n", i, i, i, i)
				nm, _ := delivery.Prepare([]byte(raw), testStart.Add(time.Duration(i)*time.Second))
				if _, err := e.st.Append(ctx, mb.ID, nm, nil); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A page of a 50,000-message folder reads the UID list without metadata and only
// 50 rows with it: the first view (cold cache) and later ones stay fast.
func TestLargeFolderPageIsFast(t *testing.T) {
	if testing.Short() || os.Getenv("GOVMAIL_LONG") == "" && os.Getenv("GOVMAIL_WEB_LARGE") == "" {
		t.Skip("fills a 50,000-message folder: set GOVMAIL_LONG=1 (or GOVMAIL_WEB_LARGE=1)")
	}
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	inbox := e.mailbox(a, "INBOX")
	start := time.Now()
	fill(t, e, inbox, 50000)
	t.Logf("filled 50,000 messages in %v", time.Since(start))
	b := e.browser()
	b.login(a.Address, goodPassword)
	path := fmt.Sprintf("/mail/%d", inbox.ID)
	e.srv.cache.invalidate(inbox.ID) // the login's redirect showed the folder already
	start = time.Now()
	r := b.get(path)
	cold := time.Since(start)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "1–50 trong 50000 thư", "Công văn số 49999/UBND")
	var warm time.Duration
	for _, p := range []string{path + "?page=2", path + "?page=500", path + "?page=1000", path} {
		start = time.Now()
		r = b.get(p)
		warm = max(warm, time.Since(start))
		r.wantStatus(t, http.StatusOK)
	}
	mustContain(t, r.body, "Công văn số 49950/UBND")
	t.Logf("50,000-message folder: first page %v, later pages at most %v", cold, warm)
	if cold > 2*time.Second || warm > 300*time.Millisecond {
		t.Errorf("too slow: first %v, later %v", cold, warm)
	}
}

func BenchmarkFolderPage(b *testing.B) {
	e := newEnv(b, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	inbox := e.mailbox(a, "INBOX")
	fill(b, e, inbox, 5000)
	br := e.browser()
	br.login(a.Address, goodPassword)
	path := fmt.Sprintf("/mail/%d?page=37", inbox.ID)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		br.get(path)
	}
}
