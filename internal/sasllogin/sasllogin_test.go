package sasllogin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// noIR marks a step whose response is nil (no initial response).
var noIR []byte

type call struct{ username, password string }

// recorder is an Authenticator that accepts nguyenvana / "Mật khẩu 2026!".
type recorder struct{ calls []call }

var errBadPassword = errors.New("535 5.7.8 authentication failed")

func (r *recorder) auth(username, password string) error {
	r.calls = append(r.calls, call{username, password})
	if username == "nguyenvana@sonla.gov.vn" && password == "Mật khẩu 2026!" {
		return nil
	}
	return errBadPassword
}

func TestExchange(t *testing.T) {
	type step struct {
		response      []byte
		wantChallenge string
		wantDone      bool
		wantErr       error // compared with errors.Is
	}
	user, pass := []byte("nguyenvana@sonla.gov.vn"), []byte("Mật khẩu 2026!")
	tests := []struct {
		name      string
		steps     []step
		wantCalls []call
	}{
		{
			name: "no initial response: Username:, Password:, success",
			steps: []step{
				{response: noIR, wantChallenge: UsernameChallenge},
				{response: user, wantChallenge: PasswordChallenge},
				{response: pass, wantDone: true},
			},
			wantCalls: []call{{string(user), string(pass)}},
		},
		{
			name: "initial response carries the user name",
			steps: []step{
				{response: user, wantChallenge: PasswordChallenge},
				{response: pass, wantDone: true},
			},
			wantCalls: []call{{string(user), string(pass)}},
		},
		{
			name: "empty initial response is taken as none",
			steps: []step{
				{response: []byte{}, wantChallenge: UsernameChallenge},
				{response: user, wantChallenge: PasswordChallenge},
				{response: pass, wantDone: true},
			},
			wantCalls: []call{{string(user), string(pass)}},
		},
		{
			name: "wrong password: the authenticator's error, done",
			steps: []step{
				{response: user, wantChallenge: PasswordChallenge},
				{response: []byte("wrong"), wantDone: true, wantErr: errBadPassword},
			},
			wantCalls: []call{{string(user), "wrong"}},
		},
		{
			name: "empty password goes to the authenticator (it counts as a failure there)",
			steps: []step{
				{response: user, wantChallenge: PasswordChallenge},
				{response: []byte{}, wantDone: true, wantErr: errBadPassword},
			},
			wantCalls: []call{{string(user), ""}},
		},
		{
			name: "empty user name after the challenge is malformed",
			steps: []step{
				{response: noIR, wantChallenge: UsernameChallenge},
				{response: []byte{}, wantDone: true, wantErr: ErrMalformed},
			},
		},
		{
			name: "user name not UTF-8 is malformed",
			steps: []step{
				{response: []byte("nguy\xeanvana"), wantDone: true, wantErr: ErrMalformed},
			},
		},
		{
			name: "NUL in the password is malformed",
			steps: []step{
				{response: user, wantChallenge: PasswordChallenge},
				{response: []byte("a\x00b"), wantDone: true, wantErr: ErrMalformed},
			},
		},
		{
			name: "password of MaxLen bytes is accepted",
			steps: []step{
				{response: user, wantChallenge: PasswordChallenge},
				{response: bytes.Repeat([]byte("x"), MaxLen), wantDone: true, wantErr: errBadPassword},
			},
			wantCalls: []call{{string(user), strings.Repeat("x", MaxLen)}},
		},
		{
			name: "password over MaxLen is malformed",
			steps: []step{
				{response: user, wantChallenge: PasswordChallenge},
				{response: bytes.Repeat([]byte("x"), MaxLen+1), wantDone: true, wantErr: ErrMalformed},
			},
		},
		{
			name: "a response after the end is refused",
			steps: []step{
				{response: user, wantChallenge: PasswordChallenge},
				{response: pass, wantDone: true},
				{response: pass, wantDone: true, wantErr: ErrUnexpectedResponse},
				{response: noIR, wantDone: true, wantErr: ErrUnexpectedResponse},
			},
			wantCalls: []call{{string(user), string(pass)}},
		},
		{
			name: "a response after a malformed one is refused",
			steps: []step{
				{response: []byte("\x00"), wantDone: true, wantErr: ErrMalformed},
				{response: pass, wantDone: true, wantErr: ErrUnexpectedResponse},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			s := NewServer(r.auth)
			for i, st := range tt.steps {
				ch, done, err := s.Next(st.response)
				if string(ch) != st.wantChallenge || done != st.wantDone {
					t.Fatalf("step %d: Next = %q, done %v, want %q, done %v", i, ch, done, st.wantChallenge, st.wantDone)
				}
				if st.wantErr == nil && err != nil || st.wantErr != nil && !errors.Is(err, st.wantErr) {
					t.Fatalf("step %d: err = %v, want %v", i, err, st.wantErr)
				}
			}
			if len(r.calls) != len(tt.wantCalls) {
				t.Fatalf("authenticator calls = %q, want %q", r.calls, tt.wantCalls)
			}
			for i := range r.calls {
				if r.calls[i] != tt.wantCalls[i] {
					t.Errorf("call %d = %q, want %q", i, r.calls[i], tt.wantCalls[i])
				}
			}
		})
	}
}

// go-smtp does not unwrap errors: a *smtp.SMTPError from the authenticator must
// come back as the very same value.
func TestAuthenticatorErrorIsNotWrapped(t *testing.T) {
	type protoErr struct{ error }
	want := &protoErr{errors.New("535")}
	s := NewServer(func(string, string) error { return want })
	s.Next([]byte("u"))
	if _, _, err := s.Next([]byte("p")); err != error(want) {
		t.Errorf("err = %#v, want the authenticator's own value", err)
	}
}

func TestNilAuthenticatorDoesNotPanic(t *testing.T) {
	s := NewServer(nil)
	s.Next([]byte("u"))
	if _, done, err := s.Next([]byte("p")); !done || err == nil {
		t.Errorf("done %v, err %v; want done with an error", done, err)
	}
}

// What Outlook and every AUTH LOGIN client expect on the wire after base64.
func TestChallengesOnTheWire(t *testing.T) {
	s := NewServer(func(string, string) error { return nil })
	ch, _, _ := s.Next(nil)
	if got := base64.StdEncoding.EncodeToString(ch); got != "VXNlcm5hbWU6" {
		t.Errorf("first challenge = %s, want VXNlcm5hbWU6", got)
	}
	ch[0] = 'X' // a caller scribbling on a challenge must not change the next one
	ch, _, _ = s.Next([]byte("u"))
	if got := base64.StdEncoding.EncodeToString(ch); got != "UGFzc3dvcmQ6" {
		t.Errorf("second challenge = %s, want UGFzc3dvcmQ6", got)
	}
	if ch, _, _ := NewServer(nil).Next(nil); string(ch) != UsernameChallenge {
		t.Errorf("a new server's challenge = %q", ch)
	}
}

// FuzzServer drives one exchange with arbitrary responses. It must never panic,
// call the authenticator at most once and only with what the client sent as
// valid UTF-8 without NUL, and refuse anything after the end.
func FuzzServer(f *testing.F) {
	f.Add(false, []byte(nil), []byte("user"), []byte("pass"), []byte("more"))
	f.Add(true, []byte("user"), []byte("pass"), []byte(""), []byte(""))
	f.Add(true, []byte(""), []byte("user"), []byte("pass"), []byte("x"))
	f.Add(true, []byte("u\x00"), []byte("\xff"), []byte("p"), []byte("p"))
	f.Add(false, []byte(nil), []byte(""), []byte("Mật khẩu"), []byte("x"))
	f.Fuzz(func(t *testing.T, hasIR bool, ir, r1, r2, r3 []byte) {
		var calls []call
		s := NewServer(func(u, p string) error {
			calls = append(calls, call{u, p})
			if u == "a" {
				return nil
			}
			return errors.New("no")
		})
		if !hasIR {
			ir = nil
		}
		var want call
		ended := false
		for i, r := range [][]byte{ir, r1, r2, r3} {
			before := len(calls)
			ch, done, err := s.Next(r)
			switch {
			case ended:
				if !done || !errors.Is(err, ErrUnexpectedResponse) {
					t.Fatalf("step %d after the end: done %v, err %v", i, done, err)
				}
			case done:
				ended = true
				if len(ch) != 0 {
					t.Fatalf("step %d: final challenge %q", i, ch)
				}
				want.password = string(r)
			case err != nil:
				t.Fatalf("step %d: error %v without done", i, err)
			case string(ch) == UsernameChallenge && i == 0 && len(r) == 0:
			case string(ch) == PasswordChallenge:
				want.username = string(r)
			default:
				t.Fatalf("step %d: challenge %q for response %q", i, ch, r)
			}
			if len(calls) != before && (ended && len(calls) != before+1 || !done) {
				t.Fatalf("step %d: authenticator called outside the final step", i)
			}
		}
		if len(calls) > 1 {
			t.Fatalf("authenticator called %d times", len(calls))
		}
		if len(calls) == 1 {
			c := calls[0]
			if c != want {
				t.Fatalf("authenticator got %q, client sent %q", c, want)
			}
			for _, v := range []string{c.username, c.password} {
				if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 || len(v) > MaxLen {
					t.Fatalf("authenticator got %q", v)
				}
			}
			if c.username == "" {
				t.Fatal("authenticator got an empty user name")
			}
		}
	})
}
