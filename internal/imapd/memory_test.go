package imapd

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const helperEnv = "IMAPD_HELPER_IDLE_CLIENTS"

// 1,000 idle IMAP connections (logged in, INBOX selected, in IDLE) must cost the
// server less than 50 MB. The clients run in a child process so that only the
// server's memory is measured.
func TestIdleConnectionsMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector inflates memory")
	}
	n := 1000
	if testing.Short() {
		n = 200 // the budget is checked per connection, scaled to 1,000
	}
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	for i := range 20 {
		e.deliver(a, "", simpleMessage("thu "+strconv.Itoa(i), "noi dung"))
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	der := e.srv.tlsConfig.Certificates[0].Certificate[0]
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIdleClients$")
	cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join([]string{e.tlsAddr, strconv.Itoa(n), ca, "an@sonla.gov.vn", pw}, "|"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
	}()
	select {
	case line := <-ready:
		if line != "ready" {
			t.Fatalf("client process: %q\n%s", line, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("client process not ready\n%s", stderr.String())
	}

	inbox := e.mailbox(a, "INBOX").ID
	e.srv.boxes.mu.Lock()
	refs := 0
	if b := e.srv.boxes.open[inbox]; b != nil {
		refs = b.refs
	}
	e.srv.boxes.mu.Unlock()
	if refs != n {
		t.Fatalf("%d sessions have INBOX selected, want %d", refs, n)
	}

	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)
	per := float64(used) / float64(n)
	t.Logf("%d idle connections: %.1f MB (heap %.1f MB, stacks %.1f MB), %.1f KB each; 1,000 cost %.1f MB of the 50 MB budget",
		n, float64(used)/(1<<20), float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<20),
		float64(int64(after.StackInuse)-int64(before.StackInuse))/(1<<20), per/1024, per*1000/(1<<20))
	if per*1000 > 50<<20 {
		t.Errorf("1,000 idle connections would cost %.1f MB, budget 50 MB", per*1000/(1<<20))
	}
}

// TestHelperIdleClients is the child process of TestIdleConnectionsMemory: it
// opens the connections, puts each in IDLE on INBOX, says "ready" and waits
// for its stdin to close.
func TestHelperIdleClients(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("child process of TestIdleConnectionsMemory")
	}
	f := strings.Split(spec, "|")
	addr, caFile, user, pass := f[0], f[2], f[3], f[4]
	n, _ := strconv.Atoi(f[1])
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}

	conns := make([]*tls.Conn, n)
	errs := make(chan error, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c, err := idleClient(addr, cfg, user, pass)
				if err != nil {
					errs <- err
					continue
				}
				conns[i] = c
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

func idleClient(addr string, cfg *tls.Config, user, pass string) (*tls.Conn, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(c)
	steps := []struct{ send, want string }{
		{"", "* OK"},
		{fmt.Sprintf("a LOGIN %q %q\r\n", user, pass), "a OK"},
		{"b SELECT INBOX\r\n", "b OK"},
		{"c IDLE\r\n", "+ "},
	}
	for _, st := range steps {
		if st.send != "" {
			if _, err := io.WriteString(c, st.send); err != nil {
				c.Close()
				return nil, err
			}
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("waiting for %q: %w", st.want, err)
			}
			if strings.HasPrefix(line, st.want) {
				break
			}
			if tag, _, _ := strings.Cut(st.want, " "); tag != "*" && tag != "+" && strings.HasPrefix(line, tag+" ") {
				c.Close()
				return nil, fmt.Errorf("%s: %s", strings.TrimSpace(st.send), line)
			}
		}
	}
	return c, nil
}
