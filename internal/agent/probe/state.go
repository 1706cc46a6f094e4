package probe

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Kind is the kind of a probe.
type Kind string

// The three probe kinds.
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// Result is a probe's outcome.
type Result int

// Probe results.
const (
	Unknown Result = iota
	Success
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Failure:
		return "failure"
	}
	return "unknown"
}

// Params are a probe's timing and thresholds, with upstream's defaults
// filled in.
type Params struct {
	InitialDelay     time.Duration
	Period           time.Duration
	Timeout          time.Duration
	SuccessThreshold int32
	FailureThreshold int32
}

// ParamsOf reads p's timing, defaulting unset fields (period 10 s,
// timeout 1 s, thresholds 1 and 3). Liveness and startup probes need
// one success.
func ParamsOf(p *corev1.Probe, kind Kind) Params {
	sec := func(v int32, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return time.Duration(v) * time.Second
	}
	out := Params{
		InitialDelay:     time.Duration(max(p.InitialDelaySeconds, 0)) * time.Second,
		Period:           sec(p.PeriodSeconds, 10*time.Second),
		Timeout:          sec(p.TimeoutSeconds, time.Second),
		SuccessThreshold: max(p.SuccessThreshold, 1),
		FailureThreshold: p.FailureThreshold,
	}
	if out.FailureThreshold <= 0 {
		out.FailureThreshold = 3
	}
	if kind != Readiness {
		out.SuccessThreshold = 1
	}
	return out
}

// State is one probe of one container.
type State struct {
	Kind   Kind
	Params Params
	// Started is when the container started; probing begins InitialDelay
	// later.
	Started time.Time
	result  Result
	// successes and failures count the current run of equal results.
	successes, failures int32
	last                time.Time
}

// NewState returns a probe's state for a container started at started.
// A readiness probe starts as failing (not ready), a liveness probe as
// succeeding, a startup probe as unknown (not started).
func NewState(kind Kind, p Params, started time.Time) *State {
	s := &State{Kind: kind, Params: p, Started: started}
	switch kind {
	case Readiness:
		s.result = Failure
	case Liveness:
		s.result = Success
	}
	return s
}

// Result is the probe's current result.
func (s *State) Result() Result { return s.result }

// Next is when the probe should run next.
func (s *State) Next() time.Time {
	first := s.Started.Add(s.Params.InitialDelay)
	if s.last.IsZero() || s.last.Before(first) {
		return first
	}
	return s.last.Add(s.Params.Period)
}

// Observe records one probe outcome taken at now and returns whether the
// result changed. A result flips only after the threshold count of equal
// outcomes in a row.
func (s *State) Observe(r Result, now time.Time) bool {
	s.last = now
	switch r {
	case Success:
		s.successes++
		s.failures = 0
		if s.result != Success && s.successes >= s.Params.SuccessThreshold {
			s.result = Success
			return true
		}
	case Failure:
		s.failures++
		s.successes = 0
		if s.result != Failure && s.failures >= s.Params.FailureThreshold {
			s.result = Failure
			return true
		}
	}
	return false
}
