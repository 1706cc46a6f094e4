package apiserver_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/server/servertest"
)

// hookServer is a TLS admission webhook answering by path: /deny refuses,
// /label adds the label added=yes, /hang never answers, anything else
// allows. It records whether requests were dry runs.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	dryRun map[string]bool
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{dryRun: map[string]bool{}}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) serve(w http.ResponseWriter, r *http.Request) {
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := review.Request
	h.mu.Lock()
	h.dryRun[r.URL.Path+" "+req.Name] = req.DryRun != nil && *req.DryRun
	h.mu.Unlock()
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	switch r.URL.Path {
	case "/deny":
		resp.Allowed = false
		resp.Result = &metav1.Status{Message: "configmaps are not welcome here", Code: http.StatusForbidden}
	case "/label":
		var obj corev1.ConfigMap
		_ = json.Unmarshal(req.Object.Raw, &obj)
		if obj.Labels["added"] != "yes" {
			patch := `[{"op":"add","path":"/metadata/labels","value":{"added":"yes"}}]`
			if obj.Labels != nil {
				patch = `[{"op":"add","path":"/metadata/labels/added","value":"yes"}]`
			}
			resp.Patch, resp.PatchType = []byte(patch), ptr.To(admissionv1.PatchTypeJSONPatch)
		}
	case "/hang":
		<-r.Context().Done()
		return
	}
	_ = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp})
}

func (h *hookServer) sawDryRun(key string) (dry, seen bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	dry, seen = h.dryRun[key]
	return dry, seen
}

// webhookFor is a webhook on configmaps in namespaces labelled hook=<name>.
func (h *hookServer) webhookFor(name, path string, ops ...admissionregistrationv1.OperationType) admissionregistrationv1.ValidatingWebhook {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.Certificate().Raw})
	return admissionregistrationv1.ValidatingWebhook{
		Name:         name + ".skiff.test",
		ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptr.To(h.URL + path), CABundle: ca},
		Rules: []admissionregistrationv1.RuleWithOperations{{Operations: ops,
			Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
		NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"hook": name}},
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNoneOnDryRun),
		AdmissionReviewVersions: []string{"v1"},
		TimeoutSeconds:          ptr.To[int32](1),
	}
}

func mutatingOf(w admissionregistrationv1.ValidatingWebhook) admissionregistrationv1.MutatingWebhook {
	return admissionregistrationv1.MutatingWebhook{Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules,
		NamespaceSelector: w.NamespaceSelector, SideEffects: w.SideEffects, AdmissionReviewVersions: w.AdmissionReviewVersions,
		TimeoutSeconds: w.TimeoutSeconds, FailurePolicy: w.FailurePolicy}
}

func TestAdmissionWebhooks(t *testing.T) {
	ctx := context.Background()
	srv := servertest.Start(t)
	cs, err := kubernetes.NewForConfig(srv.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	h := newHookServer(t)
	create, update, del := admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete
	fail := h.webhookFor("fail", "/hang", create)
	fail.FailurePolicy = ptr.To(admissionregistrationv1.Fail)
	ignore := h.webhookFor("ignore", "/hang", create)
	ignore.FailurePolicy = ptr.To(admissionregistrationv1.Ignore)
	cond := h.webhookFor("cond", "/deny", create)
	cond.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "denied-names", Expression: `object.metadata.name.startsWith("deny-")`}}
	vcfg := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "test"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{h.webhookFor("deny", "/deny", create, del), fail, ignore, cond}}
	v, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vcfg, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := v.Webhooks[0]; *w.MatchPolicy != admissionregistrationv1.Equivalent || w.ObjectSelector == nil {
		t.Errorf("configuration not defaulted: %+v", w)
	}
	mcfg := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "test"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{mutatingOf(h.webhookFor("mutate", "/label", create, update))}}
	m, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, mcfg, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A list not older than the configurations waits for the watch cache
	// the dispatcher reads.
	for _, rv := range []string{v.ResourceVersion, m.ResourceVersion} {
		opts := metav1.ListOptions{ResourceVersion: rv, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}
		if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, opts); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"deny", "mutate", "fail", "ignore", "free", "cond"} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "wh-" + name, Labels: map[string]string{"hook": name}}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cm := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	cms := func(ns string) func(*corev1.ConfigMap) (*corev1.ConfigMap, error) {
		return func(c *corev1.ConfigMap) (*corev1.ConfigMap, error) {
			return cs.CoreV1().ConfigMaps("wh-"+ns).Create(ctx, c, metav1.CreateOptions{})
		}
	}

	t.Run("deny", func(t *testing.T) {
		_, err := cms("deny")(cm("a"))
		want := `admission webhook "deny.skiff.test" denied the request: configmaps are not welcome here`
		if !apierrors.IsForbidden(err) || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	})
	t.Run("matchConditions", func(t *testing.T) {
		if _, err := cms("cond")(cm("keep-me")); err != nil {
			t.Errorf("create with a false condition: %v", err)
		}
		if _, err := cms("cond")(cm("deny-me")); !apierrors.IsForbidden(err) {
			t.Errorf("create with a true condition: %v, want a denial", err)
		}
	})
	t.Run("namespaceSelector excludes", func(t *testing.T) {
		got, err := cms("free")(cm("a"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Labels) != 0 {
			t.Errorf("labels %v, want none", got.Labels)
		}
		err = cs.CoreV1().ConfigMaps("wh-free").Delete(ctx, "a", metav1.DeleteOptions{})
		if err != nil {
			t.Errorf("delete outside the selector: %v", err)
		}
	})
	t.Run("mutate on create and update", func(t *testing.T) {
		got, err := cms("mutate")(cm("a"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Labels["added"] != "yes" {
			t.Fatalf("labels %v, want added=yes", got.Labels)
		}
		got.Labels = map[string]string{"other": "x"}
		upd, err := cs.CoreV1().ConfigMaps("wh-mutate").Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if upd.Labels["added"] != "yes" || upd.Labels["other"] != "x" {
			t.Errorf("labels after update %v", upd.Labels)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		got, err := cs.CoreV1().ConfigMaps("wh-mutate").Create(ctx, cm("dry"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Labels["added"] != "yes" {
			t.Errorf("dry-run labels %v, want added=yes", got.Labels)
		}
		if dry, seen := h.sawDryRun("/label dry"); !seen || !dry {
			t.Errorf("webhook saw dryRun=%v (called %v), want true", dry, seen)
		}
		if _, err := cs.CoreV1().ConfigMaps("wh-mutate").Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry-run object stored: %v", err)
		}
	})
	t.Run("timeout with Fail", func(t *testing.T) {
		_, err := cms("fail")(cm("a"))
		if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), `failed calling webhook "fail.skiff.test"`) {
			t.Errorf("error %v, want an internal error naming the webhook", err)
		}
	})
	t.Run("timeout with Ignore", func(t *testing.T) {
		if _, err := cms("ignore")(cm("a")); err != nil {
			t.Errorf("error %v, want the create to pass", err)
		}
	})
	t.Run("deny delete", func(t *testing.T) {
		// Created before the namespace carried the label.
		ns, err := cs.CoreV1().Namespaces().Get(ctx, "wh-free", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cms("free")(cm("b")); err != nil {
			t.Fatal(err)
		}
		ns.Labels["hook"] = "deny"
		ns, err = cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Admission reads namespace labels from the watch cache.
		opts := metav1.ListOptions{ResourceVersion: ns.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}
		if _, err := cs.CoreV1().Namespaces().List(ctx, opts); err != nil {
			t.Fatal(err)
		}
		err = cs.CoreV1().ConfigMaps("wh-free").Delete(ctx, "b", metav1.DeleteOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "denied the request") {
			t.Errorf("delete error %v, want a denial", err)
		}
	})
}
