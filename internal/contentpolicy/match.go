package contentpolicy

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"

	"govmail/internal/mailparse"
	"govmail/internal/textfold"
)

// Header is a message's header fields: lower-case name → decoded values in
// order. Build it with ParseHeader, or literally in tests.
type Header map[string][]string

// Get returns the first value of the field name (any case), or "".
func (h Header) Get(name string) string {
	if v := h[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// ParseHeader reads every field of the header block at the start of raw (the
// whole message, or just its first mailparse.Parsed.HeaderSize bytes). Values are
// decoded by mailparse.HeaderValue (RFC 2047, legacy charsets, NFC), so that the
// policy sees what a reader sees, and the block ends where mailparse says it ends.
// Policy.ReadHeader is cheaper: it decodes only the fields the policy reads.
func ParseHeader(raw []byte) Header { return parseHeader(raw, nil) }

// ReadHeader is ParseHeader limited to the fields p looks at (From, Sender,
// Subject, Auto-Submitted and those of the bulk header rules); Received,
// DKIM-Signature and the like are not decoded.
func (p *Policy) ReadHeader(raw []byte) Header { return parseHeader(raw, p.wants) }

func parseHeader(raw []byte, wants func(lowerName string) bool) Header {
	h := Header{}
	for _, name := range fieldNames(raw) {
		key := strings.ToLower(name)
		if _, done := h[key]; done {
			continue
		}
		if wants != nil && !wants(key) {
			continue
		}
		if v := mailparse.HeaderValue(raw, name); v != nil {
			h[key] = v
		}
	}
	return h
}

// fieldNames lists the names of the fields in the header block, stopping at the
// blank line or at the first line that is neither a field nor a continuation
// (mailparse's rule: such a line is body text sent without the blank line).
func fieldNames(raw []byte) []string {
	var names []string
	for len(raw) > 0 {
		line := raw
		if i := indexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i+1], raw[i+1:]
		} else {
			raw = nil
		}
		l := strings.TrimRight(string(line), "\r\n")
		if l == "" {
			break
		}
		if l[0] == ' ' || l[0] == '\t' {
			continue
		}
		colon := strings.IndexByte(l, ':')
		if colon < 0 {
			break
		}
		name := strings.Trim(l[:colon], " \t")
		if name == "" || !visibleASCII(name) {
			break
		}
		names = append(names, name)
	}
	return names
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

// firstAddress takes the first mailbox of an address field. A display name in
// any script, or a list that does not parse, still gives its address: the
// address is what the lists match.
func firstAddress(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if l, err := mail.ParseAddressList(v); err == nil && len(l) > 0 {
		return l[0].Address
	}
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '"' }) {
		if strings.Contains(f, "@") {
			return strings.Trim(f, "<>()")
		}
	}
	return ""
}

func domainOf(addr string) string {
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || at == len(addr)-1 {
		return ""
	}
	return strings.TrimSuffix(addr[at+1:], ".")
}

// domainSet matches a domain and its subdomains.
type domainSet map[string]bool

func newDomainSet(name string, items []string) (domainSet, error) {
	s := domainSet{}
	for _, d := range items {
		d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "."))
		if d == "" || strings.ContainsAny(d, "@ \t/*") || !strings.Contains(d, ".") {
			if name == "" {
				continue // runtime lists (a unit's allow-list from the database): skip bad entries
			}
			return nil, fmt.Errorf("contentpolicy: %s: bad domain %q", name, d)
		}
		s[d] = true
	}
	return s, nil
}

// match returns the entry that domain falls under, or "".
func (s domainSet) match(domain string) string {
	if len(s) == 0 || domain == "" {
		return ""
	}
	for d := domain; ; {
		if s[d] {
			return d
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return ""
		}
		d = d[i+1:]
	}
}

func (s domainSet) list() []string {
	if len(s) == 0 {
		return nil
	}
	out := make([]string, 0, len(s))
	for d := range s {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// headerRule is one entry of BulkHeaders.
type headerRule struct {
	name   string   // lower case; the prefix when prefix is set
	prefix bool     // "X-Mailchimp-*"
	values []string // lower case; empty means any value
	text   string   // as configured, for evidence
}

func parseHeaderRule(s string) (headerRule, error) {
	r := headerRule{text: strings.TrimSpace(s)}
	name, vals, hasVals := strings.Cut(r.text, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	if strings.HasSuffix(name, "*") {
		r.prefix = true
		name = strings.TrimSuffix(name, "*")
	}
	if name == "" || !visibleASCII(name) || strings.Contains(name, "*") {
		return r, fmt.Errorf("contentpolicy: bulk_headers: bad rule %q", s)
	}
	r.name = name
	if hasVals {
		for _, v := range strings.Split(vals, "|") {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				r.values = append(r.values, v)
			}
		}
		if len(r.values) == 0 {
			return r, fmt.Errorf("contentpolicy: bulk_headers: rule %q has no value after the colon", s)
		}
	}
	return r, nil
}

// match returns the evidence text when h satisfies the rule, or "".
func (r headerRule) match(h Header) string {
	if r.prefix {
		var names []string
		for k := range h {
			if strings.HasPrefix(k, r.name) {
				names = append(names, k)
			}
		}
		if len(names) == 0 {
			return ""
		}
		sort.Strings(names)
		return names[0] + " (" + r.text + ")"
	}
	vals, ok := h[r.name]
	if !ok {
		return ""
	}
	if len(r.values) == 0 {
		return r.text
	}
	for _, v := range vals {
		first := strings.ToLower(strings.TrimSpace(v))
		if i := strings.IndexAny(first, " \t;"); i >= 0 {
			first = first[:i]
		}
		for _, want := range r.values {
			if first == want {
				return r.name + ": " + want
			}
		}
	}
	return ""
}

// pattern is a subject pattern, folded, with spaces around for whole-word matching.
type pattern struct{ text, folded string }

func newPatterns(name string, items []string) ([]pattern, error) {
	var out []pattern
	for _, s := range items {
		f := textfold.Search(s)
		if f == "" {
			return nil, fmt.Errorf("contentpolicy: %s: pattern %q has no letters or digits", name, s)
		}
		out = append(out, pattern{text: s, folded: " " + f + " "})
	}
	return out, nil
}

// matchPatterns returns the first pattern found in folded (which has a space at
// each end), or "".
func matchPatterns(ps []pattern, folded string) string {
	for _, p := range ps {
		if strings.Contains(folded, p.folded) {
			return p.text
		}
	}
	return ""
}

// wants reports whether the policy reads the field called name (lower case).
func (p *Policy) wants(name string) bool {
	switch name {
	case "from", "sender", "subject", "auto-submitted":
		return true
	}
	for _, r := range p.headers {
		if name == r.name || (r.prefix && strings.HasPrefix(name, r.name)) {
			return true
		}
	}
	return false
}
