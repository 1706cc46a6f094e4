package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gwebsocket "github.com/gorilla/websocket"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
)

// tunnelPrefix marks a SPDY protocol carried inside WebSocket messages
// (client-go's port-forward over WebSocket).
const tunnelPrefix = "SPDY/3.1+"

// tunnelPortForward serves port-forward's SPDY-over-WebSocket tunnel: it
// opens a plain SPDY connection to the runtime's streaming server at
// target, then accepts the WebSocket with the protocol the runtime chose
// and copies bytes both ways. SPDY runs end to end between the client and
// the runtime; the WebSocket only frames it.
func (s *Server) tunnelPortForward(w http.ResponseWriter, r *http.Request, target *url.URL) {
	var protocols []string
	for _, p := range strings.Split(r.Header.Get(wsstream.WebSocketProtocolHeader), ",") {
		if p = strings.TrimSpace(p); strings.HasPrefix(p, tunnelPrefix) {
			protocols = append(protocols, strings.TrimPrefix(p, tunnelPrefix))
		}
	}
	backend, br, chosen, err := dialSPDY(r.Context(), target, protocols)
	if err != nil {
		s.writeError(w, r, &httpError{code: http.StatusBadGateway, msg: err.Error()})
		return
	}
	defer backend.Close()
	up := gwebsocket.Upgrader{
		Subprotocols: []string{tunnelPrefix + chosen},
		// Callers are authenticated by certificate, not by origin.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.cfg.Logger.Debug("port-forward tunnel upgrade", "err", err)
		return
	}
	defer ws.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer backend.Close()
		copyFromWebSocket(backend, ws)
	}()
	go func() {
		defer wg.Done()
		defer ws.Close()
		copyToWebSocket(ws, br)
		_ = ws.WriteControl(gwebsocket.CloseMessage, gwebsocket.FormatCloseMessage(gwebsocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}()
	wg.Wait()
}

// dialSPDY upgrades a connection to target to SPDY/3.1 offering
// protocols, and returns it with its reader and the chosen protocol.
func dialSPDY(ctx context.Context, target *url.URL, protocols []string) (net.Conn, *bufio.Reader, string, error) {
	host := target.Host
	if target.Port() == "" {
		host = net.JoinHostPort(target.Hostname(), "80")
	}
	if target.Scheme != "http" {
		return nil, nil, "", fmt.Errorf("streaming server URL %s: only http is supported", target.Redacted())
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, nil, "", fmt.Errorf("dialing the runtime's streaming server: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, target.String(), nil)
	if err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "SPDY/3.1")
	for _, p := range protocols {
		req.Header.Add("X-Stream-Protocol-Version", p)
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := writeAndRead(conn, br, req)
	if err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, br, resp.Header.Get("X-Stream-Protocol-Version"), nil
}

func writeAndRead(conn net.Conn, br *bufio.Reader, req *http.Request) (*http.Response, error) {
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("upgrade request to the streaming server: %w", err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("upgrade response from the streaming server: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("streaming server refused the upgrade: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return resp, nil
}

// copyFromWebSocket writes the payload of ws's binary messages to dst.
func copyFromWebSocket(dst io.Writer, ws *gwebsocket.Conn) {
	for {
		typ, r, err := ws.NextReader()
		if err != nil {
			return
		}
		if typ != gwebsocket.BinaryMessage {
			continue
		}
		if _, err := io.Copy(dst, r); err != nil {
			return
		}
	}
}

// copyToWebSocket sends what src yields as binary messages.
func copyToWebSocket(ws *gwebsocket.Conn, src io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if werr := ws.WriteMessage(gwebsocket.BinaryMessage, buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
