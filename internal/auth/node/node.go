package node

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// Node identities.
const (
	// UserPrefix starts a node's user name.
	UserPrefix = "system:node:"
	// Group holds every node.
	Group = "system:nodes"
	// LeaseNamespace holds the nodes' heartbeat Leases.
	LeaseNamespace = "kube-node-lease"
)

// Graph tells the authorizer which pods are bound to a node.
type Graph interface {
	// PodsOnNode returns the pods bound to node. fresh asks for a
	// consistent read, used before denying, since a cached answer may lag
	// a pod bound a moment ago. The pods are never modified.
	PodsOnNode(ctx context.Context, node string, fresh bool) ([]*corev1.Pod, error)
	// Pod returns one pod, or nil when it does not exist.
	Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
}

// Authorizer is the Node authorizer.
type Authorizer struct {
	Graph Graph
}

var _ auth.Authorizer = (*Authorizer)(nil)

// NodeName returns the node a user is, if it is one.
func NodeName(u *auth.User) (string, bool) {
	if u == nil || !slices.Contains(u.Groups, Group) {
		return "", false
	}
	name, ok := strings.CutPrefix(u.Name, UserPrefix)
	return name, ok && name != ""
}

// noRelationship is the reason of a denial, in upstream's words.
func noRelationship(node string) string {
	return fmt.Sprintf("no relationship found between node '%s' and this object", node)
}

// Authorize implements auth.Authorizer.
func (z *Authorizer) Authorize(ctx context.Context, a auth.Attributes) (auth.Decision, string, error) {
	node, ok := NodeName(a.User)
	if !ok || !a.ResourceRequest {
		return auth.DecisionNoOpinion, "", nil
	}
	switch a.APIGroup + "/" + a.Resource {
	case "/secrets", "/configmaps", "/persistentvolumeclaims":
		if a.Subresource != "" || a.Verb != "get" {
			return auth.DecisionDeny, "can only get individual resources of this type", nil
		}
		return z.decideReferenced(ctx, node, a, func(p *corev1.Pod) bool { return references(p, a.Resource, a.Name) })
	case "/serviceaccounts":
		if a.Subresource != "token" {
			return auth.DecisionNoOpinion, "", nil
		}
		if a.Verb != "create" {
			return auth.DecisionDeny, "can only create tokens for individual service accounts", nil
		}
		return z.decideReferenced(ctx, node, a, func(p *corev1.Pod) bool { return serviceAccountOf(p) == a.Name })
	case "/pods":
		return z.decidePod(ctx, node, a)
	case "/nodes":
		return decideOwnName(node, a, false)
	case "discovery.k8s.io/endpointslices":
		return decideDNSSlice(node, a)
	case "coordination.k8s.io/leases":
		if a.Namespace != LeaseNamespace {
			return auth.DecisionNoOpinion, "", nil
		}
		return decideOwnName(node, a, true)
	}
	return auth.DecisionNoOpinion, "", nil
}

// decideOwnName confines requests to the object named after node: writes
// always, reads when readsRestricted. Creates carry no name in the URL and
// go to RBAC.
func decideOwnName(node string, a auth.Attributes, readsRestricted bool) (auth.Decision, string, error) {
	read := a.Verb == "get" || a.Verb == "list" || a.Verb == "watch"
	if read && !readsRestricted || a.Verb == "create" && a.Name == "" {
		return auth.DecisionNoOpinion, "", nil
	}
	if a.Name != node {
		return auth.DecisionDeny, noRelationship(node), nil
	}
	return auth.DecisionNoOpinion, "", nil
}

// DNSSlicePrefix starts the name of the EndpointSlice a node publishes
// for its DNS server in kube-system ("kube-dns-<node>").
const DNSSlicePrefix = "kube-dns-"

// decideDNSSlice confines a node's EndpointSlice writes to its own DNS
// slice in kube-system; reads go to RBAC. Creates carry no name in the
// URL: they are confined to kube-system only.
func decideDNSSlice(node string, a auth.Attributes) (auth.Decision, string, error) {
	switch a.Verb {
	case "get", "list", "watch":
		return auth.DecisionNoOpinion, "", nil
	}
	own := a.Name == DNSSlicePrefix+node || a.Verb == "create" && a.Name == ""
	if a.Namespace != "kube-system" || !own {
		return auth.DecisionDeny, noRelationship(node), nil
	}
	return auth.DecisionNoOpinion, "", nil
}

// decidePod confines pod status writes, deletes and evictions to pods
// bound to node; reads and creates (mirror pods) go to RBAC.
func (z *Authorizer) decidePod(ctx context.Context, node string, a auth.Attributes) (auth.Decision, string, error) {
	switch {
	case a.Subresource == "" && a.Verb != "delete", a.Subresource == "" && a.Name == "":
		return auth.DecisionNoOpinion, "", nil
	case a.Subresource != "" && a.Subresource != "status" && a.Subresource != "eviction":
		return auth.DecisionDeny, noRelationship(node), nil
	}
	p, err := z.Graph.Pod(ctx, a.Namespace, a.Name)
	if err != nil {
		return auth.DecisionNoOpinion, "", fmt.Errorf("node authorizer: %w", err)
	}
	if p == nil {
		// Nothing to protect: the request fails with NotFound.
		return auth.DecisionNoOpinion, "", nil
	}
	if p.Spec.NodeName != node {
		return auth.DecisionDeny, noRelationship(node), nil
	}
	return auth.DecisionNoOpinion, "", nil
}

// decideReferenced allows a when some pod bound to node in a's namespace
// passes uses, looking again with a consistent read before denying.
func (z *Authorizer) decideReferenced(ctx context.Context, node string, a auth.Attributes, uses func(*corev1.Pod) bool) (auth.Decision, string, error) {
	if a.Name == "" {
		return auth.DecisionDeny, "can only get individual resources of this type", nil
	}
	for _, fresh := range []bool{false, true} {
		pods, err := z.Graph.PodsOnNode(ctx, node, fresh)
		if err != nil {
			return auth.DecisionNoOpinion, "", fmt.Errorf("node authorizer: %w", err)
		}
		for _, p := range pods {
			if p.Namespace == a.Namespace && uses(p) {
				return auth.DecisionAllow, "", nil
			}
		}
	}
	return auth.DecisionDeny, noRelationship(node), nil
}
