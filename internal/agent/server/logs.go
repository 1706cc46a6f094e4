package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/skiffkube/skiff/internal/runtime"
)

// serveLogs answers GET /containerLogs/{namespace}/{pod}/{container}.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request) {
	if err := s.logs(w, r); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opts, err := parseLogOptions(q, time.Now())
	if err != nil {
		return err
	}
	pod, err := s.lookup(r)
	if err != nil {
		return err
	}
	name := r.PathValue("container")
	c := pod.Latest(name)
	if boolParam(q, "previous") {
		c = pod.Previous(name)
		if c == nil {
			return badRequest("previous terminated container %q in pod %q not found", name, pod.Name)
		}
	}
	if c == nil {
		return badRequest("container %q in pod %q is waiting to start: ContainerCreating", name, pod.Name)
	}
	// Only the newest container can still write.
	alive := func(context.Context) bool { return false }
	if c == pod.Latest(name) {
		alive = s.aliveFunc(pod.Namespace, pod.Name, name, c.ID)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	src := logSource{path: c.LogPath, alive: alive, poll: s.cfg.LogPollInterval, flush: func() { _ = rc.Flush() }}
	if err := copyLog(r.Context(), w, src, opts); err != nil {
		// The status is out: the client sees a short log.
		s.cfg.Logger.Warn("copying a container log", "pod", pod.Namespace+"/"+pod.Name, "container", name, "err", err)
	}
	return nil
}

// aliveFunc reports whether the container id is still the running
// container name of the pod.
func (s *Server) aliveFunc(ns, pod, name, id string) func(context.Context) bool {
	return func(ctx context.Context) bool {
		p, err := s.cfg.Pods.LookupPod(ctx, ns, pod)
		if err != nil {
			return false
		}
		c := p.Latest(name)
		return c != nil && c.ID == id && (c.State == runtime.ContainerRunning || c.State == runtime.ContainerCreated)
	}
}

// parseLogOptions reads the upstream kubelet's log query parameters.
func parseLogOptions(q url.Values, now time.Time) (LogOptions, error) {
	opts := LogOptions{TailLines: -1, Follow: boolParam(q, "follow"), Timestamps: boolParam(q, "timestamps")}
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return opts, badRequest("tailLines %q must be a non-negative integer", v)
		}
		opts.TailLines = n
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return opts, badRequest("limitBytes %q must be a positive integer", v)
		}
		opts.LimitBytes = n
	}
	sinceSeconds, sinceTime := q.Get("sinceSeconds"), q.Get("sinceTime")
	switch {
	case sinceSeconds != "" && sinceTime != "":
		return opts, badRequest("at most one of sinceTime or sinceSeconds may be specified")
	case sinceSeconds != "":
		n, err := strconv.ParseInt(sinceSeconds, 10, 64)
		if err != nil || n < 1 {
			return opts, badRequest("sinceSeconds %q must be a positive integer", sinceSeconds)
		}
		opts.Since = now.Add(-time.Duration(n) * time.Second)
	case sinceTime != "":
		t, err := time.Parse(time.RFC3339, sinceTime)
		if err != nil {
			return opts, badRequest("sinceTime %q: %v", sinceTime, err)
		}
		opts.Since = t
	}
	return opts, nil
}

// boolParam is true for "true" and "1" (and a bare "?name").
func boolParam(q url.Values, name string) bool {
	vs, ok := q[name]
	if !ok {
		return false
	}
	v := ""
	if len(vs) > 0 {
		v = vs[0]
	}
	return v == "" || v == "1" || v == "true" || v == "True"
}
