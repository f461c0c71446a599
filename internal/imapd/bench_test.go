package imapd

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"govmail/internal/delivery"
	"govmail/internal/store"
)

// rawClient speaks IMAP by hand so that a benchmark measures the server and
// the wire, not a client library's parsing.
type rawClient struct {
	c   *tls.Conn
	r   *bufio.Reader
	seq int
}

func dialRaw(tb testing.TB, e *testEnv) *rawClient {
	tb.Helper()
	c, err := tls.Dial("tcp", e.tlsAddr, e.clientTLS)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	rc := &rawClient{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := rc.r.ReadString('\n'); err != nil { // greeting
		tb.Fatal(err)
	}
	return rc
}

// do sends one command and reads to its tagged reply, skipping literals; it
// returns the untagged lines (literal contents left out) and the tagged one.
func (rc *rawClient) do(cmd string) (untagged []string, tagged string, err error) {
	rc.seq++
	tag := "t" + strconv.Itoa(rc.seq)
	if _, err := io.WriteString(rc.c, tag+" "+cmd+"\r\n"); err != nil {
		return nil, "", err
	}
	var line strings.Builder
	for {
		l, err := rc.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return nil, "", err
		}
		line.Write(l)
		if err == bufio.ErrBufferFull {
			continue
		}
		s := line.String()
		// A line ending in {n} announces a literal of n bytes.
		if i := strings.LastIndexByte(s, '{'); i >= 0 && strings.HasSuffix(s, "}\r\n") {
			if n, perr := strconv.Atoi(strings.TrimSuffix(s[i+1:len(s)-3], "+")); perr == nil {
				if _, err := rc.r.Discard(n); err != nil {
					return nil, "", err
				}
				continue
			}
		}
		line.Reset()
		if strings.HasPrefix(s, tag+" ") {
			return untagged, s, nil
		}
		untagged = append(untagged, s)
	}
}

func (rc *rawClient) mustOK(tb testing.TB, cmd string) []string {
	tb.Helper()
	untagged, tagged, err := rc.do(cmd)
	if err != nil {
		tb.Fatalf("%s: %v", cmd, err)
	}
	if !strings.Contains(tagged, " OK") {
		tb.Fatalf("%s: %s", cmd, tagged)
	}
	return untagged
}

// fillMailbox appends n distinct Vietnamese messages, one in ten about a
// meeting ("họp"), through concurrent writers so the store's group commit
// batches them.
func fillMailbox(tb testing.TB, e *testEnv, mailboxID int64, n int) {
	tb.Helper()
	ctx := context.Background()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				subject := fmt.Sprintf("Báo cáo số %d về công tác chuyển đổi số", i)
				if i%10 == 0 {
					subject = fmt.Sprintf("Giấy mời họp giao ban số %d", i)
				}
				raw := simpleMessage(subject, fmt.Sprintf("Kính gửi các đơn vị trực thuộc. Văn bản số %d/UBND-KGVX. %s", i, strings.Repeat("Nội dung chi tiết. ", 20)))
				nm, _ := delivery.Prepare([]byte(raw), time.Now())
				if _, err := e.store.Append(ctx, mailboxID, nm, nil); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		tb.Fatal(firstErr)
	}
}

// BenchmarkMailbox10k measures the commands a client runs against a large
// folder: FETCH 1:* (FLAGS ENVELOPE) (budget: well under 50 ms for 10,000
// messages), SELECT, and accent-insensitive SEARCH. It reports per-message cost
// and the share of the 50 ms budget, so results compare across machines.
func BenchmarkMailbox10k(b *testing.B) {
	const n = 10000
	e := newEnv(b)
	a := e.account("an@sonla.gov.vn", pw, func(a *store.Account) { a.QuotaBytes = 1 << 40 })
	inbox := e.mailbox(a, "INBOX")
	fillMailbox(b, e, inbox.ID, n)
	rc := dialRaw(b, e)
	rc.mustOK(b, `LOGIN "an@sonla.gov.vn" "`+pw+`"`)
	if untagged := rc.mustOK(b, "SELECT INBOX"); !strings.Contains(strings.Join(untagged, ""), "* "+strconv.Itoa(n)+" EXISTS") {
		b.Fatalf("SELECT: %q", untagged)
	}

	b.Run("FETCH 1:* (FLAGS ENVELOPE)", func(b *testing.B) {
		for b.Loop() {
			untagged := rc.mustOK(b, "FETCH 1:* (FLAGS ENVELOPE)")
			if len(untagged) != n {
				b.Fatalf("%d FETCH responses, want %d", len(untagged), n)
			}
		}
		per := float64(b.Elapsed()) / float64(b.N)
		b.ReportMetric(per/float64(n)/1e3, "µs/msg")
		b.ReportMetric(per/float64(50*time.Millisecond), "of-50ms-budget")
	})
	b.Run("SELECT INBOX", func(b *testing.B) {
		// Each SELECT first unselects the same mailbox, so every one loads its
		// shared state again: the case of a client moving between folders
		// that no other session has open.
		for b.Loop() {
			rc.mustOK(b, "SELECT INBOX")
		}
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(n)/1e3, "µs/msg")
	})
	b.Run(`SEARCH TEXT "hop"`, func(b *testing.B) {
		for b.Loop() {
			untagged := rc.mustOK(b, "SEARCH TEXT hop")
			if got := len(strings.Fields(strings.Join(untagged, " "))) - 2; got != n/10 {
				b.Fatalf("SEARCH found %d, want %d", got, n/10)
			}
		}
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(n)/1e3, "µs/msg")
	})
	b.Run(`UID SEARCH SUBJECT "hop" (envelopes)`, func(b *testing.B) {
		for b.Loop() {
			untagged := rc.mustOK(b, "UID SEARCH SUBJECT hop")
			if got := len(strings.Fields(strings.Join(untagged, " "))) - 2; got != n/10 {
				b.Fatalf("SEARCH found %d, want %d", got, n/10)
			}
		}
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(n)/1e3, "µs/msg")
	})
}
