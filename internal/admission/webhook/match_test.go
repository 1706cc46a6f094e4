package webhook

import (
	"context"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func podAttrs(op admissionv1.Operation, sub string) *Attributes {
	return &Attributes{Operation: op, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, Subresource: sub,
		Kind: schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, Namespace: "ns1", Name: "p"}
}

func rule(ops []admissionregistrationv1.OperationType, groups, versions, resources []string, scope admissionregistrationv1.ScopeType) admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{Operations: ops,
		Rule: admissionregistrationv1.Rule{APIGroups: groups, APIVersions: versions, Resources: resources, Scope: &scope}}
}

func TestMatchesRules(t *testing.T) {
	create := []admissionregistrationv1.OperationType{admissionregistrationv1.Create}
	all := []admissionregistrationv1.OperationType{admissionregistrationv1.OperationAll}
	core, v1 := []string{""}, []string{"v1"}
	nsAttrs := &Attributes{Operation: admissionv1.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, Name: "x", Namespace: "x"}
	deploy := &Attributes{Operation: admissionv1.Update, Resource: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Subresource: "scale", Namespace: "a"}
	cases := []struct {
		name  string
		rule  admissionregistrationv1.RuleWithOperations
		attrs *Attributes
		want  bool
	}{
		{"exact pods create", rule(create, core, v1, []string{"pods"}, "*"), podAttrs(admissionv1.Create, ""), true},
		{"other operation", rule(create, core, v1, []string{"pods"}, "*"), podAttrs(admissionv1.Update, ""), false},
		{"star operation", rule(all, core, v1, []string{"pods"}, "*"), podAttrs(admissionv1.Delete, ""), true},
		{"other group", rule(create, []string{"apps"}, v1, []string{"pods"}, "*"), podAttrs(admissionv1.Create, ""), false},
		{"star group and version", rule(create, []string{"*"}, []string{"*"}, []string{"pods"}, "*"), podAttrs(admissionv1.Create, ""), true},
		{"other version", rule(create, core, []string{"v2"}, []string{"pods"}, "*"), podAttrs(admissionv1.Create, ""), false},
		{"pods does not match a subresource", rule(create, core, v1, []string{"pods"}, "*"), podAttrs(admissionv1.Create, "binding"), false},
		{"pods/* matches a subresource", rule(create, core, v1, []string{"pods/*"}, "*"), podAttrs(admissionv1.Create, "binding"), true},
		{"pods/* also matches the main resource", rule(create, core, v1, []string{"pods/*"}, "*"), podAttrs(admissionv1.Create, ""), true},
		{"star matches main resources only", rule(create, core, v1, []string{"*"}, "*"), podAttrs(admissionv1.Create, "status"), false},
		{"star main", rule(create, core, v1, []string{"*"}, "*"), podAttrs(admissionv1.Create, ""), true},
		{"*/scale", rule(all, []string{"*"}, v1, []string{"*/scale"}, "*"), deploy, true},
		{"*/* matches everything", rule(all, []string{"*"}, []string{"*"}, []string{"*/*"}, "*"), deploy, true},
		{"pods/status named", rule(create, core, v1, []string{"pods/status"}, "*"), podAttrs(admissionv1.Create, "status"), true},
		{"namespaced scope", rule(create, core, v1, []string{"pods"}, "Namespaced"), podAttrs(admissionv1.Create, ""), true},
		{"cluster scope refuses a namespaced object", rule(create, core, v1, []string{"pods"}, "Cluster"), podAttrs(admissionv1.Create, ""), false},
		{"namespace objects are cluster-scoped", rule(create, core, v1, []string{"namespaces"}, "Cluster"), nsAttrs, true},
		{"namespace objects are not namespaced", rule(create, core, v1, []string{"namespaces"}, "Namespaced"), nsAttrs, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := matchesRules([]admissionregistrationv1.RuleWithOperations{c.rule}, c.attrs); got != c.want {
				t.Errorf("matchesRules = %v, want %v", got, c.want)
			}
		})
	}
}

func labeledPod(lbls map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns1", Labels: lbls}}
}

func TestMatchesObjectSelector(t *testing.T) {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	notIn := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "skip", Operator: metav1.LabelSelectorOpDoesNotExist}}}
	cases := []struct {
		name     string
		sel      *metav1.LabelSelector
		obj, old map[string]string
		want     bool
	}{
		{"empty selector", &metav1.LabelSelector{}, nil, nil, true},
		{"new object matches", sel, map[string]string{"app": "web"}, nil, true},
		{"neither matches", sel, map[string]string{"app": "db"}, map[string]string{"app": "db"}, false},
		{"old object matches", sel, map[string]string{"app": "db"}, map[string]string{"app": "web"}, true},
		{"expression excludes", notIn, map[string]string{"skip": "1"}, nil, false},
		{"expression includes", notIn, map[string]string{"x": "1"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := podAttrs(admissionv1.Update, "")
			a.Object = labeledPod(c.obj)
			if c.old != nil {
				a.OldObject = labeledPod(c.old)
			}
			got, err := matchesObjectSelector(c.sel, a)
			if err != nil || got != c.want {
				t.Errorf("matchesObjectSelector = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestMatchesNamespaceSelector(t *testing.T) {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}
	labels := map[string]map[string]string{"prod": {"env": "prod"}, "dev": {"env": "dev"}}
	lookup := func(_ context.Context, name string) (map[string]string, error) { return labels[name], nil }
	nsObj := func(lbls map[string]string) *Attributes {
		return &Attributes{Operation: admissionv1.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"},
			Name: "n", Object: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "n", Labels: lbls}}}
	}
	node := &Attributes{Operation: admissionv1.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, Name: "n1"}
	inNS := func(ns string) *Attributes { a := podAttrs(admissionv1.Create, ""); a.Namespace = ns; return a }
	cases := []struct {
		name  string
		attrs *Attributes
		want  bool
	}{
		{"namespace labels match", inNS("prod"), true},
		{"namespace labels differ", inNS("dev"), false},
		{"namespace object uses its own labels", nsObj(map[string]string{"env": "prod"}), true},
		{"namespace object without the label", nsObj(nil), false},
		{"cluster-scoped objects always match", node, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := matchesNamespaceSelector(context.Background(), sel, c.attrs, lookup)
			if err != nil || got != c.want {
				t.Errorf("matchesNamespaceSelector = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}
