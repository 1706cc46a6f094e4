package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testJob is a started Job "j" in namespace "ns".
func testJob(completions, parallelism int32, mods ...func(*batchv1.Job)) *batchv1.Job {
	labels := map[string]string{batchv1.ControllerUidLabel: "job-uid", batchv1.JobNameLabel: "j"}
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "ns", UID: "job-uid", ResourceVersion: "1"},
		Spec: batchv1.JobSpec{
			Completions:    ptr.To(completions),
			Parallelism:    ptr.To(parallelism),
			BackoffLimit:   ptr.To[int32](6),
			CompletionMode: ptr.To(batchv1.NonIndexedCompletion),
			Suspend:        ptr.To(false),
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: "job-uid"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
			},
		},
		Status: batchv1.JobStatus{StartTime: ptr.To(metav1.NewTime(testNow.Add(-time.Minute)))},
	}
	for _, m := range mods {
		m(j)
	}
	return j
}

// testPod is a tracked pod of testJob in phase.
func testPod(name string, phase corev1.PodPhase, mods ...func(*corev1.Pod)) *corev1.Pod {
	j := testJob(1, 1)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "ns", UID: types.UID("uid-" + name), ResourceVersion: "1",
		Labels:            j.Spec.Template.Labels,
		Finalizers:        []string{batchv1.JobTrackingFinalizer},
		OwnerReferences:   []metav1.OwnerReference{kit.ControllerRef(j, jobKind)},
		CreationTimestamp: metav1.NewTime(testNow.Add(-time.Minute)),
	}}
	p.Status.Phase = phase
	for _, m := range mods {
		m(p)
	}
	return p
}

func withIndex(i int) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Annotations = map[string]string{batchv1.JobCompletionIndexAnnotation: fmt.Sprint(i)}
	}
}

func exitCode(code int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.NewTime(testNow.Add(-time.Second))}}}}
	}
}

func indexed(j *batchv1.Job) { j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion) }

type fixture struct {
	client *fake.Clientset
	c      *Controller
	events *record.FakeRecorder
	// pods is the pod informer's store, for events during a sync.
	pods cache.Indexer
}

func newFixture(t *testing.T, job *batchv1.Job, pods ...*corev1.Pod) *fixture {
	t.Helper()
	objs := []runtime.Object{job}
	for _, p := range pods {
		objs = append(objs, p)
	}
	client := fake.NewClientset(objs...)
	n := 0
	client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" {
			n++
			p.Name = fmt.Sprintf("%s%d", p.GenerateName, n)
		}
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	jobs, podInf := factory.Batch().V1().Jobs(), factory.Core().V1().Pods()
	if err := jobs.Informer().GetIndexer().Add(job); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if err := podInf.Informer().GetIndexer().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	events := record.NewFakeRecorder(100)
	c, err := New(Config{Client: client, Jobs: jobs, Pods: podInf, Recorder: events, Clock: testingclock.NewFakeClock(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	client.ClearActions()
	return &fixture{client: client, c: c, events: events, pods: podInf.Informer().GetIndexer()}
}

// verbs lists the client's actions as "verb resource[/sub]".
func verbs(actions []clienttesting.Action) string {
	var out []string
	for _, a := range actions {
		r := a.GetResource().Resource
		if a.GetSubresource() != "" {
			r += "/" + a.GetSubresource()
		}
		out = append(out, a.GetVerb()+" "+r)
	}
	return strings.Join(out, ", ")
}

// lastStatus returns the last Job status written.
func lastStatus(t *testing.T, actions []clienttesting.Action) batchv1.JobStatus {
	t.Helper()
	for _, a := range slices.Backward(actions) {
		if a.GetVerb() == "update" && a.GetSubresource() == "status" {
			return a.(clienttesting.UpdateAction).GetObject().(*batchv1.Job).Status
		}
	}
	t.Fatalf("no status update in %s", verbs(actions))
	return batchv1.JobStatus{}
}

func created(actions []clienttesting.Action) []*corev1.Pod {
	var out []*corev1.Pod
	for _, a := range actions {
		if a.GetVerb() == "create" && a.GetResource().Resource == "pods" {
			out = append(out, a.(clienttesting.CreateAction).GetObject().(*corev1.Pod))
		}
	}
	return out
}

func condition(st batchv1.JobStatus, ct batchv1.JobConditionType) string {
	for _, c := range st.Conditions {
		if c.Type == ct && c.Status == corev1.ConditionTrue {
			return c.Reason
		}
	}
	return ""
}

func TestSync(t *testing.T) {
	for _, tc := range []struct {
		name    string
		job     *batchv1.Job
		pods    []*corev1.Pod
		pending []types.UID
		// want is the sequence of client actions.
		want string
		// check asserts on the last status written and the created pods.
		check func(t *testing.T, st batchv1.JobStatus, pods []*corev1.Pod)
		// requeue is the wait the sync asks for (0: none).
		requeue time.Duration
	}{
		{
			name: "new job creates parallelism pods",
			job:  testJob(3, 2, func(j *batchv1.Job) { j.Status.StartTime = nil }),
			want: "update jobs/status, create pods, create pods",
			check: func(t *testing.T, st batchv1.JobStatus, pods []*corev1.Pod) {
				if st.StartTime == nil || !st.StartTime.Time.Equal(testNow) {
					t.Errorf("startTime %v", st.StartTime)
				}
				for _, p := range pods {
					if !slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) || metav1.GetControllerOf(p).UID != "job-uid" {
						t.Errorf("pod %s: finalizers %v owner %v", p.Name, p.Finalizers, p.OwnerReferences)
					}
				}
			},
		},
		{
			name: "a success is recorded, untracked, then counted",
			job:  testJob(3, 2),
			pods: []*corev1.Pod{testPod("a", corev1.PodSucceeded), testPod("b", corev1.PodRunning)},
			want: "update jobs/status, create pods, patch pods, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, pods []*corev1.Pod) {
				if st.Succeeded != 1 || st.Active != 1 || len(st.UncountedTerminatedPods.Succeeded) != 0 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "last completion finishes the job",
			job:  testJob(1, 1),
			pods: []*corev1.Pod{testPod("a", corev1.PodSucceeded)},
			want: "update jobs/status, patch pods, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if condition(st, batchv1.JobSuccessCriteriaMet) != batchv1.JobReasonCompletionsReached || condition(st, batchv1.JobComplete) == "" || st.CompletionTime == nil || st.Succeeded != 1 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "backoffLimit exceeded fails the job",
			job:  testJob(1, 1, func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](0) }),
			pods: []*corev1.Pod{testPod("a", corev1.PodFailed, exitCode(1))},
			want: "update jobs/status, patch pods, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if condition(st, batchv1.JobFailureTarget) != batchv1.JobReasonBackoffLimitExceeded || condition(st, batchv1.JobFailed) != batchv1.JobReasonBackoffLimitExceeded || st.Failed != 1 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "a failure waits out the back-off",
			job:  testJob(1, 1),
			pods: []*corev1.Pod{testPod("a", corev1.PodFailed, exitCode(1))},
			want: "update jobs/status, patch pods, update jobs/status",
			// Failed a second ago: 10 s back-off.
			requeue: 9 * time.Second,
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if st.Failed != 1 || condition(st, batchv1.JobFailureTarget) != "" {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "deadline exceeded kills active pods",
			job:  testJob(2, 1, func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }),
			pods: []*corev1.Pod{testPod("a", corev1.PodRunning)},
			want: "update jobs/status, delete pods, patch pods, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if condition(st, batchv1.JobFailureTarget) != batchv1.JobReasonDeadlineExceeded || condition(st, batchv1.JobFailed) != "" || st.Failed != 1 || *st.Terminating != 1 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "deadline ahead requeues",
			job:  testJob(2, 1, func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr.To[int64](90) }),
			pods: []*corev1.Pod{testPod("a", corev1.PodRunning)},
			want: "update jobs/status",
			// Started a minute ago.
			requeue: 30 * time.Second,
		},
		{
			name: "suspend deletes active pods without counting them",
			job:  testJob(2, 1, func(j *batchv1.Job) { j.Spec.Suspend = ptr.To(true) }),
			pods: []*corev1.Pod{testPod("a", corev1.PodRunning)},
			want: "update jobs/status, patch pods, delete pods, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if condition(st, batchv1.JobSuspended) != reasonSuspended || st.StartTime != nil || st.Failed != 0 || st.Active != 0 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "podFailurePolicy FailJob",
			job: testJob(2, 1, func(j *batchv1.Job) {
				j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
					Action:      batchv1.PodFailurePolicyActionFailJob,
					OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}},
				}}}
			}),
			pods: []*corev1.Pod{testPod("a", corev1.PodFailed, exitCode(42))},
			want: "update jobs/status, patch pods, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if condition(st, batchv1.JobFailed) != batchv1.JobReasonPodFailurePolicy || st.Failed != 1 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "podFailurePolicy Ignore neither counts nor backs off",
			job: testJob(1, 1, func(j *batchv1.Job) {
				j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
					Action:          batchv1.PodFailurePolicyActionIgnore,
					OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
				}}}
			}),
			pods: []*corev1.Pod{testPod("a", corev1.PodFailed, func(p *corev1.Pod) {
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
			})},
			want: "update jobs/status, create pods, patch pods",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if st.Failed != 0 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "a pod deleted before finishing counts as failed",
			job:  testJob(1, 1),
			pods: []*corev1.Pod{testPod("a", corev1.PodRunning, func(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.NewTime(testNow)) })},
			want: "update jobs/status, patch pods, update jobs/status",
			// A graceful deletion gives no finish time: back-off from now.
			requeue: 10 * time.Second,
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if st.Failed != 1 || *st.Terminating != 1 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name:    "a pod whose untracking is in flight is not counted twice",
			job:     testJob(2, 1, func(j *batchv1.Job) { j.Status.Succeeded = 1 }),
			pods:    []*corev1.Pod{testPod("a", corev1.PodSucceeded), testPod("b", corev1.PodRunning)},
			pending: []types.UID{"uid-a"},
			want:    "update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if st.Succeeded != 1 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "uncounted pods gone from the API are counted",
			job: testJob(3, 1, func(j *batchv1.Job) {
				j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: []types.UID{"gone"}}
			}),
			pods: []*corev1.Pod{testPod("b", corev1.PodRunning)},
			want: "update jobs/status, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if st.Succeeded != 1 || len(st.UncountedTerminatedPods.Succeeded) != 0 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "excess pods are deleted",
			job:  testJob(3, 1),
			pods: []*corev1.Pod{testPod("a", corev1.PodRunning), testPod("b", corev1.PodPending)},
			want: "update jobs/status, patch pods, delete pods, update jobs/status",
		},
		{
			name: "finished job only releases its pods",
			job: testJob(1, 1, func(j *batchv1.Job) {
				j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
			}),
			pods: []*corev1.Pod{testPod("a", corev1.PodSucceeded)},
			want: "patch pods",
		},
		{
			name: "indexed job creates the missing indexes",
			job:  testJob(3, 2, indexed),
			pods: []*corev1.Pod{testPod("a", corev1.PodRunning, withIndex(0))},
			want: "update jobs/status, create pods",
			check: func(t *testing.T, _ batchv1.JobStatus, pods []*corev1.Pod) {
				p := pods[0]
				if p.Annotations[batchv1.JobCompletionIndexAnnotation] != "1" || p.Labels[batchv1.JobCompletionIndexAnnotation] != "1" ||
					p.Spec.Hostname != "j-1" || p.GenerateName != "j-1-" || p.Spec.Containers[0].Env[0].Name != completionIndexEnv {
					t.Errorf("pod %+v", p)
				}
			},
		},
		{
			name: "indexed job deletes duplicates",
			job:  testJob(3, 3, indexed, func(j *batchv1.Job) { j.Status.CompletedIndexes = "2" }),
			pods: []*corev1.Pod{
				testPod("a", corev1.PodRunning, withIndex(0)), testPod("b", corev1.PodPending, withIndex(0)),
				testPod("c", corev1.PodRunning, withIndex(1)), testPod("d", corev1.PodRunning, withIndex(2)),
			},
			want: "update jobs/status, patch pods, patch pods, delete pods, delete pods, update jobs/status",
		},
		{
			name: "per-index back-off limit fails the index",
			job: testJob(2, 2, indexed, func(j *batchv1.Job) {
				j.Spec.BackoffLimitPerIndex = ptr.To[int32](0)
				j.Spec.BackoffLimit = ptr.To[int32](1 << 30)
				j.Status.CompletedIndexes = "0"
			}),
			pods: []*corev1.Pod{testPod("a", corev1.PodFailed, withIndex(1), exitCode(3))},
			want: "update jobs/status, patch pods, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if ptr.Deref(st.FailedIndexes, "") != "1" || condition(st, batchv1.JobFailed) != batchv1.JobReasonFailedIndexes {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "success policy ends an indexed job early",
			job: testJob(3, 3, indexed, func(j *batchv1.Job) {
				j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0")}}}
			}),
			pods: []*corev1.Pod{testPod("a", corev1.PodSucceeded, withIndex(0)), testPod("b", corev1.PodRunning, withIndex(1))},
			want: "update jobs/status, patch pods, delete pods, patch pods, update jobs/status",
			check: func(t *testing.T, st batchv1.JobStatus, _ []*corev1.Pod) {
				if condition(st, batchv1.JobSuccessCriteriaMet) != batchv1.JobReasonSuccessPolicy || condition(st, batchv1.JobComplete) != "" || st.CompletedIndexes != "0" {
					t.Errorf("status %+v", st)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.job, tc.pods...)
			for _, uid := range tc.pending {
				f.c.untracked.expect("ns/j", uid)
			}
			err := f.c.sync(context.Background(), "ns/j")
			var after kit.RequeueAfter
			switch {
			case errors.As(err, &after):
				if time.Duration(after) != tc.requeue {
					t.Errorf("requeue after %v, want %v", time.Duration(after), tc.requeue)
				}
			case err != nil:
				t.Fatal(err)
			case tc.requeue != 0:
				t.Errorf("no requeue, want %v", tc.requeue)
			}
			actions := f.client.Actions()
			if got := verbs(actions); got != tc.want {
				t.Errorf("actions\n got  %s\n want %s", got, tc.want)
			}
			if tc.check != nil {
				var st batchv1.JobStatus
				if strings.Contains(tc.want, "status") {
					st = lastStatus(t, actions)
				}
				tc.check(t, st, created(actions))
			}
		})
	}
}

func TestDeletedJobReleasesPods(t *testing.T) {
	client := fake.NewClientset(testPod("a", corev1.PodRunning))
	factory := informers.NewSharedInformerFactory(client, 0)
	pods := factory.Core().V1().Pods()
	if err := pods.Informer().GetIndexer().Add(testPod("a", corev1.PodRunning)); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Client: client, Jobs: factory.Batch().V1().Jobs(), Pods: pods})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	if err := c.sync(context.Background(), "ns/j"); err != nil {
		t.Fatal(err)
	}
	if got := verbs(client.Actions()); got != "patch pods" {
		t.Fatalf("actions %s, want the finalizer removed", got)
	}
	p, err := client.CoreV1().Pods("ns").Get(context.Background(), "a", metav1.GetOptions{})
	if err != nil || len(p.Finalizers) != 0 {
		t.Fatalf("pod after release: %v %v", err, p.Finalizers)
	}
}

// refill returns a fixture whose informers hold what f's client stores
// now, as the next sync would see it once the watch caught up.
func refill(t *testing.T, f *fixture) *fixture {
	t.Helper()
	ctx := context.Background()
	job, err := f.client.BatchV1().Jobs("ns").Get(ctx, "j", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.client.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pods []*corev1.Pod
	for i := range list.Items {
		pods = append(pods, &list.Items[i])
	}
	return newFixture(t, job, pods...)
}

// TestIndexedJobCompletesAfterDeletingDuplicates replays the sequence of
// the integration flake (issue 5): the last indexes succeed while a
// duplicate pod of one of them still runs. The first sync sets
// SuccessCriteriaMet and deletes the duplicate, so it cannot finish; the
// next sync has nothing left to count and must still write Complete.
func TestIndexedJobCompletesAfterDeletingDuplicates(t *testing.T) {
	job := testJob(3, 3, indexed, func(j *batchv1.Job) { j.Status.CompletedIndexes = "1"; j.Status.Succeeded = 1 })
	f := newFixture(t, job,
		testPod("a", corev1.PodSucceeded, withIndex(0)),
		testPod("b", corev1.PodSucceeded, withIndex(1), func(p *corev1.Pod) { p.Finalizers = nil }),
		testPod("c", corev1.PodSucceeded, withIndex(2)),
		testPod("dup", corev1.PodRunning, withIndex(2)))
	if err := f.c.sync(context.Background(), "ns/j"); err != nil {
		t.Fatal(err)
	}
	st := lastStatus(t, f.client.Actions())
	if condition(st, batchv1.JobSuccessCriteriaMet) != batchv1.JobReasonCompletionsReached || condition(st, batchv1.JobComplete) != "" {
		t.Fatalf("first sync: conditions %+v, want SuccessCriteriaMet only (a pod was being deleted)", st.Conditions)
	}

	next := refill(t, f)
	if err := next.c.sync(context.Background(), "ns/j"); err != nil {
		t.Fatal(err)
	}
	// The first write drops the deleted pod from status.terminating, the
	// second adds Complete.
	if got, want := verbs(next.client.Actions()), "update jobs/status, update jobs/status"; got != want {
		t.Fatalf("second sync actions %q, want %q", got, want)
	}
	st = lastStatus(t, next.client.Actions())
	if condition(st, batchv1.JobComplete) != batchv1.JobReasonCompletionsReached || st.CompletionTime == nil || st.CompletedIndexes != "0-2" || st.Succeeded != 3 {
		t.Errorf("second sync status %+v", st)
	}
}

// TestExpectationsReadBeforeListing: a creation observed after the sync
// listed the pods (here: while it writes the status) must not make the
// sync trust a listing that lacks that pod and create its index again.
func TestExpectationsReadBeforeListing(t *testing.T) {
	job := testJob(3, 3, indexed)
	f := newFixture(t, job, testPod("a", corev1.PodPending, withIndex(0)), testPod("b", corev1.PodPending, withIndex(1)))
	f.c.expectations.ExpectCreations("ns/j", 3)
	f.c.expectations.CreationObserved("ns/j")
	f.c.expectations.CreationObserved("ns/j")
	late := testPod("c", corev1.PodPending, withIndex(2))
	f.client.PrependReactor("update", "jobs", func(clienttesting.Action) (bool, runtime.Object, error) {
		// The watch delivers the third pod while the status is written.
		if err := f.pods.Add(late); err != nil {
			return true, nil, err
		}
		f.c.addPod(late)
		return false, nil, nil
	})
	if err := f.c.sync(context.Background(), "ns/j"); err != nil {
		t.Fatal(err)
	}
	if got, want := verbs(f.client.Actions()), "update jobs/status"; got != want {
		t.Errorf("actions %q, want %q (no pod created for index 2, which has one)", got, want)
	}
	if !f.c.expectations.Satisfied("ns/j") {
		t.Error("expectations not satisfied after the third creation was observed")
	}
}
