package testutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A private PostgreSQL for tests (DESIGN decision 7: the real server, no mock):
// Debian's binaries under /usr/lib/postgresql/*/bin, a cluster initialised in a
// temporary directory, listening on a free loopback port and on a unix socket in
// that directory, never the system's cluster. scripts/test.sh installs the
// postgresql package when the binaries are missing.

const (
	pgStartTimeout = 60 * time.Second
	pgStopTimeout  = 20 * time.Second
)

// PostgresCluster is a running private cluster. Tests take a fresh database of
// it each (Database), which is much cheaper than a cluster each: one initdb and
// start per test package.
type PostgresCluster struct {
	Dir  string // holds data/, the socket and postgres.log
	Port int
	bin  string
	user string // OS user the server runs as ("" = the current one)

	mu      sync.Mutex
	stopped bool
	nextDB  atomic.Int64
}

// ErrNoPostgres tells that no PostgreSQL binaries are installed.
var ErrNoPostgres = errors.New("PostgreSQL is not installed (apt-get install postgresql)")

// postgresBin finds the newest /usr/lib/postgresql/N/bin holding initdb.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", ErrNoPostgres
	}
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[j]))))
		return vi > vj
	})
	return filepath.Dir(dirs[0]), nil
}

// PostgresOptions adjust a cluster.
type PostgresOptions struct {
	// Durable keeps fsync on, for benchmarks whose figures must include the
	// cost of a durable commit. Tests leave it off: they kill processes, never
	// the machine, and a killed server loses nothing it acknowledged either way.
	Durable bool
}

// StartPostgresCluster initialises and starts a cluster. It is for TestMain,
// which has no *testing.T; the caller stops it with Stop. It returns
// ErrNoPostgres when the binaries are missing.
func StartPostgresCluster(opts PostgresOptions) (*PostgresCluster, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: its parents are 0700 and the server may run as the postgres
	// user; and the socket path must stay short (sun_path is 108 bytes).
	dir, err := os.MkdirTemp("", "govmail-pg-")
	if err != nil {
		return nil, fmt.Errorf("postgres dir: %w", err)
	}
	c := &PostgresCluster{Dir: dir, bin: bin}
	fail := func(err error) (*PostgresCluster, error) {
		c.Stop()
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return fail(err)
	}
	// initdb refuses to run as root: as root, the cluster belongs to the
	// postgres user that the Debian package creates.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fail(fmt.Errorf("running as root needs the postgres user: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, data} {
			if err := os.Chown(p, uid, gid); err != nil {
				return fail(err)
			}
		}
		c.user = "postgres"
	}
	out, err := c.command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput()
	if err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	// A port taken between freePort and the server's bind makes pg_ctl fail;
	// a few tries make that race harmless.
	for try := 0; ; try++ {
		c.Port, err = pgFreePort()
		if err != nil {
			return fail(err)
		}
		sopts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=32MB", c.Port, dir)
		if !opts.Durable {
			sopts += " -c fsync=off -c full_page_writes=off"
		}
		cmd := c.command(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", sopts, "-l", filepath.Join(dir, "postgres.log"),
			"-w", "-t", strconv.Itoa(int(pgStartTimeout/time.Second)), "start")
		out, err = cmd.CombinedOutput()
		if err == nil {
			break
		}
		if try == 2 {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return fail(fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log))
		}
	}
	if err := c.ping(); err != nil {
		return fail(err)
	}
	return c, nil
}

func (c *PostgresCluster) command(name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if c.user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.user, "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	// The server outlives the command (pg_ctl daemonises it): its own process
	// group keeps a test's ^C from reaching it before Stop does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Dir = c.Dir
	return cmd
}

func pgFreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// DSN is the connection string of database db.
func (c *PostgresCluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

func (c *PostgresCluster) ping() error {
	deadline := time.Now().Add(pgStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Database creates an empty database for the test and drops it when the test
// ends; it returns its DSN. A nil cluster skips the test (or fails it under CI).
func (c *PostgresCluster) Database(t testing.TB) string {
	t.Helper()
	if c == nil {
		Missing(t, "%v", ErrNoPostgres)
	}
	name := fmt.Sprintf("govmail_test_%d", c.nextDB.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer conn.Close(ctx)
	// template0 and no locale work: quicker than copying template1 and the
	// same for what the store needs.
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'`); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// FORCE: a store a test forgot to close must not keep the database.
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

// Log returns the server's log, for a failing test's message.
func (c *PostgresCluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "postgres.log"))
	return string(b)
}

// Stop stops the server (fast shutdown: sessions are ended) and removes the
// directory. It is safe to call more than once.
func (c *PostgresCluster) Stop() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	data := filepath.Join(c.Dir, "data")
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		cmd := c.command(filepath.Join(c.bin, "pg_ctl"), "-D", data, "-m", "fast", "-w",
			"-t", strconv.Itoa(int(pgStopTimeout/time.Second)), "stop")
		if out, err := cmd.CombinedOutput(); err != nil {
			// Last resort: the postmaster's pid from its pid file, never a name.
			if pid := pgPostmasterPID(data); pid > 0 {
				syscall.Kill(pid, syscall.SIGQUIT)
			}
			fmt.Fprintf(os.Stderr, "pg_ctl stop: %v\n%s\n", err, out)
		}
	}
	os.RemoveAll(c.Dir)
}

func pgPostmasterPID(data string) int {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// StartPostgres starts a cluster for this test alone, stopped when it ends, and
// returns the DSN of an empty database. A package with many PostgreSQL tests
// shares one cluster instead: StartPostgresCluster in TestMain, then Database.
func StartPostgres(t testing.TB) string {
	t.Helper()
	c, err := StartPostgresCluster(PostgresOptions{})
	if errors.Is(err, ErrNoPostgres) {
		Missing(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c.Database(t)
}

// PostgresMain runs a test package with one shared cluster, for TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testutil.PostgresMain(m, &cluster)) }
//
// It sets *c (left nil when PostgreSQL is missing, so that Database skips or,
// under CI, fails) and stops the cluster after the tests.
func PostgresMain(m *testing.M, c **PostgresCluster) int {
	cl, err := StartPostgresCluster(PostgresOptions{})
	if err != nil && !errors.Is(err, ErrNoPostgres) {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		return 1
	}
	*c = cl
	defer cl.Stop()
	return m.Run()
}
