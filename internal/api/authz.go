package api

// Authorisation of the API lives here: every route names a token scope and a
// gate (checked before its handler runs), and every handler that touches an
// object asks the view (the rules of internal/authz, shared with the operators'
// portal so that web and API can never disagree) before acting. The roles come
// from the data, not from a role table:
//
//   - operator (store.RoleOperator, Sở KHCN): everything (Điều 7.2, 14);
//   - unit manager (the account is ManagerID of a unit): that unit and its
//     sub-units — files and follows their requests, declares absences, hands the
//     unit mailboxes to staff, names the security contact (Điều 7.1, 9.2, 16);
//     never carries out a request (R7.5);
//   - security contact (SecurityContactID of a unit): reads that unit's (and its
//     sub-units') accounts and log counts (R12.1);
//   - user: only their own account and their own delegations.
//
// A token narrows its account's rights to its scopes; it never widens them.

import (
	"context"
	"net/http"

	"govmail/internal/authz"
	"govmail/internal/store"
)

// Scopes of API tokens. A web session holds every scope: it acts with the
// person's full rights, which the gates and object checks then narrow.
const (
	ScopeRead             = "read"              // every GET except the transaction log
	ScopeRequestsWrite    = "requests:write"    // file requests, upload staff lists (R7.7)
	ScopeRequestsHandle   = "requests:handle"   // carry out or reject requests (operators)
	ScopeUnitsWrite       = "units:write"       // create and change units
	ScopeAccountsWrite    = "accounts:write"    // create, reset, lock, restore, revoke, quota
	ScopeDelegationsWrite = "delegations:write" // grant and remove delegates (R9.1)
	ScopeAbsencesWrite    = "absences:write"    // declare absences (R8.2)
	ScopeLogsRead         = "logs:read"         // search and export the transaction log (R11.3)
)

// Scopes lists every scope a token may hold.
func Scopes() []string {
	return []string{ScopeRead, ScopeRequestsWrite, ScopeRequestsHandle, ScopeUnitsWrite, ScopeAccountsWrite,
		ScopeDelegationsWrite, ScopeAbsencesWrite, ScopeLogsRead}
}

// Principal is who calls: an account, through a token or a web session.
type Principal struct {
	Account *store.Account
	Via     string // "token" or "session"
	TokenID int64
	// scopes is nil for a web session: every scope.
	scopes map[string]bool
}

// HasScope tells whether the principal's credential carries scope.
func (p *Principal) HasScope(scope string) bool {
	return p.scopes == nil || p.scopes[scope]
}

// gate is the coarse rule of a route, checked before its handler runs so that a
// handler is never entered by someone who could not use it on any object.
type gate int

const (
	gatePublic        gate = iota // no authentication: the OpenAPI document
	gateAuthenticated             // anyone signed in; the handler checks the object
	gateUnitStaff                 // operators, unit managers, security contacts
	gateManager                   // operators and unit managers
	gateOperator                  // operators only
)

func (g gate) String() string {
	return [...]string{"public", "authenticated", "unit_staff", "manager", "operator"}[g]
}

// view is what one principal may reach: the shared rules of internal/authz
// (the same the operators' portal asks), with the principal whose token
// scopes narrow them.
type view struct {
	*authz.View
	p *Principal
}

func (a *API) viewOf(ctx context.Context, p *Principal) (*view, error) {
	v, err := authz.Load(ctx, a.d.Store, p.Account)
	if err != nil {
		return nil, err
	}
	return &view{View: v, p: p}, nil
}

// pass applies a route's scope and gate: a token narrows its account's rights
// to its scopes, then the gate asks the account's role.
func (v *view) pass(g gate, scope string) error {
	if scope != "" && !v.p.HasScope(scope) {
		return errScope(scope)
	}
	ok := false
	switch g {
	case gatePublic, gateAuthenticated:
		ok = true
	case gateUnitStaff:
		ok = v.UnitStaff()
	case gateManager:
		ok = v.Operator() || v.Manager()
	case gateOperator:
		ok = v.Operator()
	}
	if !ok {
		return errForbidden()
	}
	return nil
}

// denied logs a refusal: who tried what is security-relevant (R11.2).
func (a *API) denied(r *http.Request, p *Principal, err error) {
	who := ""
	if p != nil {
		who = p.Account.Address
	}
	a.log.Info("api access denied", "method", r.Method, "path", r.URL.Path, "who", who, "err", err)
}
