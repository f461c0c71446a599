package app

import (
	"context"
	"fmt"
	"net"
	"path/filepath"

	"github.com/miekg/dns"

	"govmail/internal/dkim"
	"govmail/internal/mailauth"
	"govmail/internal/queue"
	"govmail/internal/sendlimit"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// resolver is the DNS of the configuration: the system's, or a fixed server
// (tests point it at their own, on loopback).
func (a *App) resolver() *net.Resolver {
	if a.Cfg.DNS == "" {
		return net.DefaultResolver
	}
	server := a.Cfg.DNS
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// daneServer is the resolver DANE asks: the configured one, else the first
// of /etc/resolv.conf. With a resolver that does not validate, no answer has
// the AD bit and DANE never applies.
func (a *App) daneServer() string {
	if a.Cfg.DNS != "" {
		return a.Cfg.DNS
	}
	cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil || len(cc.Servers) == 0 {
		a.Log.Warn("DANE off: no resolver in /etc/resolv.conf", "err", err)
		return ""
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port)
}

// newOutbound builds the queue, the DKIM keyring, the inbound checker and the
// sending limits.
func (a *App) newOutbound() error {
	qs, ok := a.Store.(store.QueueStore)
	if !ok {
		return fmt.Errorf("outbound: the store has no queue")
	}
	res := a.resolver()
	if a.Cfg.Inbound.CheckAuth {
		a.mailAuth = &mailauth.Checker{Resolver: res, AuthServID: a.Cfg.Hostname}
	}
	a.limits = sendlimit.New(sendlimit.Config{MessagesPerHour: a.Cfg.Limits.MessagesPerHour,
		RecipientsPerDay: a.Cfg.Limits.RecipientsPerDay, Location: workdays.Location()}, a.Clock)
	if !a.Cfg.Outbound.Enabled {
		return nil
	}
	o := a.Cfg.Outbound
	qc := queue.Config{Hostname: a.Cfg.Hostname, Domains: a.Cfg.Domains, Port: o.Port, Workers: o.Workers, PerDomain: o.PerDomain,
		Lifetime: o.Lifetime.Duration, DelayNotice: o.DelayNotice.Duration, BackoffMin: o.BackoffMin.Duration, BackoffMax: o.BackoffMax.Duration,
		Location: workdays.Location()}
	if o.Smarthost != "" {
		qc.Smarthost = &queue.Smarthost{Addr: o.Smarthost, Username: o.SmarthostUser, Password: o.SmarthostPass, ImplicitTLS: o.SmarthostTLS}
	}
	opts := queue.Options{Config: qc, Store: qs, Resolver: res, Clock: a.Clock, Logger: a.Log.With("component", "queue"),
		Local: &queue.Local{Store: a.Store, Deliverer: a.Deliver, Hostname: a.Cfg.Hostname}}
	if o.DKIMSelectorOn {
		kr, err := dkim.Open(filepath.Join(a.Cfg.DataDir, "dkim"))
		if err != nil {
			return fmt.Errorf("dkim keys: %w", err)
		}
		if _, err := kr.Ensure(a.Cfg.Domains, a.Clock.Now()); err != nil {
			return fmt.Errorf("dkim keys: %w", err)
		}
		opts.Signer = kr
	}
	if a.sendingAuthReports() {
		opts.OnTLS = a.AuthReports.RecordTLS
	}
	if o.DANE {
		if server := a.daneServer(); server != "" {
			opts.DANE = &queue.DNSClient{Server: server}
		}
	}
	if o.MTASTS {
		opts.STS = &queue.STSCache{Resolver: res, Clock: a.Clock}
	}
	q, err := queue.New(opts)
	if err != nil {
		return err
	}
	a.queue = q
	return nil
}

// runQueue delivers until ctx ends; Shutdown waits for it.
func (a *App) runQueue(ctx context.Context) {
	if a.queue == nil {
		return
	}
	qctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	a.queueStop = func(wait context.Context) {
		cancel()
		select {
		case <-done:
		case <-wait.Done():
		}
	}
	go func() {
		defer close(done)
		if err := a.queue.Run(qctx); err != nil && qctx.Err() == nil {
			a.Log.Error("queue stopped", "err", err)
		}
	}()
}

// onLimit locks an account whose sending crossed a limit and holds its queued
// mail (R17.2, Điều 8.2b); the lock notice and this one reach the security contact.
func (a *App) onLimit(ctx context.Context, acc *store.Account, evidence string) {
	ctx = context.WithoutCancel(ctx)
	if err := a.Life.Lock(ctx, acc.ID, store.LockCompromised, "sending limit: "+evidence, "system:sendlimit"); err != nil {
		a.Log.Error("lock after sending limit", "account", acc.Address, "err", err)
	}
	if qs, ok := a.Store.(store.QueueStore); ok {
		if _, err := qs.HoldQueue(ctx, 0, acc.Address, "compromised"); err != nil {
			a.Log.Error("hold queue after sending limit", "account", acc.Address, "err", err)
		}
	}
}
