# slackexporter: tools, code generation, the otelcol-slack collector, tests.
#
#   make tools      install the pinned mdatagen and ocb into .tools/bin
#   make generate   regenerate internal/metadata, generated_*_test.go, documentation.md, README status
#   make build      bin/otelcol-slack (ocb), bin/slackemu, bin/slogapp
#   make test       vet + unit tests, then the e2e tests against bin/
#   make demo       run scripts/demo.sh against bin/

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
MDATAGEN  := $(TOOLS_BIN)/mdatagen
BUILDER   := $(TOOLS_BIN)/builder
BIN       := bin
# A hung test fails after this long instead of go test's default 10m.
TESTFLAGS ?= -timeout=5m

# Go sources that go into the collector: the exporter package and its internal
# packages (not tests, not the other modules, not cmd/).
EXPORTER_SRCS := $(shell find . \( -path ./build -o -path ./bin -o -path ./.tools -o -path ./tools \
	-o -path ./examples -o -path ./e2e -o -path ./cmd -o -path ./.git \) -prune \
	-o -name '*.go' ! -name '*_test.go' -print)

# Every Go module in the repository (except tools/ and the generated build/), for fmt and vet.
MODULES := . $(patsubst %/go.mod,%,$(wildcard examples/go.mod e2e/go.mod))

.PHONY: all tools generate check-generated build test demo fmt fmt-check vet lint clean \
	FORCE

all: build

## tools: mdatagen v0.159.0 and ocb (builder) v0.165.0, pinned in tools/go.mod.
tools: $(MDATAGEN) $(BUILDER)

$(MDATAGEN) $(BUILDER) &: tools/go.mod tools/go.sum
	GOBIN=$(TOOLS_BIN) $(GO) -C tools install tool
	@touch $(MDATAGEN) $(BUILDER)

## generate: mdatagen names the generated test package after the directory that
## holds metadata.yaml, so it runs through a symlink named slackexporter:
## the output is then the same whatever the clone's folder is called.
generate: $(MDATAGEN)
	@tmp=$$(mktemp -d); ln -s "$(CURDIR)" "$$tmp/slackexporter"; \
	rc=0; (cd "$$tmp/slackexporter" && PATH="$(TOOLS_BIN):$$PATH" $(GO) generate ./...) || rc=$$?; \
	rm -f "$$tmp/slackexporter"; rmdir "$$tmp"; exit $$rc
	gofmt -w generated_component_test.go generated_package_test.go internal/metadata internal/metadatatest

GENERATED := README.md documentation.md generated_component_test.go generated_package_test.go \
	internal/metadata internal/metadatatest

## check-generated: fail if `make generate` changes anything (metadata.yaml edited
## without regenerating, or generated files not committed).
check-generated: generate
	@out=$$(git status --porcelain -- $(GENERATED)); \
	if [ -n "$$out" ]; then echo "generated files are stale or uncommitted; run make generate and commit:"; \
	echo "$$out"; git --no-pager diff --stat -- $(GENERATED); exit 1; fi

## build: the collector distribution, the Slack emulator and the example app.
build: $(BIN)/otelcol-slack $(BIN)/slackemu $(BIN)/slogapp

# ocb regenerates build/otelcol-slack and compiles it; rerun only when the
# manifest or the exporter's sources change.
$(BIN)/otelcol-slack: builder-config.yaml go.mod go.sum $(EXPORTER_SRCS) | $(BUILDER)
	@mkdir -p $(BIN) build
	$(BUILDER) --config builder-config.yaml
	cp build/otelcol-slack/otelcol-slack $@.tmp && mv -f $@.tmp $@

# go build is incremental by itself; always ask it.
# Binaries are replaced by rename, so a running copy (a test, the demo) never
# makes the build fail with "text file busy".
$(BIN)/slackemu: FORCE
	$(GO) build -o $@.tmp ./cmd/slackemu && mv -f $@.tmp $@

$(BIN)/slogapp: FORCE
	$(GO) -C examples build -o $(CURDIR)/$@.tmp ./slogapp && mv -f $@.tmp $@

## test: vet and unit tests of the root module, then e2e against bin/.
test: build
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...
	SLACKEMU_BIN=$(CURDIR)/$(BIN)/slackemu OTELCOL_BIN=$(CURDIR)/$(BIN)/otelcol-slack \
		$(GO) -C e2e test $(TESTFLAGS) ./...

demo: build
	bash scripts/demo.sh

fmt:
	gofmt -w $(MODULES:%=%/)

fmt-check:
	@out=$$(gofmt -l $(MODULES:%=%/) | grep -v '^build/' || true); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	@for m in $(MODULES); do echo "go -C $$m vet ./..."; $(GO) -C $$m vet ./...; done

lint: fmt-check vet

clean:
	rm -rf bin build
	rm -f coverage.out coverage.html *.coverprofile

FORCE:
