package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTokensHashedScopedRevocableR7_7(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	exp := e.clk.Now().Add(30 * 24 * time.Hour)
	text, tok, err := IssueToken(ctx, e.st, e.clk.Now(), e.mgrA, "Hệ thống QLVB", []string{"read,requests:write", ScopeRead}, exp, e.op.Address)
	if err != nil {
		t.Fatal(err)
	}
	// gm_ and 43 base64url characters (32 random bytes); only the hash is kept.
	if !strings.HasPrefix(text, "gm_") || len(text) != 46 || strings.Join(tok.Scopes, " ") != "read requests:write" {
		t.Fatalf("%q %+v", text, tok)
	}
	stored, err := e.st.APITokens(ctx, e.mgrA.ID)
	if err != nil || len(stored) != 1 {
		t.Fatal(err, stored)
	}
	s := stored[0]
	if s.Hash != HashToken(text) || s.Hash == text || strings.Contains(s.Hash, text[3:]) || !strings.HasPrefix(text, s.Prefix) ||
		len(s.Prefix) >= len(text)/2 || s.CreatedBy != e.op.Address || !s.ExpiresAt.Equal(exp) || !s.LastUsedAt.IsZero() {
		t.Errorf("stored %+v", s)
	}

	// It works, and its use is recorded: last used, and a login of the account (R8.2).
	e.clk.Advance(time.Hour)
	me := e.expect(e.do(as{token: text}, "GET", "/api/v1/me", nil), 200).json(t)
	if me["account"].(map[string]any)["address"] != e.mgrA.Address {
		t.Errorf("%v", me)
	}
	if got, _ := e.st.APITokenByID(ctx, tok.ID); !got.LastUsedAt.Equal(e.clk.Now()) {
		t.Errorf("last used %v", got.LastUsedAt)
	}
	if a := e.account(e.mgrA.ID); !a.LastLoginAt.Equal(e.clk.Now()) {
		t.Errorf("login %v", a.LastLoginAt)
	}
	// Scoped: it files requests, it does not grant delegations although its
	// account (a unit manager) could.
	e.expect(e.do(as{token: text}, "POST", "/api/v1/delegations", map[string]any{"unit_mailbox": e.boxA.Address, "delegate": e.userA.Address}), 403)

	// Refusals: malformed, unknown, expired, of a locked account, revoked.
	for _, h := range []string{"Basic Zm9vOmJhcg==", "Bearer", "Bearer abc", "Bearer gm_" + strings.Repeat("A", 43)} {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.Header.Set("Authorization", h)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != 401 || !strings.Contains(rec.Body.String(), "invalid_token") {
			t.Errorf("%q: %d %s", h, rec.Code, rec.Body)
		}
	}
	if fails, _ := e.st.SearchAuthLog(ctx, "", time.Time{}, time.Time{}, 100); len(fails) == 0 {
		t.Error("failed token authentications are not in the auth log (R11.2)")
	}
	e.clk.Set(exp)
	if r := e.expect(e.do(as{token: text}, "GET", "/api/v1/me", nil), 401); r.errCode(t) != "token_expired" {
		t.Error(string(r.Body))
	}
	e.clk.Set(exp.Add(-time.Hour))
	e.lock(e.mgrA)
	// R8.1: a locked mailbox has no access, the API included.
	if r := e.expect(e.do(as{token: text}, "GET", "/api/v1/me", nil), 401); r.errCode(t) != "locked" {
		t.Error(string(r.Body))
	}
	if err := e.st.RevokeAPIToken(ctx, tok.ID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.st.RevokeAPIToken(ctx, tok.ID, e.clk.Now()); err == nil {
		t.Error("revoked twice")
	}
	if r := e.expect(e.do(as{token: text}, "GET", "/api/v1/me", nil), 401); r.errCode(t) != "token_revoked" {
		t.Error(string(r.Body))
	}
	// A token is never made for an account that is not active.
	if _, _, err := IssueToken(ctx, e.st, e.clk.Now(), e.account(e.mgrA.ID), "x", []string{ScopeRead}, time.Time{}, "test"); err == nil {
		t.Error("token issued for a locked account")
	}
	all, _ := e.st.APITokens(ctx, 0)
	if len(all) != 2 { // the operator's read token of newEnv, and this one
		t.Errorf("%d tokens", len(all))
	}
}

func TestParseScopesAndExpiry(t *testing.T) {
	if s, err := ParseScopes([]string{"requests:write, read", "read"}); err != nil || strings.Join(s, " ") != "read requests:write" {
		t.Errorf("%v %v", s, err)
	}
	for _, bad := range [][]string{nil, {""}, {"admin"}, {"read,write"}} {
		if _, err := ParseScopes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, ict)
	for in, want := range map[string]time.Time{
		"never":      {},
		"90d":        now.AddDate(0, 0, 90),
		"720h":       now.Add(720 * time.Hour),
		"2026-12-31": time.Date(2027, 1, 1, 0, 0, 0, 0, ict),
	} {
		got, err := ParseExpiry(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "-5d", "2026-01-01", "-1h"} {
		if _, err := ParseExpiry(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSessionMustChangeR6_1(t *testing.T) {
	e := newEnv(t)
	if err := e.st.SetPassword(context.Background(), e.userA.ID, "x", true, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if r := e.expect(e.do(as{account: e.userA}, "GET", "/api/v1/me", nil), 403); r.errCode(t) != "must_change_password" {
		t.Error(string(r.Body))
	}
	e.lock(e.userSub)
	if r := e.expect(e.do(as{account: e.userSub}, "GET", "/api/v1/me", nil), 401); r.errCode(t) != "locked" {
		t.Error(string(r.Body))
	}
}
