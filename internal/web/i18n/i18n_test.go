package i18n

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*[dsvqx%]`)

// Every entry has both languages with the same formatting verbs, in NFC (R3.3).
func TestCatalogComplete(t *testing.T) {
	c := New()
	for _, k := range c.Keys() {
		vi, en, _ := c.Entry(k)
		if vi == "" || en == "" {
			t.Errorf("%s: empty text", k)
		}
		if !utf8.ValidString(vi) || !norm.NFC.IsNormalString(vi) {
			t.Errorf("%s: Vietnamese not NFC UTF-8", k)
		}
		if a, b := strings.Join(verbRE.FindAllString(vi, -1), ","), strings.Join(verbRE.FindAllString(en, -1), ","); a != b {
			t.Errorf("%s: verbs differ: vi %q en %q", k, a, b)
		}
	}
}

func TestNegotiate(t *testing.T) {
	c := New()
	for _, tc := range []struct {
		cookie, accept string
		want           Lang
	}{
		{"", "", VI},
		{"", "en-US,en;q=0.9", EN},
		{"", "vi-VN,vi;q=0.9,en;q=0.8", VI},
		{"", "fr-FR", VI},
		{"vi", "en", VI},
		{"en", "vi", EN},
		{"xx", "en", EN},
		{"", "garbage;;;", VI},
	} {
		if got := c.Negotiate(tc.cookie, tc.accept); got != tc.want {
			t.Errorf("Negotiate(%q, %q) = %s, want %s", tc.cookie, tc.accept, got, tc.want)
		}
	}
	if got := c.T(VI, "no.such.key"); got != "⟦no.such.key⟧" {
		t.Errorf("missing key gives %q", got)
	}
	if got := c.T(EN, "list.page", 2, 3); got != "Page 2 of 3" {
		t.Errorf("format: %q", got)
	}
}

// The portal's catalogs add keys; none silently replaces another's text.
func TestPortalKeysAreNew(t *testing.T) {
	seen := map[string]string{}
	for _, part := range []struct {
		name string
		msgs map[string][2]string
	}{{"messages", messages()}, {"portalMessages", portalMessages()}, {"opsMessages", opsMessages()}, {"webmailMessages", webmailMessages()}, {"smimeMessages", smimeMessages()}} {
		for k := range part.msgs {
			if other, dup := seen[k]; dup {
				t.Errorf("%s is in %s and %s", k, other, part.name)
			}
			seen[k] = part.name
		}
	}
}
