# Targets a newcomer needs: `make demo` and `make test`. Both install what they
# need first (Debian packages via scripts/deps.sh, Go modules).
GO ?= go
BIN := bin/tell

.PHONY: all build deps test demo screenshot builtin-model vet fmt clean

all: build

deps:
	./scripts/deps.sh

build:
	$(GO) build -o $(BIN) ./cmd/tell

test: deps
	$(GO) mod tidy -diff
	$(GO) vet ./...
	TELL_REQUIRE_MODELS=1 $(GO) test -count=1 -timeout 60m ./...

# demo: a 20 s synthetic 640x480 interview clip with five expressions (micro
# and macro) made from the public-domain astronaut portrait, then analysed.
demo: deps build
	$(BIN) synth --out demo-out/synth --n 1 --seed 7 --long 20 --events 5 --fps 30 --size 640x480 --scale 1.25
	$(BIN) analyze demo-out/synth/clip000.mp4 --out demo-out/analysis
	@echo "open demo-out/analysis/report.html"

# screenshot: the README's picture of the demo report (headless Chromium).
screenshot:
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--user-data-dir=$$(mktemp -d) --hide-scrollbars --window-size=1200,1600 \
		--screenshot=docs/report.png file://$$PWD/demo-out/analysis/report.html

# builtin-model: reproduces analyze/builtin_model.safetensors (MER-CLIP trained
# by tell on synthetic clips only; no research data).
builtin-model: build
	$(BIN) synth --out build/model-synth --n 210 --seed 9001 --kind micro --fps 30 --size 96x96 --scale 0.89 --no-mp4 --subjects 5
	$(BIN) train --manifest build/model-synth/manifest.csv --protocol holdout --out build/model-run --bootstrap 0
	cp build/model-run/model.safetensors analyze/builtin_model.safetensors

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo-out build
