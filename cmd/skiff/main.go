package main
import (
 _ "k8s.io/api/core/v1"
 _ "k8s.io/apimachinery/pkg/runtime"
 _ "k8s.io/apimachinery/pkg/util/managedfields"
 _ "k8s.io/client-go/kubernetes"
 _ "k8s.io/client-go/tools/leaderelection"
 _ "go.etcd.io/etcd/server/v3/embed"
 _ "go.etcd.io/etcd/client/v3"
 _ "github.com/spf13/cobra"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "k8s.io/kube-openapi/pkg/validation/spec"
 _ "k8s.io/client-go/applyconfigurations"
)
func main(){}
