# slackexporter: tools, code generation, the otelcol-slack collector, tests.
#
#   make tools      install the pinned mdatagen, ocb, golangci-lint, govulncheck and gremlins into .tools/bin
#   make generate   regenerate internal/metadata, generated_*_test.go, documentation.md, README status
#   make build      bin/otelcol-slack (ocb), bin/slackemu, bin/slogapp
#   make test       vet + unit tests, then the e2e tests against bin/
#   make reliability  issue #4's scenarios with 60 s windows, a 60 s fuzz, a SOAK; rewrites docs/RELIABILITY.md
#   make soak       TestDeliveryInvariants for SOAK (default 10m) of random runs; prints runs, seeds and checks
#   make bench      issue #5's benchmarks against the alternatives; rewrites docs/BENCHMARKS.md (~10 min)
#   make fleet      examples/fleet under a storm (agent, 3 gateways, Kafka on loopback, one gateway killed);
#                   rewrites docs/FLEET.md (~1 min)
#   make demo       run scripts/demo.sh against bin/; the emulator's inbox page shows what Slack received
#   make screenshots  docs/img/message.png and thread.png: the inbox page in headless Chromium during a storm
#   make image      the otelcol-slack container image (Containerfile) with podman or docker, then checks it
#   make lint       gofmt, go vet, golangci-lint and govulncheck (offline database) on every module
#   make mutation   gremlins on the internal packages; fails under 90% efficacy or mutator coverage;
#                   rewrites docs/TESTING.md (~12 min; MUTATION_ROOT=1 adds the root package, an hour or more)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
MDATAGEN  := $(TOOLS_BIN)/mdatagen
BUILDER   := $(TOOLS_BIN)/builder
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint
GOVULNCHECK   := $(TOOLS_BIN)/govulncheck
VULNGATE      := $(TOOLS_BIN)/vulngate
GREMLINS      := $(TOOLS_BIN)/gremlins
MUTATION      := $(TOOLS_BIN)/mutation
TOOLS     := $(MDATAGEN) $(BUILDER) $(GOLANGCI_LINT) $(GOVULNCHECK)
BIN       := bin
# A hung test fails after this long instead of go test's default 10m.
TESTFLAGS ?= -timeout=5m

# Go sources that go into the collector: the exporter package and its internal
# packages (not tests, not the other modules, not cmd/).
EXPORTER_SRCS := $(shell find . \( -path ./build -o -path ./bin -o -path ./.tools -o -path ./tools \
	-o -path ./examples -o -path ./e2e -o -path ./cmd -o -path ./.git \) -prune \
	-o -name '*.go' ! -name '*_test.go' -print)

# Every Go module in the repository (except tools/ and the generated build/), for fmt, vet and lint.
MODULES := . $(patsubst %/go.mod,%,$(wildcard examples/go.mod e2e/go.mod bench/go.mod bench/filterprocessor/go.mod))

.PHONY: all tools generate check-generated build test reliability soak bench mutation fleet demo screenshots image fmt fmt-check vet lint \
	golangci-lint govulncheck clean FORCE

all: build

## tools: mdatagen v0.159.0, ocb (builder) v0.165.0, golangci-lint v2.15.0 and
## govulncheck v1.9.0, pinned in tools/go.mod; and tools/vulngate (see govulncheck).
## gremlins v0.6.0 and the tools/mutation command that drives it (see mutation)
## have a module of their own, tools/mutation: gremlins requires
## spf13/viper v1.21.0, and in tools/go.mod it would build golangci-lint
## (released with viper v1.12.0, which reads its configuration) against
## v1.21.0 too.
tools: $(TOOLS) $(VULNGATE) $(GREMLINS) $(MUTATION)

$(TOOLS) &: tools/go.mod tools/go.sum
	GOBIN=$(TOOLS_BIN) $(GO) -C tools install tool
	@touch $(TOOLS)

$(GREMLINS): tools/mutation/go.mod tools/mutation/go.sum
	GOBIN=$(TOOLS_BIN) $(GO) -C tools/mutation install tool
	@touch $@

$(MUTATION): tools/mutation/main.go tools/mutation/go.mod
	$(GO) -C tools/mutation build -o $@ .

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
## e2e/ocb (a collector built with ocb from the README's manifest, about a
## minute) runs before the other e2e packages, not beside them: its compile
## would steal the CPU their timing depends on.
## e2e/browser skips without chromium (unless REQUIRE_BROWSER=1, as in CI),
## and go test shows no skip unless -v: say it here, where it is seen.
E2E_SOLO := ./ocb
test: build
	@if [[ -z "$${CHROME_PATH:-}" ]] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
		echo "*** WARNING: no chromium (nor chromium-browser, nor CHROME_PATH): e2e/browser will SKIP the inbox page's" \
			"browser tests (apt-get install chromium; REQUIRE_BROWSER=1 makes it fail instead) ***"; fi
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...
	SLACKEMU_BIN=$(CURDIR)/$(BIN)/slackemu OTELCOL_BIN=$(CURDIR)/$(BIN)/otelcol-slack OCB_BIN=$(BUILDER) \
		$(GO) -C e2e test -count=1 $(TESTFLAGS) $(E2E_SOLO)
	SLACKEMU_BIN=$(CURDIR)/$(BIN)/slackemu OTELCOL_BIN=$(CURDIR)/$(BIN)/otelcol-slack \
		$(GO) -C e2e test -count=1 $(TESTFLAGS) $$($(GO) -C e2e list ./... | grep -v -F $(E2E_SOLO:./%=-e /%))

## soak: the delivery invariants (issue #8) over fresh random runs for SOAK;
## make test runs the same test for about 30 s. Each run's seed, steps and
## checks are printed; a failed run prints its script and how to run its
## seed again (INVARIANTS_SEED=N).
SOAK ?= 10m
SOAK_TIMEOUT ?= 3h
soak:
	INVARIANTS_DURATION=$(SOAK) $(GO) test -run '^TestDeliveryInvariants$$' -count=1 -timeout=$(SOAK_TIMEOUT) -v .

## reliability: fuzz the render path for a minute, run the delivery
## invariants for SOAK (10m), then the e2e/reliability scenarios with
## RELIABILITY_WINDOW-long outages and hangs (60s), and write the figures to
## docs/RELIABILITY.md. Fails if anything failed; the document is written
## either way. About 5 minutes plus SOAK.
RELIABILITY_WINDOW ?= 60s
FUZZTIME ?= 60s
reliability: build
	@mkdir -p docs
	@fuzzlog=$$(mktemp); soaklog=$$(mktemp); trap 'rm -f "$$fuzzlog" "$$soaklog"' EXIT; rc=0; \
	fuzzcmd="go test -run '^\$$' -fuzz=FuzzMessages -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./internal/render"; \
	echo "$$fuzzcmd"; \
	$(GO) test -run '^$$' -fuzz=FuzzMessages -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./internal/render >"$$fuzzlog" 2>&1 || rc=$$?; \
	grep -v '^fuzz: elapsed' "$$fuzzlog" | tail -n 30 || true; grep '^fuzz: elapsed' "$$fuzzlog" | tail -n 1 || true; \
	soakcmd="make soak SOAK=$(SOAK)"; echo "$$soakcmd"; \
	$(MAKE) --no-print-directory soak SOAK=$(SOAK) >"$$soaklog" 2>&1 || rc=$$?; \
	grep -E 'runs in|--- FAIL|^(ok|FAIL)' "$$soaklog" || true; \
	echo "RELIABILITY_WINDOW=$(RELIABILITY_WINDOW) go -C e2e test -count=1 -timeout=14m ./reliability"; \
	RELIABILITY_WINDOW=$(RELIABILITY_WINDOW) RELIABILITY_DOC=$(CURDIR)/docs/RELIABILITY.md \
	RELIABILITY_FUZZ_LOG="$$fuzzlog" RELIABILITY_FUZZ_CMD="$$fuzzcmd" \
	RELIABILITY_SOAK_LOG="$$soaklog" RELIABILITY_SOAK_CMD="$$soakcmd" \
	SLACKEMU_BIN=$(CURDIR)/$(BIN)/slackemu OTELCOL_BIN=$(CURDIR)/$(BIN)/otelcol-slack \
		$(GO) -C e2e test -count=1 -timeout=14m ./reliability || rc=$$?; \
	echo "wrote docs/RELIABILITY.md"; exit $$rc

## bench: the harness in bench/ (its own module) measures, in one run: the
## filter beside contrib's filterprocessor (bench/filterprocessor) and message
## rendering (Go benchmarks); the example app's log call beside a slog handler
## that posts synchronously and Python's QueueHandler (bench/queuehandler.py);
## collector CPU per record against the nop exporter (telemetrygen, pinned
## below); a storm; calm latency. It rewrites docs/BENCHMARKS.md (about 10
## minutes; builds serialise on a lock where flock exists), and the storm's
## plots over time, docs/img/storm-threads-{on,off}.svg (gonum's plot).
## BENCH_ONLY=go,app,calm,quiet,storm runs some items and prints their tables;
## BENCH_FLAGS adds flags of bin/bench: BENCH_ONLY=storm BENCH_FLAGS='-plots docs/img'
## also rewrites the storm's plots (a partial run never rewrites the page).
TELEMETRYGEN_VERSION := v0.161.0
TELEMETRYGEN := $(TOOLS_BIN)/telemetrygen
BUILD_LOCK := $(if $(shell command -v flock 2>/dev/null),flock /tmp/slackexporter-build.lock,)
BENCH_ONLY ?=
BENCH_FLAGS ?=
bench: $(TOOLS_BIN)/.telemetrygen-$(TELEMETRYGEN_VERSION)
	$(BUILD_LOCK) $(MAKE) --no-print-directory build
	$(GO) -C bench build -o $(CURDIR)/$(BIN)/bench .
	$(BIN)/bench -root . -telemetrygen $(TELEMETRYGEN) \
		$(if $(BENCH_ONLY),-only $(BENCH_ONLY),-out docs/BENCHMARKS.md) $(BENCH_FLAGS)

$(TOOLS_BIN)/.telemetrygen-$(TELEMETRYGEN_VERSION):
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$(TELEMETRYGEN_VERSION)
	@rm -f $(TOOLS_BIN)/.telemetrygen-*
	@touch $@

## mutation: gremlins (pinned in tools/mutation) mutates each package of
## MUTATION_PKGS in turn and runs its tests against every mutant; the mutants
## gremlins cannot see as covered (a switch's case expressions, package-level
## declarations) are run by tools/mutation itself. Fails if a package's test
## efficacy (killed / (killed + lived), less the lived mutants docs/TESTING.md
## explains as equivalent) or mutator coverage ((killed + lived) / (killed +
## lived + not covered)) is under 90%. Rewrites the generated part of
## docs/TESTING.md, whose hand-written part says why each equivalent mutant
## cannot be told apart. Not part of make test: about 12 minutes on 2 CPUs.
## MUTATION_ROOT=1 adds the root package (136 mutants, each running its
## tests, about 45 s: an hour or more).
MUTATION_PKGS ?= ./internal/dynchannel ./internal/fleet ./internal/group ./internal/interact ./internal/logcopy ./internal/mutes ./internal/render ./internal/selection \
	./internal/slackclient ./internal/slackemu ./internal/threads $(if $(MUTATION_ROOT),.)
MUTATION_WORKERS ?= 2
MUTATION_TIMEOUT_COEFFICIENT ?= 10
mutation: $(GREMLINS) $(MUTATION)
	$(MUTATION) -gremlins $(GREMLINS) -workers $(MUTATION_WORKERS) \
		-timeout-coefficient $(MUTATION_TIMEOUT_COEFFICIENT) -efficacy 90 -coverage 90 \
		-doc docs/TESTING.md -command "make mutation" $(MUTATION_PKGS)

## fleet: the fleet of examples/fleet (issue #9) under a storm: one agent,
## three gateways, a Kafka-protocol broker on loopback (franz-go's kfake,
## pinned in e2e/go.mod) and the Slack emulator at Slack's pace; a quarter
## of the way in, the busiest gateway is killed with SIGKILL, and once its
## channels have moved another is stopped with SIGTERM. Rewrites
## docs/FLEET.md (records sent, shown, lost, duplicated; messages per
## fingerprint; 429s; chat.update per minute; takeover; CPU per record) and
## fails if a record was lost (about a minute). FLEET_RATE (records/s per channel, 200),
## FLEET_SECONDS (40) and FLEET_PARTITIONS (6) change the storm.
fleet: build
	@mkdir -p docs
	FLEET_DOC=$(CURDIR)/docs/FLEET.md \
	SLACKEMU_BIN=$(CURDIR)/$(BIN)/slackemu OTELCOL_BIN=$(CURDIR)/$(BIN)/otelcol-slack \
		$(GO) -C e2e test -count=1 -timeout=10m -run '^TestFleetStorm$$' -v .

## demo: scripts/demo.sh. It prints the address of the emulator's inbox page
## and, when run from a terminal, keeps the emulator and the collector up until
## Enter is pressed (DEMO_WAIT=0 stops at once, as when stdin is not a terminal).
demo: build
	bash scripts/demo.sh

## screenshots: the README's pictures of the inbox page (the emulator's root
## page), taken by e2e/browser's TestScreenshots in headless Chromium during a
## storm: docs/img/message.png (the storm's message and its count) and
## docs/img/thread.png (its thread). Needs chromium (apt-get install chromium).
screenshots: build
	@mkdir -p docs/img
	SCREENSHOTS_DIR=$(CURDIR)/docs/img REQUIRE_BROWSER=1 \
	SLACKEMU_BIN=$(CURDIR)/$(BIN)/slackemu OTELCOL_BIN=$(CURDIR)/$(BIN)/otelcol-slack \
		$(GO) -C e2e test -count=1 -run '^TestScreenshots$$' -v ./browser

## image: the container image otelcol-slack:<dist.version> (Containerfile):
## bin/otelcol-slack (static), the host's CA certificates, the config of
## deploy/container/config.yaml, user 10001. Built with podman or docker,
## whichever is found (CONTAINER_ENGINE=docker to choose; IMAGE, VERSION to
## rename). scripts/verify-image.sh then exports the filesystem of a created,
## never started, container, checks its files, user, entrypoint and command,
## and runs the binary in it (chroot, as user 10001): --version, validate, and
## a start against bin/slackemu that delivers one record. Not part of make
## test, nor of CI.
image: $(BIN)/otelcol-slack $(BIN)/slackemu
	bash scripts/image.sh

fmt:
	gofmt -w $(MODULES:%=%/)

fmt-check:
	@out=$$(gofmt -l $(MODULES:%=%/) | grep -v '^build/' || true); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	@for m in $(MODULES); do echo "go -C $$m vet ./..."; $(GO) -C $$m vet ./...; done

## golangci-lint: the linters in .golangci.yml, module by module; waits for
## another golangci-lint run on this machine instead of failing.
golangci-lint: $(GOLANGCI_LINT)
	@rc=0; for m in $(MODULES); do echo "golangci-lint run ($$m)"; \
		(cd $$m && $(GOLANGCI_LINT) run --allow-serial-runners --config $(CURDIR)/.golangci.yml ./...) || rc=1; done; exit $$rc

## govulncheck: known vulnerabilities reachable from the code, module by module,
## against a local copy of the Go vulnerability database: the golang.org/x/vulndb
## module (its data/osv) at VULNDB_VERSION, indexed by its cmd/indexdb into
## .tools/vulndb once per version (the online database is out of reach here).
## Bump VULNDB_VERSION (go list -m golang.org/x/vulndb@latest) for newer data.
## tools/vulngate fails on a reachable vulnerability in a required module; one
## in the standard library only warns (fixed by a newer Go, not by this
## repository) unless VULN_STDLIB=fail.
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB := $(CURDIR)/.tools/vulndb
VULNDB_STAMP := $(VULNDB)/.version-$(VULNDB_VERSION)
VULN_STDLIB ?= warn
govulncheck: $(GOVULNCHECK) $(VULNGATE) $(VULNDB_STAMP)
	@rc=0; for m in $(MODULES); do echo "govulncheck -C $$m ./..."; \
		$(GOVULNCHECK) -db file://$(VULNDB) -format json -C $$m ./... | $(VULNGATE) -stdlib=$(VULN_STDLIB) || rc=1; done; exit $$rc

$(VULNGATE): tools/vulngate/main.go tools/go.mod
	$(GO) -C tools build -o $@ ./vulngate

$(VULNDB_STAMP):
	GOBIN=$(TOOLS_BIN) $(GO) install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION)
	@dir=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	if [ ! -d "$$dir/data/osv" ]; then echo "no data/osv in golang.org/x/vulndb@$(VULNDB_VERSION)"; exit 1; fi; \
	rm -rf $(VULNDB) $(VULNDB).tmp; \
	echo "indexdb -vulns $$dir/data/osv -out $(VULNDB)"; \
	$(TOOLS_BIN)/indexdb -vulns "$$dir/data/osv" -out $(VULNDB).tmp; \
	mv $(VULNDB).tmp $(VULNDB)
	@touch $@

lint: fmt-check vet golangci-lint govulncheck

clean:
	rm -rf bin build
	rm -f coverage.out coverage.html *.coverprofile

FORCE:
