package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiffkube/skiff/internal/apiserver"
	"github.com/skiffkube/skiff/internal/storage/encrypt"
)

// newSecretsEncryptCommand manages encryption at rest through the API
// server's admin endpoints (system:masters only).
func newSecretsEncryptCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "secrets-encrypt", Short: "Inspect and rotate the keys that encrypt Secrets at rest"}
	var dataDir, kubeconfig string
	fs := cmd.PersistentFlags()
	fs.StringVar(&dataDir, "data-dir", defaultDataDir(), "the server's data directory (for its admin kubeconfig)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "admin kubeconfig (default <data-dir>/kubeconfig)")
	call := func(ctx context.Context, verb, op string, out any) error {
		if kubeconfig == "" {
			kubeconfig = filepath.Join(dataDir, "kubeconfig")
		}
		return callSecretsEncrypt(ctx, kubeconfig, verb, op, out)
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Show the encryption providers, the write key and how many stored values each key sealed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st encrypt.Status
			if err := call(cmd.Context(), "GET", "/status", &st); err != nil {
				return err
			}
			printEncryptionStatus(stdout, st)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "Add a new key, make it the write key and re-encrypt every stored Secret with it",
		Long: "The server adds a new key first in its encryption configuration file (saved before use, so a restart reads " +
			"everything), switches writes to it and rewrites every encrypted value. Old keys stay listed to read history. " +
			"Other servers sharing the same etcd must be given the new file and restarted.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res encrypt.RotateResult
			if err := call(cmd.Context(), "POST", "/rotate", &res); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "New write key %s; %d stored values re-encrypted.\n", res.NewKey, res.Rewritten)
			printEncryptionStatus(stdout, res.Status)
			return nil
		},
	})
	return cmd
}

// callSecretsEncrypt sends verb to the admin endpoint op and decodes the
// answer into out.
func callSecretsEncrypt(ctx context.Context, kubeconfig, verb, op string, out any) error {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("admin kubeconfig %s: %w", kubeconfig, err)
	}
	rc.Timeout = 0 // a rotation rewrites every Secret
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("API client: %w", err)
	}
	raw, err := cs.Discovery().RESTClient().Verb(verb).AbsPath(apiserver.SecretsEncryptPath + op).Do(ctx).Raw()
	if err != nil {
		return fmt.Errorf("secrets-encrypt %s: %w", strings.TrimPrefix(op, "/"), err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decoding the server's answer: %w", err)
	}
	return nil
}

func printEncryptionStatus(w io.Writer, st encrypt.Status) {
	if st.ConfigPath != "" {
		fmt.Fprintf(w, "Configuration: %s\n", st.ConfigPath)
	}
	for _, r := range st.Resources {
		fmt.Fprintf(w, "Resources: %s\n  Write key: %s\n  Keys: %s\n  Stored values by key:\n",
			strings.Join(r.Resources, ", "), r.WriteKey, strings.Join(r.Keys, ", "))
		keys := make([]string, 0, len(r.Stored))
		for k := range r.Stored {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "    %-24s %d\n", k, r.Stored[k])
		}
	}
}
