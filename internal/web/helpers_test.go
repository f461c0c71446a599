package web

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"govmail/internal/address"
	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/delivery"
	"govmail/internal/directory"
	"govmail/internal/held"
	"govmail/internal/lifecycle"
	"govmail/internal/notify"
	"govmail/internal/outage"
	"govmail/internal/password"
	"govmail/internal/report"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/workdays"
)

// env is a webmail over a real SQLite store, the real auth service (password.Verify,
// the regulation's expiry) and the real delivery pipeline, served over TLS by
// httptest so that Secure cookies behave as in production.
type env struct {
	t    testing.TB
	st   *sqlite.Store
	clk  *clock.Fake
	cfg  config.Config
	auth *auth.Service
	del  *delivery.Deliverer
	dir  *directory.Service
	life *lifecycle.Service
	out  *outage.Service
	cal  *workdays.Calendar
	srv  *Server
	ts   *httptest.Server
	log  *slog.Logger
}

type envOptions struct {
	config   func(*config.Config)
	throttle auth.Throttle
	outbound Outbound
	notices  func(context.Context) ([]Notice, error)
	guard    func(context.Context, *store.Account, []string, []byte) (bool, error)
	report   func(accountID int64, raw []byte)
	// smimeRoots and smimeKey become Deps.SMIMERoots and Deps.SMIMEKey.
	smimeRoots *x509.CertPool
	smimeKey   []byte
}

// testStart is a Tuesday morning in Sơn La.
var testStart = time.Date(2026, 3, 10, 9, 0, 0, 0, password.Location())

func newEnv(t testing.TB, opt envOptions) *env {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewFake(testStart)
	level := slog.LevelError
	if os.Getenv("GOVMAIL_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Dir: dir, Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults(dir)
	if opt.config != nil {
		opt.config(&cfg)
	}
	pol := password.DefaultPolicy()
	loc := password.Location()
	a := &auth.Service{
		Store: st, Clock: clk, Verify: password.Verify, Logger: log, Throttle: opt.throttle,
		Expired: func(setAt, now time.Time) bool { return pol.MustChange(setAt, now, loc) },
		Sleep:   func(context.Context, time.Duration) {},
	}
	del := &delivery.Deliverer{Store: st, Clock: clk, Logger: log, Hostname: cfg.Hostname}
	// The portal's services, built as app.New builds them.
	ds := &directory.Service{Store: st, Clock: clk, Rules: address.DefaultRules(), Domain: cfg.Domains[0], Logger: log}
	cal, err := workdays.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	notifier := &notify.Notifier{Deliverer: del, Clock: clk, Domain: cfg.Domains[0], Logger: log}
	life := &lifecycle.Service{Store: st, Clock: clk, Calendar: cal, Directory: ds, Policy: lifecycle.DefaultPolicy(), Passwords: pol,
		Notify: notifier, Logger: log, WebURL: cfg.WebURL, Support: cfg.Support}
	out := &outage.Service{Store: st, Notify: notifier, Clock: clk, Logger: log}
	srv, err := New(Deps{Store: st, Auth: a, Deliverer: del, Clock: clk, Logger: log, Config: cfg, Outbound: opt.outbound, Notices: opt.notices, SendGuard: opt.guard,
		Dir: ds, Life: life, Outage: out, Held: &held.Service{Store: st, Clock: clk, Logger: log}, Reports: &report.Builder{Store: st, Clock: clk},
		Calendar: cal, Report: opt.report, SMIMERoots: opt.smimeRoots, SMIMEKey: opt.smimeKey})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		st.Close()
	})
	return &env{t: t, st: st, clk: clk, cfg: cfg, auth: a, del: del, dir: ds, life: life, out: out, cal: cal, srv: srv, ts: ts, log: log}
}

// cheapHash keeps tests fast: argon2id with tiny parameters, verified by the real
// password.Verify, which reads the parameters from the hash.
func cheapHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (e *env) addAccount(addr, name, pw string, mustChange bool) *store.Account {
	e.t.Helper()
	a := &store.Account{Address: addr, DisplayName: name, PasswordHash: cheapHash(e.t, pw), MustChange: mustChange,
		PasswordSetAt: e.clk.Now(), QuotaBytes: e.cfg.Policy.QuotaBytes}
	if err := e.st.CreateAccount(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) mailbox(a *store.Account, name string) *store.Mailbox {
	e.t.Helper()
	mb, err := e.st.MailboxByName(context.Background(), a.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return mb
}

// deliver puts raw into a's INBOX through the delivery pipeline.
func (e *env) deliver(a *store.Account, raw string) uint32 {
	e.t.Helper()
	res, err := e.del.Deliver(context.Background(), &delivery.Envelope{
		From: "sender@example.org", Recipients: []delivery.Recipient{{Address: a.Address, AccountID: a.ID}},
		ClientIP: "192.0.2.1", ClientHelo: "mx.example.org", Proto: "ESMTPS", Direction: "in",
	}, strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		e.t.Fatal(err)
	}
	if res.Outcomes[0].Err != nil {
		e.t.Fatal(res.Outcomes[0].Err)
	}
	return res.Outcomes[0].UID
}

// messages returns the messages of a folder with their raw bytes.
func (e *env) messages(mb *store.Mailbox) []storedMsg {
	e.t.Helper()
	ctx := context.Background()
	msgs, _, err := e.st.Messages(ctx, mb.ID, false)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]storedMsg, len(msgs))
	for i, m := range msgs {
		raw, err := e.st.ReadBlob(ctx, m.BlobID)
		if err != nil {
			e.t.Fatal(err)
		}
		out[i] = storedMsg{m, raw}
	}
	return out
}

type storedMsg struct {
	store.Message
	Raw []byte
}

// browser is one user agent with its cookies.
type browser struct {
	e     *env
	c     *http.Client
	token string // the last CSRF token seen on a page
	lang  string // Accept-Language
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	// A copy: httptest hands out one shared client, and each browser needs its own jar.
	c := *e.ts.Client()
	c.Jar = jar
	return &browser{e: e, c: &c}
}

type resp struct {
	status int
	body   string
	header http.Header
	url    *url.URL
	raw    []byte
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) *resp {
	b.e.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	r := &resp{status: res.StatusCode, body: string(raw), header: res.Header, url: res.Request.URL, raw: raw}
	if m := csrfRE.FindStringSubmatch(r.body); m != nil {
		b.token = m[1]
	}
	return r
}

func (b *browser) get(path string) *resp {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.ts.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) *resp {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", b.token)
	}
	req, err := http.NewRequest(http.MethodPost, b.e.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

type upload struct {
	name, contentType string
	data              []byte
}

func (b *browser) postMultipart(path string, form url.Values, files []upload) *resp {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", b.token)
	}
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, f.name))
		h.Set("Content-Type", f.contentType)
		w, err := mw.CreatePart(h)
		if err != nil {
			b.e.t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, b.e.ts.URL+path, &buf)
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func (b *browser) login(addr, pw string) *resp {
	b.e.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"username": {addr}, "password": {pw}})
}

// mustContain fails unless every want is in s.
func mustContain(t testing.TB, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in:\n%s", w, abbreviate(s))
		}
	}
}

func mustNotContain(t testing.TB, s string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(s, w) {
			t.Errorf("unexpected %q in:\n%s", w, abbreviate(s))
		}
	}
}

func abbreviate(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "…"
	}
	return s
}

func (r *resp) wantStatus(t testing.TB, code int) {
	t.Helper()
	if r.status != code {
		t.Fatalf("status %d, want %d (url %s):\n%s", r.status, code, r.url, abbreviate(r.body))
	}
}

const goodPassword = "Kh0ng-Doan!Duoc"

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
