package apiserver

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/auth"
	"github.com/skiffkube/skiff/internal/auth/bootstraptoken"
	"github.com/skiffkube/skiff/internal/auth/node"
	"github.com/skiffkube/skiff/internal/auth/rbac"
	"github.com/skiffkube/skiff/internal/auth/serviceaccount"
	"github.com/skiffkube/skiff/internal/storage/cacher"
)

// buildAuth assembles the authentication and authorization chains from
// Config and what this server stores: service account and bootstrap
// tokens are checked against its own objects, and RBAC reads its own
// roles and bindings.
func (s *Server) buildAuth() {
	var tokens auth.TokenUnion
	if s.cfg.ServiceAccountTokens != nil {
		tokens = append(tokens, &serviceaccount.Authenticator{Keys: s.cfg.ServiceAccountTokens, Lookup: objectLookup{s}, Now: s.cfg.Clock.Now})
		tokens = append(tokens, &serviceaccount.LegacyAuthenticator{Keys: s.cfg.ServiceAccountTokens, Lookup: legacyLookup{s}})
	}
	if s.cfg.BootstrapTokens {
		tokens = append(tokens, &bootstraptoken.Authenticator{Secrets: s.getSecret, Now: s.cfg.Clock.Now})
	}
	s.tokens = tokens
	if s.cfg.Authenticator != nil || len(tokens) > 0 {
		var u auth.Union
		if s.cfg.Authenticator != nil {
			u = append(u, s.cfg.Authenticator)
		}
		if len(tokens) > 0 {
			u = append(u, auth.Bearer{Tokens: tokens})
		}
		s.authenticator = u
	}
	if !s.cfg.RBAC {
		s.authorizer = s.cfg.Authorizer
		return
	}
	s.rbacIndex = newRBACIndex(s)
	s.rbac = rbac.New(s.rbacIndex)
	chain := auth.AuthorizerUnion{rbac.Masters{}}
	if s.cfg.NodeAuthorization {
		chain = append(chain, &node.Authorizer{Graph: podGraph{s}})
	}
	if s.cfg.Authorizer != nil {
		chain = append(chain, s.cfg.Authorizer)
	}
	s.authorizer = append(chain, s.rbac)
	s.installEscalationChecks()
}

// installEscalationChecks refuses writes of Roles, ClusterRoles and their
// bindings that would grant more than the writer holds (unless the writer
// may "escalate" or "bind"), as upstream's RBAC storage does. Writes the
// server makes itself (no user in the context) pass.
func (s *Server) installEscalationChecks() {
	for _, r := range []string{"roles", "clusterroles", "rolebindings", "clusterrolebindings"} {
		rs := s.stores[rbacv1.SchemeGroupVersion.WithResource(r)]
		binding := r == "rolebindings" || r == "clusterrolebindings"
		check := func(ctx context.Context, obj, old runtime.Object) (func(), error) {
			user, ok := auth.UserFrom(ctx)
			if !ok {
				return func() {}, nil
			}
			var oldObj any
			if old != nil {
				oldObj = old
			}
			var err error
			if binding {
				err = rbac.BindingWriteAllowed(ctx, s.authorizer, s.rbac, user, obj, oldObj)
			} else {
				err = rbac.RoleWriteAllowed(ctx, s.authorizer, s.rbac, user, obj, oldObj)
			}
			if err != nil {
				return nil, escalationError(rs.gr, objectMeta(obj).GetName(), err)
			}
			return func() {}, nil
		}
		rs.hooks.beforeCreate = func(ctx context.Context, obj runtime.Object, _ bool) (func(), error) {
			return check(ctx, obj, nil)
		}
		rs.hooks.beforeUpdate = func(ctx context.Context, obj, old runtime.Object, _ bool) (func(), error) {
			return check(ctx, obj, old)
		}
	}
}

// escalationError is the 403 of a refused RBAC write.
func escalationError(gr schema.GroupResource, name string, err error) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	return apierrors.NewForbidden(gr, name, err)
}

// getSecret reads a Secret from the cache, falling back to the store when
// the cache does not have it yet; a missing one is (nil, nil).
func (s *Server) getSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	obj, err := s.lookupObject(ctx, schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, namespace, name)
	if obj == nil || err != nil {
		return nil, err
	}
	return obj.(*corev1.Secret), nil
}

// lookupObject reads an object from the watch cache, or from the store
// when the cache lacks it (it may lag a create by a moment); a missing
// object is (nil, nil).
func (s *Server) lookupObject(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	rs := s.stores[gvr]
	if obj, err := rs.cache.Get(ctx, rs.key(namespace, name), "0"); err == nil && obj != nil {
		return obj, nil
	}
	obj, _, err := rs.get(ctx, namespace, name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// objectLookup answers the service account authenticator from this
// server's objects.
type objectLookup struct{ s *Server }

func (l objectLookup) uid(ctx context.Context, resource, namespace, name string) (string, bool, error) {
	obj, err := l.s.lookupObject(ctx, schema.GroupVersionResource{Version: "v1", Resource: resource}, namespace, name)
	if obj == nil || err != nil {
		return "", false, err
	}
	// A pod being deleted keeps its tokens until it is gone: its
	// containers may still run during the grace period.
	return string(objectMeta(obj).GetUID()), true, nil
}

func (l objectLookup) ServiceAccountUID(ctx context.Context, namespace, name string) (string, bool, error) {
	return l.uid(ctx, "serviceaccounts", namespace, name)
}

func (l objectLookup) PodUID(ctx context.Context, namespace, name string) (string, bool, error) {
	return l.uid(ctx, "pods", namespace, name)
}

func (l objectLookup) SecretUID(ctx context.Context, namespace, name string) (string, bool, error) {
	return l.uid(ctx, "secrets", namespace, name)
}

func (l objectLookup) NodeUID(ctx context.Context, name string) (string, bool, error) {
	return l.uid(ctx, "nodes", "", name)
}

// podGraph answers the Node authorizer from the pod watch cache.
type podGraph struct{ s *Server }

func (g podGraph) pods() *resourceStore {
	return g.s.stores[schema.GroupVersionResource{Version: "v1", Resource: "pods"}]
}

// PodsOnNode implements node.Graph.
func (g podGraph) PodsOnNode(ctx context.Context, nodeName string, fresh bool) ([]*corev1.Pod, error) {
	rv := "0"
	if fresh {
		rv = "" // consistent: the cache catches up with the store first
	}
	res, err := g.pods().cache.List(ctx, cacher.ListOptions{ResourceVersion: rv, Field: fields.OneTermEqualSelector("spec.nodeName", nodeName)})
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(res.Items))
	for _, o := range res.Items {
		out = append(out, o.(*corev1.Pod))
	}
	return out, nil
}

// Pod implements node.Graph.
func (g podGraph) Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	obj, err := g.s.lookupObject(ctx, schema.GroupVersionResource{Version: "v1", Resource: "pods"}, namespace, name)
	if obj == nil || err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}
