package registry

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Length limits of event fields.
const (
	eventReportingInstanceMaxLen = 128
	eventActionMaxLen            = 128
	eventReasonMaxLen            = 128
	eventNoteMaxLen              = 1024
)

// EventsV1ToCore converts an events.k8s.io/v1 Event to the stored core/v1
// form: note becomes message, regarding involvedObject, the deprecated*
// fields their core counterparts.
func EventsV1ToCore(in *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		TypeMeta:            in.TypeMeta,
		ObjectMeta:          *in.ObjectMeta.DeepCopy(),
		InvolvedObject:      in.Regarding,
		Reason:              in.Reason,
		Message:             in.Note,
		Source:              in.DeprecatedSource,
		FirstTimestamp:      in.DeprecatedFirstTimestamp,
		LastTimestamp:       in.DeprecatedLastTimestamp,
		Count:               in.DeprecatedCount,
		Type:                in.Type,
		EventTime:           in.EventTime,
		Action:              in.Action,
		Related:             in.Related.DeepCopy(),
		ReportingController: in.ReportingController,
		ReportingInstance:   in.ReportingInstance,
	}
	if in.Series != nil {
		out.Series = &corev1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
	}
	if out.APIVersion != "" {
		out.APIVersion = corev1.SchemeGroupVersion.String()
	}
	return out
}

// CoreToEventsV1 converts a stored core/v1 Event to its events.k8s.io/v1
// view.
func CoreToEventsV1(in *corev1.Event) *eventsv1.Event {
	out := &eventsv1.Event{
		TypeMeta:                 in.TypeMeta,
		ObjectMeta:               *in.ObjectMeta.DeepCopy(),
		EventTime:                in.EventTime,
		ReportingController:      in.ReportingController,
		ReportingInstance:        in.ReportingInstance,
		Action:                   in.Action,
		Reason:                   in.Reason,
		Regarding:                in.InvolvedObject,
		Related:                  in.Related.DeepCopy(),
		Note:                     in.Message,
		Type:                     in.Type,
		DeprecatedSource:         in.Source,
		DeprecatedFirstTimestamp: in.FirstTimestamp,
		DeprecatedLastTimestamp:  in.LastTimestamp,
		DeprecatedCount:          in.Count,
	}
	if in.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
	}
	if out.APIVersion != "" {
		out.APIVersion = eventsv1.SchemeGroupVersion.String()
	}
	return out
}

// eventsV1Strategy is the strategy of events.k8s.io/v1 Events. Creates and
// updates through this API get the strict checks of the new event API
// besides the ones every event passes.
func eventsV1Strategy() Strategy {
	return Typed[*eventsv1.Event]{
		ValidateFunc: func(e *eventsv1.Event) field.ErrorList {
			return validateEventV1(EventsV1ToCore(e))
		},
		ValidateUpdateFunc: func(e, old *eventsv1.Event) field.ErrorList {
			return validateEventV1Update(EventsV1ToCore(e), EventsV1ToCore(old))
		},
	}
}

// validateEventCommon holds the checks every event passes, whatever API
// wrote it. Events with an eventTime (written by new clients) must say who
// reported them and what happened.
func validateEventCommon(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	if e.EventTime.IsZero() {
		if e.InvolvedObject.Namespace == "" {
			if e.Namespace != metav1.NamespaceNone && e.Namespace != metav1.NamespaceDefault {
				errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
			}
		} else if e.Namespace != e.InvolvedObject.Namespace {
			errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else {
		if e.InvolvedObject.Namespace == "" && e.Namespace != metav1.NamespaceDefault && e.Namespace != metav1.NamespaceSystem {
			errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		rc := field.NewPath("reportingController")
		if e.ReportingController == "" {
			errs = append(errs, field.Required(rc, ""))
		} else {
			errs = append(errs, metav1validation.ValidateLabelName(e.ReportingController, rc)...)
		}
		errs = append(errs, validateEventString(e.ReportingInstance, eventReportingInstanceMaxLen, true, field.NewPath("reportingInstance"))...)
		errs = append(errs, validateEventString(e.Action, eventActionMaxLen, true, field.NewPath("action"))...)
		errs = append(errs, validateEventString(e.Reason, eventReasonMaxLen, true, field.NewPath("reason"))...)
		errs = append(errs, validateEventString(e.Message, eventNoteMaxLen, false, field.NewPath("message"))...)
	}
	for _, msg := range validation.IsDNS1123Subdomain(e.Namespace) {
		errs = append(errs, field.Invalid(field.NewPath("namespace"), e.Namespace, msg))
	}
	return errs
}

func validateEventString(v string, maxLen int, required bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if required && v == "" {
		errs = append(errs, field.Required(p, ""))
	}
	if len(v) > maxLen {
		errs = append(errs, field.Invalid(p, "", fmt.Sprintf("can have at most %d characters", maxLen)))
	}
	return errs
}

// validateEventV1 checks an event created through events.k8s.io/v1:
// eventTime is required, the type is Normal or Warning, the deprecated
// fields stay unset and a series is well formed.
func validateEventV1(e *corev1.Event) field.ErrorList {
	errs := validateEventCommon(e)
	errs = append(errs, validateEventSeries(e)...)
	if e.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", e.Type)))
	}
	if !e.FirstTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedFirstTimestamp"), "", "needs to be unset"))
	}
	if !e.LastTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedLastTimestamp"), "", "needs to be unset"))
	}
	if e.Count != 0 {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedCount"), "", "needs to be unset"))
	}
	if e.Source.Component != "" || e.Source.Host != "" {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedSource"), "", "needs to be unset"))
	}
	return errs
}

func validateEventSeries(e *corev1.Event) field.ErrorList {
	if e.Series == nil {
		return nil
	}
	var errs field.ErrorList
	if e.Series.Count < 2 {
		errs = append(errs, field.Invalid(field.NewPath("series", "count"), "", "should be at least 2"))
	}
	if e.Series.LastObservedTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("series", "lastObservedTime"), ""))
	}
	return errs
}

// validateEventV1Update allows an update through events.k8s.io/v1 to
// change only the series (and metadata).
func validateEventV1Update(e, old *corev1.Event) field.ErrorList {
	errs := validateEventCommon(e)
	if !reflect.DeepEqual(e.Series, old.Series) {
		errs = append(errs, validateEventSeries(e)...)
	}
	immutable := []struct {
		name     string
		new, old any
	}{
		{"involvedObject", e.InvolvedObject, old.InvolvedObject},
		{"reason", e.Reason, old.Reason},
		{"message", e.Message, old.Message},
		{"source", e.Source, old.Source},
		{"firstTimestamp", e.FirstTimestamp, old.FirstTimestamp},
		{"lastTimestamp", e.LastTimestamp, old.LastTimestamp},
		{"count", e.Count, old.Count},
		{"type", e.Type, old.Type},
		{"eventTime", e.EventTime, old.EventTime},
		{"action", e.Action, old.Action},
		{"related", e.Related, old.Related},
		{"reportingController", e.ReportingController, old.ReportingController},
		{"reportingInstance", e.ReportingInstance, old.ReportingInstance},
	}
	for _, f := range immutable {
		errs = append(errs, validateImmutable(f.new, f.old, field.NewPath(f.name))...)
	}
	return errs
}
