package image

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	diffapi "github.com/containerd/containerd/api/services/diff/v1"
	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/api/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Namespace is the containerd namespace the CRI plugin keeps its images in.
const Namespace = "k8s.io"

// Importer loads image tarballs into a containerd.
type Importer struct {
	// Socket is containerd's gRPC socket path.
	Socket string
	// Snapshotter to unpack for; "" asks the CRI plugin which it uses.
	Snapshotter string
	// Namespace is the containerd namespace; "" is Namespace.
	Namespace string
	// WaitCRI bounds the wait for the CRI plugin to list the imported
	// images; 0 means 10s, negative means do not wait.
	WaitCRI time.Duration
}

// Import loads an OCI image-layout tarball into the containerd at socket,
// for the CRI plugin, and returns the image references it named.
func Import(ctx context.Context, socket, tarPath string) ([]string, error) {
	return (&Importer{Socket: socket}).Import(ctx, tarPath)
}

// ImportDir imports every *.tar in dir (in name order).
func ImportDir(ctx context.Context, socket, dir string) ([]string, error) {
	return (&Importer{Socket: socket}).ImportDir(ctx, dir)
}

// ImportDir imports every *.tar in dir (in name order).
func (im *Importer) ImportDir(ctx context.Context, dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tar"))
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", dir, err)
	}
	sort.Strings(paths)
	var refs []string
	for _, p := range paths {
		r, err := im.Import(ctx, p)
		if err != nil {
			return refs, err
		}
		refs = append(refs, r...)
	}
	return refs, nil
}

// Import loads one tarball and returns the references it named.
func (im *Importer) Import(ctx context.Context, tarPath string) ([]string, error) {
	tmp, err := os.MkdirTemp("", "skiff-import-")
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", tarPath, err)
	}
	defer os.RemoveAll(tmp)
	l, err := extractArchive(tarPath, tmp)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	named, err := l.images()
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", tarPath, err)
	}
	c, err := im.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.close()
	snapshotter := im.Snapshotter
	if snapshotter == "" {
		if snapshotter, err = c.criSnapshotter(ctx); err != nil {
			return nil, err
		}
	}
	ctx, done, err := c.withLease(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var refs []string
	for _, img := range named {
		if err := c.importImage(ctx, l, img, snapshotter); err != nil {
			return refs, fmt.Errorf("import %s from %s: %w", img.name, tarPath, err)
		}
		refs = append(refs, img.name)
	}
	if err := c.waitCRI(ctx, refs, im.WaitCRI); err != nil {
		return refs, err
	}
	return refs, nil
}

// conn is a connection to containerd with the namespace in its context.
type conn struct {
	cc        *grpc.ClientConn
	namespace string
	content   contentapi.ContentClient
	images    imagesapi.ImagesClient
	snapshots snapshotsapi.SnapshotsClient
	diff      diffapi.DiffClient
	leases    leasesapi.LeasesClient
	cri       runtimeapi.RuntimeServiceClient
	criImages runtimeapi.ImageServiceClient
}

func (im *Importer) dial(ctx context.Context) (*conn, error) {
	if _, err := os.Stat(im.Socket); err != nil {
		return nil, fmt.Errorf("import: containerd socket: %w", err)
	}
	cc, err := grpc.NewClient("unix://"+im.Socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20), grpc.MaxCallSendMsgSize(16<<20)))
	if err != nil {
		return nil, fmt.Errorf("import: dial %s: %w", im.Socket, err)
	}
	ns := im.Namespace
	if ns == "" {
		ns = Namespace
	}
	return &conn{
		cc: cc, namespace: ns,
		content:   contentapi.NewContentClient(cc),
		images:    imagesapi.NewImagesClient(cc),
		snapshots: snapshotsapi.NewSnapshotsClient(cc),
		diff:      diffapi.NewDiffClient(cc),
		leases:    leasesapi.NewLeasesClient(cc),
		cri:       runtimeapi.NewRuntimeServiceClient(cc),
		criImages: runtimeapi.NewImageServiceClient(cc),
	}, nil
}

func (c *conn) close() { c.cc.Close() }

// ns adds the containerd namespace header to ctx.
func (c *conn) ns(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "containerd-namespace", c.namespace)
}

// withLease creates a lease that protects everything written under the
// returned context from garbage collection until the image records (with
// their gc.ref labels) exist; done deletes it.
func (c *conn) withLease(ctx context.Context) (context.Context, func(), error) {
	id := fmt.Sprintf("skiff-import-%d", time.Now().UnixNano())
	_, err := c.leases.Create(c.ns(ctx), &leasesapi.CreateRequest{
		ID:     id,
		Labels: map[string]string{"containerd.io/gc.expire": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("import: create lease: %w", err)
	}
	leased := metadata.AppendToOutgoingContext(c.ns(ctx), "containerd-lease", id)
	done := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = c.leases.Delete(c.ns(dctx), &leasesapi.DeleteRequest{ID: id})
	}
	return leased, done, nil
}

// criSnapshotter asks the CRI plugin which snapshotter it unpacks for.
func (c *conn) criSnapshotter(ctx context.Context) (string, error) {
	resp, err := c.cri.Status(ctx, &runtimeapi.StatusRequest{Verbose: true})
	if err != nil {
		return "", fmt.Errorf("import: CRI status: %w", err)
	}
	if s := snapshotterFromCRIConfig(resp.GetInfo()["config"]); s != "" {
		return s, nil
	}
	return "overlayfs", nil
}

// importImage stores an image's blobs, unpacks its layers and creates
// (or repoints) its image record.
func (c *conn) importImage(ctx context.Context, l *layout, img namedImage, snapshotter string) error {
	m, parents, err := l.resolve(img.target)
	if err != nil {
		return err
	}
	var cfg Config
	if _, err := l.readJSON(m.Config.Digest, &cfg); err != nil {
		return err
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return fmt.Errorf("config has %d diff IDs for %d layers", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	chain := ChainIDs(cfg.RootFS.DiffIDs)
	for _, layer := range m.Layers {
		if err := c.writeBlob(ctx, l, layer, nil); err != nil {
			return err
		}
	}
	cfgLabels := map[string]string{}
	if len(chain) > 0 {
		cfgLabels["containerd.io/gc.ref.snapshot."+snapshotter] = chain[len(chain)-1]
	}
	if err := c.writeBlob(ctx, l, m.Config, cfgLabels); err != nil {
		return err
	}
	// Parents (indexes, then the manifest) are written last, deepest
	// first, each with gc.ref labels to what it points at.
	for i := len(parents) - 1; i >= 0; i-- {
		labels := map[string]string{}
		if i == len(parents)-1 {
			labels["containerd.io/gc.ref.content.config"] = m.Config.Digest
			for j, layer := range m.Layers {
				labels[fmt.Sprintf("containerd.io/gc.ref.content.l.%d", j)] = layer.Digest
			}
		} else {
			labels["containerd.io/gc.ref.content.m.0"] = parents[i+1].Digest
		}
		if err := c.writeBlob(ctx, l, parents[i], labels); err != nil {
			return err
		}
	}
	if err := c.unpack(ctx, l, m.Layers, cfg.RootFS.DiffIDs, snapshotter); err != nil {
		return err
	}
	return c.putImage(ctx, img)
}

// putImage creates the image record, or points an existing one at the new
// target.
func (c *conn) putImage(ctx context.Context, img namedImage) error {
	rec := &imagesapi.Image{
		Name:   img.name,
		Target: &types.Descriptor{MediaType: img.target.MediaType, Digest: img.target.Digest, Size: img.target.Size},
		Labels: map[string]string{"io.cri-containerd.image": "managed"},
	}
	_, err := c.images.Create(ctx, &imagesapi.CreateImageRequest{Image: rec})
	if status.Code(err) == codes.AlreadyExists {
		_, err = c.images.Update(ctx, &imagesapi.UpdateImageRequest{
			Image:      rec,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"target", "labels.io.cri-containerd.image"}},
		})
	}
	if err != nil {
		return fmt.Errorf("image record: %w", err)
	}
	return nil
}

// waitCRI waits until the CRI plugin, which learns of new images from
// containerd's events, reports every ref.
func (c *conn) waitCRI(ctx context.Context, refs []string, timeout time.Duration) error {
	if timeout < 0 {
		return nil
	}
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for _, ref := range refs {
		for {
			resp, err := c.criImages.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
			if err == nil && resp.GetImage() != nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("import: CRI does not list %s after %s (err %v)", ref, timeout, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// snapshotterFromCRIConfig reads containerd.snapshotter from the CRI
// plugin's verbose status "config" JSON.
func snapshotterFromCRIConfig(config string) string {
	var cfg struct {
		Containerd struct {
			Snapshotter string `json:"snapshotter"`
		} `json:"containerd"`
	}
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		return ""
	}
	return cfg.Containerd.Snapshotter
}

// errAlreadyExists reports a gRPC AlreadyExists.
func errAlreadyExists(err error) bool { return status.Code(err) == codes.AlreadyExists }

// errNotFound reports a gRPC NotFound.
func errNotFound(err error) bool { return status.Code(err) == codes.NotFound }
