package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIsTokenOf(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot", Namespace: "ns", UID: "u1"}}
	secret := func(typ corev1.SecretType, annotations map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", Annotations: annotations}, Type: typ}
	}
	const name, uid = "kubernetes.io/service-account.name", "kubernetes.io/service-account.uid"
	tests := []struct {
		name   string
		secret *corev1.Secret
		want   bool
	}{
		{"filled token secret", secret(corev1.SecretTypeServiceAccountToken, map[string]string{name: "robot", uid: "u1"}), true},
		{"not filled yet", secret(corev1.SecretTypeServiceAccountToken, map[string]string{name: "robot"}), true},
		{"of an earlier account of that name", secret(corev1.SecretTypeServiceAccountToken, map[string]string{name: "robot", uid: "u0"}), false},
		{"of another account", secret(corev1.SecretTypeServiceAccountToken, map[string]string{name: "other", uid: "u1"}), false},
		{"opaque secret", secret(corev1.SecretTypeOpaque, map[string]string{name: "robot", uid: "u1"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isTokenOf(tt.secret, sa); got != tt.want {
				t.Errorf("isTokenOf = %v, want %v", got, tt.want)
			}
		})
	}
}
