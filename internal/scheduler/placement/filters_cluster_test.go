package placement

import "testing"

// Filters that look beyond one node, table-driven over a small cluster.
func TestClusterFilters(t *testing.T) {
	const cluster = `
node a1 labels=zone=za
node a2 labels=zone=za
node b1 labels=zone=zb
node bare
ns default labels=team=web
ns db labels=team=db
pod web-0 node=a1 labels=app=web
pod db-0 ns=db node=b1 labels=app=db
`
	tests := []struct {
		name   string
		pod    string
		filter func(*cycle, *NodeInfo) []string
		want   string
	}{
		{"affinity same zone", "pod p\n\t\taffinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: web}}}]}}",
			checkInterPod, "a1=ok a2=ok b1=" + ReasonPodAffinity + " bare=" + ReasonPodAffinity},
		{"affinity other namespace by list", "pod p\n\t\taffinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, namespaces: [db], labelSelector: {matchLabels: {app: db}}}]}}",
			checkInterPod, "a1=" + ReasonPodAffinity + " a2=" + ReasonPodAffinity + " b1=ok bare=" + ReasonPodAffinity},
		{"affinity nil selector matches nothing", "pod p\n\t\taffinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone}]}}",
			checkInterPod, "a1=" + ReasonPodAffinity + " a2=" + ReasonPodAffinity + " b1=" + ReasonPodAffinity + " bare=" + ReasonPodAffinity},
		{"self affinity needs the topology key", "pod p labels=app=new\n\t\taffinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: new}}}]}}",
			checkInterPod, "a1=ok a2=ok b1=ok bare=" + ReasonPodAffinity},
		{"anti-affinity zone", "pod p\n\t\taffinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: web}}}]}}",
			checkInterPod, "a1=" + ReasonPodAntiAffinity + " a2=" + ReasonPodAntiAffinity + " b1=ok bare=ok"},
		{"anti-affinity namespaceSelector", "pod p\n\t\taffinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, namespaceSelector: {matchLabels: {team: db}}, labelSelector: {matchLabels: {app: db}}}]}}",
			checkInterPod, "a1=ok a2=ok b1=" + ReasonPodAntiAffinity + " bare=ok"},
		{"spread hostname", "pod p labels=app=web\n\t\ttopologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]",
			checkSpread, "a1=" + ReasonSpread + " a2=ok b1=ok bare=ok"},
		{"spread zone missing label", "pod p labels=app=web\n\t\ttopologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]",
			checkSpread, "a1=" + ReasonSpread + " a2=" + ReasonSpread + " b1=ok bare=" + ReasonSpreadMissingLabel},
		{"spread other namespace not counted", "pod p ns=db labels=app=web\n\t\ttopologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]",
			checkSpread, "a1=ok a2=ok b1=ok bare=" + ReasonSpreadMissingLabel},
		{"spread ignores ScheduleAnyway", "pod p labels=app=web\n\t\ttopologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}]",
			checkSpread, "a1=ok a2=ok b1=ok bare=ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loadScript(t, cluster+tt.pod)
			if got := perNode(t, s, "p", Config{}, filterWith(tt.filter)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestExistingAntiAffinity(t *testing.T) {
	s := loadScript(t, `
node a1 labels=zone=za
node a2 labels=zone=za
node b1 labels=zone=zb
pod guard node=a1
		affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: noisy}}}]}}
pod p labels=app=noisy
pod q labels=app=quiet
`)
	if got, want := perNode(t, s, "p", Config{}, filterWith(checkInterPod)), "a1="+ReasonExistingAntiAffinity+" a2="+ReasonExistingAntiAffinity+" b1=ok"; got != want {
		t.Errorf("noisy: got %s, want %s", got, want)
	}
	if got, want := perNode(t, s, "q", Config{}, filterWith(checkInterPod)), "a1=ok a2=ok b1=ok"; got != want {
		t.Errorf("quiet: got %s, want %s", got, want)
	}
}

func TestCheckVolumes(t *testing.T) {
	s := loadScript(t, `
node a labels=zone=za
node b labels=zone=zb
pv local
		nodeAffinity: {required: {nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [b]}]}]}}
pv anywhere
pvc c1 volume=local
pvc c2 volume=anywhere
pod p
		volumes: [{name: v, persistentVolumeClaim: {claimName: c1}}, {name: w, persistentVolumeClaim: {claimName: c2}}]
pod eph
		volumes: [{name: scratch, ephemeral: {volumeClaimTemplate: {spec: {}}}}]
`)
	if got, want := perNode(t, s, "p", Config{}, filterWith(checkVolumes)), "a="+ReasonVolumeNodeAffinity+" b=ok"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// The generic ephemeral volume's claim (eph-scratch) does not exist yet.
	if _, msg := newCycle(s.pod("eph"), s.snap, &Config{}); msg != `persistentvolumeclaim "eph-scratch" not found` {
		t.Errorf("ephemeral: got %q", msg)
	}
}
