package migrate

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bigMaildir writes n messages straight into a Dovecot maildir (faster than
// APPEND by far) and returns their total size. Sizes follow profile: "large"
// (20–120 kB each, so that a small n already outweighs the memory bound) or
// "typical" (mostly a few kB, some tens of kB, 1% attachments of 100–400 kB).
func bigMaildir(t testing.TB, dir string, n int, profile string) int64 {
	t.Helper()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	line := "Kính gửi các đơn vị: thực hiện chỉ đạo của UBND tỉnh Sơn La về chuyển đổi số năm 2025.\r\n"
	var total int64
	start := time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := range n {
		var size int
		switch r := rng.IntN(100); {
		case profile == "large":
			size = 20_000 + rng.IntN(100_000)
		case r < 80:
			size = 1_000 + rng.IntN(5_000)
		case r < 99:
			size = 6_000 + rng.IntN(24_000)
		default:
			size = 100_000 + rng.IntN(300_000)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "From: Văn phòng <vp%d@sonla.gov.vn>\r\nTo: big@sonla.gov.vn\r\nSubject: Công văn số %d/UBND\r\nMessage-ID: <%d@big.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", i%97, i, i)
		for b.Len() < size {
			b.WriteString(line)
		}
		body := b.String()
		total += int64(len(body))
		info := ""
		if i%3 == 0 {
			info = "S"
		}
		name := fmt.Sprintf("%d.M%dP1.big,S=%d,W=%d:2,%s", 1600000000+i, i, len(body), len(body), info)
		p := filepath.Join(dir, "cur", name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		d := start.Add(time.Duration(i) * time.Minute)
		os.Chtimes(p, d, d)
	}
	return total
}

// memSampler records the peaks of the Go heap (live and garbage not yet
// collected), of the live heap as each GC found it, and of the process's
// resident set (SQLite's own allocations included).
type memSampler struct {
	stop     chan struct{}
	done     sync.WaitGroup
	peakHeap uint64
	peakLive uint64
	peakRSS  int64
}

func sampleMemory() *memSampler {
	m := &memSampler{stop: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for n := 0; ; n++ {
			metrics.Read(s)
			m.peakHeap = max(m.peakHeap, s[0].Value.Uint64())
			m.peakLive = max(m.peakLive, s[1].Value.Uint64())
			if n%20 == 0 {
				m.peakRSS = max(m.peakRSS, rssBytes())
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memSampler) finish() {
	close(m.stop)
	m.done.Wait()
}

func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Memory stays flat however large the mailbox: the peak live heap of a
// mailbox four times larger is no larger, both are far below the mailbox, and
// the run reports messages/s and MB/s. GOVMAIL_LONG=1 runs the 200,000-message
// mailbox of the requirement; GOVMAIL_IMPORT_MESSAGES=N picks another size.
func TestImportLargeMailboxFlatMemory(t *testing.T) {
	n, small, profile := 2000, 500, "large"
	if os.Getenv("GOVMAIL_LONG") != "" {
		n, small, profile = 200_000, 20_000, "typical"
	}
	if v, err := strconv.Atoi(os.Getenv("GOVMAIL_IMPORT_MESSAGES")); err == nil && v > 0 {
		n, small, profile = v, max(1, v/10), "typical"
	}
	sizes := map[string]int64{}
	seedStart := time.Now()
	d := startDovecot(t, []string{"small", "big"}, func(mail string) {
		sizes["small"] = bigMaildir(t, filepath.Join(mail, "small"), small, profile)
		sizes["big"] = bigMaildir(t, filepath.Join(mail, "big"), n, profile)
	})
	t.Logf("seeded %d + %d messages, %.1f MB, in %s", small, n, float64(sizes["small"]+sizes["big"])/1e6, time.Since(seedStart).Round(time.Millisecond))
	o := newStore(t)
	opts := IMAPOptions{URL: "imap://" + d.imapAddr, Plaintext: true}
	run := func(login string, count int) *memSampler {
		acct := o.account(t, login+".skhcn@sonla.gov.vn", 1<<40)
		runtime.GC()
		mem := sampleMemory()
		rep, err := o.importer(t).ImportIMAP(context.Background(), opts, []IMAPAccount{{Address: acct.Address, Login: login, Password: dovecotPasswd}})
		mem.finish()
		if err != nil {
			t.Fatal(err)
		}
		mustVerify(t, rep)
		msgs, bytes, _ := rep.Totals()
		if msgs != count || bytes != sizes[login] {
			t.Fatalf("copied %d messages, %d bytes; want %d, %d", msgs, bytes, count, sizes[login])
		}
		mps, mbps := Rates(msgs, bytes, rep.Duration)
		t.Logf("%s: %d messages, %.1f MB in %s: %.0f msg/s, %.2f MB/s; peak Go heap %.1f MB (live %.1f MB), peak RSS %.1f MB",
			login, msgs, float64(bytes)/1e6, rep.Duration.Round(time.Millisecond), mps, mbps,
			float64(mem.peakHeap)/1e6, float64(mem.peakLive)/1e6, float64(mem.peakRSS)/1e6)
		return mem
	}
	ms := run("small", small)
	mb := run("big", n)
	// Three batches of 4 MiB with their parsed forms and the IMAP reader's
	// buffers are what is live; a mailbox four times larger adds nothing.
	if mb.peakLive > ms.peakLive*3/2+(8<<20) {
		t.Errorf("peak live heap grew from %d MB to %d MB with the mailbox: memory is not flat", ms.peakLive>>20, mb.peakLive>>20)
	}
	if mb.peakLive >= uint64(sizes["big"]/2) {
		t.Errorf("peak live heap %d MB for a %d MB mailbox", mb.peakLive>>20, sizes["big"]>>20)
	}

	// The incremental run over the same large folder lists it, finds nothing new.
	start := time.Now()
	rep, err := o.importer(t).ImportIMAP(context.Background(), opts, []IMAPAccount{{Address: "big.skhcn@sonla.gov.vn", Login: "big", Password: dovecotPasswd}})
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	if f := fetched(rep); f != 0 || !rep.Accounts[0].Folders[0].Unchanged {
		t.Errorf("second run fetched %d, unchanged %v", f, rep.Accounts[0].Folders[0].Unchanged)
	}
	t.Logf("unchanged second run: %s", time.Since(start).Round(time.Millisecond))
}
