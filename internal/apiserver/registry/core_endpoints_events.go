package registry

import (
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func endpointsStrategy() Strategy {
	return Typed[*corev1.Endpoints]{
		DefaultFunc: func(ep *corev1.Endpoints) {
			for i := range ep.Subsets {
				for j := range ep.Subsets[i].Ports {
					if ep.Subsets[i].Ports[j].Protocol == "" {
						ep.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
					}
				}
			}
		},
		ValidateFunc: func(ep *corev1.Endpoints) field.ErrorList {
			return validateEndpointSubsets(ep.Subsets, field.NewPath("subsets"))
		},
		ValidateUpdateFunc: func(ep, _ *corev1.Endpoints) field.ErrorList {
			return validateEndpointSubsets(ep.Subsets, field.NewPath("subsets"))
		},
	}
}

func validateEndpointSubsets(subsets []corev1.EndpointSubset, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ss := range subsets {
		p := fldPath.Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(p, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j, a := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(a, p.Child("addresses").Index(j))...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(a, p.Child("notReadyAddresses").Index(j))...)
		}
		for j, port := range ss.Ports {
			pp := p.Child("ports").Index(j)
			if port.Name == "" && len(ss.Ports) > 1 {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			} else if port.Name != "" {
				errs = append(errs, validateDNSLabel(port.Name, pp.Child("name"))...)
			}
			errs = append(errs, validatePortNumber(port.Port, true, pp.Child("port"))...)
			errs = append(errs, validateProtocol(port.Protocol, pp.Child("protocol"))...)
		}
	}
	return errs
}

func validateEndpointAddress(a corev1.EndpointAddress, p *field.Path) field.ErrorList {
	errs := validation.IsValidIP(p.Child("ip"), a.IP)
	if len(errs) == 0 {
		errs = append(errs, validateNonSpecialIP(a.IP, p.Child("ip"))...)
	}
	errs = append(errs, validateLabelField(a.Hostname, p.Child("hostname"))...)
	if a.NodeName != nil {
		errs = append(errs, validateSubdomainField(*a.NodeName, p.Child("nodeName"))...)
	}
	return errs
}

// validateNonSpecialIP rejects addresses that cannot name an endpoint:
// unspecified, loopback and link-local ones.
func validateNonSpecialIP(s string, p *field.Path) field.ErrorList {
	ip := net.ParseIP(s)
	switch {
	case ip.IsUnspecified():
		return field.ErrorList{field.Invalid(p, s, "may not be unspecified (0.0.0.0 or ::)")}
	case ip.IsLoopback():
		return field.ErrorList{field.Invalid(p, s, "may not be in the loopback range (127.0.0.0/8, ::1/128)")}
	case ip.IsLinkLocalUnicast():
		return field.ErrorList{field.Invalid(p, s, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")}
	case ip.IsLinkLocalMulticast():
		return field.ErrorList{field.Invalid(p, s, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")}
	}
	return nil
}

// Limits of the newer event fields (events.k8s.io style).
const (
	maxEventReasonLen = 128
	maxEventActionLen = 128
	maxEventNoteLen   = 1024
)

func eventStrategy() Strategy {
	return Typed[*corev1.Event]{
		ValidateFunc:       validateEvent,
		ValidateUpdateFunc: func(ev, _ *corev1.Event) field.ErrorList { return validateEvent(ev) },
	}
}

// validateEvent checks that the event lives in its object's namespace
// (cluster-scoped objects' events go to "default" or no namespace) and,
// for events written in the newer style (with eventTime), the fields that
// style requires.
func validateEvent(ev *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	if ev.InvolvedObject.Namespace == "" {
		if ev.Namespace != metav1.NamespaceNone && ev.Namespace != metav1.NamespaceDefault {
			errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else if ev.Namespace != ev.InvolvedObject.Namespace {
		errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	if ev.EventTime.IsZero() {
		return errs
	}
	if ev.ReportingController == "" {
		errs = append(errs, field.Required(field.NewPath("reportingController"), ""))
	}
	if ev.ReportingInstance == "" {
		errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
	}
	if ev.Type != corev1.EventTypeNormal && ev.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), ev.Type, fmt.Sprintf("has invalid value: %v", ev.Type)))
	}
	errs = append(errs, validateEventText(ev.Action, maxEventActionLen, field.NewPath("action"))...)
	errs = append(errs, validateEventText(ev.Reason, maxEventReasonLen, field.NewPath("reason"))...)
	if len(ev.Message) > maxEventNoteLen {
		errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", maxEventNoteLen)))
	}
	return errs
}

// validateEventText requires a short, non-empty string.
func validateEventText(value string, maxLen int, p *field.Path) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if len(value) > maxLen {
		return field.ErrorList{field.TooLong(p, "", maxLen)}
	}
	return nil
}
