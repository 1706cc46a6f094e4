package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/skiffkube/skiff/internal/runtime"
)

// UserAgent is sent by HTTP probes and hooks.
const UserAgent = "kube-probe/1.37"

// maxOutput bounds the probe output kept in messages.
const maxOutput = 10 * 1024

// Outcome is one probe run: its result and what it said.
type Outcome struct {
	Result  Result
	Message string
}

// Target is what a probe or hook runs against.
type Target struct {
	Runtime     runtime.Runtime
	ContainerID string
	PodIP       string
	// Container resolves named ports.
	Container *corev1.Container
}

// Run runs a probe's handler once with the probe's timeout.
func Run(ctx context.Context, h *corev1.ProbeHandler, t Target, timeout time.Duration) Outcome {
	switch {
	case h.Exec != nil:
		return Exec(ctx, t, h.Exec.Command, timeout)
	case h.HTTPGet != nil:
		return HTTPGet(ctx, t, h.HTTPGet, timeout)
	case h.TCPSocket != nil:
		return TCPSocket(ctx, t, h.TCPSocket, timeout)
	case h.GRPC != nil:
		return GRPC(ctx, t, h.GRPC, timeout)
	}
	return Outcome{Result: Unknown, Message: "probe has no handler"}
}

// Exec runs cmd in the container; exit code 0 succeeds.
func Exec(ctx context.Context, t Target, cmd []string, timeout time.Duration) Outcome {
	res, err := t.Runtime.ExecSync(ctx, t.ContainerID, cmd, timeout)
	if err != nil {
		return Outcome{Result: Failure, Message: err.Error()}
	}
	out := trim(string(res.Stdout) + string(res.Stderr))
	if res.ExitCode != 0 {
		if out == "" {
			out = fmt.Sprintf("command %q exited with %d", strings.Join(cmd, " "), res.ExitCode)
		}
		return Outcome{Result: Failure, Message: out}
	}
	return Outcome{Result: Success, Message: out}
}

// HTTPGet requests the action's URL; a status from 200 to 399 succeeds.
// Redirects to another host are not followed (and count as success).
func HTTPGet(ctx context.Context, t Target, a *corev1.HTTPGetAction, timeout time.Duration) Outcome {
	u, err := httpURL(t, a)
	if err != nil {
		return Outcome{Result: Failure, Message: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Outcome{Result: Failure, Message: err.Error()}
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "*/*")
	for _, h := range a.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Set(h.Name, h.Value)
	}
	client := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes do not verify, as upstream
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= 10 || r.URL.Hostname() != u.Hostname() {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return Outcome{Result: Failure, Message: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return Outcome{Result: Success, Message: trim(string(body))}
	}
	return Outcome{Result: Failure, Message: fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)}
}

func httpURL(t Target, a *corev1.HTTPGetAction) (*url.URL, error) {
	port, err := ResolvePort(a.Port, t.Container)
	if err != nil {
		return nil, err
	}
	host := a.Host
	if host == "" {
		host = t.PodIP
	}
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	p := a.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u, err := url.Parse(scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + p)
	if err != nil {
		return nil, fmt.Errorf("probe URL: %w", err)
	}
	return u, nil
}

// TCPSocket succeeds when a connection opens.
func TCPSocket(ctx context.Context, t Target, a *corev1.TCPSocketAction, timeout time.Duration) Outcome {
	port, err := ResolvePort(a.Port, t.Container)
	if err != nil {
		return Outcome{Result: Failure, Message: err.Error()}
	}
	host := a.Host
	if host == "" {
		host = t.PodIP
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return Outcome{Result: Failure, Message: err.Error()}
	}
	_ = conn.Close()
	return Outcome{Result: Success}
}

// GRPC calls grpc.health.v1.Health/Check; SERVING succeeds.
func GRPC(ctx context.Context, t Target, a *corev1.GRPCAction, timeout time.Duration) Outcome {
	service := ""
	if a.Service != nil {
		service = *a.Service
	}
	addr := net.JoinHostPort(t.PodIP, strconv.Itoa(int(a.Port)))
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithUserAgent(UserAgent))
	if err != nil {
		return Outcome{Result: Failure, Message: err.Error()}
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Outcome{Result: Failure, Message: fmt.Sprintf("timeout: health rpc did not complete within %s", timeout)}
		}
		return Outcome{Result: Failure, Message: err.Error()}
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return Outcome{Result: Failure, Message: fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus())}
	}
	return Outcome{Result: Success}
}

// ResolvePort turns a number or a container port name into a number.
func ResolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		if p.IntVal <= 0 || p.IntVal > 65535 {
			return 0, fmt.Errorf("invalid port %d", p.IntVal)
		}
		return int(p.IntVal), nil
	}
	if c != nil {
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return int(cp.ContainerPort), nil
			}
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil && n > 0 && n <= 65535 {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port %q in the container", p.StrVal)
}

func trim(s string) string {
	if len(s) > maxOutput {
		return s[:maxOutput]
	}
	return s
}
