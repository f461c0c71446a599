package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"govmail/internal/web/i18n"
)

// Every catalog key named in a template or in Go code exists, so no page shows a
// ⟦key⟧ placeholder.
func TestEveryUsedKeyIsInTheCatalog(t *testing.T) {
	c := i18n.New()
	tmplRE := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	goRE := regexp.MustCompile(`(?:\.T\((?:[a-zA-Z.]+, )?|T\(rc\.lang, |T\(lang, )"([a-z0-9_]+\.[a-z0-9_.]*[a-z0-9_])"`)
	checked := 0
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, p)
		if err != nil {
			return err
		}
		for _, m := range tmplRE.FindAllStringSubmatch(string(b), -1) {
			checked++
			if !c.Has(m[1]) {
				t.Errorf("%s uses missing key %q", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goRE.FindAllStringSubmatch(string(b), -1) {
			checked++
			if !c.Has(m[1]) {
				t.Errorf("%s uses missing key %q", f, m[1])
			}
		}
	}
	if checked < 150 {
		t.Errorf("only %d keys checked: the patterns no longer match the code", checked)
	}
}

// Every page renders in both languages without a placeholder.
func TestPagesHaveNoMissingText(t *testing.T) {
	e, b, a := loggedIn(t)
	uid := e.deliver(a, htmlMail)
	inbox := e.mailbox(a, "INBOX")
	for _, lang := range []string{"vi", "en"} {
		b.get("/lang/" + lang)
		for _, p := range []string{"/", "/compose", "/search?q=hop", "/password", itoaPath(inbox.ID, uid), "/mail/999999", "/compose?forward=" + itoa(inbox.ID) + ":" + itoa(int64(uid))} {
			r := b.get(p)
			if strings.Contains(r.body, "⟦") {
				i := strings.Index(r.body, "⟦")
				t.Errorf("%s %s: missing text near %q", lang, p, r.body[i:min(len(r.body), i+60)])
			}
		}
	}
	anon := e.browser()
	for _, lang := range []string{"vi", "en"} {
		anon.lang = lang
		if r := anon.get("/login"); strings.Contains(r.body, "⟦") {
			t.Errorf("login %s has a missing text", lang)
		}
	}
}

func itoaPath(mb int64, uid uint32) string { return "/mail/" + itoa(mb) + "/" + itoa(int64(uid)) }
