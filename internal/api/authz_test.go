package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"govmail/internal/lifecycle"
	"govmail/internal/store"
)

// probe is one call of a route with the roles that may make it.
type probe struct {
	path  string
	body  any
	allow string // space-separated roles allowed; "all" = every role
}

// TestEveryRouteEveryRole walks every route with every role — operator,
// manager of unit A, manager of unit B, security contact of A, a user of A,
// nobody, and tokens with too few scopes — and checks that exactly the roles
// listed reach it (R7.5, R12.1, Điều 16: nobody reaches what is not theirs).
func TestEveryRouteEveryRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The roles call in this order: refusals first, so that an allowed call
	// that changes state (revoking, carrying out) runs after every refused one
	// on the same object.
	matrixRoles := []string{"anon", "tokRead", "tokFile", "user", "secA", "mgrB", "mgrA", "op"}
	who := map[string]as{
		"anon": {}, "user": {account: e.userA}, "secA": {account: e.secA}, "mgrB": {account: e.mgrB},
		"mgrA": {account: e.mgrA}, "op": {account: e.op}, "tokRead": {token: e.opReadToken},
	}
	// A unit manager's token for the document system: it may file, nothing else.
	tokFile, _, err := IssueToken(ctx, e.st, e.clk.Now(), e.mgrA, "QLVB", []string{ScopeRequestsWrite}, time.Time{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	who["tokFile"] = as{token: tokFile}

	// Objects of unit A that the destructive routes act on, one each.
	person := func(name string) *store.Account {
		r := e.expect(e.do(as{account: e.op}, "POST", "/api/v1/accounts", map[string]any{"unit": "ht.skhcn", "full_name": name}), 201)
		return e.account(int64(r.json(t)["account"].(map[string]any)["id"].(float64)))
	}
	lockT, restoreT, revokeT := person("Lường Văn Một"), person("Lường Văn Hai"), person("Lường Văn Ba")
	e.lock(restoreT)
	file := func(kind string) int64 {
		in := lifecycle.RequestInput{Kind: kind, UnitLP: "skhcn", DocNumber: "12/SKHCN-VP", DocDate: "2026-02-27", FiledBy: e.mgrA.Address}
		if kind == store.RequestCreate {
			in.People = []lifecycle.PersonSpec{{FullName: "Quàng Thị " + kind}}
		} else {
			in.Addresses = []string{e.userA.Address}
			in.Modify = &lifecycle.ModifySpec{QuotaBytes: 3 << 30}
		}
		r, err := e.lf.FileRequest(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	readReq, carryReq, rejectReq := file(store.RequestModify), file(store.RequestCreate), file(store.RequestModify)
	if err := e.lf.GrantDelegate(ctx, e.boxA.Address, e.userSub.Address, "test"); err != nil {
		t.Fatal(err)
	}
	csv := []byte("full_name,birth_year\nMùa A Sùng,1990\n")
	docQ := "unit=skhcn&doc_number=" + url.QueryEscape("15/SKHCN-TCCB") + "&doc_date=2026-02-27"

	probes := map[string][]probe{
		"GET /api/v1/openapi.json": {{"/api/v1/openapi.json", nil, "all"}},
		"GET /api/v1/me":           {{"/api/v1/me", nil, "tokRead tokFile user secA mgrB mgrA op"}},

		"GET /api/v1/units":          {{"/api/v1/units", nil, "tokRead secA mgrB mgrA op"}},
		"POST /api/v1/units":         {{"/api/v1/units", map[string]any{"name": "Ban Thử nghiệm", "kind": "other", "abbr": "btn"}, "op"}},
		"GET /api/v1/units/{unit}":   {{"/api/v1/units/skhcn", nil, "tokRead secA mgrA op"}, {fmt.Sprintf("/api/v1/units/%d", e.subA.ID), nil, "tokRead secA mgrA op"}},
		"PATCH /api/v1/units/{unit}": {{"/api/v1/units/skhcn", map[string]any{"security_contact": e.secA.Address}, "mgrA op"}},

		"GET /api/v1/accounts":  {{"/api/v1/accounts?unit=skhcn", nil, "tokRead secA mgrA op"}, {"/api/v1/accounts?unit=snv", nil, "tokRead mgrB op"}},
		"POST /api/v1/accounts": {{"/api/v1/accounts", map[string]any{"unit": "skhcn", "full_name": "Đỗ Thị Mai"}, "op"}},
		"GET /api/v1/accounts/{account}": {
			{fmt.Sprintf("/api/v1/accounts/%d", e.userA.ID), nil, "tokRead user secA mgrA op"},
			{"/api/v1/accounts/" + e.userSub.Address, nil, "tokRead secA mgrA op"},
			{"/api/v1/accounts/" + e.mgrB.Address, nil, "tokRead mgrB op"},
		},
		"POST /api/v1/accounts/{account}/password": {{fmt.Sprintf("/api/v1/accounts/%d/password", e.userSub.ID), nil, "op"}},
		"POST /api/v1/accounts/{account}/lock":     {{fmt.Sprintf("/api/v1/accounts/%d/lock", lockT.ID), map[string]any{"reason": "compromised", "doc_ref": "CV 3/CATP"}, "op"}},
		"POST /api/v1/accounts/{account}/restore":  {{fmt.Sprintf("/api/v1/accounts/%d/restore", restoreT.ID), map[string]any{"doc_ref": "16/SKHCN-VP"}, "op"}},
		"POST /api/v1/accounts/{account}/revoke":   {{fmt.Sprintf("/api/v1/accounts/%d/revoke", revokeT.ID), map[string]any{"doc_ref": "17/SKHCN-VP"}, "op"}},
		"PUT /api/v1/accounts/{account}/quota":     {{fmt.Sprintf("/api/v1/accounts/%d/quota", e.userA.ID), map[string]any{"quota_bytes": 3 << 30}, "op"}},

		"GET /api/v1/address/suggest": {{"/api/v1/address/suggest?unit=skhcn&name=" + url.QueryEscape("Lò Văn Xôm"), nil, "tokRead mgrA op"}},

		"GET /api/v1/requests": {{"/api/v1/requests?unit=skhcn", nil, "tokRead mgrA op"}, {"/api/v1/requests", nil, "tokRead mgrB mgrA op"}},
		"POST /api/v1/requests": {{"/api/v1/requests", map[string]any{"kind": "create", "unit": "skhcn", "doc_number": "20/SKHCN-VP",
			"doc_date": "2026-02-27", "people": []map[string]any{{"full_name": "Sồng A Lử", "unit": "ht.skhcn"}}}, "tokFile mgrA op"}},
		"POST /api/v1/requests/upload":      {{"/api/v1/requests/upload?" + docQ, csv, "tokFile mgrA op"}},
		"GET /api/v1/requests/{id}":         {{fmt.Sprintf("/api/v1/requests/%d", readReq), nil, "tokRead mgrA op"}},
		"POST /api/v1/requests/{id}/carry":  {{fmt.Sprintf("/api/v1/requests/%d/carry", carryReq), nil, "op"}},
		"POST /api/v1/requests/{id}/reject": {{fmt.Sprintf("/api/v1/requests/%d/reject", rejectReq), map[string]any{"reason": "Thiếu chữ ký"}, "op"}},

		"GET /api/v1/delegations": {
			{"/api/v1/delegations?unit_mailbox=" + e.boxA.Address, nil, "tokRead mgrA op"},
			{"/api/v1/delegations?delegate=" + e.userA.Address, nil, "tokRead user mgrA op"},
		},
		"POST /api/v1/delegations":                        {{"/api/v1/delegations", map[string]any{"unit_mailbox": e.boxA.Address, "delegate": e.userA.Address}, "mgrA op"}},
		"DELETE /api/v1/delegations/{mailbox}/{delegate}": {{"/api/v1/delegations/" + e.boxA.Address + "/" + e.userSub.Address, nil, "mgrA op"}},

		"POST /api/v1/absences": {{"/api/v1/absences", map[string]any{"account": e.userA.Address, "reason": "Đi học", "ends": "2026-06-30"}, "mgrA op"}},

		"GET /api/v1/logs":             {{"/api/v1/logs?address=" + e.userA.Address, nil, "op"}},
		"GET /api/v1/logs/export":      {{"/api/v1/logs/export", nil, "op"}},
		"GET /api/v1/authreports":      {{"/api/v1/authreports", nil, "op"}},
		"GET /api/v1/authreports/{id}": {{"/api/v1/authreports/1", nil, "op"}},
		"GET /api/v1/logs/counts":      {{"/api/v1/logs/counts?unit=skhcn", nil, "tokRead secA mgrA op"}, {"/api/v1/logs/counts?unit=ht.skhcn", nil, "tokRead secA mgrA op"}},
	}

	seen := map[string]bool{}
	for _, rt := range e.api.routes {
		key := rt.method + " " + rt.path
		seen[key] = true
		ps, ok := probes[key]
		if !ok {
			t.Errorf("route %s has no row in the matrix", key)
			continue
		}
		for _, p := range ps {
			allowed := map[string]bool{}
			for _, r := range strings.Fields(p.allow) {
				allowed[r] = true
			}
			for _, role := range matrixRoles {
				if _, ok := who[role]; !ok {
					t.Fatalf("role %s", role)
				}
				r := e.do(who[role], rt.method, p.path, p.body)
				want := allowed[role] || p.allow == "all"
				switch {
				case r.Code >= 500:
					t.Errorf("%s %s as %s: %d %s", rt.method, p.path, role, r.Code, r.Body)
				case want && (r.Code == 401 || r.Code == 403):
					t.Errorf("%s %s as %s: refused (%d %s), want allowed", rt.method, p.path, role, r.Code, r.Body)
				case !want && role == "anon" && r.Code != http.StatusUnauthorized:
					t.Errorf("%s %s anonymously: %d, want 401", rt.method, p.path, r.Code)
				case !want && role != "anon" && r.Code != http.StatusForbidden:
					t.Errorf("%s %s as %s: %d %s, want 403", rt.method, p.path, role, r.Code, r.Body)
				}
			}
		}
	}
	for key := range probes {
		if !seen[key] {
			t.Errorf("matrix row %s names no route", key)
		}
	}
}

// TestScopesNarrowNeverWiden: a token of a user with every scope still reaches
// only what the user may (scopes narrow an account's rights, never widen them).
func TestScopesNarrowNeverWiden(t *testing.T) {
	e := newEnv(t)
	tok, _, err := IssueToken(context.Background(), e.st, e.clk.Now(), e.userA, "all", Scopes(), time.Time{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	u := as{token: tok}
	e.expect(e.do(u, "GET", fmt.Sprintf("/api/v1/accounts/%d", e.userA.ID), nil), 200)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/units"}, {"GET", "/api/v1/logs"}, {"POST", fmt.Sprintf("/api/v1/accounts/%d/lock", e.mgrA.ID)},
		{"GET", fmt.Sprintf("/api/v1/accounts/%d", e.mgrA.ID)}, {"GET", "/api/v1/requests"},
	} {
		if r := e.do(u, c.method, c.path, map[string]any{"reason": "compromised", "doc_ref": "x"}); r.Code != 403 {
			t.Errorf("%s %s: %d", c.method, c.path, r.Code)
		}
	}
}
