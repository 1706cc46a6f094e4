package scheduler

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"slices"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/scheduler/placement"
)

// Explanation says where a pod could go right now and why every other
// node refuses it: the scheduler's filters run over a snapshot read from
// the API, checking every node (no sampling).
type Explanation struct {
	// Pod is the pod explained, with its priority resolved.
	Pod *corev1.Pod
	// NumNodes is the number of nodes looked at.
	NumNodes int
	// Result holds the feasible nodes' best scores and each rejected
	// node's reasons.
	Result placement.Result
	// Message is the scheduler's one-line verdict: the FailedScheduling
	// message when no node fits, else the placement summary.
	Message string
	// Preemption says what preemption would do, when no node fits.
	Preemption string
	// Unserved is set when no profile serves the pod's schedulerName: the
	// scheduler leaves such pods alone (the first profile explains it).
	Unserved bool
}

// Explain reads the cluster through client and explains the placement of
// the pod namespace/name with the profile of its schedulerName (profiles
// nil: the default profile).
func Explain(ctx context.Context, client kubernetes.Interface, namespace, name string, profiles []placement.Profile) (*Explanation, error) {
	pod, err := client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading pod %s/%s: %w", namespace, name, err)
	}
	snap, classes, pdbs, err := readSnapshot(ctx, client, pod)
	if err != nil {
		return nil, err
	}
	pod = resolvePriority(pod, classes)
	cfg, served := profileFor(profiles, pod)
	// A bound pod is explained as if pending: its own usage must not count.
	snap.RemovePod(pod)
	pending := pod.DeepCopy()
	pending.Spec.NodeName = ""
	cfg.PercentageOfNodesToScore = 100
	res, err := placement.Schedule(pending, snap, cfg, newSeededRand(1))
	e := &Explanation{Pod: pod, NumNodes: len(snap.Nodes), Result: res, Message: res.Summary, Unserved: !served}
	if err == nil {
		return e, nil
	}
	fit, ok := err.(*placement.FitError)
	if !ok {
		e.Message = err.Error()
		return e, nil
	}
	e.Message = fit.Error()
	node, victims, ok := placement.Preempt(pending, snap, cfg, pdbs)
	switch {
	case ok && len(victims) > 0:
		names := make([]string, len(victims))
		for i, v := range victims {
			names[i] = v.Namespace + "/" + v.Name
		}
		e.Preemption = fmt.Sprintf("preemption would evict %d pod(s) on node %s: %s", len(victims), node, strings.Join(names, ", "))
	default:
		e.Preemption = fit.PreemptionMessage(pending)
	}
	return e, nil
}

// Write prints the explanation: the verdict, then one line per node
// (feasible nodes with their scores first, then rejected nodes by name).
func (e *Explanation) Write(w io.Writer) error {
	p := e.Pod
	status := "pending"
	if p.Spec.NodeName != "" {
		status = "bound to " + p.Spec.NodeName
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Pod %s/%s (%s; scheduler %s; priority %d)\n", p.Namespace, p.Name, status, p.Spec.SchedulerName, placement.PodPriority(p))
	if e.Unserved {
		fmt.Fprintf(&b, "Note: no profile serves scheduler %q; Skiff's scheduler leaves this pod alone.\n", p.Spec.SchedulerName)
	}
	if p.Status.NominatedNodeName != "" {
		fmt.Fprintf(&b, "Nominated node: %s\n", p.Status.NominatedNodeName)
	}
	fmt.Fprintf(&b, "%s\n", e.Message)
	if e.Preemption != "" {
		fmt.Fprintf(&b, "%s\n", e.Preemption)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tFITS\tSCORE / REASONS")
	for _, s := range e.Result.Scores {
		fmt.Fprintf(tw, "%s\tyes\t%s\n", s.Node, scoreText(e.Result.Scorers, s))
	}
	if extra := e.Result.Feasible - len(e.Result.Scores); extra > 0 {
		fmt.Fprintf(tw, "(%d more)\tyes\tlower scores\n", extra)
	}
	names := make([]string, 0, len(e.Result.Reasons))
	for n := range e.Result.Reasons {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(tw, "%s\tno\t%s\n", n, strings.Join(e.Result.Reasons[n], "; "))
	}
	return tw.Flush()
}

// scoreText is "total (Scorer=part, ...)".
func scoreText(names []string, s placement.NodeScore) string {
	parts := make([]string, len(s.Parts))
	for i, v := range s.Parts {
		parts[i] = fmt.Sprintf("%s=%d", names[i], v)
	}
	return fmt.Sprintf("%d (%s)", s.Total, strings.Join(parts, ", "))
}

// readSnapshot lists what placement needs: nodes, bound pods (priorities
// resolved), namespaces, volumes and claims; plus PriorityClasses and
// PodDisruptionBudgets for the pod's priority and preemption.
func readSnapshot(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod) (*placement.Snapshot, []*schedulingv1.PriorityClass, []*policyv1.PodDisruptionBudget, error) {
	all := metav1.ListOptions{}
	nodes, err := c.CoreV1().Nodes().List(ctx, all)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing nodes: %w", err)
	}
	pods, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName!="})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing pods: %w", err)
	}
	nss, err := c.CoreV1().Namespaces().List(ctx, all)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing namespaces: %w", err)
	}
	pvs, err := c.CoreV1().PersistentVolumes().List(ctx, all)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing persistent volumes: %w", err)
	}
	pvcs, err := c.CoreV1().PersistentVolumeClaims(pod.Namespace).List(ctx, all)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing persistent volume claims: %w", err)
	}
	pcs, err := c.SchedulingV1().PriorityClasses().List(ctx, all)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing priority classes: %w", err)
	}
	pdbList, err := c.PolicyV1().PodDisruptionBudgets("").List(ctx, all)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing pod disruption budgets: %w", err)
	}
	classes := pointers(pcs.Items)
	bound := pointers(pods.Items)
	for i, p := range bound {
		bound[i] = resolvePriority(p, classes)
	}
	snap := placement.NewSnapshot(pointers(nodes.Items), bound,
		placement.WithNamespaces(pointers(nss.Items)),
		placement.WithVolumes(pointers(pvs.Items), pointers(pvcs.Items)))
	return snap, classes, pointers(pdbList.Items), nil
}

// pointers returns pointers to the elements of items.
func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// newSeededRand returns a deterministic source for tie breaking.
func newSeededRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }
