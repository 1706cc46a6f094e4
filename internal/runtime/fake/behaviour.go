package fake

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Annotations read by the fake runtime (set them on the pod).
const (
	AnnotationExitCode    = "skiff.io/fake-exit-code"
	AnnotationRunSeconds  = "skiff.io/fake-run-seconds"
	AnnotationStopSeconds = "skiff.io/fake-stop-seconds"
)

// forever marks a container that never exits on its own.
const forever time.Duration = -1

// behaviour is how a fake container lives.
type behaviour struct {
	// run is how long the container runs before it exits, or forever.
	run time.Duration
	// exitCode is the code of a natural exit.
	exitCode int32
	// stop is how long SIGTERM takes to end the container.
	stop time.Duration
}

// behaviourOf derives a container's behaviour from its config and the
// annotations of its sandbox (the pod's annotations).
func behaviourOf(cfg *runtime.ContainerConfig, podAnnotations map[string]string) behaviour {
	name := cfg.Metadata.Name
	lookup := func(key string) (string, bool) {
		if v, ok := podAnnotations[key+"."+name]; ok {
			return v, true
		}
		v, ok := podAnnotations[key]
		return v, ok
	}
	b := behaviourOfCommand(append(append([]string(nil), cfg.Command...), cfg.Args...))
	code, hasCode := lookup(AnnotationExitCode)
	secs, hasSecs := lookup(AnnotationRunSeconds)
	if hasCode || hasSecs {
		b = behaviour{run: seconds(secs)}
		if c, err := strconv.ParseInt(strings.TrimSpace(code), 10, 32); err == nil {
			b.exitCode = int32(c)
		}
	}
	if s, ok := lookup(AnnotationStopSeconds); ok {
		b.stop = seconds(s)
	}
	return b
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// behaviourOfCommand interprets the few commands tests use.
func behaviourOfCommand(argv []string) behaviour {
	if len(argv) == 0 {
		return behaviour{run: forever}
	}
	switch path.Base(argv[0]) {
	case "sh", "bash", "ash", "dash":
		if len(argv) >= 3 && argv[1] == "-c" {
			return behaviourOfScript(argv[2])
		}
		return behaviour{run: forever}
	}
	return behaviourOfScript(strings.Join(argv, " "))
}

// behaviourOfScript runs a shell script's statements in order: sleeps add
// up, exit ends, true/false set the status, loops never end. Other
// commands are taken to succeed at once, except a script of one unknown
// command, which is taken to be a server and runs forever.
func behaviourOfScript(script string) behaviour {
	stmts := strings.FieldsFunc(script, func(r rune) bool { return r == ';' || r == '\n' || r == '&' || r == '|' })
	var b behaviour
	known := false
	for _, s := range stmts {
		f := strings.Fields(s)
		if len(f) == 0 {
			continue
		}
		switch path.Base(f[0]) {
		case "while", "until", "for", "tail":
			return behaviour{run: forever}
		case "sleep":
			known = true
			if len(f) > 1 && f[1] == "infinity" {
				return behaviour{run: forever}
			}
			if len(f) > 1 {
				b.run += seconds(f[1])
			}
			b.exitCode = 0
		case "exit":
			if len(f) > 1 {
				c, _ := strconv.ParseInt(f[1], 10, 32)
				b.exitCode = int32(c)
			}
			return b
		case "true", ":":
			known = true
			b.exitCode = 0
		case "false":
			known = true
			b.exitCode = 1
		case "echo", "printf", "cat", "ls", "env", "date", "hostname", "id":
			known = true
		}
	}
	if !known && len(stmts) <= 1 {
		return behaviour{run: forever}
	}
	return b
}
