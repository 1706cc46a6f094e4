package placement

import (
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		check   func(Config) bool
		wantErr string
	}{
		{"empty is default", "", func(c Config) bool {
			return c.Scoring == "" && c.weight(ScoreTaintToleration) == 3 && c.hardAffinityWeight() == 1 && len(c.resources()) == 2
		}, ""},
		{"own format", "scoring: MostAllocated\nweights: {ImageLocality: 0, NodeAffinity: 5}\npercentageOfNodesToScore: 30\nhardPodAffinityWeight: 0\n", func(c Config) bool {
			return c.Scoring == MostAllocated && c.weight(ScoreImageLocality) == 0 && c.weight(ScoreNodeAffinity) == 5 &&
				c.weight(ScoreResources) == 1 && c.PercentageOfNodesToScore == 30 && c.hardAffinityWeight() == 0
		}, ""},
		{"unknown field", "scorin: MostAllocated\n", nil, "unknown field"},
		{"bad strategy", "scoring: Random\n", nil, `scoring "Random"`},
		{"unknown scorer", "weights: {Foo: 1}\n", nil, `unknown scorer "Foo"`},
		{"bad percentage", "percentageOfNodesToScore: 101\n", nil, "percentageOfNodesToScore"},
		{"upstream", `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 20
profiles:
- plugins:
    score:
      disabled: [{name: ImageLocality}]
      enabled: [{name: InterPodAffinity, weight: 7}, {name: TaintToleration}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 2}, {name: memory, weight: 1}]}}
  - name: InterPodAffinity
    args: {hardPodAffinityWeight: 4}
`, func(c Config) bool {
			return c.Scoring == MostAllocated && c.weight(ScoreImageLocality) == 0 && c.weight(ScoreInterPodAffinity) == 7 &&
				c.weight(ScoreTaintToleration) == 3 && c.PercentageOfNodesToScore == 20 && c.hardAffinityWeight() == 4 &&
				len(c.Resources) == 2 && c.Resources[0].Weight == 2
		}, ""},
		{"upstream bad strategy", "kind: KubeSchedulerConfiguration\nprofiles:\n- pluginConfig:\n  - {name: NodeResourcesFit, args: {scoringStrategy: {type: RequestedToCapacityRatio}}}\n", nil, "RequestedToCapacityRatio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got err %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("unexpected config %+v", cfg)
			}
		})
	}
}
