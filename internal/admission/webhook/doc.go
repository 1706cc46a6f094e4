// Package webhook dispatches admission requests to the webhooks of
// admissionregistration.k8s.io/v1 Mutating- and ValidatingWebhookConfigurations.
//
// A Dispatcher decides which webhooks a request matches (rules, scope,
// namespace and object selectors, CEL matchConditions), calls them over
// HTTPS with an admission.k8s.io AdmissionReview, applies the JSONPatch
// responses of mutating webhooks in order (reinvoking IfNeeded webhooks
// once when a later one changed the object) and calls validating webhooks
// in parallel. Errors and timeouts follow each webhook's failurePolicy.
//
// The package knows nothing of the API server: the configurations, the
// labels of namespaces and the addresses behind Services come from
// functions in Config.
package webhook
