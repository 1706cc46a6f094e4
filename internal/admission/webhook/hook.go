package webhook

import (
	"slices"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hook is what matching and calling need of one webhook, mutating or
// validating.
type hook struct {
	// key identifies the webhook's configuration version and position,
	// for caches of compiled conditions.
	key             string
	name            string
	clientConfig    admissionregistrationv1.WebhookClientConfig
	rules           []admissionregistrationv1.RuleWithOperations
	failurePolicy   admissionregistrationv1.FailurePolicyType
	namespaceSel    *metav1.LabelSelector
	objectSel       *metav1.LabelSelector
	sideEffects     admissionregistrationv1.SideEffectClass
	timeoutSeconds  int32
	reviewVersions  []string
	matchConditions []admissionregistrationv1.MatchCondition
	// reinvoke is true for mutating webhooks with reinvocationPolicy
	// IfNeeded.
	reinvoke bool
}

// defaultTimeoutSeconds is the timeout of a webhook that sets none.
const defaultTimeoutSeconds = 10

func newHook(key, name string, cc admissionregistrationv1.WebhookClientConfig, rules []admissionregistrationv1.RuleWithOperations,
	fp *admissionregistrationv1.FailurePolicyType, nsSel, objSel *metav1.LabelSelector, se *admissionregistrationv1.SideEffectClass,
	timeout *int32, versions []string, conds []admissionregistrationv1.MatchCondition) hook {
	h := hook{key: key, name: name, clientConfig: cc, rules: rules, failurePolicy: admissionregistrationv1.Fail,
		namespaceSel: nsSel, objectSel: objSel, sideEffects: admissionregistrationv1.SideEffectClassUnknown,
		timeoutSeconds: defaultTimeoutSeconds, reviewVersions: versions, matchConditions: conds}
	if fp != nil {
		h.failurePolicy = *fp
	}
	if se != nil {
		h.sideEffects = *se
	}
	if timeout != nil {
		h.timeoutSeconds = *timeout
	}
	return h
}

// mutatingHooks flattens configurations into webhooks, configurations
// sorted by name as upstream orders them.
func mutatingHooks(cfgs []*admissionregistrationv1.MutatingWebhookConfiguration) []hook {
	cfgs = slices.Clone(cfgs)
	slices.SortFunc(cfgs, func(a, b *admissionregistrationv1.MutatingWebhookConfiguration) int {
		return strings.Compare(a.Name, b.Name)
	})
	var out []hook
	for _, c := range cfgs {
		for i, w := range c.Webhooks {
			h := newHook(hookKey(c.ObjectMeta, i), w.Name, w.ClientConfig, w.Rules, w.FailurePolicy, w.NamespaceSelector,
				w.ObjectSelector, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.MatchConditions)
			h.reinvoke = w.ReinvocationPolicy != nil && *w.ReinvocationPolicy == admissionregistrationv1.IfNeededReinvocationPolicy
			out = append(out, h)
		}
	}
	return out
}

// validatingHooks flattens configurations into webhooks.
func validatingHooks(cfgs []*admissionregistrationv1.ValidatingWebhookConfiguration) []hook {
	cfgs = slices.Clone(cfgs)
	slices.SortFunc(cfgs, func(a, b *admissionregistrationv1.ValidatingWebhookConfiguration) int {
		return strings.Compare(a.Name, b.Name)
	})
	var out []hook
	for _, c := range cfgs {
		for i, w := range c.Webhooks {
			out = append(out, newHook(hookKey(c.ObjectMeta, i), w.Name, w.ClientConfig, w.Rules, w.FailurePolicy,
				w.NamespaceSelector, w.ObjectSelector, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.MatchConditions))
		}
	}
	return out
}

func hookKey(m metav1.ObjectMeta, i int) string {
	return string(m.UID) + "/" + m.ResourceVersion + "/" + m.Name + "/" + strconv.Itoa(i)
}
