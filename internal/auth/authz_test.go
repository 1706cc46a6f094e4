package auth

import (
	"context"
	"errors"
	"testing"
)

// decide is an Authorizer with a canned answer.
type decide struct {
	d   Decision
	err error
}

func (z decide) Authorize(context.Context, Attributes) (Decision, string, error) {
	return z.d, z.d.String(), z.err
}

func TestAuthorizerUnion(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name    string
		union   AuthorizerUnion
		want    Decision
		wantErr bool
	}{
		{"empty", nil, DecisionNoOpinion, false},
		{"no opinions", AuthorizerUnion{decide{d: DecisionNoOpinion}}, DecisionNoOpinion, false},
		{"allow", AuthorizerUnion{decide{d: DecisionNoOpinion}, decide{d: DecisionAllow}}, DecisionAllow, false},
		{"deny stops", AuthorizerUnion{decide{d: DecisionDeny}, decide{d: DecisionAllow}}, DecisionDeny, false},
		{"error then allow", AuthorizerUnion{decide{d: DecisionNoOpinion, err: boom}, decide{d: DecisionAllow}}, DecisionAllow, false},
		{"deny with error is not final", AuthorizerUnion{decide{d: DecisionDeny, err: boom}, decide{d: DecisionAllow}}, DecisionAllow, false},
		{"only error", AuthorizerUnion{decide{d: DecisionNoOpinion, err: boom}}, DecisionNoOpinion, true},
		{"always allow", AuthorizerUnion{AlwaysAllow{}}, DecisionAllow, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, _, err := c.union.Authorize(context.Background(), Attributes{Verb: "get"})
			if d != c.want || (err != nil) != c.wantErr {
				t.Errorf("got %v, %v; want %v, error %v", d, err, c.want, c.wantErr)
			}
		})
	}
}

func TestDecisionZeroValueDenies(t *testing.T) {
	var d Decision
	if d != DecisionDeny || d.String() != "Deny" {
		t.Fatalf("zero Decision = %v", d)
	}
	if Decision(7).String() != "Decision(7)" {
		t.Errorf("unknown decision string = %q", Decision(7).String())
	}
}
