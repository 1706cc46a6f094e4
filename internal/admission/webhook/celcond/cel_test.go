package celcond

import (
	"testing"
)

func TestCompileAndEval(t *testing.T) {
	c, err := NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{
		"object":    map[string]any{"metadata": map[string]any{"name": "p", "labels": map[string]any{"app": "web"}}},
		"oldObject": nil,
		"request":   map[string]any{"operation": "CREATE", "userInfo": map[string]any{"username": "jane"}},
	}
	cases := []struct {
		expr       string
		want       bool
		compileErr bool
		evalErr    bool
	}{
		{expr: `object.metadata.labels.app == "web"`, want: true},
		{expr: `request.operation == "UPDATE"`, want: false},
		{expr: `oldObject == null`, want: true},
		{expr: `request.userInfo.username.startsWith("system:")`, want: false},
		{expr: `has(object.metadata.labels.tier)`, want: false},
		{expr: `object.metadata.labels.tier == "x"`, evalErr: true},
		{expr: `1 + 1`, compileErr: true},
		{expr: `object.(`, compileErr: true},
		{expr: `unknownVar == 1`, compileErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			cond, err := c.Compile(tc.expr)
			if (err != nil) != tc.compileErr {
				t.Fatalf("Compile error = %v, want error %v", err, tc.compileErr)
			}
			if err != nil {
				return
			}
			got, err := cond.Eval(vars)
			if (err != nil) != tc.evalErr || got != tc.want {
				t.Errorf("Eval = %v, %v; want %v (error %v)", got, err, tc.want, tc.evalErr)
			}
		})
	}
}
