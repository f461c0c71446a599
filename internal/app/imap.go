package app

import (
	"crypto/tls"
	"net"

	"govmail/internal/filter"
	"govmail/internal/imapd"
)

// newIMAP builds the IMAP server over the store and auth.
func (a *App) newIMAP(tlsCfg *tls.Config) (closer, func(net.Listener) error, func(net.Listener) error, error) {
	var learn func([]byte, bool)
	if f := a.Deliver.Filter; f != nil && f.Spam != nil && f.Spam.ControllerURL != "" {
		learn = filter.NewLearner(a.ctx, f.Spam, a.Log.With("component", "learn")).Learn
	}
	srv, err := imapd.New(imapd.Options{
		Learn:       learn,
		Report:      a.onReport,
		Store:       a.Store,
		Auth:        a.Auth,
		Logger:      a.Log.With("service", "imap"),
		TLSConfig:   tlsCfg,
		AppendLimit: uint32(min(a.Cfg.SMTP.MaxMessageBytes, 1<<31)),
		Clock:       a.Clock,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return srv, srv.Serve, srv.ServeTLS, nil
}
