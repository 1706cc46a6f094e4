package apiserver

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/auth"
	"github.com/skiffkube/skiff/internal/auth/bootstraptoken"
	"github.com/skiffkube/skiff/internal/auth/join"
)

// NodeCertificateSigner issues the client certificate of node nodeName
// for the key of csr (whose signature the caller has checked). It returns
// the certificate and the CA certificate, PEM.
type NodeCertificateSigner func(csr *x509.CertificateRequest, nodeName string) (certPEM, caPEM []byte, err error)

// serveNodeCertificate signs a node's certificate request. Bootstrap token
// users may ask for any node (they join new nodes); a node may renew only
// its own certificate. The authorizer has already allowed the path.
func (s *Server) serveNodeCertificate(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NodeCertificates == nil {
		s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
		return
	}
	if r.Method != http.MethodPost {
		s.resp.writeError(w, r, apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "node-certificate"}, r.Method))
		return
	}
	data, err := readBody(r)
	if err != nil {
		s.resp.writeError(w, r, err)
		return
	}
	var req join.NodeCertificateRequest
	if err := json.Unmarshal(data, &req); err != nil {
		s.resp.writeError(w, r, apierrors.NewBadRequest(fmt.Sprintf("decoding the request: %v", err)))
		return
	}
	u, _ := auth.UserFrom(r.Context())
	if err := nodeCertificateAllowed(u, req.NodeName); err != nil {
		s.resp.writeError(w, r, apierrors.NewForbidden(schema.GroupResource{}, "", err))
		return
	}
	csr, err := parseNodeCSR(req)
	if err != nil {
		s.resp.writeError(w, r, apierrors.NewBadRequest(err.Error()))
		return
	}
	certPEM, caPEM, err := s.cfg.NodeCertificates(csr, req.NodeName)
	if err != nil {
		s.resp.writeError(w, r, apierrors.NewInternalError(err))
		return
	}
	s.cfg.Logger.Info("issued a node certificate", "node", req.NodeName, "requester", u.Name)
	writeJSON(w, http.StatusOK, join.NodeCertificateResponse{Certificate: string(certPEM), CA: string(caPEM)})
}

// nodeCertificateAllowed says whether u may get a certificate for node.
func nodeCertificateAllowed(u *auth.User, node string) error {
	switch {
	case u == nil:
		return errors.New("no user")
	case slices.Contains(u.Groups, bootstraptoken.Group):
		return nil
	case u.Name == join.NodeUserPrefix+node && slices.Contains(u.Groups, join.NodesGroup):
		return nil
	}
	return fmt.Errorf("user %q may not request a certificate for node %q", u.Name, node)
}

// parseNodeCSR decodes and checks the request's CSR.
func parseNodeCSR(req join.NodeCertificateRequest) (*x509.CertificateRequest, error) {
	if req.NodeName == "" || len(req.NodeName) > 253 {
		return nil, errors.New("nodeName: Required value")
	}
	block, _ := pem.Decode([]byte(req.CSR))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("csr: not a PEM certificate request")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if csr.Subject.CommonName != join.NodeUserPrefix+req.NodeName {
		return nil, fmt.Errorf("csr: the common name must be %q", join.NodeUserPrefix+req.NodeName)
	}
	return csr, nil
}
