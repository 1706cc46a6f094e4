package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

// The DefaultStorageClass admission plugin, as upstream's: a new
// PersistentVolumeClaim that names no class gets the default one, the
// StorageClass annotated is-default-class=true (the newest if several).
const (
	defaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

func (s *Server) admitDefaultStorageClass(ctx context.Context, obj runtime.Object) error {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || pvc.Spec.StorageClassName != nil {
		return nil
	}
	// A claim annotated with the legacy class annotation keeps it.
	if _, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return nil
	}
	objs, err := listNamespace(ctx, s.stores[registry.StorageClassResource().GroupVersionResource], "")
	if err != nil {
		return fmt.Errorf("listing storage classes: %w", err)
	}
	if def := defaultStorageClass(objs); def != nil {
		name := def.Name
		pvc.Spec.StorageClassName = &name
	}
	return nil
}

// defaultStorageClass is the newest class marked default (by creation
// time, then name), or nil.
func defaultStorageClass(objs []runtime.Object) *storagev1.StorageClass {
	var def *storagev1.StorageClass
	for _, o := range objs {
		sc := o.(*storagev1.StorageClass)
		if sc.Annotations[defaultStorageClassAnnotation] != "true" && sc.Annotations[betaDefaultStorageClassAnnotation] != "true" {
			continue
		}
		if def == nil || def.CreationTimestamp.Before(&sc.CreationTimestamp) ||
			(def.CreationTimestamp.Equal(&sc.CreationTimestamp) && sc.Name > def.Name) {
			def = sc
		}
	}
	return def
}
