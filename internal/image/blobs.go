package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// writeChunk is the size of one content write message.
const writeChunk = 1 << 20

// writeBlob stores a blob in containerd's content store with labels. A
// blob already present only gets its labels updated.
func (c *conn) writeBlob(ctx context.Context, l *layout, d Descriptor, labels map[string]string) error {
	info, err := c.content.Info(ctx, &contentapi.InfoRequest{Digest: d.Digest})
	switch {
	case err == nil:
		return c.labelBlob(ctx, info.GetInfo(), labels)
	case !errNotFound(err):
		return fmt.Errorf("content info %s: %w", d.Digest, err)
	}
	p, err := l.blob(d.Digest)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	defer f.Close()
	if err := c.upload(ctx, f, d, labels); err != nil && !errAlreadyExists(err) {
		return fmt.Errorf("write blob %s: %w", d.Digest, err)
	}
	return nil
}

// upload streams r to containerd: STAT to learn how much of ref a previous
// attempt wrote, WRITEs from there, then COMMIT with the expected digest.
func (c *conn) upload(ctx context.Context, r io.ReadSeeker, d Descriptor, labels map[string]string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.content.Write(ctx)
	if err != nil {
		return err
	}
	ref := "skiff-import-" + d.Digest
	send := func(req *contentapi.WriteContentRequest) (*contentapi.WriteContentResponse, error) {
		req.Ref = ref
		if err := stream.Send(req); err != nil {
			return nil, err
		}
		return stream.Recv()
	}
	st, err := send(&contentapi.WriteContentRequest{Action: contentapi.WriteAction_STAT})
	if err != nil {
		return err
	}
	offset := st.GetOffset()
	if offset > d.Size {
		offset = 0
	}
	if _, err := r.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, writeChunk)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if _, err := send(&contentapi.WriteContentRequest{
				Action: contentapi.WriteAction_WRITE, Offset: offset, Data: buf[:n],
			}); err != nil {
				return err
			}
			offset += int64(n)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if _, err := send(&contentapi.WriteContentRequest{
		Action: contentapi.WriteAction_COMMIT, Offset: offset, Total: d.Size, Expected: d.Digest, Labels: labels,
	}); err != nil {
		return err
	}
	return stream.CloseSend()
}

// labelBlob adds labels to a present blob.
func (c *conn) labelBlob(ctx context.Context, info *contentapi.Info, labels map[string]string) error {
	var paths []string
	for k, v := range labels {
		if info.GetLabels()[k] != v {
			paths = append(paths, "labels."+k)
		}
	}
	if len(paths) == 0 {
		return nil
	}
	_, err := c.content.Update(ctx, &contentapi.UpdateRequest{
		Info:       &contentapi.Info{Digest: info.GetDigest(), Labels: labels},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
	})
	if err != nil {
		return fmt.Errorf("label blob %s: %w", info.GetDigest(), err)
	}
	return nil
}
