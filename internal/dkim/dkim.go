// Package dkim owns the DKIM keys of our mail domains and the signing of
// outbound mail (RFC 6376, with Ed25519 of RFC 8463 beside RSA-2048 so that
// verifiers that know only RSA still see a valid signature). Keys live as PEM
// files under one directory, one sub-directory per domain, with a small state
// file; they are made at setup and rotated in three steps (publish the next
// pair, switch to it, retire the old one) so that no signature is ever made
// with a key DNS does not yet publish. It never verifies mail (mailauth does).
package dkim

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"govmail/internal/address"
)

// Algorithms.
const (
	Ed25519 = "ed25519"
	RSA     = "rsa"
)

// Key states: a key is published in DNS in every state; only active keys sign.
const (
	StateNext     = "next"     // published, waiting for DNS to carry it
	StateActive   = "active"   // signs
	StateRetiring = "retiring" // published so that mail in flight still verifies
)

// Key is one signing key of a domain.
type Key struct {
	Domain    string    `json:"-"`
	Selector  string    `json:"selector"`
	Algorithm string    `json:"algorithm"`
	State     string    `json:"state"`
	Created   time.Time `json:"created"`
	signer    crypto.Signer
}

// DNSName is where the public key is published.
func (k *Key) DNSName() string { return k.Selector + "._domainkey." + k.Domain }

// TXT is the DNS record text (RFC 6376 3.6.1).
func (k *Key) TXT() string {
	switch pub := k.signer.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		der, _ := x509.MarshalPKIXPublicKey(pub)
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
}

// ZoneTXT is the record as a zone-file line, the text split in strings of at
// most 255 octets as TXT requires (an RSA-2048 key is longer).
func (k *Key) ZoneTXT(ttl int) string {
	txt := k.TXT()
	var parts []string
	for len(txt) > 255 {
		parts = append(parts, `"`+txt[:255]+`"`)
		txt = txt[255:]
	}
	parts = append(parts, `"`+txt+`"`)
	return fmt.Sprintf("%s. %d IN TXT ( %s )", k.DNSName(), ttl, strings.Join(parts, " "))
}

// Keyring holds the keys of every domain, loaded from Dir.
type Keyring struct {
	Dir string

	mu   sync.RWMutex
	keys map[string][]*Key // domain → keys
}

// Open loads every domain's keys from dir (which may not exist yet).
func Open(dir string) (*Keyring, error) {
	k := &Keyring{Dir: dir, keys: map[string][]*Key{}}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		keys, err := loadDomain(filepath.Join(dir, e.Name()), e.Name())
		if err != nil {
			return nil, err
		}
		k.keys[e.Name()] = keys
	}
	return k, nil
}

func loadDomain(dir, domain string) ([]*Key, error) {
	b, err := os.ReadFile(filepath.Join(dir, "keys.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dkim %s: %w", domain, err)
	}
	var keys []*Key
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("dkim %s/keys.json: %w", domain, err)
	}
	for _, k := range keys {
		k.Domain = domain
		pemb, err := os.ReadFile(filepath.Join(dir, k.Selector+".pem"))
		if err != nil {
			return nil, fmt.Errorf("dkim %s: %w", domain, err)
		}
		blk, _ := pem.Decode(pemb)
		if blk == nil {
			return nil, fmt.Errorf("dkim %s/%s.pem: no PEM block", domain, k.Selector)
		}
		priv, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("dkim %s/%s.pem: %w", domain, k.Selector, err)
		}
		s, ok := priv.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("dkim %s/%s.pem: not a signing key", domain, k.Selector)
		}
		k.signer = s
	}
	return keys, nil
}

// Keys returns a domain's keys (every state), newest first.
func (r *Keyring) Keys(domain string) []*Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := append([]*Key(nil), r.keys[strings.ToLower(domain)]...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}

// Ensure gives every domain without keys an active Ed25519 and RSA-2048 pair
// (setup); it returns the keys it made.
func (r *Keyring) Ensure(domains []string, now time.Time) ([]*Key, error) {
	var made []*Key
	for _, d := range domains {
		d = strings.ToLower(d)
		if len(r.Keys(d)) > 0 {
			continue
		}
		ks, err := r.generate(d, StateActive, now)
		if err != nil {
			return made, err
		}
		made = append(made, ks...)
	}
	return made, nil
}

// Rotate moves a domain one step: without a next pair it makes one (publish it,
// then rotate again once DNS carries it); with one, the next pair becomes
// active and the active pair retiring. It returns the keys whose state changed.
func (r *Keyring) Rotate(domain string, now time.Time) ([]*Key, error) {
	domain = strings.ToLower(domain)
	var next []*Key
	for _, k := range r.Keys(domain) {
		if k.State == StateNext {
			next = append(next, k)
		}
	}
	if len(next) == 0 {
		return r.generate(domain, StateNext, now)
	}
	r.mu.Lock()
	var changed []*Key
	for _, k := range r.keys[domain] {
		switch k.State {
		case StateActive:
			k.State = StateRetiring
			changed = append(changed, k)
		case StateNext:
			k.State = StateActive
			changed = append(changed, k)
		}
	}
	err := r.saveLocked(domain)
	r.mu.Unlock()
	return changed, err
}

// Retire removes a domain's retiring keys (after mail signed with them has
// been delivered: a few days) and returns them; their DNS records can go.
func (r *Keyring) Retire(domain string) ([]*Key, error) {
	domain = strings.ToLower(domain)
	r.mu.Lock()
	defer r.mu.Unlock()
	var kept, gone []*Key
	for _, k := range r.keys[domain] {
		if k.State == StateRetiring {
			gone = append(gone, k)
		} else {
			kept = append(kept, k)
		}
	}
	r.keys[domain] = kept
	if err := r.saveLocked(domain); err != nil {
		return nil, err
	}
	for _, k := range gone {
		os.Remove(filepath.Join(r.Dir, domain, k.Selector+".pem"))
	}
	return gone, nil
}

// generate makes an Ed25519 and an RSA-2048 key in state.
func (r *Keyring) generate(domain, state string, now time.Time) ([]*Key, error) {
	dir := filepath.Join(r.Dir, domain)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var made []*Key
	for _, g := range []struct {
		alg    string
		prefix string
		s      crypto.Signer
	}{{Ed25519, "ed", edPriv}, {RSA, "rsa", rsaPriv}} {
		sel := r.freeSelectorLocked(domain, g.prefix+now.Format("20060102"))
		der, err := x509.MarshalPKCS8PrivateKey(g.s)
		if err != nil {
			return nil, fmt.Errorf("dkim: %w", err)
		}
		if err := writeFile(filepath.Join(dir, sel+".pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
			return nil, err
		}
		k := &Key{Domain: domain, Selector: sel, Algorithm: g.alg, State: state, Created: now, signer: g.s}
		r.keys[domain] = append(r.keys[domain], k)
		made = append(made, k)
	}
	return made, r.saveLocked(domain)
}

func (r *Keyring) freeSelectorLocked(domain, base string) string {
	taken := map[string]bool{}
	for _, k := range r.keys[domain] {
		taken[k.Selector] = true
	}
	sel := base
	for n := 2; taken[sel]; n++ {
		sel = fmt.Sprintf("%s-%d", base, n)
	}
	return sel
}

func (r *Keyring) saveLocked(domain string) error {
	b, err := json.MarshalIndent(r.keys[domain], "", "  ")
	if err != nil {
		return fmt.Errorf("dkim: %w", err)
	}
	return writeFile(filepath.Join(r.Dir, domain, "keys.json"), b)
}

// writeFile replaces path atomically, readable by the owner only (private keys).
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("dkim: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("dkim: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("dkim: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("dkim: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dkim: %w", err)
	}
	return nil
}

// SignedHeaders are the fields signed (RFC 6376 5.4.1). From is listed twice
// so that a second From added in transit breaks the signature (over-signing).
var SignedHeaders = []string{
	"From", "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Sender", "List-Unsubscribe",
}

// Sign prepends a DKIM-Signature for every active key of the domain of the
// header From (or of its nearest parent with keys). Mail of a domain without
// keys is returned unchanged.
func (r *Keyring) Sign(raw []byte) ([]byte, error) {
	domain := FromDomain(raw)
	var keys []*Key
	for d := domain; d != ""; {
		for _, k := range r.Keys(d) {
			if k.State == StateActive {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			break
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(rest, ".") {
			break
		}
		d = rest
	}
	if len(keys) == 0 {
		return raw, nil
	}
	var sigs []byte
	// RSA first so that the Ed25519 signature is on top: verifiers that try
	// signatures in order meet the modern one first.
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Algorithm == RSA && keys[j].Algorithm != RSA })
	for _, k := range keys {
		s, err := msgdkim.NewSigner(&msgdkim.SignOptions{
			Domain: k.Domain, Selector: k.Selector, Signer: k.signer, Hash: crypto.SHA256,
			HeaderCanonicalization: msgdkim.CanonicalizationRelaxed, BodyCanonicalization: msgdkim.CanonicalizationRelaxed,
			HeaderKeys: SignedHeaders,
		})
		if err != nil {
			return nil, fmt.Errorf("dkim sign %s: %w", k.Selector, err)
		}
		if _, err := s.Write(raw); err != nil {
			s.Close()
			return nil, fmt.Errorf("dkim sign %s: %w", k.Selector, err)
		}
		if err := s.Close(); err != nil {
			return nil, fmt.Errorf("dkim sign %s: %w", k.Selector, err)
		}
		// Each signature goes above those made before it.
		sigs = append([]byte(s.Signature()), sigs...)
	}
	return append(sigs, raw...), nil
}

// FromDomain returns the lower-case domain of the header From of raw, ""
// when there is none or more than one address (such mail is not signed, and
// DMARC treats it as failing).
func FromDomain(raw []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	v := msg.Header.Get("From")
	if v == "" {
		return ""
	}
	addr := ""
	if list, err := msg.Header.AddressList("From"); err == nil {
		if len(list) != 1 {
			return ""
		}
		addr = list[0].Address
	} else {
		// An undecodable display name (a legacy charset) still has its address.
		if i := strings.LastIndexByte(v, '<'); i >= 0 {
			v = v[i+1:]
			if j := strings.IndexByte(v, '>'); j >= 0 {
				v = v[:j]
			}
		}
		addr = strings.TrimSpace(v)
	}
	return address.Domain(addr)
}
