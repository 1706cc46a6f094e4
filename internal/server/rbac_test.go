package server_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/auth/pki"
)

// userConfig is a client for user in groups, with a certificate signed by
// the cluster CA.
func userConfig(t *testing.T, user string, groups ...string) *rest.Config {
	t.Helper()
	ca, err := pki.EnsureCA(filepath.Join(filepath.Dir(fixture.srv.KubeconfigPath), "tls"), "skiff-ca", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueClientCert(user, groups, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(fixture.cfg)
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg
}

func clientFor(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// canI asks a SelfSubjectAccessReview as cs.
func canI(t *testing.T, cs kubernetes.Interface, verb, group, resource, ns string) bool {
	t.Helper()
	r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctxT(t), &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Namespace: ns}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectAccessReview: %v", err)
	}
	return r.Status.Allowed
}

// waitAllowed polls an SSAR until it answers want, failing after limit.
func waitAllowed(t *testing.T, cs kubernetes.Interface, want bool, limit time.Duration, verb, group, resource, ns string) time.Duration {
	t.Helper()
	start := time.Now()
	for canI(t, cs, verb, group, resource, ns) != want {
		if time.Since(start) > limit {
			t.Fatalf("%s %s.%s in %q: still allowed=%v after %v", verb, resource, group, ns, !want, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func TestForbiddenAsUpstream(t *testing.T) {
	jane := clientFor(t, userConfig(t, "jane"))
	_, err := jane.CoreV1().Pods("default").List(ctxT(t), metav1.ListOptions{})
	want := `pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"`
	var st apierrors.APIStatus
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("list pods: %v\nwant %s", err, want)
	}
	if !asStatus(err, &st) || st.Status().Details == nil || st.Status().Details.Kind != "pods" || st.Status().Code != 403 {
		t.Errorf("status = %+v", st)
	}
	_, err = jane.AppsV1().Deployments("default").Get(ctxT(t), "web", metav1.GetOptions{})
	want = `deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments" in API group "apps" in the namespace "default"`
	if err == nil || err.Error() != want {
		t.Errorf("get deployment: %v\nwant %s", err, want)
	}
	_, err = jane.CoreV1().Nodes().List(ctxT(t), metav1.ListOptions{})
	want = `nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope`
	if err == nil || err.Error() != want {
		t.Errorf("list nodes: %v\nwant %s", err, want)
	}
	// Discovery is allowed to every authenticated user (system:discovery).
	if _, err := jane.Discovery().ServerGroups(); err != nil {
		t.Errorf("discovery: %v", err)
	}
	r := rawWith(t, userConfig(t, "jane"), "GET", "/metrics", "", nil)
	if r.code != 403 || !strings.Contains(string(r.body), `User \"jane\" cannot get path \"/metrics\"`) {
		t.Errorf("/metrics: %d %s", r.code, r.body)
	}
}

func asStatus(err error, st *apierrors.APIStatus) bool {
	s, ok := err.(apierrors.APIStatus)
	*st = s
	return ok
}

func TestRoleBindingTakesEffect(t *testing.T) {
	ns := testNamespace(t, "rbac-grant")
	other := testNamespace(t, "rbac-other")
	jane := clientFor(t, userConfig(t, "alice", "team-a"))
	ctx := ctxT(t)
	if canI(t, jane, "list", "", "pods", ns) {
		t.Fatal("alice may list pods before any grant")
	}
	_, err := fixture.cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fixture.cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a-reads"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-a"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	took := waitAllowed(t, jane, true, time.Second, "list", "", "pods", ns)
	t.Logf("grant took effect after %v", took)
	if _, err := jane.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list pods after grant: %v", err)
	}
	if _, err := jane.CoreV1().Pods(ns).Create(ctx, pod(ns, "p"), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("create pod with a read-only role: %v", err)
	}
	if _, err := jane.CoreV1().Pods(other).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list pods in another namespace: %v", err)
	}
	// Revoking takes effect too.
	if err := fixture.cs.RbacV1().RoleBindings(ns).Delete(ctx, "team-a-reads", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAllowed(t, jane, false, time.Second, "list", "", "pods", ns)
}

func TestAggregatedViewRole(t *testing.T) {
	ns := testNamespace(t, "rbac-view")
	cfg := userConfig(t, "viewer")
	viewer := clientFor(t, cfg)
	ctx := ctxT(t)
	_, err := fixture.cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "viewer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "viewer"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitAllowed(t, viewer, true, time.Second, "list", "apps", "deployments", ns)
	if _, err := viewer.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("view: list deployments: %v", err)
	}
	for _, denied := range []struct{ verb, group, resource, ns string }{
		{"create", "apps", "deployments", ns},
		{"get", "", "secrets", ns},
		{"list", "", "pods", "default"},
	} {
		if canI(t, viewer, denied.verb, denied.group, denied.resource, denied.ns) {
			t.Errorf("view allows %+v", denied)
		}
	}
	// The stored view role shows its aggregated rules.
	deadline := time.Now().Add(5 * time.Second)
	for {
		view, err := fixture.cs.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(view.Rules) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stored view ClusterRole has no aggregated rules")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A new ClusterRole labelled aggregate-to-view extends view at once.
	_, err = fixture.cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "test-widgets-view", Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: []string{"example.com"}, Resources: []string{"widgets"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = fixture.cs.RbacV1().ClusterRoles().Delete(context.Background(), "test-widgets-view", metav1.DeleteOptions{})
	})
	waitAllowed(t, viewer, true, time.Second, "list", "example.com", "widgets", ns)
}

func TestEscalationPrevented(t *testing.T) {
	ns := testNamespace(t, "rbac-escalate")
	ctx := ctxT(t)
	_, err := fixture.cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "rbac-writer"},
		Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"create", "get"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles", "rolebindings"}},
			{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"configmaps"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fixture.cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bob"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "rbac-writer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "bob"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bob := clientFor(t, userConfig(t, "bob"))
	waitAllowed(t, bob, true, time.Second, "create", rbacv1.GroupName, "roles", ns)

	// Granting what bob holds is fine.
	_, err = bob.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "cm-reader"},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a role within bob's rights: %v", err)
	}
	// More is refused.
	_, err = bob.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}},
	}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held`) {
		t.Errorf("escalating role: %v", err)
	}
	_, err = bob.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bob-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "bob"}},
	}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("binding cluster-admin: %v", err)
	}
	_, err = bob.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "carol-cm"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "cm-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "carol"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Errorf("binding a role within bob's rights: %v", err)
	}
}

func TestRulesReviewAndWhoAmI(t *testing.T) {
	cfg := userConfig(t, "dave", "devs")
	cs := clientFor(t, cfg)
	ctx := ctxT(t)
	ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := ssr.Status.UserInfo; u.Username != "dave" || strings.Join(u.Groups, ",") != "devs,system:authenticated" {
		t.Errorf("whoami = %+v", u)
	}
	rr, err := cs.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{
		Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rr.Status.ResourceRules {
		if strings.Join(r.Resources, ",") == "selfsubjectaccessreviews,selfsubjectrulesreviews" {
			found = true
		}
	}
	if !found || len(rr.Status.NonResourceRules) == 0 || rr.Status.Incomplete {
		t.Errorf("rules review = %+v", rr.Status)
	}
	// An admin asks about someone else.
	sar, err := fixture.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "dave", Groups: []string{"system:masters"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "delete", Resource: "nodes"}},
	}, metav1.CreateOptions{})
	if err != nil || !sar.Status.Allowed {
		t.Errorf("SAR for a master: %+v %v", sar, err)
	}
	// dave may not ask about others.
	_, err = cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "x", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"}},
	}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("SAR by a plain user: %v", err)
	}
	// Discovery lists the review APIs.
	res, err := cs.Discovery().ServerResourcesForGroupVersion("authorization.k8s.io/v1")
	if err != nil || len(res.APIResources) != 4 {
		t.Errorf("authorization.k8s.io/v1 discovery: %v %v", res, err)
	}
}

func TestAnonymousAndBadCredentials(t *testing.T) {
	anon := rest.AnonymousClientConfig(fixture.cfg)
	if r := rawWith(t, anon, "GET", "/api/v1/namespaces", "", nil); r.code != 401 {
		t.Errorf("anonymous list: %d %s", r.code, r.body)
	}
	if r := rawWith(t, anon, "GET", "/readyz", "", nil); r.code != 200 {
		t.Errorf("anonymous readyz: %d", r.code)
	}
	bad := rest.AnonymousClientConfig(fixture.cfg)
	bad.BearerToken = "abcdef.0123456789abcdef"
	if r := rawWith(t, bad, "GET", "/healthz", "", nil); r.code != 401 {
		t.Errorf("bad token on /healthz: %d", r.code)
	}
	bad.BearerToken = "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"
	var status metav1.Status
	r := rawWith(t, bad, "GET", "/api/v1/pods", "", nil)
	if err := json.Unmarshal(r.body, &status); err != nil || r.code != 401 || status.Reason != metav1.StatusReasonUnauthorized {
		t.Errorf("bad JWT: %d %s", r.code, r.body)
	}
}

func TestComponentIdentities(t *testing.T) {
	ctx := ctxT(t)
	for _, c := range []struct {
		name            string
		allowed, denied func(kubernetes.Interface) error
	}{
		{"scheduler",
			func(cs kubernetes.Interface) error {
				_, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
				return err
			},
			func(cs kubernetes.Interface) error {
				_, err := cs.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
				return err
			}},
		{"controller-manager",
			func(cs kubernetes.Interface) error {
				_, err := cs.AppsV1().ReplicaSets("default").Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{DryRun: []string{"All"}})
				if apierrors.IsInvalid(err) {
					return nil // authorized, then validated
				}
				return err
			},
			func(cs kubernetes.Interface) error {
				_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "x"},
					RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}}, metav1.CreateOptions{})
				return err
			}},
		{"node:n1",
			func(cs kubernetes.Interface) error {
				_, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
				return err
			},
			func(cs kubernetes.Interface) error {
				_, err := cs.RbacV1().Roles("default").List(ctx, metav1.ListOptions{})
				return err
			}},
	} {
		cfg, err := fixture.srv.ComponentConfig(c.name)
		if err != nil {
			t.Fatal(err)
		}
		cs := clientFor(t, cfg)
		if err := c.allowed(cs); err != nil {
			t.Errorf("%s: allowed action failed: %v", c.name, err)
		}
		if err := c.denied(cs); !apierrors.IsForbidden(err) {
			t.Errorf("%s: denied action: %v", c.name, err)
		}
	}
	if _, err := fixture.srv.ComponentConfig("root"); err == nil {
		t.Error("unknown component accepted")
	}
}

// TestComponentRights asks, for each component identity, the accesses its
// loop needs, so that switching a component to its own identity cannot
// break it silently.
func TestComponentRights(t *testing.T) {
	type access struct{ verb, group, resource, sub, ns, name string }
	cases := map[string][]access{
		"system:kube-scheduler": {
			{"list", "", "pods", "", "", ""}, {"watch", "", "nodes", "", "", ""}, {"create", "", "pods", "binding", "default", "p"},
			{"patch", "", "pods", "status", "default", "p"}, {"create", "", "events", "", "default", ""},
			{"create", "events.k8s.io", "events", "", "default", ""}, {"get", "coordination.k8s.io", "leases", "", "kube-system", "skiff-scheduler"},
			{"update", "coordination.k8s.io", "leases", "", "kube-system", "skiff-scheduler"}, {"create", "coordination.k8s.io", "leases", "", "kube-system", ""},
			{"delete", "", "pods", "", "default", "victim"}, {"list", "scheduling.k8s.io", "priorityclasses", "", "", ""},
		},
		"system:kube-controller-manager": {
			{"create", "apps", "replicasets", "", "default", ""}, {"create", "", "pods", "", "default", ""},
			{"update", "apps", "deployments", "status", "default", "d"}, {"delete", "", "pods", "", "default", "p"},
			{"create", "", "configmaps", "", "default", ""}, {"create", "", "serviceaccounts", "", "default", ""},
			{"create", "discovery.k8s.io", "endpointslices", "", "default", ""}, {"patch", "", "nodes", "", "", "n1"},
			{"update", "coordination.k8s.io", "leases", "", "kube-system", "skiff-controller-manager"},
			{"create", "batch", "jobs", "", "default", ""}, {"create", "apps", "controllerrevisions", "", "default", ""},
		},
		"system:node:n1": {
			{"create", "", "nodes", "", "", ""}, {"patch", "", "nodes", "status", "", "n1"}, {"update", "coordination.k8s.io", "leases", "", "kube-node-lease", "n1"},
			{"watch", "", "pods", "", "", ""}, {"list", "discovery.k8s.io", "endpointslices", "", "", ""},
			{"watch", "", "services", "", "", ""},
		},
	}
	ctx := ctxT(t)
	for user, accesses := range cases {
		var groups []string
		if strings.HasPrefix(user, "system:node:") {
			groups = []string{"system:nodes"}
		}
		for _, a := range accesses {
			sar, err := fixture.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: append(groups, "system:authenticated"),
					ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.verb, Group: a.group, Resource: a.resource,
						Subresource: a.sub, Namespace: a.ns, Name: a.name}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !sar.Status.Allowed {
				t.Errorf("%s may not %+v", user, a)
			}
		}
	}
}

func TestNodeAuthorizer(t *testing.T) {
	ns := testNamespace(t, "node-authz")
	ctx := ctxT(t)
	for _, name := range []string{"mine", "theirs"} {
		if _, err := fixture.cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for node, secret := range map[string]string{"authz-n1": "mine", "authz-n2": "theirs"} {
		p := pod(ns, "on-"+node)
		p.Spec.NodeName = node
		p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}}
		if _, err := fixture.cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := fixture.srv.ComponentConfig("node:authz-n1")
	if err != nil {
		t.Fatal(err)
	}
	agent := clientFor(t, cfg)
	if _, err := agent.CoreV1().Secrets(ns).Get(ctx, "mine", metav1.GetOptions{}); err != nil {
		t.Errorf("agent reads its pod's secret: %v", err)
	}
	_, err = agent.CoreV1().Secrets(ns).Get(ctx, "theirs", metav1.GetOptions{})
	want := `secrets "theirs" is forbidden: User "system:node:authz-n1" cannot get resource "secrets" in API group "" in the namespace "` + ns +
		`": no relationship found between node 'authz-n1' and this object`
	if err == nil || err.Error() != want {
		t.Errorf("agent reads another node's secret: %v\nwant %s", err, want)
	}
	if _, err := agent.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("agent lists secrets: %v", err)
	}
	if _, err := agent.CoreV1().Pods(ns).UpdateStatus(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "on-authz-n2", Namespace: ns}}, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("agent writes another node's pod status: %v", err)
	}
}
