package ttlafterfinished

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func finishedJob(ttl *int32, finishedAgo time.Duration, ct batchv1.JobConditionType) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "ns", ResourceVersion: "5"}}
	j.Spec.TTLSecondsAfterFinished = ttl
	if ct != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: ct, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(testNow.Add(-finishedAgo))}}
	}
	return j
}

func TestSync(t *testing.T) {
	for _, tc := range []struct {
		name    string
		job     *batchv1.Job
		want    string
		requeue time.Duration
	}{
		{"complete and expired", finishedJob(ptr.To[int32](10), time.Minute, batchv1.JobComplete), "get jobs, delete jobs", 0},
		{"failed and expired", finishedJob(ptr.To[int32](0), 0, batchv1.JobFailed), "get jobs, delete jobs", 0},
		{"not yet due", finishedJob(ptr.To[int32](100), time.Minute, batchv1.JobComplete), "", 40 * time.Second},
		{"no ttl", finishedJob(nil, time.Hour, batchv1.JobComplete), "", 0},
		{"running", finishedJob(ptr.To[int32](0), 0, ""), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(tc.job)
			factory := informers.NewSharedInformerFactory(client, 0)
			jobs := factory.Batch().V1().Jobs()
			if err := jobs.Informer().GetIndexer().Add(tc.job); err != nil {
				t.Fatal(err)
			}
			c, err := New(Config{Client: client, Jobs: jobs, Clock: testingclock.NewFakeClock(testNow)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.queue.ShutDown)
			err = c.sync(context.Background(), "ns/j")
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
			var got []string
			for _, a := range client.Actions() {
				got = append(got, a.GetVerb()+" "+a.GetResource().Resource)
				if d, ok := a.(clienttesting.DeleteAction); ok {
					o := d.GetDeleteOptions()
					if o.PropagationPolicy == nil || *o.PropagationPolicy != metav1.DeletePropagationBackground || o.Preconditions == nil || *o.Preconditions.ResourceVersion != "5" {
						t.Errorf("delete options %+v", o)
					}
				}
			}
			if strings.Join(got, ", ") != tc.want {
				t.Errorf("actions %v, want %s", got, tc.want)
			}
		})
	}
}
