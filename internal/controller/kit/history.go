package kit

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
)

// TemplatePatch is the data a DaemonSet or StatefulSet stores in its
// ControllerRevisions: a strategic-merge patch that replaces the owner's
// pod template, so `kubectl rollout undo` can apply it as is.
func TemplatePatch(tmpl *corev1.PodTemplateSpec) ([]byte, error) {
	raw, err := json.Marshal(tmpl)
	if err != nil {
		return nil, fmt.Errorf("encoding pod template: %w", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("decoding pod template: %w", err)
	}
	fields["$patch"] = "replace"
	out, err := json.Marshal(map[string]any{"spec": map[string]any{"template": fields}})
	if err != nil {
		return nil, fmt.Errorf("encoding template patch: %w", err)
	}
	return out, nil
}

// TemplateFromPatch reads back the pod template of a revision written by
// TemplatePatch.
func TemplateFromPatch(data []byte) (*corev1.PodTemplateSpec, error) {
	var p struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decoding revision data: %w", err)
	}
	return &p.Spec.Template, nil
}

// HashRevision hashes revision data and the owner's collision count into
// a short label-safe string (FNV-32a, alphanumeric encoding).
func HashRevision(data []byte, collisionCount *int32) string {
	h := fnv.New32a()
	h.Write(data)
	if collisionCount != nil {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(*collisionCount))
		h.Write(b[:])
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// NewRevision builds the revision <owner>-<hash> of data, controlled by
// owner and labelled with the template labels plus the hash.
func NewRevision(owner metav1.Object, gvk schema.GroupVersionKind, tmplLabels map[string]string, data []byte, revision int64, collisionCount *int32) *appsv1.ControllerRevision {
	hash := HashRevision(data, collisionCount)
	lbls := maps.Clone(tmplLabels)
	if lbls == nil {
		lbls = map[string]string{}
	}
	lbls[appsv1.ControllerRevisionHashLabelKey] = hash
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            owner.GetName() + "-" + hash,
			Namespace:       owner.GetNamespace(),
			Labels:          lbls,
			OwnerReferences: []metav1.OwnerReference{ControllerRef(owner, gvk)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}
}

// SortRevisions orders revisions oldest first: by revision number, then
// creation time, then name.
func SortRevisions(revs []*appsv1.ControllerRevision) {
	slices.SortStableFunc(revs, func(a, b *appsv1.ControllerRevision) int {
		if a.Revision != b.Revision {
			return int(sign64(a.Revision - b.Revision))
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			if a.CreationTimestamp.Before(&b.CreationTimestamp) {
				return -1
			}
			return 1
		}
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
}

func sign64(v int64) int64 {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// EqualRevisions reports whether two revisions hold the same data.
func EqualRevisions(a, b *appsv1.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.Data.Raw, b.Data.Raw)
}

// NextRevisionNumber is one more than the highest revision number.
func NextRevisionNumber(revs []*appsv1.ControllerRevision) int64 {
	var n int64
	for _, r := range revs {
		n = max(n, r.Revision)
	}
	return n + 1
}

// History reads and writes the ControllerRevisions of one owner kind.
type History struct {
	// Client writes revisions.
	Client kubernetes.Interface
	// Lister reads revisions from the shared informer's cache.
	Lister appslisters.ControllerRevisionLister
}

// Claim returns the revisions owner controls (adopting orphans its
// selector matches and releasing those it no longer matches), oldest
// first.
func (h History) Claim(ctx context.Context, owner metav1.Object, gvk schema.GroupVersionKind, selector labels.Selector, canAdopt func(context.Context) error) ([]*appsv1.ControllerRevision, error) {
	all, err := h.Lister.ControllerRevisions(owner.GetNamespace()).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing revisions of %s/%s: %w", owner.GetNamespace(), owner.GetName(), err)
	}
	c := &Claimer{Owner: owner, GVK: gvk, Selector: selector, CanAdopt: canAdopt,
		Patch: func(ctx context.Context, ns, name string, patch []byte) error {
			_, err := h.Client.AppsV1().ControllerRevisions(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		}}
	revs, err := Claim(ctx, c, all)
	SortRevisions(revs)
	return revs, err
}

// Ensure makes the owner's newest revision hold candidate's data: it
// renumbers an existing equal revision (a rollback) or creates candidate,
// raising *collisionCount while another revision holds its name with
// other data. revs are the owner's revisions, oldest first.
func (h History) Ensure(ctx context.Context, revs []*appsv1.ControllerRevision, candidate *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	var equal *appsv1.ControllerRevision
	for _, r := range revs {
		if EqualRevisions(r, candidate) {
			equal = r // the newest equal one wins
		}
	}
	if equal != nil {
		if equal.Revision == candidate.Revision || equal.Revision == NextRevisionNumber(revs)-1 {
			return equal, nil
		}
		upd := equal.DeepCopy()
		upd.Revision = candidate.Revision
		out, err := h.Client.AppsV1().ControllerRevisions(upd.Namespace).Update(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("renumbering revision %s/%s: %w", upd.Namespace, upd.Name, err)
		}
		return out, nil
	}
	return h.create(ctx, candidate, collisionCount)
}

func (h History) create(ctx context.Context, candidate *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	owner := candidate.OwnerReferences[0].Name
	for {
		rev := candidate.DeepCopy()
		hash := HashRevision(rev.Data.Raw, collisionCount)
		rev.Name = owner + "-" + hash
		rev.Labels[appsv1.ControllerRevisionHashLabelKey] = hash
		out, err := h.Client.AppsV1().ControllerRevisions(rev.Namespace).Create(ctx, rev, metav1.CreateOptions{})
		if err == nil {
			return out, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating revision %s/%s: %w", rev.Namespace, rev.Name, err)
		}
		existing, gerr := h.Client.AppsV1().ControllerRevisions(rev.Namespace).Get(ctx, rev.Name, metav1.GetOptions{})
		if gerr != nil {
			return nil, fmt.Errorf("reading revision %s/%s: %w", rev.Namespace, rev.Name, gerr)
		}
		if EqualRevisions(existing, rev) && metav1.IsControlledBy(existing, ownerMeta(candidate)) {
			return existing, nil
		}
		if collisionCount == nil {
			return nil, fmt.Errorf("revision %s/%s exists with other data and no collision count to raise", rev.Namespace, rev.Name)
		}
		*collisionCount++
	}
}

// ownerMeta is a stand-in owner with the UID of candidate's controller.
func ownerMeta(candidate *appsv1.ControllerRevision) metav1.Object {
	return &metav1.ObjectMeta{UID: candidate.OwnerReferences[0].UID}
}

// TruncateHistory deletes the oldest revisions beyond limit, sparing the
// live ones (by name: the current and update revisions and any revision
// a pod still runs). revs are oldest first.
func (h History) TruncateHistory(ctx context.Context, revs []*appsv1.ControllerRevision, live map[string]bool, limit int32) error {
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			old = append(old, r)
		}
	}
	excess := len(old) - int(max(limit, 0))
	for _, r := range old[:max(excess, 0)] {
		err := h.Client.AppsV1().ControllerRevisions(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting revision %s/%s: %w", r.Namespace, r.Name, err)
		}
	}
	return nil
}
