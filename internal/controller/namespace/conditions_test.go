package namespace

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReportConditions(t *testing.T) {
	type want struct {
		status          corev1.ConditionStatus
		reason, message string
	}
	tests := []struct {
		name   string
		report contentReport
		want   map[corev1.NamespaceConditionType]want
	}{
		{
			name:   "clean",
			report: contentReport{},
			want: map[corev1.NamespaceConditionType]want{
				corev1.NamespaceDeletionDiscoveryFailure: {corev1.ConditionFalse, "ResourcesDiscovered", "All resources successfully discovered"},
				corev1.NamespaceDeletionGVParsingFailure: {corev1.ConditionFalse, "ParsedGroupVersions", "All legacy kube types successfully parsed"},
				corev1.NamespaceDeletionContentFailure:   {corev1.ConditionFalse, "ContentDeleted", "All content successfully deleted, may be waiting on finalization"},
				corev1.NamespaceContentRemaining:         {corev1.ConditionFalse, "ContentRemoved", "All content successfully removed"},
				corev1.NamespaceFinalizersRemaining:      {corev1.ConditionFalse, "ContentHasNoFinalizers", "All content-preserving finalizers finished"},
			},
		},
		{
			name: "everything wrong",
			report: contentReport{
				discoveryErr: errors.New("metrics.k8s.io/v1beta1 unavailable"),
				parseErr:     errors.New(`group version "a/b/c": bad`),
				deleteErrs:   []error{errors.New("deleting secrets: boom")},
				remaining:    map[string]int{"widgets.example.com": 2, "configmaps": 1},
				finalizers:   map[string]int{"example.com/hold": 3},
			},
			want: map[corev1.NamespaceConditionType]want{
				corev1.NamespaceDeletionDiscoveryFailure: {corev1.ConditionTrue, "DiscoveryFailed", "Discovery failed for some groups: metrics.k8s.io/v1beta1 unavailable"},
				corev1.NamespaceDeletionGVParsingFailure: {corev1.ConditionTrue, "GroupVersionParsingFailed", `Failed to parse group versions: group version "a/b/c": bad`},
				corev1.NamespaceDeletionContentFailure:   {corev1.ConditionTrue, "ContentDeletionFailed", "Failed to delete all resource types, 1 remaining: deleting secrets: boom"},
				corev1.NamespaceContentRemaining:         {corev1.ConditionTrue, "SomeResourcesRemain", "Some resources are remaining: configmaps has 1 resource instances, widgets.example.com has 2 resource instances"},
				corev1.NamespaceFinalizersRemaining:      {corev1.ConditionTrue, "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: example.com/hold in 3 resource instances"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.report.conditions()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d conditions, want %d", len(got), len(tt.want))
			}
			for _, c := range got {
				w, ok := tt.want[c.Type]
				if !ok {
					t.Errorf("unexpected condition %s", c.Type)
					continue
				}
				if c.Status != w.status || c.Reason != w.reason || c.Message != w.message {
					t.Errorf("%s = %s/%s/%q, want %s/%s/%q", c.Type, c.Status, c.Reason, c.Message, w.status, w.reason, w.message)
				}
			}
		})
	}
}

func TestMergeConditions(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	foreign := corev1.NamespaceCondition{Type: "example.com/Ready", Status: corev1.ConditionTrue, LastTransitionTime: t0}
	old := []corev1.NamespaceCondition{
		{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionTrue, Reason: "SomeResourcesRemain", Message: "a has 2", LastTransitionTime: t0},
		foreign,
		{Type: corev1.NamespaceFinalizersRemaining, Status: corev1.ConditionTrue, Reason: "SomeFinalizersRemain", LastTransitionTime: t0},
	}
	want := []corev1.NamespaceCondition{
		{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionTrue, Reason: "SomeResourcesRemain", Message: "a has 1"},
		{Type: corev1.NamespaceFinalizersRemaining, Status: corev1.ConditionFalse, Reason: "ContentHasNoFinalizers"},
		{Type: corev1.NamespaceDeletionContentFailure, Status: corev1.ConditionFalse, Reason: "ContentDeleted"},
	}
	got := mergeConditions(old, want, t1)
	wantTimes := map[corev1.NamespaceConditionType]metav1.Time{
		"example.com/Ready":                    t0, // foreign: kept as is
		corev1.NamespaceContentRemaining:       t0, // same status: time kept, message updated
		corev1.NamespaceFinalizersRemaining:    t1, // status changed
		corev1.NamespaceDeletionContentFailure: t1, // new
	}
	if len(got) != len(wantTimes) {
		t.Fatalf("got %d conditions, want %d: %+v", len(got), len(wantTimes), got)
	}
	if got[0] != foreign {
		t.Errorf("first condition %+v, want the foreign one kept first", got[0])
	}
	for _, c := range got {
		if wt := wantTimes[c.Type]; !c.LastTransitionTime.Equal(&wt) {
			t.Errorf("%s transition time %v, want %v", c.Type, c.LastTransitionTime, wantTimes[c.Type])
		}
		if c.Type == corev1.NamespaceContentRemaining && c.Message != "a has 1" {
			t.Errorf("ContentRemaining message %q, want the new one", c.Message)
		}
	}
	if !conditionsEqual(got, mergeConditions(got, want, metav1.NewTime(t1.Add(time.Hour)))) {
		t.Error("merging the same conditions again changed them")
	}
}
