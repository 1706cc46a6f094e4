package registry

import (
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Every non-core resource has its strategy, whose functions accept the
// resource's own type, even empty.
func TestWorkloadStrategiesCoverBuiltins(t *testing.T) {
	for _, r := range Builtin() {
		if r.Group == "" {
			continue
		}
		t.Run(r.GroupVersionKind().String(), func(t *testing.T) {
			if _, ok := r.Strategy.(noStrategy); ok {
				t.Fatalf("no strategy")
			}
			obj, old := r.New(), r.New()
			r.Strategy.Default(obj)
			r.Strategy.Default(old)
			r.Strategy.PrepareForCreate(obj)
			r.Strategy.PrepareForUpdate(obj, old)
			_ = r.Strategy.Validate(obj)
			_ = r.Strategy.ValidateUpdate(obj, old)
		})
	}
}

func wlEvent() *eventsv1.Event {
	now := metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC))
	return &eventsv1.Event{
		ObjectMeta:          wlMeta("web-1.1234"),
		EventTime:           now,
		ReportingController: "skiff.dev/scheduler",
		ReportingInstance:   "scheduler-node1",
		Action:              "Binding",
		Reason:              "Scheduled",
		Regarding:           corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-1", UID: "u1"},
		Related:             &corev1.ObjectReference{Kind: "Node", Name: "node1"},
		Note:                "Successfully assigned default/web-1 to node1",
		Type:                corev1.EventTypeNormal,
		Series:              &eventsv1.EventSeries{Count: 2, LastObservedTime: now},
	}
}

func TestEventConversion(t *testing.T) {
	e := wlEvent()
	e.DeprecatedSource = corev1.EventSource{Component: "kubelet", Host: "node1"}
	e.DeprecatedCount = 3
	e.DeprecatedFirstTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e.DeprecatedLastTimestamp = metav1.NewTime(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	c := EventsV1ToCore(e)
	if c.Message != e.Note || c.InvolvedObject.Name != "web-1" || c.ReportingController != e.ReportingController ||
		c.Source.Host != "node1" || c.Count != 3 || !c.FirstTimestamp.Equal(&e.DeprecatedFirstTimestamp) || c.Series.Count != 2 {
		t.Errorf("core event = %+v", c)
	}
	if back := CoreToEventsV1(c); !equality.Semantic.DeepEqual(back, e) {
		t.Errorf("round trip = %+v\nwant %+v", back, e)
	}
	typed := wlEvent()
	typed.TypeMeta = metav1.TypeMeta{APIVersion: "events.k8s.io/v1", Kind: "Event"}
	if got := EventsV1ToCore(typed).APIVersion; got != "v1" {
		t.Errorf("apiVersion = %q", got)
	}
	if got := CoreToEventsV1(EventsV1ToCore(typed)).APIVersion; got != "events.k8s.io/v1" {
		t.Errorf("apiVersion back = %q", got)
	}
}

func TestEventsV1Validation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(e *eventsv1.Event)
		want   []string
	}{
		{name: "valid", mutate: func(*eventsv1.Event) {}},
		{name: "no eventTime", mutate: func(e *eventsv1.Event) { e.EventTime = metav1.MicroTime{} },
			want: []string{"required:eventTime"}},
		{name: "bad type", mutate: func(e *eventsv1.Event) { e.Type = "Info" }, want: []string{"invalid:type"}},
		{name: "deprecated fields set", mutate: func(e *eventsv1.Event) {
			e.DeprecatedCount = 1
			e.DeprecatedSource.Component = "x"
		}, want: []string{"invalid:deprecatedCount", "invalid:deprecatedSource"}},
		{name: "short series", mutate: func(e *eventsv1.Event) { e.Series.Count = 1 }, want: []string{"invalid:series.count"}},
		{name: "missing reporting", mutate: func(e *eventsv1.Event) {
			e.ReportingController, e.ReportingInstance, e.Action, e.Reason = "", "", "", ""
		}, want: []string{"required:reportingController", "required:reportingInstance", "required:action", "required:reason"}},
		{name: "long note", mutate: func(e *eventsv1.Event) { e.Note = strings.Repeat("x", 1025) }, want: []string{"invalid:message"}},
		{name: "namespace mismatch", mutate: func(e *eventsv1.Event) {
			e.Namespace = "other"
			e.Regarding.Namespace = ""
		}, want: []string{"invalid:involvedObject.namespace"}},
	}
	s := eventsV1Strategy()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := wlEvent()
			tc.mutate(e)
			wlCheckErrs(t, s.Validate(e), tc.want...)
		})
	}
	old := wlEvent()
	upd := old.DeepCopy()
	upd.Series.Count = 5
	wlCheckErrs(t, s.ValidateUpdate(upd, old))
	upd.Note = "changed"
	wlCheckErrs(t, s.ValidateUpdate(upd, old), "invalid:message")
}

func TestLeaseValidation(t *testing.T) {
	s := leaseStrategy()
	l := &coordinationv1.Lease{ObjectMeta: wlMeta("node1"), Spec: coordinationv1.LeaseSpec{
		HolderIdentity: ptr.To("node1"), LeaseDurationSeconds: ptr.To[int32](40), LeaseTransitions: ptr.To[int32](0)}}
	wlCheckErrs(t, s.Validate(l))
	bad := l.DeepCopy()
	bad.Spec.LeaseDurationSeconds = ptr.To[int32](0)
	bad.Spec.LeaseTransitions = ptr.To[int32](-1)
	bad.Spec.PreferredHolder = ptr.To("node2")
	wlCheckErrs(t, s.Validate(bad), "invalid:spec.leaseDurationSeconds", "invalid:spec.leaseTransitions", "forbidden:spec.preferredHolder")
	bad = l.DeepCopy()
	bad.Spec.Strategy = ptr.To(coordinationv1.CoordinatedLeaseStrategy("Random"))
	wlCheckErrs(t, s.ValidateUpdate(bad, l), "notsupported:spec.strategy")
}

func wlSlice() *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  wlMeta("web-abc"),
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{"10.42.0.5"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To("node1"),
			Hints:      &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}}},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}, {Port: ptr.To[int32](9090)}},
	}
}

func TestEndpointSlice(t *testing.T) {
	s := endpointSliceStrategy()
	es := wlSlice()
	s.Default(es)
	if *es.Ports[0].Protocol != corev1.ProtocolTCP || es.Ports[1].Name == nil || *es.Ports[1].Name != "" {
		t.Fatalf("port defaults: %+v", es.Ports)
	}
	cases := []struct {
		name   string
		mutate func(es *discoveryv1.EndpointSlice)
		want   []string
	}{
		{name: "valid", mutate: func(*discoveryv1.EndpointSlice) {}},
		{name: "valid fqdn", mutate: func(es *discoveryv1.EndpointSlice) {
			es.AddressType = discoveryv1.AddressTypeFQDN
			es.Endpoints[0].Addresses = []string{"db.example.com"}
		}},
		{name: "no address type", mutate: func(es *discoveryv1.EndpointSlice) { es.AddressType = "" }, want: []string{"required:addressType"}},
		{name: "legacy IP type", mutate: func(es *discoveryv1.EndpointSlice) { es.AddressType = "IP" }, want: []string{"notsupported:addressType"}},
		{name: "IPv6 address in IPv4 slice", mutate: func(es *discoveryv1.EndpointSlice) { es.Endpoints[0].Addresses = []string{"fd00::5"} },
			want: []string{"invalid:endpoints[0].addresses[0]"}},
		{name: "loopback", mutate: func(es *discoveryv1.EndpointSlice) { es.Endpoints[0].Addresses = []string{"127.0.0.1"} },
			want: []string{"invalid:endpoints[0].addresses[0]"}},
		{name: "not an IP", mutate: func(es *discoveryv1.EndpointSlice) { es.Endpoints[0].Addresses = []string{"web"} },
			want: []string{"invalid:endpoints[0].addresses[0]"}},
		{name: "no addresses", mutate: func(es *discoveryv1.EndpointSlice) { es.Endpoints[0].Addresses = nil },
			want: []string{"required:endpoints[0].addresses"}},
		{name: "too many endpoints", mutate: func(es *discoveryv1.EndpointSlice) {
			es.Endpoints = make([]discoveryv1.Endpoint, 1001)
			for i := range es.Endpoints {
				es.Endpoints[i].Addresses = []string{"10.0.0.1"}
			}
		}, want: []string{"toomany:endpoints"}},
		{name: "duplicate port names", mutate: func(es *discoveryv1.EndpointSlice) { es.Ports[1].Name = ptr.To("http") },
			want: []string{"duplicate:ports[1].name"}},
		{name: "bad protocol", mutate: func(es *discoveryv1.EndpointSlice) { es.Ports[0].Protocol = ptr.To(corev1.Protocol("ICMP")) },
			want: []string{"notsupported:ports[0].protocol"}},
		{name: "bad hostname and hint", mutate: func(es *discoveryv1.EndpointSlice) {
			es.Endpoints[0].Hostname = ptr.To("Web_1")
			es.Endpoints[0].Hints.ForZones = append(es.Endpoints[0].Hints.ForZones, discoveryv1.ForZone{Name: "zone-a"})
		}, want: []string{"invalid:endpoints[0].hostname", "duplicate:endpoints[0].hints.forZones[1].name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := es.DeepCopy()
			tc.mutate(obj)
			wlCheckErrs(t, s.Validate(obj), tc.want...)
		})
	}
	changed := es.DeepCopy()
	changed.AddressType = discoveryv1.AddressTypeIPv6
	changed.Endpoints[0].Addresses = []string{"fd00::5"}
	wlCheckErrs(t, s.ValidateUpdate(changed, es), "invalid:addressType")
}

func TestPriorityClass(t *testing.T) {
	s := priorityClassStrategy()
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000000}
	s.Default(pc)
	if pc.PreemptionPolicy == nil || *pc.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Fatalf("preemptionPolicy = %v", pc.PreemptionPolicy)
	}
	cases := []struct {
		name   string
		mutate func(pc *schedulingv1.PriorityClass)
		want   []string
	}{
		{name: "valid", mutate: func(*schedulingv1.PriorityClass) {}},
		{name: "system class", mutate: func(pc *schedulingv1.PriorityClass) { pc.Name, pc.Value = "system-node-critical", 2000001000 }},
		{name: "too high", mutate: func(pc *schedulingv1.PriorityClass) { pc.Value = 1000000001 }, want: []string{"forbidden:value"}},
		{name: "unknown system name", mutate: func(pc *schedulingv1.PriorityClass) { pc.Name = "system-mine" }, want: []string{"forbidden:metadata.name"}},
		{name: "system class wrong value", mutate: func(pc *schedulingv1.PriorityClass) { pc.Name = "system-cluster-critical" },
			want: []string{"forbidden:metadata.name"}},
		{name: "bad policy", mutate: func(pc *schedulingv1.PriorityClass) {
			pc.PreemptionPolicy = ptr.To(corev1.PreemptionPolicy("Sometimes"))
		},
			want: []string{"notsupported:preemptionPolicy"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := pc.DeepCopy()
			tc.mutate(obj)
			wlCheckErrs(t, s.Validate(obj), tc.want...)
		})
	}
	upd := pc.DeepCopy()
	upd.Description = "now documented"
	wlCheckErrs(t, s.ValidateUpdate(upd, pc))
	upd.Value = 5
	upd.PreemptionPolicy = ptr.To(corev1.PreemptNever)
	wlCheckErrs(t, s.ValidateUpdate(upd, pc), "forbidden:value", "invalid:preemptionPolicy")
}
