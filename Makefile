# stampede — load and chaos testing for session token refresh paths.
GO     ?= go
BIN    := bin/stampede
ARGS   ?=
BENCH_CLIENTS ?= 100000
BENCH_HOLD    ?= 20s
PKGS   := ./...
# deploy/k8s is a module of its own (the manifests test and the Kubernetes
# API types it decodes into), so ./... above does not reach it.
K8S    := deploy/k8s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# cross: the platforms besides Linux that stampede must build and vet for.
CROSS  ?= darwin/amd64 darwin/arm64 windows/amd64

.PHONY: build run test e2e bench fuzz lint cross fmt clean

## build: compile bin/stampede
build:
	$(GO) build -o $(BIN) ./cmd/stampede

## run: the main job: 1,000 clients against the embedded backend (pass more flags with ARGS="...")
run: build
	./$(BIN) run $(ARGS)

## test: the test command (race detector on), the compare noise test again without the race detector (whose cost starves the timed runs: under -race it holds refresh p50 only), then the Kubernetes manifests' test in deploy/k8s
test:
	$(GO) test -race -timeout 20m $(PKGS)
	$(GO) test -count=1 -run '^TestCompareTellsNoiseFromARealRegression$$' ./cmd/stampede/
	cd $(K8S) && $(GO) test -race ./...

## e2e: against real servers: installs and starts Dex and toxiproxy-server on 127.0.0.1, then go test -tags e2e ./cmd/stampede/e2e/ (cmd/stampede/e2e/run.sh)
e2e:
	cmd/stampede/e2e/run.sh

## bench: Go benchmarks (the simulator's BenchmarkSimulateElevator among them, docs/simulate.md; BENCH_GO=0 skips them), then stampede against wrk, lag and memory per client (scripts/bench.sh; BENCH_CLIENTS=1000000 BENCH_HOLD=120s for the million-client run; docs/performance.md lists its other knobs)
bench:
	@if [ "$(BENCH_GO)" != 0 ]; then $(GO) test -run '^$$' -bench . -benchmem ./load/... ./chaos/... ./reports/; fi
	scripts/bench.sh $(BENCH_CLIENTS) $(BENCH_HOLD)

## fuzz: every fuzz target (func Fuzz* in a _test.go file) for FUZZTIME each, one after the other
# Go 1.26 may end a fuzz run that found nothing with a bare "context deadline
# exceeded" when -fuzztime runs out (go.dev/issue/75804, fixed in Go 1.27):
# that, without a failing input written, is not a finding.
FUZZTIME ?= 30s
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for file in $$(grep -rlE '^func Fuzz' --include='*_test.go' . | sort); do \
	  pkg=./$$(dirname $${file#./}); \
	  for target in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]+)\(.*/\1/p' $$file); do \
	    echo "fuzz: $$target in $$pkg for $(FUZZTIME)"; \
	    if $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg >"$$log" 2>&1; then \
	      tail -n 2 "$$log"; \
	    elif grep -q 'context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
	      tail -n 6 "$$log"; echo "fuzz: $$target: no finding (Go's fuzztime deadline race, go.dev/issue/75804)"; \
	    else \
	      cat "$$log"; exit 1; \
	    fi; \
	  done; \
	done

## lint: formatting, go vet (the e2e tests too) and staticcheck, on both modules; any finding fails
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags e2e ./cmd/stampede/e2e/
	cd $(K8S) && $(GO) vet ./...
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) run $(STATICCHECK) -tags e2e ./cmd/stampede/e2e/
	cd $(K8S) && $(GO) run $(STATICCHECK) ./...

## cross: go build and go vet (tests included) for every platform in CROSS
cross:
	@set -e; for p in $(CROSS); do \
	  echo "cross: $$p"; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build $(PKGS); \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet $(PKGS); \
	  (cd $(K8S) && GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./...); \
	done

## fmt: format the code
fmt:
	gofmt -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')

clean:
	rm -rf bin stampede-results
