package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// DefaultMaxBodyBytes bounds the request and response bodies an event
// holds; larger bodies are left out.
const DefaultMaxBodyBytes = 64 << 10

// Options configure an Auditor.
type Options struct {
	// Policy decides the level of each request; nil means DefaultPolicy.
	Policy *Policy
	// Path is the log file; "-" writes to Stdout.
	Path string
	// Stdout receives the log when Path is "-"; nil means os.Stdout.
	Stdout io.Writer
	// Rotate bounds the log file.
	Rotate RotateOptions
	// BufferSize is the event queue's capacity (0: DefaultBufferSize).
	BufferSize int
	// MaxBodyBytes bounds recorded bodies (0: DefaultMaxBodyBytes).
	MaxBodyBytes int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Auditor is a policy and the backend its events go to.
type Auditor struct {
	Policy       *Policy
	Backend      *Backend
	MaxBodyBytes int
	Now          func() time.Time
}

// New opens the log and returns an Auditor, or nil (auditing off) when the
// policy has no rules. Run must be called to write events.
func New(opts Options) (*Auditor, error) {
	if opts.Policy == nil {
		opts.Policy = DefaultPolicy()
	}
	if len(opts.Policy.Rules) == 0 {
		return nil, nil
	}
	if opts.Path == "" {
		return nil, fmt.Errorf("audit: a log path is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	var out io.Writer
	if opts.Path == "-" {
		out = opts.Stdout
		if out == nil {
			out = os.Stdout
		}
		out = struct{ io.Writer }{out} // never closed by the backend
	} else {
		f, err := OpenRotatingFile(opts.Path, opts.Rotate, opts.Now)
		if err != nil {
			return nil, err
		}
		out = f
	}
	return &Auditor{Policy: opts.Policy, Backend: NewBackend(out, opts.BufferSize), MaxBodyBytes: opts.MaxBodyBytes, Now: opts.Now}, nil
}

// Run writes events until ctx is done (see Backend.Run).
func (a *Auditor) Run(ctx context.Context) error { return a.Backend.Run(ctx) }
