package cri

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// maxMsgSize bounds CRI messages (ExecSync output, large listings).
const maxMsgSize = 16 << 20

// Runtime is a CRI client. It is safe for concurrent use.
type Runtime struct {
	conn   *grpc.ClientConn
	rt     runtimeapi.RuntimeServiceClient
	images runtimeapi.ImageServiceClient
}

var _ runtime.Runtime = (*Runtime)(nil)

// New connects to the CRI endpoint ("unix:///path/to.sock" or a plain
// socket path) and checks that it answers Version.
func New(ctx context.Context, endpoint string) (*Runtime, error) {
	target := endpoint
	if !strings.HasPrefix(target, "unix://") {
		target = "unix://" + target
	}
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize), grpc.MaxCallSendMsgSize(maxMsgSize)))
	if err != nil {
		return nil, fmt.Errorf("cri: dial %s: %w", endpoint, err)
	}
	r := &Runtime{
		conn:   conn,
		rt:     runtimeapi.NewRuntimeServiceClient(conn),
		images: runtimeapi.NewImageServiceClient(conn),
	}
	if _, err := r.Version(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return r, nil
}

// Close closes the connection.
func (r *Runtime) Close() error { return r.conn.Close() }

// Version names the runtime.
func (r *Runtime) Version(ctx context.Context) (runtime.VersionInfo, error) {
	resp, err := r.rt.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		return runtime.VersionInfo{}, wrap(err, "version")
	}
	return runtime.VersionInfo{
		RuntimeName:       resp.GetRuntimeName(),
		RuntimeVersion:    resp.GetRuntimeVersion(),
		RuntimeAPIVersion: resp.GetRuntimeApiVersion(),
	}, nil
}

// Ready returns nil when the runtime reports both RuntimeReady and
// NetworkReady (the CNI configuration is loaded), else an error naming
// the conditions that are not met and why.
func (r *Runtime) Ready(ctx context.Context) error {
	resp, err := r.rt.Status(ctx, &runtimeapi.StatusRequest{})
	if err != nil {
		return wrap(err, "status")
	}
	var problems []string
	for _, c := range resp.GetStatus().GetConditions() {
		if !c.GetStatus() {
			problems = append(problems, fmt.Sprintf("%s: %s %s", c.GetType(), c.GetReason(), c.GetMessage()))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("cri: runtime not ready: %s", strings.Join(problems, "; "))
	}
	return nil
}

// wrap adds context to a CRI error, turning NotFound into
// runtime.ErrNotFound.
func wrap(err error, what string) error {
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("cri: %s: %w (%s)", what, runtime.ErrNotFound, status.Convert(err).Message())
	}
	return fmt.Errorf("cri: %s: %w", what, err)
}

// IsNotFound reports whether err is, or wraps, runtime.ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, runtime.ErrNotFound) }
