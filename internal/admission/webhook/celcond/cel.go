// Package celcond compiles the CEL matchConditions of admission webhooks
// with cel-go: the variables object, oldObject and request are offered
// (authorizer is not).
package celcond

import (
	"fmt"

	"cel.dev/cel-go/cel"

	"github.com/skiffkube/skiff/internal/admission/webhook"
)

// Compiler compiles expressions in one environment. It is safe for
// concurrent use.
type Compiler struct {
	env *cel.Env
}

// NewCompiler builds the environment.
func NewCompiler() (*Compiler, error) {
	env, err := cel.NewEnv(
		cel.Variable("object", cel.DynType),
		cel.Variable("oldObject", cel.DynType),
		cel.Variable("request", cel.DynType),
	)
	if err != nil {
		return nil, fmt.Errorf("building the CEL environment: %w", err)
	}
	return &Compiler{env: env}, nil
}

// Compile checks that expr compiles to a boolean and returns it ready to
// evaluate.
func (c *Compiler) Compile(expr string) (webhook.Condition, error) {
	ast, iss := c.env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("compilation failed: %w", iss.Err())
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("must evaluate to bool, not %v", t)
	}
	p, err := c.env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("building the program: %w", err)
	}
	return program{p}, nil
}

type program struct{ p cel.Program }

// Eval runs the expression over the variables.
func (p program) Eval(vars map[string]any) (bool, error) {
	out, _, err := p.p.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("expression returned %T, not bool", out.Value())
	}
	return b, nil
}
