package imapd

import (
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// go-imap flushes its buffer after every response line, so FETCH 1:* of 10,000
// messages costs 10,000 TLS records and 10,000 write system calls: more than
// twice the 50 ms budget on its own. The backend cannot change that without a
// fork, but it owns the connection underneath: a session corks its connection
// while one of its commands writes many lines (FETCH, LIST, the updates of a
// poll) and uncorks when the command's data is written, so the lines leave in
// a few large writes. The tagged reply, written by the library after the
// backend returns, goes out as before, so nothing waits.

const (
	// corkMax bounds what a corked connection holds; beyond it, it writes.
	corkMax = 64 << 10
	// corkWriteTimeout bounds a flush, as imapserver bounds its own writes.
	corkWriteTimeout = 30 * time.Second
)

// corkListener wraps every accepted connection in a corkConn.
type corkListener struct {
	net.Listener
	pool *sync.Pool // of *[]byte, corkMax capacity
}

func (l corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if _, ok := c.(*tls.Conn); ok {
		// A listener that already speaks TLS: imapserver must see the
		// *tls.Conn itself to allow logins, so it stays unwrapped (and uncorked).
		return c, nil
	}
	return &corkConn{Conn: c, pool: l.pool}, nil
}

// corkConn is the raw TCP connection under TLS (STARTTLS or implicit). The
// buffer is taken from a pool only while corked, so an idle connection holds
// none.
type corkConn struct {
	net.Conn
	pool *sync.Pool

	mu  sync.Mutex // TLS may write an alert from another goroutine (Close)
	buf *[]byte    // non-nil while corked
}

// corkOf finds the corkConn under an imapserver connection, if any (a listener
// handed to Serve already wrapped in TLS has none).
func corkOf(nc net.Conn) *corkConn {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	cc, _ := nc.(*corkConn)
	return cc
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return c.Conn.Write(p)
	}
	if len(*c.buf)+len(p) > corkMax {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > corkMax {
			return c.Conn.Write(p)
		}
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// cork starts gathering writes; it is a no-op on a nil corkConn.
func (c *corkConn) cork() {
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// uncork writes what was gathered and returns the buffer to the pool.
func (c *corkConn) uncork() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return nil
	}
	err := c.flushLocked()
	*c.buf = (*c.buf)[:0]
	c.pool.Put(c.buf)
	c.buf = nil
	return err
}

func (c *corkConn) flushLocked() error {
	if len(*c.buf) == 0 {
		return nil
	}
	// The library clears its write deadline after each response it wrote into
	// the buffer; the real write needs one of its own.
	c.Conn.SetWriteDeadline(time.Now().Add(corkWriteTimeout))
	_, err := c.Conn.Write(*c.buf)
	c.Conn.SetWriteDeadline(time.Time{})
	*c.buf = (*c.buf)[:0]
	return err
}

func newCorkPool() *sync.Pool {
	return &sync.Pool{New: func() any {
		b := make([]byte, 0, corkMax)
		return &b
	}}
}
