package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/storage/encrypt"
)

// SecretsEncryptPath is the prefix of the secrets encryption admin
// endpoints: GET <prefix>/status, POST <prefix>/rotate. No default role
// grants these non-resource URLs, so only system:masters reach them.
const SecretsEncryptPath = "/skiff/v1/secrets-encrypt"

// SecretsEncryption reports on and rotates the keys of encryption at rest
// (an *encrypt.Store).
type SecretsEncryption interface {
	Status(ctx context.Context) (encrypt.Status, error)
	Rotate(ctx context.Context) (encrypt.RotateResult, error)
}

var _ SecretsEncryption = (*encrypt.Store)(nil)

// serveSecretsEncrypt serves the endpoints under SecretsEncryptPath.
func (s *Server) serveSecretsEncrypt(w http.ResponseWriter, r *http.Request, path string) {
	se := s.cfg.SecretsEncryption
	if se == nil {
		s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
		return
	}
	switch op := strings.TrimPrefix(path, SecretsEncryptPath); {
	case op == "/status" && r.Method == http.MethodGet:
		st, err := se.Status(r.Context())
		if err != nil {
			s.resp.writeError(w, r, apierrors.NewInternalError(fmt.Errorf("secrets encryption status: %w", err)))
			return
		}
		writeJSON(w, http.StatusOK, st)
	case op == "/rotate" && r.Method == http.MethodPost:
		res, err := se.Rotate(r.Context())
		if err != nil {
			s.resp.writeError(w, r, apierrors.NewInternalError(fmt.Errorf("rotating the secrets encryption key: %w", err)))
			return
		}
		s.cfg.Logger.Info("secrets encryption key rotated", "key", res.NewKey, "rewritten", res.Rewritten)
		writeJSON(w, http.StatusOK, res)
	case op == "/status" || op == "/rotate":
		s.resp.writeError(w, r, apierrors.NewMethodNotSupported(schema.GroupResource{}, r.Method))
	default:
		s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
	}
}
