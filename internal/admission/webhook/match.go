package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// matchesRules reports whether any rule covers the request.
func matchesRules(rules []admissionregistrationv1.RuleWithOperations, a *Attributes) bool {
	for _, r := range rules {
		if matchesRule(r, a) {
			return true
		}
	}
	return false
}

func matchesRule(r admissionregistrationv1.RuleWithOperations, a *Attributes) bool {
	ops := make([]string, len(r.Operations))
	for i, op := range r.Operations {
		ops[i] = string(op)
	}
	return containsOrStar(ops, string(a.Operation)) &&
		containsOrStar(r.APIGroups, a.Resource.Group) &&
		containsOrStar(r.APIVersions, a.Resource.Version) &&
		matchesResources(r.Resources, a.Resource.Resource, a.Subresource) &&
		matchesScope(r.Scope, a)
}

func containsOrStar(list []string, v string) bool {
	return slices.Contains(list, "*") || slices.Contains(list, v)
}

// matchesResources applies the resource patterns of a rule: "pods" is the
// main resource only, "pods/status" one subresource, "pods/*" pods and
// every subresource of pods, "*" every main resource, "*/scale" that
// subresource of every resource and "*/*" everything.
func matchesResources(patterns []string, resource, sub string) bool {
	for _, p := range patterns {
		res, pSub, hasSub := strings.Cut(p, "/")
		if res != "*" && res != resource {
			continue
		}
		if !hasSub {
			if sub == "" {
				return true
			}
			continue
		}
		if pSub == "*" || pSub == sub {
			return true
		}
	}
	return false
}

// matchesScope applies a rule's scope. Namespace objects are
// cluster-scoped whatever their request's namespace says.
func matchesScope(scope *admissionregistrationv1.ScopeType, a *Attributes) bool {
	if scope == nil || *scope == admissionregistrationv1.AllScopes {
		return true
	}
	isNamespace := a.Resource.Group == "" && a.Resource.Resource == "namespaces"
	clusterScoped := isNamespace || a.Namespace == ""
	if *scope == admissionregistrationv1.ClusterScope {
		return clusterScoped
	}
	return !clusterScoped
}

// matchesObjectSelector is true when the selector selects the labels of
// the new or of the old object.
func matchesObjectSelector(sel *metav1.LabelSelector, a *Attributes) (bool, error) {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return true, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, fmt.Errorf("invalid objectSelector: %w", err)
	}
	for _, obj := range []runtime.Object{a.Object, a.OldObject} {
		if obj == nil {
			continue
		}
		if s.Matches(labels.Set(objectLabels(obj))) {
			return true, nil
		}
	}
	return false, nil
}

// matchesNamespaceSelector applies the selector to the labels of the
// request's namespace; a Namespace object is matched on its own labels and
// other cluster-scoped objects always match.
func matchesNamespaceSelector(ctx context.Context, sel *metav1.LabelSelector, a *Attributes,
	nsLabels func(ctx context.Context, name string) (map[string]string, error)) (bool, error) {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return true, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, fmt.Errorf("invalid namespaceSelector: %w", err)
	}
	var lbls map[string]string
	switch {
	case a.Resource.Group == "" && a.Resource.Resource == "namespaces":
		obj := a.Object
		if obj == nil {
			obj = a.OldObject
		}
		lbls = objectLabels(obj)
	case a.Namespace == "":
		return true, nil
	default:
		if nsLabels == nil {
			return false, fmt.Errorf("no namespace lookup configured")
		}
		if lbls, err = nsLabels(ctx, a.Namespace); err != nil {
			return false, fmt.Errorf("reading the labels of namespace %q: %w", a.Namespace, err)
		}
	}
	return s.Matches(labels.Set(lbls)), nil
}

func objectLabels(obj runtime.Object) map[string]string {
	if obj == nil {
		return nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil
	}
	return m.GetLabels()
}
