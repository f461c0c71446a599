package sasllogin_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/emersion/go-sasl"

	"govmail/internal/sasllogin"
)

var _ sasl.Server = (*sasllogin.Server)(nil)

// run performs the exchange the way go-smtp and go-imap do: the client's initial
// response is passed to the server's first Next, and every challenge and response
// crosses the wire in base64.
func run(t *testing.T, c sasl.Client, s sasl.Server) error {
	t.Helper()
	mech, ir, err := c.Start()
	if err != nil {
		t.Fatal(err)
	}
	if mech != sasllogin.Mechanism {
		t.Fatalf("client mechanism %q", mech)
	}
	wire := func(b []byte) []byte {
		d, err := base64.StdEncoding.DecodeString(base64.StdEncoding.EncodeToString(b))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	resp := wire(ir)
	for range 4 {
		ch, done, err := s.Next(resp)
		if err != nil || done {
			return err
		}
		r, err := c.Next(wire(ch))
		if err != nil {
			return err
		}
		resp = wire(r)
	}
	t.Fatal("exchange did not end")
	return nil
}

func TestGoSASLLoginClient(t *testing.T) {
	errNo := errors.New("535 5.7.8 authentication failed")
	tests := []struct {
		name, user, pass string
		wantErr          error
	}{
		{"ASCII", "nguyenvana@sonla.gov.vn", "S3cret!pass", nil},
		{"Vietnamese password", "nguyenvana@sonla.gov.vn", "Mật khẩu 2026!", nil},
		{"Vietnamese address", "nguyễnvăna@sơnla.gov.vn", "Mật khẩu 2026!", nil},
		{"wrong password", "nguyenvana@sonla.gov.vn", "wrong", errNo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotUser, gotPass string
			s := sasllogin.NewServer(func(u, p string) error {
				gotUser, gotPass = u, p
				if p == "wrong" {
					return errNo
				}
				return nil
			})
			err := run(t, sasl.NewLoginClient(tt.user, tt.pass), s)
			if err != tt.wantErr {
				t.Fatalf("exchange: %v, want %v", err, tt.wantErr)
			}
			if gotUser != tt.user || gotPass != tt.pass {
				t.Errorf("authenticator got %q/%q, want %q/%q", gotUser, gotPass, tt.user, tt.pass)
			}
		})
	}
}

// go-sasl's client always sends the user name as initial response. A protocol
// layer that dropped it would make the server ask "Username:", which that client
// refuses: the initial response must be passed through.
func TestGoSASLLoginClientNeedsInitialResponse(t *testing.T) {
	c := sasl.NewLoginClient("u", "p")
	ch, _, _ := sasllogin.NewServer(nil).Next(nil)
	if _, err := c.Next(ch); !errors.Is(err, sasl.ErrUnexpectedServerChallenge) {
		t.Errorf("client answered %q with %v", ch, err)
	}
}
