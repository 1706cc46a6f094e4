package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// Service account identities, as upstream names them.
const (
	// ServiceAccountUsernamePrefix starts every service account's user name:
	// "system:serviceaccount:<namespace>:<name>".
	ServiceAccountUsernamePrefix = "system:serviceaccount:"
	// GroupServiceAccounts holds every service account.
	GroupServiceAccounts = "system:serviceaccounts"
	// GroupUnauthenticated holds anonymous requests.
	GroupUnauthenticated = "system:unauthenticated"
)

// ServiceAccountUsername returns the user name of service account name in
// namespace.
func ServiceAccountUsername(namespace, name string) string {
	return ServiceAccountUsernamePrefix + namespace + ":" + name
}

// ServiceAccountGroups returns the groups a service account of namespace
// belongs to, besides system:authenticated.
func ServiceAccountGroups(namespace string) []string {
	return []string{GroupServiceAccounts, GroupServiceAccounts + ":" + namespace}
}

// RuleAllows reports whether rule grants the request described by attrs.
// Resource requests match on verb, API group, resource (with subresource as
// "resource/sub", or "*/sub" for any resource's sub) and resourceNames;
// other requests match on verb and non-resource URL.
func RuleAllows(attrs *auth.Attributes, rule *rbacv1.PolicyRule) bool {
	if !hasOrStar(rule.Verbs, attrs.Verb) {
		return false
	}
	if !attrs.ResourceRequest {
		return nonResourceURLMatches(rule.NonResourceURLs, attrs.Path)
	}
	return hasOrStar(rule.APIGroups, attrs.APIGroup) &&
		resourceMatches(rule.Resources, attrs.Resource, attrs.Subresource) &&
		resourceNameMatches(rule.ResourceNames, attrs.Name)
}

// hasOrStar reports whether list holds "*" or want.
func hasOrStar(list []string, want string) bool {
	for _, s := range list {
		if s == "*" || s == want {
			return true
		}
	}
	return false
}

// resourceMatches reports whether one of ruleResources covers resource with
// subresource: "*" covers everything (subresources included), an exact
// "resource" or "resource/subresource" covers itself, and "*/subresource"
// covers that subresource of any resource. "pods" does not cover "pods/log".
func resourceMatches(ruleResources []string, resource, subresource string) bool {
	for _, r := range ruleResources {
		if r == rbacv1.ResourceAll {
			return true
		}
		if subresource == "" {
			if r == resource {
				return true
			}
			continue
		}
		// r == resource+"/"+subresource, without building the string.
		if len(r) == len(resource)+1+len(subresource) && strings.HasPrefix(r, resource) &&
			r[len(resource)] == '/' && strings.HasSuffix(r, subresource) {
			return true
		}
		if len(r) == len(subresource)+2 && strings.HasPrefix(r, "*/") && r[2:] == subresource {
			return true
		}
	}
	return false
}

// resourceNameMatches reports whether name passes a rule's resourceNames:
// an empty list allows any name (and no name); a non-empty list allows only
// requests naming one of them, so it never matches list, watch or create of
// an unnamed object.
func resourceNameMatches(names []string, name string) bool {
	return len(names) == 0 || slices.Contains(names, name)
}

// nonResourceURLMatches reports whether path passes one of the rule's URLs:
// "*" matches all, an exact URL itself, and a URL ending in "*" any path with
// that prefix.
func nonResourceURLMatches(urls []string, path string) bool {
	for _, u := range urls {
		if u == rbacv1.NonResourceAll || u == path {
			return true
		}
		if strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimRight(u, "*")) {
			return true
		}
	}
	return false
}

// matchingSubject returns the first of subjects that names user, or nil. A
// ServiceAccount subject without a namespace takes the binding's namespace;
// in a ClusterRoleBinding (namespace "") it matches nobody.
func matchingSubject(user *auth.User, subjects []rbacv1.Subject, namespace string) *rbacv1.Subject {
	for i := range subjects {
		if subjectMatches(user, &subjects[i], namespace) {
			return &subjects[i]
		}
	}
	return nil
}

// subjectMatches reports whether s names user.
func subjectMatches(user *auth.User, s *rbacv1.Subject, namespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return user.Name == s.Name
	case rbacv1.GroupKind:
		return slices.Contains(user.Groups, s.Name)
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = namespace
		}
		if ns == "" {
			return false
		}
		return isServiceAccountUser(user.Name, ns, s.Name)
	default:
		return false
	}
}

// isServiceAccountUser reports whether username is
// "system:serviceaccount:<namespace>:<name>", without allocating.
func isServiceAccountUser(username, namespace, name string) bool {
	rest, ok := strings.CutPrefix(username, ServiceAccountUsernamePrefix)
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, namespace)
	if !ok {
		return false
	}
	return len(rest) == len(name)+1 && rest[0] == ':' && rest[1:] == name
}
