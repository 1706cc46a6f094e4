package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/agent"
)

func TestAgentPrerequisites(t *testing.T) {
	for _, tc := range []struct {
		euid    int
		tools   []string
		wantErr string
	}{
		{0, []string{"containerd", "runc"}, ""},
		{1000, []string{"containerd", "runc"}, "needs root"},
		{0, []string{"runc"}, "needs containerd"},
		{0, []string{"containerd"}, "needs runc"},
	} {
		err := agentPrerequisites(tc.euid, lookPathOf(tc.tools...))
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("euid %d, tools %v: error %v, want %q", tc.euid, tc.tools, err, tc.wantErr)
		}
	}
}

func TestAgentMarkdown(t *testing.T) {
	r := &AgentResults{
		Config: AgentConfig{Sequential: 50, Concurrent: 30},
		BenchResult: agent.BenchResult{P50: 300 * time.Millisecond, P99: 1200 * time.Millisecond,
			Concurrent: 2500 * time.Millisecond, RSSBytes: 45e6},
	}
	got := r.Markdown()
	for _, want := range []string{
		"| Pod create→Running p50, 50 sequential pods | 300 ms | ≤ 500 ms | pass |",
		"| Pod create→Running p99, 50 sequential pods | 1200 ms | ≤ 1 s | **fail** |",
		"| 30 pods created at once, first create → all Running | 2.50 s | – | – |",
		"| 45 MB | ≤ 60 MB | pass |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}
