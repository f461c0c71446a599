// Package config owns govmail.toml: every listener, path and number of the
// regulation, each with its default. It refuses unknown keys (a typo must not
// silently fall back to a default) and values weaker than the regulation's floors.
// It never opens sockets or files other than the config file itself.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"govmail/internal/contentpolicy"
)

// Config is the whole of govmail.toml.
type Config struct {
	// Hostname is the name this server gives in greetings and Received headers, and
	// the name its self-signed certificate is made for.
	Hostname string `toml:"hostname"`
	// Domains are the mail domains delivered locally; the first is the default.
	Domains []string `toml:"domains"`
	// WebURL is the public address of webmail (R3.1).
	WebURL string `toml:"web_url"`
	// Support is the helpdesk contact shown on the login page and in notices (R14.2).
	Support string `toml:"support"`
	// DailyJobsAt is the local time (HH:MM) the daily jobs run (Điều 6, 8, 11).
	DailyJobsAt string `toml:"daily_jobs_at"`
	// DataDir holds the database, blobs and generated certificates.
	DataDir string `toml:"data_dir"`

	Listen   Listeners `toml:"listen"`
	TLS      TLS       `toml:"tls"`
	SMTP     SMTP      `toml:"smtp"`
	Policy   Policy    `toml:"policy"`
	Security Security  `toml:"security"`
	Outbound Outbound  `toml:"outbound"`
	Limits   Limits    `toml:"limits"`
	Inbound  Inbound   `toml:"inbound"`
	Log      Log       `toml:"log"`
	Database Database  `toml:"database"`
	Reports  Reports   `toml:"reports"`
	// DNS is the resolver used for MX, SPF, DKIM, DMARC and MTA-STS lookups
	// ("host:port"); empty means the system's.
	DNS string `toml:"dns"`
}

// Listeners lists the addresses of every service; an empty list disables it.
// Each address is host:port; IPv4 and IPv6 are both listed by default (N5).
type Listeners struct {
	SMTP          []string `toml:"smtp"`           // MX, port 25 in production
	Submission    []string `toml:"submission"`     // STARTTLS, 587
	SubmissionTLS []string `toml:"submission_tls"` // implicit TLS, 465
	IMAP          []string `toml:"imap"`           // STARTTLS, 143
	IMAPTLS       []string `toml:"imap_tls"`       // implicit TLS, 993
	POP3          []string `toml:"pop3"`           // STLS, 110
	POP3TLS       []string `toml:"pop3_tls"`       // implicit TLS, 995
	HTTP          []string `toml:"http"`           // metrics, health; redirects people to HTTPS (R3.1)
	HTTPS         []string `toml:"https"`          // webmail, portal, API (443)
	LDAP          []string `toml:"ldap"`           // directory, StartTLS, 389 (N3)
	LDAPS         []string `toml:"ldaps"`          // directory, implicit TLS, 636
}

// TLS names the certificate files. Empty means the self-signed pair made under
// DataDir on first run.
type TLS struct {
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// SMTP holds protocol limits.
type SMTP struct {
	MaxMessageBytes int64 `toml:"max_message_bytes"` // R11.5: 25 MB
	// MaxAttachmentBytes is the optional per-attachment limit of R11.5 (0: none).
	MaxAttachmentBytes int64    `toml:"max_attachment_bytes"`
	MaxRecipients      int      `toml:"max_recipients"`
	MaxLineLength      int      `toml:"max_line_length"`
	ReadTimeout        Duration `toml:"read_timeout"`
	WriteTimeout       Duration `toml:"write_timeout"`
}

// Policy holds the numbers of the regulation that this part of the system uses.
type Policy struct {
	QuotaBytes int64 `toml:"quota_bytes"` // R11.4: 2 GB
	// LogRetentionMonths: R11.3, at least 6.
	LogRetentionMonths int `toml:"log_retention_months"`
}

// Security configures the content checks of Điều 4.
type Security struct {
	// Clamd is clamd's address ("unix:/path" or "host:port"). Empty: Debian's
	// socket when it exists; "off": no virus scanning (R4.1 not enforced; warned).
	Clamd string `toml:"clamd"`
	// RspamdURL is rspamd's scanner (http://127.0.0.1:11333); empty: no spam check.
	RspamdURL        string  `toml:"rspamd_url"`
	RspamdController string  `toml:"rspamd_controller"`
	RspamdPassword   string  `toml:"rspamd_password"`
	JunkScore        float64 `toml:"junk_score"`
	RejectScore      float64 `toml:"reject_score"`
	SpamFailOpen     bool    `toml:"spam_fail_open"`
	// SMIMERoots is a PEM file of the certificate authorities whose S/MIME
	// signatures webmail reports as verified (N2); empty: none.
	SMIMERoots string `toml:"smime_roots"`
	// ContentPolicy is the prohibited-use policy of R4.2–R4.3.
	ContentPolicy contentpolicy.Config `toml:"content_policy"`
}

// Outbound configures the queue of mail to other domains.
type Outbound struct {
	Enabled     bool     `toml:"enabled"`
	Workers     int      `toml:"workers"`
	PerDomain   int      `toml:"per_domain"`
	Lifetime    Duration `toml:"lifetime"`     // retried for 5 days, then bounced
	DelayNotice Duration `toml:"delay_notice"` // the sender is told after 4 hours
	BackoffMin  Duration `toml:"backoff_min"`
	BackoffMax  Duration `toml:"backoff_max"`
	Port        int      `toml:"port"` // remote SMTP port (25)
	MTASTS      bool     `toml:"mta_sts"`
	// DANE applies TLSA records (RFC 7672) where the resolver (dns, or the
	// system's) validates DNSSEC: it trusts that resolver's AD bit, so the
	// resolver must be local or on a trusted network (e.g. unbound on 127.0.0.1).
	DANE           bool   `toml:"dane"`
	Smarthost      string `toml:"smarthost"` // host:port of the province's gateway, if any
	SmarthostUser  string `toml:"smarthost_user"`
	SmarthostPass  string `toml:"smarthost_password"`
	SmarthostTLS   bool   `toml:"smarthost_implicit_tls"`
	DKIMSelectorOn bool   `toml:"dkim"` // sign outbound mail (keys under data/dkim)
}

// Limits are the sending limits against a compromised account (R17.2, Điều 8.2b).
type Limits struct {
	MessagesPerHour  int `toml:"messages_per_hour"`
	RecipientsPerDay int `toml:"recipients_per_day"`
}

// Inbound configures the checks of mail from other domains.
type Inbound struct {
	// CheckAuth verifies SPF, DKIM and DMARC and writes Authentication-Results.
	CheckAuth bool `toml:"check_auth"`
	// DMARCEnforce refuses p=reject failures and files p=quarantine in Junk.
	DMARCEnforce bool `toml:"dmarc_enforce"`
}

// Database chooses the store: the embedded SQLite under DataDir, or PostgreSQL
// shared by several nodes (DESIGN decision 4).
type Database struct {
	Driver   string `toml:"driver"` // "sqlite" (default) or "postgres"
	DSN      string `toml:"dsn"`    // postgres://user:pass@host:5432/govmail
	MaxConns int    `toml:"max_conns"`
}

// Reports configures the periodic report of Điều 7.3.
type Reports struct {
	// MonthlyTo receives the monthly report on the first working day of each
	// month (e.g. the People's Committee office); empty: not sent.
	MonthlyTo []string `toml:"monthly_to"`
	// AuthReports sends our DMARC aggregate and TLS reports (RFC 7489,
	// RFC 8460) each UTC day to the domains that ask for them. Reports others
	// send us are read and kept either way.
	AuthReports bool `toml:"auth_reports"`
}

// Log configures slog.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Duration is a time.Duration written as "30s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses "5m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// MarshalText writes "5m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Defaults returns the embedded-default configuration rooted at dataDir: loopback,
// unprivileged ports, the regulation's numbers.
func Defaults(dataDir string) Config {
	both := func(port string) []string { return []string{"127.0.0.1:" + port, "[::1]:" + port} }
	return Config{
		Hostname:    "mail.sonla.gov.vn",
		Domains:     []string{"sonla.gov.vn"},
		WebURL:      "https://mail.sonla.gov.vn",
		Support:     "Sở Khoa học và Công nghệ tỉnh Sơn La — hotro@sonla.gov.vn",
		DailyJobsAt: "00:30",
		DataDir:     dataDir,
		Listen: Listeners{
			SMTP:          both("2525"),
			Submission:    both("5870"),
			SubmissionTLS: both("4650"),
			IMAP:          both("1430"),
			IMAPTLS:       both("9930"),
			POP3:          both("1100"),
			POP3TLS:       both("9950"),
			HTTP:          both("8080"),
			HTTPS:         both("8443"),
			LDAP:          both("3890"),
			LDAPS:         both("6360"),
		},
		SMTP: SMTP{
			MaxMessageBytes: 26214400,
			MaxRecipients:   100,
			MaxLineLength:   4000,
			ReadTimeout:     Duration{5 * time.Minute},
			WriteTimeout:    Duration{5 * time.Minute},
		},
		Policy: Policy{
			QuotaBytes:         2147483648,
			LogRetentionMonths: 6,
		},
		Outbound: Outbound{Enabled: true, Workers: 8, PerDomain: 2, Lifetime: Duration{120 * time.Hour}, DelayNotice: Duration{4 * time.Hour},
			BackoffMin: Duration{5 * time.Minute}, BackoffMax: Duration{2 * time.Hour}, Port: 25, MTASTS: true, DANE: true, DKIMSelectorOn: true},
		Limits:   Limits{MessagesPerHour: 100, RecipientsPerDay: 500},
		Inbound:  Inbound{CheckAuth: true, DMARCEnforce: true},
		Reports:  Reports{AuthReports: true},
		Security: Security{JunkScore: 6, RejectScore: 15, SpamFailOpen: true, ContentPolicy: contentpolicy.DefaultConfig()},
		Log:      Log{Level: "info", Format: "text"},
		Database: Database{Driver: "sqlite", MaxConns: 20},
	}
}

// Load reads path over the defaults for its directory. Unknown keys are an error.
func Load(path string) (Config, error) {
	c := Defaults(filepath.Dir(path))
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return c, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	if !filepath.IsAbs(c.DataDir) {
		c.DataDir = filepath.Join(filepath.Dir(path), c.DataDir)
	}
	return c, c.Validate()
}

// Validate refuses values the regulation does not allow or that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Hostname == "" {
		errs = append(errs, errors.New("hostname is empty"))
	}
	if len(c.Domains) == 0 {
		errs = append(errs, errors.New("domains is empty"))
	}
	if c.SMTP.MaxMessageBytes <= 0 {
		errs = append(errs, errors.New("smtp.max_message_bytes must be positive"))
	}
	if c.SMTP.MaxRecipients <= 0 {
		errs = append(errs, errors.New("smtp.max_recipients must be positive"))
	}
	if c.Policy.QuotaBytes <= 0 {
		errs = append(errs, errors.New("policy.quota_bytes must be positive"))
	}
	if c.Policy.LogRetentionMonths < 6 {
		errs = append(errs, fmt.Errorf("policy.log_retention_months = %d: Điều 11.1 requires at least 6 months", c.Policy.LogRetentionMonths))
	}
	switch c.Database.Driver {
	case "sqlite", "":
	case "postgres":
		if c.Database.DSN == "" {
			errs = append(errs, errors.New("database.dsn is required with driver postgres"))
		}
	default:
		errs = append(errs, fmt.Errorf("database.driver = %q: sqlite or postgres", c.Database.Driver))
	}
	if c.Outbound.DelayNotice.Duration >= c.Outbound.Lifetime.Duration {
		errs = append(errs, errors.New("outbound.delay_notice must be shorter than outbound.lifetime"))
	}
	if _, err := time.Parse("15:04", c.DailyJobsAt); err != nil {
		errs = append(errs, fmt.Errorf("daily_jobs_at = %q: want HH:MM", c.DailyJobsAt))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls.cert_file and tls.key_file go together"))
	}
	return errors.Join(errs...)
}

// Write saves c as TOML at path, creating it with mode 0600 (it may name key files).
func Write(path string, c Config) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer f.Close()
	fmt.Fprintln(f, "# govmail configuration. Every number has the regulation's value as default.")
	rel := c
	rel.DataDir = "."
	// A nil list would be left out of the file and read back as the default;
	// an empty one says "this service is off".
	for _, l := range []*[]string{&rel.Listen.SMTP, &rel.Listen.Submission, &rel.Listen.SubmissionTLS, &rel.Listen.IMAP,
		&rel.Listen.IMAPTLS, &rel.Listen.POP3, &rel.Listen.POP3TLS, &rel.Listen.HTTP, &rel.Listen.HTTPS, &rel.Listen.LDAP, &rel.Listen.LDAPS} {
		if *l == nil {
			*l = []string{}
		}
	}
	if err := toml.NewEncoder(f).Encode(rel); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return f.Sync()
}
