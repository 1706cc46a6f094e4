package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Config sets the size of an API benchmark run.
type Config struct {
	// ServerBinary is the skiff binary started as `<ServerBinary> server`;
	// "" means this process's executable.
	ServerBinary string
	// Pods is how many pods are created (and then exist) in the run.
	Pods int
	// Workers is the number of concurrent client-go workers creating pods
	// and writing raw etcd keys.
	Workers int
	// Watchers is the number of pod watchers the fan-out scenario opens.
	Watchers int
	// WatchChanges is how many updates the fan-out scenario times.
	WatchChanges int
	// Settle is how long the server is left alone before its memory is
	// read, so that start-up or load garbage is collected.
	Settle time.Duration
	// WorkDir holds the server's and the raw etcd's data; "" means a new
	// temporary directory, removed at the end.
	WorkDir string
	// Progress receives one line per phase; nil discards them.
	Progress io.Writer
}

// Defaults of a full run, sized to finish in a few minutes on two cores.
const (
	DefaultPods         = 10000
	DefaultWorkers      = 32
	DefaultWatchers     = 1000
	DefaultWatchChanges = 20
	DefaultSettle       = 3 * time.Second
)

// watchersPerConnection is how many watch streams share one HTTP/2
// connection in the fan-out scenario.
const watchersPerConnection = 125

// withDefaults fills unset fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.ServerBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, fmt.Errorf("finding the skiff binary: %w", err)
		}
		c.ServerBinary = exe
	}
	if c.Pods == 0 {
		c.Pods = DefaultPods
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Watchers == 0 {
		c.Watchers = DefaultWatchers
	}
	if c.WatchChanges == 0 {
		c.WatchChanges = DefaultWatchChanges
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Pods < 1 || c.Workers < 1 || c.Watchers < 1 || c.WatchChanges < 1 || c.Settle < 0 {
		return c, errors.New("pods, workers, watchers and watch changes must be positive, settle not negative")
	}
	return c, nil
}

// latencySamples is how many sequential requests of each kind are timed
// for the latency percentiles: enough for a p99, fewer for tiny runs.
func (c Config) latencySamples() int {
	return min(300, max(20, c.Pods/10))
}

// listSamples is how many paginated lists are timed.
func (c Config) listSamples() int {
	return min(100, max(10, c.Pods/100))
}
