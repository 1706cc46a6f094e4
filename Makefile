# Skiff: build, run and test.
GO        ?= go
BIN       := bin/skiff
DATA_DIR  ?= $(CURDIR)/_output/data
PORT      ?= 6443
TEST_FLAGS ?= -count=1 -timeout 30m

IMAGES_DIR ?= $(DATA_DIR)/agent/images

.PHONY: all build images up server test test-unit test-e2e e2e-multinode security-check bench-api fuzz vet fmt clean deps

all: build

build:
	$(GO) build -o $(BIN) ./cmd/skiff

# Skiff's own images (pause, busybox, skiff-test) as OCI archives, built
# without a registry or Docker; a node imports every tarball of its
# <data-dir>/agent/images at start.
images:
	$(GO) run ./test/images/build -out $(IMAGES_DIR)

# Installs what a node needs (containerd, runc, CNI plugins, nftables),
# builds Skiff and its images and runs a one-node cluster in the
# foreground (needs root). The admin kubeconfig is written to
# $(DATA_DIR)/kubeconfig.
up: deps build images
	$(BIN) up --data-dir $(DATA_DIR) --secure-port $(PORT)

# The control plane alone (no node), for work on the API.
server: build
	$(BIN) server --data-dir $(DATA_DIR) --secure-port $(PORT)

# Debian packages a node and the test suite use (needs root): etcd for
# the external-etcd tests, containerd + runc + CNI plugins for real pods,
# nftables/iptables for the service proxy, busybox-static for the images.
DEB_PACKAGES := etcd-server nftables iptables containerd runc containernetworking-plugins busybox-static iproute2
deps:
	@if [ "$$(id -u)" = 0 ] && { ! command -v etcd >/dev/null 2>&1 || ! command -v nft >/dev/null 2>&1 || \
		! command -v containerd >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || ! test -x /usr/lib/cni/bridge || \
		! test -x /bin/busybox || ! command -v iptables >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; }; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
		systemctl disable --now etcd containerd >/dev/null 2>&1 || true; \
	fi

# The whole test suite: unit, integration (in-process server over real
# etcd), end-to-end (built binary + stock kubectl) and fuzz seeds.
test: deps
	$(GO) vet ./...
	$(GO) test $(TEST_FLAGS) ./...

test-unit:
	$(GO) test -count=1 -short ./internal/...

test-e2e: build
	$(GO) test $(TEST_FLAGS) ./test/e2e/...

# Several nodes on one machine (needs root): one `skiff server` and two
# `skiff agent`s, each in its own network namespace with its own
# containerd, joined over a test bridge (192.168.77.0/24); Services,
# DNS and pod routes across nodes. SKIFF_MULTINODE_HOLD=10m keeps a failed
# cluster up for a look.
e2e-multinode: deps build
	SKIFF_MULTINODE=1 SKIFF_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -v -timeout 30m ./test/multinode/...

# The CIS Kubernetes Benchmark controls that apply to Skiff, run against a
# fresh `skiff server` with default flags in a temporary data dir: one
# PASS/FAIL line per control, non-zero exit on any failure.
security-check: build
	SKIFF=$(CURDIR)/$(BIN) scripts/security-check.sh

bench-api: build
	$(BIN) bench api --out docs/benchmarks-api.md

fuzz:
	$(GO) test ./internal/apiserver -run XXX -fuzz FuzzDecodeObject -fuzztime 30s
	$(GO) test ./internal/apiserver -run XXX -fuzz FuzzApplyPatch -fuzztime 30s

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin _output
