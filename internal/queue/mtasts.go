package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"govmail/internal/clock"
)

// MTA-STS modes (RFC 8461 3.2).
const (
	STSModeEnforce = "enforce"
	STSModeTesting = "testing"
	STSModeNone    = "none"
)

// STSPolicy is a domain's MTA-STS policy.
type STSPolicy struct {
	ID     string // from the _mta-sts TXT record
	Mode   string
	MX     []string // patterns: "mx.example.org" or "*.example.org"
	MaxAge time.Duration
}

// Matches reports whether host is named by the policy (RFC 8461 4.1): a
// wildcard matches exactly one leftmost label.
func (p *STSPolicy) Matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		pat = strings.ToLower(strings.TrimSuffix(pat, "."))
		if rest, ok := strings.CutPrefix(pat, "*."); ok {
			if i := strings.IndexByte(host, '.'); i > 0 && host[i+1:] == rest {
				return true
			}
			continue
		}
		if host == pat {
			return true
		}
	}
	return false
}

// PolicyFinder returns a domain's MTA-STS policy, nil when it has none.
type PolicyFinder interface {
	Find(ctx context.Context, domain string) (*STSPolicy, error)
}

// Text is the policy file served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt
// (RFC 8461 3.2), CRLF line endings.
func (p *STSPolicy) Text() string {
	var b strings.Builder
	b.WriteString("version: STSv1\r\nmode: " + p.Mode + "\r\n")
	for _, mx := range p.MX {
		b.WriteString("mx: " + mx + "\r\n")
	}
	fmt.Fprintf(&b, "max_age: %d\r\n", int64(p.MaxAge/time.Second))
	return b.String()
}

// PolicyID is a stable id for the policy's _mta-sts TXT record: it changes
// exactly when the policy text does, which is what senders' caches need.
func (p *STSPolicy) PolicyID() string {
	sum := sha256.Sum256([]byte(p.Text()))
	return hex.EncodeToString(sum[:])[:20]
}

// OwnPolicy is the policy we publish for our domains: enforce, our MX host, a
// week's max_age (RFC 8461 suggests weeks).
func OwnPolicy(mxHosts ...string) *STSPolicy {
	return &STSPolicy{Mode: STSModeEnforce, MX: mxHosts, MaxAge: 7 * 24 * time.Hour}
}

// STSHandler serves the policy file; mount it on the HTTPS server for the
// host mta-sts.DOMAIN of every local domain.
func STSHandler(p *STSPolicy) http.Handler {
	text := p.Text()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, text)
	})
}

// ParsePolicy reads a policy file (RFC 8461 3.2). Unknown keys are ignored;
// a missing version, mode or max_age, or (outside mode none) no mx, is an error.
func ParsePolicy(text string) (*STSPolicy, error) {
	p := &STSPolicy{}
	var version string
	maxAge := int64(-1)
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "version":
			version = v
		case "mode":
			p.Mode = v
		case "mx":
			p.MX = append(p.MX, v)
		case "max_age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("mta-sts: bad max_age %q", v)
			}
			maxAge = n
		}
	}
	if version != "STSv1" {
		return nil, fmt.Errorf("mta-sts: version %q", version)
	}
	switch p.Mode {
	case STSModeEnforce, STSModeTesting:
		if len(p.MX) == 0 {
			return nil, errors.New("mta-sts: no mx")
		}
	case STSModeNone:
	default:
		return nil, fmt.Errorf("mta-sts: mode %q", p.Mode)
	}
	if maxAge < 0 {
		return nil, errors.New("mta-sts: no max_age")
	}
	// RFC 8461 3.2: at most 31557600 seconds (a year).
	p.MaxAge = time.Duration(min(maxAge, 31557600)) * time.Second
	return p, nil
}

// STSCache finds MTA-STS policies (RFC 8461 3, 5): the _mta-sts TXT record
// says whether there is one and its id; the policy comes over HTTPS with a
// verified certificate and no redirects; it is kept for its max_age and
// fetched again when the id changes. A policy that can no longer be fetched
// stays in force until it expires, which is what defeats a downgrade attack.
type STSCache struct {
	Resolver Resolver
	// HTTP fetches the policy; nil: a client with the system's roots, a 30 s
	// timeout and no redirects.
	HTTP  *http.Client
	Clock clock.Clock

	mu    sync.Mutex
	cache map[string]*stsEntry
}

type stsEntry struct {
	pol     *STSPolicy
	expires time.Time
}

// Find returns the domain's policy, nil when it has none.
func (c *STSCache) Find(ctx context.Context, domain string) (*STSPolicy, error) {
	domain = strings.ToLower(domain)
	now := c.now()
	cached := c.get(domain, now)
	txts, err := c.Resolver.LookupTXT(ctx, "_mta-sts."+domain)
	if err != nil {
		if cached != nil {
			return cached, nil
		}
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("mta-sts %s: %w", domain, err)
	}
	id := ""
	n := 0
	for _, t := range txts {
		if !strings.HasPrefix(t, "v=STSv1") {
			continue
		}
		n++
		for _, f := range strings.Split(t, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(f), "="); ok && k == "id" {
				id = v
			}
		}
	}
	if n != 1 || id == "" {
		// RFC 8461 3.1: none, several or a malformed record means no policy
		// (but a cached one stays in force).
		return cached, nil
	}
	if cached != nil && cached.ID == id {
		return cached, nil
	}
	pol, err := c.fetch(ctx, domain)
	if err != nil {
		if cached != nil {
			return cached, nil
		}
		return nil, err
	}
	pol.ID = id
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]*stsEntry{}
	}
	c.cache[domain] = &stsEntry{pol: pol, expires: now.Add(pol.MaxAge)}
	c.mu.Unlock()
	return pol, nil
}

func (c *STSCache) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

func (c *STSCache) get(domain string, now time.Time) *STSPolicy {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.cache[domain]
	if e == nil || !now.Before(e.expires) {
		return nil
	}
	return e.pol
}

func (c *STSCache) fetch(ctx context.Context, domain string) (*STSPolicy, error) {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	client := *hc
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://mta-sts."+domain+"/.well-known/mta-sts.txt", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mta-sts %s: %w", domain, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mta-sts %s: HTTP %s", domain, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "text/plain") {
		return nil, fmt.Errorf("mta-sts %s: content type %q", domain, ct)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("mta-sts %s: %w", domain, err)
	}
	return ParsePolicy(string(body))
}
