package registry

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateContainerProbes checks probes and lifecycle hooks. Plain init
// containers run to completion, so they may have none of them.
func validateContainerProbes(c *corev1.Container, kind containerKind, spec *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if kind == initContainer && !isSidecar(c) {
		for _, f := range []struct {
			name string
			set  bool
		}{{"lifecycle", c.Lifecycle != nil}, {"livenessProbe", c.LivenessProbe != nil}, {"readinessProbe", c.ReadinessProbe != nil}, {"startupProbe", c.StartupProbe != nil}} {
			if f.set {
				errs = append(errs, field.Forbidden(p.Child(f.name), "may not be set for init containers without restartPolicy=Always"))
			}
		}
		return errs
	}
	errs = append(errs, validateProbe(c.LivenessProbe, true, p.Child("livenessProbe"))...)
	errs = append(errs, validateProbe(c.ReadinessProbe, false, p.Child("readinessProbe"))...)
	errs = append(errs, validateProbe(c.StartupProbe, true, p.Child("startupProbe"))...)
	if c.ReadinessProbe != nil && c.ReadinessProbe.TerminationGracePeriodSeconds != nil {
		errs = append(errs, field.Invalid(p.Child("readinessProbe", "terminationGracePeriodSeconds"), *c.ReadinessProbe.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
	}
	if c.Lifecycle != nil {
		errs = append(errs, validateLifecycleHandler(c.Lifecycle.PostStart, p.Child("lifecycle", "postStart"))...)
		errs = append(errs, validateLifecycleHandler(c.Lifecycle.PreStop, p.Child("lifecycle", "preStop"))...)
	}
	return errs
}

// validateProbe checks one probe; mustSucceedOnce is set for liveness and
// startup probes, whose successThreshold must be 1.
func validateProbe(probe *corev1.Probe, mustSucceedOnce bool, fldPath *field.Path) field.ErrorList {
	if probe == nil {
		return nil
	}
	errs := validateProbeHandler(&probe.ProbeHandler, fldPath)
	for _, f := range []struct {
		name  string
		value int32
	}{{"initialDelaySeconds", probe.InitialDelaySeconds}, {"timeoutSeconds", probe.TimeoutSeconds}, {"periodSeconds", probe.PeriodSeconds},
		{"successThreshold", probe.SuccessThreshold}, {"failureThreshold", probe.FailureThreshold}} {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(f.value), fldPath.Child(f.name))...)
	}
	if mustSucceedOnce && probe.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(fldPath.Child("successThreshold"), probe.SuccessThreshold, "must be 1"))
	}
	if g := probe.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(fldPath.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

// validateProbeHandler requires exactly one of exec, httpGet, tcpSocket and
// grpc.
func validateProbeHandler(h *corev1.ProbeHandler, fldPath *field.Path) field.ErrorList {
	if errs := validateOneHandler(h, fldPath); errs != nil {
		return errs
	}
	if h.GRPC != nil {
		return validatePortNumber(h.GRPC.Port, true, fldPath.Child("grpc", "port"))
	}
	return validateSharedHandler(h.Exec, h.HTTPGet, h.TCPSocket, fldPath)
}

// validateLifecycleHandler requires exactly one of exec, httpGet, tcpSocket
// and sleep.
func validateLifecycleHandler(h *corev1.LifecycleHandler, fldPath *field.Path) field.ErrorList {
	if h == nil {
		return nil
	}
	if errs := validateOneHandler(h, fldPath); errs != nil {
		return errs
	}
	if h.Sleep != nil {
		return apimachineryvalidation.ValidateNonnegativeField(h.Sleep.Seconds, fldPath.Child("sleep", "seconds"))
	}
	return validateSharedHandler(h.Exec, h.HTTPGet, h.TCPSocket, fldPath)
}

// validateOneHandler requires exactly one handler field of h (a
// ProbeHandler or LifecycleHandler) to be set.
func validateOneHandler(h any, fldPath *field.Path) field.ErrorList {
	set := setSources(h)
	switch {
	case len(set) == 0:
		return field.ErrorList{field.Required(fldPath, "must specify a handler type")}
	case len(set) > 1:
		return field.ErrorList{field.Forbidden(fldPath.Child(set[1]), "may not specify more than 1 handler type")}
	}
	return nil
}

// validateSharedHandler checks the handler kinds probes and lifecycle hooks
// have in common.
func validateSharedHandler(exec *corev1.ExecAction, httpGet *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction, fldPath *field.Path) field.ErrorList {
	switch {
	case exec != nil:
		return validateExec(exec, fldPath.Child("exec"))
	case httpGet != nil:
		return validateHTTPGet(httpGet, fldPath.Child("httpGet"))
	case tcp != nil:
		return validatePortOrName(tcp.Port, fldPath.Child("tcpSocket", "port"))
	}
	return nil
}

func validateExec(e *corev1.ExecAction, fldPath *field.Path) field.ErrorList {
	if len(e.Command) == 0 {
		return field.ErrorList{field.Required(fldPath.Child("command"), "")}
	}
	return nil
}

func validateHTTPGet(h *corev1.HTTPGetAction, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(fldPath.Child("path"), ""))
	}
	errs = append(errs, validatePortOrName(h.Port, fldPath.Child("port"))...)
	if h.Scheme != corev1.URISchemeHTTP && h.Scheme != corev1.URISchemeHTTPS {
		errs = append(errs, field.NotSupported(fldPath.Child("scheme"), h.Scheme, []corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}))
	}
	for i, hdr := range h.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(hdr.Name) {
			errs = append(errs, field.Invalid(fldPath.Child("httpHeaders").Index(i).Child("name"), hdr.Name, msg))
		}
	}
	return errs
}

// validatePortOrName checks an int-or-string port: a number in 1..65535 or
// an IANA_SVC_NAME.
func validatePortOrName(port intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.String {
		for _, msg := range validation.IsValidPortName(port.StrVal) {
			errs = append(errs, field.Invalid(fldPath, port.StrVal, msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortNum(port.IntValue()) {
		errs = append(errs, field.Invalid(fldPath, port.IntValue(), msg))
	}
	return errs
}
