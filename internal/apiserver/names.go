package apiserver

import (
	"time"

	utilrand "k8s.io/apimachinery/pkg/util/rand"
)

// generateName appends five random characters to base, keeping the result
// within upstream's 63-character limit for generated names.
func generateName(base string) string {
	const maxBase = 63 - 5
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	return base + utilrand.String(5)
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
