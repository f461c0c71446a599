package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"govmail/internal/config"
	"govmail/internal/delivery"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/store/sqlite"
)

// Options choose what to measure.
type Options struct {
	Binary   string // the govmail binary to spawn (os.Executable in the CLI)
	Quick    bool   // smaller counts, for a smoke run
	Runs     int    // repetitions per figure; the median is reported
	Mailbox  int    // messages in the FETCH/SEARCH mailbox
	IdleConn int    // IMAP connections for the memory figure
	Stderr   io.Writer
	// DSN, when set, runs the nodes on PostgreSQL instead of SQLite; Nodes
	// servers then share it and the SMTP load is spread over them.
	DSN   string
	Nodes int
}

const benchPassword = "Abcdef1!bench"

// Run measures and prints one line per figure to out.
func Run(ctx context.Context, o Options, out io.Writer) error {
	if o.Runs <= 0 {
		o.Runs = 3
	}
	if o.Mailbox <= 0 {
		o.Mailbox = 10000
	}
	if o.IdleConn <= 0 {
		o.IdleConn = 1000
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Quick {
		o.Runs, o.Mailbox, o.IdleConn = 1, 1000, 100
	}
	dir, err := os.MkdirTemp("", "govmail-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.Nodes <= 0 || o.DSN == "" {
		o.Nodes = 1
	}
	if err := seed(ctx, dir, o.DSN, o.Mailbox); err != nil {
		return err
	}
	var nodes []*Child
	for i := 0; i < o.Nodes; i++ {
		ndir := filepath.Join(dir, fmt.Sprintf("node%d", i))
		if o.DSN == "" {
			ndir = dir // SQLite: the seeded database is in dir
		}
		if err := os.MkdirAll(ndir, 0o700); err != nil {
			return err
		}
		cfg := config.Defaults(ndir)
		cfg.DNS = "127.0.0.1:9" // loopback only: lookups fail at once
		one := []string{"127.0.0.1:0"}
		cfg.Listen = config.Listeners{SMTP: one, IMAP: one, HTTP: one}
		cfg.Log.Level = "warn"
		cfg.Security.Clamd = "off"
		if o.DSN != "" {
			cfg.Database = config.Database{Driver: "postgres", DSN: o.DSN, MaxConns: 16}
		}
		cfgPath := filepath.Join(ndir, "govmail.toml")
		if err := config.Write(cfgPath, cfg); err != nil {
			return err
		}
		c, err := Spawn(o.Binary, cfgPath, o.Stderr)
		if err != nil {
			return err
		}
		defer c.Stop()
		nodes = append(nodes, c)
	}
	child := nodes[0]
	var smtpAddrs []string
	for _, n := range nodes {
		smtpAddrs = append(smtpAddrs, n.Addrs["smtp"])
	}
	backend := "SQLite"
	if o.DSN != "" {
		backend = fmt.Sprintf("PostgreSQL, %d node(s)", o.Nodes)
	}
	fmt.Fprintf(out, "store: %s\n", backend)
	fmt.Fprintf(out, "govmail bench: %d run(s) per figure, medians; server is a separate process on loopback\n", o.Runs)

	// SMTP delivery into mailboxes, durable (250 after fsync).
	for _, size := range []int{2 << 10, 100 << 10} {
		for _, conns := range []int{1, 4, 16} {
			n := 2000
			if size > 10<<10 {
				n = 400
			}
			if o.Quick {
				n /= 4
			}
			var rates []float64
			for r := 0; r < o.Runs; r++ {
				rate, err := smtpRate(smtpAddrs, conns, n, size)
				if err != nil {
					return fmt.Errorf("smtp bench: %w", err)
				}
				rates = append(rates, rate)
			}
			fmt.Fprintf(out, "smtp_deliver size=%dKB conns=%d msgs=%d: %.0f msg/s (median of %d)\n", size>>10, conns, n, median(rates), o.Runs)
		}
	}

	// IMAP over the seeded mailbox, timed with a raw client so that the figure is
	// the server's answer on the wire, not a client library's parsing.
	if addr := child.Addrs["imap"]; addr != "" {
		rc, err := dialRawIMAP(addr, "bench0@sonla.gov.vn")
		if err != nil {
			return fmt.Errorf("imap: %w", err)
		}
		if _, err := rc.cmd("SELECT INBOX"); err != nil {
			return fmt.Errorf("select: %w", err)
		}
		var fetchT, searchT []float64
		for r := 0; r < max(o.Runs, 5); r++ {
			t0 := time.Now()
			n, err := rc.cmd("FETCH 1:* (FLAGS ENVELOPE)")
			if err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
			fetchT = append(fetchT, ms(time.Since(t0)))
			if n != o.Mailbox {
				return fmt.Errorf("fetched %d of %d", n, o.Mailbox)
			}
			t0 = time.Now()
			if _, err := rc.cmd("UID SEARCH TEXT hop"); err != nil {
				return fmt.Errorf("search: %w", err)
			}
			searchT = append(searchT, ms(time.Since(t0)))
		}
		rc.close()
		fmt.Fprintf(out, "imap_fetch_flags_envelope msgs=%d: %.1f ms (median)\n", o.Mailbox, median(fetchT))
		fmt.Fprintf(out, "imap_search_text_accent_insensitive msgs=%d: %.1f ms (median)\n", o.Mailbox, median(searchT))

		before, _ := child.RSS()
		idle, err := openIdle(addr, o.IdleConn)
		defer func() {
			for _, c := range idle {
				c.Close()
			}
		}()
		if err != nil {
			return fmt.Errorf("idle connections: %w", err)
		}
		// Logins hash passwords (argon2id, ~19 MiB each): give the runtime time to
		// hand that memory back, then take the lowest reading of a few.
		after := int64(1 << 62)
		for i := 0; i < 8; i++ {
			time.Sleep(time.Second)
			if r, err := child.RSS(); err == nil && r < after {
				after = r
			}
		}
		heap, stacks := goMemory(child.Addrs["http"])
		fmt.Fprintf(out, "imap_idle conns=%d: server RSS %.1f MB (%.1f MB before, +%.1f KB per connection); Go heap in use %.1f MB, stacks %.1f MB\n",
			o.IdleConn, mb(after), mb(before), float64(after-before)/1024/float64(o.IdleConn), mb(heap), mb(stacks))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mb(b int64) float64         { return float64(b) / (1 << 20) }

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// words give the seeded mail realistic Vietnamese text for the search figure.
var words = strings.Fields("cuộc họp giao ban tháng báo cáo tổng kết công văn đến đi sở khoa học công nghệ ủy ban nhân dân tỉnh sơn la kế hoạch triển khai đường dây nóng đảng ủy phường chiềng cơi xã mộc châu")

func text(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(12) == 0 {
			b.WriteString(".\r\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func message(r *rand.Rand, i, size int) string {
	subj := text(r, 40)
	return fmt.Sprintf("From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_A?= <a%d@example.org>\r\nTo: bench@sonla.gov.vn\r\nSubject: %s\r\nMessage-ID: <b%d.%d@example.org>\r\nDate: Fri, 27 Nov 2026 09:00:00 +0700\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
		i, strings.ReplaceAll(subj, "\r\n", " "), i, r.Int(), text(r, size))
}

// seed creates the accounts and fills bench0's INBOX through the same
// preparation delivery uses, before the server starts.
func seed(ctx context.Context, dir, dsn string, n int) error {
	var st store.Store
	var err error
	if dsn != "" {
		st, err = postgres.Open(ctx, postgres.Options{DSN: dsn})
	} else {
		st, err = sqlite.Open(ctx, sqlite.Options{Dir: dir})
	}
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := password.Hash(benchPassword)
	if err != nil {
		return err
	}
	var first *store.Account
	for i := 0; i < 16; i++ {
		a := &store.Account{Address: fmt.Sprintf("bench%d@sonla.gov.vn", i), PasswordHash: h, PasswordSetAt: time.Now(), QuotaBytes: 1 << 40}
		if err := st.CreateAccount(ctx, a); err != nil {
			return err
		}
		if i == 0 {
			first = a
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	var firstErr atomic.Value
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		raw := message(r, i, 1500)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nm, _ := delivery.Prepare([]byte(raw), time.Now())
			if _, err := st.Deliver(ctx, nm, []store.DeliveryTarget{{AccountID: first.ID}}); err != nil {
				firstErr.Store(err)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	return nil
}

// smtpRate sends n messages of about size bytes over conns parallel sessions
// (each session reused for many messages, as MTAs do) and returns messages/s.
func smtpRate(addrs []string, conns, n, size int) (float64, error) {
	r := rand.New(rand.NewPCG(uint64(size), uint64(conns)))
	bodies := make([]string, 8)
	for i := range bodies {
		bodies[i] = message(r, i, size)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	t0 := time.Now()
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cl, err := smtp.Dial(addrs[c%len(addrs)])
			if err != nil {
				errs <- err
				return
			}
			defer cl.Close()
			if err := cl.Hello("bench.example.org"); err != nil {
				errs <- err
				return
			}
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					cl.Quit()
					return
				}
				to := fmt.Sprintf("bench%d@sonla.gov.vn", 1+int(i)%15)
				if err := sendOne(cl, to, bodies[int(i)%len(bodies)]); err != nil {
					errs <- err
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

func sendOne(c *smtp.Client, to, body string) error {
	if err := c.Mail("sender@example.org", nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, body); err != nil {
		return err
	}
	return w.Close()
}

func imapLogin(addr, user string) (*imapclient.Client, error) {
	c, err := imapclient.DialStartTLS(addr, &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}}) //nolint:gosec // loopback bench against a self-signed certificate
	if err != nil {
		return nil, err
	}
	if err := c.Login(user, benchPassword).Wait(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// openIdle opens n IMAP sessions that each select INBOX and sit in IDLE.
func openIdle(addr string, n int) ([]*imapclient.Client, error) {
	out := make([]*imapclient.Client, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var firstErr error
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := imapLogin(addr, fmt.Sprintf("bench%d@sonla.gov.vn", 1+i%15))
			if err == nil {
				_, err = c.Select("INBOX", nil).Wait()
			}
			if err == nil {
				_, err = c.Idle()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out = append(out, c)
		}(i)
	}
	wg.Wait()
	return out, firstErr
}

// rawIMAP is a minimal IMAP client for timing: it sends a tagged command and
// reads to the tagged reply, counting untagged FETCH lines.
type rawIMAP struct {
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func dialRawIMAP(addr, user string) (*rawIMAP, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	rc := &rawIMAP{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := rc.r.ReadString('\n'); err != nil { // greeting
		c.Close()
		return nil, err
	}
	if _, err := rc.cmd("STARTTLS"); err != nil {
		c.Close()
		return nil, err
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // loopback bench, self-signed
	rc.c, rc.r = tc, bufio.NewReaderSize(tc, 64<<10)
	if _, err := rc.cmd(fmt.Sprintf("LOGIN %s %s", user, benchPassword)); err != nil {
		tc.Close()
		return nil, err
	}
	return rc, nil
}

func (rc *rawIMAP) cmd(line string) (fetches int, err error) {
	rc.tag++
	tag := fmt.Sprintf("b%d", rc.tag)
	if _, err := io.WriteString(rc.c, tag+" "+line+"\r\n"); err != nil {
		return 0, err
	}
	for {
		l, err := rc.r.ReadString('\n')
		if err != nil {
			return fetches, err
		}
		// Literals ({n}) inside envelopes are rare here (UTF-8 subjects are
		// sent encoded); skip their bytes when present.
		if i := strings.LastIndexByte(l, '{'); i >= 0 && strings.HasSuffix(l, "}\r\n") {
			var n int
			if _, err := fmt.Sscanf(l[i:], "{%d}", &n); err == nil {
				if _, err := io.CopyN(io.Discard, rc.r, int64(n)); err != nil {
					return fetches, err
				}
				continue
			}
		}
		if strings.HasPrefix(l, "* ") && strings.Contains(l, " FETCH ") {
			fetches++
		}
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				return fetches, fmt.Errorf("%s: %s", line, strings.TrimSpace(l))
			}
			return fetches, nil
		}
	}
}

func (rc *rawIMAP) close() { rc.c.Close() }

// goMemory reads the server's heap and stack use from its /metrics.
func goMemory(httpAddr string) (heap, stacks int64) {
	if httpAddr == "" {
		return 0, 0
	}
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var v float64
		switch {
		case strings.HasPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "):
			fmt.Sscanf(strings.Fields(sc.Text())[1], "%g", &v)
			heap = int64(v)
		case strings.HasPrefix(sc.Text(), "go_memstats_stack_inuse_bytes "):
			fmt.Sscanf(strings.Fields(sc.Text())[1], "%g", &v)
			stacks = int64(v)
		}
	}
	return heap, stacks
}

func smtpDial(addr string) (*smtp.Client, error) { return smtp.Dial(addr) }
