# stampede — load and chaos testing for session token refresh paths.
GO     ?= go
BIN    := bin/stampede
ARGS   ?=
PKGS   := ./...

.PHONY: build run test bench lint fmt clean

## build: compile bin/stampede
build:
	$(GO) build -o $(BIN) ./cmd/stampede

## run: the main job: 1,000 clients against the embedded backend (pass more flags with ARGS="...")
run: build
	./$(BIN) run $(ARGS)

## test: the test command (race detector on)
test:
	$(GO) test -race $(PKGS)

## bench: benchmarks (figures quoted in issues and notes)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## lint: formatting and vet
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

## fmt: format the code
fmt:
	gofmt -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')

clean:
	rm -rf bin stampede-results
