package tables

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// printer is how one Go type becomes table rows.
type printer struct {
	// columns in cell order; Priority 1 marks the -o wide extras.
	columns []metav1.TableColumnDefinition
	// row computes the cells (and row conditions) of one object.
	row func(obj runtime.Object, now time.Time) (metav1.TableRow, error)
}

// registry collects printers keyed by the item's Go type.
type registry map[reflect.Type]printer

// addCells registers the printer of T from a function returning its cells.
func addCells[T runtime.Object](r registry, columns []metav1.TableColumnDefinition, cells func(T, time.Time) []any) {
	addRow(r, columns, func(obj T, now time.Time) metav1.TableRow {
		return metav1.TableRow{Cells: cells(obj, now)}
	})
}

// addRow registers the printer of T from a function returning a whole row.
func addRow[T runtime.Object](r registry, columns []metav1.TableColumnDefinition, row func(T, time.Time) metav1.TableRow) {
	r[reflect.TypeFor[T]()] = printer{
		columns: columns,
		row: func(obj runtime.Object, now time.Time) (metav1.TableRow, error) {
			typed, ok := obj.(T)
			if !ok {
				return metav1.TableRow{}, fmt.Errorf("table row: got %T, want %T", obj, *new(T))
			}
			return row(typed, now), nil
		},
	}
}

// Column constructors. Column names are title case as upstream serves
// them; kubectl upper-cases them when printing.

func column(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

// wide marks a column shown only with -o wide.
func wide(c metav1.TableColumnDefinition) metav1.TableColumnDefinition {
	c.Priority = 1
	return c
}

func nameColumn() metav1.TableColumnDefinition {
	c := column("Name", "string", objectMetaDoc("name"))
	c.Format = "name"
	return c
}

func ageColumn() metav1.TableColumnDefinition {
	return column("Age", "string", objectMetaDoc("creationTimestamp"))
}

// templateColumns are the -o wide CONTAINERS and IMAGES of a pod template.
func templateColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		wide(column("Containers", "string", "Names of each container in the template.")),
		wide(column("Images", "string", "Images referenced by each container in the template.")),
	}
}

func objectMetaDoc(field string) string {
	return metav1.ObjectMeta{}.SwaggerDoc()[field]
}

// Cell formatting shared by several types.

// age is the human duration from t to now, "<unknown>" for a zero time.
func age(now time.Time, t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// microAge is age for MicroTime fields.
func microAge(now time.Time, t metav1.MicroTime) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// containerCells joins container names and images with commas.
func containerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	im := make([]string, len(containers))
	for i, c := range containers {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// boolPtr prints True, False or <unset>.
func boolPtr(b *bool) string {
	switch {
	case b == nil:
		return "<unset>"
	case *b:
		return "True"
	default:
		return "False"
	}
}

// replicasOr1 is a replicas field as defaulting leaves it (nil means 1).
func replicasOr1(r *int32) int64 {
	if r == nil {
		return 1
	}
	return int64(*r)
}

// firstN joins at most n items with sep and appends " + K more..." when
// items were left out. An empty list prints as empty.
func firstN(items []string, n int, sep string) string {
	if len(items) <= n {
		return strings.Join(items, sep)
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(items[:n], sep), len(items)-n)
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
