package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Condition is a compiled matchCondition expression.
type Condition interface {
	// Eval evaluates the expression over the variables object, oldObject
	// and request (JSON-shaped maps, or nil).
	Eval(vars map[string]any) (bool, error)
}

// CompileFunc compiles a matchCondition expression (package celcond
// provides one over cel-go).
type CompileFunc func(expr string) (Condition, error)

// conditionCache keeps compiled matchConditions by webhook key.
type conditionCache struct {
	compile CompileFunc
	mu      sync.Mutex
	conds   map[string][]Condition
}

func (c *conditionCache) get(h *hook) ([]Condition, error) {
	if len(h.matchConditions) == 0 {
		return nil, nil
	}
	if c.compile == nil {
		return nil, errors.New("matchConditions are not supported by this server")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.conds[h.key]; ok {
		return p, nil
	}
	var out []Condition
	for _, mc := range h.matchConditions {
		p, err := c.compile(mc.Expression)
		if err != nil {
			return nil, fmt.Errorf("matchCondition %q: %w", mc.Name, err)
		}
		out = append(out, p)
	}
	if c.conds == nil {
		c.conds = map[string][]Condition{}
	}
	c.conds[h.key] = out
	return out, nil
}

// errNoMatch is the answer of a false matchCondition.
var errNoMatch = errors.New("a matchCondition is false")

// evalConditions evaluates the conditions in order: nil when all are true,
// errNoMatch when one is false (even if another failed), another error
// when one fails and none is false.
func evalConditions(conds []Condition, specs []admissionregistrationv1.MatchCondition, a *Attributes, req *admissionv1.AdmissionRequest) error {
	if len(conds) == 0 {
		return nil
	}
	vars, err := conditionVars(a, req)
	if err != nil {
		return err
	}
	var firstErr error
	for i, c := range conds {
		ok, err := c.Eval(vars)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("matchCondition %q: %w", specs[i].Name, err)
			}
			continue
		}
		if !ok {
			return errNoMatch
		}
	}
	return firstErr
}

// conditionVars shapes the variables as JSON would: maps, slices, strings,
// numbers and booleans.
func conditionVars(a *Attributes, req *admissionv1.AdmissionRequest) (map[string]any, error) {
	vars := map[string]any{"object": nil, "oldObject": nil}
	for name, obj := range map[string]runtime.Object{"object": a.Object, "oldObject": a.OldObject} {
		if obj == nil {
			continue
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, fmt.Errorf("converting %s: %w", name, err)
		}
		vars[name] = u
	}
	data, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding the request: %w", err)
	}
	var r map[string]any
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decoding the request: %w", err)
	}
	vars["request"] = r
	return vars, nil
}
