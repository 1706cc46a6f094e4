package server

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"

	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/cri"
)

// streamRequest is what an exec or attach request asks for.
type streamRequest struct {
	command []string
	opts    cri.StreamOptions
}

// parseStreamRequest reads the kubelet's query parameters: input, output,
// error, tty and (exec) command.
func parseStreamRequest(q url.Values, exec bool) (streamRequest, error) {
	req := streamRequest{command: q["command"], opts: cri.StreamOptions{
		Stdin: boolParam(q, "input"), Stdout: boolParam(q, "output"), Stderr: boolParam(q, "error"), TTY: boolParam(q, "tty"),
	}}
	if !req.opts.Stdin && !req.opts.Stdout && !req.opts.Stderr {
		return req, badRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	// A terminal merges stderr into stdout.
	if req.opts.TTY {
		req.opts.Stderr = false
	}
	if exec && len(req.command) == 0 {
		return req, badRequest("you must specify a command")
	}
	return req, nil
}

// runningContainer finds the request's container, which must run.
func (s *Server) runningContainer(r *http.Request) (*Pod, *Container, error) {
	pod, err := s.lookup(r)
	if err != nil {
		return nil, nil, err
	}
	name := r.PathValue("container")
	c := pod.Latest(name)
	if c == nil {
		return nil, nil, notFound("container not found (%q)", name)
	}
	if c.State != runtime.ContainerRunning {
		return nil, nil, badRequest("container %q in pod %q is not running", name, pod.Name)
	}
	return pod, c, nil
}

func (s *Server) serveExec(w http.ResponseWriter, r *http.Request)   { s.serveStream(w, r, true) }
func (s *Server) serveAttach(w http.ResponseWriter, r *http.Request) { s.serveStream(w, r, false) }

// serveStream answers /exec and /attach.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, exec bool) {
	if s.cfg.Streamer == nil {
		s.writeError(w, r, &httpError{code: http.StatusNotImplemented, msg: "streaming is not supported by this node's runtime"})
		return
	}
	req, err := parseStreamRequest(r.URL.Query(), exec)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_, c, err := s.runningContainer(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var target string
	if exec {
		target, err = s.cfg.Streamer.Exec(r.Context(), c.ID, req.command, req.opts)
	} else {
		target, err = s.cfg.Streamer.Attach(r.Context(), c.ID, req.opts)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := url.Parse(target)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if wsstream.IsWebSocketRequest(r) {
		s.translateWebSocket(w, r, u, req.opts)
		return
	}
	s.proxyTo(w, r, u)
}

// servePortForward answers /portForward.
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Streamer == nil {
		s.writeError(w, r, &httpError{code: http.StatusNotImplemented, msg: "streaming is not supported by this node's runtime"})
		return
	}
	pod, err := s.lookup(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !pod.SandboxReady {
		s.writeError(w, r, badRequest("pod %q is not running", pod.Name))
		return
	}
	ports, err := parsePorts(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	target, err := s.cfg.Streamer.PortForward(r.Context(), pod.SandboxID, ports)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := url.Parse(target)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case wsstream.IsWebSocketRequestWithTunnelingProtocol(r):
		s.tunnelPortForward(w, r, u)
	case wsstream.IsWebSocketRequest(r):
		s.writeError(w, r, badRequest("port forwarding over WebSocket is only served tunnelled (SPDY/3.1+portforward.k8s.io)"))
	default:
		s.proxyTo(w, r, u)
	}
}

// parsePorts reads the optional "port" parameters (each a number or a
// comma-separated list).
func parsePorts(q url.Values) ([]int32, error) {
	var ports []int32
	for _, v := range q["port"] {
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
			if err != nil || n == 0 {
				return nil, badRequest("invalid port %q", p)
			}
			ports = append(ports, int32(n))
		}
	}
	return ports, nil
}

// proxyTo passes the request, upgrade included, to the runtime's
// streaming server at target (which is authorised by its one-time token).
func (s *Server) proxyTo(w http.ResponseWriter, r *http.Request, target *url.URL) {
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = target.Host
			pr.Out.Header.Del("Authorization")
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.writeError(w, r, &httpError{code: http.StatusBadGateway, msg: "reaching the runtime's streaming server: " + err.Error()})
		},
		ErrorLog: nil,
	}
	p.ServeHTTP(w, r)
}
