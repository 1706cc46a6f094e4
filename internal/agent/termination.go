package agent

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Termination message limits, as upstream's: what is read of the file,
// and of the log tail with FallbackToLogsOnError.
const (
	maxTerminationMessage    = 4096
	maxTerminationLogBytes   = 2048
	maxTerminationLogLines   = 80
	terminationMessageSubdir = "containers"
)

// terminationFile is the host file mounted at a container attempt's
// terminationMessagePath.
func (a *Agent) terminationFile(uid types.UID, name string, attempt uint32) string {
	return filepath.Join(a.volumeManager().PodDir(uid), terminationMessageSubdir, name, fmt.Sprint(attempt))
}

// terminationMount creates the (empty) termination message file of a
// container attempt and returns its mount, or nil when the container
// has no terminationMessagePath or the agent shares its data directory
// (hollow nodes write nothing there). A file that cannot be created only
// loses the message.
func (a *Agent) terminationMount(pod *corev1.Pod, c *corev1.Container, attempt uint32) *runtime.Mount {
	if c.TerminationMessagePath == "" || !a.ownDir {
		return nil
	}
	path := a.terminationFile(pod.UID, c.Name, attempt)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o666)
	if err != nil {
		return nil
	}
	f.Close()
	_ = os.Chmod(path, 0o666) // any user of the container may write it
	a.podDirs[pod.UID] = true
	return &runtime.Mount{ContainerPath: c.TerminationMessagePath, HostPath: path}
}

// addTerminationMessages fills in the message of the pod's exited
// containers from their termination message files (or, with
// FallbackToLogsOnError and a failure, their log tails), as upstream:
// the runtime's message, if any, comes first. Messages are read once
// per container and kept.
func (a *Agent) addTerminationMessages(pod *corev1.Pod, ps *PodState) {
	if ps == nil || !a.ownDir {
		return
	}
	for name, attempts := range ps.Containers {
		spec := findContainer(pod, name)
		if spec == nil {
			continue
		}
		for i, c := range attempts {
			if c.State != runtime.ContainerExited {
				continue
			}
			msg, ok := a.termMessages[c.ID]
			if !ok {
				msg = a.readTermination(pod, spec, c)
				a.termMessages[c.ID] = msg
			}
			if msg == "" {
				continue
			}
			cp := *c
			if cp.Message != "" {
				cp.Message += ": "
			}
			cp.Message += msg
			attempts[i] = &cp
		}
	}
}

// readTermination reads one exited container's termination message.
func (a *Agent) readTermination(pod *corev1.Pod, spec *corev1.Container, c *runtime.ContainerStatus) string {
	msg := ""
	if spec.TerminationMessagePath != "" {
		msg = readLimited(a.terminationFile(pod.UID, spec.Name, c.Metadata.Attempt), maxTerminationMessage)
	}
	if msg == "" && spec.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError && c.ExitCode != 0 {
		data, _ := os.ReadFile(filepath.Join(podLogDir(a.cfg.DataDir, pod), containerLogPath(spec.Name, c.Metadata.Attempt)))
		msg = logTail(data, maxTerminationLogLines, maxTerminationLogBytes)
	}
	return msg
}

func readLimited(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, n))
	return string(data)
}

// logTail returns the message text of the last lines of a CRI log
// ("<time> <stream> <P|F> <text>" lines; partial lines joined), at most
// maxBytes of it.
func logTail(data []byte, lines, maxBytes int) string {
	var out []string
	partial := ""
	for _, line := range bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n")) {
		fields := strings.SplitN(string(line), " ", 4)
		if len(fields) < 4 {
			continue
		}
		if fields[2] == "P" {
			partial += fields[3]
			continue
		}
		out = append(out, partial+fields[3])
		partial = ""
	}
	if len(out) > lines {
		out = out[len(out)-lines:]
	}
	s := strings.Join(out, "\n")
	if len(out) > 0 {
		s += "\n"
	}
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
	}
	return s
}

// forgetTerminations drops the kept messages of containers that are gone.
func (a *Agent) forgetTerminations(observed RuntimeState) {
	if len(a.termMessages) == 0 {
		return
	}
	present := map[string]bool{}
	for _, ps := range observed.Pods {
		for _, cs := range ps.Containers {
			for _, c := range cs {
				present[c.ID] = true
			}
		}
	}
	for id := range a.termMessages {
		if !present[id] {
			delete(a.termMessages, id)
		}
	}
}
