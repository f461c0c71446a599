// Package api owns the REST API under /api/v1 (R7.7, R14.4): units, accounts,
// requests, delegations, absences and the transaction log, as JSON, for the
// operators' tools and for other provincial systems such as the document
// management system. It owns API tokens (scoped, revocable, kept only as
// hashes), the mapping of domain refusals to HTTP statuses (errors.go), and the
// API's authorisation in authz.go: token scopes and route gates there, object
// rules from internal/authz, which the operators' portal asks too.
//
// It never decides a rule of the regulation: addresses come from directory,
// requests, locks and delegations from lifecycle, logins from auth. It never
// renders pages or keeps web sessions (internal/web does, and hands the API a
// SessionAuth).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/directory"
	"govmail/internal/lifecycle"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// SessionAuth finds the account of a web session (provided by internal/web). It
// returns false when the request carries no valid session. A session that may
// only change its password (R6.1) must not be returned as valid.
type SessionAuth func(r *http.Request) (*store.Account, bool)

// Deps are what the API needs. Store, Auth, Dir, Life, Clock and Config are
// required.
type Deps struct {
	Store  store.Store
	Auth   *auth.Service
	Dir    *directory.Service
	Life   *lifecycle.Service
	Clock  clock.Clock
	Logger *slog.Logger
	Config config.Config
	// Tokens keeps API tokens; nil means Store when it implements
	// store.TokenStore, else tokens are refused.
	Tokens store.TokenStore
	// Session authenticates webmail sessions; nil accepts tokens only.
	Session SessionAuth
}

// API serves /api/v1.
type API struct {
	d      Deps
	log    *slog.Logger
	loc    *time.Location
	mux    *http.ServeMux
	routes []route
	cop    *http.CrossOriginProtection
}

// route is one endpoint: its method and pattern (net/http ServeMux syntax), the
// token scope it needs, its gate (authz.go) and its handler.
type route struct {
	method, path string
	scope        string
	gate         gate
	h            func(c *call) error
}

// call is one request being served.
type call struct {
	a   *API
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context
	p   *Principal // nil on public routes
	v   *view      // nil on public routes
}

// touchEvery bounds how often a token's use is written down: the last-used
// time and the login of R8.2 need minute precision, not a write per call.
const touchEvery = time.Minute

// Body limits: JSON bodies are small; a staff list of a large commune is not.
const (
	maxJSONBody = 1 << 20
	maxCSVBody  = 8 << 20
)

// New builds the API handler. Mount it at Prefix+"/".
func New(d Deps) http.Handler {
	a := newAPI(d)
	return a
}

func newAPI(d Deps) *API {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Tokens == nil {
		if ts, ok := d.Store.(store.TokenStore); ok {
			d.Tokens = ts
		}
	}
	a := &API{d: d, log: d.Logger.With("component", "api"), loc: workdays.Location(), mux: http.NewServeMux(),
		cop: http.NewCrossOriginProtection()}
	a.routes = a.table()
	for _, rt := range a.routes {
		a.mux.Handle(rt.method+" "+rt.path, a.wrap(rt))
	}
	a.mux.HandleFunc(Prefix+"/", a.fallback)
	return a
}

// table lists every route. The OpenAPI document must list the same ones (a
// test holds them together), and authz_test walks each with every role.
func (a *API) table() []route {
	p := Prefix
	return []route{
		{"GET", p + "/openapi.json", "", gatePublic, a.openAPI},
		{"GET", p + "/me", "", gateAuthenticated, a.me},

		{"GET", p + "/units", ScopeRead, gateUnitStaff, a.listUnits},
		{"POST", p + "/units", ScopeUnitsWrite, gateOperator, a.createUnit},
		{"GET", p + "/units/{unit}", ScopeRead, gateUnitStaff, a.getUnit},
		{"PATCH", p + "/units/{unit}", ScopeUnitsWrite, gateManager, a.updateUnit},

		{"GET", p + "/accounts", ScopeRead, gateUnitStaff, a.listAccounts},
		{"POST", p + "/accounts", ScopeAccountsWrite, gateOperator, a.createAccount},
		{"GET", p + "/accounts/{account}", ScopeRead, gateAuthenticated, a.getAccount},
		{"POST", p + "/accounts/{account}/password", ScopeAccountsWrite, gateOperator, a.resetPassword},
		{"POST", p + "/accounts/{account}/lock", ScopeAccountsWrite, gateOperator, a.lockAccount},
		{"POST", p + "/accounts/{account}/restore", ScopeAccountsWrite, gateOperator, a.restoreAccount},
		{"POST", p + "/accounts/{account}/revoke", ScopeAccountsWrite, gateOperator, a.revokeAccount},
		{"PUT", p + "/accounts/{account}/quota", ScopeAccountsWrite, gateOperator, a.setQuota},

		{"GET", p + "/address/suggest", ScopeRead, gateManager, a.suggestAddress},

		{"GET", p + "/requests", ScopeRead, gateManager, a.listRequests},
		{"POST", p + "/requests", ScopeRequestsWrite, gateManager, a.fileRequest},
		{"POST", p + "/requests/upload", ScopeRequestsWrite, gateManager, a.uploadRequest},
		{"GET", p + "/requests/{id}", ScopeRead, gateManager, a.getRequest},
		{"POST", p + "/requests/{id}/carry", ScopeRequestsHandle, gateOperator, a.carryRequest},
		{"POST", p + "/requests/{id}/reject", ScopeRequestsHandle, gateOperator, a.rejectRequest},

		{"GET", p + "/delegations", ScopeRead, gateAuthenticated, a.listDelegations},
		{"POST", p + "/delegations", ScopeDelegationsWrite, gateManager, a.grantDelegation},
		{"DELETE", p + "/delegations/{mailbox}/{delegate}", ScopeDelegationsWrite, gateManager, a.removeDelegation},

		{"POST", p + "/absences", ScopeAbsencesWrite, gateManager, a.declareAbsence},

		{"GET", p + "/logs", ScopeLogsRead, gateOperator, a.searchLogs},
		{"GET", p + "/logs/export", ScopeLogsRead, gateOperator, a.exportLogs},
		{"GET", p + "/logs/counts", ScopeRead, gateUnitStaff, a.logCounts},

		{"GET", p + "/authreports", ScopeLogsRead, gateOperator, a.listAuthReports},
		{"GET", p + "/authreports/{id}", ScopeLogsRead, gateOperator, a.getAuthReport},
	}
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mux.ServeHTTP(w, r)
}

// fallback answers paths no route matches with the API's JSON errors instead of
// ServeMux's plain text: 405 when the path exists with another method.
func (a *API) fallback(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := a.mux.Handler(probe); pat != "" && pat != Prefix+"/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		a.writeError(w, r, newError(http.StatusMethodNotAllowed, "method_not_allowed",
			"Phương thức HTTP không được hỗ trợ tại đường dẫn này.", "This HTTP method is not supported here."))
		return
	}
	a.writeError(w, r, errNotFound("route"))
}

func (a *API) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{a: a, w: w, r: r, ctx: r.Context()}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.Error("api handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				a.writeError(w, r, errInternal())
			}
		}()
		if err := a.admit(c, rt); err != nil {
			a.writeError(w, r, toError(err))
			return
		}
		if err := rt.h(c); err != nil {
			e := toError(err)
			if e.Status == http.StatusForbidden {
				a.denied(r, c.p, e)
			}
			a.writeError(w, r, e)
		}
	})
}

// admit authenticates the caller and applies the route's scope and gate.
func (a *API) admit(c *call, rt route) error {
	if rt.gate == gatePublic {
		return nil
	}
	p, err := a.authenticate(c.r)
	if err != nil {
		return err
	}
	if p == nil {
		return errUnauthorized()
	}
	// A browser session rides on a cookie the browser sends by itself, so a
	// state-changing call must come from our own origin (CSRF); a bearer token
	// is never sent by a browser unasked.
	if p.Via == "session" {
		if err := a.cop.Check(c.r); err != nil {
			return newError(http.StatusForbidden, "cross_origin",
				"Yêu cầu từ trang web khác bị từ chối.", "Cross-origin request refused.")
		}
	}
	c.p = p
	if c.v, err = a.viewOf(c.ctx, p); err != nil {
		return err
	}
	if err := c.v.pass(rt.gate, rt.scope); err != nil {
		a.denied(c.r, p, err)
		return err
	}
	return nil
}

// authenticate returns the principal of a bearer token or a web session, nil
// for an anonymous request, or an error for a bad credential.
func (a *API) authenticate(r *http.Request) (*Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return a.tokenPrincipal(r, h)
	}
	if a.d.Session == nil {
		return nil, nil
	}
	acc, ok := a.d.Session(r)
	if !ok || acc == nil {
		return nil, nil
	}
	if err := activeOrRefuse(acc); err != nil {
		return nil, err
	}
	if acc.MustChange {
		return nil, newError(http.StatusForbidden, "must_change_password",
			"Mật khẩu phải được đổi trước khi dùng (Điều 6). Hãy đổi mật khẩu trong webmail.",
			"The password must be changed first (Article 6). Change it in webmail.")
	}
	return &Principal{Account: acc, Via: "session"}, nil
}

// activeOrRefuse applies R8.1 to the API: a locked or revoked mailbox has no
// access, whatever the credential.
func activeOrRefuse(acc *store.Account) error {
	switch acc.State {
	case store.StateActive:
		return nil
	case store.StateLocked:
		return auth.LockedError() // 401 "locked" (errors.go)
	}
	return newError(http.StatusUnauthorized, "revoked", "Tài khoản đã bị thu hồi.", "The account has been revoked.")
}

func (a *API) tokenPrincipal(r *http.Request, header string) (*Principal, error) {
	ip := remoteIP(r)
	scheme, tok, ok := strings.Cut(header, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(tok, TokenPrefix) || a.d.Tokens == nil {
		a.authFailure(r.Context(), "", ip, "bad_authorization_header")
		return nil, errBadToken()
	}
	t, err := a.d.Tokens.APITokenByHash(r.Context(), HashToken(tok))
	if errors.Is(err, store.ErrNotFound) {
		a.authFailure(r.Context(), tokenPrefixOf(tok), ip, "unknown_token")
		return nil, errBadToken()
	}
	if err != nil {
		return nil, fmt.Errorf("token lookup: %w", err)
	}
	now := a.d.Clock.Now()
	switch {
	case !t.RevokedAt.IsZero():
		a.authFailure(r.Context(), t.Prefix, ip, "token_revoked")
		return nil, newError(http.StatusUnauthorized, "token_revoked", "Mã truy cập API đã bị thu hồi.", "The API token has been revoked.")
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		a.authFailure(r.Context(), t.Prefix, ip, "token_expired")
		return nil, newError(http.StatusUnauthorized, "token_expired", "Mã truy cập API đã hết hạn.", "The API token has expired.")
	}
	acc, err := a.d.Store.AccountByID(r.Context(), t.AccountID)
	if err != nil {
		return nil, fmt.Errorf("token account: %w", err)
	}
	if err := activeOrRefuse(acc); err != nil {
		a.authFailure(r.Context(), acc.Address, ip, "token_account_"+string(acc.State))
		return nil, err
	}
	if now.Sub(t.LastUsedAt) >= touchEvery {
		// R8.2: a successful authentication over any protocol is a login; the
		// API is one (R8.1 lists it). Written at most once a minute per token.
		if err := a.d.Tokens.TouchAPIToken(r.Context(), t.ID, now); err != nil {
			a.log.Warn("token last use not recorded", "token", t.ID, "err", err)
		}
		if err := a.d.Store.RecordLogin(r.Context(), acc.ID, now); err != nil {
			a.log.Warn("api login not recorded", "account", acc.Address, "err", err)
		}
		a.authEvent(r.Context(), acc.Address, ip, true, "token "+t.Prefix)
	}
	scopes := map[string]bool{}
	for _, s := range t.Scopes {
		scopes[s] = true
	}
	return &Principal{Account: acc, Via: "token", TokenID: t.ID, scopes: scopes}, nil
}

func errBadToken() *Error {
	return newError(http.StatusUnauthorized, "invalid_token",
		"Mã truy cập API không hợp lệ.", "The API token is invalid.")
}

func (a *API) authFailure(ctx context.Context, user, ip, reason string) {
	a.authEvent(ctx, user, ip, false, reason)
}

// authEvent writes the authentication log of R11.2.
func (a *API) authEvent(ctx context.Context, user, ip string, ok bool, reason string) {
	a.log.Info("authentication", "proto", "api", "user", user, "ip", ip, "success", ok, "reason", reason)
	if err := a.d.Store.AppendAuthLog(ctx, store.AuthLogEntry{Time: a.d.Clock.Now(), Proto: "api", Username: user, IP: ip, Success: ok, Reason: reason}); err != nil {
		a.log.Error("auth log", "err", err)
	}
}

// remoteIP is the peer's address. Forwarded headers are not trusted: govmail
// sits behind a TCP balancer, not an HTTP proxy.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// writeError sends e as JSON; a 5xx is logged with its cause and sent without it.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	if e.Status >= 500 {
		a.log.Error("api error", "method", r.Method, "path", r.URL.Path, "err", e.cause)
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="govmail"`)
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// Responses may carry one-time passwords and personal data.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func (c *call) json(status int, v any) error {
	writeJSON(c.w, status, v)
	return nil
}

// actor is how the caller is named in audit entries and request trails.
func (c *call) actor() string {
	if c.p.Via == "token" {
		return fmt.Sprintf("%s (api token #%d)", c.p.Account.Address, c.p.TokenID)
	}
	return c.p.Account.Address
}

// decode reads a JSON body into dst, refusing unknown fields so that a typo in
// a client is an error, not a silently ignored value.
func (c *call) decode(dst any) error {
	ct := c.r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Nội dung phải là JSON (Content-Type: application/json).", "The body must be JSON (Content-Type: application/json).")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.w, c.r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var v invalid
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return newError(http.StatusRequestEntityTooLarge, "too_large", "Nội dung gửi lên quá lớn.", "The body is too large.")
		case errors.As(err, &te):
			v.add(te.Field, "type", "Kiểu dữ liệu không đúng.", fmt.Sprintf("Wrong type: want %s.", te.Type))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			v.add(name, "unknown", "Trường không được hỗ trợ.", "Unknown field.")
		default:
			return newError(http.StatusBadRequest, "bad_json", "Nội dung JSON không hợp lệ.", "The body is not valid JSON.")
		}
		return v.err()
	}
	if dec.More() {
		return newError(http.StatusBadRequest, "bad_json", "Nội dung JSON không hợp lệ.", "The body is not valid JSON.")
	}
	return nil
}

// decodeOptional is decode for bodies that may be left out.
func (c *call) decodeOptional(dst any) error {
	if c.r.ContentLength == 0 {
		return nil
	}
	return c.decode(dst)
}

// unit finds the unit named by a path value: a numeric id or a local part.
func (c *call) unit(name string) (*store.Unit, error) {
	return c.a.lookupUnit(c.ctx, c.r.PathValue(name))
}

func (a *API) lookupUnit(ctx context.Context, key string) (*store.Unit, error) {
	var u *store.Unit
	var err error
	if id, perr := strconv.ParseInt(key, 10, 64); perr == nil {
		u, err = a.d.Store.UnitByID(ctx, id)
	} else {
		u, err = a.d.Store.UnitByLocalPart(ctx, key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("unit")
	}
	return u, err
}

// account finds the account named by a path value: a numeric id or an address.
func (c *call) account(name string) (*store.Account, error) {
	return c.a.lookupAccount(c.ctx, c.r.PathValue(name))
}

func (a *API) lookupAccount(ctx context.Context, key string) (*store.Account, error) {
	var acc *store.Account
	var err error
	if id, perr := strconv.ParseInt(key, 10, 64); perr == nil {
		acc, err = a.d.Store.AccountByID(ctx, id)
	} else {
		acc, err = a.d.Store.AccountByAddress(ctx, strings.ToLower(strings.TrimSpace(key)))
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("account")
	}
	return acc, err
}

// audit writes an operator or unit-manager action the domain services do not
// record themselves (R11.2).
func (c *call) audit(action, target, detail string) error {
	err := c.a.d.Store.AppendAudit(c.ctx, store.AuditEntry{Time: c.a.d.Clock.Now(), Actor: c.actor(), Action: action, Target: target, Detail: detail})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// ts formats a time in the province's zone; nil for the zero time.
func (a *API) ts(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(a.loc).Format(time.RFC3339)
	return &s
}

func (a *API) today() workdays.Date { return workdays.DateOf(a.d.Clock.Now(), a.loc) }
