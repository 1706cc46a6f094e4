package placement

import (
	"strings"
	"testing"
)

func TestLoadProfiles(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    map[string]func(Config) bool // by schedulerName
		wantErr string
	}{
		{"own, one profile", "scoring: MostAllocated\n", map[string]func(Config) bool{
			DefaultProfileName: func(c Config) bool { return c.Scoring == MostAllocated },
		}, ""},
		{"own, several", `profiles:
- weights: {ImageLocality: 0}
- schedulerName: packer
  scoring: MostAllocated
  percentageOfNodesToScore: 100
`, map[string]func(Config) bool{
			DefaultProfileName: func(c Config) bool { return c.weight(ScoreImageLocality) == 0 && c.Scoring == "" },
			"packer":           func(c Config) bool { return c.Scoring == MostAllocated && c.PercentageOfNodesToScore == 100 },
		}, ""},
		{"upstream, several", `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
- schedulerName: default-scheduler
  plugins:
    multiPoint:
      enabled: [{name: NodeAffinity, weight: 9}]
- schedulerName: no-scoring
  percentageOfNodesToScore: 10
  plugins:
    score:
      disabled: [{name: "*"}]
`, map[string]func(Config) bool{
			DefaultProfileName: func(c Config) bool { return c.weight(ScoreNodeAffinity) == 9 && c.PercentageOfNodesToScore == 30 },
			"no-scoring": func(c Config) bool {
				return c.weight(ScoreResources) == 0 && c.weight(ScoreTopologySpread) == 0 && c.PercentageOfNodesToScore == 10
			},
		}, ""},
		{"empty upstream", "kind: KubeSchedulerConfiguration\n", map[string]func(Config) bool{
			DefaultProfileName: func(c Config) bool { return c.weight(ScoreTaintToleration) == 3 },
		}, ""},
		{"duplicate names", "profiles:\n- {}\n- schedulerName: default-scheduler\n", nil, `schedulerName "default-scheduler" appears twice`},
		{"no profiles", "profiles: []\n", nil, "at least one profile"},
		{"own, unknown field", "profiles:\n- schedulerName: a\n  scorng: MostAllocated\n", nil, "unknown field"},
		{"own, invalid weight", "profiles:\n- schedulerName: a\n  weights: {NodeAffinity: 101}\n", nil, `profile "a": weights: NodeAffinity=101 out of range`},
		{"filters cannot be disabled", "kind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    filter:\n      disabled: [{name: TaintToleration}]\n", nil,
			`profile "default-scheduler": plugins.filter: only score plugins can be configured`},
		{"unknown score plugin", "kind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    score:\n      enabled: [{name: NodeResourcesLeastAllocated}]\n", nil,
			`unknown score plugin "NodeResourcesLeastAllocated" (known: ImageLocality, InterPodAffinity,`},
		{"unknown args field", "kind: KubeSchedulerConfiguration\nprofiles:\n- pluginConfig:\n  - {name: NodeResourcesFit, args: {ignoredResources: [x]}}\n", nil,
			`pluginConfig NodeResourcesFit: args: json: unknown field "ignoredResources"`},
		{"args of other plugins", "kind: KubeSchedulerConfiguration\nprofiles:\n- pluginConfig:\n  - {name: DefaultPreemption, args: {}}\n", nil,
			"pluginConfig DefaultPreemption: arguments are read only for NodeResourcesFit and InterPodAffinity"},
		{"wrong apiVersion", "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n", nil, `apiVersion "kubescheduler.config.k8s.io/v1beta3"`},
		{"not yaml", "scoring: [\n", nil, "scheduler config: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadProfiles([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got err %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d profiles %+v, want %d", len(got), got, len(tt.want))
			}
			for _, p := range got {
				check, ok := tt.want[p.SchedulerName]
				if !ok {
					t.Errorf("unexpected profile %q", p.SchedulerName)
				} else if !check(p.Config) {
					t.Errorf("profile %q: unexpected config %+v", p.SchedulerName, p.Config)
				}
			}
		})
	}
}
