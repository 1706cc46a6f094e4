package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	"k8s.io/apimachinery/pkg/util/remotecommand"
	restclient "k8s.io/client-go/rest"
	clientremotecommand "k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"

	"github.com/skiffkube/skiff/internal/runtime/cri"
)

// WebSocket channels of the remote command protocols (v4 and v5).
const (
	chanStdin = iota
	chanStdout
	chanStderr
	chanError
	chanResize
)

// streamIdleTimeout ends a WebSocket session that carries nothing for
// this long (upstream's default).
const streamIdleTimeout = 4 * time.Hour

// translateWebSocket serves an exec or attach WebSocket session
// (v5.channel.k8s.io, or v4) by running it over SPDY against the
// runtime's streaming server at target: runtimes speak SPDY, and not all
// of them the WebSocket protocols with the close signal of v5.
func (s *Server) translateWebSocket(w http.ResponseWriter, r *http.Request, target *url.URL, opts cri.StreamOptions) {
	ex, err := clientremotecommand.NewSPDYExecutor(&restclient.Config{}, http.MethodPost, target)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	channels := []wsstream.ChannelType{wsstream.ReadChannel, wsstream.WriteChannel, wsstream.WriteChannel, wsstream.WriteChannel, wsstream.ReadChannel}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		remotecommand.StreamProtocolV5Name: {Binary: true, Channels: channels},
		remotecommand.StreamProtocolV4Name: {Binary: true, Channels: channels},
		"v4.base64.channel.k8s.io":         {Binary: false, Channels: channels},
	})
	conn.SetIdleTimeout(streamIdleTimeout)
	_, streams, err := conn.Open(w, r)
	if err != nil {
		// The handshake has answered the client already.
		s.cfg.Logger.Debug("WebSocket stream handshake", "err", err)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	so := clientremotecommand.StreamOptions{Tty: opts.TTY}
	if opts.Stdin {
		so.Stdin = streams[chanStdin]
	}
	if opts.Stdout {
		so.Stdout = &cancelOnError{w: streams[chanStdout], cancel: cancel}
	}
	if opts.Stderr {
		so.Stderr = &cancelOnError{w: streams[chanStderr], cancel: cancel}
	}
	if opts.TTY {
		so.TerminalSizeQueue = newResizeQueue(streams[chanResize])
	}
	err = ex.StreamWithContext(ctx, so)
	status := exitStatus(err)
	data, _ := json.Marshal(status)
	_, _ = streams[chanError].Write(data)
}

// exitStatus is the v4/v5 error channel's message for an exec's outcome.
func exitStatus(err error) *metav1.Status {
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}}
	var exitErr exec.ExitError
	switch {
	case err == nil:
		st.Status = metav1.StatusSuccess
	case errors.As(err, &exitErr) && exitErr.Exited():
		st.Status = metav1.StatusFailure
		st.Reason = remotecommand.NonZeroExitCodeReason
		st.Message = err.Error()
		st.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{{
			Type: remotecommand.ExitCodeCauseType, Message: strconv.Itoa(exitErr.ExitStatus()),
		}}}
	default:
		st.Status = metav1.StatusFailure
		st.Reason = metav1.StatusReasonInternalError
		st.Message = err.Error()
	}
	return st
}

// cancelOnError cancels the session when the client stops taking output.
type cancelOnError struct {
	w      io.Writer
	cancel context.CancelFunc
}

func (c *cancelOnError) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		c.cancel()
	}
	return n, err
}

// resizeQueue reads the terminal sizes the client sends as JSON on the
// resize channel.
type resizeQueue struct {
	dec *json.Decoder
}

func newResizeQueue(r io.Reader) *resizeQueue { return &resizeQueue{dec: json.NewDecoder(r)} }

// Next blocks for the next size; nil once the channel closes.
func (q *resizeQueue) Next() *clientremotecommand.TerminalSize {
	var size clientremotecommand.TerminalSize
	if err := q.dec.Decode(&size); err != nil {
		return nil
	}
	return &size
}
