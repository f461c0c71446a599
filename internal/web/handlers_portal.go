package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"govmail/internal/authz"
	"govmail/internal/directory"
	"govmail/internal/lifecycle"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/web/i18n"
)

func (s *Server) portalRoutes(m *http.ServeMux) {
	p := func(h portalHandler) http.HandlerFunc { return s.portalRoute(areaPortal, h) }
	m.HandleFunc("GET /portal", p(s.handleDashboard))
	m.HandleFunc("GET /portal/units", p(s.handleUnits))
	m.HandleFunc("POST /portal/units", p(s.handleUnitCreate))
	m.HandleFunc("GET /portal/units/{id}", p(s.handleUnit))
	m.HandleFunc("POST /portal/units/{id}", p(s.handleUnitUpdate))
	m.HandleFunc("POST /portal/units/{id}/mailbox", p(s.handleUnitMailbox))
	m.HandleFunc("GET /portal/accounts", p(s.handleAccounts))
	m.HandleFunc("GET /portal/accounts/new", p(s.handleAccountNew))
	m.HandleFunc("POST /portal/accounts", p(s.handleAccountCreate))
	m.HandleFunc("GET /portal/accounts/{id}", p(s.handleAccount))
	m.HandleFunc("POST /portal/accounts/{id}/{op}", p(s.handleAccountOp))
	m.HandleFunc("GET /portal/requests", p(s.handleRequests))
	m.HandleFunc("GET /portal/requests/{id}", p(s.handleRequest))
	m.HandleFunc("POST /portal/requests/{id}/{op}", p(s.handleRequestOp))
	m.HandleFunc("GET /portal/log", p(s.handleLog))
	m.HandleFunc("GET /portal/log.csv", p(s.handleLogCSV))
	m.HandleFunc("GET /portal/audit", p(s.handleAudit))
}

// ---- Dashboard ----

// countRow is a labelled number.
type countRow struct {
	Label string
	N     int64
}

// mailRow is the mail of one direction today (R11.1 rows).
type mailRow struct {
	Direction string
	Messages  int64
	Delivered int64
	Size      string
}

type dashView struct {
	Active, LockedTotal, Revoked int64
	Locked                       []countRow
	Pending, Overdue, DueToday   int
	Held                         int
	HeldMore                     bool
	HeldPage                     bool // the held-mail page is served
	HeldSince                    string
	MailKnown                    bool
	Mail                         []mailRow
	NoContact                    int
	Urgent                       []requestRow
	// What other systems reported of our mail over the last 7 days (issue 5).
	DMARCTotal, DMARCFailed int64
	TLSTotal, TLSFailed     int64
	AuthReports             int
}

// heldScanMax bounds the rows the held-mail count reads.
const heldScanMax = 10000

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	p := s.portalPage(r, pc, areaPortal, "portal.dashboard.title", "/portal", nil)
	d := dashView{HeldPage: s.d.Held != nil}
	lives, err := s.d.Store.AccountLives(ctx)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	locked := map[string]int64{}
	for _, a := range lives {
		switch a.State {
		case store.StateActive:
			d.Active++
		case store.StateLocked:
			d.LockedTotal++
			locked[a.LockReason]++
		case store.StateRevoked:
			d.Revoked++
		}
	}
	for _, reason := range []string{store.LockInactivity, store.LockCompromised, store.LockProhibitedContent, store.LockOperator, ""} {
		if n := locked[reason]; n > 0 {
			label := s.reasonLabel(pc.lang, reason)
			if label == "" {
				label = p.T("portal.dashboard.reason_unknown")
			}
			d.Locked = append(d.Locked, countRow{label, n})
		}
	}
	today := s.today()
	reqs, err := s.d.Store.ListRequests(ctx, store.RequestFilter{State: store.RequestReceived})
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	d.Pending = len(reqs)
	sortQueue(reqs)
	for i := range reqs {
		rq := &reqs[i]
		switch {
		case overdue(rq, today):
			d.Overdue++
		case dueToday(rq, today):
			d.DueToday++
		}
		if len(d.Urgent) < 8 {
			d.Urgent = append(d.Urgent, s.requestRow(pc.lang, rq, pc.v, today, "/portal/requests/"))
		}
	}
	// Held mail: quarantined rows of the last 30 days (R4.1–R4.3, R17.2).
	since := today.AddDays(-30).In(s.loc)
	d.HeldSince = fmtDate(pc.lang, today.AddDays(-30).String())
	held, err := s.d.Store.SearchLog(ctx, store.LogFilter{Status: store.LogQuarantined, Since: since, Limit: heldScanMax + 1})
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	d.Held, d.HeldMore = min(len(held), heldScanMax), len(held) > heldScanMax
	// Mail today by direction: the report aggregates, where the store has them.
	if rs, ok := s.d.Store.(store.ReportStore); ok {
		_, off := s.d.Clock.Now().In(s.loc).Zone()
		figs, err := rs.ReportFigures(ctx, store.ReportQuery{Since: today.In(s.loc), Until: s.d.Clock.Now(), ZoneOffset: off,
			IdleBefore: today.In(s.loc), IdleAbsenceAfter: today.String(), RulesInForce: today.In(s.loc)})
		if err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		d.MailKnown = true
		byDir := map[string]*mailRow{}
		for _, dir := range []string{"in", "out", "internal"} {
			row := &mailRow{Direction: p.T("portal.dir." + dir), Size: humanSize(pc.lang, 0)}
			byDir[dir] = row
		}
		bytes := map[string]int64{}
		for _, m := range figs.Mail {
			row := byDir[m.Direction]
			if row == nil {
				continue
			}
			row.Messages += m.Messages
			bytes[m.Direction] += m.Bytes
			if m.Status == store.LogDelivered {
				row.Delivered += m.Messages
			}
		}
		for _, dir := range []string{"in", "out", "internal"} {
			byDir[dir].Size = humanSize(pc.lang, bytes[dir])
			d.Mail = append(d.Mail, *byDir[dir])
		}
	}
	// DMARC and TLS reports received for periods ending in the last 7 days.
	ars, err := s.d.Store.ReceivedReports(ctx, "", authReportsMax)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	weekAgo := s.d.Clock.Now().AddDate(0, 0, -7)
	for _, ar := range ars {
		if ar.End.Before(weekAgo) {
			break // newest period first
		}
		d.AuthReports++
		if ar.Kind == store.ReportDMARC {
			d.DMARCTotal += ar.Total
			d.DMARCFailed += ar.Failed
		} else {
			d.TLSTotal += ar.Total
			d.TLSFailed += ar.Failed
		}
	}
	for _, id := range pc.v.ReadableUnits() {
		if u, ok := pc.v.Unit(id); ok && u.SecurityContactID == 0 {
			d.NoContact++
		}
	}
	p.Body = d
	s.render(w, r, http.StatusOK, "portal_dashboard", p)
}

// sortQueue orders waiting requests as they are to be handled: overdue and
// nearest deadlines first (R8.5), then by receipt.
func sortQueue(reqs []store.Request) {
	slices.SortStableFunc(reqs, func(a, b store.Request) int {
		da, db := a.Deadline, b.Deadline
		switch {
		case da != "" && db == "":
			return -1
		case da == "" && db != "":
			return 1
		case da != db:
			return cmp.Compare(da, db)
		}
		return a.ReceivedAt.Compare(b.ReceivedAt)
	})
}

// ---- Units ----

// unitNode is one unit of the tree.
type unitNode struct {
	ID        int64
	Name      string
	Address   string
	Kind      string
	Manager   string
	Contact   string
	NoContact bool
	Children  []unitNode
	URL       string
}

type unitsView struct {
	Groups    []unitGroup
	NoContact []unitNode
	Parents   []store.Unit
	Kinds     []string
	Form      unitForm
	Total     int
}

type unitGroup struct {
	Label string
	Units []unitNode
}

type unitForm struct {
	Name, Kind, Parent, Abbr string
}

func unitKinds() []store.UnitKind {
	return []store.UnitKind{store.UnitProvinceAgency, store.UnitWard, store.UnitCommune, store.UnitSubUnit, store.UnitOther}
}

// accountNames fetches the addresses of the given accounts, for labels.
func (s *Server) accountNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	for _, id := range ids {
		if id == 0 || out[id] != "" {
			continue
		}
		a, err := s.d.Store.AccountByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = a.Address
	}
	return out, nil
}

func (s *Server) unitsView(ctx context.Context, lang i18n.Lang, v *authz.View) (*unitsView, error) {
	units, err := s.d.Store.ListUnits(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	children := map[int64][]store.Unit{}
	for _, u := range units {
		ids = append(ids, u.ManagerID, u.SecurityContactID)
		children[u.ParentID] = append(children[u.ParentID], u)
	}
	names, err := s.accountNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	var build func(u store.Unit, depth int) unitNode
	build = func(u store.Unit, depth int) unitNode {
		n := unitNode{ID: u.ID, Name: u.Name, Address: u.LocalPart + "@" + s.d.Dir.Domain, Kind: s.cat.T(lang, "unitkind."+string(u.Kind)),
			Manager: names[u.ManagerID], Contact: names[u.SecurityContactID], NoContact: u.SecurityContactID == 0,
			URL: "/portal/units/" + strconv.FormatInt(u.ID, 10)}
		if depth < 8 {
			kids := children[u.ID]
			slices.SortFunc(kids, func(a, b store.Unit) int { return cmp.Compare(a.Name, b.Name) })
			for _, c := range kids {
				n.Children = append(n.Children, build(c, depth+1))
			}
		}
		return n
	}
	uv := &unitsView{Total: len(units)}
	top := children[0]
	slices.SortFunc(top, func(a, b store.Unit) int { return cmp.Compare(a.Name, b.Name) })
	for _, kind := range unitKinds() {
		g := unitGroup{Label: s.cat.T(lang, "unitkinds."+string(kind))}
		for _, u := range top {
			if u.Kind == kind {
				g.Units = append(g.Units, build(u, 0))
			}
		}
		if len(g.Units) > 0 {
			uv.Groups = append(uv.Groups, g)
		}
	}
	// R12.1: the units without a security contact.
	for _, u := range units {
		if u.SecurityContactID == 0 {
			uv.NoContact = append(uv.NoContact, build(u, 99))
		}
		if u.Kind != store.UnitSubUnit {
			uv.Parents = append(uv.Parents, u)
		}
	}
	slices.SortFunc(uv.NoContact, func(a, b unitNode) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(uv.Parents, func(a, b store.Unit) int { return cmp.Compare(a.Name, b.Name) })
	for _, k := range unitKinds() {
		uv.Kinds = append(uv.Kinds, string(k))
	}
	return uv, nil
}

func (s *Server) handleUnits(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	s.renderUnits(w, r, pc, http.StatusOK, unitForm{Kind: string(store.UnitProvinceAgency)}, "")
}

func (s *Server) renderUnits(w http.ResponseWriter, r *http.Request, pc *portalCtx, status int, f unitForm, errText string) {
	p := s.portalPage(r, pc, areaPortal, "portal.units.title", "/portal/units", nil)
	uv, err := s.unitsView(r.Context(), pc.lang, pc.v)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	uv.Form = f
	p.Error = errText
	p.Body = uv
	s.render(w, r, status, "portal_units", p)
}

// handleUnitCreate adds a unit with the address of Điều 5.1 (R5.5, R5.6); a
// refusal of the rule is shown in the page's language with the form kept.
func (s *Server) handleUnitCreate(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if !s.check(w, r, pc, pc.v.CreateUnit()) {
		return
	}
	f := unitForm{Name: strings.TrimSpace(r.PostFormValue("name")), Kind: r.PostFormValue("kind"),
		Parent: strings.TrimSpace(r.PostFormValue("parent")), Abbr: strings.TrimSpace(r.PostFormValue("abbr"))}
	parent := ""
	if store.UnitKind(f.Kind) == store.UnitSubUnit {
		parent = f.Parent
	}
	u, err := s.d.Dir.CreateUnit(r.Context(), f.Name, store.UnitKind(f.Kind), parent, f.Abbr, pc.acct.Address)
	if err != nil {
		if text, ok := refusal(pc.lang, err); ok {
			s.renderUnits(w, r, pc, http.StatusUnprocessableEntity, f, text)
			return
		}
		s.serverError(w, r, pc.lang, err)
		return
	}
	seeOther(w, r, "/portal/units/"+strconv.FormatInt(u.ID, 10), "unit_created")
}

type unitView struct {
	Unit        store.Unit
	Address     string
	Kind        string
	Parent      *store.Unit
	Manager     string
	Contact     string
	Children    []store.Unit
	Mailbox     *store.Account
	MailboxURL  string
	People      int
	PeopleURL   string
	Form        unitEditForm
	CanEdit     bool
	Suggestions []string
}

type unitEditForm struct {
	Manager, Contact string
}

func (s *Server) loadUnit(ctx context.Context, id int64) (*store.Unit, error) {
	return s.d.Store.UnitByID(ctx, id)
}

func (s *Server) handleUnit(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	s.renderUnit(w, r, pc, http.StatusOK, nil, "")
}

func (s *Server) renderUnit(w http.ResponseWriter, r *http.Request, pc *portalCtx, status int, form *unitEditForm, errText string) {
	ctx := r.Context()
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	u, err := s.loadUnit(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	if !s.check(w, r, pc, pc.v.ReadUnit(u.ID)) {
		return
	}
	p := s.portalPage(r, pc, areaPortal, "portal.unit.title", "/portal/units", nil)
	p.Title = u.Name
	names, err := s.accountNames(ctx, []int64{u.ManagerID, u.SecurityContactID})
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	uv := unitView{Unit: *u, Address: u.LocalPart + "@" + s.d.Dir.Domain, Kind: p.T("unitkind." + string(u.Kind)),
		Manager: names[u.ManagerID], Contact: names[u.SecurityContactID], CanEdit: pc.v.UpdateUnit(u.ID, authz.UnitChange{Manager: true}) == nil,
		PeopleURL: "/portal/accounts?unit=" + strconv.FormatInt(u.ID, 10)}
	if u.ParentID != 0 {
		if pu, ok := pc.v.Unit(u.ParentID); ok {
			uv.Parent = &pu
		}
	}
	for _, cid := range pc.v.Subtree(u.ID)[1:] {
		if c, ok := pc.v.Unit(cid); ok && c.ParentID == u.ID {
			uv.Children = append(uv.Children, c)
		}
	}
	if box, err := s.d.Store.AccountByAddress(ctx, uv.Address); err == nil && box.Kind == store.KindUnit {
		uv.Mailbox = box
		uv.MailboxURL = "/portal/accounts/" + strconv.FormatInt(box.ID, 10)
	}
	people, err := s.d.Store.ListAccounts(ctx, store.AccountFilter{UnitID: u.ID})
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	for _, a := range people {
		if a.State != store.StateRevoked {
			uv.People++
			if a.Kind == store.KindPersonal {
				uv.Suggestions = append(uv.Suggestions, a.Address)
			}
		}
	}
	uv.Form = unitEditForm{Manager: uv.Manager, Contact: uv.Contact}
	if form != nil {
		uv.Form = *form
	}
	p.Error = errText
	p.Body = uv
	s.render(w, r, status, "portal_unit", p)
}

// personByAddress finds the account a form names; "" means none.
func (s *Server) personByAddress(ctx context.Context, lang i18n.Lang, addr string) (*store.Account, string, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return nil, "", nil
	}
	if !strings.Contains(addr, "@") {
		addr += "@" + s.d.Dir.Domain
	}
	a, err := s.d.Store.AccountByAddress(ctx, addr)
	if errors.Is(err, store.ErrNotFound) || err == nil && a.State == store.StateRevoked {
		return nil, s.cat.T(lang, "portal.err.no_account", addr), nil
	}
	if err != nil {
		return nil, "", err
	}
	if a.Kind != store.KindPersonal {
		return nil, s.cat.T(lang, "portal.err.not_person", addr), nil
	}
	return a, "", nil
}

// handleUnitUpdate names a unit's manager and security contact (R12.1).
func (s *Server) handleUnitUpdate(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	u, err := s.loadUnit(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	form := unitEditForm{Manager: strings.TrimSpace(r.PostFormValue("manager")), Contact: strings.TrimSpace(r.PostFormValue("contact"))}
	manager, errM, err := s.personByAddress(ctx, pc.lang, form.Manager)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	contact, errC, err := s.personByAddress(ctx, pc.lang, form.Contact)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	if !s.check(w, r, pc, pc.v.UpdateUnit(u.ID, authz.UnitChange{Manager: true, SecurityContact: true, Contact: contact})) {
		return
	}
	if errM != "" || errC != "" {
		s.renderUnit(w, r, pc, http.StatusUnprocessableEntity, &form, strings.TrimSpace(errM+" "+errC))
		return
	}
	u.ManagerID, u.SecurityContactID = 0, 0
	if manager != nil {
		u.ManagerID = manager.ID
	}
	if contact != nil {
		u.SecurityContactID = contact.ID
	}
	if err := s.audit(ctx, pc.acct.Address, "unit.update", u.LocalPart, fmt.Sprintf("manager=%s security_contact=%s", addrOf(manager), addrOf(contact))); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	if err := s.d.Store.UpdateUnit(ctx, u); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	seeOther(w, r, "/portal/units/"+strconv.FormatInt(u.ID, 10), "unit_updated")
}

func addrOf(a *store.Account) string {
	if a == nil {
		return ""
	}
	return a.Address
}

// secretView is the page that shows a one-time password once (R6.1).
type secretView struct {
	Heading string
	Lines   []string
	Secrets []countSecret
	Back    string
	BackKey string
}

type countSecret struct {
	Address, Password string
}

// handleUnitMailbox creates the unit's own mailbox at the unit's address.
func (s *Server) handleUnitMailbox(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	u, err := s.loadUnit(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	if !s.check(w, r, pc, pc.v.ChangeAccount()) {
		return
	}
	pw := s.d.Life.Passwords.Generate(password.CheckContext{Address: u.LocalPart + "@" + s.d.Dir.Domain})
	hash, err := password.Hash(pw)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	box, err := s.d.Dir.CreateUnitMailbox(ctx, u.LocalPart, hash, s.defaultQuota(), pc.acct.Address)
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			s.renderUnit(w, r, pc, http.StatusConflict, nil, s.cat.T(pc.lang, "portal.err.mailbox_exists"))
			return
		}
		if text, ok := refusal(pc.lang, err); ok {
			s.renderUnit(w, r, pc, http.StatusUnprocessableEntity, nil, text)
			return
		}
		s.serverError(w, r, pc.lang, err)
		return
	}
	s.renderSecret(w, r, pc, secretView{Heading: s.cat.T(pc.lang, "portal.secret.mailbox_created"), Secrets: []countSecret{{box.Address, pw}},
		Back: "/portal/units/" + strconv.FormatInt(u.ID, 10), BackKey: "portal.back.unit"})
}

func (s *Server) renderSecret(w http.ResponseWriter, r *http.Request, pc *portalCtx, sv secretView) {
	p := s.portalPage(r, pc, areaPortal, "portal.secret.title", "", nil)
	p.Body = sv
	s.render(w, r, http.StatusOK, "portal_secret", p)
}

func (s *Server) defaultQuota() int64 {
	if q := s.d.Config.Policy.QuotaBytes; q > 0 {
		return q
	}
	return 2147483648
}

// ---- Accounts ----

type accountsView struct {
	States []string
	Query  string
	UnitID int64
	State  string
	Units  []store.Unit
	Rows   []personRow
	Limit  int
	More   bool
	Search bool
}

// accountListMax bounds one search page.
const accountListMax = 200

func (s *Server) sortedUnits(v *authz.View) []store.Unit {
	var out []store.Unit
	for _, id := range v.ReadableUnits() {
		if u, ok := v.Unit(id); ok {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b store.Unit) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (s *Server) handleAccounts(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	q := r.URL.Query()
	av := accountsView{States: []string{string(store.StateActive), string(store.StateLocked), string(store.StateRevoked)}, Query: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Units: s.sortedUnits(pc.v), Limit: accountListMax}
	av.UnitID, _ = strconv.ParseInt(q.Get("unit"), 10, 64)
	switch store.AccountState(av.State) {
	case store.StateActive, store.StateLocked, store.StateRevoked, "":
	default:
		av.State = ""
	}
	av.Search = av.Query != "" || av.UnitID != 0 || av.State != ""
	if av.Search {
		accts, err := s.d.Store.ListAccounts(ctx, store.AccountFilter{UnitID: av.UnitID, State: store.AccountState(av.State), Query: av.Query, Limit: accountListMax + 1})
		if err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		if len(accts) > accountListMax {
			accts, av.More = accts[:accountListMax], true
		}
		for i := range accts {
			av.Rows = append(av.Rows, s.personRow(pc.lang, &accts[i], pc.v))
		}
	}
	p := s.portalPage(r, pc, areaPortal, "portal.accounts.title", "/portal/accounts", nil)
	p.Body = av
	s.render(w, r, http.StatusOK, "portal_accounts", p)
}

type accountNewView struct {
	Units      []store.Unit
	Unit       string
	Name       string
	Year       string
	Override   string
	Suggestion *directory.Suggestion
}

// handleAccountNew shows the create form and, once a unit and a name are given,
// the address the rule of Điều 5.2 gives (R5.2–R5.4, R5.8) before anything is
// created.
func (s *Server) handleAccountNew(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	q := r.URL.Query()
	f := accountNewView{Unit: q.Get("unit"), Name: strings.TrimSpace(q.Get("name")), Year: strings.TrimSpace(q.Get("year"))}
	s.renderAccountNew(w, r, pc, f, f.Unit != "" && f.Name != "")
}

func (s *Server) renderAccountNew(w http.ResponseWriter, r *http.Request, pc *portalCtx, f accountNewView, suggest bool) {
	p := s.portalPage(r, pc, areaPortal, "portal.account_new.title", "/portal/accounts", nil)
	f.Units = s.sortedUnits(pc.v)
	status := http.StatusOK
	if suggest {
		year, ok := parseYear(f.Year, s.today().Year())
		if !ok {
			p.Error = p.T("portal.err.birth_year")
			status = http.StatusUnprocessableEntity
		} else {
			sug, err := s.d.Dir.SuggestPersonal(r.Context(), f.Unit, f.Name, year)
			if err != nil {
				text, ok := refusal(pc.lang, err)
				if !ok {
					s.serverError(w, r, pc.lang, err)
					return
				}
				p.Error = text
				status = http.StatusUnprocessableEntity
			} else {
				f.Suggestion = sug
			}
		}
	}
	p.Body = f
	s.render(w, r, status, "portal_account_new", p)
}

func parseYear(s string, thisYear int) (int, bool) {
	if s == "" {
		return 0, true
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 1900 || y > thisYear {
		return 0, false
	}
	return y, true
}

// handleAccountCreate creates a personal account with the rule's address (or the
// operator's override, recorded by directory) and shows its one-time password
// once (R6.1).
func (s *Server) handleAccountCreate(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	if !s.check(w, r, pc, pc.v.ChangeAccount()) {
		return
	}
	f := accountNewView{Unit: r.PostFormValue("unit"), Name: strings.TrimSpace(r.PostFormValue("name")), Year: strings.TrimSpace(r.PostFormValue("year")),
		Override: strings.TrimSpace(r.PostFormValue("override"))}
	year, ok := parseYear(f.Year, s.today().Year())
	if !ok || f.Name == "" || f.Unit == "" {
		s.renderAccountNew(w, r, pc, f, true)
		return
	}
	pw := s.d.Life.Passwords.Generate(password.CheckContext{FullName: f.Name})
	hash, err := password.Hash(pw)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	a, err := s.d.Dir.CreatePerson(ctx, directory.NewPerson{UnitLP: f.Unit, FullName: f.Name, BirthYear: year, Override: f.Override,
		PasswordHash: hash, MustChange: true, QuotaBytes: s.defaultQuota()}, pc.acct.Address)
	if err != nil {
		if text, ok := refusal(pc.lang, err); ok {
			p := s.portalPage(r, pc, areaPortal, "portal.account_new.title", "/portal/accounts", nil)
			f.Units = s.sortedUnits(pc.v)
			if sug, err := s.d.Dir.SuggestPersonal(ctx, f.Unit, f.Name, year); err == nil {
				f.Suggestion = sug
			}
			p.Error = text
			p.Body = f
			s.render(w, r, http.StatusUnprocessableEntity, "portal_account_new", p)
			return
		}
		s.serverError(w, r, pc.lang, err)
		return
	}
	s.renderSecret(w, r, pc, secretView{Heading: s.cat.T(pc.lang, "portal.secret.account_created"), Secrets: []countSecret{{a.Address, pw}},
		Back: "/portal/accounts/" + strconv.FormatInt(a.ID, 10), BackKey: "portal.back.account"})
}

type accountView struct {
	Row         personRow
	Acct        *store.Account
	Kind        string
	Unit        *store.Unit
	UnitURL     string
	Created     string
	PasswordSet string
	MustChange  bool
	Operator    bool
	LockedAt    string
	LockedBy    string
	LockNote    string
	AddressNote string
	QuotaMB     int64
	Absences    []string
	Delegations []string
	Audit       []auditRow
	Active      bool
	Locked      bool
	Revoked     bool
	Reasons     []string
	Form        accountOpForm
}

type accountOpForm struct {
	Op, Reason, Note, DocRef, Confirm, Quota string
}

type auditRow struct {
	Time, Actor, Action, Target, Detail string
}

// lockReasonsManual are the reasons an operator locks for; inactivity is the
// daily job's (R8.2).
func lockReasonsManual() []string {
	return []string{store.LockCompromised, store.LockProhibitedContent, store.LockOperator}
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	s.renderAccount(w, r, pc, http.StatusOK, accountOpForm{}, "")
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, pc *portalCtx, status int, form accountOpForm, errText string) {
	ctx := r.Context()
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	a, err := s.d.Store.AccountByID(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	if !s.check(w, r, pc, pc.v.ReadAccount(a)) {
		return
	}
	p := s.portalPage(r, pc, areaPortal, "portal.account.title", "/portal/accounts", nil)
	p.Title = a.Address
	av := accountView{Row: s.personRow(pc.lang, a, pc.v), Acct: a, Kind: p.T("acctkind." + string(a.Kind)),
		Created: s.fmtTime(pc.lang, a.CreatedAt), PasswordSet: s.fmtTime(pc.lang, a.PasswordSetAt), MustChange: a.MustChange,
		Operator: a.Role == store.RoleOperator, AddressNote: a.AddressNote, QuotaMB: a.QuotaBytes >> 20,
		Active: a.State == store.StateActive, Locked: a.State == store.StateLocked, Revoked: a.State == store.StateRevoked, Form: form}
	if u, ok := pc.v.Unit(a.UnitID); ok {
		av.Unit = &u
		av.UnitURL = "/portal/units/" + strconv.FormatInt(u.ID, 10)
	}
	av.Reasons = lockReasonsManual()
	if av.Locked {
		lives, err := s.d.Store.AccountLives(ctx, store.StateLocked)
		if err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		for _, l := range lives {
			if l.ID == a.ID {
				av.LockedAt, av.LockedBy, av.LockNote = s.fmtTime(pc.lang, l.LockedAt), l.LockedBy, l.Note
			}
		}
	}
	abs, err := s.d.Store.Absences(ctx, a.ID)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	for _, ab := range abs {
		av.Absences = append(av.Absences, p.T("portal.absence_line", ab.Reason, fmtDate(pc.lang, ab.Starts), fmtDate(pc.lang, ab.Ends)))
	}
	var dels []store.Delegation
	if a.Kind == store.KindUnit {
		dels, err = s.d.Store.Delegations(ctx, a.ID)
	} else {
		dels, err = s.d.Store.DelegatedTo(ctx, a.ID)
	}
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	for _, d := range dels {
		other := d.DelegateID
		if a.Kind != store.KindUnit {
			other = d.UnitAccountID
		}
		if o, err := s.d.Store.AccountByID(ctx, other); err == nil {
			av.Delegations = append(av.Delegations, o.Address)
		}
	}
	if pc.v.ReadAudit() == nil {
		entries, err := s.d.Store.SearchAudit(ctx, a.Address, time.Time{}, time.Time{}, 50)
		if err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		for _, e := range entries {
			av.Audit = append(av.Audit, auditRow{Time: s.fmtTime(pc.lang, e.Time), Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail})
		}
	}
	p.Error = errText
	p.Body = av
	s.render(w, r, status, "portal_account", p)
}

// handleAccountOp carries out one operator action on an account: a one-time
// password (R6.1), a lock with its reason and evidence (R8.1, R8.3), a restore
// on a unit's document (R8.5), a revocation confirmed by typing the address and
// backed by a document (R7.4), a quota (R11.4).
func (s *Server) handleAccountOp(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	a, err := s.d.Store.AccountByID(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	if !s.check(w, r, pc, pc.v.ChangeAccount()) {
		return
	}
	op := r.PathValue("op")
	f := accountOpForm{Op: op, Reason: r.PostFormValue("reason"), Note: strings.TrimSpace(r.PostFormValue("note")),
		DocRef: strings.TrimSpace(r.PostFormValue("doc_ref")), Confirm: strings.TrimSpace(r.PostFormValue("confirm")),
		Quota: strings.TrimSpace(r.PostFormValue("quota_mb"))}
	invalid := func(key string, args ...any) {
		s.renderAccount(w, r, pc, http.StatusUnprocessableEntity, f, s.cat.T(pc.lang, key, args...))
	}
	refused := func(err error) {
		if text, ok := refusal(pc.lang, err); ok {
			s.renderAccount(w, r, pc, http.StatusUnprocessableEntity, f, text)
			return
		}
		s.serverError(w, r, pc.lang, err)
	}
	back := "/portal/accounts/" + strconv.FormatInt(a.ID, 10)
	if a.State == store.StateRevoked {
		invalid("portal.err.revoked")
		return
	}
	evidence := func() string {
		var parts []string
		if f.DocRef != "" {
			parts = append(parts, "văn bản / document "+f.DocRef)
		}
		if f.Note != "" {
			parts = append(parts, f.Note)
		}
		return strings.Join(parts, "; ")
	}
	switch op {
	case "reset":
		pw, _, err := s.d.Life.ResetPassword(ctx, a.ID, "", pc.acct.Address)
		if err != nil {
			refused(err)
			return
		}
		// A reset often follows a leak: whoever holds a session now loses it.
		if err := s.sessions.DeleteAccount(ctx, a.ID); err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		s.renderSecret(w, r, pc, secretView{Heading: s.cat.T(pc.lang, "portal.secret.reset"), Secrets: []countSecret{{a.Address, pw}},
			Back: back, BackKey: "portal.back.account"})
	case "lock":
		if !slices.Contains(lockReasonsManual(), f.Reason) {
			invalid("portal.err.lock_reason")
			return
		}
		if lifecycle.NeedsEvidence(f.Reason) && evidence() == "" {
			invalid("portal.err.lock_evidence")
			return
		}
		if err := s.d.Life.Lock(ctx, a.ID, f.Reason, evidence(), pc.acct.Address); err != nil {
			refused(err)
			return
		}
		seeOther(w, r, back, "account_locked")
	case "restore":
		if f.DocRef == "" {
			invalid("portal.err.restore_doc")
			return
		}
		pw, err := s.d.Life.Restore(ctx, a.ID, pc.acct.Address, evidence())
		if err != nil {
			refused(err)
			return
		}
		// lifecycle records the restore; the document it was done on is ours to add
		// (R8.5: a request with its document reference).
		if err := s.audit(ctx, pc.acct.Address, "account.restore.reference", a.Address, evidence()); err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		s.renderSecret(w, r, pc, secretView{Heading: s.cat.T(pc.lang, "portal.secret.restored"), Secrets: []countSecret{{a.Address, pw}},
			Back: back, BackKey: "portal.back.account"})
	case "revoke":
		if f.DocRef == "" {
			invalid("portal.err.revoke_doc")
			return
		}
		if !strings.EqualFold(f.Confirm, a.Address) {
			invalid("portal.err.revoke_confirm", a.Address)
			return
		}
		if err := s.d.Life.Revoke(ctx, a.ID, pc.acct.Address, evidence()); err != nil {
			refused(err)
			return
		}
		seeOther(w, r, back, "account_revoked")
	case "quota":
		b, ok := parseMB(f.Quota)
		if !ok {
			invalid("portal.err.quota")
			return
		}
		if err := s.audit(ctx, pc.acct.Address, "account.quota", a.Address, strconv.FormatInt(b, 10)); err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		if err := s.d.Store.SetQuota(ctx, a.ID, b); err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		seeOther(w, r, back, "quota_set")
	default:
		s.renderError(w, r, pc.lang, http.StatusNotFound, "portal.not_found")
	}
}
