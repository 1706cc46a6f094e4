// Package endpoints publishes where a Service's pods are: the Endpoints
// controller writes core/v1 Endpoints and the EndpointSlice controller
// writes discovery.k8s.io/v1 EndpointSlices for every Service with a
// selector, and the mirroring controller copies user-written Endpoints of
// selectorless Services into EndpointSlices.
//
// The three share one pure core (desired.go): which pods back a Service,
// with which ports and conditions. The controllers around it only read
// informers and write the difference.
package endpoints
