package testutil

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func TestPostfixPeer(t *testing.T) {
	p := StartPostfix(t, PostfixOptions{LocalDomains: []string{"example.test"}, TLS: true})
	msg := "From: a@peer.test\r\nTo: b@example.test\r\nSubject: hello\r\n\r\nThư điện tử\r\n"
	c, err := smtp.Dial(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("a@peer.test", []string{"b@example.test"}, strings.NewReader(msg)); err != nil {
		t.Fatalf("send: %v\n%s", err, p.Log())
	}
	c.Quit()
	got := p.WaitMessages(t, 1, 20*time.Second)
	if !bytes.Contains(got[0], []byte("Thư điện tử")) || !strings.Contains(string(got[0]), "Subject: hello") {
		t.Fatalf("delivered: %s", got[0])
	}
}
