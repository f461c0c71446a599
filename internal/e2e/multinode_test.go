package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"govmail/internal/bench"
	"govmail/internal/config"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/testutil"
)

// sink is a foreign MTA for the queue test: it counts what it receives by
// Message-ID.
type sink struct {
	mu   sync.Mutex
	seen map[string]int
}

type sinkSession struct{ s *sink }

func (x *sinkSession) Reset()                               {}
func (x *sinkSession) Logout() error                        { return nil }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	b, _ := io.ReadAll(r)
	if m := regexp.MustCompile(`(?m)^Message-ID: (\S+)`).FindSubmatch(b); m != nil {
		x.s.mu.Lock()
		x.s.seen[string(m[1])]++
		x.s.mu.Unlock()
	}
	return nil
}

// Issue 10: two govmail nodes on one PostgreSQL. Mail delivered through node A
// wakes an IDLE session on node B; queued mail is sent exactly once while both
// run; killing node A mid-delivery loses nothing acknowledged.
func TestTwoNodesOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns PostgreSQL and two servers")
	}
	dsn := testutil.StartPostgres(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, postgres.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := password.Hash(pw)
	acc := &store.Account{Address: "a@sonla.gov.vn", PasswordHash: h, PasswordSetAt: time.Now(), QuotaBytes: 1 << 40}
	if err := st.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	guessed := &store.Account{Address: "guessed@sonla.gov.vn", PasswordHash: h, PasswordSetAt: time.Now(), QuotaBytes: 1 << 30}
	if err := st.CreateAccount(ctx, guessed); err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// The other domain: DNS says its MX is on loopback, where a sink listens.
	sk := &sink{seen: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sk}, nil }))
	srv.Domain = "mx.example.test"
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, sport, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(sport)
	dns := testutil.StartDNS(t, "example.test. 300 IN MX 10 mx.example.test.", "mx.example.test. 300 IN A 127.0.0.1")

	bin := buildBinary(t)
	node := func(name string) *bench.Child {
		dir := filepath.Join(t.TempDir(), name)
		os.MkdirAll(dir, 0o700)
		cfg := config.Defaults(dir)
		one := []string{"127.0.0.1:0"}
		cfg.Listen = config.Listeners{SMTP: one, Submission: one, IMAP: one, HTTP: one, HTTPS: one}
		cfg.Database = config.Database{Driver: "postgres", DSN: dsn, MaxConns: 8}
		cfg.DNS = dns.Addr
		cfg.Security.Clamd = "off"
		cfg.Outbound.Port = port
		cfg.Outbound.DKIMSelectorOn = false
		cfg.Outbound.MTASTS = false
		p := filepath.Join(dir, "govmail.toml")
		if err := config.Write(p, cfg); err != nil {
			t.Fatal(err)
		}
		c, err := bench.Spawn(bin, p, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Kill() })
		return c
	}
	a, b := node("a"), node("b")

	// IDLE on B, delivery through A.
	exists := make(chan uint32, 16)
	c, err := imapclient.DialStartTLS(b.Addrs["imap"], &imapclient.Options{TLSConfig: testutil.ClientTLS(),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(acc.Address, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := sendPlain(a.Addrs["smtp"], "x@example.org", acc.Address, "Subject: qua hai nut\r\n\r\nCross-node.\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exists:
		t.Logf("node B's IDLE woken %v after sending through node A", time.Since(t0))
	case <-time.After(2 * time.Second):
		t.Fatal("node B's IDLE session not woken by a delivery through node A")
	}
	idle.Close()
	idle.Wait()

	// A webmail session made on node A is valid on node B, and signing out on
	// B ends it on A: a load balancer may send each request anywhere.
	checkSharedWebSession(t, "https://"+a.Addrs["https"], "https://"+b.Addrs["https"], acc.Address, "qua hai nut")

	// Failed logins are shared: five wrong passwords on node A refuse the pair on
	// node B too, even with the right password (security-level controls).
	imapTry := func(node *bench.Child, pass string) error {
		c, err := imapclient.DialStartTLS(node.Addrs["imap"], &imapclient.Options{TLSConfig: testutil.ClientTLS()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.Login(guessed.Address, pass).Wait()
	}
	for i := 0; i < 5; i++ {
		if imapTry(a, "Wrong1!xx") == nil {
			t.Fatal("wrong password accepted")
		}
	}
	if err := imapTry(b, pw); err == nil || !strings.Contains(err.Error(), "UNAVAILABLE") {
		t.Fatalf("node B ignored node A's failed logins: %v", err)
	}

	// Queued mail leaves exactly once while both nodes' queues run.
	const n = 20
	for i := 0; i < n; i++ {
		node := a
		if i%2 == 1 {
			node = b
		}
		sc, err := smtp.DialStartTLS(node.Addrs["submission"], testutil.ClientTLS())
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Auth(sasl.NewPlainClient("", acc.Address, pw)); err != nil {
			t.Fatal(err)
		}
		sc.Mail(acc.Address, nil)
		if err := sc.Rcpt("friend@example.test", nil); err != nil {
			t.Fatal(err)
		}
		w, _ := sc.Data()
		fmt.Fprintf(w, "Message-ID: <q%d@sonla.gov.vn>\r\nSubject: q%d\r\n\r\nx\r\n", i, i)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		sc.Quit()
	}
	// A node records a delivery only after the sink's 250, so an empty queue
	// means every transmission is over and counted: none can come later.
	waitForLong(t, 30*time.Second, "the shared queue to empty", func() bool {
		q, err := st.ListQueue(ctx, store.QueueFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(q) == 0
	})
	sk.mu.Lock()
	if len(sk.seen) != n {
		t.Errorf("the sink received %d distinct messages, want %d", len(sk.seen), n)
	}
	for id, k := range sk.seen {
		if k != 1 {
			t.Errorf("%s delivered %d times", id, k)
		}
	}
	sk.mu.Unlock()

	// Kill node A mid-delivery: every acknowledged message is in the database.
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := fmt.Sprintf("k%d-%d", g, i)
				if sendPlain(a.Addrs["smtp"], "x@example.org", acc.Address, "Subject: "+tok+"\r\n\r\nx\r\n") == nil {
					mu.Lock()
					acked[tok] = true
					mu.Unlock()
				}
			}
		}(g)
	}
	// Kill while deliveries are in full flow: after some were acknowledged.
	waitForLong(t, 10*time.Second, "acknowledged deliveries through node A", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 20
	})
	a.Cmd.Process.Signal(syscall.SIGKILL)
	a.Cmd.Wait()
	close(stop)
	wg.Wait()
	if err := st.Check(ctx); err != nil {
		t.Fatal(err)
	}
	mb, err := st.MailboxByName(ctx, acc.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _, err := st.Messages(ctx, mb.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	re := regexp.MustCompile(`Subject: (k\d+-\d+)`)
	for _, m := range msgs {
		raw, err := st.ReadBlob(ctx, m.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		if x := re.FindSubmatch(raw); x != nil {
			found[string(x[1])] = true
		}
	}
	for tok := range acked {
		if !found[tok] {
			t.Errorf("acknowledged %s lost when node A was killed", tok)
		}
	}
	if len(acked) == 0 {
		t.Fatal("nothing acknowledged before the kill: the test proved nothing")
	}
	t.Logf("node A killed after %d acknowledged messages; all present", len(acked))
}

// checkSharedWebSession signs in through one node's webmail and browses and
// signs out through the other's. The cookie jar ignores ports, as a browser
// behind one name would see both nodes.
func checkSharedWebSession(t *testing.T, urlA, urlB, addr, wantSubject string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: testutil.ClientTLS()}}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	var token string
	do := func(method, u string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			form.Set("_csrf", token)
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if m := csrf.FindSubmatch(raw); m != nil {
			token = string(m[1])
		}
		return res, string(raw)
	}
	do("GET", urlA+"/login", nil)
	res, _ := do("POST", urlA+"/login", url.Values{"username": {addr}, "password": {pw}})
	if res.Request.URL.Path == "/login" {
		t.Fatalf("login on node A failed: %d", res.StatusCode)
	}
	res, body := do("GET", urlB+"/", nil)
	if res.Request.URL.Path == "/login" || !strings.Contains(body, wantSubject) {
		t.Fatalf("node B did not honour node A's session: ended at %s", res.Request.URL)
	}
	if res, _ := do("POST", urlB+"/logout", url.Values{}); res.StatusCode != http.StatusOK {
		t.Fatalf("logout on node B: %d", res.StatusCode)
	}
	if res, _ := do("GET", urlA+"/", nil); res.Request.URL.Path != "/login" {
		t.Errorf("session signed out on node B still valid on node A (at %s)", res.Request.URL)
	}
}
