package registry

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func wlDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: wlMeta("web"),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: wlAppLabels()},
			Template: wlPodTemplate(wlAppLabels(), ""),
		},
	}
}

func TestDeploymentDefaults(t *testing.T) {
	d := wlDeployment()
	defaultDeployment(d)
	want := appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Selector: &metav1.LabelSelector{MatchLabels: wlAppLabels()},
		Strategy: appsv1.DeploymentStrategy{
			Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromString("25%")),
				MaxSurge:       ptr.To(intstr.FromString("25%")),
			},
		},
		RevisionHistoryLimit:    ptr.To[int32](10),
		ProgressDeadlineSeconds: ptr.To[int32](600),
	}
	got := d.Spec
	if got.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("template restartPolicy = %q, want Always", got.Template.Spec.RestartPolicy)
	}
	got.Template = corev1.PodTemplateSpec{}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("defaulted spec = %+v\nwant %+v", got, want)
	}

	// Recreate gets no rollingUpdate; set values are kept.
	r := wlDeployment()
	r.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	r.Spec.Replicas = ptr.To[int32](0)
	defaultDeployment(r)
	if r.Spec.Strategy.RollingUpdate != nil || *r.Spec.Replicas != 0 {
		t.Errorf("Recreate defaults: rollingUpdate=%v replicas=%d", r.Spec.Strategy.RollingUpdate, *r.Spec.Replicas)
	}
}

func TestDeploymentValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(d *appsv1.Deployment)
		want   []string
	}{
		{name: "valid", mutate: func(*appsv1.Deployment) {}},
		{name: "valid percentages", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromString("0%")), MaxSurge: ptr.To(intstr.FromInt32(3))}
		}},
		{name: "no selector", mutate: func(d *appsv1.Deployment) { d.Spec.Selector = nil },
			want: []string{"required:spec.selector"}},
		{name: "empty selector", mutate: func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
			want: []string{"invalid:spec.selector"}},
		{name: "selector does not match", mutate: func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "db"} },
			want: []string{"invalid:spec.template.metadata.labels"}},
		{name: "restartPolicy Never", mutate: func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			want: []string{"notsupported:spec.template.spec.restartPolicy"}},
		{name: "activeDeadlineSeconds", mutate: func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](5) },
			want: []string{"forbidden:spec.template.spec.activeDeadlineSeconds"}},
		{name: "negative replicas", mutate: func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](-1) },
			want: []string{"invalid:spec.replicas"}},
		{name: "surge and unavailable both 0", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("0%"))}
		}, want: []string{"invalid:spec.strategy.rollingUpdate.maxUnavailable"}},
		{name: "maxUnavailable over 100%", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("101%"))
		}, want: []string{"invalid:spec.strategy.rollingUpdate.maxUnavailable"}},
		{name: "maxSurge not a percentage", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("abc"))
		}, want: []string{"invalid:spec.strategy.rollingUpdate.maxSurge"}},
		{name: "negative maxSurge", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(-1))
		}, want: []string{"invalid:spec.strategy.rollingUpdate.maxSurge"}},
		{name: "Recreate with rollingUpdate", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
		}, want: []string{"forbidden:spec.strategy.rollingUpdate"}},
		{name: "unknown strategy", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "BlueGreen"}
		}, want: []string{"notsupported:spec.strategy.type"}},
		{name: "progress deadline not above minReadySeconds", mutate: func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 600
		}, want: []string{"invalid:spec.progressDeadlineSeconds"}},
		{name: "negative revisionHistoryLimit", mutate: func(d *appsv1.Deployment) {
			d.Spec.RevisionHistoryLimit = ptr.To[int32](-1)
		}, want: []string{"invalid:spec.revisionHistoryLimit"}},
	}
	s := deploymentStrategy()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := wlDeployment()
			s.Default(d)
			tc.mutate(d)
			wlCheckErrs(t, s.Validate(d), tc.want...)
		})
	}
}

func TestDeploymentUpdate(t *testing.T) {
	s := deploymentStrategy()
	old := wlDeployment()
	s.Default(old)

	scaled := old.DeepCopy()
	scaled.Spec.Replicas = ptr.To[int32](5)
	scaled.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
	wlCheckErrs(t, s.ValidateUpdate(scaled, old))

	moved := old.DeepCopy()
	moved.Spec.Selector.MatchLabels["tier"] = "front"
	moved.Spec.Template.Labels["tier"] = "front"
	wlCheckErrs(t, s.ValidateUpdate(moved, old), "invalid:spec.selector")
}

func wlReplicaSet() *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: wlMeta("web"),
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: wlAppLabels()},
			Template: wlPodTemplate(wlAppLabels(), ""),
		},
	}
}

func TestReplicaSet(t *testing.T) {
	s := replicaSetStrategy()
	rs := wlReplicaSet()
	s.Default(rs)
	if rs.Spec.Replicas == nil || *rs.Spec.Replicas != 1 || rs.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Fatalf("defaults: replicas=%v restartPolicy=%q", rs.Spec.Replicas, rs.Spec.Template.Spec.RestartPolicy)
	}
	cases := []struct {
		name   string
		mutate func(rs *appsv1.ReplicaSet)
		want   []string
	}{
		{name: "valid", mutate: func(*appsv1.ReplicaSet) {}},
		{name: "no selector", mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = nil }, want: []string{"required:spec.selector"}},
		{name: "bad expression", mutate: func(rs *appsv1.ReplicaSet) {
			rs.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}
		}, want: []string{"invalid:spec.selector.matchExpressions[0].operator"}},
		{name: "mismatch", mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Labels = nil }, want: []string{"invalid:spec.template.metadata.labels"}},
		{name: "negative minReadySeconds", mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.MinReadySeconds = -1 }, want: []string{"invalid:spec.minReadySeconds"}},
		{name: "OnFailure", mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			want: []string{"notsupported:spec.template.spec.restartPolicy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := rs.DeepCopy()
			tc.mutate(obj)
			wlCheckErrs(t, s.Validate(obj), tc.want...)
		})
	}
	changed := rs.DeepCopy()
	changed.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
	changed.Spec.Template.Labels = map[string]string{"app": "web", "v": "2"}
	wlCheckErrs(t, s.ValidateUpdate(changed, rs), "invalid:spec.selector")
}

func wlDaemonSet() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: wlMeta("agent"),
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: wlAppLabels()},
			Template: wlPodTemplate(wlAppLabels(), ""),
		},
	}
}

func TestDaemonSet(t *testing.T) {
	s := daemonSetStrategy()
	ds := wlDaemonSet()
	s.Default(ds)
	wantStrategy := appsv1.DaemonSetUpdateStrategy{
		Type: appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			MaxSurge:       ptr.To(intstr.FromInt32(0)),
		},
	}
	if !equality.Semantic.DeepEqual(ds.Spec.UpdateStrategy, wantStrategy) || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Fatalf("defaults: %+v, revisionHistoryLimit %v", ds.Spec.UpdateStrategy, ds.Spec.RevisionHistoryLimit)
	}
	ondelete := wlDaemonSet()
	ondelete.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	s.Default(ondelete)
	if ondelete.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Errorf("OnDelete got rollingUpdate defaults")
	}

	cases := []struct {
		name   string
		mutate func(ds *appsv1.DaemonSet)
		want   []string
	}{
		{name: "valid", mutate: func(*appsv1.DaemonSet) {}},
		{name: "valid surge", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("10%"))}
		}},
		{name: "both non-zero", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(1))
		}, want: []string{"invalid:spec.updateStrategy.rollingUpdate.maxSurge"}},
		{name: "both zero", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(0))
		}, want: []string{"required:spec.updateStrategy.rollingUpdate.maxUnavailable"}},
		{name: "surge over 100%", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("200%"))}
		}, want: []string{"invalid:spec.updateStrategy.rollingUpdate.maxSurge"}},
		{name: "unknown type", mutate: func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = "Sometimes" },
			want: []string{"notsupported:spec.updateStrategy.type"}},
		{name: "empty selector", mutate: func(ds *appsv1.DaemonSet) { ds.Spec.Selector = &metav1.LabelSelector{} },
			want: []string{"invalid:spec.selector"}},
		{name: "Never", mutate: func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			want: []string{"notsupported:spec.template.spec.restartPolicy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := ds.DeepCopy()
			tc.mutate(obj)
			wlCheckErrs(t, s.Validate(obj), tc.want...)
		})
	}
	changed := ds.DeepCopy()
	changed.Spec.Selector.MatchLabels = map[string]string{"app": "web", "x": "y"}
	changed.Spec.Template.Labels = map[string]string{"app": "web", "x": "y"}
	wlCheckErrs(t, s.ValidateUpdate(changed, ds), "invalid:spec.selector")
}

func wlStatefulSet() *appsv1.StatefulSet {
	sts := &appsv1.StatefulSet{
		ObjectMeta: wlMeta("db"),
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: wlAppLabels()},
			Template:    wlPodTemplate(wlAppLabels(), ""),
		},
	}
	sts.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	return sts
}

func TestStatefulSetDefaults(t *testing.T) {
	sts := wlStatefulSet()
	defaultStatefulSet(sts)
	s := sts.Spec
	want := appsv1.StatefulSetSpec{
		Replicas:            ptr.To[int32](1),
		PodManagementPolicy: appsv1.OrderedReadyPodManagement,
		UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
			Type:          appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)},
		},
		RevisionHistoryLimit: ptr.To[int32](10),
		PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		},
	}
	got := appsv1.StatefulSetSpec{Replicas: s.Replicas, PodManagementPolicy: s.PodManagementPolicy, UpdateStrategy: s.UpdateStrategy,
		RevisionHistoryLimit: s.RevisionHistoryLimit, PersistentVolumeClaimRetentionPolicy: s.PersistentVolumeClaimRetentionPolicy}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("defaults = %+v\nwant %+v", got, want)
	}
}

func TestStatefulSetValidation(t *testing.T) {
	s := statefulSetStrategy()
	base := wlStatefulSet()
	base.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resourceMustParse("1Gi")}},
		},
	}}
	s.Default(base)
	cases := []struct {
		name   string
		mutate func(sts *appsv1.StatefulSet)
		want   []string
	}{
		{name: "valid, claim volume mounted", mutate: func(*appsv1.StatefulSet) {}},
		{name: "no service name", mutate: func(sts *appsv1.StatefulSet) { sts.Spec.ServiceName = "" }},
		{name: "bad service name", mutate: func(sts *appsv1.StatefulSet) { sts.Spec.ServiceName = "DB.x" },
			want: []string{"invalid:spec.serviceName"}},
		{name: "bad pod management", mutate: func(sts *appsv1.StatefulSet) { sts.Spec.PodManagementPolicy = "Random" },
			want: []string{"invalid:spec.podManagementPolicy"}},
		{name: "OnDelete with rollingUpdate", mutate: func(sts *appsv1.StatefulSet) {
			sts.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
		}, want: []string{"invalid:spec.updateStrategy.rollingUpdate"}},
		{name: "negative partition", mutate: func(sts *appsv1.StatefulSet) {
			sts.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](-1)
		}, want: []string{"invalid:spec.updateStrategy.rollingUpdate.partition"}},
		{name: "zero maxUnavailable", mutate: func(sts *appsv1.StatefulSet) {
			sts.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(0))
		}, want: []string{"invalid:spec.updateStrategy.rollingUpdate.maxUnavailable"}},
		{name: "bad retention", mutate: func(sts *appsv1.StatefulSet) {
			sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = "Keep"
		}, want: []string{"notsupported:spec.persistentVolumeClaimRetentionPolicy.whenScaled"}},
		{name: "negative ordinal start", mutate: func(sts *appsv1.StatefulSet) {
			sts.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: -1}
		}, want: []string{"invalid:spec.ordinals.start"}},
		{name: "no selector", mutate: func(sts *appsv1.StatefulSet) { sts.Spec.Selector = nil },
			want: []string{"required:spec.selector"}},
		{name: "activeDeadlineSeconds", mutate: func(sts *appsv1.StatefulSet) { sts.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](1) },
			want: []string{"forbidden:spec.template.spec.activeDeadlineSeconds"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := base.DeepCopy()
			tc.mutate(obj)
			wlCheckErrs(t, s.Validate(obj), tc.want...)
		})
	}
}

func TestStatefulSetUpdate(t *testing.T) {
	s := statefulSetStrategy()
	old := wlStatefulSet()
	old.Spec.Template.Spec.Containers[0].VolumeMounts = nil
	s.Default(old)
	cases := []struct {
		name   string
		mutate func(sts *appsv1.StatefulSet)
		want   []string
	}{
		{name: "allowed fields", mutate: func(sts *appsv1.StatefulSet) {
			sts.Spec.Replicas = ptr.To[int32](3)
			sts.Spec.Template.Spec.Containers[0].Image = "postgres:17"
			sts.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](2)
			sts.Spec.MinReadySeconds = 5
			sts.Spec.RevisionHistoryLimit = ptr.To[int32](3)
			sts.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 1}
			sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
		}},
		{name: "service name", mutate: func(sts *appsv1.StatefulSet) { sts.Spec.ServiceName = "other" },
			want: []string{"forbidden:spec"}},
		{name: "pod management", mutate: func(sts *appsv1.StatefulSet) { sts.Spec.PodManagementPolicy = appsv1.ParallelPodManagement },
			want: []string{"forbidden:spec"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := old.DeepCopy()
			tc.mutate(obj)
			wlCheckErrs(t, s.ValidateUpdate(obj, old), tc.want...)
		})
	}
}

func TestControllerRevision(t *testing.T) {
	s := controllerRevisionStrategy()
	cr := &appsv1.ControllerRevision{ObjectMeta: wlMeta("web-1"), Revision: 1, Data: runtime.RawExtension{Raw: []byte(`{"spec": {"a": 1}}`)}}
	wlCheckErrs(t, s.Validate(cr))
	bad := cr.DeepCopy()
	bad.Revision = -1
	bad.Data = runtime.RawExtension{}
	wlCheckErrs(t, s.Validate(bad), "invalid:revision", "required:data")

	same := cr.DeepCopy()
	same.Data.Raw = []byte(`{"spec":{"a":1}}`)
	wlCheckErrs(t, s.ValidateUpdate(same, cr))
	changed := cr.DeepCopy()
	changed.Data.Raw = []byte(`{"spec":{"a":2}}`)
	wlCheckErrs(t, s.ValidateUpdate(changed, cr), "invalid:data")
}

func TestDeploymentGenerationOnAnnotations(t *testing.T) {
	s := deploymentStrategy()
	old := wlDeployment()
	old.Generation = 3
	upd := old.DeepCopy()
	s.PrepareForUpdate(upd, old)
	if upd.Generation != 3 {
		t.Errorf("generation = %d without change", upd.Generation)
	}
	upd.Annotations = map[string]string{"note": "x"}
	s.PrepareForUpdate(upd, old)
	if upd.Generation != 4 {
		t.Errorf("generation = %d after annotation change, want 4", upd.Generation)
	}
}
