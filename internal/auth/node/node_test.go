package node

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// fakeGraph holds pods; fresh holds those only a consistent read sees.
type fakeGraph struct{ cached, fresh []*corev1.Pod }

func (g fakeGraph) PodsOnNode(_ context.Context, node string, fresh bool) ([]*corev1.Pod, error) {
	src := g.cached
	if fresh {
		src = append(append([]*corev1.Pod{}, g.cached...), g.fresh...)
	}
	var out []*corev1.Pod
	for _, p := range src {
		if p.Spec.NodeName == node {
			out = append(out, p)
		}
	}
	return out, nil
}

func (g fakeGraph) Pod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	for _, p := range append(g.cached, g.fresh...) {
		if p.Namespace == ns && p.Name == name {
			return p, nil
		}
	}
	return nil, nil
}

func podOn(node, ns, name string, mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{}
	p.Name, p.Namespace, p.Spec.NodeName = name, ns, node
	if mutate != nil {
		mutate(p)
	}
	return p
}

func TestAuthorize(t *testing.T) {
	g := fakeGraph{
		cached: []*corev1.Pod{
			podOn("n1", "a", "web", func(p *corev1.Pod) {
				p.Spec.ServiceAccountName = "web-sa"
				p.Spec.Volumes = []corev1.Volume{
					{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-cfg"}}}},
					{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "web-data"}}},
					{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
						{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "projected"}}}}}}},
				}
				p.Spec.Containers = []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: "P", ValueFrom: &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "web-pass"}}}}}}}
				p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "registry"}}
			}),
			podOn("n2", "a", "db", func(p *corev1.Pod) {
				p.Spec.Containers = []corev1.Container{{Name: "c", EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db-pass"}}}}}}
			}),
		},
		fresh: []*corev1.Pod{podOn("n1", "a", "new", func(p *corev1.Pod) {
			p.Spec.ServiceAccountName = "new-sa"
			p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "new-secret"}}}}
		})},
	}
	n1 := &auth.User{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}
	res := func(verb, group, resource, sub, ns, name string) auth.Attributes {
		return auth.Attributes{User: n1, Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name, ResourceRequest: true}
	}
	allow, deny, none := auth.DecisionAllow, auth.DecisionDeny, auth.DecisionNoOpinion
	cases := []struct {
		name  string
		attrs auth.Attributes
		want  auth.Decision
	}{
		{"configmap of own pod", res("get", "", "configmaps", "", "a", "web-cfg"), allow},
		{"env secret of own pod", res("get", "", "secrets", "", "a", "web-pass"), allow},
		{"projected secret", res("get", "", "secrets", "", "a", "projected"), allow},
		{"pull secret", res("get", "", "secrets", "", "a", "registry"), allow},
		{"claim of own pod", res("get", "", "persistentvolumeclaims", "", "a", "web-data"), allow},
		{"secret of a pod just bound (consistent read)", res("get", "", "secrets", "", "a", "new-secret"), allow},
		{"secret of another node's pod", res("get", "", "secrets", "", "a", "db-pass"), deny},
		{"same name, other namespace", res("get", "", "configmaps", "", "b", "web-cfg"), deny},
		{"list secrets", res("list", "", "secrets", "", "a", ""), deny},
		{"watch configmaps", res("watch", "", "configmaps", "", "", ""), deny},
		{"token for own pod's account", res("create", "", "serviceaccounts", "token", "a", "web-sa"), allow},
		{"token for another account", res("create", "", "serviceaccounts", "token", "a", "default"), deny},
		{"read service accounts", res("get", "", "serviceaccounts", "", "a", "web-sa"), none},
		{"own pod status", res("patch", "", "pods", "status", "a", "web"), none},
		{"other node's pod status", res("patch", "", "pods", "status", "a", "db"), deny},
		{"delete other node's pod", res("delete", "", "pods", "", "a", "db"), deny},
		{"list pods", res("list", "", "pods", "", "", ""), none},
		{"exec into a pod", res("create", "", "pods", "exec", "a", "web"), deny},
		{"own node status", res("patch", "", "nodes", "status", "", "n1"), none},
		{"other node status", res("patch", "", "nodes", "status", "", "n2"), deny},
		{"delete another node", res("delete", "", "nodes", "", "", "n2"), deny},
		{"read another node", res("get", "", "nodes", "", "", "n2"), none},
		{"create a node", res("create", "", "nodes", "", "", ""), none},
		{"own lease", res("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "n1"), none},
		{"other lease", res("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "n2"), deny},
		{"lease elsewhere", res("update", "coordination.k8s.io", "leases", "", "kube-system", "x"), none},
		{"services", res("list", "", "services", "", "", ""), none},
		{"own DNS slice", res("update", "discovery.k8s.io", "endpointslices", "", "kube-system", "kube-dns-n1"), none},
		{"delete own DNS slice", res("delete", "discovery.k8s.io", "endpointslices", "", "kube-system", "kube-dns-n1"), none},
		{"create a DNS slice", res("create", "discovery.k8s.io", "endpointslices", "", "kube-system", ""), none},
		{"other node's DNS slice", res("update", "discovery.k8s.io", "endpointslices", "", "kube-system", "kube-dns-n2"), deny},
		{"another slice", res("delete", "discovery.k8s.io", "endpointslices", "", "kube-system", "kubernetes"), deny},
		{"create a slice elsewhere", res("create", "discovery.k8s.io", "endpointslices", "", "default", ""), deny},
		{"watch slices", res("watch", "discovery.k8s.io", "endpointslices", "", "", ""), none},
		{"not a node", auth.Attributes{User: &auth.User{Name: "system:node:n1"}, Verb: "get", Resource: "secrets", Namespace: "a", Name: "db-pass", ResourceRequest: true}, none},
	}
	z := &Authorizer{Graph: g}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, reason, err := z.Authorize(context.Background(), c.attrs)
			if err != nil || d != c.want {
				t.Fatalf("decision %v (%q, %v), want %v", d, reason, err, c.want)
			}
			if d == deny && reason == "" {
				t.Error("denial without a reason")
			}
		})
	}
}
