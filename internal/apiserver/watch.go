package apiserver

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/skiffkube/skiff/internal/storage/cacher"
)

// minWatchTimeout is the base of the server-chosen watch duration; each
// watch lasts between one and two times it, so reconnections spread out.
const minWatchTimeout = 30 * time.Minute

func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	var opts metav1.ListOptions
	if err := s.codecs.decodeParams(r.URL.Query(), &opts); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	ls, fs, err := selectors(rs, opts)
	if err != nil {
		return err
	}
	if info.Name != "" {
		// /watch/namespaces/ns/pods/name is a watch of one object.
		fs = fieldsAnd(fs, "metadata.name", info.Name)
	}
	if opts.SendInitialEvents != nil && *opts.SendInitialEvents {
		if !opts.AllowWatchBookmarks {
			return apierrors.NewBadRequest("sendInitialEvents requires allowWatchBookmarks=true")
		}
		if opts.ResourceVersionMatch != metav1.ResourceVersionMatchNotOlderThan {
			return apierrors.NewBadRequest("sendInitialEvents requires resourceVersionMatch=NotOlderThan")
		}
	}
	n, err := s.resp.negotiate(r)
	if err != nil {
		return err
	}
	timeout := minWatchTimeout + time.Duration(rand.Int64N(int64(minWatchTimeout)))
	if opts.TimeoutSeconds != nil && *opts.TimeoutSeconds > 0 {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	watcher, err := rs.cache.Watch(ctx, cacher.WatchOptions{
		KeyPrefix:         rs.keyPrefix(info.Namespace),
		ResourceVersion:   opts.ResourceVersion,
		Label:             ls,
		Field:             fs,
		AllowBookmarks:    opts.AllowWatchBookmarks,
		SendInitialEvents: opts.SendInitialEvents,
	})
	expired := apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
	if err != nil && !expired {
		return rs.storageError(err, "")
	}
	s.metrics.watchers.WithLabelValues(rs.gr.Group, rs.gr.Resource).Inc()
	defer s.metrics.watchers.WithLabelValues(rs.gr.Group, rs.gr.Resource).Dec()

	stream := n.info.StreamSerializer
	if stream == nil {
		return apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "watch", rs.gr, "", "streaming is not supported for "+n.info.MediaType, 0, false)
	}
	w.Header().Set("Content-Type", n.contentType)
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	frames := stream.Framer.NewFrameWriter(w)
	send := func(typ watch.EventType, obj runtime.Object, shared bool) bool {
		// The object inside the event is a whole message (for protobuf,
		// with its envelope); the event frame uses the stream encoding.
		// Shared objects (the watch cache's own) are encoded once for
		// all watchers.
		var data []byte
		var err error
		if shared {
			data, err = s.encodings.encode(n.info.Serializer, obj)
		} else {
			data, err = runtime.Encode(n.info.Serializer, obj)
		}
		if err != nil {
			return false
		}
		ev := &metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: data}}
		if err := stream.Serializer.Encode(ev, frames); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if expired {
		send(watch.Error, statusFor(err), false)
		return nil
	}
	defer watcher.Stop()
	if flusher != nil {
		flusher.Flush()
	}
	first := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.stopWatches:
			return nil
		case ev, ok := <-watcher.ResultChan():
			if !ok {
				return nil
			}
			obj := ev.Object
			change := ev.Type == watch.Added || ev.Type == watch.Modified || ev.Type == watch.Deleted
			// Bookmarks are converted for metadata-only watches (whose
			// clients decode every event as PartialObjectMetadata), not
			// for tables, which have no row for them.
			bookmarkMeta := ev.Type == watch.Bookmark && n.kind == outputPartialMetadata
			if (change && n.kind != outputObject) || bookmarkMeta {
				if obj, err = s.resp.transform(obj, n, r, !first); err != nil {
					return nil
				}
				first = false
			}
			if !send(ev.Type, obj, change && n.kind == outputObject) {
				return nil
			}
		}
	}
}
