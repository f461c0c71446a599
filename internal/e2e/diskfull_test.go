package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"govmail/internal/testutil"
)

// Issue 11: with the data directory on a small file system, delivery answers
// 452 4.3.1 and APPEND NO; nothing stored is damaged; service resumes when space
// returns. The file system is a tmpfs the test mounts (root only).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	s := testutil.Start(t, testutil.Options{Dir: dir})
	ctx := context.Background()
	a := s.AddAccount(t, "full.skhcn@sonla.gov.vn", pw)
	body := func(tag string, lines int) string {
		return "Subject: " + tag + "\r\n\r\n" + strings.Repeat("dữ liệu kiểm tra đầy đĩa "+tag+"\r\n", lines)
	}
	// Accepted before the disk fills: these must survive intact.
	var kept []string
	for i := 0; i < 5; i++ {
		tag := "keep" + string(rune('a'+i))
		if err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, body(tag, 4000)); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, tag)
	}
	// Fill the file system, leaving a little room.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{0}, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	for i := 0; i < 20; i++ {
		if err = sendPlain(s.Addr("smtp"), "x@example.org", a.Address, body("over", 20000)); err != nil {
			break
		}
	}
	if codeOf(err) != 452 || enhOf(err) != "4.3.1" {
		t.Fatalf("full disk: %v, want 452 4.3.1", err)
	}
	c := imapLogin(t, s, a.Address, nil)
	big := []byte(body("append", 20000))
	ap := c.Append("INBOX", int64(len(big)), nil)
	ap.Write(big)
	ap.Close()
	if _, err := ap.Wait(); err == nil {
		t.Fatal("APPEND accepted on a full disk")
	} else {
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo {
			t.Fatalf("APPEND on a full disk: %v", err)
		}
	}
	// Space returns: service resumes, and nothing accepted was damaged.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, body("after", 4000)); err != nil {
		t.Fatalf("after space returned: %v", err)
	}
	if err := s.App.Store.Check(ctx); err != nil {
		t.Fatalf("integrity after the disk filled: %v", err)
	}
	got := inboxBodies(t, s, a)
	for _, tag := range append(kept, "after") {
		found := false
		for _, b := range got {
			if bytes.Contains(b, []byte("Subject: "+tag+"\r\n")) && bytes.HasSuffix(b, []byte("đầy đĩa "+tag+"\r\n")) {
				found = true
			}
		}
		if !found {
			t.Errorf("message %s missing or damaged", tag)
		}
	}
}
