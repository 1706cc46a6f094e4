package bench

import (
	"io"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

func TestDeploymentComplete(t *testing.T) {
	three := int32(3)
	for _, tc := range []struct {
		name   string
		gen    int64
		status appsv1.DeploymentStatus
		want   bool
	}{
		{"rolled out", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}, true},
		{"generation not observed", 3, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}, false},
		{"old pods left", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 3, AvailableReplicas: 3}, false},
		{"not all updated", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 2, AvailableReplicas: 3}, false},
		{"not available", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}, false},
	} {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: tc.gen},
			Spec: appsv1.DeploymentSpec{Replicas: &three}, Status: tc.status}
		if got := deploymentComplete(d); got != tc.want {
			t.Errorf("%s: complete = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestJobTracker(t *testing.T) {
	job := func(name string, cond batchv1.JobConditionType, status corev1.ConditionStatus) watch.Event {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if cond != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: status}}
		}
		return watch.Event{Type: watch.Modified, Object: j}
	}
	tr := newJobTracker(io.Discard)
	cond := tr.observe(2)
	steps := []struct {
		ev      watch.Event
		done    bool
		wantErr bool
	}{
		{job("a", "", ""), false, false},
		{job("a", batchv1.JobComplete, corev1.ConditionTrue), false, false},
		{job("a", batchv1.JobComplete, corev1.ConditionTrue), false, false}, // counted once
		{job("b", batchv1.JobComplete, corev1.ConditionFalse), false, false},
		{job("b", batchv1.JobComplete, corev1.ConditionTrue), true, false},
	}
	for i, s := range steps {
		done, err := cond(s.ev)
		if done != s.done || (err != nil) != s.wantErr {
			t.Errorf("step %d: done %v err %v, want %v %v", i, done, err, s.done, s.wantErr)
		}
	}
	if _, err := newJobTracker(io.Discard).observe(1)(job("c", batchv1.JobFailed, corev1.ConditionTrue)); err == nil {
		t.Error("a failed job is not an error")
	}
	if tr.completed() != 2 {
		t.Errorf("completed %d, want 2", tr.completed())
	}
}

func TestCtrlJobObject(t *testing.T) {
	j := ctrlJobObject("ns", 7)
	if j.Name != "burst-7" || *j.Spec.Completions != 1 || j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("job %+v", j)
	}
	a := j.Spec.Template.Annotations
	if a["skiff.io/fake-exit-code"] != "0" || a["skiff.io/fake-run-seconds"] != "1" {
		t.Errorf("annotations %v", a)
	}
}
