package cronjob

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
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// testNow is 12:01:30 UTC; the 12:00 run is due.
var testNow = time.Date(2026, 3, 1, 12, 1, 30, 0, time.UTC)

func testCronJob(mods ...func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "cj", Namespace: "ns", UID: "cj-uid", ResourceVersion: "1",
			CreationTimestamp: metav1.NewTime(testNow.Add(-15 * time.Minute))},
		Spec: batchv1.CronJobSpec{
			Schedule:          "*/5 * * * *",
			TimeZone:          ptr.To("UTC"),
			ConcurrencyPolicy: batchv1.AllowConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
			},
		},
		Status: batchv1.CronJobStatus{LastScheduleTime: ptr.To(metav1.NewTime(testNow.Add(-6*time.Minute - 30*time.Second)))},
	}
	for _, m := range mods {
		m(cj)
	}
	return cj
}

// ownedJob is a Job of testCronJob scheduled at t, finished as ct ("" running).
func ownedJob(t time.Time, ct batchv1.JobConditionType) *batchv1.Job {
	j := newJob(testCronJob(), jobName(testCronJob(), t), t)
	j.UID = types.UID("uid-" + j.Name)
	j.Status.StartTime = ptr.To(metav1.NewTime(t))
	if ct != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: ct, Status: corev1.ConditionTrue}}
		j.Status.CompletionTime = ptr.To(metav1.NewTime(t.Add(time.Second)))
	}
	return j
}

func activeRef(j *batchv1.Job) func(*batchv1.CronJob) {
	return func(cj *batchv1.CronJob) {
		ref, _ := jobRef(j)
		cj.Status.Active = append(cj.Status.Active, ref)
	}
}

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

func drain(events *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestSync(t *testing.T) {
	at1200 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	next := 3*time.Minute + 30*time.Second + nextSlack // to 12:05
	for _, tc := range []struct {
		name  string
		cj    *batchv1.CronJob
		jobs  []*batchv1.Job
		want  string
		event string
		check func(t *testing.T, st batchv1.CronJobStatus, created *batchv1.Job)
		// requeue is the wait asked for; 0 means none.
		requeue time.Duration
	}{
		{
			name: "due run starts a job", cj: testCronJob(),
			want: "create jobs, update cronjobs/status", event: "SuccessfulCreate", requeue: next,
			check: func(t *testing.T, st batchv1.CronJobStatus, j *batchv1.Job) {
				if j.Name != fmt.Sprintf("cj-%d", at1200.Unix()/60) || j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "2026-03-01T12:00:00Z" ||
					j.Labels["app"] != "x" || metav1.GetControllerOf(j).UID != "cj-uid" {
					t.Errorf("job %+v", j.ObjectMeta)
				}
				if len(st.Active) != 1 || !st.LastScheduleTime.Time.Equal(at1200) {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "nothing due", cj: testCronJob(func(cj *batchv1.CronJob) { cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(at1200)) }),
			requeue: next,
		},
		{
			name: "forbid skips while a job runs",
			cj:   testCronJob(func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent }, activeRef(ownedJob(at1200.Add(-5*time.Minute), ""))),
			jobs: []*batchv1.Job{ownedJob(at1200.Add(-5*time.Minute), "")}, event: "JobAlreadyActive", requeue: next,
		},
		{
			name: "replace deletes the running job",
			cj:   testCronJob(func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ReplaceConcurrent }, activeRef(ownedJob(at1200.Add(-5*time.Minute), ""))),
			jobs: []*batchv1.Job{ownedJob(at1200.Add(-5*time.Minute), "")},
			want: "delete jobs, create jobs, update cronjobs/status", event: "SuccessfulDelete", requeue: next,
			check: func(t *testing.T, st batchv1.CronJobStatus, _ *batchv1.Job) {
				if len(st.Active) != 1 || st.Active[0].Name != jobName(testCronJob(), at1200) {
					t.Errorf("active %+v", st.Active)
				}
			},
		},
		{
			name: "suspended", cj: testCronJob(func(cj *batchv1.CronJob) { cj.Spec.Suspend = ptr.To(true) }),
		},
		{
			name: "past the starting deadline", cj: testCronJob(func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = ptr.To[int64](60) }),
			requeue: next, // the 12:00 run is 90 s late: skipped
		},
		{
			name: "too many missed runs start only the latest",
			cj: testCronJob(func(cj *batchv1.CronJob) {
				cj.Spec.Schedule = "* * * * *"
				cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(testNow.Add(-24 * time.Hour)))
			}),
			want: "create jobs, update cronjobs/status", event: "TooManyMissedTimes", requeue: 30*time.Second + nextSlack,
			check: func(t *testing.T, st batchv1.CronJobStatus, j *batchv1.Job) {
				if j.Name != jobName(testCronJob(), at1200.Add(time.Minute)) {
					t.Errorf("started %s", j.Name)
				}
			},
		},
		{
			name: "the job of this time already exists",
			cj:   testCronJob(),
			jobs: []*batchv1.Job{ownedJob(at1200, batchv1.JobComplete)},
			want: "update cronjobs/status", requeue: next,
			check: func(t *testing.T, st batchv1.CronJobStatus, _ *batchv1.Job) {
				if st.LastSuccessfulTime == nil || !st.LastSuccessfulTime.Time.Equal(at1200.Add(time.Second)) {
					t.Errorf("lastSuccessfulTime %v", st.LastSuccessfulTime)
				}
			},
		},
		{
			name: "finished jobs leave active and old ones go",
			cj: testCronJob(func(cj *batchv1.CronJob) {
				cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](1)
				cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(at1200))
			}, activeRef(ownedJob(at1200, batchv1.JobComplete))),
			jobs: []*batchv1.Job{ownedJob(at1200.Add(-10*time.Minute), batchv1.JobComplete), ownedJob(at1200, batchv1.JobComplete)},
			want: "update cronjobs/status, delete jobs", event: "SawCompletedJob", requeue: next,
			check: func(t *testing.T, st batchv1.CronJobStatus, _ *batchv1.Job) {
				if len(st.Active) != 0 {
					t.Errorf("active %+v", st.Active)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := []runtime.Object{tc.cj}
			for _, j := range tc.jobs {
				objs = append(objs, j)
			}
			client := fake.NewClientset(objs...)
			factory := informers.NewSharedInformerFactory(client, 0)
			cjs, jobs := factory.Batch().V1().CronJobs(), factory.Batch().V1().Jobs()
			if err := cjs.Informer().GetIndexer().Add(tc.cj); err != nil {
				t.Fatal(err)
			}
			for _, j := range tc.jobs {
				if err := jobs.Informer().GetIndexer().Add(j); err != nil {
					t.Fatal(err)
				}
			}
			events := record.NewFakeRecorder(100)
			c, err := New(Config{Client: client, CronJobs: cjs, Jobs: jobs, Recorder: events, Clock: testingclock.NewFakeClock(testNow)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.queue.ShutDown)
			client.ClearActions()

			err = c.sync(context.Background(), "ns/cj")
			var after kit.RequeueAfter
			switch {
			case errors.As(err, &after):
				if time.Duration(after) != tc.requeue {
					t.Errorf("requeue %v, want %v", time.Duration(after), tc.requeue)
				}
			case err != nil:
				t.Fatal(err)
			case tc.requeue != 0:
				t.Errorf("no requeue, want %v", tc.requeue)
			}
			actions := client.Actions()
			if got := verbs(actions); got != tc.want {
				t.Errorf("actions\n got  %s\n want %s", got, tc.want)
			}
			evs := drain(events)
			if tc.event != "" && !slices.ContainsFunc(evs, func(e string) bool { return strings.Contains(e, " "+tc.event+" ") }) {
				t.Errorf("events %v lack %s", evs, tc.event)
			}
			if tc.check == nil {
				return
			}
			var st batchv1.CronJobStatus
			var createdJob *batchv1.Job
			for _, a := range actions {
				switch {
				case a.GetVerb() == "update" && a.GetSubresource() == "status":
					st = a.(clienttesting.UpdateAction).GetObject().(*batchv1.CronJob).Status
				case a.GetVerb() == "create":
					createdJob = a.(clienttesting.CreateAction).GetObject().(*batchv1.Job)
				}
			}
			tc.check(t, st, createdJob)
		})
	}
}

func TestMostRecent(t *testing.T) {
	s, err := Parse("*/10 * * * *", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		earliest, now time.Time
		want          time.Time
		missed        int
	}{
		{t0, t0.Add(5 * time.Minute), time.Time{}, 0},
		{t0, t0.Add(25 * time.Minute), t0.Add(20 * time.Minute), 2},
		{t0, t0.Add(1000 * time.Hour), t0.Add(1000 * time.Hour), tooManyMissed + 1},
		{t0, t0.Add(1000*time.Hour + 9*time.Minute), t0.Add(1000 * time.Hour), tooManyMissed + 1},
	} {
		got, missed := mostRecent(s, tc.earliest, tc.now)
		if !got.Equal(tc.want) || missed != tc.missed {
			t.Errorf("mostRecent(%s, %s) = %s, %d; want %s, %d", tc.earliest, tc.now, got, missed, tc.want, tc.missed)
		}
	}
}
