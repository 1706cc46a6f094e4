package registry

import (
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/admission/webhook/celcond"
)

func validMutating() *admissionregistrationv1.MutatingWebhookConfiguration {
	return &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "cfg"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:         "hook.example.com",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: "ns", Name: "svc", Path: ptr.To("/mutate")}},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
		}}}
}

func TestWebhookConfigurationDefaults(t *testing.T) {
	s := admissionRegistrationStrategies()[admissionregistrationv1.SchemeGroupVersion.WithKind("MutatingWebhookConfiguration")]
	c := validMutating()
	s.Default(c)
	w := c.Webhooks[0]
	if *w.FailurePolicy != admissionregistrationv1.Fail || *w.MatchPolicy != admissionregistrationv1.Equivalent ||
		*w.TimeoutSeconds != 10 || *w.ReinvocationPolicy != admissionregistrationv1.NeverReinvocationPolicy ||
		w.NamespaceSelector == nil || w.ObjectSelector == nil || *w.Rules[0].Scope != admissionregistrationv1.AllScopes ||
		*w.ClientConfig.Service.Port != 443 {
		t.Errorf("defaults not applied: %+v", w)
	}
	if errs := s.Validate(c); len(errs) != 0 {
		t.Errorf("defaulted valid configuration refused: %v", errs)
	}
}

func TestWebhookConfigurationValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(w *admissionregistrationv1.MutatingWebhook)
		want   string // substring of the error; "" for valid
	}{
		{"valid", func(*admissionregistrationv1.MutatingWebhook) {}, ""},
		{"sideEffects required", func(w *admissionregistrationv1.MutatingWebhook) { w.SideEffects = nil }, "webhooks[0].sideEffects: Required value"},
		{"sideEffects Some refused", func(w *admissionregistrationv1.MutatingWebhook) {
			w.SideEffects = ptr.To(admissionregistrationv1.SideEffectClassSome)
		}, "webhooks[0].sideEffects: Unsupported value"},
		{"review versions required", func(w *admissionregistrationv1.MutatingWebhook) { w.AdmissionReviewVersions = nil }, "admissionReviewVersions: Required value"},
		{"unknown review version only", func(w *admissionregistrationv1.MutatingWebhook) { w.AdmissionReviewVersions = []string{"v2"} }, "must include at least one of v1, v1beta1"},
		{"timeout above 30", func(w *admissionregistrationv1.MutatingWebhook) { w.TimeoutSeconds = ptr.To[int32](31) }, "between 1 and 30 seconds"},
		{"timeout 0", func(w *admissionregistrationv1.MutatingWebhook) { w.TimeoutSeconds = ptr.To[int32](0) }, "between 1 and 30 seconds"},
		{"name not qualified", func(w *admissionregistrationv1.MutatingWebhook) { w.Name = "hook" }, "at least three segments"},
		{"bad failurePolicy", func(w *admissionregistrationv1.MutatingWebhook) {
			w.FailurePolicy = ptr.To(admissionregistrationv1.FailurePolicyType("Maybe"))
		}, "failurePolicy: Unsupported value"},
		{"bad reinvocationPolicy", func(w *admissionregistrationv1.MutatingWebhook) {
			w.ReinvocationPolicy = ptr.To(admissionregistrationv1.ReinvocationPolicyType("Always"))
		}, "reinvocationPolicy: Unsupported value"},
		{"url and service", func(w *admissionregistrationv1.MutatingWebhook) { w.ClientConfig.URL = ptr.To("https://x") }, "exactly one of url or service"},
		{"http url", func(w *admissionregistrationv1.MutatingWebhook) {
			w.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: ptr.To("http://hook.example.com/x")}
		}, "'https' is the only allowed URL scheme"},
		{"url with query", func(w *admissionregistrationv1.MutatingWebhook) {
			w.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://hook.example.com/x?a=b")}
		}, "query parameters are not permitted"},
		{"service path", func(w *admissionregistrationv1.MutatingWebhook) { w.ClientConfig.Service.Path = ptr.To("mutate") }, "must start with a '/'"},
		{"no operations", func(w *admissionregistrationv1.MutatingWebhook) { w.Rules[0].Operations = nil }, "rules[0].operations: Required value"},
		{"star with others", func(w *admissionregistrationv1.MutatingWebhook) { w.Rules[0].APIGroups = []string{"*", "apps"} }, "if '*' is present"},
		{"star resource with others", func(w *admissionregistrationv1.MutatingWebhook) { w.Rules[0].Resources = []string{"*", "pods"} }, "without subresources"},
		{"bad scope", func(w *admissionregistrationv1.MutatingWebhook) {
			w.Rules[0].Scope = ptr.To(admissionregistrationv1.ScopeType("Everywhere"))
		}, "scope: Unsupported value"},
		{"bad selector", func(w *admissionregistrationv1.MutatingWebhook) {
			w.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"a b": "c"}}
		}, "objectSelector"},
		{"duplicate condition", func(w *admissionregistrationv1.MutatingWebhook) {
			w.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "a", Expression: "true"}, {Name: "a", Expression: "true"}}
		}, "matchConditions[1].name: Duplicate value"},
		{"expression not bool", func(w *admissionregistrationv1.MutatingWebhook) {
			w.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "a", Expression: "1 + 2"}}
		}, "matchConditions[0].expression: Invalid value"},
		{"valid expression", func(w *admissionregistrationv1.MutatingWebhook) {
			w.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "a", Expression: "request.userInfo.username != 'x'"}}
		}, ""},
		{"empty expression", func(w *admissionregistrationv1.MutatingWebhook) {
			w.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "a"}}
		}, "matchConditions[0].expression: Required value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := validMutating()
			c.mutate(&cfg.Webhooks[0])
			errs := testValidator(t).validateMutating(cfg)
			if c.want == "" {
				if len(errs) != 0 {
					t.Errorf("unexpected errors: %v", errs)
				}
				return
			}
			if !strings.Contains(errs.ToAggregate().Error(), c.want) {
				t.Errorf("errors %v, want one containing %q", errs, c.want)
			}
		})
	}
}

func TestWebhookNamesUnique(t *testing.T) {
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "v"}}
	w := validMutating().Webhooks[0]
	v := admissionregistrationv1.ValidatingWebhook{Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules, SideEffects: w.SideEffects, AdmissionReviewVersions: w.AdmissionReviewVersions}
	cfg.Webhooks = []admissionregistrationv1.ValidatingWebhook{v, v}
	if errs := testValidator(t).validateValidating(cfg); !strings.Contains(errs.ToAggregate().Error(), "webhooks[1].name: Duplicate value") {
		t.Errorf("errors = %v", errs)
	}
}

func testValidator(t *testing.T) webhookValidator {
	c, err := celcond.NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	return webhookValidator{compile: c.Compile}
}
