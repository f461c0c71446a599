package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"govmail/internal/address"
	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/delivery"
	"govmail/internal/directory"
	"govmail/internal/lifecycle"
	"govmail/internal/notify"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/workdays"
)

// testUserHeader is the test seam of SessionAuth: webmail provides the real
// one; here the account named in this header is the session's.
const testUserHeader = "X-Test-Account"

// env is a real store with the province's units, the real directory and
// lifecycle services, and the API over them.
type env struct {
	t   *testing.T
	st  *sqlite.Store
	clk *clock.Fake
	dir *directory.Service
	lf  *lifecycle.Service
	api *API
	h   http.Handler

	// Sở KHCN (unit A) with its Phòng Hạ tầng, and Sở Nội vụ (unit B).
	unitA, subA, unitB *store.Unit
	// People: an operator, the heads of A and B, A's security contact, a user
	// of A, a user of A's sub-unit, and A's unit mailbox.
	op, mgrA, mgrB, secA, userA, userSub, boxA *store.Account
	// opReadToken is an operator's token with the read scope only.
	opReadToken string
}

var ict = time.FixedZone("ICT", 7*3600)

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	// Monday 2 March 2026, 09:00 in Sơn La.
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, ict))
	st, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir(), Clock: clk, InlineMax: 4096})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	deliv := &delivery.Deliverer{Store: st, Clock: clk, Logger: log, Hostname: "mail.sonla.gov.vn"}
	dir := &directory.Service{Store: st, Clock: clk, Rules: address.DefaultRules(), Domain: "sonla.gov.vn", Logger: log}
	if _, err := dir.ImportUnits(ctx, bytes.NewReader(directory.ProvinceUnits), "test"); err != nil {
		t.Fatal(err)
	}
	cal, err := workdays.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	lf := &lifecycle.Service{Store: st, Clock: clk, Calendar: cal, Directory: dir, Policy: lifecycle.DefaultPolicy(),
		Passwords: password.DefaultPolicy(), Logger: log, Notify: &notify.Notifier{Deliverer: deliv, Clock: clk, Domain: "sonla.gov.vn", Logger: log},
		WebURL: "https://mail.sonla.gov.vn", Support: "hotro@sonla.gov.vn"}
	au := &auth.Service{Store: st, Clock: clk, Verify: password.Verify, Logger: log}
	e := &env{t: t, st: st, clk: clk, dir: dir, lf: lf}
	e.api = newAPI(Deps{Store: st, Auth: au, Dir: dir, Life: lf, Clock: clk, Logger: log, Config: config.Defaults(t.TempDir()),
		Session: func(r *http.Request) (*store.Account, bool) {
			addr := r.Header.Get(testUserHeader)
			if addr == "" {
				return nil, false
			}
			a, err := st.AccountByAddress(r.Context(), addr)
			return a, err == nil
		}})
	e.h = e.api

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if e.unitA, err = st.UnitByLocalPart(ctx, "skhcn"); err != nil {
		t.Fatal(err)
	}
	if e.unitB, err = st.UnitByLocalPart(ctx, "snv"); err != nil {
		t.Fatal(err)
	}
	e.subA, err = dir.CreateUnit(ctx, "Phòng Hạ tầng", store.UnitSubUnit, "skhcn", "ht", "test")
	must(err)
	e.op = &store.Account{Address: "quantri@sonla.gov.vn", DisplayName: "Quản trị", Role: store.RoleOperator, QuotaBytes: 1 << 30}
	must(st.CreateAccount(ctx, e.op))
	person := func(unit, name string) *store.Account {
		a, err := dir.CreatePerson(ctx, directory.NewPerson{UnitLP: unit, FullName: name, QuotaBytes: 1 << 30}, "test")
		must(err)
		return a
	}
	e.mgrA = person("skhcn", "Cầm Thị Duyên")
	e.secA = person("skhcn", "Trần Hoàn")
	e.userA = person("skhcn", "Lò Văn Xôm")
	e.userSub = person("ht.skhcn", "Nguyễn Thu Hòa")
	e.mgrB = person("snv", "Hà Văn Minh")
	e.boxA, err = dir.CreateUnitMailbox(ctx, "skhcn", "", 1<<30, "test")
	must(err)
	e.unitA.ManagerID, e.unitA.SecurityContactID = e.mgrA.ID, e.secA.ID
	must(st.UpdateUnit(ctx, e.unitA))
	e.unitB.ManagerID = e.mgrB.ID
	must(st.UpdateUnit(ctx, e.unitB))
	e.opReadToken, _, err = IssueToken(ctx, st, clk.Now(), e.op, "read only", []string{ScopeRead}, time.Time{}, "test")
	must(err)
	return e
}

// resp is a finished call.
type resp struct {
	Code int
	Body []byte
	Hdr  http.Header
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("not JSON (%d): %v\n%s", r.Code, err, r.Body)
	}
	return m
}

// errCode is the error code of an error response.
func (r resp) errCode(t *testing.T) string {
	t.Helper()
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.Body)
	}
	for _, k := range []string{"message_vi", "message_en"} {
		if s, _ := e[k].(string); s == "" {
			t.Errorf("error without %s: %s", k, r.Body)
		}
	}
	code, _ := e["code"].(string)
	return code
}

func (r resp) fields(t *testing.T) map[string]any {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

// as says who calls: a session of an account, a bearer token, or nobody.
type as struct {
	account *store.Account
	token   string
}

func (e *env) do(who as, method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "text/csv"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if who.account != nil {
		req.Header.Set(testUserHeader, who.account.Address)
	}
	if who.token != "" {
		req.Header.Set("Authorization", "Bearer "+who.token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{Code: rec.Code, Body: rec.Body.Bytes(), Hdr: rec.Header()}
}

func (e *env) expect(r resp, code int) resp {
	e.t.Helper()
	if r.Code != code {
		e.t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
	}
	return r
}

// inbox returns the messages of an account's INBOX.
func (e *env) inbox(a *store.Account) []string {
	e.t.Helper()
	ctx := context.Background()
	mb, err := e.st.MailboxByName(ctx, a.ID, "INBOX")
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, _, err := e.st.Messages(ctx, mb.ID, false)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		b, err := e.st.ReadBlob(ctx, m.BlobID)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func (e *env) account(id int64) *store.Account {
	e.t.Helper()
	a, err := e.st.AccountByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) lock(a *store.Account) {
	e.t.Helper()
	if err := e.lf.Lock(context.Background(), a.ID, store.LockCompromised, "test", "test"); err != nil {
		e.t.Fatal(err)
	}
}
