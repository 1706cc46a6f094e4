package registry

import (
	"fmt"
	"math"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func wlJob() *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: wlMeta("pi"),
		Spec:       batchv1.JobSpec{Template: wlPodTemplate(nil, corev1.RestartPolicyNever)},
	}
}

// wlCreateJob runs the create life cycle of the strategy on j.
func wlCreateJob(j *batchv1.Job) field.ErrorList {
	s := jobStrategy()
	s.Default(j)
	s.PrepareForCreate(j)
	return s.Validate(j)
}

func TestJobDefaults(t *testing.T) {
	cases := []struct {
		name                     string
		completions, parallelism *int32
		perIndex                 *int32
		failurePolicy            bool
		wantC, wantP             *int32
		wantBackoff              int32
		wantReplacement          batchv1.PodReplacementPolicy
	}{
		{name: "both unset", wantC: ptr.To[int32](1), wantP: ptr.To[int32](1), wantBackoff: 6, wantReplacement: batchv1.TerminatingOrFailed},
		{name: "completions only", completions: ptr.To[int32](5), wantC: ptr.To[int32](5), wantP: ptr.To[int32](1), wantBackoff: 6, wantReplacement: batchv1.TerminatingOrFailed},
		{name: "parallelism only: work queue", parallelism: ptr.To[int32](3), wantP: ptr.To[int32](3), wantBackoff: 6, wantReplacement: batchv1.TerminatingOrFailed},
		{name: "per-index backoff", completions: ptr.To[int32](2), perIndex: ptr.To[int32](1), wantC: ptr.To[int32](2), wantP: ptr.To[int32](1), wantBackoff: math.MaxInt32, wantReplacement: batchv1.TerminatingOrFailed},
		{name: "pod failure policy", failurePolicy: true, wantC: ptr.To[int32](1), wantP: ptr.To[int32](1), wantBackoff: 6, wantReplacement: batchv1.Failed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := wlJob()
			j.Spec.Completions, j.Spec.Parallelism, j.Spec.BackoffLimitPerIndex = tc.completions, tc.parallelism, tc.perIndex
			if tc.failurePolicy {
				j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
					Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}},
				}}}
			}
			defaultJob(j)
			s := j.Spec
			if !equality.Semantic.DeepEqual(s.Completions, tc.wantC) || !equality.Semantic.DeepEqual(s.Parallelism, tc.wantP) {
				t.Errorf("completions=%v parallelism=%v, want %v %v", ptrStr(s.Completions), ptrStr(s.Parallelism), ptrStr(tc.wantC), ptrStr(tc.wantP))
			}
			if *s.BackoffLimit != tc.wantBackoff || *s.PodReplacementPolicy != tc.wantReplacement {
				t.Errorf("backoffLimit=%d podReplacementPolicy=%s", *s.BackoffLimit, *s.PodReplacementPolicy)
			}
			if *s.CompletionMode != batchv1.NonIndexedCompletion || *s.Suspend {
				t.Errorf("completionMode=%s suspend=%v", *s.CompletionMode, *s.Suspend)
			}
			if tc.failurePolicy && s.PodFailurePolicy.Rules[0].OnPodConditions[0].Status != corev1.ConditionTrue {
				t.Errorf("onPodConditions status not defaulted")
			}
		})
	}
}

func ptrStr(p *int32) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestJobGeneratedSelector(t *testing.T) {
	j := wlJob()
	j.Spec.Template.Labels = map[string]string{"app": "pi"}
	if errs := wlCreateJob(j); len(errs) != 0 {
		t.Fatalf("valid job rejected: %v", errs)
	}
	uid := string(j.UID)
	wantLabels := map[string]string{"app": "pi", "job-name": "pi", "batch.kubernetes.io/job-name": "pi",
		"controller-uid": uid, "batch.kubernetes.io/controller-uid": uid}
	if !equality.Semantic.DeepEqual(j.Spec.Template.Labels, wantLabels) {
		t.Errorf("template labels = %v", j.Spec.Template.Labels)
	}
	if !equality.Semantic.DeepEqual(j.Spec.Selector, &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": uid}}) {
		t.Errorf("selector = %v", j.Spec.Selector)
	}
	// The job's own labels default to the template's.
	if j.Labels["app"] != "pi" {
		t.Errorf("job labels = %v", j.Labels)
	}

	manual := wlJob()
	manual.Spec.ManualSelector = ptr.To(true)
	manual.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
	manual.Spec.Template.Labels = map[string]string{"app": "pi"}
	if errs := wlCreateJob(manual); len(errs) != 0 {
		t.Fatalf("manual selector rejected: %v", errs)
	}
	if len(manual.Spec.Template.Labels) != 1 {
		t.Errorf("manual selector job got generated labels: %v", manual.Spec.Template.Labels)
	}
}

func TestJobValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(j *batchv1.Job)
		want   []string
	}{
		{name: "valid", mutate: func(*batchv1.Job) {}},
		{name: "valid indexed", mutate: func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Completions = ptr.To[int32](3)
			j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
			j.Spec.MaxFailedIndexes = ptr.To[int32](2)
		}},
		{name: "restartPolicy Always", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			want: []string{"notsupported:spec.template.spec.restartPolicy"}},
		{name: "restartPolicy unset defaults to Always", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" },
			want: []string{"notsupported:spec.template.spec.restartPolicy"}},
		{name: "OnFailure with pod failure policy", mutate: func(j *batchv1.Job) {
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{}
		}, want: []string{"invalid:spec.template.spec.restartPolicy"}},
		{name: "indexed without completions", mutate: func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Parallelism = ptr.To[int32](2)
		}, want: []string{"required:spec.completions"}},
		{name: "negative counts", mutate: func(j *batchv1.Job) {
			j.Spec.Parallelism = ptr.To[int32](-1)
			j.Spec.Completions = ptr.To[int32](-2)
			j.Spec.BackoffLimit = ptr.To[int32](-1)
		}, want: []string{"invalid:spec.parallelism", "invalid:spec.completions", "invalid:spec.backoffLimit"}},
		{name: "unknown completion mode", mutate: func(j *batchv1.Job) { j.Spec.CompletionMode = ptr.To(batchv1.CompletionMode("Sorted")) },
			want: []string{"notsupported:spec.completionMode"}},
		{name: "per-index limit on NonIndexed", mutate: func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = ptr.To[int32](1) },
			want: []string{"invalid:spec.backoffLimitPerIndex"}},
		{name: "manual selector mismatch", mutate: func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
		}, want: []string{"invalid:spec.template.metadata.labels"}},
		{name: "manual without selector", mutate: func(j *batchv1.Job) { j.Spec.ManualSelector = ptr.To(true) },
			want: []string{"required:spec.selector"}},
		{name: "conflicting generated label", mutate: func(j *batchv1.Job) {
			j.Spec.Template.Labels = map[string]string{"controller-uid": "someone-else"}
		}, want: []string{"invalid:spec.template.metadata.labels[controller-uid]"}},
		{name: "replacement policy with failure policy", mutate: func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{}
			j.Spec.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		}, want: []string{"notsupported:spec.podReplacementPolicy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := wlJob()
			tc.mutate(j)
			wlCheckErrs(t, wlCreateJob(j), tc.want...)
		})
	}
}

func TestJobUpdate(t *testing.T) {
	s := jobStrategy()
	newJob := func(suspend bool) *batchv1.Job {
		j := wlJob()
		j.Spec.Suspend = ptr.To(suspend)
		if errs := wlCreateJob(j); len(errs) != 0 {
			t.Fatalf("base job invalid: %v", errs)
		}
		return j
	}
	cases := []struct {
		name    string
		suspend bool
		started bool
		mutate  func(j *batchv1.Job)
		want    []string
	}{
		{name: "unsuspend and change parallelism", suspend: true, mutate: func(j *batchv1.Job) {
			j.Spec.Suspend = ptr.To(false)
			j.Spec.Parallelism = ptr.To[int32](4)
		}},
		{name: "selector", mutate: func(j *batchv1.Job) { j.Spec.Selector.MatchLabels["x"] = "y"; j.Spec.Template.Labels["x"] = "y" },
			want: []string{"invalid:spec.selector", "invalid:spec.selector", "invalid:spec.template"}},
		{name: "completions", mutate: func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](4) },
			want: []string{"invalid:spec.completions"}},
		{name: "image of running job", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "busybox" },
			want: []string{"invalid:spec.template"}},
		{name: "node selector of suspended job", suspend: true, mutate: func(j *batchv1.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
			j.Spec.Template.Annotations = map[string]string{"a": "b"}
		}},
		{name: "node selector of suspended job that started", suspend: true, started: true, mutate: func(j *batchv1.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
		}, want: []string{"invalid:spec.template"}},
		{name: "image of suspended job", suspend: true, mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "busybox" },
			want: []string{"invalid:spec.template"}},
		{name: "completion mode", mutate: func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		}, want: []string{"invalid:spec.completionMode"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := newJob(tc.suspend)
			if tc.started {
				old.Status.StartTime = ptr.To(metav1.Now())
			}
			j := old.DeepCopy()
			tc.mutate(j)
			s.Default(j)
			wlCheckErrs(t, s.ValidateUpdate(j, old), tc.want...)
		})
	}

	// Indexed jobs may scale completions together with parallelism.
	old := wlJob()
	old.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	old.Spec.Completions = ptr.To[int32](3)
	old.Spec.Parallelism = ptr.To[int32](3)
	if errs := wlCreateJob(old); len(errs) != 0 {
		t.Fatal(errs)
	}
	scaled := old.DeepCopy()
	scaled.Spec.Completions, scaled.Spec.Parallelism = ptr.To[int32](5), ptr.To[int32](5)
	wlCheckErrs(t, s.ValidateUpdate(scaled, old))
	scaled.Spec.Parallelism = ptr.To[int32](4)
	wlCheckErrs(t, s.ValidateUpdate(scaled, old), "invalid:spec.completions")
}

func wlCronJob(schedule string) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: wlMeta("nightly"),
		Spec: batchv1.CronJobSpec{
			Schedule: schedule,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
				Template: wlPodTemplate(nil, corev1.RestartPolicyOnFailure),
			}},
		},
	}
}

func TestCronJobDefaults(t *testing.T) {
	cj := wlCronJob("@daily")
	defaultCronJob(cj)
	s := cj.Spec
	if s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
		t.Errorf("defaults: %s %v %d %d", s.ConcurrencyPolicy, *s.Suspend, *s.SuccessfulJobsHistoryLimit, *s.FailedJobsHistoryLimit)
	}
	if s.JobTemplate.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("pod template not defaulted")
	}
	if s.JobTemplate.Spec.Completions != nil || s.JobTemplate.Spec.BackoffLimit != nil {
		t.Errorf("job template spec got job defaults")
	}
}

func TestCronJobValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(cj *batchv1.CronJob)
		want   []string
	}{
		{name: "valid", mutate: func(*batchv1.CronJob) {}},
		{name: "valid time zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Europe/Paris") }},
		{name: "no schedule", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "" }, want: []string{"required:spec.schedule"}},
		{name: "bad schedule", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "61 * * * *" }, want: []string{"invalid:spec.schedule"}},
		{name: "TZ in schedule", mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" }, want: []string{"invalid:spec.schedule"}},
		{name: "TZ and timeZone", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.Schedule = "CRON_TZ=UTC 0 * * * *"
			cj.Spec.TimeZone = ptr.To("UTC")
		}, want: []string{"invalid:spec.schedule"}},
		{name: "unknown zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Mars/Olympus") }, want: []string{"invalid:spec.timeZone"}},
		{name: "Local zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Local") }, want: []string{"invalid:spec.timeZone"}},
		{name: "empty zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("") }, want: []string{"invalid:spec.timeZone"}},
		{name: "bad concurrency", mutate: func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = "Sometimes" },
			want: []string{"notsupported:spec.concurrencyPolicy"}},
		{name: "long name", mutate: func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 53) },
			want: []string{"invalid:metadata.name"}},
		{name: "selector in template", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{}
		}, want: []string{"invalid:spec.jobTemplate.spec.selector"}},
		{name: "manual selector in template", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.ManualSelector = ptr.To(true)
		}, want: []string{"notsupported:spec.jobTemplate.spec.manualSelector"}},
		{name: "Always in template", mutate: func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		}, want: []string{"notsupported:spec.jobTemplate.spec.template.spec.restartPolicy"}},
		{name: "negative history", mutate: func(cj *batchv1.CronJob) { cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](-1) },
			want: []string{"invalid:spec.failedJobsHistoryLimit"}},
	}
	s := cronJobStrategy()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := wlCronJob("*/5 * * * *")
			s.Default(cj)
			tc.mutate(cj)
			wlCheckErrs(t, s.Validate(cj), tc.want...)
		})
	}

	// Updates skip the name length and tolerate a TZ already there.
	old := wlCronJob("TZ=UTC 0 * * * *")
	old.Name = strings.Repeat("a", 60)
	s.Default(old)
	upd := old.DeepCopy()
	upd.Spec.Suspend = ptr.To(true)
	wlCheckErrs(t, s.ValidateUpdate(upd, old))
}

func TestCronScheduleParsing(t *testing.T) {
	valid := []string{
		"* * * * *", "0 0 1 1 *", "*/15 0-6,18-23 * * mon-fri", "5/10 * ? JAN,jul SUN", "0 12 * * 6",
		"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every 1h30m",
		"CRON_TZ=Asia/Tokyo 0 9 * * *", "  0  9 * * *  ",
	}
	for _, s := range valid {
		if _, err := parseCronSchedule(s); err != nil {
			t.Errorf("parseCronSchedule(%q) = %v, want ok", s, err)
		}
	}
	invalid := map[string]string{
		"":                       "empty",
		"* * * *":                "expected exactly 5 fields",
		"* * * * * *":            "expected exactly 5 fields",
		"60 * * * *":             "above maximum",
		"* 24 * * *":             "above maximum",
		"* * 0 * *":              "below minimum",
		"* * * 13 *":             "above maximum",
		"* * * * 7":              "above maximum",
		"5-1 * * * *":            "beyond end of range",
		"*/0 * * * *":            "positive number",
		"1-2-3 * * * *":          "too many hyphens",
		"*/2/3 * * * *":          "too many slashes",
		"x * * * *":              "failed to parse int",
		"@fortnightly":           "unrecognized descriptor",
		"@every fast":            "failed to parse duration",
		"TZ=Nowhere/X 0 * * * *": "bad location",
	}
	for s, want := range invalid {
		_, err := parseCronSchedule(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseCronSchedule(%q) = %v, want error containing %q", s, err, want)
		}
	}
	sched, err := parseCronSchedule("*/20 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	if sched.fields[0] != 1|1<<20|1<<40 || sched.fields[1] != 1<<3 {
		t.Errorf("fields = %b %b", sched.fields[0], sched.fields[1])
	}
}

func TestJobPolicies(t *testing.T) {
	rule := func(action batchv1.PodFailurePolicyAction, op batchv1.PodFailurePolicyOnExitCodesOperator, values ...int32) batchv1.PodFailurePolicyRule {
		return batchv1.PodFailurePolicyRule{Action: action, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: values}}
	}
	cases := []struct {
		name   string
		mutate func(j *batchv1.Job)
		want   []string
	}{
		{name: "valid failure policy", mutate: func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				rule(batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyOnExitCodesOpIn, 1, 42),
				{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}},
			}}
		}},
		{name: "bad exit codes", mutate: func(j *batchv1.Job) {
			r := rule(batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyOnExitCodesOpIn, 0, 5, 5, 3)
			r.OnExitCodes.ContainerName = ptr.To("sidecar")
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{r}}
		}, want: []string{"invalid:spec.podFailurePolicy.rules[0].onExitCodes.values[0]", "duplicate:spec.podFailurePolicy.rules[0].onExitCodes.values[2]",
			"invalid:spec.podFailurePolicy.rules[0].onExitCodes.values", "invalid:spec.podFailurePolicy.rules[0].onExitCodes.containerName"}},
		{name: "rule without condition, FailIndex without per-index limit", mutate: func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionFailIndex}}}
		}, want: []string{"invalid:spec.podFailurePolicy.rules[0]", "invalid:spec.podFailurePolicy.rules[0].action"}},
		{name: "valid success policy", mutate: func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Completions = ptr.To[int32](10)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0,2-4,9"), SucceededCount: ptr.To[int32](5)}}}
		}},
		{name: "bad success policy", mutate: func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Completions = ptr.To[int32](10)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{
				{SucceededIndexes: ptr.To("3,1")}, {}, {SucceededIndexes: ptr.To("1-2"), SucceededCount: ptr.To[int32](3)},
			}}
		}, want: []string{"invalid:spec.successPolicy.rules[0].succeededIndexes", "required:spec.successPolicy.rules[1]",
			"invalid:spec.successPolicy.rules[2].succeededCount"}},
		{name: "success policy on NonIndexed", mutate: func(j *batchv1.Job) {
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededCount: ptr.To[int32](1)}}}
		}, want: []string{"invalid:spec.successPolicy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := wlJob()
			tc.mutate(j)
			wlCheckErrs(t, wlCreateJob(j), tc.want...)
		})
	}
	if n, err := countIndexes("0,2-4,9", 10); err != nil || n != 5 {
		t.Errorf("countIndexes = %d, %v", n, err)
	}
	for _, bad := range []string{"", "a", "3-1", "1,1", "10", "-1"} {
		if _, err := countIndexes(bad, 10); err == nil {
			t.Errorf("countIndexes(%q) accepted", bad)
		}
	}
}
