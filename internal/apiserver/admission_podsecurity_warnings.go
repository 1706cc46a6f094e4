package apiserver

import (
	"context"
	"fmt"
	"slices"

	"github.com/skiffkube/skiff/internal/apiserver/audit"
)

// addAdmissionWarning sends msg to the client as a Warning header, in
// upstream's format and once per response. The header is the one of the
// write request serveResource put in ctx (withWriteRequest); admission
// runs before the response is written, so the header still goes out.
// Without a request (a write of the server's own) it does nothing.
func addAdmissionWarning(ctx context.Context, msg string) {
	wr, ok := ctx.Value(writeRequestKey{}).(*writeRequest)
	if !ok || wr.header == nil {
		return
	}
	value := fmt.Sprintf("299 - %q", msg)
	if slices.Contains(wr.header.Values("Warning"), value) {
		return
	}
	wr.header.Add("Warning", value)
}

// addAuditAnnotation records an audit annotation for the request (in the
// audit log's holder; nothing without an audited request).
func addAuditAnnotation(ctx context.Context, key, value string) {
	audit.AddAnnotation(ctx, key, value)
}
