package app

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"time"

	"govmail/internal/api"
	"govmail/internal/autoconfig"
	"govmail/internal/delivery"
	"govmail/internal/held"
	"govmail/internal/queue"
	"govmail/internal/store"
	"govmail/internal/web"
)

// queueOutbound hands webmail's mail for other domains to the queue.
type queueOutbound struct {
	q             *queue.Queue
	maxAttachment int64
}

func (o queueOutbound) Submit(ctx context.Context, m web.OutboundMessage) error {
	if err := delivery.CheckAttachments(m.Raw, o.maxAttachment); err != nil {
		return err
	}
	rcpts := make([]queue.Recipient, len(m.Recipients))
	for i, r := range m.Recipients {
		rcpts[i] = queue.Recipient{Address: r}
	}
	_, err := o.q.Submit(ctx, &queue.Submission{From: m.From, Recipients: rcpts, AuthUser: m.AuthUser, ClientIP: m.ClientIP,
		ClientHelo: "webmail", Proto: "HTTPS", Body: m.Raw})
	if err == nil {
		o.q.Wake()
	}
	return err
}

// webSendGuard applies the sending limits of R17.2 to webmail as smtpd does.
func (a *App) webSendGuard(ctx context.Context, acct *store.Account, rcpts []string, raw []byte) (bool, error) {
	if a.limits == nil || a.queue == nil {
		return false, nil
	}
	d := a.limits.Submit(acct.Address, len(rcpts))
	if d.Allowed {
		return false, nil
	}
	qr := make([]queue.Recipient, len(rcpts))
	for i, r := range rcpts {
		qr[i] = queue.Recipient{Address: r}
	}
	if _, err := a.queue.Submit(ctx, &queue.Submission{From: acct.Address, Recipients: qr, AuthUser: acct.Address,
		ClientHelo: "webmail", Proto: "HTTPS", Body: raw, Hold: "compromised"}); err != nil {
		return false, err
	}
	a.onLimit(ctx, acct, d.Evidence())
	return true, nil
}

// newWeb builds the HTTPS server: webmail, and the MTA-STS policy for the host
// mta-sts.<domain> (RFC 8461).
func (a *App) newWeb(tlsCfg *tls.Config) (*http.Server, error) {
	deps := web.Deps{Store: a.Store, Auth: a.Auth, Deliverer: a.Deliver, Clock: a.Clock, Logger: a.Log.With("service", "web"), Config: a.Cfg,
		Notices: a.outageBanner, Dir: a.Dir, Life: a.Life, Outage: a.Outage, Reports: a.Reports.Builder, Calendar: a.Life.Calendar,
		Held: &held.Service{Store: a.Store, Clock: a.Clock, Logger: a.Log.With("component", "held")}, Report: a.onReport}
	roots, err := smimeRoots(a.Cfg.Security.SMIMERoots)
	if err != nil {
		return nil, err
	}
	key, err := smimeSecret(a.Cfg.DataDir)
	if err != nil {
		return nil, err
	}
	deps.SMIMERoots, deps.SMIMEKey = roots, key
	if a.Cfg.Database.Driver == "postgres" {
		// Several nodes: a session started on one is good on every other.
		deps.Sessions = web.NewStoreSessions(a.Store, a.Clock, 0, 0)
	}
	if a.queue != nil {
		deps.Outbound = queueOutbound{q: a.queue, maxAttachment: a.Cfg.SMTP.MaxAttachmentBytes}
		deps.SendGuard = a.webSendGuard
	}
	ws, err := web.New(deps)
	if err != nil {
		return nil, err
	}
	a.webmail = ws
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", api.New(api.Deps{Store: a.Store, Auth: a.Auth, Dir: a.Dir, Life: a.Life, Clock: a.Clock,
		Logger: a.Log.With("service", "api"), Config: a.Cfg, Session: ws.SessionAccount}))
	autoconfig.New(autoconfig.FromConfig(a.Cfg), a.Log.With("service", "autoconfig")).Register(mux)
	mux.Handle("/", ws)
	sts := queue.STSHandler(queue.OwnPolicy(a.Cfg.Hostname))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(strings.ToLower(r.Host), "mta-sts.") {
			sts.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return &http.Server{Handler: h, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}, nil
}

// outageBanner gives webmail the outage notices in force (R14.1).
func (a *App) outageBanner(ctx context.Context) ([]web.Notice, error) {
	ns, err := a.Outage.Active(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.Notice, len(ns))
	for i, n := range ns {
		out[i] = web.Notice{VI: n.BannerVI(), EN: n.BannerEN()}
	}
	return out, nil
}
