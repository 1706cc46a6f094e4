package volume

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/agent/envvars"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func describe(f Files) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%s(%o)", k, f[k].Data, f[k].Mode))
	}
	return strings.Join(parts, " ")
}

func TestContents(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u", Labels: map[string]string{"a": "1"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}}}}
	src := Sources{
		ConfigMaps: map[string]*corev1.ConfigMap{"cm": {Data: map[string]string{"k1": "v1", "k2": "v2"}, BinaryData: map[string][]byte{"b": {1}}}, "nope": nil},
		Secrets:    map[string]*corev1.Secret{"s": {Data: map[string][]byte{"pw": []byte("x")}}},
		Tokens:     map[string]string{"proj/token": "jwt"},
	}
	ref := func(n string) corev1.LocalObjectReference { return corev1.LocalObjectReference{Name: n} }
	tests := []struct {
		name, want, wantErr string
		vol                 corev1.Volume
	}{
		{name: "configmap all keys", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: ref("cm")}}},
			want: "b=\x01(644) k1=v1(644) k2=v2(644)"},
		{name: "configmap items and modes", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: ref("cm"), DefaultMode: ptr[int32](0o400),
			Items: []corev1.KeyToPath{{Key: "k1", Path: "dir/one"}, {Key: "k2", Path: "two", Mode: ptr[int32](0o600)}}}}},
			want: "dir/one=v1(400) two=v2(600)"},
		{name: "configmap missing", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: ref("nope")}}},
			wantErr: `configmap "nope" not found`},
		{name: "configmap missing optional", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: ref("nope"), Optional: ptr(true)}}}},
		{name: "configmap missing key", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: ref("cm"), Items: []corev1.KeyToPath{{Key: "zz", Path: "z"}}}}},
			wantErr: `configmap "cm" references non-existent key: zz`},
		{name: "secret", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: ptr[int32](0o440)}}},
			want: "pw=x(440)"},
		{name: "secret missing", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "gone"}}},
			wantErr: `secret "gone" not found`},
		{name: "escaping path", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: ref("cm"), Items: []corev1.KeyToPath{{Key: "k1", Path: "../x"}}}}},
			wantErr: `invalid file path "../x"`},
		{name: "downward", vol: corev1.Volume{VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
			{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
		}}}},
			want: `labels=a="1"(644) mem=64(644) name=p(644)`},
		{name: "projected", vol: corev1.Volume{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: ptr[int32](0o444), Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: ref("cm"), Items: []corev1.KeyToPath{{Key: "k1", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: ref("s")}},
		}}}},
			want: "ca.crt=v1(444) namespace=ns(444) pw=x(444) token=jwt(444)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Contents(pod, &tt.vol, src)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := describe(got); d != tt.want {
				t.Errorf("got  %s\nwant %s", d, tt.want)
			}
		})
	}
}

func TestNeedsAndUnsupported(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "a", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
		{Name: "b", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "api"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}}}},
		{Name: "c", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}}}
	cms, secs, toks := Needs(pod)
	if fmt.Sprint(cms, secs, toks) != "[cm] [s] [{b token api 3600}]" {
		t.Errorf("needs: %v %v %v", cms, secs, toks)
	}
	if v, _ := Unsupported(pod); v != "" {
		t.Errorf("unsupported %q", v)
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "x"}}})
	if v, k := Unsupported(pod); v != "data" || k != "persistentVolumeClaim" {
		t.Errorf("unsupported %q %q", v, k)
	}
}

func readVolume(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && fi.IsDir() {
			parts = append(parts, e.Name()+"/")
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, e.Name()+"="+string(data))
	}
	return strings.Join(parts, " ")
}

func TestWriteAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	changed, err := WriteAtomic(dir, Files{"a": {Data: []byte("1"), Mode: 0o644}, "sub/b": {Data: []byte("2"), Mode: 0o600}}, t0)
	if err != nil || !changed {
		t.Fatalf("first write: %v %v", changed, err)
	}
	if got := readVolume(t, dir); got != "a=1 sub/" {
		t.Errorf("content %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sub", "b")); err != nil || string(b) != "2" {
		t.Errorf("sub/b: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sub", "b")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("sub/b mode %v %v", fi.Mode(), err)
	}
	first, _ := os.Readlink(filepath.Join(dir, dataLink))
	changed, err = WriteAtomic(dir, Files{"a": {Data: []byte("1"), Mode: 0o644}, "sub/b": {Data: []byte("2"), Mode: 0o600}}, t0.Add(time.Second))
	if err != nil || changed {
		t.Fatalf("same content rewritten: %v %v", changed, err)
	}
	changed, err = WriteAtomic(dir, Files{"a": {Data: []byte("new"), Mode: 0o644}, "c": {Data: []byte("3"), Mode: 0o644}}, t0.Add(2*time.Second))
	if err != nil || !changed {
		t.Fatalf("update: %v %v", changed, err)
	}
	if got := readVolume(t, dir); got != "a=new c=3" {
		t.Errorf("after update %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
		t.Errorf("stale link sub kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Errorf("old copy %s kept: %v", first, err)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "a")); l != filepath.Join(dataLink, "a") {
		t.Errorf("a links to %q", l)
	}
}

func TestHostPathTypes(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	typ := func(t corev1.HostPathType) *corev1.HostPathType { return &t }
	tests := []struct {
		path    string
		typ     *corev1.HostPathType
		wantErr string
	}{
		{path: filepath.Join(root, "missing"), typ: nil},
		{path: filepath.Join(root, "new/dir"), typ: typ(corev1.HostPathDirectoryOrCreate)},
		{path: filepath.Join(root, "new/dir"), typ: typ(corev1.HostPathDirectory)},
		{path: filepath.Join(root, "other/file"), typ: typ(corev1.HostPathFileOrCreate)},
		{path: filepath.Join(root, "other/file"), typ: typ(corev1.HostPathFile)},
		{path: file, typ: typ(corev1.HostPathDirectory), wantErr: "hostPath type check failed: " + file + " is not a directory"},
		{path: root, typ: typ(corev1.HostPathFile), wantErr: "hostPath type check failed: " + root + " is not a file"},
		{path: file, typ: typ(corev1.HostPathDirectoryOrCreate), wantErr: "is not a directory"},
		{path: filepath.Join(root, "nope"), typ: typ(corev1.HostPathFile), wantErr: "does not exist"},
		{path: file, typ: typ(corev1.HostPathSocket), wantErr: "is not a socket file"},
	}
	for _, tt := range tests {
		err := checkHostPath(tt.path, tt.typ)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s %v: %v", tt.path, tt.typ, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s %v: err %v, want %q", tt.path, tt.typ, err, tt.wantErr)
		}
	}
}

func TestManagerSetupAndMounts(t *testing.T) {
	m := Manager{Root: t.TempDir()}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid1"},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{
				{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
			},
			Containers: []corev1.Container{{Name: "c", VolumeMounts: []corev1.VolumeMount{
				{Name: "scratch", MountPath: "/tmp/s"},
				{Name: "scratch", MountPath: "/logs", SubPathExpr: "$(POD)"},
				{Name: "cfg", MountPath: "/etc/cfg"},
			}}},
		}}
	paths, err := m.Setup(pod, Sources{ConfigMaps: map[string]*corev1.ConfigMap{"cm": {Data: map[string]string{"k": "v"}}}, Info: envvars.PodInfo{}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	wantCfg := filepath.Join(m.Root, "uid1", "volumes", PluginConfigMap, "cfg")
	if paths["cfg"] != wantCfg || readVolume(t, wantCfg) != "k=v" {
		t.Errorf("cfg at %s: %s", paths["cfg"], readVolume(t, paths["cfg"]))
	}
	mounts, err := Mounts(pod, &pod.Spec.Containers[0], paths, func(s string) string { return strings.ReplaceAll(s, "$(POD)", "p") })
	if err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(m.Root, "uid1", "volumes", PluginEmptyDir, "scratch")
	got := fmt.Sprint(mounts[0].Mount, mounts[1].Mount, mounts[2].Mount)
	want := fmt.Sprintf("{/tmp/s %s false } {/logs %s/p false } {/etc/cfg %s true }", scratch, scratch, wantCfg)
	if got != want {
		t.Errorf("mounts\n got %s\nwant %s", got, want)
	}
	if _, err := SubPath(mounts[1].VolumePath, mounts[1].SubPath); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(scratch, "p")); err != nil || !fi.IsDir() {
		t.Errorf("subPath not created: %v", err)
	}
	// Missing ConfigMap: the volume is named in the error.
	_, err = m.Setup(pod, Sources{ConfigMaps: map[string]*corev1.ConfigMap{"cm": nil}}, t0)
	if err == nil || err.Error() != `MountVolume.SetUp failed for volume "cfg" : configmap "cm" not found` {
		t.Errorf("missing cm: %v", err)
	}
	if uids, _ := m.Pods(); fmt.Sprint(uids) != "[uid1]" {
		t.Errorf("pods %v", uids)
	}
	if err := m.Cleanup("uid1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.PodDir("uid1")); !os.IsNotExist(err) {
		t.Errorf("pod dir kept: %v", err)
	}
}
