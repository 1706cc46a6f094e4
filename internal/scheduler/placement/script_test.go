package placement

// Golden scripts in testdata/*.txt, in the style of etcd raft's data-driven
// tests. Each line is a command; lines indented by two spaces after a node,
// pod, pv or config command are YAML merged into that object's spec (or the
// config). schedule and preempt print their result after a "----" line, up
// to the next blank line. Run `go test -rewrite` to regenerate outputs.
//
//	node n1 cpu=4 mem=8Gi pods=110 labels=zone=a taints=k=v:NoSchedule,k2:PreferNoSchedule
//	     unschedulable notready unknown images=nginx:1.0@500Mi example.com/gpu=2
//	pod p ns=default node=n1 cpu=1 mem=1Gi storage=1Gi example.com/gpu=1 labels=app=web
//	    priority=10 ports=80,53/UDP,8080@127.0.0.1 image=nginx:1.0,redis tol=k=v:NoSchedule,k:NoExecute
//	    selector=disk=ssd never terminating
//	ns team-a labels=env=prod
//	pvc data volume=pv1        pv pv1 (YAML: nodeAffinity)
//	pdb web selector=app=web allowed=0
//	config (YAML)
//	bind p n1 / delete pod p / delete node n1
//	schedule p [scores=false] [bind]
//	preempt p

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata scripts")

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScript(t, f) })
	}
}

// script is the state one test file builds up.
type script struct {
	t       *testing.T
	snap    *Snapshot
	cfg     Config
	rnd     *rand.Rand
	pending map[string]*corev1.Pod // pods defined without node=
	pdbs    []*policyv1.PodDisruptionBudget
}

func runScript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &script{t: t, snap: NewSnapshot(nil, nil), rnd: rand.New(rand.NewSource(1)), pending: map[string]*corev1.Pod{}}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out strings.Builder
	for i := 0; i < len(lines); {
		line := lines[i]
		i++
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			continue
		}
		out.WriteString(line + "\n")
		var block []string
		for i < len(lines) && strings.HasPrefix(lines[i], "  ") {
			block = append(block, lines[i][2:])
			out.WriteString(lines[i] + "\n")
			i++
		}
		got, hasOutput := s.run(line, strings.Join(block, "\n"))
		if !hasOutput {
			continue
		}
		var want []string
		if i < len(lines) && lines[i] == "----" {
			i++
			for i < len(lines) && lines[i] != "" {
				want = append(want, lines[i])
				i++
			}
		} else if !*rewrite {
			t.Errorf("%s:%d: %q prints output but has no ---- section", path, i, line)
		}
		out.WriteString("----\n" + got + "\n")
		if i < len(lines) && lines[i] != "" {
			out.WriteString("\n")
		}
		if !*rewrite && strings.Join(want, "\n") != got {
			t.Errorf("%s:%d: %s\n--- want\n%s\n--- got\n%s", path, i, line, strings.Join(want, "\n"), got)
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// run executes one command; it returns output for schedule and preempt.
func (s *script) run(line, block string) (string, bool) {
	f := strings.Fields(line)
	args := map[string]string{}
	if len(f) > 2 {
		args = parseArgs(f[2:])
	}
	switch f[0] {
	case "node":
		n := makeNode(s.t, f[1], args)
		s.mergeYAML(block, &n.Spec)
		s.snap.SetNode(n)
	case "pod":
		p := makePod(s.t, f[1], args)
		s.mergeYAML(block, &p.Spec)
		if p.Spec.NodeName != "" {
			s.snap.AddPod(p)
		} else {
			s.pending[p.Name] = p
		}
	case "ns":
		s.snap.SetNamespace(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f[1], Labels: parseMap(args["labels"])}})
	case "pv":
		pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: f[1]}}
		s.mergeYAML(block, &pv.Spec)
		s.snap.SetVolume(pv)
	case "pvc":
		s.snap.SetClaim(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: f[1], Namespace: or(args["ns"], "default")},
			Spec: corev1.PersistentVolumeClaimSpec{VolumeName: args["volume"]}})
	case "pdb":
		allowed, _ := strconv.Atoi(args["allowed"])
		s.pdbs = append(s.pdbs, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: f[1], Namespace: or(args["ns"], "default")},
			Spec:       policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: parseMap(args["selector"])}, MinAvailable: &intstr.IntOrString{}},
			Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: int32(allowed)},
		})
	case "config":
		cfg, err := LoadConfig([]byte(block))
		if err != nil {
			s.t.Fatalf("%s: %v", line, err)
		}
		s.cfg = cfg
	case "bind":
		s.snap.Assume(s.pod(f[1]), f[2])
	case "delete":
		if f[1] == "node" {
			s.snap.RemoveNode(f[2])
		} else {
			s.snap.RemovePod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: f[2], Namespace: or(args["ns"], "default")}})
		}
	case "schedule":
		return s.schedule(s.pod(f[1]), args), true
	case "preempt":
		node, victims, ok := Preempt(s.pod(f[1]), s.snap, s.cfg, s.pdbs)
		if !ok {
			_, err := Schedule(s.pod(f[1]), s.snap, s.cfg, s.rnd)
			var fe *FitError
			if !errors.As(err, &fe) {
				return fmt.Sprintf("no preemption (schedule: %v)", err), true
			}
			return "no preemption\n" + fe.PreemptionMessage(s.pod(f[1])), true
		}
		var names []string
		for _, v := range victims {
			names = append(names, v.Name)
		}
		return fmt.Sprintf("node: %s\nvictims: %s", node, strings.Join(names, " ")), true
	default:
		s.t.Fatalf("unknown command %q", line)
	}
	return "", false
}

func (s *script) pod(name string) *corev1.Pod {
	p := s.pending[name]
	if p == nil {
		s.t.Fatalf("no pending pod %q", name)
	}
	return p
}

func (s *script) mergeYAML(block string, into any) {
	if block == "" {
		return
	}
	if err := yaml.UnmarshalStrict([]byte(block), into); err != nil {
		s.t.Fatalf("yaml block %q: %v", block, err)
	}
}

// schedule prints the decision, scores and per-node reasons.
func (s *script) schedule(p *corev1.Pod, args map[string]string) string {
	res, err := Schedule(p, s.snap, s.cfg, s.rnd)
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	} else {
		fmt.Fprintf(&b, "node: %s (%d/%d feasible)\n", res.Node, res.Feasible, res.Evaluated)
		if _, bind := args["bind"]; bind {
			s.snap.Assume(p, res.Node)
		}
	}
	if args["scores"] != "false" {
		for _, sc := range res.Scores {
			fmt.Fprintf(&b, "  %s %d =", sc.Node, sc.Total)
			for i, part := range sc.Parts {
				fmt.Fprintf(&b, " %s:%d", shortScorer(res.Scorers[i]), part)
			}
			b.WriteString("\n")
		}
	}
	names := make([]string, 0, len(res.Reasons))
	for n := range res.Reasons {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %s: %s\n", n, strings.Join(res.Reasons[n], "; "))
	}
	return strings.TrimRight(b.String(), "\n")
}

func shortScorer(name string) string {
	return map[string]string{
		ScoreResources: "fit", ScoreBalancedAllocation: "balanced", ScoreNodeAffinity: "nodeaff",
		ScoreInterPodAffinity: "podaff", ScoreTaintToleration: "taint", ScoreImageLocality: "image",
		ScoreTopologySpread: "spread",
	}[name]
}

// parseArgs turns key=value (or bare flags) into a map.
func parseArgs(fields []string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

func parseMap(s string) map[string]string {
	if s == "" {
		return nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// resourceArgs reads cpu=, mem=, storage=, pods= and name/with/slash=qty.
func resourceArgs(t *testing.T, args map[string]string) corev1.ResourceList {
	rl := corev1.ResourceList{}
	for k, v := range args {
		var name corev1.ResourceName
		switch {
		case k == "cpu":
			name = corev1.ResourceCPU
		case k == "mem":
			name = corev1.ResourceMemory
		case k == "storage":
			name = corev1.ResourceEphemeralStorage
		case k == "pods":
			name = corev1.ResourcePods
		case strings.Contains(k, "/"):
			name = corev1.ResourceName(k)
		default:
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			t.Fatalf("%s=%s: %v", k, v, err)
		}
		rl[name] = q
	}
	return rl
}

func makeNode(t *testing.T, name string, args map[string]string) *corev1.Node {
	alloc := resourceArgs(t, map[string]string{"cpu": or(args["cpu"], "4"), "mem": or(args["mem"], "16Gi"), "pods": or(args["pods"], "110")})
	for k, v := range resourceArgs(t, args) {
		alloc[k] = v
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status:     corev1.NodeStatus{Allocatable: alloc, Capacity: alloc},
	}
	for k, v := range parseMap(args["labels"]) {
		n.Labels[k] = v
	}
	_, n.Spec.Unschedulable = args["unschedulable"]
	ready := corev1.ConditionTrue
	if _, ok := args["notready"]; ok {
		ready = corev1.ConditionFalse
	}
	if _, ok := args["unknown"]; ok {
		ready = corev1.ConditionUnknown
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}
	for _, ts := range splitList(args["taints"]) {
		kv, effect, _ := strings.Cut(ts, ":")
		k, v, _ := strings.Cut(kv, "=")
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffect(effect)})
	}
	for _, img := range splitList(args["images"]) {
		iname, size, _ := strings.Cut(img, "@")
		q := resource.MustParse(size)
		n.Status.Images = append(n.Status.Images, corev1.ContainerImage{Names: []string{iname}, SizeBytes: q.Value()})
	}
	return n
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func makePod(t *testing.T, name string, args map[string]string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: or(args["ns"], "default"), Labels: parseMap(args["labels"])},
		Spec:       corev1.PodSpec{NodeName: args["node"], NodeSelector: parseMap(args["selector"])},
	}
	c := corev1.Container{Name: "c", Image: or(args["image"], "pause")}
	c.Resources.Requests = resourceArgs(t, args)
	for _, ps := range splitList(args["ports"]) {
		ps, ip, _ := strings.Cut(ps, "@")
		port, proto, _ := strings.Cut(ps, "/")
		n, _ := strconv.Atoi(port)
		c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: int32(n), HostPort: int32(n), HostIP: ip, Protocol: corev1.Protocol(proto)})
	}
	images := splitList(c.Image)
	for i, img := range images {
		ci := c
		ci.Name, ci.Image = fmt.Sprintf("c%d", i), img
		if i > 0 {
			ci.Resources, ci.Ports = corev1.ResourceRequirements{}, nil
		}
		p.Spec.Containers = append(p.Spec.Containers, ci)
	}
	if v, ok := args["priority"]; ok {
		prio, _ := strconv.Atoi(v)
		p.Spec.Priority = ptr(int32(prio))
	}
	if _, ok := args["never"]; ok {
		p.Spec.PreemptionPolicy = ptr(corev1.PreemptNever)
	}
	if _, ok := args["terminating"]; ok {
		p.DeletionTimestamp = &metav1.Time{}
	}
	p.Status.Phase = corev1.PodPhase(or(args["phase"], "Running"))
	for _, ts := range splitList(args["tol"]) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, parseToleration(ts))
	}
	return p
}

// parseToleration reads k=v:Effect (Equal), k:Effect (Exists) or * (all).
func parseToleration(s string) corev1.Toleration {
	if s == "*" {
		return corev1.Toleration{Operator: corev1.TolerationOpExists}
	}
	kv, effect, _ := strings.Cut(s, ":")
	k, v, hasValue := strings.Cut(kv, "=")
	tol := corev1.Toleration{Key: k, Value: v, Effect: corev1.TaintEffect(effect), Operator: corev1.TolerationOpEqual}
	if !hasValue {
		tol.Operator = corev1.TolerationOpExists
	}
	return tol
}

func ptr[T any](v T) *T { return &v }
