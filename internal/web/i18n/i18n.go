// Package i18n owns the user-interface text of the web face of govmail: one catalog
// holding every string in Vietnamese (the default, DESIGN decision 6) and English,
// and the choice between them from a cookie or the browser's Accept-Language.
//
// It never formats mail content and never translates text that comes from other
// packages with its own VI/EN pair (auth.Error, password.Violation): those are
// chosen by the caller with Pick.
package i18n

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported UI language.
type Lang string

// Supported languages; VI comes first because it is the default.
const (
	VI Lang = "vi"
	EN Lang = "en"
)

// Valid reports whether l is a supported language.
func (l Lang) Valid() bool { return l == VI || l == EN }

// Catalog holds the messages. It is read-only after New, so one Catalog serves every
// request concurrently.
type Catalog struct {
	msgs    map[string][2]string
	matcher language.Matcher
}

// New builds the catalog.
func New() *Catalog {
	msgs := messages()
	for _, part := range []map[string][2]string{portalMessages(), opsMessages(), webmailMessages(), smimeMessages()} {
		for k, v := range part {
			msgs[k] = v
		}
	}
	return &Catalog{
		msgs:    msgs,
		matcher: language.NewMatcher([]language.Tag{language.Vietnamese, language.English}),
	}
}

// T returns the text of key in lang, formatted with args when there are any. An
// unknown key comes back as "⟦key⟧" so that a missing translation is visible on
// the page and in tests rather than silently blank.
func (c *Catalog) T(lang Lang, key string, args ...any) string {
	m, ok := c.msgs[key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	s := m[0]
	if lang == EN && m[1] != "" {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key is in the catalog.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[key]
	return ok
}

// Keys lists every key, for tests that check the catalog is complete.
func (c *Catalog) Keys() []string {
	out := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		out = append(out, k)
	}
	return out
}

// Entry returns the Vietnamese and English text of key.
func (c *Catalog) Entry(key string) (vi, en string, ok bool) {
	m, ok := c.msgs[key]
	return m[0], m[1], ok
}

// Negotiate picks the language: an explicit choice (the cookie) wins, then the
// browser's Accept-Language, and Vietnamese when neither says anything usable.
func (c *Catalog) Negotiate(choice, acceptLanguage string) Lang {
	if l := Lang(strings.ToLower(strings.TrimSpace(choice))); l.Valid() {
		return l
	}
	if acceptLanguage == "" {
		return VI
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return VI
	}
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return VI
	}
	if idx == 1 {
		return EN
	}
	return VI
}

// Pick returns vi or en for lang; for texts that come with both (auth.Error,
// password.Violation).
func Pick(lang Lang, vi, en string) string {
	if lang == EN && en != "" {
		return en
	}
	return vi
}
