package testutil

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Real clamd and rspamd for tests (DESIGN decision 7: no mocks of them). The
// daemons are started by scripts/services/{clamd,rspamd}.sh in "run" mode: the
// script writes the offline configuration and then becomes the daemon, so the
// test binary is its parent, waits for it and reaps it. Each test gets its own
// daemon on its own socket or ports; t.Cleanup stops it.

// Start-up limits. clamd loads the test database in ~0.1 s; rspamd's first start
// on a machine compiles hyperscan for ~8 s (much longer on a loaded CI machine),
// later starts use the cache and take under a second.
const (
	clamdStartTimeout  = 60 * time.Second
	rspamdStartTimeout = 240 * time.Second
	stopTimeout        = 20 * time.Second
)

// Clamd is a running clamd.
type Clamd struct {
	// Addr is the unix socket, "unix:/…/clamd.sock".
	Addr string
	// TCPAddr is the loopback TCP address, "127.0.0.1:port".
	TCPAddr string
	// Dir holds the configuration, the signature database and clamd.log.
	Dir  string
	proc *daemon
}

// ClamdOptions adjust a clamd before it starts.
type ClamdOptions struct {
	// StreamMaxLength is clamd's StreamMaxLength ("40M" when empty).
	StreamMaxLength string
}

// StartClamd runs a clamd with the test signatures of scripts/services/clamd.sh
// (EICAR, clam.exe, GOVMAIL-TEST-VIRUS-SIGNATURE) until the test ends, and
// returns its unix socket address for clamd.New.
func StartClamd(t testing.TB) string {
	t.Helper()
	return StartClamdDaemon(t, ClamdOptions{}).Addr
}

// StartClamdDaemon is StartClamd with options, returning the daemon so that a test
// can also use its TCP address or stop it early.
func StartClamdDaemon(t testing.TB, opts ClamdOptions) *Clamd {
	t.Helper()
	requireBinary(t, "clamd")
	dir := shortTempDir(t, "govmail-clamd-")
	port := freePort(t)
	env := []string{}
	if opts.StreamMaxLength != "" {
		env = append(env, "CLAMD_STREAM_MAX="+opts.StreamMaxLength)
	}
	d, vars := startDaemon(t, "clamd", dir, env, port)
	c := &Clamd{Addr: vars["CLAMD_ADDR"], TCPAddr: vars["CLAMD_TCP"], Dir: dir, proc: d}
	if c.Addr == "" || c.TCPAddr == "" {
		d.stop()
		t.Fatalf("clamd.sh printed no address: %v\n%s", vars, tailFile(filepath.Join(dir, "clamd.script.err")))
	}
	sock := strings.TrimPrefix(c.Addr, "unix:")
	err := d.waitReady(clamdStartTimeout, func() error { return clamdPing(sock) })
	if err != nil {
		t.Fatalf("clamd did not start: %v\n%s", err, tailFile(filepath.Join(dir, "clamd.script.err"), filepath.Join(dir, "clamd.log"), filepath.Join(dir, "clamd.out")))
	}
	t.Cleanup(c.Stop)
	return c
}

// Stop stops clamd and waits for it to exit. Calling it again does nothing.
func (c *Clamd) Stop() { c.proc.stop() }

// clamdPing is the readiness probe: zPING answered by PONG.
func clamdPing(sock string) error {
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, "zPING\x00"); err != nil {
		return err
	}
	b, err := bufio.NewReader(conn).ReadBytes(0)
	if err != nil {
		return err
	}
	if string(bytes.TrimRight(b, "\x00")) != "PONG" {
		return fmt.Errorf("PING answered %q", b)
	}
	return nil
}

// Rspamd is a running rspamd.
type Rspamd struct {
	// URL is the scanner worker, "http://127.0.0.1:port" (/checkv2).
	URL string
	// ControllerURL is the controller worker (/learnspam, /learnham, /stat).
	ControllerURL string
	// Password is the controller password ("" when none was set: then rspamd
	// trusts 127.0.0.1 without one).
	Password string
	// Bayes is set when a private redis-server backs the Bayes classifier, so that
	// learning is stored (without it rspamd accepts learn requests and keeps nothing).
	Bayes bool
	// Dir holds the configuration and rspamd.log.
	Dir  string
	proc *daemon
}

// RspamdOptions adjust an rspamd before it starts.
type RspamdOptions struct {
	// Password protects the controller when set.
	Password string
	// NoRedis runs rspamd without redis even when redis-server is installed.
	NoRedis bool
}

// StartRspamd runs an offline rspamd (scripts/services/rspamd.sh) until the test
// ends and returns the URL of its scanner worker.
func StartRspamd(t testing.TB) string {
	t.Helper()
	return StartRspamdDaemon(t, RspamdOptions{}).URL
}

// StartRspamdDaemon is StartRspamd with options, returning the daemon.
func StartRspamdDaemon(t testing.TB, opts RspamdOptions) *Rspamd {
	t.Helper()
	requireBinary(t, "rspamd")
	dir := shortTempDir(t, "govmail-rspamd-")
	port, cport := freePort(t), freePort(t)
	for cport == port {
		cport = freePort(t)
	}
	env := []string{"RSPAMD_PASSWORD=" + opts.Password}
	if opts.NoRedis {
		env = append(env, "RSPAMD_REDIS=no")
	}
	d, vars := startDaemon(t, "rspamd", dir, env, port, cport)
	r := &Rspamd{URL: vars["RSPAMD_URL"], ControllerURL: vars["RSPAMD_CONTROLLER_URL"], Password: opts.Password, Dir: dir, proc: d}
	if pid := vars["RSPAMD_REDIS_PID"]; pid != "" {
		r.Bayes = true
		d.extraPIDs = append(d.extraPIDs, pid)
	}
	if r.URL == "" || r.ControllerURL == "" {
		d.stop()
		t.Fatalf("rspamd.sh printed no URL: %v\n%s", vars, tailFile(filepath.Join(dir, "rspamd.script.err")))
	}
	client := &http.Client{Timeout: 2 * time.Second}
	err := d.waitReady(rspamdStartTimeout, func() error {
		for _, u := range []string{r.ControllerURL, r.URL} {
			if err := httpPing(client, u+"/ping"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("rspamd did not start: %v\n%s", err, tailFile(filepath.Join(dir, "rspamd.script.err"), filepath.Join(dir, "rspamd.out"), filepath.Join(dir, "rspamd.log")))
	}
	t.Cleanup(r.Stop)
	return r
}

// Stop stops rspamd (and its redis) and waits for it to exit. Calling it again
// does nothing.
func (r *Rspamd) Stop() { r.proc.stop() }

func httpPing(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("pong")) {
		return fmt.Errorf("%s: %s %q", url, resp.Status, b)
	}
	return nil
}

// daemon is a service process the test binary is the parent of.
type daemon struct {
	t         testing.TB
	name      string
	cmd       *exec.Cmd
	exited    chan struct{} // closed when cmd.Wait returned
	waitErr   error
	extraPIDs []string // processes the script started beside the daemon (redis)
	stopOnce  sync.Once
}

// requireBinary skips the test when name is not installed, or fails it under CI,
// where scripts/test.sh must have installed it.
func requireBinary(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return
		}
	}
	Missing(t, "%s is not installed: run scripts/test.sh (as root it installs clamav-daemon clamdscan clamav-testfiles rspamd unbound)", name)
}

// startDaemon runs "scripts/services/NAME.sh run DIR ARGS…", reads the KEY=VALUE
// lines it prints before it becomes the daemon, and returns the process.
func startDaemon(t testing.TB, name, dir string, env []string, ports ...int) (*daemon, map[string]string) {
	t.Helper()
	var args []string
	for _, p := range ports {
		args = append(args, fmt.Sprint(p))
	}
	return startDaemonArgs(t, name, dir, env, args...)
}

// startDaemonArgs is startDaemon with the script's arguments after DIR as given.
func startDaemonArgs(t testing.TB, name, dir string, env []string, extra ...string) (*daemon, map[string]string) {
	t.Helper()
	script := filepath.Join(repoRoot(t), "scripts", "services", name+".sh")
	args := append([]string{script, "run", dir}, extra...)
	cmd := exec.Command("bash", args...)
	cmd.Env = append(os.Environ(), env...)
	// PATH may lack the sbin directories (clamd is in /usr/sbin).
	cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	// Pdeathsig: if the test binary dies (panic, timeout), the kernel stops the
	// daemon, which t.Cleanup can then no longer do.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	errFile, err := os.Create(filepath.Join(dir, name+".script.err"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd.Stderr = errFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	d := &daemon{t: t, name: name, cmd: cmd, exited: make(chan struct{})}
	// Read until EOF, which comes when the script execs the daemon with its
	// output sent to a log file (or when the script fails).
	vars := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	go func() {
		d.waitErr = cmd.Wait()
		close(d.exited)
	}()
	return d, vars
}

// waitReady polls probe until it succeeds, the daemon exits or the limit passes.
func (d *daemon) waitReady(limit time.Duration, probe func() error) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = probe(); last == nil {
			return nil
		}
		select {
		case <-d.exited:
			d.stop()
			return fmt.Errorf("%s exited: %v (last probe: %v)", d.name, d.waitErr, last)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			d.stop()
			return fmt.Errorf("%s not ready after %v: %v", d.name, limit, last)
		}
	}
}

// stop sends SIGTERM, waits for the exit, and kills after stopTimeout.
func (d *daemon) stop() { d.stopOnce.Do(d.doStop) }

func (d *daemon) doStop() {
	select {
	case <-d.exited:
	default:
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(stopTimeout):
			d.t.Logf("%s did not stop within %v; killing it", d.name, stopTimeout)
			d.cmd.Process.Kill()
			<-d.exited
		}
	}
	for _, p := range d.extraPIDs {
		var pid int
		if _, err := fmt.Sscan(p, &pid); err != nil || pid <= 0 {
			continue
		}
		syscall.Kill(pid, syscall.SIGTERM)
		// Not our child, so no Wait: poll until it is gone, so that it does not
		// write into a directory t.Cleanup is removing.
		deadline := time.Now().Add(stopTimeout)
		for processAlive(pid) {
			if time.Now().After(deadline) {
				syscall.Kill(pid, syscall.SIGKILL)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// processAlive reports whether pid runs; a zombie (exited, not yet reaped by its
// new parent) counts as gone.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// shortTempDir makes a directory directly under the system temp dir: a unix
// socket path must stay under 108 bytes, which t.TempDir() (named after the test)
// can exceed. rspamd's workers run as _rspamd, so the directory must not sit
// inside a 0700 one either.
func shortTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// freePort asks the kernel for an unused loopback port. The port is free again
// when the daemon binds it; another process could take it in between, and then
// the daemon exits and the test fails with its log.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// repoRoot finds the module root (the directory with go.mod) above the working
// directory, which go test sets to the package's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// tailFile returns the last lines of the given logs for a failure message.
func tailFile(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 30 {
			lines = lines[len(lines)-30:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", p, strings.Join(lines, "\n"))
	}
	return b.String()
}
