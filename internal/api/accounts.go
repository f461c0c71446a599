package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"govmail/internal/address"
	"govmail/internal/directory"
	"govmail/internal/lifecycle"
	"govmail/internal/password"
	"govmail/internal/store"
)

// Limits of inputs that have no limit in the regulation but must have one here.
const (
	maxListLimit = 1000
	maxQuota     = 1 << 40 // 1 TiB: beyond it a typo, not a decision
)

// listAccounts searches accounts by folded name or address (?q=), unit (?unit=,
// with its sub-units) and state: what a unit manager's view of R16.1 reads.
func (a *API) listAccounts(c *call) error {
	q := c.r.URL.Query()
	var v invalid
	limit := intParam(q.Get("limit"), "limit", 100, 1, maxListLimit, &v)
	state := store.AccountState(q.Get("state"))
	switch state {
	case "", store.StateActive, store.StateLocked, store.StateRevoked:
	default:
		v.add("state", "invalid", "Trạng thái phải là active, locked hoặc revoked.", "State must be active, locked or revoked.")
	}
	if err := v.err(); err != nil {
		return err
	}
	var unitIDs []int64 // nil: every unit
	if key := q.Get("unit"); key != "" {
		u, err := a.lookupUnit(c.ctx, key)
		if err != nil {
			return err
		}
		if err := c.v.ReadUnit(u.ID); err != nil {
			return err
		}
		unitIDs = c.v.Subtree(u.ID)
	} else {
		unitIDs = c.v.VisibleUnits()
		if unitIDs == nil && !c.v.Operator() {
			unitIDs = []int64{}
		}
	}
	f := store.AccountFilter{State: state, Query: strings.TrimSpace(q.Get("q")), Limit: limit}
	var accs []store.Account
	if unitIDs == nil {
		var err error
		if accs, err = a.d.Store.ListAccounts(c.ctx, f); err != nil {
			return err
		}
	} else {
		for _, id := range unitIDs {
			f.UnitID = id
			part, err := a.d.Store.ListAccounts(c.ctx, f)
			if err != nil {
				return err
			}
			accs = append(accs, part...)
		}
		slices.SortFunc(accs, func(x, y store.Account) int { return strings.Compare(x.Address, y.Address) })
		if len(accs) > limit {
			accs = accs[:limit]
		}
	}
	out := make([]accountJSON, 0, len(accs))
	for i := range accs {
		out = append(out, a.accountJSON(c.ctx, &accs[i], c.v.Units()))
	}
	return c.json(http.StatusOK, map[string]any{"accounts": out})
}

func (a *API) getAccount(c *call) error {
	acc, err := c.account("account")
	if err != nil {
		return err
	}
	if err := c.v.ReadAccount(acc); err != nil {
		return err
	}
	out := a.accountJSON(c.ctx, acc, c.v.Units())
	abs, err := a.d.Store.Absences(c.ctx, acc.ID)
	if err != nil {
		return err
	}
	for _, ab := range abs {
		out.Absences = append(out.Absences, a.absenceJSON(ab))
	}
	return c.json(http.StatusOK, out)
}

type accountInput struct {
	Kind       string `json:"kind"`
	Unit       string `json:"unit"`
	FullName   string `json:"full_name"`
	BirthYear  int    `json:"birth_year"`
	Override   string `json:"override"`
	QuotaBytes int64  `json:"quota_bytes"`
	Password   string `json:"password"`
}

type passwordResult struct {
	Account         accountJSON `json:"account"`
	OneTimePassword string      `json:"one_time_password,omitempty"`
}

// createAccount makes a personal mailbox with the address of Điều 5 (or the
// operator's recorded override, R5.4), or a unit's own mailbox. The password is
// one-time (R6.1); a generated one is returned in this response and never again.
func (a *API) createAccount(c *call) error {
	var in accountInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	kind := store.AccountKind(in.Kind)
	if kind == "" {
		kind = store.KindPersonal
	}
	if kind != store.KindPersonal && kind != store.KindUnit {
		v.add("kind", "invalid", "Loại tài khoản phải là personal hoặc unit.", "Kind must be personal or unit.")
	}
	if strings.TrimSpace(in.Unit) == "" {
		v.required("unit")
	}
	if kind == store.KindPersonal && strings.TrimSpace(in.FullName) == "" {
		v.required("full_name")
	}
	if kind == store.KindUnit && (in.FullName != "" || in.Override != "" || in.BirthYear != 0) {
		v.add("kind", "invalid", "Hộp thư đơn vị lấy địa chỉ và tên của đơn vị.", "A unit mailbox takes the unit's address and name.")
	}
	checkBirthYear(in.BirthYear, a.today().Year(), &v)
	if in.QuotaBytes < 0 || in.QuotaBytes > maxQuota {
		v.add("quota_bytes", "range", "Dung lượng không hợp lệ.", "The quota is out of range.")
	}
	if in.Override != "" {
		if err := a.d.Dir.Rules.ValidateLocalPart(address.Canonical(in.Override)); err != nil {
			ae, _ := err.(*address.Error)
			if ae != nil {
				v.add("override", string(ae.Code), ae.VI, ae.EN)
			}
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	quota := in.QuotaBytes
	if quota == 0 {
		quota = a.d.Config.Policy.QuotaBytes
	}
	pw, generated, err := a.d.Life.OneTimePassword(in.Password, password.CheckContext{FullName: in.FullName})
	if err != nil {
		return err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	var acc *store.Account
	if kind == store.KindUnit {
		acc, err = a.d.Dir.CreateUnitMailbox(c.ctx, in.Unit, hash, quota, c.actor())
	} else {
		acc, err = a.d.Dir.CreatePerson(c.ctx, directory.NewPerson{UnitLP: in.Unit, FullName: in.FullName, BirthYear: in.BirthYear,
			Override: in.Override, PasswordHash: hash, MustChange: true, QuotaBytes: quota}, c.actor())
	}
	if err != nil {
		if in.Override != "" {
			return atField("override", err)
		}
		return atField("unit", err)
	}
	out := passwordResult{Account: a.accountJSON(c.ctx, acc, c.v.Units())}
	if generated {
		out.OneTimePassword = pw
	}
	return c.json(http.StatusCreated, out)
}

func checkBirthYear(y, thisYear int, v *invalid) {
	if y != 0 && (y < 1900 || y > thisYear) {
		v.add("birth_year", "range", "Năm sinh không hợp lệ.", "The birth year is out of range.")
	}
}

// resetPassword sets a one-time password the holder must change (R6.1).
func (a *API) resetPassword(c *call) error {
	acc, err := c.account("account")
	if err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := c.decodeOptional(&in); err != nil {
		return err
	}
	pw, generated, err := a.d.Life.ResetPassword(c.ctx, acc.ID, in.Password, c.actor())
	if err != nil {
		return err
	}
	acc, err = a.d.Store.AccountByID(c.ctx, acc.ID)
	if err != nil {
		return err
	}
	out := passwordResult{Account: a.accountJSON(c.ctx, acc, c.v.Units())}
	if generated {
		out.OneTimePassword = pw
	}
	return c.json(http.StatusOK, out)
}

// stateInput is the body of lock, restore and revoke: the reason and the
// official document behind the action (R8.3, R8.5, R7.4).
type stateInput struct {
	Reason string `json:"reason"`
	Note   string `json:"note"`
	DocRef string `json:"doc_ref"`
}

func (in stateInput) evidence() string {
	parts := []string{}
	if s := strings.TrimSpace(in.DocRef); s != "" {
		parts = append(parts, "văn bản / document "+s)
	}
	if s := strings.TrimSpace(in.Note); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func lockReasons() []string {
	return []string{store.LockInactivity, store.LockCompromised, store.LockProhibitedContent, store.LockOperator}
}

// lockAccount locks an account (R8.1, R8.3): reason of Điều 8.2 and its evidence.
func (a *API) lockAccount(c *call) error {
	acc, err := c.account("account")
	if err != nil {
		return err
	}
	var in stateInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	switch {
	case in.Reason == "":
		v.required("reason")
	case !slices.Contains(lockReasons(), in.Reason):
		v.add("reason", "invalid", "Lý do khóa phải là inactivity, compromised, prohibited_content hoặc operator (Điều 8.2).",
			"The reason must be inactivity, compromised, prohibited_content or operator (Art. 8.2).")
	case lifecycle.NeedsEvidence(in.Reason) && in.evidence() == "":
		v.add("doc_ref", "required", "Khóa theo Điều 8.2b, 8.2c phải ghi văn bản hoặc bằng chứng.",
			"A lock under Art. 8.2b or 8.2c needs a document reference or evidence.")
	}
	if err := v.err(); err != nil {
		return err
	}
	if err := a.d.Life.Lock(c.ctx, acc.ID, in.Reason, in.evidence(), c.actor()); err != nil {
		return err
	}
	return a.sendAccount(c, acc.ID, "")
}

// restoreAccount restores a locked account on a written request (R8.5): the
// holder gets a one-time password to change at first login.
func (a *API) restoreAccount(c *call) error {
	acc, err := c.account("account")
	if err != nil {
		return err
	}
	var in stateInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	if strings.TrimSpace(in.DocRef) == "" {
		v.add("doc_ref", "required", "Khôi phục phải theo văn bản đề nghị của đơn vị (Điều 8.3a).",
			"A restore follows the unit's written request (Art. 8.3a).")
	}
	if in.Reason != "" {
		v.add("reason", "unknown", "Khôi phục không có lý do khóa; dùng note.", "A restore has no lock reason; use note.")
	}
	if err := v.err(); err != nil {
		return err
	}
	pw, err := a.d.Life.Restore(c.ctx, acc.ID, c.actor(), in.evidence())
	if err != nil {
		return err
	}
	// lifecycle records the restore; the document it was done on is the API's
	// to add (R8.5: request with its document reference).
	if err := c.audit("account.restore.reference", acc.Address, in.evidence()); err != nil {
		return err
	}
	return a.sendAccount(c, acc.ID, pw)
}

// revokeAccount deletes the mailbox irrecoverably (R7.4); the document is required.
func (a *API) revokeAccount(c *call) error {
	acc, err := c.account("account")
	if err != nil {
		return err
	}
	var in stateInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	if strings.TrimSpace(in.DocRef) == "" {
		v.add("doc_ref", "required", "Thu hồi phải theo văn bản (Điều 7.1).", "A revocation follows a document (Art. 7.1).")
	}
	if in.Reason != "" {
		v.add("reason", "unknown", "Thu hồi không có lý do khóa; dùng note.", "A revocation has no lock reason; use note.")
	}
	if err := v.err(); err != nil {
		return err
	}
	if err := a.d.Life.Revoke(c.ctx, acc.ID, c.actor(), in.evidence()); err != nil {
		return err
	}
	return a.sendAccount(c, acc.ID, "")
}

// setQuota sets one account's quota (Điều 11.2: Sở KHCN sets and raises it).
func (a *API) setQuota(c *call) error {
	acc, err := c.account("account")
	if err != nil {
		return err
	}
	var in struct {
		QuotaBytes *int64 `json:"quota_bytes"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	switch {
	case in.QuotaBytes == nil:
		v.required("quota_bytes")
	case *in.QuotaBytes <= 0 || *in.QuotaBytes > maxQuota:
		v.add("quota_bytes", "range", "Dung lượng phải lớn hơn 0 và không quá 1 TiB.", "The quota must be positive and at most 1 TiB.")
	}
	if err := v.err(); err != nil {
		return err
	}
	if acc.State == store.StateRevoked {
		return newError(http.StatusConflict, "wrong_state", "Tài khoản đã bị thu hồi.", "The account has been revoked.")
	}
	if err := a.d.Store.SetQuota(c.ctx, acc.ID, *in.QuotaBytes); err != nil {
		return err
	}
	if err := c.audit("account.quota", acc.Address, strconv.FormatInt(*in.QuotaBytes, 10)); err != nil {
		return err
	}
	return a.sendAccount(c, acc.ID, "")
}

func (a *API) sendAccount(c *call, id int64, pw string) error {
	acc, err := a.d.Store.AccountByID(c.ctx, id)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, passwordResult{Account: a.accountJSON(c.ctx, acc, c.v.Units()), OneTimePassword: pw})
}

// suggestAddress shows the address the rule of Điều 5.2 gives a person, for a
// unit manager preparing a staff list or an operator about to create it.
func (a *API) suggestAddress(c *call) error {
	q := c.r.URL.Query()
	var v invalid
	unitKey := strings.TrimSpace(q.Get("unit"))
	name := strings.TrimSpace(q.Get("name"))
	if unitKey == "" {
		v.required("unit")
	}
	if name == "" {
		v.required("name")
	}
	year := intParam(q.Get("birth_year"), "birth_year", 0, 1900, a.today().Year(), &v)
	if err := v.err(); err != nil {
		return err
	}
	u, err := a.lookupUnit(c.ctx, unitKey)
	if err != nil {
		return err
	}
	if err := c.v.ManageUnit(u.ID); err != nil {
		return err
	}
	s, err := a.d.Dir.SuggestPersonal(c.ctx, u.LocalPart, name, year)
	if err != nil {
		return atField("name", err)
	}
	return c.json(http.StatusOK, map[string]any{"local_part": s.LocalPart, "address": s.Address, "base": s.Base, "review": s.Review})
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(s, name string, def, lo, hi int, v *invalid) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		v.add(name, "range", fmt.Sprintf("Phải là số nguyên từ %d đến %d.", lo, hi), fmt.Sprintf("Must be an integer from %d to %d.", lo, hi))
		return def
	}
	return n
}
