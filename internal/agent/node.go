package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Standard node labels the agent always sets.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelOS       = "kubernetes.io/os"
	LabelArch     = "kubernetes.io/arch"
)

// register creates the Node, or adopts an existing one and brings its
// labels and status up to date.
func (a *Agent) register(ctx context.Context, now time.Time) error {
	nodes := a.cfg.Client.CoreV1().Nodes()
	want := a.initialNode(now)
	node, err := nodes.Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		node, err = nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if err == nil && !hasAll(node.Labels, want.Labels) {
			node = node.DeepCopy()
			if node.Labels == nil {
				node.Labels = map[string]string{}
			}
			maps.Copy(node.Labels, want.Labels)
			node, err = nodes.Update(ctx, node, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("node %s: %w", a.cfg.NodeName, err)
	}
	a.node = slim(node)
	a.lastReport = time.Time{}
	a.lastStatus = corev1.NodeStatus{}
	return a.reportStatus(ctx, now)
}

// slim keeps only the identity of a node: the agent holds thousands of
// them in hollow-node runs.
func slim(n *corev1.Node) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, UID: n.UID}}
}

func hasAll(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func (a *Agent) initialNode(now time.Time) *corev1.Node {
	labels := map[string]string{
		LabelHostname: a.cfg.NodeName,
		LabelOS:       a.cfg.NodeInfo.OperatingSystem,
		LabelArch:     a.cfg.NodeInfo.Architecture,
	}
	maps.Copy(labels, a.cfg.Labels)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: labels, Annotations: maps.Clone(a.cfg.Annotations)},
		Spec:       corev1.NodeSpec{Taints: a.cfg.Taints},
		Status:     a.nodeStatus(now),
	}
}

// nodeStatus is the status the node should report at now. Heartbeat
// times are now; transition times are kept from the last report.
func (a *Agent) nodeStatus(now time.Time) corev1.NodeStatus {
	info := a.cfg.NodeInfo
	info.ContainerRuntimeVersion = a.version.RuntimeName + "://" + a.version.RuntimeVersion
	id := sha256.Sum256([]byte(a.cfg.NodeName))
	if info.MachineID == "" {
		info.MachineID = hex.EncodeToString(id[:16])
	}
	if info.SystemUUID == "" {
		info.SystemUUID = hex.EncodeToString(id[16:])
	}
	st := corev1.NodeStatus{
		Capacity:        a.cfg.Capacity.DeepCopy(),
		Allocatable:     a.cfg.Capacity.DeepCopy(),
		NodeInfo:        info,
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: a.cfg.KubeletPort}},
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: a.cfg.NodeName}},
	}
	if a.cfg.NodeIP != "" {
		st.Addresses = append([]corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: a.cfg.NodeIP}}, st.Addresses...)
	}
	beat := metaTime(now)
	type cond struct {
		t               corev1.NodeConditionType
		s               corev1.ConditionStatus
		reason, message string
	}
	var conds []cond
	for _, t := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		s, reason, msg := a.pressureCondition(t)
		conds = append(conds, cond{t, s, reason, msg})
	}
	conds = append(conds, cond{corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"})
	for _, c := range conds {
		cond := corev1.NodeCondition{Type: c.t, Status: c.s, Reason: c.reason, Message: c.message, LastHeartbeatTime: beat, LastTransitionTime: beat}
		for _, old := range a.lastStatus.Conditions {
			if old.Type == c.t && old.Status == c.s {
				cond.LastTransitionTime = old.LastTransitionTime
			}
		}
		st.Conditions = append(st.Conditions, cond)
	}
	return st
}

// withoutHeartbeats returns a copy of st whose heartbeat times are zero,
// for comparing what a status says.
func withoutHeartbeats(st corev1.NodeStatus) corev1.NodeStatus {
	st = *st.DeepCopy()
	for i := range st.Conditions {
		st.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	return st
}

// reportStatus writes node status if it changed or the report interval
// has passed.
func (a *Agent) reportStatus(ctx context.Context, now time.Time) error {
	st := a.nodeStatus(now)
	if !a.lastReport.IsZero() && now.Sub(a.lastReport) < a.cfg.StatusReportInterval &&
		apiequality.Semantic.DeepEqual(withoutHeartbeats(st), withoutHeartbeats(a.lastStatus)) {
		return nil
	}
	body, err := json.Marshal(map[string]any{"status": st})
	if err != nil {
		return fmt.Errorf("encoding node status: %w", err)
	}
	node, err := a.cfg.Client.CoreV1().Nodes().Patch(ctx, a.cfg.NodeName, types.MergePatchType, body, metav1.PatchOptions{}, "status")
	if apierrors.IsNotFound(err) {
		a.node = nil // deleted: register again
	}
	if err != nil {
		return fmt.Errorf("patching node status: %w", err)
	}
	a.node = slim(node)
	a.lastStatus = st
	a.lastReport = now
	return nil
}

// renewLease creates or renews the node's Lease in kube-node-lease.
func (a *Agent) renewLease(ctx context.Context, now time.Time) error {
	leases := a.cfg.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	renew := metav1.NewMicroTime(now)
	if a.lease == nil {
		l, err := leases.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			l, err = leases.Create(ctx, a.newLease(renew), metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("creating lease: %w", err)
			}
			a.lease = l
			return nil
		case err != nil:
			return fmt.Errorf("getting lease: %w", err)
		}
		a.lease = l
	}
	l := a.lease.DeepCopy()
	l.Spec.RenewTime = &renew
	holder := a.cfg.NodeName
	l.Spec.HolderIdentity = &holder
	secs := int32(a.cfg.LeaseDuration / time.Second)
	l.Spec.LeaseDurationSeconds = &secs
	l, err := leases.Update(ctx, l, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("renewing lease: %w", err)
	}
	a.lease = l
	return nil
}

func (a *Agent) newLease(renew metav1.MicroTime) *coordinationv1.Lease {
	holder := a.cfg.NodeName
	secs := int32(a.cfg.LeaseDuration / time.Second)
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Namespace: corev1.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, RenewTime: &renew},
	}
	if a.node != nil && a.node.UID != "" {
		l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: a.node.Name, UID: a.node.UID}}
	}
	return l
}
