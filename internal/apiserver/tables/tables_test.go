package tables

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	apiregistry "github.com/skiffkube/skiff/internal/apiserver/registry"
)

// testNow is the reference time of every test.
func testNow() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// ago is a timestamp d before testNow.
func ago(d time.Duration) metav1.Time { return metav1.NewTime(testNow().Add(-d)) }

// objMeta names a test object created an hour before testNow.
func objMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(time.Hour), ResourceVersion: "7"}
}

// headers returns the column names as kubectl prints them: without and
// with -o wide.
func headers(t *metav1.Table) (normal, wideOnly string) {
	var n, w []string
	for _, c := range t.ColumnDefinitions {
		if c.Priority == 0 {
			n = append(n, strings.ToUpper(c.Name))
		} else {
			w = append(w, strings.ToUpper(c.Name))
		}
	}
	return strings.Join(n, " "), strings.Join(w, " ")
}

// convertOne converts obj and returns the cells of its single row.
func convertOne(t *testing.T, obj runtime.Object) []any {
	t.Helper()
	table, err := Convert(obj, Options{Now: testNow()})
	if err != nil {
		t.Fatalf("Convert(%T): %v", obj, err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("Convert(%T): %d rows, want 1", obj, len(table.Rows))
	}
	if got, want := len(table.Rows[0].Cells), len(table.ColumnDefinitions); got != want {
		t.Fatalf("Convert(%T): %d cells for %d columns", obj, got, want)
	}
	return table.Rows[0].Cells
}

// cellCase is one object and the cells it must produce.
type cellCase struct {
	name string
	obj  runtime.Object
	want []any
}

func runCellCases(t *testing.T, cases []cellCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := convertOne(t, tc.obj)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("cells\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// TestBuiltinHeaders checks the columns of every served resource, both
// for an empty list and for a zero object, and that rows fill them.
func TestBuiltinHeaders(t *testing.T) {
	want := map[string][2]string{
		"v1/namespaces":             {"NAME STATUS AGE", ""},
		"v1/pods":                   {"NAME READY STATUS RESTARTS AGE", "IP NODE NOMINATED NODE READINESS GATES"},
		"v1/nodes":                  {"NAME STATUS ROLES AGE VERSION", "INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME"},
		"v1/services":               {"NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", "SELECTOR"},
		"v1/endpoints":              {"NAME ENDPOINTS AGE", ""},
		"v1/configmaps":             {"NAME DATA AGE", ""},
		"v1/secrets":                {"NAME TYPE DATA AGE", ""},
		"v1/serviceaccounts":        {"NAME SECRETS AGE", ""},
		"v1/events":                 {"LAST SEEN TYPE REASON OBJECT MESSAGE", "SUBOBJECT SOURCE FIRST SEEN COUNT NAME"},
		"v1/limitranges":            {"NAME CREATED AT", ""},
		"v1/resourcequotas":         {"NAME REQUEST LIMIT AGE", ""},
		"v1/persistentvolumes":      {"NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE", "VOLUMEMODE"},
		"v1/persistentvolumeclaims": {"NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE", "VOLUMEMODE"},
		"v1/replicationcontrollers": {"NAME DESIRED CURRENT READY AGE", "CONTAINERS IMAGES SELECTOR"},
		"v1/podtemplates":           {"NAME CONTAINERS IMAGES POD LABELS", ""},

		"apps/v1/deployments":         {"NAME READY UP-TO-DATE AVAILABLE AGE", "CONTAINERS IMAGES SELECTOR"},
		"apps/v1/replicasets":         {"NAME DESIRED CURRENT READY AGE", "CONTAINERS IMAGES SELECTOR"},
		"apps/v1/daemonsets":          {"NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE", "CONTAINERS IMAGES SELECTOR"},
		"apps/v1/statefulsets":        {"NAME READY AGE", "CONTAINERS IMAGES"},
		"apps/v1/controllerrevisions": {"NAME CONTROLLER REVISION AGE", ""},

		"batch/v1/jobs":     {"NAME STATUS COMPLETIONS DURATION AGE", "CONTAINERS IMAGES SELECTOR"},
		"batch/v1/cronjobs": {"NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE", "CONTAINERS IMAGES SELECTOR"},

		"autoscaling/v2/horizontalpodautoscalers": {"NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE", ""},
		"autoscaling/v1/horizontalpodautoscalers": {"NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE", ""},

		"coordination.k8s.io/v1/leases":                                   {"NAME HOLDER AGE", ""},
		"events.k8s.io/v1/events":                                         {"LAST SEEN TYPE REASON OBJECT MESSAGE", "SUBOBJECT SOURCE FIRST SEEN COUNT NAME"},
		"discovery.k8s.io/v1/endpointslices":                              {"NAME ADDRESSTYPE PORTS ENDPOINTS AGE", ""},
		"policy/v1/poddisruptionbudgets":                                  {"NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE", ""},
		"scheduling.k8s.io/v1/priorityclasses":                            {"NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY", ""},
		"storage.k8s.io/v1/storageclasses":                                {"NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE", ""},
		"admissionregistration.k8s.io/v1/mutatingwebhookconfigurations":   {"NAME WEBHOOKS AGE", ""},
		"admissionregistration.k8s.io/v1/validatingwebhookconfigurations": {"NAME WEBHOOKS AGE", ""},
		"rbac.authorization.k8s.io/v1/roles":                              {"NAME CREATED AT", ""},
		"rbac.authorization.k8s.io/v1/rolebindings":                       {"NAME ROLE AGE", "USERS GROUPS SERVICEACCOUNTS"},
		"rbac.authorization.k8s.io/v1/clusterroles":                       {"NAME CREATED AT", ""},
		"rbac.authorization.k8s.io/v1/clusterrolebindings":                {"NAME ROLE AGE", "USERS GROUPS SERVICEACCOUNTS"},
	}
	c := NewConverter()
	seen := map[string]bool{}
	for _, res := range apiregistry.Builtin() {
		key := res.GroupVersion().String() + "/" + res.Resource
		seen[key] = true
		t.Run(key, func(t *testing.T) {
			w, ok := want[key]
			if !ok {
				t.Fatalf("no expected headers for %s", key)
			}
			list, err := c.Convert(res.NewList(), Options{Now: testNow()})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if n, wd := headers(list); n != w[0] || wd != w[1] {
				t.Errorf("headers\n got %q + wide %q\nwant %q + wide %q", n, wd, w[0], w[1])
			}
			if len(list.Rows) != 0 {
				t.Errorf("empty list gave %d rows", len(list.Rows))
			}
			if list.ColumnDefinitions[nameIndex(list)].Format != "name" {
				t.Errorf("NAME column lacks the name format")
			}
			one, err := c.Convert(res.New(), Options{Now: testNow()})
			if err != nil {
				t.Fatalf("object: %v", err)
			}
			if !reflect.DeepEqual(one.ColumnDefinitions, list.ColumnDefinitions) {
				t.Errorf("object and list columns differ")
			}
			if len(one.Rows) != 1 || len(one.Rows[0].Cells) != len(one.ColumnDefinitions) {
				t.Errorf("zero object: rows %d, cells vs columns mismatch", len(one.Rows))
			}
		})
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("%s is expected but not served by apiregistry.Builtin()", key)
		}
	}
}

func nameIndex(t *metav1.Table) int {
	for i, c := range t.ColumnDefinitions {
		if c.Name == "Name" {
			return i
		}
	}
	return 0
}

func TestColumnDescriptions(t *testing.T) {
	table, err := Convert(&corev1.PodList{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range table.ColumnDefinitions {
		if c.Description == "" {
			t.Errorf("column %q has no description", c.Name)
		}
	}
	if got := table.ColumnDefinitions[0].Description; !strings.HasPrefix(got, "Name must be unique within a namespace") {
		t.Errorf("NAME description = %q", got)
	}
}

func TestListMetaAndRows(t *testing.T) {
	remaining := int64(5)
	list := &corev1.ConfigMapList{
		ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "tok", RemainingItemCount: &remaining},
		Items: []corev1.ConfigMap{
			{ObjectMeta: objMeta("a"), Data: map[string]string{"k": "v"}},
			{ObjectMeta: objMeta("b"), BinaryData: map[string][]byte{"x": nil, "y": nil}},
		},
	}
	table, err := Convert(list, Options{Now: testNow()})
	if err != nil {
		t.Fatal(err)
	}
	if table.APIVersion != "meta.k8s.io/v1" || table.Kind != "Table" {
		t.Errorf("type meta = %s %s", table.APIVersion, table.Kind)
	}
	if table.ResourceVersion != "42" || table.Continue != "tok" || table.RemainingItemCount == nil || *table.RemainingItemCount != 5 {
		t.Errorf("list meta = %+v", table.ListMeta)
	}
	want := [][]any{{"a", int64(1), "60m"}, {"b", int64(2), "60m"}}
	for i, row := range table.Rows {
		if !reflect.DeepEqual(row.Cells, want[i]) {
			t.Errorf("row %d = %#v, want %#v", i, row.Cells, want[i])
		}
	}

	one, err := Convert(&list.Items[0], Options{Now: testNow()})
	if err != nil {
		t.Fatal(err)
	}
	if one.ResourceVersion != "7" || one.Continue != "" {
		t.Errorf("single object list meta = %+v", one.ListMeta)
	}
}

func TestNoHeaders(t *testing.T) {
	table, err := Convert(&corev1.Namespace{ObjectMeta: objMeta("ns")}, Options{Now: testNow(), NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	if table.ColumnDefinitions != nil {
		t.Errorf("columns = %v, want none", table.ColumnDefinitions)
	}
	if len(table.Rows) != 1 || table.Rows[0].Cells[0] != "ns" {
		t.Errorf("rows = %v", table.Rows)
	}
}

func TestIncludeObject(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: objMeta("p")}
	pod.Labels = map[string]string{"app": "x"}
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "Pod"}

	t.Run("default is metadata", func(t *testing.T) {
		table, err := Convert(pod, Options{Now: testNow()})
		if err != nil {
			t.Fatal(err)
		}
		partial, ok := table.Rows[0].Object.Object.(*metav1.PartialObjectMetadata)
		if !ok {
			t.Fatalf("object = %T, want *PartialObjectMetadata", table.Rows[0].Object.Object)
		}
		if partial.APIVersion != "meta.k8s.io/v1" || partial.Kind != "PartialObjectMetadata" {
			t.Errorf("partial type = %s %s", partial.APIVersion, partial.Kind)
		}
		if partial.Name != "p" || partial.Labels["app"] != "x" || partial.ResourceVersion != "7" {
			t.Errorf("partial metadata = %+v", partial.ObjectMeta)
		}
	})
	t.Run("none", func(t *testing.T) {
		table, err := Convert(pod, Options{IncludeObject: metav1.IncludeNone})
		if err != nil {
			t.Fatal(err)
		}
		if table.Rows[0].Object.Object != nil || table.Rows[0].Object.Raw != nil {
			t.Errorf("object = %+v, want empty", table.Rows[0].Object)
		}
	})
	t.Run("object stamped with kind, input untouched", func(t *testing.T) {
		table, err := Convert(pod, Options{IncludeObject: metav1.IncludeObject, Kind: gvk})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := table.Rows[0].Object.Object.(*corev1.Pod)
		if !ok || got.Name != "p" || got.GroupVersionKind() != gvk {
			t.Errorf("object = %#v", table.Rows[0].Object.Object)
		}
		if !pod.GroupVersionKind().Empty() {
			t.Errorf("input pod was modified: %v", pod.GroupVersionKind())
		}
	})
	t.Run("object without kind option is the object itself", func(t *testing.T) {
		table, err := Convert(pod, Options{IncludeObject: metav1.IncludeObject})
		if err != nil {
			t.Fatal(err)
		}
		if table.Rows[0].Object.Object != pod {
			t.Errorf("object is not the input pod")
		}
	})
	t.Run("invalid", func(t *testing.T) {
		_, err := Convert(pod, Options{IncludeObject: "Everything"})
		if !errors.Is(err, ErrIncludeObject) {
			t.Errorf("err = %v, want ErrIncludeObject", err)
		}
	})
}

func TestDefaultTable(t *testing.T) {
	role := &rbacv1.Role{ObjectMeta: objMeta("reader")}
	got := convertOne(t, role)
	if want := []any{"reader", "2026-03-01T11:00:00Z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("role cells = %#v, want %#v", got, want)
	}

	u := &unstructured.UnstructuredList{Items: []unstructured.Unstructured{{}}}
	u.SetResourceVersion("9")
	u.Items[0].SetName("widget")
	u.Items[0].SetCreationTimestamp(ago(time.Hour))
	table, err := Convert(u, Options{Now: testNow()})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := headers(table); n != "NAME CREATED AT" {
		t.Errorf("headers = %q", n)
	}
	if table.ColumnDefinitions[1].Type != "date" {
		t.Errorf("CREATED AT type = %q, want date", table.ColumnDefinitions[1].Type)
	}
	if table.ResourceVersion != "9" || len(table.Rows) != 1 || table.Rows[0].Cells[0] != "widget" {
		t.Errorf("table = %+v", table)
	}
}

func TestNilObject(t *testing.T) {
	if _, err := Convert(nil, Options{}); err == nil {
		t.Error("Convert(nil) succeeded")
	}
}

// TestTableJSON checks the wire shape kubectl decodes: typed cells and
// the embedded PartialObjectMetadata with its apiVersion and kind.
func TestTableJSON(t *testing.T) {
	table, err := Convert(&corev1.ServiceAccountList{Items: []corev1.ServiceAccount{{ObjectMeta: objMeta("default")}}},
		Options{Now: testNow()})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Rows       []struct {
			Cells  []any `json:"cells"`
			Object struct {
				Kind       string `json:"kind"`
				APIVersion string `json:"apiVersion"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			} `json:"object"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.Kind != "Table" || decoded.APIVersion != "meta.k8s.io/v1" || len(decoded.Rows) != 1 {
		t.Fatalf("decoded = %s", raw)
	}
	row := decoded.Rows[0]
	if !reflect.DeepEqual(row.Cells, []any{"default", float64(0), "60m"}) {
		t.Errorf("cells = %v", row.Cells)
	}
	if row.Object.Kind != "PartialObjectMetadata" || row.Object.APIVersion != "meta.k8s.io/v1" || row.Object.Metadata.Name != "default" {
		t.Errorf("object = %+v", row.Object)
	}
}
