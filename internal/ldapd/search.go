package ldapd

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"govmail/internal/store"
)

// searchError ends a search with a result code.
type searchError struct {
	code    int
	matched string
	diag    string
}

func (e *searchError) Error() string { return e.diag }

// plan says which entries a search's base and scope cover.
type plan struct {
	root, unitsC, peopleC bool   // the base entry and the two containers
	units, people         bool   // every unit, every active person
	unitLP, person        string // one unit or one person named by the base
	scope                 int64
}

// search answers a search request: entries, then the SearchResultDone.
func (ss *session) search(ctx context.Context, id int64, r *searchRequest) error {
	start := time.Now()
	n, err := ss.runSearch(ctx, id, r)
	code, matched, diag := resultSuccess, "", ""
	var se *searchError
	switch {
	case err == nil:
	case errors.As(err, &se):
		code, matched, diag = se.code, se.matched, se.diag
	case errors.Is(err, context.DeadlineExceeded):
		code, diag = resultTimeLimitExceeded, "time limit exceeded"
	case errors.Is(err, errWrite), errors.Is(err, context.Canceled):
		return err // the client is gone or the server is closing: the session ends
	default:
		ss.log.Error("ldap search failed", "base", r.base, "filter", r.filter.String(), "err", err)
		code, diag = resultOther, "Lỗi máy chủ, vui lòng thử lại. / Server error, try again."
	}
	if ss.log.Enabled(ctx, slog.LevelDebug) { // format the filter only when someone reads it
		user := ""
		if ss.bound != nil {
			user = ss.bound.Address
		}
		ss.log.Debug("ldap search", "user", user, "base", r.base, "scope", r.scope, "filter", r.filter.String(),
			"entries", n, "result", code, "took", time.Since(start))
	}
	return ss.send(id, result(appSearchResultDone, code, matched, diag))
}

// errWrite marks a failure to write to the client: the session ends.
var errWrite = errors.New("ldapd: write to client failed")

func (ss *session) runSearch(ctx context.Context, id int64, r *searchRequest) (int, error) {
	s := ss.srv
	rdns, err := parseDN(r.base)
	if err != nil {
		return 0, &searchError{code: resultInvalidDNSyntax, diag: "invalid base DN"}
	}
	sel := newSelection(r.attrs)
	if len(rdns) == 0 && r.scope == scopeBase {
		// The root DSE tells clients what the server is; anyone may read it,
		// before TLS and bind, as the StartTLS discovery needs.
		e := s.rootDSE()
		if r.filter.eval(e) == tTrue {
			if err := ss.send(id, entryPacket(e, sel.rootSelection(), r.typesOnly)); err != nil {
				return 0, errWrite
			}
			return 1, nil
		}
		return 0, nil
	}
	if err := ss.checkBound(ctx); err != nil {
		return 0, err
	}
	if len(rdns) == 0 {
		// A client configured without a base DN: search the naming context,
		// as a default search base would in other servers.
		rdns = s.base
		if r.scope == scopeOne {
			r.scope = scopeBase
		}
	}
	p, err := s.plan(rdns, r.scope)
	if err != nil {
		return 0, err
	}

	limit := maxTimeLimit
	if r.timeLimit > 0 && time.Duration(r.timeLimit)*time.Second < limit {
		limit = time.Duration(r.timeLimit) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	sizeLimit := s.opts.MaxResults
	if r.sizeLimit > 0 && int(r.sizeLimit) < sizeLimit {
		sizeLimit = int(r.sizeLimit)
	}

	n := 0
	var sizeExceeded bool
	// emit sends e when it matches; false stops the search at the size limit.
	emit := func(e *entry) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if r.filter.eval(e) != tTrue {
			return true, nil
		}
		if n == sizeLimit {
			sizeExceeded = true
			return false, nil
		}
		if err := ss.send(id, entryPacket(e, sel, r.typesOnly)); err != nil {
			return false, errWrite
		}
		n++
		return true, nil
	}
	truncated, err := ss.srv.walk(ctx, p, r.filter, emit)
	switch {
	case err != nil:
		return n, err
	case sizeExceeded:
		return n, &searchError{code: resultSizeLimitExceeded, diag: "size limit of " + strconv.Itoa(sizeLimit) + " entries: refine the search"}
	case truncated:
		return n, &searchError{code: resultAdminLimitExceeded, diag: "the directory is larger than one search may read"}
	}
	return n, nil
}

// checkBound refuses searches of anonymous sessions (N3: the address book is
// for authenticated clients) and of accounts no longer active since their bind.
func (ss *session) checkBound(ctx context.Context) error {
	if ss.bound == nil {
		return &searchError{code: resultInsufficientAccessRights,
			diag: "Hãy đăng nhập (bind) bằng địa chỉ thư và mật khẩu để tra cứu danh bạ. / Bind with your mail address and password to search the directory."}
	}
	acc, err := ss.srv.opts.Store.AccountByAddress(ctx, ss.bound.Address)
	if errors.Is(err, store.ErrNotFound) || err == nil && acc.State != store.StateActive {
		ss.bound, ss.boundDN = nil, ""
		return &searchError{code: resultInsufficientAccessRights, diag: "Tài khoản không còn hoạt động. / The account is no longer active."}
	}
	return err
}

// plan reads base and scope into the entries they cover.
func (s *Server) plan(dn []rdn, scope int64) (plan, error) {
	p := plan{scope: scope}
	if !hasSuffix(dn, s.base) {
		return p, &searchError{code: resultNoSuchObject, diag: "outside the naming context " + s.baseDN}
	}
	rel := dn[:len(dn)-len(s.base)] // the part below the base, most specific first
	noSuch := func(matched string) (plan, error) {
		return plan{}, &searchError{code: resultNoSuchObject, matched: matched, diag: "no such entry"}
	}
	switch len(rel) {
	case 0:
		p.root = scope != scopeOne
		p.unitsC = scope != scopeBase
		p.peopleC = scope != scopeBase
		p.units = scope == scopeSub
		p.people = scope == scopeSub
	case 1:
		switch rel[0] {
		case unitsRDN():
			p.unitsC = scope != scopeOne
			p.units = scope != scopeBase
		case peopleRDN():
			p.peopleC = scope != scopeOne
			p.people = scope != scopeBase
		default:
			return noSuch(s.baseDN)
		}
	case 2:
		switch {
		case rel[1] == unitsRDN() && rel[0].typ == "ou":
			p.unitLP = rel[0].val
		case rel[1] == peopleRDN() && (rel[0].typ == "uid" || rel[0].typ == "mail"):
			p.person = rel[0].val
		case rel[1] == unitsRDN():
			return noSuch(s.unitsDN)
		case rel[1] == peopleRDN():
			return noSuch(s.peopleDN)
		default:
			return noSuch(s.baseDN)
		}
	default:
		switch rel[len(rel)-1] {
		case unitsRDN():
			return noSuch(s.unitsDN)
		case peopleRDN():
			return noSuch(s.peopleDN)
		}
		return noSuch(s.baseDN)
	}
	return p, nil
}

// walk produces the planned entries in tree order. truncated reports that the
// people were cut at MaxScan.
func (s *Server) walk(ctx context.Context, p plan, f *filter, emit func(*entry) (bool, error)) (truncated bool, err error) {
	if p.root {
		if ok, err := emit(s.baseEntry()); !ok || err != nil {
			return false, err
		}
	}
	if p.unitsC {
		if ok, err := emit(s.container("units", "Đơn vị")); !ok || err != nil {
			return false, err
		}
	}
	var units []store.Unit
	if p.units || p.people || p.unitLP != "" || p.person != "" {
		if units, err = s.opts.Store.ListUnits(ctx); err != nil {
			return false, err
		}
	}
	idx := unitIndex(units)
	if p.unitLP != "" {
		var found *store.Unit
		for i := range units {
			if units[i].LocalPart == p.unitLP {
				found = &units[i]
			}
		}
		if found == nil {
			return false, &searchError{code: resultNoSuchObject, matched: s.unitsDN, diag: "no such unit"}
		}
		return false, s.single(p, s.unitEntry(found, idx), emit)
	}
	if p.units {
		for i := range units {
			if ok, err := emit(s.unitEntry(&units[i], idx)); !ok || err != nil {
				return false, err
			}
		}
	}
	if p.peopleC {
		if ok, err := emit(s.container("people", "Cá nhân")); !ok || err != nil {
			return false, err
		}
	}
	if p.person != "" {
		addr, ok := s.address(p.person)
		var acc *store.Account
		if ok {
			acc, err = s.opts.Store.AccountByAddress(ctx, addr)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
		}
		if acc == nil || !listed(acc) {
			return false, &searchError{code: resultNoSuchObject, matched: s.peopleDN, diag: "no such person"}
		}
		return false, s.single(p, s.personEntry(acc, idx), emit)
	}
	if !p.people {
		return false, nil
	}
	// Reading ten thousand accounts is the heavy part of a search: a bounded
	// number run at once, and the filter's text goes to the store's index
	// when it has one (AccountFilter.Query), so a typed name reads a handful.
	select {
	case s.searches <- struct{}{}:
		defer func() { <-s.searches }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	accs, err := s.opts.Store.ListAccounts(ctx, store.AccountFilter{State: store.StateActive, Query: f.hint(), Limit: s.opts.MaxScan + 1})
	if err != nil {
		return false, err
	}
	if len(accs) > s.opts.MaxScan {
		accs, truncated = accs[:s.opts.MaxScan], true
		s.log.Warn("ldap search read the scan limit", "max_scan", s.opts.MaxScan)
	}
	for i := range accs {
		if !listed(&accs[i]) {
			continue
		}
		if ok, err := emit(s.personEntry(&accs[i], idx)); !ok || err != nil {
			return truncated, err
		}
	}
	return truncated, nil
}

// single emits the one entry a base names, unless the scope is one-level
// (whose entries are the children, and leaves have none).
func (s *Server) single(p plan, e *entry, emit func(*entry) (bool, error)) error {
	if p.scope == scopeOne {
		return nil
	}
	_, err := emit(e)
	return err
}

// listed tells the accounts the address book shows: active personal
// mailboxes (N3). A unit's mailbox is its unit's entry.
func listed(a *store.Account) bool {
	return a.State == store.StateActive && a.Kind != store.KindUnit
}

func unitsRDN() rdn  { return rdn{typ: "ou", val: "units"} }
func peopleRDN() rdn { return rdn{typ: "ou", val: "people"} }

func (s *Server) personDN(address string) string {
	return "uid=" + escapeValue(address) + "," + s.peopleDN
}

func (s *Server) rootDSE() *entry {
	e := &entry{dn: ""}
	e.add("objectclass", "top")
	e.add("namingcontexts", s.baseDN)
	e.add("supportedldapversion", "3")
	e.add("supportedextension", oidStartTLS, oidWhoAmI)
	e.add("vendorname", "govmail")
	return e
}

func (s *Server) baseEntry() *entry {
	top := s.base[0]
	e := &entry{dn: s.baseDN}
	switch top.typ {
	case "dc":
		e.add("objectclass", "top", "domain")
	case "o":
		e.add("objectclass", "top", "organization")
	case "ou":
		e.add("objectclass", "top", "organizationalUnit")
	default:
		e.add("objectclass", "top", "extensibleObject")
	}
	e.add(top.typ, top.val)
	return e
}

func (s *Server) container(ou, description string) *entry {
	dn := s.unitsDN
	if ou == "people" {
		dn = s.peopleDN
	}
	e := &entry{dn: dn}
	e.add("objectclass", "top", "organizationalUnit")
	e.add("ou", ou)
	e.add("description", description)
	return e
}

// unitEntry shows a unit. extensibleObject lets an organizationalUnit carry
// cn and mail, which address books display.
func (s *Server) unitEntry(u *store.Unit, idx map[int64]unitInfo) *entry {
	e := &entry{dn: "ou=" + escapeValue(u.LocalPart) + "," + s.unitsDN}
	e.add("objectclass", "top", "organizationalUnit", "extensibleObject")
	e.add("ou", u.LocalPart)
	e.add("cn", u.Name)
	e.add("displayname", u.Name)
	if s.opts.Domain != "" {
		e.add("mail", u.LocalPart+"@"+s.opts.Domain)
	}
	if info, ok := idx[u.ID]; ok && u.ParentID != 0 {
		e.add("o", info.top)
	}
	return e
}

// personEntry shows an account as an inetOrgPerson.
func (s *Server) personEntry(a *store.Account, idx map[int64]unitInfo) *entry {
	e := &entry{dn: s.personDN(a.Address)}
	e.add("objectclass", "top", "person", "organizationalPerson", "inetOrgPerson")
	e.add("uid", a.Address)
	name := a.DisplayName
	if name == "" {
		// person requires cn and sn. The directory service always names
		// people; this keeps a hand-made nameless account readable.
		name = a.Address
	}
	e.add("cn", name)
	e.add("displayname", a.DisplayName)
	sn, given := names(name)
	e.add("sn", sn)
	e.add("givenname", given)
	e.add("mail", a.Address)
	if info, ok := idx[a.UnitID]; ok {
		e.add("ou", info.name)
		e.add("o", info.top)
	}
	return e
}
