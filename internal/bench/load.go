package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"govmail/internal/config"
)

// LoadOptions size the load test of issue 11.
type LoadOptions struct {
	Binary    string
	Duration  time.Duration
	SMTPConns int // 16
	IMAPConns int // 200
	Stderr    io.Writer
}

// LoadResult is what the load test measured.
type LoadResult struct {
	Delivered, SMTPErrors, IMAPOps, IMAPErrors int64
	SMTPp50, SMTPp99, IMAPp50, IMAPp99         time.Duration
	RSSStart, RSSPeak, RSSEnd                  int64
}

// Load runs SMTP senders and IMAP sessions (IDLE, FETCH, SEARCH) against a
// spawned server for a bounded time, and reports throughput, latency
// percentiles and the server's memory. Every loop stops by itself.
func Load(ctx context.Context, o LoadOptions, out io.Writer) (*LoadResult, error) {
	if o.SMTPConns <= 0 {
		o.SMTPConns = 16
	}
	if o.IMAPConns <= 0 {
		o.IMAPConns = 200
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	dir, err := os.MkdirTemp("", "govmail-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := config.Defaults(dir)
	cfg.DNS = "127.0.0.1:9"
	one := []string{"127.0.0.1:0"}
	cfg.Listen = config.Listeners{SMTP: one, IMAP: one, HTTP: one}
	cfg.Log.Level = "warn"
	cfgPath := filepath.Join(dir, "govmail.toml")
	if err := config.Write(cfgPath, cfg); err != nil {
		return nil, err
	}
	if err := seed(ctx, dir, "", 2000); err != nil {
		return nil, err
	}
	child, err := Spawn(o.Binary, cfgPath, o.Stderr)
	if err != nil {
		return nil, err
	}
	defer child.Stop()
	res := &LoadResult{}
	res.RSSStart, _ = child.RSS()
	deadline := time.Now().Add(o.Duration)
	var smtpLat, imapLat latencies
	var wg sync.WaitGroup
	var delivered, smtpErr, imapOps, imapErr atomic.Int64
	for i := 0; i < o.SMTPConns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			body := message(r, i, 2048)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := sendLoad(child.Addrs["smtp"], fmt.Sprintf("bench%d@sonla.gov.vn", 1+r.IntN(15)), body)
				smtpLat.add(time.Since(t0))
				if err != nil {
					smtpErr.Add(1)
					fmt.Fprintln(o.Stderr, "smtp:", err)
				} else {
					delivered.Add(1)
				}
			}
		}(i)
	}
	for i := 0; i < o.IMAPConns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 5 * time.Millisecond) // do not log 200 users in at one instant
			rc, err := dialRawIMAP(child.Addrs["imap"], fmt.Sprintf("bench%d@sonla.gov.vn", i%16))
			if err != nil {
				imapErr.Add(1)
				fmt.Fprintln(o.Stderr, "imap login:", err)
				return
			}
			defer rc.close()
			if _, err := rc.cmd("SELECT INBOX"); err != nil {
				imapErr.Add(1)
				return
			}
			r := rand.New(rand.NewPCG(uint64(i), 9))
			for time.Now().Before(deadline) {
				cmd := "NOOP"
				switch r.IntN(4) {
				case 0:
					cmd = "FETCH 1:50 (FLAGS ENVELOPE)"
				case 1:
					cmd = "UID SEARCH TEXT hop"
				case 2:
					cmd = "STATUS INBOX (MESSAGES UNSEEN)"
				}
				t0 := time.Now()
				_, err := rc.cmd(cmd)
				imapLat.add(time.Since(t0))
				if err != nil {
					imapErr.Add(1)
					fmt.Fprintln(o.Stderr, "imap:", cmd, err)
					return
				}
				imapOps.Add(1)
				time.Sleep(time.Duration(200+r.IntN(800)) * time.Millisecond) // a person's pace
			}
		}(i)
	}
	stopRSS := make(chan struct{})
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				return
			case <-t.C:
				if r, err := child.RSS(); err == nil && r > res.RSSPeak {
					res.RSSPeak = r
				}
			}
		}
	}()
	wg.Wait()
	close(stopRSS)
	res.RSSEnd, _ = child.RSS()
	res.Delivered, res.SMTPErrors, res.IMAPOps, res.IMAPErrors = delivered.Load(), smtpErr.Load(), imapOps.Load(), imapErr.Load()
	res.SMTPp50, res.SMTPp99 = smtpLat.pct(50), smtpLat.pct(99)
	res.IMAPp50, res.IMAPp99 = imapLat.pct(50), imapLat.pct(99)
	secs := o.Duration.Seconds()
	fmt.Fprintf(out, "load %s: %d SMTP conns, %d IMAP sessions\n", o.Duration, o.SMTPConns, o.IMAPConns)
	fmt.Fprintf(out, "smtp: %d delivered (%.0f msg/s), %d errors, latency p50 %s p99 %s\n", res.Delivered, float64(res.Delivered)/secs, res.SMTPErrors, res.SMTPp50, res.SMTPp99)
	fmt.Fprintf(out, "imap: %d commands, %d errors, latency p50 %s p99 %s\n", res.IMAPOps, res.IMAPErrors, res.IMAPp50, res.IMAPp99)
	fmt.Fprintf(out, "server RSS: start %.1f MB, peak %.1f MB, end %.1f MB\n", mb(res.RSSStart), mb(res.RSSPeak), mb(res.RSSEnd))
	return res, nil
}

func sendLoad(addr, to, body string) error {
	c, err := smtpDial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("load.example.org"); err != nil {
		return err
	}
	return sendOne(c, to, body)
}

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) pct(p int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), l.d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)].Round(100 * time.Microsecond)
}
