package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultBufferSize is how many events wait for the writer before new
// ones are dropped.
const DefaultBufferSize = 10000

// Backend writes events as JSON lines from one goroutine (Run), behind a
// bounded buffer: Process never blocks the request that calls it.
type Backend struct {
	out   io.Writer
	queue chan *Event
	// written, dropped and failed count events by outcome.
	written, dropped, failed prometheus.Counter
}

// NewBackend writes to out (closed by Run at the end when it is an
// io.Closer) with room for bufferSize queued events (0: the default).
func NewBackend(out io.Writer, bufferSize int) *Backend {
	if bufferSize <= 0 {
		bufferSize = DefaultBufferSize
	}
	return &Backend{
		out:   out,
		queue: make(chan *Event, bufferSize),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apiserver_audit_event_total", Help: "Counter of audit events written to the audit log.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apiserver_audit_event_dropped_total", Help: "Counter of audit events dropped because the audit log buffer was full.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apiserver_audit_error_total", Help: "Counter of audit events that failed to be written.",
		}),
	}
}

// Collectors are the backend's metrics, for the server's registry.
func (b *Backend) Collectors() []prometheus.Collector {
	return []prometheus.Collector{b.written, b.dropped, b.failed}
}

// Process queues e, or drops and counts it when the buffer is full. The
// caller must not change e afterwards.
func (b *Backend) Process(e *Event) bool {
	select {
	case b.queue <- e:
		return true
	default:
		b.dropped.Inc()
		return false
	}
}

// flushInterval is how often the writer wakes to write what is queued.
// Waking on a timer rather than on each event keeps a request's cost to a
// channel send that never has to wake the writer (upstream's batch backend
// also writes in batches).
const flushInterval = 50 * time.Millisecond

// Run writes queued events every flushInterval until ctx is done, then
// writes what is still queued and closes the output.
func (b *Backend) Run(ctx context.Context) error {
	w := bufio.NewWriterSize(b.out, 64<<10)
	enc := json.NewEncoder(w)
	defer b.close(w)
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			b.drain(enc)
			if err := w.Flush(); err != nil {
				b.failed.Inc()
			}
		case <-ctx.Done():
			b.drain(enc)
			return nil
		}
	}
}

// drain encodes every queued event.
func (b *Backend) drain(enc *json.Encoder) {
	for {
		select {
		case e := <-b.queue:
			if err := enc.Encode(e); err != nil {
				b.failed.Inc()
				continue
			}
			b.written.Inc()
		default:
			return
		}
	}
}

func (b *Backend) close(w *bufio.Writer) {
	if err := w.Flush(); err != nil {
		b.failed.Inc()
	}
	if c, ok := b.out.(io.Closer); ok {
		c.Close()
	}
}
