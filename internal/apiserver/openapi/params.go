package openapi

import "k8s.io/kube-openapi/pkg/validation/spec"

// paramSpec is how one request parameter is described.
type paramSpec struct {
	in, typ, description string
}

// parameterSpecs describes every parameter the operations use, by name.
func parameterSpecs() map[string]paramSpec {
	q := func(typ, description string) paramSpec {
		return paramSpec{in: "query", typ: typ, description: description}
	}
	return map[string]paramSpec{
		"name":      {in: "path", typ: "string", description: "Name of the object."},
		"namespace": {in: "path", typ: "string", description: "Namespace of the objects; it scopes names and authorization."},
		"body":      {in: "body", description: "The request body."},

		"pretty": q("string", "If 'true', the response is indented for reading."),

		"dryRun": q("string", "When present, the request is checked and processed but nothing is persisted. "+
			"The only accepted value is All."),
		"fieldManager": q("string", "Name of the actor making the change, recorded in managedFields. "+
			"At most 128 printable characters. Required for apply patches."),
		"fieldValidation": q("string", "How the server treats unknown or duplicate fields in the request body: "+
			"Ignore drops them silently, Warn drops them and returns a warning for each (the default), "+
			"Strict fails the request on the first one."),
		"force": q("boolean", "For apply patches only: take ownership of fields other managers own instead of failing with a conflict."),

		"labelSelector": q("string", "Restrict the returned objects to those whose labels match this selector."),
		"fieldSelector": q("string", "Restrict the returned objects to those whose fields match this selector."),
		"limit": q("integer", "Maximum number of objects to return in one response. When more exist, "+
			"the list's metadata carries a continue token to fetch the next chunk."),
		"continue": q("string", "Token from a previous chunked list response, to fetch the next chunk "+
			"of the same consistent list."),
		"resourceVersion": q("string", "Constrains which resource version the request may be served at; "+
			"see resourceVersionMatch. Unset means the most recent data."),
		"resourceVersionMatch": q("string", "How resourceVersion is applied to a list: Exact or NotOlderThan. "+
			"Only valid together with resourceVersion."),
		"watch": q("boolean", "Stream add, update and delete notifications for the selected objects "+
			"instead of returning a list."),
		"allowWatchBookmarks": q("boolean", "Ask a watch to send BOOKMARK events that carry only a resourceVersion. "+
			"Servers may send them at their discretion."),
		"sendInitialEvents": q("boolean", "For a watch: start the stream with synthetic ADDED events for the current "+
			"state, followed by a bookmark marking the end of that state."),
		"timeoutSeconds": q("integer", "Time limit of the list or watch call, in seconds."),

		"gracePeriodSeconds": q("integer", "Seconds before the object is deleted; zero means immediately. "+
			"Unset means the type's default."),
		"propagationPolicy": q("string", "Whether and how dependents are garbage collected: Orphan, Background or Foreground."),
		"orphanDependents":  q("boolean", "Deprecated, use propagationPolicy. Whether dependents are orphaned."),
		"ignoreStoreReadErrorWithClusterBreakingPotential": q("boolean", "Delete an object that can not be read from "+
			"storage (for example because it can not be decoded). Dangerous; requires extra permission."),
	}
}

// parameter builds the named parameter; body parameters reference def.
func parameter(specs map[string]paramSpec, name, bodyDef string) spec.Parameter {
	ps := specs[name]
	p := spec.Parameter{ParamProps: spec.ParamProps{Name: name, In: ps.in, Description: ps.description}}
	switch ps.in {
	case "body":
		p.Required = true
		p.Schema = spec.RefSchema(v2RefPrefix + bodyDef)
	case "path":
		p.Required = true
		p.Type = ps.typ
	default:
		p.Type = ps.typ
		p.UniqueItems = true
	}
	return p
}
