package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"govmail/internal/config"
	"govmail/internal/delivery"
	"govmail/internal/password"
	"govmail/internal/store"
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
	cfg := config.Defaults(dir)
	one := []string{"127.0.0.1:0"}
	cfg.Listen = config.Listeners{SMTP: one, IMAP: one, HTTP: one}
	cfg.Log.Level = "warn"
	cfgPath := filepath.Join(dir, "govmail.toml")
	if err := config.Write(cfgPath, cfg); err != nil {
		return err
	}
	if err := seed(ctx, dir, o.Mailbox); err != nil {
		return err
	}
	child, err := Spawn(o.Binary, cfgPath, o.Stderr)
	if err != nil {
		return err
	}
	defer child.Stop()
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
				rate, err := smtpRate(child.Addrs["smtp"], conns, n, size)
				if err != nil {
					return fmt.Errorf("smtp bench: %w", err)
				}
				rates = append(rates, rate)
			}
			fmt.Fprintf(out, "smtp_deliver size=%dKB conns=%d msgs=%d: %.0f msg/s (median of %d)\n", size>>10, conns, n, median(rates), o.Runs)
		}
	}

	// IMAP over the seeded mailbox.
	if addr := child.Addrs["imap"]; addr != "" {
		c, err := imapLogin(addr, "bench0@sonla.gov.vn")
		if err != nil {
			return fmt.Errorf("imap login: %w", err)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			return fmt.Errorf("select: %w", err)
		}
		var fetchT, searchT []float64
		for r := 0; r < max(o.Runs, 5); r++ {
			all := imap.SeqSet{}
			all.AddRange(1, 0)
			t0 := time.Now()
			msgs, err := c.Fetch(all, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
			if err == nil && len(msgs) != o.Mailbox {
				err = fmt.Errorf("fetched %d of %d", len(msgs), o.Mailbox)
			}
			if err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
			fetchT = append(fetchT, ms(time.Since(t0)))
			t0 = time.Now()
			sd, err := c.UIDSearch(&imap.SearchCriteria{Text: []string{"hop"}}, nil).Wait()
			if err != nil {
				return fmt.Errorf("search: %w", err)
			}
			searchT = append(searchT, ms(time.Since(t0)))
			if len(sd.AllUIDs()) == 0 {
				return errors.New("search found nothing")
			}
		}
		c.Close()
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
		time.Sleep(500 * time.Millisecond) // let the server settle before reading RSS
		after, _ := child.RSS()
		fmt.Fprintf(out, "imap_idle conns=%d: server RSS %.1f MB (%.1f MB before, +%.1f KB per connection)\n",
			o.IdleConn, mb(after), mb(before), float64(after-before)/1024/float64(o.IdleConn))
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
func seed(ctx context.Context, dir string, n int) error {
	st, err := sqlite.Open(ctx, sqlite.Options{Dir: dir})
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
func smtpRate(addr string, conns, n, size int) (float64, error) {
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
			cl, err := smtp.Dial(addr)
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
