// Package autoconfig owns client autoconfiguration: the documents mail programs
// fetch to set themselves up from an address alone — Thunderbird's autoconfig
// XML, Outlook's autodiscover (POX) and an Apple configuration profile — so that
// a civil servant types their address and password and nothing else.
//
// The servers, ports and security it advertises come from the configuration's
// listeners: implicit TLS first (993, 465, 995 in production), STARTTLS as the
// alternative. It never looks an account up (an address in a request reveals
// nothing about whether it exists) and never hands out a password.
package autoconfig

import (
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"govmail/internal/config"
)

// Security is how a client protects a connection.
type Security string

// Securities: implicit TLS on connect, or STARTTLS after the greeting.
const (
	TLS      Security = "tls"
	STARTTLS Security = "starttls"
)

// Server is one way in: a protocol on a port with its security.
type Server struct {
	Host     string
	Port     int
	Security Security
}

// Settings is what every document advertises.
type Settings struct {
	Hostname    string
	Domains     []string
	DisplayName string
	// Each list is in order of preference; empty when the service is off.
	IMAP, POP3, SMTP []Server
}

// Production ports of the implicit-TLS services (N1): advertised whenever a
// configured listener uses them.
const (
	PortIMAPS       = 993
	PortSubmissions = 465
	PortPOP3S       = 995
)

// FromConfig works the settings out of govmail.toml: the hostname, the mail
// domains, and for each protocol the implicit-TLS listener (its production port
// when one listener has it, else the first configured) before the STARTTLS one.
func FromConfig(cfg config.Config) Settings {
	s := Settings{Hostname: cfg.Hostname, Domains: cfg.Domains}
	if len(cfg.Domains) > 0 {
		s.DisplayName = "Thư điện tử công vụ " + cfg.Domains[0]
	}
	add := func(list *[]Server, addrs []string, prod int, sec Security) {
		if p := pickPort(addrs, prod); p != 0 {
			*list = append(*list, Server{Host: cfg.Hostname, Port: p, Security: sec})
		}
	}
	l := cfg.Listen
	add(&s.IMAP, l.IMAPTLS, PortIMAPS, TLS)
	add(&s.IMAP, l.IMAP, 143, STARTTLS)
	add(&s.POP3, l.POP3TLS, PortPOP3S, TLS)
	add(&s.POP3, l.POP3, 110, STARTTLS)
	add(&s.SMTP, l.SubmissionTLS, PortSubmissions, TLS)
	add(&s.SMTP, l.Submission, 587, STARTTLS)
	return s
}

// pickPort returns prod when a listener uses it, else the first listener's
// port, else 0.
func pickPort(addrs []string, prod int) int {
	var ports []int
	for _, a := range addrs {
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			continue
		}
		ports = append(ports, n)
	}
	if len(ports) == 0 {
		return 0
	}
	if slices.Contains(ports, prod) {
		return prod
	}
	return ports[0]
}

// Handler serves the autoconfiguration documents.
type Handler struct {
	s   Settings
	log *slog.Logger
	mux *http.ServeMux
}

// Paths are where the documents live; Register mounts them all.
const (
	PathWellKnown    = "/.well-known/autoconfig/mail/config-v1.1.xml"
	PathThunderbird  = "/mail/config-v1.1.xml"
	PathAutodiscover = "/autodiscover/autodiscover.xml"
	// PathAutodiscoverCap is the spelling Outlook uses.
	PathAutodiscoverCap = "/Autodiscover/Autodiscover.xml"
	PathApple           = "/apple/govmail.mobileconfig"
)

// New builds the handler.
func New(s Settings, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{s: s, log: log.With("component", "autoconfig"), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET "+PathWellKnown, h.thunderbird)
	h.mux.HandleFunc("GET "+PathThunderbird, h.thunderbird)
	h.mux.HandleFunc("POST "+PathAutodiscover, h.autodiscover)
	h.mux.HandleFunc("POST "+PathAutodiscoverCap, h.autodiscover)
	h.mux.HandleFunc("GET "+PathApple, h.apple)
	return h
}

// Register mounts the handler at each of its paths on mux (the web root).
func (h *Handler) Register(mux *http.ServeMux) {
	for _, p := range []string{PathWellKnown, PathThunderbird, PathAutodiscover, PathAutodiscoverCap, PathApple} {
		mux.Handle(p, h)
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// ourAddress tells whether addr is an address of one of our domains; the
// documents describe our servers only.
func (h *Handler) ourAddress(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 || strings.ContainsAny(addr, " \t\r\n<>\"") {
		return false
	}
	dom := addr[at+1:]
	for _, d := range h.s.Domains {
		if strings.EqualFold(d, dom) {
			return true
		}
	}
	return false
}
