// Package app wires govmail together from a Config: it opens the store, loads the
// certificate, builds the services and runs every listener until the context
// ends, then shuts them down in order (stop accepting, finish transactions, close
// the store). cmd/govmail only parses flags and calls it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"govmail/internal/address"
	"govmail/internal/auth"
	"govmail/internal/authreport"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/delivery"
	"govmail/internal/directory"
	"govmail/internal/imapd"
	"govmail/internal/ldapd"
	"govmail/internal/lifecycle"
	"govmail/internal/mailauth"
	"govmail/internal/metrics"
	"govmail/internal/notify"
	"govmail/internal/outage"
	"govmail/internal/password"
	"govmail/internal/pop3"
	"govmail/internal/pop3d"
	"govmail/internal/queue"
	"govmail/internal/quota"
	"govmail/internal/report"
	"govmail/internal/sendlimit"
	"govmail/internal/smtpd"
	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/store/sqlite"
	"govmail/internal/throttle"
	"govmail/internal/tlsutil"
	"govmail/internal/vacation"
	"govmail/internal/web"
	"govmail/internal/workdays"
)

// ConfigFile is the name of the configuration file inside the data directory.
const ConfigFile = "govmail.toml"

// Init makes dataDir with a default configuration and a self-signed certificate
// when they do not exist yet, and returns the path of the configuration.
func Init(dataDir string) (path string, created bool, err error) {
	path = filepath.Join(dataDir, ConfigFile)
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("init: %w", err)
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", false, err
	}
	if err := config.Write(path, config.Defaults(abs)); err != nil {
		return "", false, err
	}
	return path, true, nil
}

// CertFiles returns the certificate and key paths, the generated pair when the
// configuration names none.
func CertFiles(cfg config.Config) (string, string) {
	if cfg.TLS.CertFile != "" {
		return cfg.TLS.CertFile, cfg.TLS.KeyFile
	}
	return filepath.Join(cfg.DataDir, "tls", "cert.pem"), filepath.Join(cfg.DataDir, "tls", "key.pem")
}

// OpenStore opens the configured store: SQLite under the data directory, or
// PostgreSQL shared by several nodes (DESIGN decision 4).
func OpenStore(ctx context.Context, cfg config.Config, clk clock.Clock, log *slog.Logger) (store.Store, error) {
	if cfg.Database.Driver == "postgres" {
		return postgres.Open(ctx, postgres.Options{DSN: cfg.Database.DSN, MaxConns: int32(cfg.Database.MaxConns), Clock: clk, Logger: log})
	}
	return sqlite.Open(ctx, sqlite.Options{Dir: cfg.DataDir, Clock: clk, Logger: log})
}

// NewLogger builds the slog logger of the configuration.
func NewLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cfg.Level)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// App is a running govmail.
type App struct {
	Cfg     config.Config
	Log     *slog.Logger
	Clock   clock.Clock
	Store   store.Store
	Auth    *auth.Service
	Metrics *metrics.Metrics
	Deliver *delivery.Deliverer
	Dir     *directory.Service
	Life    *lifecycle.Service
	Notify  *notify.Notifier
	Reports *report.Monthly
	Outage  *outage.Service
	// AuthReports counts, sends and receives DMARC aggregate and TLS reports.
	AuthReports *authreport.Service
	smtp        *smtpd.Server
	pop3        *pop3.Server
	http        *http.Server
	https       *http.Server
	webmail     *web.Server
	imap        closer
	ldap        *ldapd.Server
	throttle    throttle.Limiter

	mu        sync.Mutex
	listeners []net.Listener
	// Addrs lists what each service listens on, after Start.
	Addrs map[string][]string
	// NoJobs keeps Start from running the daily jobs (tests run them by hand).
	NoJobs bool
	ctx    context.Context // Start's: background workers stop with it

	queue     *queue.Queue
	queueStop func(wait context.Context)
	flushStop context.CancelFunc // ends the periodic write of report counts
	mailAuth  *mailauth.Checker
	limits    *sendlimit.Limiter
}

type closer interface{ Close() error }

// throttleAdapter fits a throttle.Limiter to auth.Throttle.
type throttleAdapter struct{ m throttle.Limiter }

func (t throttleAdapter) Check(ctx context.Context, account, ip string) (bool, time.Duration, time.Duration) {
	d := t.m.Check(ctx, account, ip)
	return d.Allowed, d.RetryAfter, d.Delay
}
func (t throttleAdapter) Failure(ctx context.Context, account, ip string) {
	t.m.Failure(ctx, account, ip)
}
func (t throttleAdapter) Success(ctx context.Context, account, ip string) {
	t.m.Success(ctx, account, ip)
}

// authLog keeps authentication events in the store's auth log (R11.2).
type authLog struct {
	st  store.Store
	log *slog.Logger
}

func (l authLog) AuthEvent(ctx context.Context, e auth.Event) {
	err := l.st.AppendAuthLog(ctx, store.AuthLogEntry{Time: e.Time, Proto: e.Proto, Username: e.Username, IP: e.RemoteIP, Success: e.Success, Reason: e.Reason})
	if err != nil {
		l.log.Error("auth log", "err", err)
	}
}

// New builds the services over an open store.
func New(cfg config.Config, st store.Store, clk clock.Clock, log *slog.Logger) (*App, error) {
	// One node keeps failed logins in memory; several nodes share them through
	// the database, so that guessing on node A counts on node B (issue 10).
	var th throttle.Limiter
	if cfg.Database.Driver == "postgres" {
		sh, err := throttle.NewShared(throttle.DefaultConfig(), st, clk)
		if err != nil {
			return nil, err
		}
		sh.Logger = log.With("component", "throttle")
		th = sh
	} else {
		m, err := throttle.NewMemory(throttle.DefaultConfig(), clk)
		if err != nil {
			return nil, err
		}
		th = m
	}
	a := &App{Cfg: cfg, Log: log, Clock: clk, Store: st, throttle: th, Addrs: map[string][]string{}}
	a.Metrics = metrics.New(func() float64 { return float64(dirSize(cfg.DataDir)) })
	pol := password.DefaultPolicy()
	loc := password.Location()
	a.Auth = &auth.Service{
		Store:    st,
		Clock:    clk,
		Verify:   password.Verify,
		Expired:  func(setAt, now time.Time) bool { return pol.MustChange(setAt, now, loc) },
		Throttle: throttleAdapter{th},
		Events:   authLog{st, log},
		Logger:   log,
	}
	a.Deliver = &delivery.Deliverer{Store: st, Clock: clk, Logger: log, Hostname: cfg.Hostname, MaxAttachment: cfg.SMTP.MaxAttachmentBytes}
	a.Dir = &directory.Service{Store: st, Clock: clk, Rules: address.DefaultRules(), Domain: cfg.Domains[0], Logger: log}
	a.Notify = &notify.Notifier{Deliverer: a.Deliver, Clock: clk, Domain: cfg.Domains[0], Logger: log}
	var err error
	if a.Deliver.Filter, err = a.newFilter(); err != nil {
		return nil, err
	}
	a.Deliver.OnHeld = a.onHeld
	vacationHook := (&vacation.Responder{Store: st, Clock: clk, Location: workdays.Location(), Logger: log.With("component", "vacation"),
		Hostname: cfg.Hostname, Send: a.sendVacation}).Hook
	a.newAuthReports()
	a.Deliver.AfterDeliver = func(ctx context.Context, env *delivery.Envelope, d []delivery.Delivered, raw []byte) {
		a.takeReports(ctx, env, d, raw)
		vacationHook(ctx, env, d, raw)
	}
	a.Deliver.Quota = &quota.Watcher{Store: st, Notify: a.Notify, Thresholds: quota.DefaultThresholds(), Logger: log}
	cal, err := workdays.Shipped()
	if err != nil {
		return nil, err
	}
	// Operators' edits of the working-day calendar (C3, C4) live in the data directory.
	if err := cal.LoadFile(cfg.DataDir); err != nil {
		return nil, err
	}
	lp := lifecycle.DefaultPolicy()
	// R11.4: accounts a create request makes get the configured quota, as
	// those made in the portal or the API do.
	lp.QuotaBytes = cfg.Policy.QuotaBytes
	a.Life = &lifecycle.Service{Store: st, Clock: clk, Calendar: cal, Notify: a.Notify, Directory: a.Dir,
		Policy: lp, Passwords: pol, Logger: log.With("component", "lifecycle"),
		WebURL: cfg.WebURL, Support: cfg.Support}
	a.Outage = &outage.Service{Store: st, Notify: a.Notify, Clock: clk, Logger: log.With("component", "outage")}
	a.Reports = &report.Monthly{Builder: &report.Builder{Store: st, Clock: clk}, Calendar: cal, Deliverer: a.Deliver,
		Domain: cfg.Domains[0], Recipients: cfg.Reports.MonthlyTo, Logger: log.With("component", "report")}
	if err := a.newOutbound(); err != nil {
		return nil, err
	}
	return a, nil
}

// Start opens every configured listener and serves in the background; with
// jobs set it also runs the daily jobs until ctx ends.
func (a *App) Start(ctx context.Context) error {
	a.ctx = ctx
	certFile, keyFile := CertFiles(a.Cfg)
	if a.Cfg.TLS.CertFile == "" {
		if created, err := tlsutil.EnsureSelfSigned(certFile, keyFile, a.Cfg.Hostname); err != nil {
			return err
		} else if created {
			a.Log.Info("self-signed certificate created", "file", certFile, "host", a.Cfg.Hostname)
		}
	}
	rl, err := tlsutil.NewReloader(certFile, keyFile, a.Log)
	if err != nil {
		return err
	}
	tlsCfg := tlsutil.ServerConfig(rl.GetCertificate)

	a.smtp = smtpd.New(smtpd.Config{
		Hostname:        a.Cfg.Hostname,
		Domains:         a.Cfg.Domains,
		MaxMessageBytes: a.Cfg.SMTP.MaxMessageBytes,
		MaxRecipients:   a.Cfg.SMTP.MaxRecipients,
		MaxLineLength:   a.Cfg.SMTP.MaxLineLength,
		ReadTimeout:     a.Cfg.SMTP.ReadTimeout.Duration,
		WriteTimeout:    a.Cfg.SMTP.WriteTimeout.Duration,
		TLSConfig:       tlsCfg,
	}, a.Store, a.Auth, a.Deliver, a.Clock, a.Log.With("service", "smtp"), a.Metrics)
	a.smtp.OnInfected = a.onInfected
	a.smtp.Queue = a.queue
	a.smtp.MailAuth = a.mailAuth
	a.smtp.DMARCEnforce = a.Cfg.Inbound.DMARCEnforce
	if a.sendingAuthReports() {
		a.smtp.DMARCReports = a.AuthReports
	}
	a.smtp.Limits = a.limits
	a.smtp.OnLimit = a.onLimit

	a.pop3 = &pop3.Server{
		Backend: &pop3d.Backend{Store: a.Store, Auth: a.Auth, OnAuth: func(err error) {
			a.Metrics.AuthResults.WithLabelValues("pop3", auth.ResultLabel(err)).Inc()
		}},
		Hostname:  a.Cfg.Hostname,
		TLSConfig: tlsCfg,
		Logger:    a.Log.With("service", "pop3"),
		Expire:    "NEVER",
	}

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.Metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.Store.Check(r.Context()); err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// R3.1: people reaching the plain HTTP port are sent to HTTPS; monitoring
	// keeps /metrics and /healthz here.
	mux.Handle("/", web.RedirectHTTPS(a.Cfg.WebURL))
	a.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if a.https, err = a.newWeb(tlsCfg); err != nil {
		return err
	}

	imapSrv, imapServe, imapServeTLS, err := a.newIMAP(tlsCfg)
	if err != nil {
		return err
	}
	a.imap = imapSrv
	a.ldap, err = ldapd.New(ldapd.Options{Store: a.Store, Auth: a.Auth, Logger: a.Log.With("service", "ldap"),
		TLSConfig: tlsCfg, Domain: a.Cfg.Domains[0]})
	if err != nil {
		return err
	}

	type svc struct {
		name  string
		addrs []string
		serve func(net.Listener) error
	}
	svcs := []svc{
		{"smtp", a.Cfg.Listen.SMTP, func(l net.Listener) error { return a.smtp.Serve(l, smtpd.ModeMX) }},
		{"submission", a.Cfg.Listen.Submission, func(l net.Listener) error { return a.smtp.Serve(l, smtpd.ModeSubmission) }},
		{"submissions", a.Cfg.Listen.SubmissionTLS, func(l net.Listener) error { return a.smtp.Serve(l, smtpd.ModeSubmissionTLS) }},
		{"imap", a.Cfg.Listen.IMAP, imapServe},
		{"imaps", a.Cfg.Listen.IMAPTLS, imapServeTLS},
		{"pop3", a.Cfg.Listen.POP3, a.pop3.Serve},
		{"pop3s", a.Cfg.Listen.POP3TLS, a.pop3.ServeTLS},
		{"ldap", a.Cfg.Listen.LDAP, a.ldap.Serve},
		{"ldaps", a.Cfg.Listen.LDAPS, a.ldap.ServeTLS},
		{"http", a.Cfg.Listen.HTTP, a.http.Serve},
		{"https", a.Cfg.Listen.HTTPS, func(l net.Listener) error { return a.https.ServeTLS(l, "", "") }},
	}
	for _, s := range svcs {
		if s.serve == nil {
			continue
		}
		var bound int
		var firstErr error
		for _, addr := range s.addrs {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				// IPv6 may be absent on a host; one address of a service is enough
				// to run, and the warning says what is missing (N5).
				a.Log.Warn("listener not opened", "service", s.name, "addr", addr, "err", err)
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			bound++
			a.mu.Lock()
			a.listeners = append(a.listeners, ln)
			a.Addrs[s.name] = append(a.Addrs[s.name], ln.Addr().String())
			a.mu.Unlock()
			go func(name string, ln net.Listener, serve func(net.Listener) error) {
				if err := serve(ln); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, pop3.ErrServerClosed) && !errors.Is(err, imapd.ErrServerClosed) {
					a.Log.Error("listener stopped", "service", name, "addr", ln.Addr().String(), "err", err)
				}
			}(s.name, ln, s.serve)
		}
		if len(s.addrs) > 0 && bound == 0 {
			a.Shutdown(context.Background())
			return fmt.Errorf("%s: no address could be opened: %w", s.name, firstErr)
		}
	}
	a.runQueue(ctx)
	if a.sendingAuthReports() {
		fctx, stop := context.WithCancel(ctx)
		a.flushStop = stop
		go a.flushAuthReports(fctx)
	}
	if a.Cfg.DailyJobsAt != "" && !a.NoJobs {
		go a.runDailyJobs(ctx)
		if a.sendingAuthReports() {
			go a.runAuthReports(ctx)
		}
	}
	return nil
}

// Shutdown stops accepting, lets SMTP transactions finish until ctx ends, closes
// sessions and then the store.
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	if a.smtp != nil {
		errs = append(errs, a.smtp.Shutdown(ctx))
	}
	if a.pop3 != nil {
		errs = append(errs, a.pop3.Shutdown(ctx))
	}
	if a.http != nil {
		errs = append(errs, a.http.Shutdown(ctx))
	}
	if a.https != nil {
		errs = append(errs, a.https.Shutdown(ctx))
	}
	if a.webmail != nil {
		errs = append(errs, a.webmail.Close())
	}
	if a.imap != nil {
		errs = append(errs, a.imap.Close())
	}
	if a.ldap != nil {
		errs = append(errs, a.ldap.Close())
	}
	if a.queueStop != nil {
		a.queueStop(ctx)
	}
	if a.flushStop != nil {
		a.flushStop()
	}
	if err := a.AuthReports.Flush(ctx); err != nil {
		errs = append(errs, err)
	}
	a.mu.Lock()
	for _, ln := range a.listeners {
		ln.Close()
	}
	a.mu.Unlock()
	errs = append(errs, a.Store.Close())
	return errors.Join(errs...)
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
