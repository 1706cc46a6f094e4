package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
)

// Config is what a Dispatcher reads the cluster through.
type Config struct {
	// Mutating and Validating return the current configurations (from a
	// watch cache); the dispatcher does not change them.
	Mutating   func(ctx context.Context) ([]*admissionregistrationv1.MutatingWebhookConfiguration, error)
	Validating func(ctx context.Context) ([]*admissionregistrationv1.ValidatingWebhookConfiguration, error)
	// NamespaceLabels returns the labels of a namespace, for
	// namespaceSelectors.
	NamespaceLabels func(ctx context.Context, name string) (map[string]string, error)
	// ResolveService turns a service reference into the "host:port" of a
	// ready endpoint behind it.
	ResolveService func(ctx context.Context, ref admissionregistrationv1.ServiceReference) (string, error)
	// Compile compiles matchConditions; when nil, webhooks with
	// matchConditions fail as their failurePolicy says.
	Compile CompileFunc
	// NewUID draws the uid of each AdmissionReview.
	NewUID func() types.UID
	// Transport, when set, is the base of the HTTPS transport (tests);
	// its TLS configuration is replaced per webhook.
	Transport *http.Transport
}

// Dispatcher calls the webhooks a request matches. It is safe for
// concurrent use.
type Dispatcher struct {
	cfg     Config
	conds   conditionCache
	clients clientCache
}

// New returns a Dispatcher over cfg.
func New(cfg Config) *Dispatcher {
	return &Dispatcher{cfg: cfg, conds: conditionCache{compile: cfg.Compile}, clients: clientCache{base: cfg.Transport}}
}

// Mutate calls the matching mutating webhooks in order and applies their
// patches to a.Object in place (its pointer is kept). A webhook with
// reinvocationPolicy IfNeeded is called once more when a later webhook
// changed the object.
func (d *Dispatcher) Mutate(ctx context.Context, a *Attributes) (Result, error) {
	var res Result
	if d.cfg.Mutating == nil {
		return res, nil
	}
	cfgs, err := d.cfg.Mutating(ctx)
	if err != nil {
		return res, apierrors.NewInternalError(fmt.Errorf("listing mutating webhook configurations: %w", err))
	}
	hooks := mutatingHooks(cfgs)
	changes := 0
	// seen holds, for reinvocable webhooks that were called, the change
	// count right after their call.
	seen := map[int]int{}
	for i := range hooks {
		called, changed, err := d.mutateOne(ctx, &hooks[i], a, &res)
		if err != nil {
			return res, err
		}
		if changed {
			changes++
		}
		if called && hooks[i].reinvoke {
			seen[i] = changes
		}
	}
	for i := range hooks {
		at, ok := seen[i]
		if !ok || changes == at {
			continue
		}
		if _, _, err := d.mutateOne(ctx, &hooks[i], a, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// mutateOne calls one mutating webhook if it matches and applies its
// patch.
func (d *Dispatcher) mutateOne(ctx context.Context, h *hook, a *Attributes, res *Result) (called, changed bool, err error) {
	req, ok, err := d.prepare(ctx, h, a)
	if err != nil || !ok {
		return false, false, err
	}
	resp, err := d.call(ctx, h, req)
	if err != nil {
		return true, false, d.callFailed(h, err)
	}
	res.add(h.name, resp)
	if !resp.Allowed {
		return true, false, denied(h.name, resp)
	}
	if len(resp.Patch) == 0 {
		return true, false, nil
	}
	changed, err = applyPatch(a, resp)
	if err != nil {
		return true, false, d.callFailed(h, err)
	}
	return true, changed, nil
}

// Validate calls the matching validating webhooks in parallel. The first
// denial or failure, in webhook order, is the answer.
func (d *Dispatcher) Validate(ctx context.Context, a *Attributes) (Result, error) {
	var res Result
	if d.cfg.Validating == nil {
		return res, nil
	}
	cfgs, err := d.cfg.Validating(ctx)
	if err != nil {
		return res, apierrors.NewInternalError(fmt.Errorf("listing validating webhook configurations: %w", err))
	}
	hooks := validatingHooks(cfgs)
	resps := make([]*admissionv1.AdmissionResponse, len(hooks))
	errs := make([]error, len(hooks))
	var wg sync.WaitGroup
	for i := range hooks {
		req, ok, err := d.prepare(ctx, &hooks[i], a)
		if err != nil {
			errs[i] = err
			continue
		}
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := d.call(ctx, &hooks[i], req)
			if err != nil {
				errs[i] = d.callFailed(&hooks[i], err)
				return
			}
			resps[i] = resp
		}()
	}
	wg.Wait()
	var first error
	for i := range hooks {
		if resps[i] != nil {
			res.add(hooks[i].name, resps[i])
		}
		if first != nil {
			continue
		}
		switch {
		case errs[i] != nil:
			first = errs[i]
		case resps[i] != nil && !resps[i].Allowed:
			first = denied(hooks[i].name, resps[i])
		}
	}
	return res, first
}

// prepare decides whether h applies to a and builds its request. A
// webhook with side effects refuses dry-run requests.
func (d *Dispatcher) prepare(ctx context.Context, h *hook, a *Attributes) (*admissionv1.AdmissionRequest, bool, error) {
	if !matchesRules(h.rules, a) {
		return nil, false, nil
	}
	ok, err := matchesNamespaceSelector(ctx, h.namespaceSel, a, d.cfg.NamespaceLabels)
	if err != nil {
		return nil, false, apierrors.NewInternalError(fmt.Errorf("webhook %q: %w", h.name, err))
	}
	if !ok {
		return nil, false, nil
	}
	if ok, err = matchesObjectSelector(h.objectSel, a); err != nil || !ok {
		if err != nil {
			return nil, false, apierrors.NewInternalError(fmt.Errorf("webhook %q: %w", h.name, err))
		}
		return nil, false, nil
	}
	req, err := d.newRequest(a)
	if err != nil {
		return nil, false, apierrors.NewInternalError(err)
	}
	conds, err := d.conds.get(h)
	if err == nil {
		err = evalConditions(conds, h.matchConditions, a, req)
	}
	switch {
	case errors.Is(err, errNoMatch):
		return nil, false, nil
	case err != nil:
		if h.failurePolicy == admissionregistrationv1.Ignore {
			return nil, false, nil
		}
		return nil, false, apierrors.NewInternalError(fmt.Errorf("failed evaluating matchConditions of webhook %q: %w", h.name, err))
	}
	if a.DryRun && h.sideEffects != admissionregistrationv1.SideEffectClassNone && h.sideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun {
		return nil, false, apierrors.NewBadRequest(fmt.Sprintf("admission webhook %q does not support dry run", h.name))
	}
	return req, true, nil
}

// callFailed applies the failurePolicy to an error calling h: nil when
// it is ignored.
func (d *Dispatcher) callFailed(h *hook, err error) error {
	if h.failurePolicy == admissionregistrationv1.Ignore {
		return nil
	}
	return apierrors.NewInternalError(fmt.Errorf("failed calling webhook %q: %w", h.name, err))
}
