// Package bench measures govmail the way a deployment runs it: a separate
// `govmail serve` process on loopback, driven by real clients from this process,
// its memory read from /proc. It reports medians and ratios, never a single
// timing (DESIGN: benchmarks). Tests use Spawn too, to kill a real server.
package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Child is a running `govmail serve`.
type Child struct {
	Cmd   *exec.Cmd
	Addrs map[string]string // service → first address
}

var addrLine = regexp.MustCompile(`^\s+(\S+)\s+(\S+:\d+)$`)

// Spawn starts bin serve -config cfgPath and waits until it prints "ready".
func Spawn(bin, cfgPath string, stderr io.Writer) (*Child, error) {
	cmd := exec.Command(bin, "serve", "-config", cfgPath)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	c := &Child{Cmd: cmd, Addrs: map[string]string{}}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(out)
	ready := false
	for sc.Scan() {
		if m := addrLine.FindStringSubmatch(sc.Text()); m != nil && c.Addrs[m[1]] == "" {
			c.Addrs[m[1]] = m[2]
		}
		if strings.Contains(sc.Text(), "ready.") {
			ready = true
			break
		}
	}
	go io.Copy(io.Discard, out)
	if !ready {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%s did not become ready", bin)
	}
	return c, nil
}

// Kill ends the child at once (SIGKILL) and reaps it.
func (c *Child) Kill() {
	c.Cmd.Process.Signal(syscall.SIGKILL)
	c.Cmd.Wait()
}

// Stop asks the child to shut down gracefully and waits.
func (c *Child) Stop() error {
	c.Cmd.Process.Signal(syscall.SIGTERM)
	return c.Cmd.Wait()
}

// RSS returns the child's resident memory in bytes.
func (c *Child) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, err := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", c.Cmd.Process.Pid)
}
