package encrypt

import (
	"strings"
	"testing"
)

// key32 is a valid 32-byte base64 key; key16 a 16-byte one.
const (
	key32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	key16 = "MDEyMzQ1Njc4OWFiY2RlZg=="
)

func TestParse(t *testing.T) {
	header := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"secretbox then identity", header + `resources:
- resources: [secrets]
  providers:
  - secretbox: {keys: [{name: key1, secret: ` + key32 + `}]}
  - identity: {}
`, ""},
		{"aesgcm 16-byte key", header + `resources:
- resources: [secrets, configmaps, "*.apps"]
  providers:
  - aesgcm: {keys: [{name: a, secret: ` + key16 + `}, {name: b, secret: ` + key32 + `}]}
`, ""},
		{"unknown field", header + `resources:
- resources: [secrets]
  providers: [{identity: {}}]
  extra: 1
`, "unknown field"},
		{"unsupported provider", header + `resources:
- resources: [secrets]
  providers: [{aescbc: {keys: [{name: a, secret: ` + key32 + `}]}}]
`, "unknown field"},
		{"two providers in one entry", header + `resources:
- resources: [secrets]
  providers: [{identity: {}, secretbox: {keys: [{name: a, secret: ` + key32 + `}]}}]
`, "exactly one"},
		{"short secretbox key", header + `resources:
- resources: [secrets]
  providers: [{secretbox: {keys: [{name: a, secret: ` + key16 + `}]}}]
`, "32 bytes"},
		{"duplicate key names", header + `resources:
- resources: [secrets]
  providers: [{aesgcm: {keys: [{name: a, secret: ` + key16 + `}, {name: a, secret: ` + key16 + `}]}}]
`, "duplicate"},
		{"no keys", header + `resources:
- resources: [secrets]
  providers: [{aesgcm: {keys: []}}]
`, "at least one key"},
		{"bad base64", header + `resources:
- resources: [secrets]
  providers: [{aesgcm: {keys: [{name: a, secret: "!!"}]}}]
`, "base64"},
		{"wrong kind", "apiVersion: v1\nkind: Config\nresources: []\n", "want apiVersion"},
		{"core wildcard", header + `resources:
- resources: ["*."]
  providers: [{identity: {}}]
`, "not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestKeyPrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"secrets", "/registry/secrets/"},
		{"deployments.apps", "/registry/apps/deployments/"},
		{"widgets.example.com", "/registry/example.com/widgets/"},
		{"*.apps", "/registry/apps/"},
		{"*.*", "/registry/"},
	}
	for _, tc := range tests {
		got, err := keyPrefix(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("keyPrefix(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	c, err := DefaultConfiguration(strings.NewReader(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, data)
	}
	if got := back.Resources[0].Providers[0].Secretbox.Keys[0]; got.Name != "key1" || got.Secret != c.Resources[0].Providers[0].Secretbox.Keys[0].Secret {
		t.Fatalf("round trip key = %+v", got)
	}
	if back.Resources[0].Providers[1].Identity == nil {
		t.Fatalf("identity provider lost: %s", data)
	}
}
