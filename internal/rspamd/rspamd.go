// Package rspamd is the client of the rspamd spam filter (R4.2): it asks the
// scanner worker for a verdict on a message (/checkv2) and teaches the controller
// worker what users file as junk or not junk (/learnspam, /learnham). It owns the
// HTTP protocol and the X-Spam-* trace headers built from a verdict. It never
// changes a message (N2: headers are prepended by delivery, the body is never
// touched) and never decides where a message goes: Decide maps a verdict to
// inbox, Junk or refusal with thresholds the caller configures.
package rspamd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Errors. ErrUnavailable wraps every failure to reach rspamd or to read its
// answer; the caller decides whether mail then waits (4xx) or passes unscored.
var (
	ErrUnavailable = errors.New("rspamd: unavailable")
	// ErrUnauthorized: the controller refused the password (HTTP 401/403).
	ErrUnauthorized = errors.New("rspamd: controller refused the password")
	// ErrAlreadyLearned: rspamd had learned this message in this class already
	// (HTTP 208). Harmless: a message moved into Junk twice.
	ErrAlreadyLearned = errors.New("rspamd: message already learned")
	// ErrLearnRefused: rspamd did not learn the message, e.g. "all learn
	// conditions denied learning ham in default classifier" (HTTP 204), which
	// rspamd answers when the Bayes classifier has no working Redis backend.
	ErrLearnRefused = errors.New("rspamd: learning refused")
)

// DefaultTimeout bounds a request whose context has no deadline. rspamd's own
// task_timeout is 8 s.
const DefaultTimeout = 30 * time.Second

// Actions rspamd reports, from its default metric.
const (
	ActionNoAction       = "no action"
	ActionGreylist       = "greylist"
	ActionAddHeader      = "add header"
	ActionRewriteSubject = "rewrite subject"
	ActionSoftReject     = "soft reject"
	ActionReject         = "reject"
)

// Client talks to one rspamd. Safe for concurrent use.
type Client struct {
	// URL is the scanner (normal) worker, e.g. "http://127.0.0.1:11333".
	URL string
	// ControllerURL is the controller worker, e.g. "http://127.0.0.1:11334";
	// only learning needs it.
	ControllerURL string
	// Password is sent as the Password header to the controller when set.
	Password string
	// HTTP is the client to use; nil means a default with no redirects.
	HTTP *http.Client
}

// Request is the SMTP context rspamd scores with; every field is optional.
type Request struct {
	IP       string   // client IP address
	Helo     string   // HELO/EHLO name
	Hostname string   // reverse DNS name of IP, when known
	From     string   // envelope sender (MAIL FROM)
	Rcpt     []string // envelope recipients
	User     string   // authenticated user (submission)
	QueueID  string   // our ID for the message, to find it in rspamd's log
}

// Symbol is one rule that matched.
type Symbol struct {
	Name        string   `json:"name"`
	Score       float64  `json:"score"`
	Description string   `json:"description,omitempty"`
	Options     []string `json:"options,omitempty"`
}

// Result is rspamd's verdict.
type Result struct {
	Action        string             `json:"action"`
	Score         float64            `json:"score"`
	RequiredScore float64            `json:"required_score"`
	Symbols       map[string]Symbol  `json:"symbols"`
	Thresholds    map[string]float64 `json:"thresholds,omitempty"`
	// Messages holds texts rspamd suggests, e.g. "smtp_message" for a reply.
	Messages  map[string]string `json:"messages,omitempty"`
	MessageID string            `json:"message-id,omitempty"`
	IsSkipped bool              `json:"is_skipped"`
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// maxResponse bounds what we read from rspamd: a verdict is a few KB, symbols
// with many options a few dozen.
const maxResponse = 4 << 20

// Check asks rspamd for a verdict on msg.
func (c *Client) Check(ctx context.Context, req *Request, msg io.Reader) (*Result, error) {
	if c.URL == "" {
		return nil, fmt.Errorf("%w: no scanner URL configured", ErrUnavailable)
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.URL, "/")+"/checkv2", msg)
	if err != nil {
		return nil, fmt.Errorf("rspamd: %w", err)
	}
	if req != nil {
		setHeader(hr, "IP", req.IP)
		setHeader(hr, "Helo", req.Helo)
		setHeader(hr, "Hostname", req.Hostname)
		setHeader(hr, "From", req.From)
		for _, r := range req.Rcpt {
			if v := clean(r); v != "" {
				hr.Header.Add("Rcpt", v)
			}
		}
		setHeader(hr, "User", req.User)
		setHeader(hr, "Queue-Id", req.QueueID)
	}
	resp, err := c.httpClient().Do(hr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the reply: %w", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: /checkv2: %s: %s", ErrUnavailable, resp.Status, errorText(body))
	}
	var res Result
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("%w: /checkv2 reply: %w", ErrUnavailable, err)
	}
	if res.Action == "" {
		return nil, fmt.Errorf("%w: /checkv2 reply without an action: %s", ErrUnavailable, errorText(body))
	}
	for name, s := range res.Symbols {
		if s.Name == "" {
			s.Name = name
			res.Symbols[name] = s
		}
	}
	return &res, nil
}

// LearnSpam teaches rspamd's Bayes classifier that msg is spam (a user moved it
// into Junk).
func (c *Client) LearnSpam(ctx context.Context, msg io.Reader) error {
	return c.learn(ctx, "/learnspam", msg)
}

// LearnHam teaches rspamd that msg is not spam (a user moved it out of Junk).
func (c *Client) LearnHam(ctx context.Context, msg io.Reader) error {
	return c.learn(ctx, "/learnham", msg)
}

func (c *Client) learn(ctx context.Context, path string, msg io.Reader) error {
	if c.ControllerURL == "" {
		return fmt.Errorf("%w: no controller URL configured", ErrUnavailable)
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.ControllerURL, "/")+path, msg)
	if err != nil {
		return fmt.Errorf("rspamd: %w", err)
	}
	setHeader(hr, "Password", c.Password)
	resp, err := c.httpClient().Do(hr)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%w: reading the reply: %w", ErrUnavailable, err)
	}
	return learnReply(path, resp.StatusCode, resp.Status, body)
}

// learnReply maps the controller's answer. rspamd puts its reason in the status
// line as well as in {"error": …}; a 204 has no body, so the status line is all
// there is.
func learnReply(path string, code int, status string, body []byte) error {
	reason := errorText(body)
	if reason == "" {
		reason = strings.TrimSpace(strings.TrimPrefix(status, strconv.Itoa(code)))
	}
	switch {
	case code == http.StatusOK:
		var ok struct {
			Success bool `json:"success"`
		}
		if err := json.Unmarshal(body, &ok); err != nil || !ok.Success {
			return fmt.Errorf("%w: %s: %s", ErrLearnRefused, path, printable(string(body)))
		}
		return nil
	case code == http.StatusAlreadyReported: // 208
		return fmt.Errorf("%w: %s", ErrAlreadyLearned, reason)
	case code == http.StatusNoContent:
		return fmt.Errorf("%w: %s: %s", ErrLearnRefused, path, reason)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%w: %s: %s", ErrUnauthorized, path, reason)
	case code >= 500:
		return fmt.Errorf("%w: %s: %d %s", ErrUnavailable, path, code, reason)
	}
	return fmt.Errorf("%w: %s: %d %s", ErrLearnRefused, path, code, reason)
}

// errorText takes the "error" member of a JSON error reply, or the start of the
// body when it is not one.
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return printable(e.Error)
	}
	return printable(string(body))
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

func setHeader(r *http.Request, k, v string) {
	if v = clean(v); v != "" {
		r.Header.Set(k, v)
	}
}

// clean keeps SMTP-supplied values (HELO, addresses) from breaking the HTTP
// request: control characters would end or split a header line.
func clean(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s))
}

// printable keeps rspamd's texts safe for logs and headers: one line of
// printable ASCII, at most 300 bytes.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// Headers returns the trace header fields for the verdict, each ending in CRLF,
// to be prepended to the message (N2: the body is never altered):
//
//	X-Spam-Score: 7.30 / 15.00
//	X-Spam-Action: add header
//	X-Spam-Symbols: HFILTER_HOSTNAME_UNKNOWN(2.50), RDNS_NONE(2.00), ARC_NA(0.00)
//
// Symbols are listed by descending absolute score, then name, zero scores
// included (a pre-filter such as GTUBE decides with a symbol scored zero); lines
// are folded below 78 columns.
func (r *Result) Headers() string {
	var b strings.Builder
	fmt.Fprintf(&b, "X-Spam-Score: %s / %s\r\n", formatScore(r.Score), formatScore(r.RequiredScore))
	fmt.Fprintf(&b, "X-Spam-Action: %s\r\n", token(r.Action, true))
	syms := make([]Symbol, 0, len(r.Symbols))
	for _, s := range r.Symbols {
		syms = append(syms, s)
	}
	sort.Slice(syms, func(i, j int) bool {
		ai, aj := math.Abs(syms[i].Score), math.Abs(syms[j].Score)
		if ai != aj {
			return ai > aj
		}
		return syms[i].Name < syms[j].Name
	})
	line := "X-Spam-Symbols:"
	if len(syms) == 0 {
		line += " none"
	}
	for i, s := range syms {
		item := " " + token(s.Name, false) + "(" + formatScore(s.Score) + ")"
		if i < len(syms)-1 {
			item += ","
		}
		if len(line)+len(item) > 76 {
			b.WriteString(line + "\r\n")
			line = "\t" + strings.TrimPrefix(item, " ")
			continue
		}
		line += item
	}
	b.WriteString(line + "\r\n")
	return b.String()
}

func formatScore(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0.00"
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// token keeps a symbol or action name to the characters rspamd uses (letters,
// digits, _ . -, and spaces in action names), so that what a peer sent cannot
// break or add a header line.
func token(s string, spaces bool) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		case r == ' ' && spaces:
			return r
		}
		return -1
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "unknown"
	}
	return s
}

// Disposition is where a message goes after the spam check.
type Disposition int

// Dispositions, from best to worst.
const (
	Inbox  Disposition = iota // deliver normally
	Junk                      // deliver into the Junk folder
	Defer                     // answer 4xx: rspamd asked to try later (soft reject)
	Reject                    // refuse with 5xx
)

func (d Disposition) String() string {
	switch d {
	case Inbox:
		return "inbox"
	case Junk:
		return "junk"
	case Defer:
		return "defer"
	}
	return "reject"
}

// Thresholds are govmail's own limits on rspamd's score (R4.2: Junk above one,
// refused above the other). A zero limit leaves that decision to rspamd's action.
type Thresholds struct {
	Junk   float64 `toml:"junk_score"`
	Reject float64 `toml:"reject_score"`
}

// Decide maps a verdict to a disposition: the worse of what rspamd's action says
// and what the configured score thresholds say. rspamd's "greylist" counts as
// Inbox: govmail does not greylist, and greylisting needs Redis state rspamd may
// not have.
func Decide(r *Result, t Thresholds) Disposition {
	d := Inbox
	switch r.Action {
	case ActionReject:
		d = Reject
	case ActionSoftReject:
		d = Defer
	case ActionAddHeader, ActionRewriteSubject:
		d = Junk
	}
	if t.Reject > 0 && r.Score >= t.Reject {
		d = max(d, Reject)
	}
	if t.Junk > 0 && r.Score >= t.Junk {
		d = max(d, Junk)
	}
	return d
}

// Reason returns rspamd's suggested SMTP reply text (e.g. "Gtube pattern"), or a
// generic one.
func (r *Result) Reason() string {
	if m := printable(r.Messages["smtp_message"]); m != "" {
		return m
	}
	return "Spam message rejected"
}

// Ping checks both workers answer /ping.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	for _, base := range []string{c.URL, c.ControllerURL} {
		if base == "" {
			continue
		}
		u, err := url.JoinPath(base, "ping")
		if err != nil {
			return fmt.Errorf("rspamd: %w", err)
		}
		hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("rspamd: %w", err)
		}
		resp, err := c.httpClient().Do(hr)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("pong")) {
			return fmt.Errorf("%w: %s: %s", ErrUnavailable, u, resp.Status)
		}
	}
	return nil
}
