package agent_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime/fake"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// pullCounter is the fake runtime counting pulls per image.
type pullCounter struct {
	*fake.Runtime
	mu    sync.Mutex
	pulls map[string]int
	times map[string][]time.Time
}

func (p *pullCounter) PullImage(ctx context.Context, image string) (string, error) {
	p.mu.Lock()
	p.pulls[image]++
	p.times[image] = append(p.times[image], time.Now())
	p.mu.Unlock()
	return p.Runtime.PullImage(ctx, image)
}

// intervals returns the times between the pulls of image.
func (p *pullCounter) intervals(image string) []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Duration
	ts := p.times[image]
	for i := 1; i < len(ts); i++ {
		out = append(out, ts[i].Sub(ts[i-1]))
	}
	return out
}

func (p *pullCounter) count(image string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pulls[image]
}

func TestImagePullPolicies(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	// Enough client QPS for the events of the crash-looping pods.
	rc := rest.CopyConfig(srv.AdminConfig())
	rc.QPS, rc.Burst = 500, 1000
	cs := kubernetes.NewForConfigOrDie(rc)
	rt := &pullCounter{Runtime: fake.New(fake.Config{}), pulls: map[string]int{}, times: map[string][]time.Time{}}
	runAgent(t, agent.Config{NodeName: "node-p", Client: cs, Runtime: rt, DataDir: t.TempDir(),
		BackoffInitial: 300 * time.Millisecond, BackoffMax: time.Second})
	ctx := context.Background()
	create := func(name, image string, policy corev1.PullPolicy, ann map[string]string) {
		t.Helper()
		p := newPod(name, "node-p", corev1.RestartPolicyAlways, ann)
		p.Spec.Containers[0].Image, p.Spec.Containers[0].ImagePullPolicy = image, policy
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	crash := map[string]string{fake.AnnotationExitCode: "1", fake.AnnotationRunSeconds: "0.1"}
	create("never", "registry.local/absent:1", corev1.PullNever, nil)
	create("bad", "registry.invalid/app:1", corev1.PullIfNotPresent, nil)
	create("always", "registry.local/always:1", corev1.PullAlways, crash)
	create("ifnot", "registry.local/ifnot:1", corev1.PullIfNotPresent, crash)
	create("latest", "registry.local/latest", "", nil)
	lw := podLW(cs, "default")

	p := until(t, lw, &corev1.Pod{}, "never", 20*time.Second, "ErrImageNeverPull", func(p *corev1.Pod) bool { return waiting(p, agent.ReasonErrImageNeverPull) })
	if msg := p.Status.ContainerStatuses[0].State.Waiting.Message; msg != `Container image "registry.local/absent:1" is not present with pull policy of Never` {
		t.Errorf("never message %q", msg)
	}

	until(t, lw, &corev1.Pod{}, "bad", 20*time.Second, "ErrImagePull", func(p *corev1.Pod) bool { return waiting(p, agent.ReasonErrImagePull) })
	p = until(t, lw, &corev1.Pod{}, "bad", 20*time.Second, "ImagePullBackOff", func(p *corev1.Pod) bool { return waiting(p, agent.ReasonImagePullBackOff) })
	if msg := p.Status.ContainerStatuses[0].State.Waiting.Message; !strings.HasPrefix(msg, `Back-off pulling image "registry.invalid/app:1": ErrImagePull: `) {
		t.Errorf("back-off message %q", msg)
	}
	// Back-off: at least 0.3 s, 0.6 s, then 1 s between pulls.
	eventually(t, 10*time.Second, "4 pulls of bad", func() bool { return rt.count("registry.invalid/app:1") >= 4 })
	for i, d := range rt.intervals("registry.invalid/app:1")[:3] {
		if want := []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, time.Second}[i]; d < want {
			t.Errorf("pull %d came %s after the previous, before the back-off of %s", i+2, d, want)
		}
	}

	for _, name := range []string{"always", "ifnot"} {
		until(t, lw, &corev1.Pod{}, name, 30*time.Second, name+" restarted twice", func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 2
		})
	}
	if n := rt.count("registry.local/always:1"); n < 3 {
		t.Errorf("Always: %d pulls for 3 starts", n)
	}
	if n := rt.count("registry.local/ifnot:1"); n != 1 {
		t.Errorf("IfNotPresent: %d pulls", n)
	}
	p = until(t, lw, &corev1.Pod{}, "latest", 20*time.Second, "latest Running", running)
	if p.Spec.Containers[0].ImagePullPolicy != corev1.PullAlways || rt.count("registry.local/latest") != 1 {
		t.Errorf("untagged image: policy %s, %d pulls", p.Spec.Containers[0].ImagePullPolicy, rt.count("registry.local/latest"))
	}

	have := map[string]bool{}
	eventually(t, 10*time.Second, "bad's events", func() bool {
		evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == "bad" {
				have[e.Type+"/"+e.Reason+"/"+e.Message] = true
			}
		}
		return have[`Normal/BackOff/Back-off pulling image "registry.invalid/app:1"`] && have[`Warning/Failed/Error: ImagePullBackOff`]
	})
	for _, want := range []string{
		`Normal/BackOff/Back-off pulling image "registry.invalid/app:1"`,
		`Warning/Failed/Error: ErrImagePull`,
		`Warning/Failed/Error: ImagePullBackOff`,
	} {
		if !have[want] {
			t.Errorf("missing event %s in %v", want, have)
		}
	}
}
