package tables

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func int32p(v int32) *int32 { return &v }

func podSpec() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers:   []corev1.Container{{Name: "web", Image: "nginx:1.27"}, {Name: "proxy", Image: "envoy:v1"}},
		NodeSelector: map[string]string{"disk": "ssd"},
	}}
}

func selector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"fe"}}}}
}

func TestAppsCells(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: objMeta("web"),
		Spec:   appsv1.DeploymentSpec{Replicas: int32p(3), Selector: selector(), Template: podSpec()},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}}
	rs := &appsv1.ReplicaSet{ObjectMeta: objMeta("web-5d4f"),
		Spec:   appsv1.ReplicaSetSpec{Replicas: int32p(3), Selector: selector(), Template: podSpec()},
		Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1}}
	ds := &appsv1.DaemonSet{ObjectMeta: objMeta("agent"),
		Spec: appsv1.DaemonSetSpec{Selector: selector(), Template: podSpec()},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 5, CurrentNumberScheduled: 5, NumberReady: 4,
			UpdatedNumberScheduled: 3, NumberAvailable: 4}}
	sts := &appsv1.StatefulSet{ObjectMeta: objMeta("db"),
		Spec:   appsv1.StatefulSetSpec{Replicas: int32p(3), Template: podSpec()},
		Status: appsv1.StatefulSetStatus{ReadyReplicas: 3}}
	controller := true
	cr := &appsv1.ControllerRevision{ObjectMeta: objMeta("agent-7f9"), Revision: 4}
	cr.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", Controller: &controller}}
	orphan := &appsv1.ControllerRevision{ObjectMeta: objMeta("orphan"), Revision: 1}
	const sel = "app=web,tier in (fe)"
	runCellCases(t, []cellCase{
		{"deployment", d, []any{"web", "2/3", int64(3), int64(2), "60m", "web,proxy", "nginx:1.27,envoy:v1", sel}},
		{"deployment without selector", &appsv1.Deployment{ObjectMeta: objMeta("bare")},
			[]any{"bare", "0/1", int64(0), int64(0), "60m", "", "", ""}},
		{"replicaset", rs, []any{"web-5d4f", int64(3), int64(3), int64(1), "60m", "web,proxy", "nginx:1.27,envoy:v1", sel}},
		{"replicaset without selector", &appsv1.ReplicaSet{ObjectMeta: objMeta("bare")},
			[]any{"bare", int64(1), int64(0), int64(0), "60m", "", "", "<none>"}},
		{"daemonset", ds, []any{"agent", int64(5), int64(5), int64(4), int64(3), int64(4), "disk=ssd", "60m",
			"web,proxy", "nginx:1.27,envoy:v1", sel}},
		{"statefulset", sts, []any{"db", "3/3", "60m", "web,proxy", "nginx:1.27,envoy:v1"}},
		{"controller revision", cr, []any{"agent-7f9", "daemonset.apps/agent", int64(4), "60m"}},
		{"orphan revision", orphan, []any{"orphan", "<none>", int64(1), "60m"}},
	})
}

func TestJobCells(t *testing.T) {
	start := ago(10 * time.Minute)
	done := ago(7 * time.Minute)
	job := func(mutate func(*batchv1.Job)) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: objMeta("pi")}
		j.Spec.Template = podSpec()
		j.Spec.Template.Spec.Containers = j.Spec.Template.Spec.Containers[:1]
		j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "u1"}}
		mutate(j)
		return j
	}
	cond := func(typ batchv1.JobConditionType, s corev1.ConditionStatus) batchv1.JobCondition {
		return batchv1.JobCondition{Type: typ, Status: s}
	}
	const sel = "batch.kubernetes.io/controller-uid=u1"
	runCellCases(t, []cellCase{
		{"complete", job(func(j *batchv1.Job) {
			j.Spec.Completions = int32p(1)
			j.Status = batchv1.JobStatus{Succeeded: 1, StartTime: &start, CompletionTime: &done,
				Conditions: []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue), cond(batchv1.JobComplete, corev1.ConditionTrue)}}
		}), []any{"pi", "Complete", "1/1", "3m", "60m", "web", "nginx:1.27", sel}},
		{"running", job(func(j *batchv1.Job) {
			j.Spec.Completions = int32p(5)
			j.Status = batchv1.JobStatus{Succeeded: 2, StartTime: &start}
		}), []any{"pi", "Running", "2/5", "10m", "60m", "web", "nginx:1.27", sel}},
		{"work queue in parallel", job(func(j *batchv1.Job) {
			j.Spec.Parallelism = int32p(3)
		}), []any{"pi", "Running", "0/1 of 3", "", "60m", "web", "nginx:1.27", sel}},
		{"failed", job(func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobFailureTarget, corev1.ConditionTrue), cond(batchv1.JobFailed, corev1.ConditionTrue)}
		}), []any{"pi", "Failed", "0/1", "", "60m", "web", "nginx:1.27", sel}},
		{"failure target", job(func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobFailureTarget, corev1.ConditionTrue)}
		}), []any{"pi", "FailureTarget", "0/1", "", "60m", "web", "nginx:1.27", sel}},
		{"suspended", job(func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobSuspended, corev1.ConditionTrue)}
		}), []any{"pi", "Suspended", "0/1", "", "60m", "web", "nginx:1.27", sel}},
		{"terminating", job(func(j *batchv1.Job) {
			j.DeletionTimestamp = &start
			j.Status.Conditions = []batchv1.JobCondition{cond(batchv1.JobSuspended, corev1.ConditionTrue)}
		}), []any{"pi", "Terminating", "0/1", "", "60m", "web", "nginx:1.27", sel}},
	})
}

func TestCronJobCells(t *testing.T) {
	last := ago(90 * time.Second)
	tz := "Europe/Paris"
	suspend := false
	cj := &batchv1.CronJob{ObjectMeta: objMeta("nightly")}
	cj.Spec.Schedule = "0 3 * * *"
	cj.Spec.TimeZone = &tz
	cj.Spec.Suspend = &suspend
	cj.Spec.JobTemplate.Spec.Template = podSpec()
	cj.Status.Active = []corev1.ObjectReference{{Name: "nightly-1"}}
	cj.Status.LastScheduleTime = &last
	runCellCases(t, []cellCase{
		{"scheduled", cj, []any{"nightly", "0 3 * * *", "Europe/Paris", "False", int64(1), "90s", "60m",
			"web,proxy", "nginx:1.27,envoy:v1", "<none>"}},
		{"never scheduled", &batchv1.CronJob{ObjectMeta: objMeta("new"), Spec: batchv1.CronJobSpec{Schedule: "@hourly"}},
			[]any{"new", "@hourly", "<none>", "<unset>", int64(0), "<none>", "60m", "", "", "<none>"}},
	})
}
