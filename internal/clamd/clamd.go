// Package clamd is the client of ClamAV's clamd, the virus scanner of Điều 4.2(e)
// and R4.1: it streams a message to clamd (zINSTREAM) and reports the verdict. It
// owns the wire protocol only. It never decides what happens to a message: delivery
// refuses infected mail and defers mail when the scanner is unavailable, and any
// error from Scan means "no verdict", so a caller must never deliver on an error.
package clamd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// Errors. Every failure to get a verdict from clamd wraps ErrUnavailable (a
// temporary condition: defer the message, 451 4.7.1), except a message larger than
// clamd's StreamMaxLength, which wraps ErrSizeLimit (retrying cannot help).
var (
	ErrUnavailable = errors.New("clamd: scanner unavailable")
	ErrSizeLimit   = errors.New("clamd: INSTREAM size limit exceeded")
)

// ChunkSize is the INSTREAM chunk length: clamd reads chunks into a buffer of its
// own, and 64 KiB keeps both sides' buffers small without many round trips.
const ChunkSize = 64 << 10

// DefaultTimeout bounds one request whose context has no deadline, so that a hung
// clamd can never hold an SMTP transaction for ever.
const DefaultTimeout = 2 * time.Minute

// Result is clamd's verdict on one stream.
type Result struct {
	Infected bool
	// Signature names what clamd found, e.g. "Win.Test.EICAR_HDB-1"; custom
	// signatures carry the suffix ".UNOFFICIAL". Empty when clean.
	Signature string
}

// Client talks to one clamd. It holds no connection: clamd serves one command per
// connection unless a session is opened, and a fresh connection per message keeps
// a broken stream from affecting the next message. Safe for concurrent use.
type Client struct {
	network, address string
	dialer           net.Dialer
}

// New makes a client for addr: "unix:/path/to/clamd.sock" (also "unix:///path"),
// "tcp:host:port" or plain "host:port".
func New(addr string) (*Client, error) {
	switch {
	case strings.HasPrefix(addr, "unix://"):
		return newClient("unix", strings.TrimPrefix(addr, "unix://"))
	case strings.HasPrefix(addr, "unix:"):
		return newClient("unix", strings.TrimPrefix(addr, "unix:"))
	case strings.HasPrefix(addr, "tcp://"):
		return newClient("tcp", strings.TrimPrefix(addr, "tcp://"))
	case strings.HasPrefix(addr, "tcp:"):
		return newClient("tcp", strings.TrimPrefix(addr, "tcp:"))
	case strings.HasPrefix(addr, "/"):
		return newClient("unix", addr)
	}
	return newClient("tcp", addr)
}

func newClient(network, address string) (*Client, error) {
	if address == "" {
		return nil, fmt.Errorf("clamd: empty %s address", network)
	}
	if network == "tcp" {
		if _, _, err := net.SplitHostPort(address); err != nil {
			return nil, fmt.Errorf("clamd: address %q: %w", address, err)
		}
	}
	return &Client{network: network, address: address}, nil
}

// Addr returns the address in the form New accepts.
func (c *Client) Addr() string {
	if c.network == "unix" {
		return "unix:" + c.address
	}
	return c.address
}

// Ping checks that clamd answers (zPING → PONG).
func (c *Client) Ping(ctx context.Context) error {
	reply, err := c.command(ctx, "zPING\x00")
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("%w: unexpected PING reply %q", ErrUnavailable, reply)
	}
	return nil
}

// Version returns clamd's version line, e.g. "ClamAV 1.4.6/27500/Tue Nov 25 …"
// (with a database) or "ClamAV 1.4.6".
func (c *Client) Version(ctx context.Context) (string, error) {
	reply, err := c.command(ctx, "zVERSION\x00")
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(reply, "ClamAV ") {
		return "", fmt.Errorf("%w: unexpected VERSION reply %q", ErrUnavailable, reply)
	}
	return reply, nil
}

// command sends a one-line command and reads the one reply.
func (c *Client) command(ctx context.Context, cmd string) (string, error) {
	conn, ctx, stop, err := c.dial(ctx)
	if err != nil {
		return "", err
	}
	defer stop()
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", c.netErr(ctx, "write", err)
	}
	b, err := readReply(conn)
	if err != nil {
		return "", c.netErr(ctx, "read", err)
	}
	return string(b), nil
}

// Scan streams r to clamd and returns its verdict. r is read to its end (or to
// the first error). An infected message is a Result, not an error; an error
// means there is no verdict (see ErrUnavailable and ErrSizeLimit). An error from
// r itself is returned as it is, wrapped.
func (c *Client) Scan(ctx context.Context, r io.Reader) (Result, error) {
	conn, ctx, stop, err := c.dial(ctx)
	if err != nil {
		return Result{}, err
	}
	defer stop()

	werr, rerr := c.stream(conn, r)
	if rerr != nil {
		return Result{}, fmt.Errorf("clamd: reading the message: %w", rerr)
	}
	// Read the reply even after a write error: clamd answers "INSTREAM size limit
	// exceeded" and closes as soon as the stream passes StreamMaxLength, which we
	// see as a broken pipe or a reset while still writing.
	reply, err := readReply(conn)
	if err != nil {
		if werr != nil {
			return Result{}, c.netErr(ctx, "write", werr)
		}
		return Result{}, c.netErr(ctx, "read", err)
	}
	res, err := parseReply(reply)
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// stream writes the INSTREAM command, the chunks and the terminating zero-length
// chunk. It returns the first write error and any error reading r; it stops at
// either.
func (c *Client) stream(conn net.Conn, r io.Reader) (werr, rerr error) {
	if _, err := io.WriteString(conn, "zINSTREAM\x00"); err != nil {
		return err, nil
	}
	buf := make([]byte, 4+ChunkSize)
	for {
		n, err := fill(r, buf[4:])
		if n > 0 {
			binary.BigEndian.PutUint32(buf[:4], uint32(n))
			if _, werr := conn.Write(buf[:4+n]); werr != nil {
				return werr, nil
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	binary.BigEndian.PutUint32(buf[:4], 0)
	if _, err := conn.Write(buf[:4]); err != nil {
		return err, nil
	}
	return nil, nil
}

// fill reads into buf until it is full or r ends. Unlike io.ReadFull it passes
// on r's own io.ErrUnexpectedEOF (an SMTP DATA stream cut short) as an error
// instead of taking it for the end of the message: a truncated message must not
// be scanned and found clean.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// dial connects and arranges for ctx to bound the whole exchange: its deadline
// (DefaultTimeout when it has none) goes on the connection, and cancelling it
// closes the connection. It returns the context that applies; stop releases all.
func (c *Client) dial(ctx context.Context) (net.Conn, context.Context, func(), error) {
	cancel := func() {}
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
	}
	conn, err := c.dialer.DialContext(ctx, c.network, c.address)
	if err != nil {
		err = c.netErr(ctx, "connect", err)
		cancel()
		return nil, nil, nil, err
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stopAfter := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, ctx, func() { stopAfter(); conn.Close(); cancel() }, nil
}

// netErr wraps a network failure as ErrUnavailable, keeping the cause and, when
// the context ended, the context's error.
func (c *Client) netErr(ctx context.Context, op string, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The connection's deadline is the context's; its timer may fire
		// before the context's own.
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil {
		return fmt.Errorf("%w: %s %s: %w (%v)", ErrUnavailable, op, c.Addr(), ctxErr, err)
	}
	return fmt.Errorf("%w: %s %s: %w", ErrUnavailable, op, c.Addr(), err)
}

// maxReply bounds a reply: real ones are one short line, and a peer that is not
// clamd must not make us buffer without end.
const maxReply = 4096

// readReply reads one NUL-terminated reply (the z-prefixed commands' framing); a
// reply cut by EOF is accepted when it has content, since clamd closes the
// connection right after replying.
func readReply(r io.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return append(out, buf[:i]...), nil
		}
		out = append(out, buf[:n]...)
		if len(out) > maxReply {
			return nil, fmt.Errorf("reply longer than %d bytes", maxReply)
		}
		if err != nil {
			if err == io.EOF && len(bytes.TrimSpace(out)) > 0 {
				return out, nil
			}
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// parseReply reads clamd's answer to INSTREAM:
//
//	stream: OK
//	stream: <signature> FOUND
//	INSTREAM size limit exceeded. ERROR
//	<anything else> ERROR
//
// optionally prefixed by a session number ("12: "). Anything else is a protocol
// error, reported as unavailable: we do not know the verdict.
func parseReply(b []byte) (Result, error) {
	s := strings.TrimRight(string(b), "\x00\r\n ")
	s = trimSessionID(s)
	switch {
	case strings.HasSuffix(s, " ERROR") || s == "ERROR":
		msg := strings.TrimSpace(strings.TrimSuffix(s, "ERROR"))
		if strings.Contains(msg, "size limit exceeded") {
			return Result{}, fmt.Errorf("%w: %s", ErrSizeLimit, msg)
		}
		return Result{}, fmt.Errorf("%w: clamd error: %s", ErrUnavailable, printable(msg))
	case !strings.HasPrefix(s, "stream: "):
		return Result{}, fmt.Errorf("%w: unexpected reply %q", ErrUnavailable, printable(s))
	}
	rest := strings.TrimPrefix(s, "stream: ")
	switch {
	case rest == "OK":
		return Result{}, nil
	case strings.HasSuffix(rest, " FOUND"):
		sig := strings.TrimSpace(strings.TrimSuffix(rest, " FOUND"))
		if sig == "" {
			return Result{}, fmt.Errorf("%w: FOUND without a signature name", ErrUnavailable)
		}
		return Result{Infected: true, Signature: printable(sig)}, nil
	}
	return Result{}, fmt.Errorf("%w: unexpected reply %q", ErrUnavailable, printable(s))
}

// trimSessionID drops the "<n>: " prefix clamd puts before replies in an
// IDSESSION; harmless outside one.
func trimSessionID(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && strings.HasPrefix(s[i:], ": ") {
		return s[i+2:]
	}
	return s
}

// printable keeps a signature name or error safe to put in an SMTP reply and a
// log line: printable ASCII only, at most 200 bytes. Real signature names are
// ASCII; anything else comes from a peer that is not clamd.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
