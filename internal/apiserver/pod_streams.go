package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// serveNodeBacked answers the subresources an agent serves: pods/log,
// pods/exec, pods/attach, pods/portforward and nodes/proxy. It reports
// false for the others.
func (s *Server) serveNodeBacked(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) (bool, error) {
	kind := info.Subresource
	switch {
	case rs.gvk.Kind == "Pod" && (kind == "log" || kind == "exec" || kind == "attach" || kind == "portforward"):
	case rs.gvk.Kind == "Node" && kind == "proxy":
	default:
		return false, nil
	}
	if s.kubeletClient() == nil {
		return true, errNotServedYet(rs.gr, kind, info.Name)
	}
	if kind == "proxy" {
		return true, s.handleNodeProxy(w, r, rs, info)
	}
	obj, err := s.getObject(r.Context(), rs, info.Namespace, info.Name, "")
	if err != nil {
		return true, err
	}
	pod := obj.(*corev1.Pod)
	var path string
	var query url.Values
	switch kind {
	case "log":
		path, query, err = podLogLocation(pod, r.URL.Query())
		if err == nil && path == "" {
			// Not on a node yet: an empty log, as upstream.
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
			return true, nil
		}
	case "exec", "attach":
		path, query, err = podStreamLocation(pod, r.URL.Query(), kind)
	case "portforward":
		path, query, err = podPortForwardLocation(pod, r.URL.Query())
	}
	if err != nil {
		return true, err
	}
	base, err := s.nodeURL(r.Context(), pod.Spec.NodeName, 0)
	if err != nil {
		return true, err
	}
	target := *base
	target.Path = path
	target.RawQuery = query.Encode()
	s.proxyToKubelet(w, r, &target, rs.gr, info.Name, true)
	return true, nil
}

// podContainer resolves the container a request names: the only one when
// none is named.
func podContainer(pod *corev1.Pod, name string) (string, error) {
	var all []string
	for _, c := range pod.Spec.InitContainers {
		all = append(all, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		all = append(all, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		all = append(all, c.Name)
	}
	if name == "" {
		switch len(pod.Spec.Containers) {
		case 0:
			return "", apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a container", pod.Name))
		case 1:
			return pod.Spec.Containers[0].Name, nil
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, all))
	}
	for _, c := range all {
		if c == name {
			return name, nil
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

// podLogLocation is the agent path and query of a pods/log request; an
// empty path for a pod on no node.
func podLogLocation(pod *corev1.Pod, q url.Values) (string, url.Values, error) {
	container, err := podContainer(pod, q.Get("container"))
	if err != nil {
		return "", nil, err
	}
	out := url.Values{}
	for _, b := range []string{"follow", "previous", "timestamps"} {
		if v := q.Get(b); v != "" {
			ok, err := strconv.ParseBool(v)
			if err != nil {
				return "", nil, apierrors.NewBadRequest(fmt.Sprintf("%s: invalid value %q", b, v))
			}
			if ok {
				out.Set(b, "true")
			}
		}
	}
	checks := []struct {
		name string
		min  int64
	}{{"tailLines", 0}, {"limitBytes", 1}, {"sinceSeconds", 1}}
	for _, c := range checks {
		v := q.Get(c.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < c.min {
			return "", nil, apierrors.NewBadRequest(fmt.Sprintf("%s: Invalid value: %q: must be an integer greater than or equal to %d", c.name, v, c.min))
		}
		out.Set(c.name, v)
	}
	if v := q.Get("sinceTime"); v != "" {
		if out.Has("sinceSeconds") {
			return "", nil, apierrors.NewBadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
		}
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return "", nil, apierrors.NewBadRequest(fmt.Sprintf("sinceTime: invalid value %q: %v", v, err))
		}
		out.Set("sinceTime", v)
	}
	if pod.Spec.NodeName == "" {
		return "", nil, nil
	}
	return "/containerLogs/" + pod.Namespace + "/" + pod.Name + "/" + container, out, nil
}

// podStreamLocation is the agent path and query of pods/exec or
// pods/attach.
func podStreamLocation(pod *corev1.Pod, q url.Values, kind string) (string, url.Values, error) {
	container, err := podContainer(pod, q.Get("container"))
	if err != nil {
		return "", nil, err
	}
	if pod.Spec.NodeName == "" {
		return "", nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	if p := pod.Status.Phase; p == corev1.PodSucceeded || p == corev1.PodFailed {
		verb := map[string]string{"exec": "exec into", "attach": "attach to"}[kind]
		return "", nil, apierrors.NewBadRequest(fmt.Sprintf("cannot %s a container in a completed pod; current phase is %s", verb, p))
	}
	out := url.Values{}
	for from, to := range map[string]string{"stdin": "input", "stdout": "output", "stderr": "error", "tty": "tty"} {
		if v := q.Get(from); v != "" {
			ok, err := strconv.ParseBool(v)
			if err != nil {
				return "", nil, apierrors.NewBadRequest(fmt.Sprintf("%s: invalid value %q", from, v))
			}
			if ok {
				out.Set(to, "1")
			}
		}
	}
	if !out.Has("input") && !out.Has("output") && !out.Has("error") {
		return "", nil, apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	if kind == "exec" {
		cmd := q["command"]
		if len(cmd) == 0 {
			return "", nil, apierrors.NewBadRequest("you must specify a command")
		}
		out["command"] = cmd
	}
	return "/" + kind + "/" + pod.Namespace + "/" + pod.Name + "/" + container, out, nil
}

// podPortForwardLocation is the agent path and query of
// pods/portforward.
func podPortForwardLocation(pod *corev1.Pod, q url.Values) (string, url.Values, error) {
	if pod.Spec.NodeName == "" {
		return "", nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	out := url.Values{}
	for _, p := range q["ports"] {
		for _, one := range strings.Split(p, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(one), 10, 16)
			if err != nil || n == 0 {
				return "", nil, apierrors.NewBadRequest(fmt.Sprintf("ports: invalid port %q", one))
			}
			out.Add("port", strconv.FormatUint(n, 10))
		}
	}
	return "/portForward/" + pod.Namespace + "/" + pod.Name, out, nil
}

// handleNodeProxy passes /api/v1/nodes/<name>[:<port>]/proxy/<path> to
// the node's agent (or another port on the node).
func (s *Server) handleNodeProxy(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	name, port := info.Name, 0
	if scheme, rest, ok := strings.Cut(name, ":"); ok && (scheme == "https" || scheme == "http") {
		if scheme == "http" {
			return apierrors.NewBadRequest("node proxy over plain http is not supported")
		}
		name = rest
	}
	if n, p, ok := strings.Cut(name, ":"); ok {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 || v > 65535 {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid port in node name %q", info.Name))
		}
		name, port = n, v
	}
	base, err := s.nodeURL(r.Context(), name, port)
	if err != nil {
		return err
	}
	// Everything after .../nodes/<name>/proxy is the agent's path.
	marker := "/nodes/" + info.Name + "/proxy"
	i := strings.Index(r.URL.Path, marker)
	rest := "/"
	if i >= 0 {
		rest = r.URL.Path[i+len(marker):]
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	target := *base
	target.Path = rest
	target.RawQuery = r.URL.RawQuery
	s.proxyToKubelet(w, r, &target, rs.gr, info.Name, false)
	return nil
}
