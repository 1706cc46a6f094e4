package registry

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/admission/webhook"
	"github.com/skiffkube/skiff/internal/admission/webhook/celcond"
)

// maxMatchConditions is how many matchConditions one webhook may have.
const maxMatchConditions = 64

// admissionRegistrationStrategies are the strategies of the
// admissionregistration.k8s.io/v1 webhook configurations.
func admissionRegistrationStrategies() map[schema.GroupVersionKind]Strategy {
	gv := admissionregistrationv1.SchemeGroupVersion
	v := webhookValidator{}
	if c, err := celcond.NewCompiler(); err == nil {
		v.compile = c.Compile
	}
	return map[schema.GroupVersionKind]Strategy{
		gv.WithKind("MutatingWebhookConfiguration"): Typed[*admissionregistrationv1.MutatingWebhookConfiguration]{
			DefaultFunc: func(c *admissionregistrationv1.MutatingWebhookConfiguration) {
				for i := range c.Webhooks {
					w := &c.Webhooks[i]
					defaultWebhook(mutatingFields(w))
					if w.ReinvocationPolicy == nil {
						w.ReinvocationPolicy = ptr.To(admissionregistrationv1.NeverReinvocationPolicy)
					}
				}
			},
			ValidateFunc: v.validateMutating,
			ValidateUpdateFunc: func(c, _ *admissionregistrationv1.MutatingWebhookConfiguration) field.ErrorList {
				return v.validateMutating(c)
			},
		},
		gv.WithKind("ValidatingWebhookConfiguration"): Typed[*admissionregistrationv1.ValidatingWebhookConfiguration]{
			DefaultFunc: func(c *admissionregistrationv1.ValidatingWebhookConfiguration) {
				for i := range c.Webhooks {
					defaultWebhook(validatingFields(&c.Webhooks[i]))
				}
			},
			ValidateFunc: v.validateValidating,
			ValidateUpdateFunc: func(c, _ *admissionregistrationv1.ValidatingWebhookConfiguration) field.ErrorList {
				return v.validateValidating(c)
			},
		},
	}
}

// webhookFields points at the fields mutating and validating webhooks
// share.
type webhookFields struct {
	name            string
	clientConfig    *admissionregistrationv1.WebhookClientConfig
	rules           []admissionregistrationv1.RuleWithOperations
	failurePolicy   **admissionregistrationv1.FailurePolicyType
	matchPolicy     **admissionregistrationv1.MatchPolicyType
	namespaceSel    **metav1.LabelSelector
	objectSel       **metav1.LabelSelector
	sideEffects     *admissionregistrationv1.SideEffectClass
	timeoutSeconds  **int32
	reviewVersions  []string
	matchConditions []admissionregistrationv1.MatchCondition
}

func mutatingFields(w *admissionregistrationv1.MutatingWebhook) webhookFields {
	return webhookFields{name: w.Name, clientConfig: &w.ClientConfig, rules: w.Rules, failurePolicy: &w.FailurePolicy,
		matchPolicy: &w.MatchPolicy, namespaceSel: &w.NamespaceSelector, objectSel: &w.ObjectSelector, sideEffects: w.SideEffects,
		timeoutSeconds: &w.TimeoutSeconds, reviewVersions: w.AdmissionReviewVersions, matchConditions: w.MatchConditions}
}

func validatingFields(w *admissionregistrationv1.ValidatingWebhook) webhookFields {
	return webhookFields{name: w.Name, clientConfig: &w.ClientConfig, rules: w.Rules, failurePolicy: &w.FailurePolicy,
		matchPolicy: &w.MatchPolicy, namespaceSel: &w.NamespaceSelector, objectSel: &w.ObjectSelector, sideEffects: w.SideEffects,
		timeoutSeconds: &w.TimeoutSeconds, reviewVersions: w.AdmissionReviewVersions, matchConditions: w.MatchConditions}
}

// defaultWebhook applies the v1 defaults: failurePolicy Fail, matchPolicy
// Equivalent, empty selectors, a 10 s timeout, scope "*" and port 443.
func defaultWebhook(f webhookFields) {
	if *f.failurePolicy == nil {
		*f.failurePolicy = ptr.To(admissionregistrationv1.Fail)
	}
	if *f.matchPolicy == nil {
		*f.matchPolicy = ptr.To(admissionregistrationv1.Equivalent)
	}
	if *f.namespaceSel == nil {
		*f.namespaceSel = &metav1.LabelSelector{}
	}
	if *f.objectSel == nil {
		*f.objectSel = &metav1.LabelSelector{}
	}
	if *f.timeoutSeconds == nil {
		*f.timeoutSeconds = ptr.To[int32](10)
	}
	for i := range f.rules {
		if f.rules[i].Scope == nil {
			f.rules[i].Scope = ptr.To(admissionregistrationv1.AllScopes)
		}
	}
	if s := f.clientConfig.Service; s != nil && s.Port == nil {
		s.Port = ptr.To[int32](443)
	}
}

// webhookValidator validates configurations; compile, when set, checks
// matchCondition expressions.
type webhookValidator struct {
	compile webhook.CompileFunc
}

func (v webhookValidator) validateMutating(c *admissionregistrationv1.MutatingWebhookConfiguration) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		p := field.NewPath("webhooks").Index(i)
		errs = append(errs, v.validateWebhook(mutatingFields(w), seen, p)...)
		if rp := w.ReinvocationPolicy; rp != nil && *rp != admissionregistrationv1.NeverReinvocationPolicy && *rp != admissionregistrationv1.IfNeededReinvocationPolicy {
			errs = append(errs, field.NotSupported(p.Child("reinvocationPolicy"), *rp, []string{"Never", "IfNeeded"}))
		}
	}
	return errs
}

func (v webhookValidator) validateValidating(c *admissionregistrationv1.ValidatingWebhookConfiguration) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i := range c.Webhooks {
		errs = append(errs, v.validateWebhook(validatingFields(&c.Webhooks[i]), seen, field.NewPath("webhooks").Index(i))...)
	}
	return errs
}

// validateWebhook checks one webhook; seen collects the names met so far.
func (v webhookValidator) validateWebhook(f webhookFields, seen map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateWebhookName(f.name, seen, p.Child("name"))...)
	errs = append(errs, validateReviewVersions(f.reviewVersions, p.Child("admissionReviewVersions"))...)
	for i, r := range f.rules {
		errs = append(errs, validateRule(r, p.Child("rules").Index(i))...)
	}
	if fp := *f.failurePolicy; fp != nil && *fp != admissionregistrationv1.Fail && *fp != admissionregistrationv1.Ignore {
		errs = append(errs, field.NotSupported(p.Child("failurePolicy"), *fp, []string{"Fail", "Ignore"}))
	}
	if mp := *f.matchPolicy; mp != nil && *mp != admissionregistrationv1.Exact && *mp != admissionregistrationv1.Equivalent {
		errs = append(errs, field.NotSupported(p.Child("matchPolicy"), *mp, []string{"Equivalent", "Exact"}))
	}
	switch {
	case f.sideEffects == nil:
		errs = append(errs, field.Required(p.Child("sideEffects"), fmt.Sprintf("must specify one of %s, %s", admissionregistrationv1.SideEffectClassNone, admissionregistrationv1.SideEffectClassNoneOnDryRun)))
	case *f.sideEffects != admissionregistrationv1.SideEffectClassNone && *f.sideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun:
		errs = append(errs, field.NotSupported(p.Child("sideEffects"), *f.sideEffects, []string{"None", "NoneOnDryRun"}))
	}
	if t := *f.timeoutSeconds; t != nil && (*t < 1 || *t > 30) {
		errs = append(errs, field.Invalid(p.Child("timeoutSeconds"), *t, "the timeout value must be between 1 and 30 seconds"))
	}
	opts := metav1validation.LabelSelectorValidationOptions{}
	if s := *f.namespaceSel; s != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(s, opts, p.Child("namespaceSelector"))...)
	}
	if s := *f.objectSel; s != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(s, opts, p.Child("objectSelector"))...)
	}
	errs = append(errs, validateClientConfig(f.clientConfig, p.Child("clientConfig"))...)
	return append(errs, v.validateMatchConditions(f.matchConditions, p.Child("matchConditions"))...)
}

// validateWebhookName requires a unique, fully qualified name.
func validateWebhookName(name string, seen map[string]bool, p *field.Path) field.ErrorList {
	if name == "" {
		return webhookErr(field.Required(p, ""))
	}
	var errs field.ErrorList
	if len(strings.Split(name, ".")) < 3 {
		errs = append(errs, field.Invalid(p, name, "should be a domain with at least three segments separated by dots"))
	}
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	if seen[name] {
		errs = append(errs, field.Duplicate(p, name))
	}
	seen[name] = true
	return errs
}

// validateReviewVersions requires at least one version the server speaks.
func validateReviewVersions(versions []string, p *field.Path) field.ErrorList {
	if len(versions) == 0 {
		return webhookErr(field.Required(p, "must specify one of v1, v1beta1"))
	}
	var errs field.ErrorList
	seen := map[string]bool{}
	known := false
	for i, v := range versions {
		for _, msg := range validation.IsDNS1035Label(v) {
			errs = append(errs, field.Invalid(p.Index(i), v, msg))
		}
		if seen[v] {
			errs = append(errs, field.Invalid(p.Index(i), v, "duplicate version"))
		}
		seen[v] = true
		known = known || v == "v1" || v == "v1beta1"
	}
	if !known {
		errs = append(errs, field.Invalid(p, versions, "must include at least one of v1, v1beta1"))
	}
	return errs
}

// validateRule checks operations, groups, versions, resources and scope.
func validateRule(r admissionregistrationv1.RuleWithOperations, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	ops := make([]string, len(r.Operations))
	for i, op := range r.Operations {
		ops[i] = string(op)
		switch op {
		case admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete, admissionregistrationv1.Connect, admissionregistrationv1.OperationAll:
		default:
			errs = append(errs, field.NotSupported(p.Child("operations").Index(i), op, []string{"*", "CONNECT", "CREATE", "DELETE", "UPDATE"}))
		}
	}
	errs = append(errs, validateStarList(ops, p.Child("operations"))...)
	errs = append(errs, validateStarList(r.APIGroups, p.Child("apiGroups"))...)
	errs = append(errs, validateStarList(r.APIVersions, p.Child("apiVersions"))...)
	for i, v := range r.APIVersions {
		if v == "" {
			errs = append(errs, field.Required(p.Child("apiVersions").Index(i), ""))
		}
	}
	errs = append(errs, validateRuleResources(r.Resources, p.Child("resources"))...)
	if s := r.Scope; s != nil && *s != admissionregistrationv1.AllScopes && *s != admissionregistrationv1.ClusterScope && *s != admissionregistrationv1.NamespacedScope {
		errs = append(errs, field.NotSupported(p.Child("scope"), *s, []string{"*", "Cluster", "Namespaced"}))
	}
	return errs
}

// validateStarList requires a non-empty list where "*" stands alone.
func validateStarList(list []string, p *field.Path) field.ErrorList {
	if len(list) == 0 {
		return webhookErr(field.Required(p, ""))
	}
	if len(list) > 1 && slices.Contains(list, "*") {
		return webhookErr(field.Invalid(p, list, "if '*' is present, must not specify other values"))
	}
	return nil
}

// validateRuleResources checks resource patterns: "res", "res/sub",
// "res/*", "*", "*/sub", "*/*", without overlaps with the wildcards.
func validateRuleResources(res []string, p *field.Path) field.ErrorList {
	if len(res) == 0 {
		return webhookErr(field.Required(p, ""))
	}
	var errs field.ErrorList
	set := map[string]bool{}
	for _, r := range res {
		set[r] = true
	}
	for i, r := range res {
		base, sub, hasSub := strings.Cut(r, "/")
		switch {
		case r == "" || base == "" || (hasSub && sub == ""):
			errs = append(errs, field.Required(p.Index(i), ""))
		case r != "*/*" && set["*/*"]:
			errs = append(errs, field.Invalid(p.Index(i), r, "if '*/*' is present, must not specify other resources"))
		case !hasSub && r != "*" && set["*"]:
			errs = append(errs, field.Invalid(p.Index(i), r, "if '*' is present, must not specify other resources without subresources"))
		case hasSub && sub != "*" && set[base+"/*"]:
			errs = append(errs, field.Invalid(p.Index(i), r, fmt.Sprintf("if '%s/*' is present, must not specify %s", base, r)))
		}
	}
	return errs
}

// validateClientConfig requires exactly one of an https url or a service
// reference.
func validateClientConfig(cc *admissionregistrationv1.WebhookClientConfig, p *field.Path) field.ErrorList {
	switch {
	case cc.URL == nil && cc.Service == nil:
		return webhookErr(field.Required(p, "exactly one of url or service is required"))
	case cc.URL != nil && cc.Service != nil:
		return webhookErr(field.Required(p, "exactly one of url or service is required"))
	case cc.URL != nil:
		return validateWebhookURL(*cc.URL, p.Child("url"))
	}
	var errs field.ErrorList
	s := cc.Service
	sp := p.Child("service")
	if s.Name == "" {
		errs = append(errs, field.Required(sp.Child("name"), "service name is required"))
	}
	if s.Namespace == "" {
		errs = append(errs, field.Required(sp.Child("namespace"), "service namespace is required"))
	}
	if s.Path != nil && !strings.HasPrefix(*s.Path, "/") {
		errs = append(errs, field.Invalid(sp.Child("path"), *s.Path, "must start with a '/'"))
	}
	if s.Port != nil {
		for _, msg := range validation.IsValidPortNum(int(*s.Port)) {
			errs = append(errs, field.Invalid(sp.Child("port"), *s.Port, msg))
		}
	}
	return errs
}

func validateWebhookURL(raw string, p *field.Path) field.ErrorList {
	u, err := url.Parse(raw)
	if err != nil {
		return webhookErr(field.Invalid(p, raw, "url must be a valid URL: "+err.Error()))
	}
	var errs field.ErrorList
	if u.Scheme != "https" {
		errs = append(errs, field.Invalid(p, u.Scheme, "'https' is the only allowed URL scheme"))
	}
	if u.Host == "" {
		errs = append(errs, field.Invalid(p, u.Host, "host must be specified"))
	}
	if u.User != nil {
		errs = append(errs, field.Invalid(p, u.User.String(), "user information is not permitted in the URL"))
	}
	if u.Fragment != "" || u.RawFragment != "" {
		errs = append(errs, field.Invalid(p, u.Fragment, "fragments are not permitted in the URL"))
	}
	if u.RawQuery != "" {
		errs = append(errs, field.Invalid(p, u.RawQuery, "query parameters are not permitted in the URL"))
	}
	return errs
}

// validateMatchConditions checks names and that expressions compile to
// booleans.
func (v webhookValidator) validateMatchConditions(conds []admissionregistrationv1.MatchCondition, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(conds) > maxMatchConditions {
		errs = append(errs, field.TooMany(p, len(conds), maxMatchConditions))
	}
	seen := map[string]bool{}
	for i, c := range conds {
		cp := p.Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(cp.Child("name"), ""))
		case seen[c.Name]:
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		default:
			for _, msg := range validation.IsQualifiedName(c.Name) {
				errs = append(errs, field.Invalid(cp.Child("name"), c.Name, msg))
			}
		}
		seen[c.Name] = true
		switch {
		case strings.TrimSpace(c.Expression) == "":
			errs = append(errs, field.Required(cp.Child("expression"), ""))
		case v.compile != nil:
			if _, err := v.compile(c.Expression); err != nil {
				errs = append(errs, field.Invalid(cp.Child("expression"), c.Expression, err.Error()))
			}
		}
	}
	return errs
}

func webhookErr(e *field.Error) field.ErrorList { return field.ErrorList{e} }

// admissionRegistrationResources are the cluster-scoped webhook
// configurations of admissionregistration.k8s.io/v1.
func admissionRegistrationResources() []Resource {
	gv := admissionregistrationv1.SchemeGroupVersion
	return []Resource{
		{GroupVersionResource: gv.WithResource("mutatingwebhookconfigurations"), Kind: "MutatingWebhookConfiguration", Categories: []string{"api-extensions"},
			New:     func() runtime.Object { return &admissionregistrationv1.MutatingWebhookConfiguration{} },
			NewList: func() runtime.Object { return &admissionregistrationv1.MutatingWebhookConfigurationList{} }},
		{GroupVersionResource: gv.WithResource("validatingwebhookconfigurations"), Kind: "ValidatingWebhookConfiguration", Categories: []string{"api-extensions"},
			New:     func() runtime.Object { return &admissionregistrationv1.ValidatingWebhookConfiguration{} },
			NewList: func() runtime.Object { return &admissionregistrationv1.ValidatingWebhookConfigurationList{} }},
	}
}
