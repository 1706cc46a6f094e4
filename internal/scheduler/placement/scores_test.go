package placement

import (
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"math/rand"
	"strings"
	"testing"
)

// loadScript runs script commands (no output commands) and returns the state.
func loadScript(t *testing.T, text string) *script {
	t.Helper()
	s := &script{t: t, snap: NewSnapshot(nil, nil), rnd: rand.New(rand.NewSource(1)), pending: map[string]*corev1.Pod{}}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := 0; i < len(lines); {
		line := strings.TrimSpace(lines[i])
		i++
		var block []string
		for i < len(lines) && strings.HasPrefix(lines[i], "\t\t") {
			block = append(block, strings.TrimPrefix(lines[i], "\t\t"))
			i++
		}
		if line != "" {
			s.run(line, strings.Join(block, "\n"))
		}
	}
	return s
}

// perNode runs fn for pod over all snapshot nodes and renders "node=value".
func perNode(t *testing.T, s *script, pod string, cfg Config, fn func(c *cycle, nodes []*NodeInfo) []string) string {
	t.Helper()
	c, msg := newCycle(s.pod(pod), s.snap, &cfg)
	if msg != "" {
		t.Fatal(msg)
	}
	vals := fn(c, s.snap.Nodes)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = s.snap.Nodes[i].Name() + "=" + v
	}
	return strings.Join(out, " ")
}

func scoreWith(sc func(*cycle, []*NodeInfo, []int64)) func(*cycle, []*NodeInfo) []string {
	return func(c *cycle, nodes []*NodeInfo) []string {
		out := make([]int64, len(nodes))
		sc(c, nodes, out)
		vals := make([]string, len(out))
		for i, v := range out {
			vals[i] = fmt.Sprint(v)
		}
		return vals
	}
}

func filterWith(f func(*cycle, *NodeInfo) []string) func(*cycle, []*NodeInfo) []string {
	return func(c *cycle, nodes []*NodeInfo) []string {
		vals := make([]string, len(nodes))
		for i, n := range nodes {
			vals[i] = "ok"
			if r := f(c, n); r != nil {
				vals[i] = strings.Join(r, ";")
			}
		}
		return vals
	}
}

func TestScorers(t *testing.T) {
	const cluster = `
node a cpu=4 mem=8Gi labels=zone=z1,disk=ssd images=img:1@500Mi
node b cpu=4 mem=8Gi labels=zone=z2 taints=t=1:PreferNoSchedule,u=2:PreferNoSchedule images=img:1@500Mi,big:2@2000Mi
node c cpu=8 mem=8Gi labels=zone=z2 taints=t=1:PreferNoSchedule
pod a1 node=a cpu=2 mem=2Gi labels=app=x
pod b1 node=b cpu=1 mem=6Gi labels=app=w
`
	tests := []struct {
		name   string
		extra  string
		scorer func(*cycle, []*NodeInfo, []int64)
		cfg    Config
		want   string
	}{
		{"least allocated", "pod p cpu=1 mem=1Gi", scoreResources, Config{}, "a=43 b=31 c=87"},
		{"most allocated", "pod p cpu=1 mem=1Gi", scoreResources, Config{Scoring: MostAllocated}, "a=56 b=68 c=12"},
		{"cpu only, weighted", "pod p cpu=1 mem=1Gi", scoreResources, Config{Resources: []ResourceWeight{{"cpu", 3}}}, "a=25 b=50 c=87"},
		{"balanced", "pod p cpu=1 mem=1Gi", scoreBalanced, Config{}, "a=81 b=81 c=100"},
		{"balanced skips best effort", "pod p", scoreBalanced, Config{}, "a=0 b=0 c=0"},
		{"taint toleration", "pod p", scoreTaints, Config{}, "a=100 b=0 c=50"},
		{"taint toleration tolerated", "pod p tol=u:PreferNoSchedule", scoreTaints, Config{}, "a=100 b=0 c=0"},
		{"image locality", "pod p image=img:1,big:2", scoreImages, Config{}, "a=15 b=49 c=0"},
		{"image locality normalizes :latest", "pod p image=img", scoreImages, Config{}, "a=0 b=0 c=0"},
		{"node affinity preferred", "pod p\n\t\taffinity:\n\t\t  nodeAffinity:\n\t\t    preferredDuringSchedulingIgnoredDuringExecution:\n\t\t    - {weight: 10, preference: {matchExpressions: [{key: zone, operator: In, values: [z2]}]}}\n\t\t    - {weight: 30, preference: {matchExpressions: [{key: disk, operator: Exists}]}}",
			scoreNodeAffinity, Config{}, "a=100 b=33 c=33"},
		{"pod affinity preferred", "pod p\n\t\taffinity:\n\t\t  podAffinity:\n\t\t    preferredDuringSchedulingIgnoredDuringExecution:\n\t\t    - {weight: 10, podAffinityTerm: {topologyKey: zone, labelSelector: {matchLabels: {app: w}}}}",
			scoreInterPod, Config{}, "a=0 b=100 c=100"},
		{"pod anti-affinity preferred", "pod p\n\t\taffinity:\n\t\t  podAntiAffinity:\n\t\t    preferredDuringSchedulingIgnoredDuringExecution:\n\t\t    - {weight: 10, podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: x}}}}",
			scoreInterPod, Config{}, "a=0 b=100 c=100"},
		{"spread schedule anyway", "pod p labels=app=x\n\t\ttopologySpreadConstraints:\n\t\t- {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: x}}}",
			scoreSpread, Config{}, "a=0 b=100 c=100"},
		{"spread schedule anyway, equal domains", "pod p labels=app=x\n\t\ttopologySpreadConstraints:\n\t\t- {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchExpressions: [{key: app, operator: Exists}]}}",
			scoreSpread, Config{}, "a=100 b=100 c=100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loadScript(t, cluster+tt.extra)
			if got := perNode(t, s, "p", tt.cfg, scoreWith(tt.scorer)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
