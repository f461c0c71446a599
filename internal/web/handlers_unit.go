package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"govmail/internal/authz"
	"govmail/internal/lifecycle"
	"govmail/internal/report"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// The unit managers' pages (Điều 16, R16.1–R16.3): a manager sees their unit and
// its sub-units only — people and mailboxes with their state, declared
// absences, the unit mailbox's delegates, the security contact — files and
// follows the unit's requests and exports its figures. A unit's security
// contact reads the same pages without the actions (R12.1).

func (s *Server) unitRoutes(m *http.ServeMux) {
	u := func(h portalHandler) http.HandlerFunc { return s.portalRoute(areaUnit, h) }
	m.HandleFunc("GET /unit", u(s.handleUnitLanding))
	m.HandleFunc("GET /unit/{id}", u(s.handleUnitHome))
	m.HandleFunc("GET /unit/{id}/requests", u(s.handleUnitRequests))
	m.HandleFunc("GET /unit/{id}/requests/new", u(s.handleUnitRequestForm))
	m.HandleFunc("POST /unit/{id}/requests", u(s.handleUnitRequestFile))
	m.HandleFunc("GET /unit/{id}/requests/{rid}", u(s.handleUnitRequest))
	m.HandleFunc("POST /unit/{id}/absence", u(s.handleUnitAbsence))
	m.HandleFunc("POST /unit/{id}/delegates", u(s.handleUnitDelegates))
	m.HandleFunc("POST /unit/{id}/security", u(s.handleUnitSecurity))
	m.HandleFunc("GET /unit/{id}/report", u(s.handleUnitReport))
}

func unitURL(id int64) string { return "/unit/" + strconv.FormatInt(id, 10) }

// handleUnitLanding opens the one unit a manager heads, or lists them.
func (s *Server) handleUnitLanding(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	roots := pc.v.Roots()
	if len(roots) == 1 {
		http.Redirect(w, r, unitURL(roots[0].ID), http.StatusSeeOther)
		return
	}
	p := s.portalPage(r, pc, areaUnit, "unit.list.title", "/unit", nil)
	type link struct{ Name, Address, URL string }
	var links []link
	for _, u := range roots {
		links = append(links, link{u.Name, u.LocalPart + "@" + s.d.Dir.Domain, unitURL(u.ID)})
	}
	p.Body = links
	s.render(w, r, http.StatusOK, "unit_list", p)
}

// unitOf loads the unit of the path and checks the account may read it.
func (s *Server) unitOf(w http.ResponseWriter, r *http.Request, pc *portalCtx) (*store.Unit, bool) {
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return nil, false
	}
	u, ok := pc.v.Unit(id)
	if !ok {
		s.renderError(w, r, pc.lang, http.StatusNotFound, "portal.not_found")
		return nil, false
	}
	if !s.check(w, r, pc, pc.v.ReadUnit(u.ID)) {
		return nil, false
	}
	return &u, true
}

type mailboxDelegates struct {
	ID        int64
	Address   string
	Delegates []string
}

type unitHomeView struct {
	Unit        store.Unit
	Address     string
	Parent      *store.Unit
	ParentURL   string
	SubUnits    []navLink
	People      []personRow
	ShowUnit    bool
	CanManage   bool
	Manager     string
	Contact     string
	Candidates  []personRow
	Mailboxes   []mailboxDelegates
	Requests    []requestRow
	RequestsURL string
	Period      string
	ReportOK    bool
	Today       string
}

// subtreeAccounts lists the accounts of a unit and its sub-units, revoked ones
// left out (R7.4: they are records, not mailboxes).
func (s *Server) subtreeAccounts(r *http.Request, v *authz.View, unitID int64) ([]store.Account, error) {
	var out []store.Account
	for _, id := range v.Subtree(unitID) {
		accts, err := s.d.Store.ListAccounts(r.Context(), store.AccountFilter{UnitID: id})
		if err != nil {
			return nil, err
		}
		for _, a := range accts {
			if a.State != store.StateRevoked {
				out = append(out, a)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b store.Account) int {
		if a.Kind != b.Kind {
			// Unit mailboxes first: they are the unit's own.
			if a.Kind == store.KindUnit {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.DisplayName, b.DisplayName)
	})
	return out, nil
}

func (s *Server) handleUnitHome(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	s.renderUnitHome(w, r, pc, http.StatusOK, "")
}

func (s *Server) renderUnitHome(w http.ResponseWriter, r *http.Request, pc *portalCtx, status int, errText string) {
	ctx := r.Context()
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	p := s.portalPage(r, pc, areaUnit, "unit.home.title", unitURL(u.ID), u)
	p.Title = u.Name
	today := s.today()
	hv := unitHomeView{Unit: *u, Address: u.LocalPart + "@" + s.d.Dir.Domain, CanManage: pc.v.ManageUnit(u.ID) == nil,
		RequestsURL: unitURL(u.ID) + "/requests", Period: fmt.Sprintf("%04d-%02d", today.Year(), int(today.Month())), Today: today.String()}
	if _, ok := s.d.Store.(report.Store); ok {
		hv.ReportOK = true
	}
	if u.ParentID != 0 {
		if pu, ok := pc.v.Unit(u.ParentID); ok {
			hv.Parent = &pu
			if pc.v.ReadUnit(pu.ID) == nil {
				hv.ParentURL = unitURL(pu.ID)
			}
		}
	}
	sub := pc.v.Subtree(u.ID)
	for _, id := range sub[1:] {
		if c, ok := pc.v.Unit(id); ok && c.ParentID == u.ID {
			hv.SubUnits = append(hv.SubUnits, navLink{Href: unitURL(c.ID), Label: c.Name})
		}
	}
	hv.ShowUnit = len(sub) > 1
	names, err := s.accountNames(ctx, []int64{u.ManagerID, u.SecurityContactID})
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	hv.Manager, hv.Contact = names[u.ManagerID], names[u.SecurityContactID]
	accts, err := s.subtreeAccounts(r, pc.v, u.ID)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	for i := range accts {
		a := &accts[i]
		row := s.personRow(pc.lang, a, pc.v)
		abs, err := s.d.Store.Absences(ctx, a.ID)
		if err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		for _, ab := range abs {
			if ab.Ends >= today.String() {
				row.Absences = append(row.Absences, p.T("portal.absence_line", ab.Reason, fmtDate(pc.lang, ab.Starts), fmtDate(pc.lang, ab.Ends)))
			}
		}
		hv.People = append(hv.People, row)
		if a.Kind == store.KindPersonal && a.State == store.StateActive {
			hv.Candidates = append(hv.Candidates, row)
		}
		if a.Kind == store.KindUnit && hv.CanManage {
			dels, err := s.d.Store.Delegations(ctx, a.ID)
			if err != nil {
				s.serverError(w, r, pc.lang, err)
				return
			}
			md := mailboxDelegates{ID: a.ID, Address: a.Address}
			for _, d := range dels {
				if da, err := s.d.Store.AccountByID(ctx, d.DelegateID); err == nil {
					md.Delegates = append(md.Delegates, da.Address)
				}
			}
			hv.Mailboxes = append(hv.Mailboxes, md)
		}
	}
	if hv.CanManage {
		rows, _, err := s.listRequests(r, pc, sub, "", "", unitURL(u.ID)+"/requests/")
		if err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		hv.Requests = rows[:min(len(rows), 5)]
	}
	p.Error = errText
	p.Body = hv
	s.render(w, r, status, "unit_home", p)
}

// handleUnitAbsence declares an absence (R8.2): no inactivity lock while it is in
// force. lifecycle refuses one for a locked account (a restore request is needed).
func (s *Server) handleUnitAbsence(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PostFormValue("account"), 10, 64)
	a, err := s.d.Store.AccountByID(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	if !s.check(w, r, pc, pc.v.DeclareAbsence(a)) {
		return
	}
	ends, err := workdays.Parse(strings.TrimSpace(r.PostFormValue("ends")))
	if err != nil {
		s.renderUnitHome(w, r, pc, http.StatusUnprocessableEntity, s.cat.T(pc.lang, "unit.err.absence_date"))
		return
	}
	if err := s.d.Life.DeclareAbsence(ctx, a.ID, strings.TrimSpace(r.PostFormValue("reason")), ends, pc.acct.Address); err != nil {
		if text, ok := refusal(pc.lang, err); ok {
			s.renderUnitHome(w, r, pc, http.StatusUnprocessableEntity, text)
			return
		}
		s.serverError(w, r, pc.lang, err)
		return
	}
	seeOther(w, r, unitURL(u.ID), "absence_declared")
}

// handleUnitDelegates grants or removes a delegate of a unit mailbox (R9.1);
// removal takes effect at once, live sessions included (lifecycle and store).
func (s *Server) handleUnitDelegates(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	boxID, _ := strconv.ParseInt(r.PostFormValue("box"), 10, 64)
	box, err := s.d.Store.AccountByID(ctx, boxID)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	person, errText, err := s.personByAddress(ctx, pc.lang, r.PostFormValue("person"))
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	if person == nil {
		if errText == "" {
			errText = s.cat.T(pc.lang, "unit.err.choose_person")
		}
		if !s.check(w, r, pc, pc.v.ManageUnit(box.UnitID)) {
			return
		}
		s.renderUnitHome(w, r, pc, http.StatusUnprocessableEntity, errText)
		return
	}
	if !s.check(w, r, pc, pc.v.Delegate(box, person)) {
		return
	}
	notice := "delegate_granted"
	if r.PostFormValue("op") == "remove" {
		err, notice = s.d.Life.RemoveDelegate(ctx, box.Address, person.Address, pc.acct.Address), "delegate_removed"
	} else {
		err = s.d.Life.GrantDelegate(ctx, box.Address, person.Address, pc.acct.Address)
	}
	if err != nil {
		if text, ok := refusal(pc.lang, err); ok {
			s.renderUnitHome(w, r, pc, http.StatusUnprocessableEntity, text)
			return
		}
		s.serverError(w, r, pc.lang, err)
		return
	}
	seeOther(w, r, unitURL(u.ID), notice)
}

// handleUnitSecurity names the unit's security contact (R12.1), one of its own
// people.
func (s *Server) handleUnitSecurity(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	person, errText, err := s.personByAddress(ctx, pc.lang, r.PostFormValue("contact"))
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	if !s.check(w, r, pc, pc.v.UpdateUnit(u.ID, authz.UnitChange{SecurityContact: true, Contact: person})) {
		return
	}
	if person == nil {
		if errText == "" {
			errText = s.cat.T(pc.lang, "unit.err.choose_person")
		}
		s.renderUnitHome(w, r, pc, http.StatusUnprocessableEntity, errText)
		return
	}
	cur, err := s.d.Store.UnitByID(ctx, u.ID)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	cur.SecurityContactID = person.ID
	if err := s.audit(ctx, pc.acct.Address, "unit.update", cur.LocalPart, "security_contact="+person.Address); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	if err := s.d.Store.UpdateUnit(ctx, cur); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	seeOther(w, r, unitURL(u.ID), "contact_named")
}

func (s *Server) handleUnitRequests(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	if !s.check(w, r, pc, pc.v.ManageUnit(u.ID)) {
		return
	}
	q := r.URL.Query()
	rv := requestsView{State: q.Get("state"), Kind: q.Get("kind"), States: requestStates(), Kinds: requestKinds(),
		UnitURL: unitURL(u.ID) + "/requests", NewURL: unitURL(u.ID) + "/requests/new"}
	if !slices.Contains(rv.States, rv.State) {
		rv.State = ""
	}
	if !slices.Contains(rv.Kinds, rv.Kind) {
		rv.Kind = ""
	}
	rows, n, err := s.listRequests(r, pc, pc.v.Subtree(u.ID), rv.State, rv.Kind, unitURL(u.ID)+"/requests/")
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	rv.Rows, rv.Overdue = rows, n
	p := s.portalPage(r, pc, areaUnit, "unit.requests.title", unitURL(u.ID)+"/requests", u)
	p.Body = rv
	s.render(w, r, http.StatusOK, "unit_requests", p)
}

func (s *Server) handleUnitRequest(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	rid, ok := s.pathID(w, r, pc.lang, "rid")
	if !ok {
		return
	}
	rv, ok := s.requestView(w, r, pc, rid, unitURL(u.ID)+"/requests/")
	if !ok {
		return
	}
	// Handling is the operators' (R7.5), in the portal, not from a unit page.
	rv.CanHandle = false
	rv.Back = unitURL(u.ID) + "/requests"
	p := s.portalPage(r, pc, areaUnit, "portal.request.title", unitURL(u.ID)+"/requests", u)
	p.Title = p.T("portal.request.heading", rv.Row.ID)
	p.Body = rv
	s.render(w, r, http.StatusOK, "portal_request", p)
}

type unitRequestForm struct {
	Kind, DocNumber, DocDate, FullName, BirthYear, PersonUnit string
	Addresses                                                 []string
	NewName, NewUnit, QuotaMB                                 string
}

type unitRequestView struct {
	Unit   store.Unit
	Form   unitRequestForm
	Kinds  []string
	Units  []store.Unit
	People []personRow
	Action string
	Today  string
}

func (f unitRequestForm) Selected(addr string) bool { return slices.Contains(f.Addresses, addr) }

func (s *Server) handleUnitRequestForm(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	if !s.check(w, r, pc, pc.v.FileRequest(u.ID, nil)) {
		return
	}
	f := unitRequestForm{Kind: r.URL.Query().Get("kind")}
	if a := r.URL.Query().Get("addr"); a != "" {
		f.Addresses = []string{a}
	}
	if !slices.Contains(requestKinds(), f.Kind) {
		f.Kind = store.RequestCreate
	}
	s.renderUnitRequestForm(w, r, pc, u, http.StatusOK, f, "")
}

func (s *Server) renderUnitRequestForm(w http.ResponseWriter, r *http.Request, pc *portalCtx, u *store.Unit, status int, f unitRequestForm, errText string) {
	p := s.portalPage(r, pc, areaUnit, "unit.request_new.title", unitURL(u.ID)+"/requests/new", u)
	rv := unitRequestView{Unit: *u, Form: f, Kinds: requestKinds(), Action: unitURL(u.ID) + "/requests", Today: s.today().String()}
	for _, id := range pc.v.Subtree(u.ID) {
		if su, ok := pc.v.Unit(id); ok {
			rv.Units = append(rv.Units, su)
		}
	}
	accts, err := s.subtreeAccounts(r, pc.v, u.ID)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	for i := range accts {
		rv.People = append(rv.People, s.personRow(pc.lang, &accts[i], pc.v))
	}
	p.Error = errText
	p.Body = rv
	s.render(w, r, status, "unit_request_new", p)
}

// handleUnitRequestFile files a request with its document reference (R7.1): for
// a create request one person or a CSV list of staff (R16.2), for the others the
// mailboxes concerned. lifecycle checks the request; authz checks that every
// person goes to a unit the manager heads.
func (s *Server) handleUnitRequestFile(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	f := unitRequestForm{Kind: r.PostFormValue("kind"), DocNumber: strings.TrimSpace(r.PostFormValue("doc_number")),
		DocDate: strings.TrimSpace(r.PostFormValue("doc_date")), FullName: strings.TrimSpace(r.PostFormValue("full_name")),
		BirthYear: strings.TrimSpace(r.PostFormValue("birth_year")), PersonUnit: r.PostFormValue("person_unit"),
		Addresses: r.PostForm["addr"], NewName: strings.TrimSpace(r.PostFormValue("new_name")),
		NewUnit: strings.TrimSpace(r.PostFormValue("new_unit")), QuotaMB: strings.TrimSpace(r.PostFormValue("quota_mb"))}
	invalid := func(text string) { s.renderUnitRequestForm(w, r, pc, u, http.StatusUnprocessableEntity, f, text) }
	in := lifecycle.RequestInput{Kind: f.Kind, UnitLP: u.LocalPart, DocNumber: f.DocNumber, DocDate: f.DocDate, FiledBy: pc.acct.Address}
	var peopleUnits []int64
	switch f.Kind {
	case store.RequestCreate:
		people, err := s.staffFromForm(r, f)
		if err != nil {
			text, ok := refusal(pc.lang, err)
			if !ok {
				s.serverError(w, r, pc.lang, err)
				return
			}
			invalid(text)
			return
		}
		for _, p := range people {
			if p.UnitLP == "" {
				peopleUnits = append(peopleUnits, u.ID)
				continue
			}
			pu, err := s.d.Store.UnitByLocalPart(ctx, p.UnitLP)
			if err != nil {
				invalid(s.cat.T(pc.lang, "unit.err.no_unit", p.UnitLP))
				return
			}
			peopleUnits = append(peopleUnits, pu.ID)
		}
		in.People = people
	case store.RequestModify, store.RequestRevoke, store.RequestRestore:
		in.Addresses = f.Addresses
		if f.Kind == store.RequestModify {
			m := &lifecycle.ModifySpec{NewName: f.NewName, NewUnitLP: strings.ToLower(f.NewUnit)}
			if f.QuotaMB != "" {
				b, ok := parseMB(f.QuotaMB)
				if !ok {
					invalid(s.cat.T(pc.lang, "portal.err.quota"))
					return
				}
				m.QuotaBytes = b
			}
			if *m != (lifecycle.ModifySpec{}) {
				in.Modify = m
			}
		}
	}
	if !s.check(w, r, pc, pc.v.FileRequest(u.ID, peopleUnits)) {
		return
	}
	req, err := s.d.Life.FileRequest(ctx, in)
	if err != nil {
		if text, ok := refusal(pc.lang, err); ok {
			invalid(text)
			return
		}
		s.serverError(w, r, pc.lang, err)
		return
	}
	seeOther(w, r, unitURL(u.ID)+"/requests/"+strconv.FormatInt(req.ID, 10), "request_filed")
}

// staffFromForm reads the people of a create request: the uploaded list when
// there is one (R16.2), else the one person of the form.
func (s *Server) staffFromForm(r *http.Request, f unitRequestForm) ([]lifecycle.PersonSpec, error) {
	file, hdr, err := r.FormFile("file")
	if err == nil && hdr.Size > 0 {
		defer file.Close()
		return lifecycle.ReadStaffList(file)
	}
	if err != nil && !errors.Is(err, http.ErrMissingFile) && !errors.Is(err, http.ErrNotMultipart) {
		return nil, fmt.Errorf("staff list: %w", err)
	}
	p := lifecycle.PersonSpec{FullName: strings.Join(strings.Fields(f.FullName), " "), UnitLP: f.PersonUnit}
	if f.BirthYear != "" {
		y, ok := parseYear(f.BirthYear, s.today().Year())
		if !ok {
			return nil, &lifecycle.Error{VI: "Năm sinh không hợp lệ.", EN: "The birth year is invalid."}
		}
		p.BirthYear = y
	}
	if p.FullName == "" {
		// lifecycle says what is missing, in its words.
		return []lifecycle.PersonSpec{}, nil
	}
	return []lifecycle.PersonSpec{p}, nil
}

// handleUnitReport exports the figures of R7.3 for the unit (R16.3) as CSV or
// XLSX, for the unit's own reports.
func (s *Server) handleUnitReport(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	u, ok := s.unitOf(w, r, pc)
	if !ok {
		return
	}
	rs, ok := s.d.Store.(report.Store)
	if !ok {
		s.renderError(w, r, pc.lang, http.StatusNotFound, "portal.unavailable")
		return
	}
	q := r.URL.Query()
	period, err := report.ParsePeriod(q.Get("period"))
	if err != nil {
		s.renderError(w, r, pc.lang, http.StatusUnprocessableEntity, "unit.err.period")
		return
	}
	format := q.Get("format")
	if format != report.FormatCSV && format != report.FormatXLSX {
		format = report.FormatCSV
	}
	b := &report.Builder{Store: rs, Clock: s.d.Clock}
	rep, err := b.Build(ctx, period, u.LocalPart)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	// The figures include the unit's mail counts: read like a log, audited (R14.5).
	if err := s.audit(ctx, pc.acct.Address, "report.export", u.LocalPart, period.Key+" "+format); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	setReportFileHeaders(w.Header(), rep, format)
	if err := report.Render(w, rep, format); err != nil {
		s.log.Error("unit report", "unit", u.LocalPart, "err", err)
	}
}
