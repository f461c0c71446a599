package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"govmail/internal/store"
)

// Every route: the happy path and its validation errors. Who may call it is
// TestEveryRouteEveryRole's.

func TestErrorsAreJSON(t *testing.T) {
	e := newEnv(t)
	op := as{account: e.op}
	r := e.expect(e.do(op, "GET", "/api/v1/nothing", nil), 404)
	if r.errCode(t) != "not_found" || !strings.HasPrefix(r.Hdr.Get("Content-Type"), "application/json") {
		t.Errorf("%s", r.Body)
	}
	r = e.expect(e.do(op, "DELETE", "/api/v1/units", nil), 405)
	if r.errCode(t) != "method_not_allowed" || !strings.Contains(r.Hdr.Get("Allow"), "GET") {
		t.Errorf("%v %s", r.Hdr, r.Body)
	}
	r = e.expect(e.do(as{}, "GET", "/api/v1/units", nil), 401)
	if r.errCode(t) != "unauthorized" || r.Hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("%s", r.Body)
	}
	// A body that is not JSON, or has unknown fields, or the wrong content type.
	if r := e.expect(e.do(op, "POST", "/api/v1/units", "{"), 400); r.errCode(t) != "bad_json" {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", "/api/v1/units", `{"name":"x","kind":"other","colour":"red"}`), 400); r.fields(t)["colour"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", "/api/v1/units", `{"name":5}`), 400); r.fields(t)["name"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", "/api/v1/units", []byte("a,b")), 415); r.errCode(t) != "unsupported_media_type" {
		t.Error(string(r.Body))
	}
	if r := e.do(op, "GET", "/api/v1/me", nil); r.Hdr.Get("Cache-Control") != "no-store" {
		t.Error("responses may carry one-time passwords: no-store")
	}
}

func TestMe(t *testing.T) {
	e := newEnv(t)
	m := e.expect(e.do(as{account: e.mgrA}, "GET", "/api/v1/me", nil), 200).json(t)
	if fmt.Sprint(m["manages"]) != "[skhcn]" || m["via"] != "session" || m["operator"] != false || len(m["scopes"].([]any)) != len(Scopes()) {
		t.Errorf("%v", m)
	}
	m = e.expect(e.do(as{token: e.opReadToken}, "GET", "/api/v1/me", nil), 200).json(t)
	if fmt.Sprint(m["scopes"]) != "[read]" || m["via"] != "token" || m["operator"] != true {
		t.Errorf("%v", m)
	}
	m = e.expect(e.do(as{account: e.secA}, "GET", "/api/v1/me", nil), 200).json(t)
	if fmt.Sprint(m["security_contact_of"]) != "[skhcn]" {
		t.Errorf("%v", m)
	}
}

func TestUnits(t *testing.T) {
	e := newEnv(t)
	op, mgrA := as{account: e.op}, as{account: e.mgrA}

	// List: flat for operators, a tree on request, only their units for a manager.
	all := e.expect(e.do(op, "GET", "/api/v1/units", nil), 200).json(t)["units"].([]any)
	if len(all) < 90 {
		t.Errorf("%d units", len(all))
	}
	tree := e.expect(e.do(mgrA, "GET", "/api/v1/units?tree=true", nil), 200).json(t)["units"].([]any)
	if len(tree) != 1 || tree[0].(map[string]any)["local_part"] != "skhcn" ||
		tree[0].(map[string]any)["children"].([]any)[0].(map[string]any)["local_part"] != "ht.skhcn" {
		t.Errorf("tree %v", tree)
	}
	if u := tree[0].(map[string]any); u["manager"].(map[string]any)["address"] != e.mgrA.Address || u["security_contact"].(map[string]any)["address"] != e.secA.Address {
		t.Errorf("people %v", u)
	}
	// R12.1: units without a security contact (skhcn has one).
	none := e.expect(e.do(op, "GET", "/api/v1/units?without_security_contact=true&kind=province_agency", nil), 200).json(t)["units"].([]any)
	for _, u := range none {
		if u.(map[string]any)["local_part"] == "skhcn" || u.(map[string]any)["kind"] != "province_agency" {
			t.Errorf("%v", u)
		}
	}
	if r := e.expect(e.do(op, "GET", "/api/v1/units?tree=perhaps&kind=planet", nil), 400); r.fields(t)["tree"] == nil || r.fields(t)["kind"] == nil {
		t.Error(string(r.Body))
	}

	// Create: a sub-unit gets abbr.parent (R5.1c); a clash is 409 (R5.5, R5.7);
	// a reserved name is refused by the rule (R5.11).
	u := e.expect(e.do(op, "POST", "/api/v1/units", map[string]any{"name": "Phòng Kế hoạch - Tài chính", "kind": "sub_unit", "parent": "skhcn",
		"abbr": "khtc", "code": "000.01", "manager": e.mgrA.Address}), 201).json(t)
	if u["local_part"] != "khtc.skhcn" || u["address"] != "khtc.skhcn@sonla.gov.vn" || u["code"] != "000.01" || u["manager"].(map[string]any)["id"] != float64(e.mgrA.ID) {
		t.Errorf("%v", u)
	}
	r := e.expect(e.do(op, "POST", "/api/v1/units", map[string]any{"name": "Sở Nội vụ mới", "kind": "province_agency", "abbr": "snv"}), 409)
	if r.errCode(t) != "address_taken" || !strings.Contains(r.json(t)["error"].(map[string]any)["message_vi"].(string), "snv@sonla.gov.vn") {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", "/api/v1/units", map[string]any{"name": "Bưu cục", "kind": "other", "abbr": "postmaster"}), 422); r.errCode(t) != "address_reserved" || r.fields(t)["abbr"] == nil {
		t.Error(string(r.Body))
	}
	r = e.expect(e.do(op, "POST", "/api/v1/units", map[string]any{"kind": "sub_unit"}), 400)
	if f := r.fields(t); f["name"] == nil || f["parent"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", "/api/v1/units", map[string]any{"name": "X", "kind": "sub_unit", "parent": "khongco", "abbr": "x"}), 422); r.fields(t)["parent"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", "/api/v1/units", map[string]any{"name": "X", "kind": "other", "abbr": "x", "manager": "nobody@sonla.gov.vn"}), 422); r.fields(t)["manager"] == nil {
		t.Error(string(r.Body))
	}

	// Get by local part or id; 404 otherwise.
	g := e.expect(e.do(mgrA, "GET", fmt.Sprintf("/api/v1/units/%d", e.subA.ID), nil), 200).json(t)
	if g["parent"] != "skhcn" || g["kind"] != "sub_unit" {
		t.Errorf("%v", g)
	}
	e.expect(e.do(op, "GET", "/api/v1/units/khongco", nil), 404)

	// Update: a manager names the security contact among their own staff
	// (R12.1) and nothing else; operators change the rest.
	upd := e.expect(e.do(mgrA, "PATCH", "/api/v1/units/skhcn", map[string]any{"security_contact": e.userSub.Address}), 200).json(t)
	if upd["security_contact"].(map[string]any)["address"] != e.userSub.Address {
		t.Errorf("%v", upd)
	}
	if a, _ := e.auditOf("skhcn", "unit.update"); a == "" {
		t.Error("unit update not audited")
	}
	e.expect(e.do(mgrA, "PATCH", "/api/v1/units/skhcn", map[string]any{"security_contact": e.mgrB.Address}), 403)
	e.expect(e.do(mgrA, "PATCH", "/api/v1/units/skhcn", map[string]any{"name": "Sở KH&CN"}), 403)
	e.expect(e.do(mgrA, "PATCH", "/api/v1/units/skhcn", map[string]any{"manager": e.userA.Address}), 403)
	e.expect(e.do(as{account: e.mgrB}, "PATCH", "/api/v1/units/skhcn", map[string]any{"security_contact": e.mgrB.Address}), 403)
	upd = e.expect(e.do(op, "PATCH", "/api/v1/units/skhcn", map[string]any{"name": "Sở Khoa học và Công nghệ tỉnh Sơn La", "notes": "đơn vị vận hành", "security_contact": ""}), 200).json(t)
	if upd["name"] != "Sở Khoa học và Công nghệ tỉnh Sơn La" || upd["security_contact"] != nil || upd["abbr"] != "skhcn" {
		t.Errorf("%v", upd)
	}
	if r := e.expect(e.do(op, "PATCH", "/api/v1/units/skhcn", map[string]any{"kind": "other", "abbr": "kh", "name": " "}), 400); len(r.fields(t)) != 3 {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "PATCH", "/api/v1/units/skhcn", map[string]any{"security_contact": e.boxA.Address}), 422); r.fields(t)["security_contact"] == nil {
		t.Error(string(r.Body))
	}
}

// auditOf finds the detail and actor of the latest audit entry of action for target.
// audited tells whether an audit entry of action for target by actor has a
// detail containing detail.
func (e *env) audited(target, action, detail, actor string) bool {
	e.t.Helper()
	es, err := e.st.SearchAudit(context.Background(), target, time.Time{}, time.Time{}, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, x := range es {
		if x.Action == action && strings.Contains(x.Detail, detail) && x.Actor == actor {
			return true
		}
	}
	return false
}

func (e *env) auditOf(target, action string) (string, string) {
	e.t.Helper()
	es, err := e.st.SearchAudit(context.Background(), target, time.Time{}, time.Time{}, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	detail, actor := "", ""
	for _, x := range es {
		if x.Action == action && detail == "" {
			detail, actor = x.Detail, x.Actor
		}
	}
	return detail, actor
}

func TestAccounts(t *testing.T) {
	e := newEnv(t)
	op, mgrA := as{account: e.op}, as{account: e.mgrA}

	// Search by folded name (R5.1 folding: "xom" finds "Xôm") and by address.
	got := e.expect(e.do(op, "GET", "/api/v1/accounts?q=xom", nil), 200).json(t)["accounts"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["address"] != e.userA.Address {
		t.Errorf("%v", got)
	}
	got = e.expect(e.do(op, "GET", "/api/v1/accounts?q=minhhv.snv", nil), 200).json(t)["accounts"].([]any)
	if len(got) != 1 {
		t.Errorf("%v", got)
	}
	// A manager sees their unit with its sub-units, never another unit.
	got = e.expect(e.do(mgrA, "GET", "/api/v1/accounts", nil), 200).json(t)["accounts"].([]any)
	addrs := map[string]bool{}
	for _, a := range got {
		addrs[a.(map[string]any)["address"].(string)] = true
	}
	if !addrs[e.userSub.Address] || !addrs[e.boxA.Address] || addrs[e.mgrB.Address] || addrs[e.op.Address] {
		t.Errorf("%v", addrs)
	}
	if r := e.expect(e.do(op, "GET", "/api/v1/accounts?state=asleep&limit=0", nil), 400); len(r.fields(t)) != 2 {
		t.Error(string(r.Body))
	}
	e.expect(e.do(op, "GET", "/api/v1/accounts?unit=khongco", nil), 404)

	// Create with the rule of Điều 5.2; the one-time password comes back once.
	c := e.expect(e.do(op, "POST", "/api/v1/accounts", map[string]any{"unit": "ht.skhcn", "full_name": "Hoàng Văn Đức", "birth_year": 1988}), 201).json(t)
	acc := c["account"].(map[string]any)
	pw, _ := c["one_time_password"].(string)
	if acc["address"] != "duchv.skhcn@sonla.gov.vn" || acc["must_change_password"] != true || acc["unit"] != "ht.skhcn" || len(pw) < 8 {
		t.Errorf("%v", c)
	}
	if acc["quota_bytes"] != float64(2147483648) {
		t.Errorf("default quota %v", acc["quota_bytes"])
	}
	// R5.4: the clash takes the birth year.
	c = e.expect(e.do(op, "POST", "/api/v1/accounts", map[string]any{"unit": "skhcn", "full_name": "Hà Văn Đức", "birth_year": 1990}), 201).json(t)
	if c["account"].(map[string]any)["address"] != "duchv90.skhcn@sonla.gov.vn" {
		t.Errorf("%v", c)
	}
	// A unit mailbox; a chosen password is checked (R6.3) and not echoed.
	c = e.expect(e.do(op, "POST", "/api/v1/accounts", map[string]any{"kind": "unit", "unit": "snv", "password": "Tr@ng5ang#2026"}), 201).json(t)
	if c["account"].(map[string]any)["address"] != "snv@sonla.gov.vn" || c["one_time_password"] != nil {
		t.Errorf("%v", c)
	}
	r := e.expect(e.do(op, "POST", "/api/v1/accounts", map[string]any{"unit": "skhcn", "full_name": "Vì Văn Tư", "password": "abc"}), 422)
	if r.errCode(t) != "password_policy" || r.fields(t)["password"] == nil {
		t.Error(string(r.Body))
	}
	r = e.expect(e.do(op, "POST", "/api/v1/accounts", map[string]any{"unit": "skhcn", "full_name": "Vì Văn Tư", "override": e.mgrA.Address[:strings.IndexByte(e.mgrA.Address, '@')]}), 409)
	if r.errCode(t) != "address_taken" || r.fields(t)["override"] == nil {
		t.Error(string(r.Body))
	}
	r = e.expect(e.do(op, "POST", "/api/v1/accounts", map[string]any{"kind": "robot", "override": "Abuse", "birth_year": 1800, "quota_bytes": -1}), 400)
	if f := r.fields(t); f["kind"] == nil || f["unit"] == nil || f["override"] == nil || f["birth_year"] == nil || f["quota_bytes"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", "/api/v1/accounts", map[string]any{"unit": "khongco", "full_name": "Vì Văn Tư"}), 422); r.fields(t)["unit"] == nil {
		t.Error(string(r.Body))
	}

	// Get: the holder sees themselves, with declared absences (R16.1).
	e.expect(e.do(mgrA, "POST", "/api/v1/absences", map[string]any{"account": e.userA.Address, "reason": "Nghỉ phép", "ends": "2026-03-20"}), 201)
	g := e.expect(e.do(as{account: e.userA}, "GET", "/api/v1/accounts/"+e.userA.Address, nil), 200).json(t)
	abs := g["absences"].([]any)
	if len(abs) != 1 || abs[0].(map[string]any)["in_force"] != true || g["password_hash"] != nil {
		t.Errorf("%v", g)
	}
	if strings.Contains(string(e.do(op, "GET", "/api/v1/accounts/"+e.userA.Address, nil).Body), "argon2") {
		t.Error("a password hash leaked")
	}
	e.expect(e.do(op, "GET", "/api/v1/accounts/999999", nil), 404)
}

func TestAccountActions(t *testing.T) {
	e := newEnv(t)
	op := as{account: e.op}
	path := func(a *store.Account, verb string) string { return fmt.Sprintf("/api/v1/accounts/%d/%s", a.ID, verb) }

	// Reset: one-time, must change (R6.1); a weak chosen one is refused (R6.3).
	r := e.expect(e.do(op, "POST", path(e.userA, "password"), nil), 200).json(t)
	if r["one_time_password"] == "" || r["account"].(map[string]any)["must_change_password"] != true {
		t.Errorf("%v", r)
	}
	if d, actor := e.auditOf(e.userA.Address, "account.password_reset"); d == "" || actor != e.op.Address {
		t.Error("reset not audited")
	}
	if r := e.expect(e.do(op, "POST", path(e.userA, "password"), map[string]any{"password": "password"}), 422); r.errCode(t) != "password_policy" {
		t.Error(string(r.Body))
	}

	// Lock with reason and document (R8.3); wrong reason, no evidence, twice.
	r = e.expect(e.do(op, "POST", path(e.userA, "lock"), map[string]any{"reason": "compromised", "doc_ref": "CV 12/CATP-ANM", "note": "phát tán mã độc"}), 200).json(t)
	if r["account"].(map[string]any)["state"] != "locked" || r["account"].(map[string]any)["lock_reason"] != "compromised" {
		t.Errorf("%v", r)
	}
	if d, _ := e.auditOf(e.userA.Address, "account.lock"); !strings.Contains(d, "CV 12/CATP-ANM") {
		t.Errorf("lock audit %q", d)
	}
	if r := e.expect(e.do(op, "POST", path(e.userA, "lock"), map[string]any{"reason": "compromised", "doc_ref": "x"}), 409); r.errCode(t) != "wrong_state" {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", path(e.userSub, "lock"), map[string]any{"reason": "bored"}), 400); r.fields(t)["reason"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", path(e.userSub, "lock"), map[string]any{"reason": "prohibited_content"}), 400); r.fields(t)["doc_ref"] == nil {
		t.Error(string(r.Body))
	}
	e.expect(e.do(op, "POST", "/api/v1/accounts/999999/lock", map[string]any{"reason": "operator", "note": "x"}), 404)

	// Restore on a document (R8.5): one-time password, active again.
	if r := e.expect(e.do(op, "POST", path(e.userA, "restore"), map[string]any{}), 400); r.fields(t)["doc_ref"] == nil {
		t.Error(string(r.Body))
	}
	r = e.expect(e.do(op, "POST", path(e.userA, "restore"), map[string]any{"doc_ref": "18/SKHCN-VP ngày 02/03/2026"}), 200).json(t)
	if r["account"].(map[string]any)["state"] != "active" || r["one_time_password"] == "" || r["account"].(map[string]any)["must_change_password"] != true {
		t.Errorf("%v", r)
	}
	if d, _ := e.auditOf(e.userA.Address, "account.restore.reference"); !strings.Contains(d, "18/SKHCN-VP") {
		t.Errorf("restore reference %q", d)
	}
	if r := e.expect(e.do(op, "POST", path(e.userA, "restore"), map[string]any{"doc_ref": "x"}), 409); r.errCode(t) != "wrong_state" {
		t.Error(string(r.Body))
	}

	// Quota (Điều 11.2).
	r = e.expect(e.do(op, "PUT", path(e.userA, "quota"), map[string]any{"quota_bytes": 5 << 30}), 200).json(t)
	if r["account"].(map[string]any)["quota_bytes"] != float64(5<<30) {
		t.Errorf("%v", r)
	}
	for _, body := range []any{map[string]any{}, map[string]any{"quota_bytes": 0}, map[string]any{"quota_bytes": int64(1) << 50}} {
		if r := e.expect(e.do(op, "PUT", path(e.userA, "quota"), body), 400); r.fields(t)["quota_bytes"] == nil {
			t.Error(string(r.Body))
		}
	}

	// Revoke on a document (R7.4): gone for good; twice is a state conflict.
	if r := e.expect(e.do(op, "POST", path(e.userSub, "revoke"), map[string]any{"note": "nghỉ hưu"}), 400); r.fields(t)["doc_ref"] == nil {
		t.Error(string(r.Body))
	}
	r = e.expect(e.do(op, "POST", path(e.userSub, "revoke"), map[string]any{"doc_ref": "19/QĐ-SKHCN", "note": "nghỉ hưu"}), 200).json(t)
	if r["account"].(map[string]any)["state"] != "revoked" {
		t.Errorf("%v", r)
	}
	e.expect(e.do(op, "POST", path(e.userSub, "revoke"), map[string]any{"doc_ref": "19/QĐ-SKHCN"}), 409)
	e.expect(e.do(op, "POST", path(e.userSub, "password"), nil), 409)
	e.expect(e.do(op, "PUT", path(e.userSub, "quota"), map[string]any{"quota_bytes": 1 << 30}), 409)
}

func TestSuggestAddress(t *testing.T) {
	e := newEnv(t)
	mgrA := as{account: e.mgrA}
	q := func(v url.Values) string { return "/api/v1/address/suggest?" + v.Encode() }
	s := e.expect(e.do(mgrA, "GET", q(url.Values{"unit": {"ht.skhcn"}, "name": {"Cầm Thị Duyên"}, "birth_year": {"1985"}}), nil), 200).json(t)
	// R5.8: the sở's unit part for staff of a phòng; R5.4: the birth year on a clash.
	if s["address"] != "duyenct85.skhcn@sonla.gov.vn" || s["base"] != "duyenct" {
		t.Errorf("%v", s)
	}
	r := e.expect(e.do(mgrA, "GET", q(url.Values{"birth_year": {"99999"}}), nil), 400)
	if f := r.fields(t); f["unit"] == nil || f["name"] == nil || f["birth_year"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(mgrA, "GET", q(url.Values{"unit": {"skhcn"}, "name": {"!!!"}}), nil), 422); r.fields(t)["name"] == nil {
		t.Error(string(r.Body))
	}
	e.expect(e.do(mgrA, "GET", q(url.Values{"unit": {"snv"}, "name": {"Lò Văn Xôm"}}), nil), 403)
}

func TestRequests(t *testing.T) {
	e := newEnv(t)
	op, mgrA := as{account: e.op}, as{account: e.mgrA}
	good := map[string]any{"kind": "create", "unit": "skhcn", "doc_number": "21/SKHCN-VP", "doc_date": "2026-02-27",
		"people": []map[string]any{{"full_name": "Mùa A Sùng", "birth_year": 1995}, {"full_name": "Giàng Thị Dế", "unit": "ht.skhcn"}}}
	req := e.expect(e.do(mgrA, "POST", "/api/v1/requests", good), 201).json(t)
	if req["state"] != "received" || req["filed_by"] != e.mgrA.Address || req["doc_number"] != "21/SKHCN-VP" ||
		len(req["events"].([]any)) != 1 || len(req["payload"].(map[string]any)["people"].([]any)) != 2 {
		t.Errorf("%v", req)
	}

	// Field by field (400), then the rules (422).
	r := e.expect(e.do(mgrA, "POST", "/api/v1/requests", map[string]any{"kind": "renew", "doc_date": "02/03/2026"}), 400)
	if f := r.fields(t); f["kind"] == nil || f["unit"] == nil || f["doc_number"] == nil || f["doc_date"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(mgrA, "POST", "/api/v1/requests", map[string]any{"kind": "create", "unit": "skhcn", "doc_number": "1", "doc_date": "2026-03-09",
		"people": []map[string]any{{"full_name": ""}}}), 400); r.fields(t)["doc_date"] == nil || r.fields(t)["people[0].full_name"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(mgrA, "POST", "/api/v1/requests", map[string]any{"kind": "revoke", "unit": "skhcn", "doc_number": "1", "doc_date": "2026-03-02"}), 400); r.fields(t)["addresses"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(op, "POST", "/api/v1/requests", map[string]any{"kind": "revoke", "unit": "khongco", "doc_number": "1", "doc_date": "2026-03-02", "addresses": []string{e.userA.Address}}), 422); r.fields(t)["unit"] == nil {
		t.Error(string(r.Body))
	}
	// A person of another unit in a create request; a mailbox of another unit.
	bad := map[string]any{"kind": "create", "unit": "skhcn", "doc_number": "1", "doc_date": "2026-03-02", "people": []map[string]any{{"full_name": "A B", "unit": "snv"}}}
	if r := e.expect(e.do(op, "POST", "/api/v1/requests", bad), 422); r.fields(t)["people[0].unit"] == nil {
		t.Error(string(r.Body))
	}
	r = e.expect(e.do(mgrA, "POST", "/api/v1/requests", map[string]any{"kind": "revoke", "unit": "skhcn", "doc_number": "1", "doc_date": "2026-03-02", "addresses": []string{e.mgrB.Address}}), 422)
	if r.errCode(t) != "rule_refused" || !strings.Contains(r.json(t)["error"].(map[string]any)["message_vi"].(string), "không thuộc") {
		t.Error(string(r.Body))
	}
	// A manager files for their own unit only.
	e.expect(e.do(as{account: e.mgrB}, "POST", "/api/v1/requests", good), 403)

	// List and get, with the trail; ?state= is checked.
	list := e.expect(e.do(mgrA, "GET", "/api/v1/requests?state=received&kind=create", nil), 200).json(t)["requests"].([]any)
	if len(list) != 1 {
		t.Errorf("%v", list)
	}
	e.expect(e.do(mgrA, "GET", "/api/v1/requests?state=lost&since=yesterday", nil), 400)
	id := int64(req["id"].(float64))
	e.expect(e.do(mgrA, "GET", fmt.Sprintf("/api/v1/requests/%d", id), nil), 200)
	e.expect(e.do(mgrA, "GET", "/api/v1/requests/424242", nil), 404)
	e.expect(e.do(mgrA, "GET", "/api/v1/requests/abc", nil), 404)

	// Carry out a create request: the accounts exist with one-time passwords.
	out := e.expect(e.do(op, "POST", fmt.Sprintf("/api/v1/requests/%d/carry", id), nil), 200).json(t)
	pws := out["passwords"].(map[string]any)
	if out["request"].(map[string]any)["state"] != "done" || len(pws) != 2 || pws["sungma.skhcn@sonla.gov.vn"] == nil || len(out["lines"].([]any)) != 2 {
		t.Errorf("%v", out)
	}
	if r := e.expect(e.do(op, "POST", fmt.Sprintf("/api/v1/requests/%d/carry", id), nil), 409); r.errCode(t) != "wrong_state" {
		t.Error(string(r.Body))
	}

	// Reject needs a reason (Điều 7.3), which reaches the unit mailbox (R7.2).
	rid := int64(e.expect(e.do(mgrA, "POST", "/api/v1/requests", map[string]any{"kind": "modify", "unit": "skhcn", "doc_number": "22/SKHCN-VP",
		"doc_date": "2026-03-02", "addresses": []string{e.userA.Address}, "modify": map[string]any{"new_name": "Lò Văn Xôm B"}}), 201).json(t)["id"].(float64))
	if r := e.expect(e.do(op, "POST", fmt.Sprintf("/api/v1/requests/%d/reject", rid), map[string]any{"reason": " "}), 400); r.fields(t)["reason"] == nil {
		t.Error(string(r.Body))
	}
	rej := e.expect(e.do(op, "POST", fmt.Sprintf("/api/v1/requests/%d/reject", rid), map[string]any{"reason": "Văn bản chưa có chữ ký"}), 200).json(t)
	if rej["request"].(map[string]any)["state"] != "rejected" || rej["request"].(map[string]any)["reason"] != "Văn bản chưa có chữ ký" {
		t.Errorf("%v", rej)
	}
	found := false
	for _, m := range e.inbox(e.boxA) {
		found = found || strings.Contains(m, "22/SKHCN-VP")
	}
	if !found {
		t.Error("rejection not mailed to the unit (R7.2)")
	}
	if r := e.expect(e.do(mgrA, "POST", "/api/v1/requests", map[string]any{"kind": "modify", "unit": "skhcn", "doc_number": "1", "doc_date": "2026-03-02",
		"addresses": []string{e.userA.Address}, "modify": map[string]any{}}), 400); r.fields(t)["modify"] == nil {
		t.Error(string(r.Body))
	}
}

func TestUploadStaffListR16_2(t *testing.T) {
	e := newEnv(t)
	mgrA := as{account: e.mgrA}
	q := "/api/v1/requests/upload?unit=skhcn&doc_number=" + url.QueryEscape("23/SKHCN-TCCB") + "&doc_date=2026-02-26"
	// Excel in a Vietnamese locale: BOM, ';' separators, Vietnamese headers, an empty last row.
	list := "\ufeffHọ và tên;Năm sinh;Đơn vị\nMùa A Sùng;1995;\nGiàng Thị Dế;;ht.skhcn\n;;\n"
	req := e.expect(e.do(mgrA, "POST", q, []byte(list)), 201).json(t)
	people := req["payload"].(map[string]any)["people"].([]any)
	if req["kind"] != "create" || len(people) != 2 || people[0].(map[string]any)["birth_year"] != float64(1995) ||
		people[1].(map[string]any)["unit"] != "ht.skhcn" || people[0].(map[string]any)["full_name"] != "Mùa A Sùng" {
		t.Errorf("%v", req)
	}
	// A multipart form from a browser, fields in the form.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"unit": "skhcn", "doc_number": "24/SKHCN-TCCB", "doc_date": "2026-02-26"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "danhsach.csv")
	cw := csv.NewWriter(fw)
	cw.WriteAll([][]string{{"full_name", "birth_year"}, {"Lò Thị Ơn", "2000"}})
	mw.Close()
	hr := httptest.NewRequest("POST", "/api/v1/requests/upload", &buf)
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	hr.Header.Set(testUserHeader, e.mgrA.Address)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	if rec.Code != 201 || !strings.Contains(rec.Body.String(), "24/SKHCN-TCCB") {
		t.Errorf("multipart: %d %s", rec.Code, rec.Body)
	}
	// Errors name the line.
	r := e.expect(e.do(mgrA, "POST", q, []byte("full_name,birth_year\n,1990\nA B,19x0\n")), 400)
	if f, _ := r.fields(t)["file"].(map[string]any); f == nil || !strings.Contains(f["message_vi"].(string), "dòng 2") || !strings.Contains(f["message_en"].(string), "line 3") {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(mgrA, "POST", q, []byte("ten,tuoi\nA,1\n")), 400); r.fields(t)["file"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(mgrA, "POST", q, []byte("full_name\nNguy\xe1n\n")), 400); !strings.Contains(r.fields(t)["file"].(map[string]any)["message_en"].(string), "UTF-8") {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(mgrA, "POST", "/api/v1/requests/upload?unit=skhcn", []byte("full_name\nA B\n")), 400); r.fields(t)["doc_number"] == nil {
		t.Error(string(r.Body))
	}
	e.expect(e.do(mgrA, "POST", q, map[string]any{"people": 1}), 415)
	// Staff of another unit cannot be slipped into the list.
	e.expect(e.do(mgrA, "POST", q, []byte("full_name,unit\nA B,snv\n")), 422)
}

func TestDelegationsR9_1(t *testing.T) {
	e := newEnv(t)
	mgrA := as{account: e.mgrA}
	d := e.expect(e.do(mgrA, "POST", "/api/v1/delegations", map[string]any{"unit_mailbox": e.boxA.Address, "delegate": e.userA.Address}), 201).json(t)
	if d["unit_mailbox"] != e.boxA.Address || d["delegate"] != e.userA.Address || d["granted_by"] != e.mgrA.Address {
		t.Errorf("%v", d)
	}
	// The delegate sees it; so does the manager, with no filter.
	for _, who := range []as{{account: e.userA}, mgrA, {account: e.op}} {
		list := e.expect(e.do(who, "GET", "/api/v1/delegations", nil), 200).json(t)["delegations"].([]any)
		if len(list) != 1 {
			t.Errorf("%v: %v", who.account.Address, list)
		}
	}
	if r := e.expect(e.do(mgrA, "POST", "/api/v1/delegations", map[string]any{}), 400); len(r.fields(t)) != 2 {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(mgrA, "POST", "/api/v1/delegations", map[string]any{"unit_mailbox": e.userSub.Address, "delegate": e.userA.Address}), 422); r.fields(t)["unit_mailbox"] == nil {
		t.Error(string(r.Body))
	}
	if r := e.expect(e.do(mgrA, "POST", "/api/v1/delegations", map[string]any{"unit_mailbox": e.boxA.Address, "delegate": "ai@sonla.gov.vn"}), 422); r.fields(t)["delegate"] == nil {
		t.Error(string(r.Body))
	}
	// Only to the unit's own staff.
	e.expect(e.do(mgrA, "POST", "/api/v1/delegations", map[string]any{"unit_mailbox": e.boxA.Address, "delegate": e.mgrB.Address}), 403)
	// Removal takes effect at once; twice is 404.
	e.expect(e.do(mgrA, "DELETE", "/api/v1/delegations/"+e.boxA.Address+"/"+e.userA.Address, nil), 204)
	if ds, _ := e.st.Delegations(context.Background(), e.boxA.ID); len(ds) != 0 {
		t.Errorf("%v", ds)
	}
	if r := e.expect(e.do(mgrA, "DELETE", "/api/v1/delegations/"+e.boxA.Address+"/"+e.userA.Address, nil), 404); r.errCode(t) != "not_found" {
		t.Error(string(r.Body))
	}
	e.expect(e.do(mgrA, "DELETE", "/api/v1/delegations/nobody@sonla.gov.vn/"+e.userA.Address, nil), 404)
}

func TestAbsencesR8_2(t *testing.T) {
	e := newEnv(t)
	mgrA := as{account: e.mgrA}
	a := e.expect(e.do(mgrA, "POST", "/api/v1/absences", map[string]any{"account": e.userSub.Address, "reason": "Biệt phái", "ends": "2026-09-30"}), 201).json(t)
	if abs := a["absences"].([]any); len(abs) != 1 || abs[0].(map[string]any)["declared_by"] != e.mgrA.Address || abs[0].(map[string]any)["ends"] != "2026-09-30" {
		t.Errorf("%v", a)
	}
	r := e.expect(e.do(mgrA, "POST", "/api/v1/absences", map[string]any{"account": e.userSub.Address, "ends": "2026-03-01"}), 400)
	if f := r.fields(t); f["reason"] == nil || f["ends"] == nil {
		t.Error(string(r.Body))
	}
	e.expect(e.do(mgrA, "POST", "/api/v1/absences", map[string]any{"account": "ai@sonla.gov.vn", "reason": "x", "ends": "2026-04-01"}), 422)
	// An absence does not unlock: a locked account takes a restore request.
	e.lock(e.userA)
	if r := e.expect(e.do(mgrA, "POST", "/api/v1/absences", map[string]any{"account": e.userA.Address, "reason": "x", "ends": "2026-04-01"}), 409); r.errCode(t) != "wrong_state" {
		t.Error(string(r.Body))
	}
	e.expect(e.do(mgrA, "POST", "/api/v1/absences", map[string]any{"account": e.mgrB.Address, "reason": "x", "ends": "2026-04-01"}), 403)
}

func TestTransactionLogR11_3_R14_5(t *testing.T) {
	e := newEnv(t)
	op := as{account: e.op}
	ctx := context.Background()
	base := e.clk.Now().Add(-48 * time.Hour)
	// Rows in the order of their time, as a running system writes them.
	rows := []store.LogEntry{{Time: base.Add(-time.Hour), Direction: "internal", Proto: "submission", EnvelopeFrom: e.userA.Address, Recipient: e.userSub.Address,
		ClientIP: "10.0.0.5", Size: 500, MessageID: "<x@sonla.gov.vn>", AuthUser: e.userA.Address, Status: store.LogDelivered},
		{Time: base.Add(-time.Minute), Direction: "in", Proto: "smtp", EnvelopeFrom: "spam@example.net", Recipient: e.mgrB.Address,
			ClientIP: "198.51.100.1", Size: 10, MessageID: "<s@example.net>", Status: store.LogRefused, Error: "550 5.7.1"}}
	for i := range 5 {
		rows = append(rows, store.LogEntry{Time: base.Add(time.Duration(i) * time.Hour), Direction: "in", Proto: "smtp", EnvelopeFrom: "a@example.com",
			Recipient: e.userA.Address, ClientIP: "203.0.113.7", Size: 1000, MessageID: fmt.Sprintf("<m%d@example.com>", i), Status: store.LogDelivered})
	}
	if err := e.st.AppendLog(ctx, rows); err != nil {
		t.Fatal(err)
	}

	// Search by address, paged by id.
	p1 := e.expect(e.do(op, "GET", "/api/v1/logs?address="+e.userA.Address+"&limit=4", nil), 200).json(t)
	if len(p1["entries"].([]any)) != 4 || p1["next_before_id"] == nil {
		t.Fatalf("%v", p1)
	}
	next := int64(p1["next_before_id"].(float64))
	p2 := e.expect(e.do(op, "GET", fmt.Sprintf("/api/v1/logs?address=%s&limit=4&before_id=%d", e.userA.Address, next), nil), 200).json(t)
	if len(p2["entries"].([]any)) != 2 || p2["next_before_id"] != nil {
		t.Errorf("%v", p2)
	}
	// By IP, status, Message-ID and time range.
	for q, n := range map[string]int{
		"ip=198.51.100.1": 1, "status=refused": 1, "message_id=" + url.QueryEscape("<m3@example.com>"): 1,
		"since=" + url.QueryEscape(base.Add(90*time.Minute).Format(time.RFC3339)): 3, "until=2026-02-27": 0, "user=" + e.userA.Address: 1,
	} {
		got := e.expect(e.do(op, "GET", "/api/v1/logs?"+q, nil), 200).json(t)["entries"].([]any)
		if len(got) != n {
			t.Errorf("%s: %d rows, want %d", q, len(got), n)
		}
	}
	r := e.expect(e.do(op, "GET", "/api/v1/logs?ip=999.1&status=lost&since=x&before_id=-1&limit=5000&address=noat", nil), 400)
	if f := r.fields(t); len(f) != 6 {
		t.Errorf("%v", f)
	}
	// R14.5: every search is in the audit log, with its filter.
	if !e.audited(e.userA.Address, "log.search", "address="+e.userA.Address+" before_id=", e.op.Address) ||
		!e.audited("198.51.100.1", "log.search", "ip=198.51.100.1", e.op.Address) {
		t.Error("a search is not in the audit log (R14.5)")
	}

	// CSV export (maillog.WriteCSV's columns), audited too.
	ex := e.expect(e.do(op, "GET", "/api/v1/logs/export?ip=203.0.113.7", nil), 200)
	if !strings.HasPrefix(ex.Hdr.Get("Content-Type"), "text/csv") || !strings.Contains(ex.Hdr.Get("Content-Disposition"), "attachment") {
		t.Errorf("%v", ex.Hdr)
	}
	recs, err := csv.NewReader(bytes.NewReader(ex.Body)).ReadAll()
	if err != nil || len(recs) != 6 || recs[0][0] != "time" || recs[1][6] != "203.0.113.7" {
		t.Errorf("%v %v", err, recs)
	}
	if d, _ := e.auditOf("203.0.113.7", "log.export"); d == "" {
		t.Error("export not audited")
	}

	// Counts for a unit's security contact (R12.1): rows, not contents.
	c := e.expect(e.do(as{account: e.secA}, "GET", "/api/v1/logs/counts?unit=skhcn&since=2026-02-01", nil), 200).json(t)
	if c["total"] != float64(6) || c["by_status"].(map[string]any)["delivered"] != float64(6) || c["by_direction"].(map[string]any)["internal"] != float64(1) || c["entries"] != nil {
		t.Errorf("%v", c)
	}
	if r := e.expect(e.do(as{account: e.secA}, "GET", "/api/v1/logs/counts", nil), 400); r.fields(t)["unit"] == nil {
		t.Error(string(r.Body))
	}
	if d, _ := e.auditOf("skhcn", "log.counts"); d == "" {
		t.Error("counts not audited")
	}
	e.expect(e.do(as{account: e.secA}, "GET", "/api/v1/logs/counts?unit=snv", nil), 403)
	e.expect(e.do(as{account: e.secA}, "GET", "/api/v1/logs", nil), 403)
}

// TestRestoreFlowEndToEnd: a unit manager files a restore request through the
// API with its document number, an operator carries it out, the unit mailbox
// receives the result (R7.2) and the request shows its trail (R7.1, R8.5).
func TestRestoreFlowEndToEnd(t *testing.T) {
	e := newEnv(t)
	op, mgrA := as{account: e.op}, as{account: e.mgrA}
	e.expect(e.do(op, "POST", fmt.Sprintf("/api/v1/accounts/%d/lock", e.userA.ID), map[string]any{"reason": "inactivity"}), 200)

	// The manager files it (Điều 8.3a) as the document system would.
	doc := "31/SKHCN-VP"
	req := e.expect(e.do(mgrA, "POST", "/api/v1/requests", map[string]any{"kind": "restore", "unit": "skhcn", "doc_number": doc,
		"doc_date": "2026-03-02", "addresses": []string{e.userA.Address}}), 201).json(t)
	id := int64(req["id"].(float64))
	// Received Monday 2 March: three working days → Thursday 5 March (C3).
	if req["deadline"] != "2026-03-05" || req["overdue"] != false || fmt.Sprint(req["targets"]) != "["+e.userA.Address+"]" {
		t.Errorf("%v", req)
	}
	// The operators' list flags it once the deadline has passed.
	e.clk.Set(time.Date(2026, 3, 6, 9, 0, 0, 0, ict))
	list := e.expect(e.do(op, "GET", "/api/v1/requests?state=received", nil), 200).json(t)["requests"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["overdue"] != true {
		t.Errorf("%v", list)
	}
	e.expect(e.do(mgrA, "POST", fmt.Sprintf("/api/v1/requests/%d/carry", id), nil), 403) // R7.5
	out := e.expect(e.do(op, "POST", fmt.Sprintf("/api/v1/requests/%d/carry", id), nil), 200).json(t)
	pw, _ := out["passwords"].(map[string]any)[e.userA.Address].(string)
	if pw == "" {
		t.Fatalf("%v", out)
	}
	if a := e.account(e.userA.ID); a.State != store.StateActive || !a.MustChange {
		t.Errorf("restored account %+v", a)
	}
	// The unit mailbox has the result, in Vietnamese, with the document number.
	var result string
	for _, m := range e.inbox(e.boxA) {
		if strings.Contains(m, "X-Govmail-Notice: request-result") {
			result = m
		}
	}
	if result == "" || !strings.Contains(result, doc) || !strings.Contains(result, "=?utf-8?") && !strings.Contains(result, "Kết quả") {
		t.Fatalf("no result mail in %s's INBOX", e.boxA.Address)
	}
	// The trail: received by the manager, done by the operator.
	got := e.expect(e.do(mgrA, "GET", fmt.Sprintf("/api/v1/requests/%d", id), nil), 200).json(t)
	evs := got["events"].([]any)
	if got["state"] != "done" || got["handled_by"] != e.op.Address || len(evs) != 2 ||
		evs[0].(map[string]any)["action"] != "received" || evs[0].(map[string]any)["actor"] != e.mgrA.Address || evs[0].(map[string]any)["detail"] != doc ||
		evs[1].(map[string]any)["action"] != "done" || evs[1].(map[string]any)["actor"] != e.op.Address {
		t.Errorf("%v", got)
	}
}

func TestCrossOriginSessionRefused(t *testing.T) {
	e := newEnv(t)
	body := strings.NewReader(`{"account":"` + e.userA.Address + `","reason":"x","ends":"2026-04-01"}`)
	req := httptest.NewRequest("POST", "/api/v1/absences", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(testUserHeader, e.mgrA.Address)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "cross_origin") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// A failure inside is a 500 that says nothing of the internals.
func TestInternalErrorsSayNothing(t *testing.T) {
	e := newEnv(t)
	e.st.Close()
	r := e.expect(e.do(as{token: e.opReadToken}, "GET", "/api/v1/me", nil), 500)
	if r.errCode(t) != "internal" || strings.Contains(strings.ToLower(string(r.Body)), "sql") || strings.Contains(string(r.Body), "closed") {
		t.Error(string(r.Body))
	}
}
