package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"govmail/internal/password"
	"govmail/internal/store"
)

// testStore opens the store of data directory dir (made on first use) the way
// every admin command does, for a test to seed or inspect.
func testStore(t *testing.T, dir string) store.Store {
	t.Helper()
	_, st, err := openStore(context.Background(), &dataFlags{data: dir}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String() + errb.String(), err
}

// The commands an operator types (issue 3): import the province's units,
// suggest and create addresses by the rule of Điều 5, set a unit's manager and
// security contact, and the holder changes the one-time password (Điều 6.1).
func TestDirectoryCommandsDieu5(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, "", "admin", "unit", "import", "-data", dir)
	if err != nil || !strings.Contains(out, "90") {
		t.Fatalf("unit import: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "admin", "address", "suggest", "--unit", "skhcn", "--name", "Cầm Thị Duyên", "-data", dir)
	if err != nil || strings.TrimSpace(out) != "duyenct.skhcn@sonla.gov.vn" {
		t.Fatalf("suggest: %v %q", err, out)
	}
	out, err = runCLI(t, "", "admin", "account", "add", "--unit", "skhcn", "--name", "Nguyễn Thị Hoa", "-data", dir)
	if err != nil || !strings.Contains(out, "hoant.skhcn@sonla.gov.vn") || !strings.Contains(out, "one-time password: ") {
		t.Fatalf("account add: %v\n%s", err, out)
	}
	otp := strings.TrimSpace(out[strings.Index(out, "one-time password: ")+len("one-time password: "):])
	otp = strings.Fields(otp)[0]
	out, err = runCLI(t, "", "admin", "address", "suggest", "--unit", "skhcn", "--name", "Nguyễn Thu Hòa", "--birth-year", "1990", "-data", dir)
	if err != nil || strings.TrimSpace(out) != "hoant90.skhcn@sonla.gov.vn" {
		t.Fatalf("clash suggestion: %v %q", err, out)
	}
	// A refusal explains itself in Vietnamese and English.
	out, err = runCLI(t, "", "admin", "account", "add", "postmaster@sonla.gov.vn", "-data", dir)
	if err == nil || !strings.Contains(err.Error(), "dành riêng") || !strings.Contains(err.Error(), "reserved") {
		t.Fatalf("reserved address: %v %s", err, out)
	}
	if _, err := runCLI(t, "", "admin", "unit", "set", "skhcn", "--manager", "hoant.skhcn@sonla.gov.vn", "--security", "hoant.skhcn@sonla.gov.vn", "-data", dir); err != nil {
		t.Fatal(err)
	}
	// Điều 6.1: the holder sets their own password; a weak one is refused with every rule.
	_, err = runCLI(t, otp+"\nabc\n", "account", "passwd", "hoant.skhcn@sonla.gov.vn", "-data", dir)
	if err == nil || !strings.Contains(err.Error(), "8 ký tự") {
		t.Fatalf("weak password: %v", err)
	}
	if out, err := runCLI(t, otp+"\nSonLa@2026x\n", "account", "passwd", "hoant.skhcn@sonla.gov.vn", "-data", dir); err != nil {
		t.Fatalf("passwd: %v %s", err, out)
	}
	// The new password is the one stored, and no longer one to change.
	st := testStore(t, dir)
	defer st.Close()
	a, err := st.AccountByAddress(context.Background(), "hoant.skhcn@sonla.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.Verify(a.PasswordHash, "SonLa@2026x"); err != nil || !ok || a.MustChange {
		t.Fatalf("after passwd: verify %v %v, must change %v", ok, err, a.MustChange)
	}
}
