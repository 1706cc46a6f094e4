package agent_test

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime/fake"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

func TestBench(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	rc := rest.CopyConfig(srv.AdminConfig())
	rc.QPS, rc.Burst = 500, 1000
	cs := kubernetes.NewForConfigOrDie(rc)
	rt := fake.New(fake.Config{})
	res, err := agent.Bench(context.Background(), agent.BenchConfig{
		Agent: agent.Config{NodeName: "bench-node", Client: cs, Runtime: rt, DataDir: t.TempDir(), DisableEvents: true},
		Image: "registry.local/pause:1", Command: []string{"sleep", "infinity"}, Sequential: 5, Concurrent: 4, Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Latencies) != 5 || res.P50 <= 0 || res.P99 < res.P50 || res.Concurrent <= 0 || res.RSSBytes < 1<<20 {
		t.Errorf("result %+v", res)
	}
	// The bench deletes its pods; their sandboxes go once the agent has
	// seen the deletions.
	var left int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		sbs, _ := rt.ListPodSandbox(context.Background())
		if left = len(sbs); left == 0 {
			break
		}
	}
	if left != 0 {
		t.Errorf("%d sandboxes left 10 s after the bench", left)
	}
	t.Logf("p50 %s p99 %s concurrent %s rss %d MiB", res.P50, res.P99, res.Concurrent, res.RSSBytes>>20)
}
