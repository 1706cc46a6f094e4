package proxy

import (
	"k8s.io/apimachinery/pkg/api/meta"
)

// dropManagedFields removes managed fields from cached objects; the proxy
// never reads them.
func dropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
