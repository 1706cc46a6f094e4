package tables

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ErrIncludeObject reports an includeObject value other than None, Metadata
// or Object.
var ErrIncludeObject = errors.New("invalid includeObject policy")

// Options steer one conversion.
type Options struct {
	// Now is the reference time for AGE-like cells. It is injected so
	// that the output is deterministic; the zero value means "the zero
	// time", not "now".
	Now time.Time
	// NoHeaders omits the column definitions (the noHeaders table option).
	NoHeaders bool
	// IncludeObject says what each row carries in Object: None, Metadata
	// (the default, a PartialObjectMetadata) or Object (the object itself).
	IncludeObject metav1.IncludeObjectPolicy
	// Kind, when set, is stamped on rows' embedded objects that carry no
	// apiVersion/kind of their own (IncludeObject=Object only). The object
	// is copied first; the input is never modified.
	Kind schema.GroupVersionKind
}

// Converter turns objects into tables. It is immutable after NewConverter
// and safe for concurrent use.
type Converter struct {
	// printers maps an item's Go type (e.g. *corev1.Pod) to its columns
	// and row function.
	printers map[reflect.Type]printer
}

// NewConverter returns a Converter that knows every built-in type.
func NewConverter() *Converter {
	r := registry{}
	addCore(r)
	addStorage(r)
	addEvents(r)
	addPods(r)
	addWorkloads(r)
	addBatch(r)
	addAutoscaling(r)
	addCluster(r)
	return &Converter{printers: r}
}

// Convert is NewConverter().Convert, for callers that convert rarely.
func Convert(obj runtime.Object, opts Options) (*metav1.Table, error) {
	return NewConverter().Convert(obj, opts)
}

// Convert renders one object, or every item of a list, as a table. The
// table's resourceVersion, continue token and remaining item count come
// from the list (or the object's resourceVersion for a single object).
func (c *Converter) Convert(obj runtime.Object, opts Options) (*metav1.Table, error) {
	switch opts.IncludeObject {
	case "", metav1.IncludeNone, metav1.IncludeMetadata, metav1.IncludeObject:
	default:
		return nil, fmt.Errorf("%w: %q", ErrIncludeObject, opts.IncludeObject)
	}
	items, itemType, err := splitList(obj)
	if err != nil {
		return nil, err
	}
	p, ok := c.printers[itemType]
	if !ok {
		p = defaultPrinter()
	}
	table := &metav1.Table{
		TypeMeta: metav1.TypeMeta{APIVersion: metav1.SchemeGroupVersion.String(), Kind: "Table"},
		Rows:     make([]metav1.TableRow, 0, len(items)),
	}
	if !opts.NoHeaders {
		table.ColumnDefinitions = slices.Clone(p.columns)
	}
	for _, item := range items {
		row, err := p.row(item, opts.Now)
		if err != nil {
			return nil, err
		}
		if row.Object, err = rowObject(item, opts); err != nil {
			return nil, err
		}
		table.Rows = append(table.Rows, row)
	}
	copyListMeta(table, obj)
	return table, nil
}

// splitList returns the items of a list (or the object alone) and the Go
// type of an item, which selects the printer.
func splitList(obj runtime.Object) ([]runtime.Object, reflect.Type, error) {
	if obj == nil {
		return nil, nil, errors.New("converting to table: nil object")
	}
	if !meta.IsListType(obj) {
		return []runtime.Object{obj}, reflect.TypeOf(obj), nil
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("converting list to table: %w", err)
	}
	return items, listItemType(obj, items), nil
}

// listItemType is the pointer type of a typed list's items, found from
// its Items field so that empty lists still get their columns.
func listItemType(list runtime.Object, items []runtime.Object) reflect.Type {
	t := reflect.TypeOf(list)
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		if f, ok := t.Elem().FieldByName("Items"); ok && f.Type.Kind() == reflect.Slice {
			elem := f.Type.Elem()
			if elem.Kind() == reflect.Struct {
				return reflect.PointerTo(elem)
			}
			return elem
		}
	}
	if len(items) > 0 {
		return reflect.TypeOf(items[0])
	}
	return nil
}

// rowObject is what a row carries besides its cells, per the policy.
func rowObject(obj runtime.Object, opts Options) (runtime.RawExtension, error) {
	switch opts.IncludeObject {
	case metav1.IncludeNone:
		return runtime.RawExtension{}, nil
	case metav1.IncludeObject:
		if opts.Kind.Empty() || !obj.GetObjectKind().GroupVersionKind().Empty() {
			return runtime.RawExtension{Object: obj}, nil
		}
		cp := obj.DeepCopyObject()
		cp.GetObjectKind().SetGroupVersionKind(opts.Kind)
		return runtime.RawExtension{Object: cp}, nil
	default:
		m, err := meta.Accessor(obj)
		if err != nil {
			return runtime.RawExtension{}, fmt.Errorf("reading metadata for table row: %w", err)
		}
		partial := meta.AsPartialObjectMetadata(m)
		partial.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"))
		return runtime.RawExtension{Object: partial}, nil
	}
}

// copyListMeta copies the list's paging metadata, or a single object's
// resourceVersion, onto the table.
func copyListMeta(table *metav1.Table, obj runtime.Object) {
	if meta.IsListType(obj) {
		if l, err := meta.ListAccessor(obj); err == nil {
			table.ResourceVersion = l.GetResourceVersion()
			table.Continue = l.GetContinue()
			table.RemainingItemCount = l.GetRemainingItemCount()
		}
		return
	}
	if m, err := meta.Accessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
}

// defaultPrinter is the table for types without their own printer: the
// name and the creation time in RFC 3339.
func defaultPrinter() printer {
	return printer{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			{Name: "Created At", Type: "date", Description: objectMetaDoc("creationTimestamp")},
		},
		row: func(obj runtime.Object, _ time.Time) (metav1.TableRow, error) {
			m, err := meta.Accessor(obj)
			if err != nil {
				return metav1.TableRow{}, fmt.Errorf("default table row: %w", err)
			}
			created := m.GetCreationTimestamp().UTC().Format(time.RFC3339)
			return metav1.TableRow{Cells: []any{m.GetName(), created}}, nil
		},
	}
}
