package proxy

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// commander runs the kernel tools (nft, iptables-restore, ...), in the
// current network namespace or, with netns set, in a named one.
type commander struct {
	netns string
}

// run runs name with args, feeding it stdin, and returns its output. The
// error carries the start of the tool's error output.
func (c commander) run(ctx context.Context, stdin string, name string, args ...string) ([]byte, error) {
	argv := append([]string{name}, args...)
	if c.netns != "" {
		argv = append([]string{"ip", "netns", "exec", c.netns}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, clip(stderr.String(), 2000))
	}
	return out, nil
}

// clip shortens s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + " ..."
}

// available reports whether the tool can be started.
func available(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
