package pop3

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// step sends a line (none when send is empty) and expects a reply starting with
// want; when body is non-nil the reply is multi-line and its lines, as sent on
// the wire (dot-stuffed), must equal body.
type step struct {
	send string
	want string
	body []string
}

func plainIR(identity, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(identity + "\x00" + user + "\x00" + pass))
}

func TestCommands(t *testing.T) {
	msgs := testMessages()
	size := func(i int) int { return len(msgs[i].body) }
	total := size(0) + size(1) + size(2)
	loggedIn := fmt.Sprintf("+OK maildrop has 3 messages (%d octets)", total)
	login := []step{{send: "USER alice", want: "+OK"}, {send: "PASS secret pass", want: loggedIn}}
	after := func(steps ...step) []step { return append(slices.Clone(login), steps...) }

	capaAuth := []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER", "SASL PLAIN", "IMPLEMENTATION govmail"}
	capaTrans := []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION govmail"}
	retr1 := []string{"Subject: one", "", "Hello", "..hidden dot line", "...two dots", "..", "end"}
	retr2 := []string{"Subject: two", "X: y", "", "line1", "line2", "line3"}
	retr3 := []string{"Subject: three", "", "no newline at end"}

	tests := []struct {
		name  string
		steps []step
	}{
		{"capa before login", []step{{send: "CAPA", want: "+OK", body: capaAuth}}},
		{"capa lower case", []step{{send: "capa", want: "+OK", body: capaAuth}}},
		{"capa with argument", []step{{send: "CAPA x", want: "-ERR"}}},
		{"user pass", login},
		{"user name with spaces trimmed", []step{{send: "USER  alice ", want: "+OK"}, {send: "PASS secret pass", want: loggedIn}}},
		{"user without name", []step{{send: "USER", want: "-ERR"}, {send: "USER ", want: "-ERR"}}},
		{"pass without user", []step{{send: "PASS secret pass", want: "-ERR send USER first"}}},
		{"wrong password", []step{{send: "USER alice", want: "+OK"}, {send: "PASS nope", want: "-ERR [AUTH] authentication failed"},
			{send: "PASS secret pass", want: "-ERR send USER first"}}},
		{"password is the rest of the line", []step{{send: "USER alice", want: "+OK"}, {send: "PASS secret", want: "-ERR [AUTH]"}}},
		{"unknown user", []step{{send: "USER mallory", want: "+OK"}, {send: "PASS x", want: "-ERR [AUTH] authentication failed"}}},
		{"in use", []step{{send: "USER inuse", want: "+OK"}, {send: "PASS x", want: "-ERR [IN-USE] maildrop is in use"}}},
		{"backend error hidden", []step{{send: "USER broken", want: "+OK"}, {send: "PASS x", want: "-ERR [SYS/TEMP] temporary failure, try again later"}}},
		{"bad snapshot refused", []step{{send: "USER badsnap", want: "+OK"}, {send: "PASS x", want: "-ERR [SYS/TEMP] maildrop unavailable"},
			{send: "STAT", want: "-ERR not logged in"}}},
		{"apop", []step{{send: "APOP alice 0123456789abcdef0123456789abcdef", want: "-ERR APOP not supported"}}},
		{"transaction command before login", []step{{send: "STAT", want: "-ERR not logged in"}, {send: "RETR 1", want: "-ERR not logged in"},
			{send: "NOOP", want: "-ERR not logged in"}}},
		{"unknown command", []step{{send: "HELO x", want: "-ERR unknown command"}, {send: "", want: "-ERR unknown command"}}},
		{"control bytes", []step{{send: "\x00\x01 \xff", want: "-ERR unknown command"}}},
		{"long keyword", []step{{send: "RETRIEVE 1", want: "-ERR unknown command"}}},
		{"stls not configured", []step{{send: "STLS", want: "-ERR STLS not available"}}},
		{"stls with argument", []step{{send: "STLS x", want: "-ERR"}}},
		{"quit before login", []step{{send: "QUIT", want: "+OK mail.test signing off"}}},

		{"auth list", []step{{send: "AUTH", want: "+OK", body: []string{"PLAIN"}}}},
		{"auth plain initial response", []step{{send: "AUTH PLAIN " + plainIR("", "alice", "secret pass"), want: loggedIn}}},
		{"auth plain lower case", []step{{send: "auth plain " + plainIR("alice", "alice", "secret pass"), want: loggedIn}}},
		{"auth plain continuation", []step{{send: "AUTH PLAIN", want: "+ "}, {send: plainIR("", "alice", "secret pass"), want: loggedIn}}},
		{"auth plain wrong password", []step{{send: "AUTH PLAIN " + plainIR("", "alice", "bad"), want: "-ERR [AUTH] authentication failed"}}},
		{"auth plain other identity", []step{{send: "AUTH PLAIN " + plainIR("bob", "alice", "secret pass"), want: "-ERR [AUTH] authorization identity not supported"}}},
		{"auth plain malformed", []step{{send: "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("alice")), want: "-ERR [AUTH] authentication failed"}}},
		{"auth plain empty", []step{{send: "AUTH PLAIN =", want: "-ERR [AUTH]"}}},
		{"auth plain bad base64", []step{{send: "AUTH PLAIN !!!", want: "-ERR invalid base64"}}},
		{"auth continuation bad base64", []step{{send: "AUTH PLAIN", want: "+ "}, {send: "!!!", want: "-ERR invalid base64"}}},
		{"auth cancelled", []step{{send: "AUTH PLAIN", want: "+ "}, {send: "*", want: "-ERR authentication cancelled"}, {send: "STAT", want: "-ERR not logged in"}}},
		{"auth unknown mechanism", []step{{send: "AUTH LOGIN", want: "-ERR unsupported SASL mechanism"}}},
		{"auth too many args", []step{{send: "AUTH PLAIN a b", want: "-ERR"}}},
		{"auth backend error", []step{{send: "AUTH PLAIN " + plainIR("", "broken", "x"), want: "-ERR [SYS/TEMP]"}}},

		{"stat", after(step{send: "STAT", want: fmt.Sprintf("+OK 3 %d", total)})},
		{"stat with argument", after(step{send: "STAT 1", want: "-ERR"})},
		{"list", after(step{send: "LIST", want: fmt.Sprintf("+OK 3 messages (%d octets)", total),
			body: []string{fmt.Sprint("1 ", size(0)), fmt.Sprint("2 ", size(1)), fmt.Sprint("3 ", size(2))}})},
		{"list one", after(step{send: "LIST 2", want: fmt.Sprintf("+OK 2 %d", size(1))})},
		{"list leading zeros", after(step{send: "LIST 002", want: fmt.Sprintf("+OK 2 %d", size(1))})},
		{"list bad numbers", after(
			step{send: "LIST 0", want: "-ERR no such message"},
			step{send: "LIST 4", want: "-ERR no such message"},
			step{send: "LIST -1", want: "-ERR invalid message number"},
			step{send: "LIST +1", want: "-ERR invalid message number"},
			step{send: "LIST x", want: "-ERR invalid message number"},
			step{send: "LIST 99999999999999999999", want: "-ERR invalid message number"},
			step{send: "LIST 1 2", want: "-ERR too many arguments"})},
		{"uidl", after(step{send: "UIDL", want: "+OK", body: []string{"1 uid-1", "2 uid-2", "3 uid-3"}})},
		{"uidl one", after(step{send: "UIDL 3", want: "+OK 3 uid-3"}, step{send: "UIDL 4", want: "-ERR no such message"})},
		{"retr dot-stuffed", after(step{send: "RETR 1", want: fmt.Sprintf("+OK %d octets", size(0)), body: retr1})},
		{"retr bare LF", after(step{send: "RETR 2", want: "+OK", body: retr2})},
		{"retr no final newline", after(step{send: "RETR 3", want: "+OK", body: retr3})},
		{"retr bad args", after(
			step{send: "RETR", want: "-ERR RETR takes one message number"},
			step{send: "RETR 1 2", want: "-ERR"},
			step{send: "RETR 4", want: "-ERR no such message"})},
		{"top 0", after(step{send: "TOP 2 0", want: "+OK", body: []string{"Subject: two", "X: y", ""}})},
		{"top 1", after(step{send: "TOP 2 1", want: "+OK", body: []string{"Subject: two", "X: y", "", "line1"}})},
		{"top 2 dot-stuffed", after(step{send: "TOP 1 2", want: "+OK", body: retr1[:4]})},
		{"top more than body", after(step{send: "TOP 2 100", want: "+OK", body: retr2})},
		{"top bad args", after(
			step{send: "TOP 1", want: "-ERR TOP takes"},
			step{send: "TOP 1 x", want: "-ERR invalid line count"},
			step{send: "TOP 1 -1", want: "-ERR invalid line count"},
			step{send: "TOP 9 1", want: "-ERR no such message"})},
		{"dele hides message", after(
			step{send: "DELE 1", want: "+OK message 1 deleted"},
			step{send: "DELE 1", want: "-ERR message 1 already deleted"},
			step{send: "RETR 1", want: "-ERR message 1 already deleted"},
			step{send: "TOP 1 0", want: "-ERR message 1 already deleted"},
			step{send: "LIST 1", want: "-ERR message 1 already deleted"},
			step{send: "UIDL 1", want: "-ERR message 1 already deleted"},
			step{send: "STAT", want: fmt.Sprintf("+OK 2 %d", size(1)+size(2))},
			step{send: "LIST", want: fmt.Sprintf("+OK 2 messages (%d octets)", size(1)+size(2)),
				body: []string{fmt.Sprint("2 ", size(1)), fmt.Sprint("3 ", size(2))}},
			step{send: "UIDL", want: "+OK", body: []string{"2 uid-2", "3 uid-3"}},
			step{send: "RSET", want: loggedIn},
			step{send: "STAT", want: fmt.Sprintf("+OK 3 %d", total)},
			step{send: "RETR 1", want: "+OK", body: retr1})},
		{"dele bad args", after(step{send: "DELE", want: "-ERR"}, step{send: "DELE 0", want: "-ERR no such message"})},
		{"noop", after(step{send: "NOOP", want: "+OK"}, step{send: "NOOP x", want: "-ERR"})},
		{"rset with argument", after(step{send: "RSET 1", want: "-ERR"})},
		{"capa after login", after(step{send: "CAPA", want: "+OK", body: capaTrans})},
		{"authorization commands after login", after(
			step{send: "USER alice", want: "-ERR already logged in"},
			step{send: "PASS x", want: "-ERR already logged in"},
			step{send: "AUTH PLAIN", want: "-ERR already logged in"},
			step{send: "STLS", want: "-ERR already logged in"},
			step{send: "APOP a b", want: "-ERR already logged in"},
			step{send: "FOO", want: "-ERR unknown command"})},
		{"quit after login", after(step{send: "QUIT", want: "+OK mail.test signing off (3 messages left)"})},
		{"quit after dele", after(step{send: "DELE 2", want: "+OK"}, step{send: "QUIT", want: "+OK mail.test signing off (2 messages left)"})},
		{"empty maildrop", []step{{send: "USER empty", want: "+OK"}, {send: "PASS x", want: "+OK maildrop has 0 messages (0 octets)"},
			{send: "STAT", want: "+OK 0 0"}, {send: "LIST", want: "+OK 0 messages", body: []string{}},
			{send: "UIDL", want: "+OK", body: []string{}}, {send: "LIST 1", want: "-ERR no such message"}}},
		{"unreadable message", []step{{send: "USER flaky", want: "+OK"}, {send: "PASS x", want: "+OK"},
			{send: "RETR 2", want: "-ERR [SYS/TEMP] cannot read message"},
			{send: "RETR 1", want: "+OK", body: []string{"Subject: ok", "", "fine"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBackend()
			srv, _ := newTestServer(b)
			srv.AllowInsecureAuth = true
			c := dial(t, startServer(t, srv, false))
			if g := c.line(); g != "+OK mail.test POP3 server ready" {
				t.Fatalf("greeting %q", g)
			}
			for _, st := range tt.steps {
				got := c.cmd(st.send)
				if !strings.HasPrefix(got, st.want) {
					t.Fatalf("%q: got %q, want prefix %q", st.send, got, st.want)
				}
				if st.body != nil {
					if lines := c.multi(); !slices.Equal(lines, st.body) && !(len(lines) == 0 && len(st.body) == 0) {
						t.Fatalf("%q: body\n%q\nwant\n%q", st.send, lines, st.body)
					}
				}
			}
		})
	}
}

func TestRetrFailsMidway(t *testing.T) {
	b := newFakeBackend()
	srv, logs := newTestServer(b)
	srv.AllowInsecureAuth = true
	c := dial(t, startServer(t, srv, false))
	c.line()
	c.cmd("USER flaky")
	c.cmd("PASS x")
	if got := c.cmd("RETR 3"); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("RETR: %q", got)
	}
	// Whatever arrives, it must not end with the "." line: a truncated message
	// must never look complete.
	for {
		l, err := c.br.ReadString('\n')
		if err != nil {
			break
		}
		if l == ".\r\n" {
			t.Fatal("truncated message was terminated with '.'")
		}
	}
	if !strings.Contains(logs.String(), "disk error") {
		t.Errorf("read failure not logged:\n%s", logs)
	}
	if n := len(b.getCommits()); n != 0 {
		t.Errorf("commit after failed RETR: %d", n)
	}
}

func TestCommitSemantics(t *testing.T) {
	tests := []struct {
		name        string
		commands    []string
		quit        bool // end with QUIT (else drop the connection)
		wantCommits [][]string
	}{
		{"quit commits deletions", []string{"DELE 1", "DELE 3"}, true, [][]string{{"uid-1", "uid-3"}}},
		{"rset undoes deletions", []string{"DELE 1", "DELE 3", "RSET", "DELE 2"}, true, [][]string{{"uid-2"}}},
		{"quit without deletions", nil, true, [][]string{nil}},
		{"dropped connection commits nothing", []string{"DELE 1"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBackend()
			srv, _ := newTestServer(b)
			srv.AllowInsecureAuth = true
			c := dial(t, startServer(t, srv, false))
			c.line()
			c.login()
			for _, cmd := range tt.commands {
				if got := c.cmd(cmd); !strings.HasPrefix(got, "+OK") {
					t.Fatalf("%s: %q", cmd, got)
				}
			}
			if tt.quit {
				if got := c.cmd("QUIT"); !strings.HasPrefix(got, "+OK") {
					t.Fatalf("QUIT: %q", got)
				}
				c.expectClosed()
			} else {
				c.conn.Close()
			}
			srv.Close()
			srv.wg.Wait()
			var got [][]string
			for _, cc := range b.getCommits() {
				got = append(got, cc.deleted)
			}
			if !slices.EqualFunc(got, tt.wantCommits, slices.Equal) {
				t.Errorf("commits %q, want %q", got, tt.wantCommits)
			}
			if n := b.getCloses(); n != 1 {
				t.Errorf("mailbox closed %d times, want 1", n)
			}
		})
	}
}

func TestCommitFailure(t *testing.T) {
	b := newFakeBackend()
	b.commitErr = fmt.Errorf("store down")
	srv, _ := newTestServer(b)
	srv.AllowInsecureAuth = true
	c := dial(t, startServer(t, srv, false))
	c.line()
	c.login()
	c.cmd("DELE 1")
	if got := c.cmd("QUIT"); got != "-ERR [SYS/TEMP] some deleted messages not removed" {
		t.Fatalf("QUIT: %q", got)
	}
	c.expectClosed()
}

func TestPipelining(t *testing.T) {
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.AllowInsecureAuth = true
	c := dial(t, startServer(t, srv, false))
	c.line()
	// One write: the server must answer each command in order.
	batch := "CAPA\r\nUSER alice\r\nPASS secret pass\r\nSTAT\r\nLIST\r\nUIDL 2\r\nRETR 1\r\nTOP 2 0\r\nDELE 2\r\nNOOP\r\nQUIT\r\n"
	if _, err := c.conn.Write([]byte(batch)); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		prefix string
		multi  bool
	}{{"+OK capa", true}, {"+OK send PASS", false}, {"+OK maildrop has 3", false}, {"+OK 3 ", false},
		{"+OK 3 messages", true}, {"+OK 2 uid-2", false}, {"+OK ", true}, {"+OK top", true}, {"+OK message 2 deleted", false},
		{"+OK", false}, {"+OK mail.test signing off (2 messages left)", false}}
	for _, w := range want {
		got := c.line()
		if !strings.HasPrefix(got, w.prefix) {
			t.Fatalf("got %q, want prefix %q", got, w.prefix)
		}
		if w.multi {
			c.multi()
		}
	}
	c.expectClosed()
	srv.Close()
	srv.wg.Wait()
	if commits := b.getCommits(); len(commits) != 1 || !slices.Equal(commits[0].deleted, []string{"uid-2"}) {
		t.Errorf("commits %+v", commits)
	}
}

func TestLineTooLong(t *testing.T) {
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.AllowInsecureAuth = true
	srv.MaxLineLength = 64
	c := dial(t, startServer(t, srv, false))
	c.line()
	if got := c.cmd("USER " + strings.Repeat("a", 100_000)); got != "-ERR line too long" {
		t.Fatalf("long line: %q", got)
	}
	// The session is still in step: the next command is answered normally.
	if got := c.cmd("NOOP"); got != "-ERR not logged in" {
		t.Fatalf("after long line: %q", got)
	}
	c.login()
}

func TestTooManyErrors(t *testing.T) {
	b := newFakeBackend()
	srv, logs := newTestServer(b)
	srv.AllowInsecureAuth = true
	c := dial(t, startServer(t, srv, false))
	c.line()
	for i := range DefaultMaxErrors {
		if got := c.cmd("BOGUS"); got != "-ERR unknown command" {
			t.Fatalf("bad command %d: %q", i, got)
		}
	}
	if got := c.line(); got != "-ERR too many errors, closing connection" {
		t.Fatalf("got %q", got)
	}
	c.expectClosed()
	if !strings.Contains(logs.String(), "too many errors") {
		t.Error("not logged")
	}
}

func TestPasswordGuessingCounts(t *testing.T) {
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.AllowInsecureAuth = true
	srv.MaxErrors = 3
	c := dial(t, startServer(t, srv, false))
	c.line()
	for range 3 {
		c.cmd("USER alice")
		if got := c.cmd("PASS guess"); !strings.HasPrefix(got, "-ERR [AUTH]") {
			t.Fatalf("got %q", got)
		}
	}
	c.line() // too many errors
	c.expectClosed()
}

func TestSecretsNotLogged(t *testing.T) {
	b := newFakeBackend()
	srv, logs := newTestServer(b)
	srv.AllowInsecureAuth = true
	addr := startServer(t, srv, false)
	c := dial(t, addr)
	c.line()
	c.login()
	c.cmd("QUIT")
	c = dial(t, addr)
	c.line()
	ir := plainIR("", "alice", "secret pass")
	c.cmd("AUTH PLAIN " + ir)
	c.cmd("QUIT")
	c = dial(t, addr)
	c.line()
	c.cmd("USER broken")
	c.cmd("PASS secret pass")
	c.cmd("QUIT")
	srv.Close()
	srv.wg.Wait()
	out := logs.String()
	for _, secret := range []string{"secret pass", ir} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "secret internal detail") {
		t.Errorf("backend error not logged for operators:\n%s", out)
	}
	if !strings.Contains(out, "pop3 login") || !strings.Contains(out, "user=alice") {
		t.Errorf("login not logged:\n%s", out)
	}
}

func TestPanicRecovered(t *testing.T) {
	b := newFakeBackend()
	srv, logs := newTestServer(b)
	srv.AllowInsecureAuth = true
	addr := startServer(t, srv, false)
	c := dial(t, addr)
	c.line()
	c.cmd("USER panic")
	c.send("PASS x")
	c.expectClosed()
	// The server goes on serving others.
	c = dial(t, addr)
	c.line()
	c.login()
	if !strings.Contains(logs.String(), "pop3 session panic") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

func TestConnInfo(t *testing.T) {
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.AllowInsecureAuth = true
	c := dial(t, startServer(t, srv, false))
	c.line()
	c.cmd("AUTH PLAIN " + plainIR("", "alice", "secret pass"))
	info := b.lastLogin()
	if info.Mechanism != "PLAIN" || info.TLS != nil || info.Session == 0 ||
		info.RemoteAddr.String() != c.conn.LocalAddr().String() {
		t.Errorf("ConnInfo %+v", info)
	}
}
