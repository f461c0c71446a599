package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTripAndUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "govmail.toml")
	if err := Write(p, Defaults(dir)); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != dir || c.SMTP.MaxMessageBytes != 26214400 || c.Policy.QuotaBytes != 2147483648 {
		t.Fatalf("defaults not kept: %+v", c)
	}
	if want := Defaults(dir); !reflect.DeepEqual(c, want) {
		t.Fatalf("Write then Load changed the configuration:\n got %+v\nwant %+v", c, want)
	}
	if err := os.WriteFile(p, []byte("hostnme = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "hostnme") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}

// R11.3: configuration refuses a log retention below 6 months.
func TestLogRetentionFloorR11_3(t *testing.T) {
	c := Defaults(t.TempDir())
	c.Policy.LogRetentionMonths = 6
	if err := c.Validate(); err != nil {
		t.Fatalf("6 months refused: %v", err)
	}
	c.Policy.LogRetentionMonths = 5
	if err := c.Validate(); err == nil {
		t.Fatal("5 months accepted")
	}
}
