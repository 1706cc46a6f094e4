package tables

import (
	"strconv"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	coordinationv1 "k8s.io/api/coordination/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	discoveryv1beta1 "k8s.io/api/discovery/v1beta1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// addCluster registers leases, endpoint slices, disruption budgets,
// priority classes and RBAC bindings. Roles and ClusterRoles have no
// printer upstream and get the default NAME / CREATED AT table.
func addCluster(r registry) {
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
		ageColumn(),
	}, func(l *coordinationv1.Lease, now time.Time) []any {
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return []any{l.Name, holder, age(now, l.CreationTimestamp)}
	})

	slice := discoveryv1beta1.EndpointSlice{}.SwaggerDoc()
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("AddressType", "string", slice["addressType"]),
		column("Ports", "string", slice["ports"]),
		column("Endpoints", "string", slice["endpoints"]),
		ageColumn(),
	}, func(s *discoveryv1.EndpointSlice, now time.Time) []any {
		return []any{s.Name, string(s.AddressType), slicePorts(s.Ports), sliceEndpoints(s.Endpoints),
			age(now, s.CreationTimestamp)}
	})

	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Min Available", "string", "The minimum number of pods that must be available."),
		column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
		column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
		ageColumn(),
	}, func(p *policyv1.PodDisruptionBudget, now time.Time) []any {
		minAvailable, maxUnavailable := "N/A", "N/A"
		if p.Spec.MinAvailable != nil {
			minAvailable = p.Spec.MinAvailable.String()
		}
		if p.Spec.MaxUnavailable != nil {
			maxUnavailable = p.Spec.MaxUnavailable.String()
		}
		return []any{p.Name, minAvailable, maxUnavailable, int64(p.Status.DisruptionsAllowed), age(now, p.CreationTimestamp)}
	})

	webhookColumns := []metav1.TableColumnDefinition{
		nameColumn(),
		column("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
		ageColumn(),
	}
	addCells(r, webhookColumns, func(c *admissionregistrationv1.MutatingWebhookConfiguration, now time.Time) []any {
		return []any{c.Name, int64(len(c.Webhooks)), age(now, c.CreationTimestamp)}
	})
	addCells(r, webhookColumns, func(c *admissionregistrationv1.ValidatingWebhookConfiguration, now time.Time) []any {
		return []any{c.Name, int64(len(c.Webhooks)), age(now, c.CreationTimestamp)}
	})

	pc := schedulingv1.PriorityClass{}.SwaggerDoc()
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Value", "integer", pc["value"]),
		column("Global-Default", "boolean", pc["globalDefault"]),
		ageColumn(),
		column("PreemptionPolicy", "string", pc["preemptionPolicy"]),
	}, func(p *schedulingv1.PriorityClass, now time.Time) []any {
		policy := ""
		if p.PreemptionPolicy != nil {
			policy = string(*p.PreemptionPolicy)
		}
		return []any{p.Name, int64(p.Value), p.GlobalDefault, age(now, p.CreationTimestamp), policy}
	})

	addCells(r, bindingColumns(rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"], "roleBinding"),
		func(b *rbacv1.RoleBinding, now time.Time) []any {
			return bindingCells(b.ObjectMeta, b.RoleRef, b.Subjects, now)
		})
	addCells(r, bindingColumns(rbacv1beta1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"], "clusterRoleBinding"),
		func(b *rbacv1.ClusterRoleBinding, now time.Time) []any {
			return bindingCells(b.ObjectMeta, b.RoleRef, b.Subjects, now)
		})
}

// slicePorts lists up to three port numbers (or names, or "*").
func slicePorts(ports []discoveryv1.EndpointPort) string {
	list := make([]string, len(ports))
	for i, p := range ports {
		switch {
		case p.Port != nil:
			list[i] = strconv.Itoa(int(*p.Port))
		case p.Name != nil:
			list[i] = *p.Name
		default:
			list[i] = "*"
		}
	}
	return orDefault(firstN(list, 3, ","), "<unset>")
}

// sliceEndpoints lists up to three endpoint addresses.
func sliceEndpoints(endpoints []discoveryv1.Endpoint) string {
	var list []string
	for _, e := range endpoints {
		list = append(list, e.Addresses...)
	}
	return orDefault(firstN(list, 3, ","), "<unset>")
}

func bindingColumns(roleRefDoc, kind string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		column("Role", "string", roleRefDoc),
		ageColumn(),
		wide(column("Users", "string", "Users in the "+kind)),
		wide(column("Groups", "string", "Groups in the "+kind)),
		wide(column("ServiceAccounts", "string", "ServiceAccounts in the "+kind)),
	}
}

// bindingCells prints the role as Kind/name and the subjects by kind;
// service accounts as namespace/name.
func bindingCells(m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject, now time.Time) []any {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		}
	}
	return []any{m.Name, ref.Kind + "/" + ref.Name, age(now, m.CreationTimestamp),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}
