# Targets a newcomer needs: `make demo` and `make test`. Both install what they
# need first (Debian packages via scripts/deps.sh, Go modules).
GO ?= go
BIN := bin/tell

.PHONY: all build deps test demo vet fmt clean

all: build

deps:
	./scripts/deps.sh

build:
	$(GO) build -o $(BIN) ./cmd/tell

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo-out
