# Skiff: build, run and test.
GO        ?= go
BIN       := bin/skiff
DATA_DIR  ?= $(CURDIR)/_output/data
PORT      ?= 6443
TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: all build up test test-unit test-e2e bench-api fuzz vet fmt clean deps

all: build

build:
	$(GO) build -o $(BIN) ./cmd/skiff

# Installs what a node needs (etcd for the external-etcd tests), builds
# Skiff and runs a one-node control plane in the foreground. The admin
# kubeconfig is written to $(DATA_DIR)/kubeconfig.
up: deps build
	$(BIN) server --data-dir $(DATA_DIR) --secure-port $(PORT)

# Debian packages the test suite uses (needs root).
deps:
	@if [ "$$(id -u)" = 0 ] && { ! command -v etcd >/dev/null 2>&1 || ! command -v nft >/dev/null 2>&1; }; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server nftables >/dev/null; \
		systemctl disable --now etcd >/dev/null 2>&1 || true; \
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
