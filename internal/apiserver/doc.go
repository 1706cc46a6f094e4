// Package apiserver is Skiff's Kubernetes API server: HTTP routing, the REST
// verbs over every registered resource, watch, discovery, content
// negotiation (JSON, YAML, protobuf, Table, PartialObjectMetadata) and
// metav1.Status errors. Requests pass authentication, authorization and
// admission before they reach a resource's store.
package apiserver
