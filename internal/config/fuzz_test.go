package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: a damaged or hostile configuration file is refused with an error,
// never a crash.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("hostname = \"mail.sonla.gov.vn\"\n[policy]\nlog_retention_months = 6\n"))
	f.Add([]byte("[listen]\nsmtp = [\"127.0.0.1:25\"]\n[smtp]\nread_timeout = \"5m\"\n"))
	f.Add([]byte("[[x]]\n= ="))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "govmail.toml")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p)
		if err == nil && c.Validate() != nil {
			t.Fatal("Load accepted a configuration Validate refuses")
		}
	})
}
