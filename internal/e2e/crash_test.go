package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"govmail/internal/bench"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

var crashRounds = flag.Int("crash-rounds", 3, "how many times TestCrashLosesNothing kills the server")

// buildBinary compiles cmd/govmail once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "govmail-e2e-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "govmail")
		cmd := exec.Command("go", "build", "-o", binPath, "govmail/cmd/govmail")
		cmd.Stderr = os.Stderr
		binErr = cmd.Run()
	})
	if binErr != nil {
		t.Fatalf("build: %v", binErr)
	}
	return binPath
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// DESIGN decision 5 (issue: durability): SIGKILL at a random moment under load
// loses no acknowledged message and corrupts nothing.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := config.Defaults(dir)
	cfg.DNS = "127.0.0.1:9" // loopback only: lookups fail at once
	one := []string{"127.0.0.1:0"}
	cfg.Listen = config.Listeners{SMTP: one, IMAP: one, HTTP: one}
	cfg.Security.Clamd = "off"
	cfgPath := filepath.Join(dir, "govmail.toml")
	if err := config.Write(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	// The account is made before the server runs, through the same store code.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := password.Hash(pw)
	acc := &store.Account{Address: "a@sonla.gov.vn", PasswordHash: h, PasswordSetAt: time.Now(), QuotaBytes: 1 << 40}
	if err := st.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	st.Close()

	rounds := *crashRounds
	if os.Getenv("GOVMAIL_LONG") != "" {
		rounds = 50
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	expunged := map[string]bool{} // tokens whose EXPUNGE was acknowledged
	var maxUID uint32             // highest UID any client was given
	for round := 0; round < rounds; round++ {
		child, err := bench.Spawn(bin, cfgPath, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(child.Kill)
		cmd, addrs := child.Cmd, child.Addrs
		stop := make(chan struct{})
		var wg sync.WaitGroup
		// IMAP clients: APPEND (acknowledged = must survive), STORE, MOVE to
		// Archive, and EXPUNGE (acknowledged = must never reappear).
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				c, err := imapclient.DialStartTLS(addrs["imap"], &imapclient.Options{TLSConfig: testutil.ClientTLS()})
				if err != nil {
					return
				}
				defer c.Close()
				if c.Login(acc.Address, pw).Wait() != nil {
					return
				}
				if _, err := c.Select("INBOX", nil).Wait(); err != nil {
					return
				}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					token := fmt.Sprintf("r%d-a%d-i%d", round, g, i)
					raw := []byte(fmt.Sprintf("Subject: %s\r\n\r\nAPPEND %s\r\n", token, token))
					ap := c.Append("INBOX", int64(len(raw)), nil)
					ap.Write(raw)
					ap.Close()
					d, err := ap.Wait()
					if err != nil {
						return
					}
					uid := uint32(d.UID)
					mu.Lock()
					acked[token] = true
					maxUID = max(maxUID, uid)
					mu.Unlock()
					set := imap.UIDSetNum(d.UID)
					switch i % 4 {
					case 1:
						if c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close() != nil {
							return
						}
					case 2:
						if _, err := c.Move(set, "Archive").Wait(); err != nil {
							return
						}
					case 3:
						if c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close() != nil {
							return
						}
						// From here the message may go at any moment: a kill between the
						// EXPUNGE's commit and its OK leaves either outcome correct.
						mu.Lock()
						delete(acked, token)
						mu.Unlock()
						if c.UIDExpunge(set).Close() != nil {
							return
						}
						mu.Lock()
						expunged[token] = true
						mu.Unlock()
					}
				}
			}(g)
		}
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					token := fmt.Sprintf("r%d-g%d-i%d", round, g, i)
					body := fmt.Sprintf("Subject: %s\r\nMessage-ID: <%s@test>\r\n\r\nThư kiểm tra %s\r\n%s\r\n", token, token, token, strings.Repeat("nội dung ", 200*(i%3+1)))
					err := sendPlain(addrs["smtp"], "x@example.org", acc.Address, body)
					if err == nil {
						mu.Lock()
						acked[token] = true
						mu.Unlock()
					}
				}
			}(g)
		}
		time.Sleep(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		wg.Wait()
	}

	st, err = sqlite.Open(ctx, sqlite.Options{Dir: dir, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(ctx); err != nil {
		t.Fatalf("integrity after %d kills: %v", rounds, err)
	}
	found := map[string]bool{}
	re := regexp.MustCompile(`Subject: (r\d+-[ag]\d+-i\d+)`)
	var msgs []store.Message
	for _, name := range []string{"INBOX", "Archive"} {
		mb, err := st.MailboxByName(ctx, acc.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		ms, _, err := st.Messages(ctx, mb.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, ms...)
		for _, m := range ms {
			raw, err := st.ReadBlob(ctx, m.BlobID)
			if err != nil {
				t.Fatalf("unreadable body uid %d: %v", m.UID, err)
			}
			if x := re.FindSubmatch(raw); x != nil {
				found[string(x[1])] = true
			}
		}
		if name == "INBOX" && mb.UIDNext <= maxUID {
			t.Errorf("UIDNEXT %d went back below UID %d given to a client", mb.UIDNext, maxUID)
		}
	}
	for tok := range expunged {
		if found[tok] {
			t.Errorf("expunged message %s reappeared", tok)
		}
	}
	missing := 0
	for tok := range acked {
		if !found[tok] {
			missing++
			t.Errorf("acknowledged message %s lost", tok)
		}
	}
	t.Logf("%d rounds: %d messages acknowledged (SMTP and APPEND), %d expunged, %d stored, %d lost", rounds, len(acked), len(expunged), len(msgs), missing)
	if len(acked) == 0 {
		t.Fatal("no message was acknowledged: the test proved nothing")
	}
}

// sendPlain sends one message over a plain SMTP session (as a remote MTA would
// without TLS) and returns nil only on 250 after DATA.
func sendPlain(addr, from, to, body string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("load.example.org"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	c.Quit() // the 250 after DATA was the acknowledgment
	return nil
}
