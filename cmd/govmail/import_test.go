package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"govmail/internal/store"
)

func importCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cmdImport(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// The import commands end to end through the CLI: the directory with a legacy
// address and per-unit password lists, an mbox into the new account, and a
// non-zero exit when something does not verify (R5.4, R6.1).
func TestImportCLI(t *testing.T) {
	dir := t.TempDir()
	work := t.TempDir()
	units := filepath.Join(work, "units.csv")
	accounts := filepath.Join(work, "accounts.csv")
	if err := os.WriteFile(units, []byte("kind,name_vi,local_part\nprovince_agency,Sở Khoa học và Công nghệ,skhcn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(accounts, []byte("address,full_name,unit,kind,birth_year\n"+
		"hoant.skhcn@sonla.gov.vn,Nguyễn Thị Hoa,skhcn,personal,1985\n"+
		"hoa_nguyen@sonla.gov.vn,Nguyễn Thị Hoa,skhcn,personal,1990\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lists := filepath.Join(work, "lists")
	out, errs, err := importCLI(t, "directory", units, accounts, "-data", dir, "--out", lists)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errs)
	}
	if !strings.Contains(out, "hoa_nguyen@sonla.gov.vn") || !strings.Contains(out, "legacy") || !strings.Contains(out, filepath.Join(lists, "skhcn.csv")) {
		t.Errorf("directory output:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(lists, "skhcn.csv")); err != nil || !strings.Contains(string(b), "hoant.skhcn@sonla.gov.vn") {
		t.Errorf("password list: %v", err)
	}

	mbox := filepath.Join(work, "hoa.mbox")
	if err := os.WriteFile(mbox, []byte("From a@b Mon Mar  4 08:15:00 2024\nSubject: Công văn\nStatus: RO\n\nNội dung.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, err = importCLI(t, "mbox", mbox, "--to", "hoant.skhcn@sonla.gov.vn", "--folder", "Thư cũ", "-data", dir, "--progress", "0")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errs)
	}
	if !strings.Contains(out, "ĐẠT / OK") || !strings.Contains(out, "→ Thư cũ") {
		t.Errorf("mbox output:\n%s", out)
	}

	// A mailbox too small: the message is reported, the exit is non-zero.
	ctx := context.Background()
	st := testStore(t, dir)
	if err := st.CreateAccount(ctx, &store.Account{Address: "nho.skhcn@sonla.gov.vn", QuotaBytes: 10}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, _, err = importCLI(t, "mbox", mbox, "--to", "nho.skhcn@sonla.gov.vn", "-data", dir, "--progress", "0")
	if err == nil || !strings.Contains(out, "vượt hạn mức") {
		t.Errorf("over quota: err %v\n%s", err, out)
	}

	// An old server that does not answer: the account fails, the exit is non-zero.
	csv := filepath.Join(work, "imap.csv")
	if err := os.WriteFile(csv, []byte("address,login,password\nhoant.skhcn@sonla.gov.vn,hoant,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = importCLI(t, "imap", "--from", "imap://127.0.0.1:1", "--plaintext", "--accounts", csv, "-data", dir, "--progress", "0")
	if err == nil || !strings.Contains(out, "CHƯA ĐẠT") {
		t.Errorf("unreachable server: err %v\n%s", err, out)
	}
	if _, _, err := importCLI(t, "imap", "--from", "http://old", "--accounts", csv, "-data", dir); err == nil {
		t.Error("a URL that is not imap(s):// must be refused")
	}
	if _, _, err := importCLI(t, "bogus"); err == nil {
		t.Error("unknown subcommand")
	}
}
