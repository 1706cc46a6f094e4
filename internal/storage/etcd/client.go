package etcd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Client tuning.
const (
	clientDialTimeout      = 5 * time.Second
	clientKeepAliveTime    = 30 * time.Second
	clientKeepAliveTimeout = 10 * time.Second
	// clientMaxSendBytes bounds one request (etcd itself caps values at its
	// max-request-bytes).
	clientMaxSendBytes = 32 << 20
	// clientMaxRecvBytes is unbounded so that big lists fit in one response.
	clientMaxRecvBytes = math.MaxInt32
)

// NewClient connects to etcd at endpoints; tlsConfig may be nil for plain
// HTTP endpoints. The connection is made lazily: a wrong endpoint shows up as
// errors of the first requests.
func NewClient(endpoints []string, tlsConfig *tls.Config) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("new etcd client: no endpoints")
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		TLS:                  tlsConfig,
		DialTimeout:          clientDialTimeout,
		DialKeepAliveTime:    clientKeepAliveTime,
		DialKeepAliveTimeout: clientKeepAliveTimeout,
		MaxCallSendMsgSize:   clientMaxSendBytes,
		MaxCallRecvMsgSize:   clientMaxRecvBytes,
		// The client warns of every failed request, even the expected
		// ones (compacted, future revision): log its errors only.
		Logger: newLogger(zap.NewAtomicLevelAt(zapcore.ErrorLevel)).Named("etcd-client"),
	})
	if err != nil {
		return nil, fmt.Errorf("new etcd client for %v: %w", endpoints, err)
	}
	return c, nil
}
