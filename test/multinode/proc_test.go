package multinode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one skiff process whose output is kept.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan error

	mu  sync.Mutex
	log bytes.Buffer
}

// startProc runs name args... and returns once an output line contains
// ready, or fails after timeout (killing the process).
func startProc(what, ready string, timeout time.Duration, name string, args ...string) (*proc, error) {
	p := &proc{name: what, cmd: exec.Command(name, args...), done: make(chan error, 1)}
	out, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout = p.cmd.Stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", what, err)
	}
	readyCh := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if strings.Contains(line, ready) {
				once.Do(func() { close(readyCh) })
			}
		}
		p.done <- p.cmd.Wait()
		close(p.done)
	}()
	select {
	case <-readyCh:
		return p, nil
	case err := <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready: %v\n%s", what, err, p.logs())
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return nil, fmt.Errorf("%s not ready after %s\n%s", what, timeout, p.logs())
	}
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// stop sends sig and waits for the exit; after grace it kills.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) error {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, syscall.ESRCH) && !strings.Contains(err.Error(), "finished") {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within %s of %s", p.name, grace, sig)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
