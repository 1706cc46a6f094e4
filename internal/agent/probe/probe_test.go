package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/fake"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestState(t *testing.T) {
	type step struct {
		at      float64
		r       Result
		changed bool
		result  Result
	}
	tests := []struct {
		name    string
		kind    Kind
		probe   corev1.Probe
		initial Result
		first   float64 // when the first run is due
		steps   []step
	}{
		{name: "readiness needs successThreshold", kind: Readiness, initial: Failure, first: 5,
			probe: corev1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 2, SuccessThreshold: 2, FailureThreshold: 2},
			steps: []step{{5, Success, false, Failure}, {7, Success, true, Success}, {9, Failure, false, Success}, {11, Success, false, Success},
				{13, Failure, false, Success}, {15, Failure, true, Failure}}},
		{name: "liveness defaults: three failures", kind: Liveness, initial: Success, first: 0,
			steps: []step{{0, Failure, false, Success}, {10, Failure, false, Success}, {20, Failure, true, Failure}}},
		{name: "liveness ignores successThreshold", kind: Liveness, initial: Success, first: 0,
			probe: corev1.Probe{SuccessThreshold: 5, FailureThreshold: 1},
			steps: []step{{0, Failure, true, Failure}, {10, Success, true, Success}}},
		{name: "startup unknown until success", kind: Startup, initial: Unknown, first: 1,
			probe: corev1.Probe{InitialDelaySeconds: 1, PeriodSeconds: 1, FailureThreshold: 30},
			steps: []step{{1, Failure, false, Unknown}, {2, Unknown, false, Unknown}, {3, Success, true, Success}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(tt.kind, ParamsOf(&tt.probe, tt.kind), t0)
			if s.Result() != tt.initial {
				t.Errorf("initial %v, want %v", s.Result(), tt.initial)
			}
			if !s.Next().Equal(sec(tt.first)) {
				t.Errorf("first run at %v, want %v", s.Next(), sec(tt.first))
			}
			for i, st := range tt.steps {
				if ch := s.Observe(st.r, sec(st.at)); ch != st.changed || s.Result() != st.result {
					t.Errorf("step %d: changed %t result %v, want %t %v", i, ch, s.Result(), st.changed, st.result)
				}
				if !s.Next().Equal(sec(st.at).Add(s.Params.Period)) {
					t.Errorf("step %d: next %v", i, s.Next())
				}
			}
		})
	}
}

func hostPort(t *testing.T, addr string) (string, int) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func TestHTTPGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("X-Check") != "yes" || !strings.HasPrefix(r.UserAgent(), "kube-probe/") {
				w.WriteHeader(http.StatusBadRequest)
			}
		case "/redirect":
			http.Redirect(w, r, "http://elsewhere.invalid/", http.StatusFound)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	host, port := hostPort(t, srv.Listener.Addr().String())
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	tgt := Target{PodIP: host, Container: c}
	tests := []struct {
		path string
		port intstr.IntOrString
		want Result
	}{
		{"/ok", intstr.FromString("http"), Success},
		{"/redirect", intstr.FromInt32(int32(port)), Success},
		{"/bad", intstr.FromInt32(int32(port)), Failure},
		{"/ok", intstr.FromString("nope"), Failure},
	}
	for _, tt := range tests {
		out := HTTPGet(context.Background(), tgt, &corev1.HTTPGetAction{Path: tt.path, Port: tt.port,
			HTTPHeaders: []corev1.HTTPHeader{{Name: "X-Check", Value: "yes"}}}, time.Second)
		if out.Result != tt.want {
			t.Errorf("%s %v: %v (%s), want %v", tt.path, tt.port.String(), out.Result, out.Message, tt.want)
		}
	}
	if out := HTTPGet(context.Background(), tgt, &corev1.HTTPGetAction{Path: "/bad", Port: intstr.FromInt32(int32(port))}, time.Second); out.Message != "HTTP probe failed with statuscode: 503" {
		t.Errorf("message %q", out.Message)
	}
}

func TestTCPSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port := hostPort(t, l.Addr().String())
	tgt := Target{PodIP: host}
	if out := TCPSocket(context.Background(), tgt, &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}, time.Second); out.Result != Success {
		t.Errorf("open port: %+v", out)
	}
	l.Close()
	if out := TCPSocket(context.Background(), tgt, &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}, time.Second); out.Result != Failure {
		t.Errorf("closed port: %+v", out)
	}
}

func TestGRPC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	go func() { _ = s.Serve(l) }()
	defer s.Stop()
	host, port := hostPort(t, l.Addr().String())
	down := "down"
	if out := GRPC(context.Background(), Target{PodIP: host}, &corev1.GRPCAction{Port: int32(port)}, 2*time.Second); out.Result != Success {
		t.Errorf("serving: %+v", out)
	}
	if out := GRPC(context.Background(), Target{PodIP: host}, &corev1.GRPCAction{Port: int32(port), Service: &down}, 2*time.Second); out.Result != Failure {
		t.Errorf("not serving: %+v", out)
	}
}

func TestExec(t *testing.T) {
	ctx := context.Background()
	rt := fake.New(fake.Config{})
	sb, _ := rt.RunPodSandbox(ctx, &runtime.PodSandboxConfig{})
	id, _ := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: "c"}}, nil)
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	tgt := Target{Runtime: rt, ContainerID: id}
	if out := Run(ctx, &corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, tgt, time.Second); out.Result != Success {
		t.Errorf("true: %+v", out)
	}
	if out := Run(ctx, &corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/false"}}}, tgt, time.Second); out.Result != Failure {
		t.Errorf("false: %+v", out)
	}
}
