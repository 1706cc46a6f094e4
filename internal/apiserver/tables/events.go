package tables

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// addEvents registers core/v1 and events.k8s.io/v1 events; both print
// the same columns, the latter through its core field equivalents.
func addEvents(r registry) {
	doc := corev1.Event{}.SwaggerDoc()
	columns := []metav1.TableColumnDefinition{
		column("Last Seen", "string", doc["lastTimestamp"]),
		column("Type", "string", doc["type"]),
		column("Reason", "string", doc["reason"]),
		column("Object", "string", doc["involvedObject"]),
		wide(column("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"])),
		wide(column("Source", "string", doc["source"])),
		column("Message", "string", doc["message"]),
		wide(column("First Seen", "string", doc["firstTimestamp"])),
		wide(column("Count", "string", doc["count"])),
		wide(nameColumn()),
	}
	addCells(r, columns, eventCells)
	addCells(r, columns, func(e *eventsv1.Event, now time.Time) []any {
		return eventCells(coreEvent(e), now)
	})
}

func eventCells(e *corev1.Event, now time.Time) []any {
	first := age(now, e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		first = microAge(now, e.EventTime)
	}
	last := age(now, e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = microAge(now, e.Series.LastObservedTime)
		count = e.Series.Count
	} else if count == 0 {
		count = 1 // singleton events of the new API carry no count
	}
	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}
	return []any{last, e.Type, e.Reason, target, e.InvolvedObject.FieldPath,
		eventSource(e), strings.TrimSpace(e.Message), first, int64(count), e.Name}
}

// eventSource is "component, host", falling back to the reporting
// controller and instance.
func eventSource(e *corev1.Event) string {
	component := orDefault(e.Source.Component, e.ReportingController)
	host := orDefault(e.Source.Host, e.ReportingInstance)
	if host == "" {
		return component
	}
	return component + ", " + host
}

// coreEvent maps the fields of an events.k8s.io event that the table
// shows onto a core event.
func coreEvent(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		ObjectMeta:          e.ObjectMeta,
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              corev1.EventSource{Component: e.DeprecatedSource.Component, Host: e.DeprecatedSource.Host},
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}
