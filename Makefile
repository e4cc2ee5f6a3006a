# Targets a newcomer needs: `make demo` and `make test`. Both install what they
# need first (Debian packages via scripts/deps.sh, Go modules).
GO ?= go
BIN := bin/tell

.PHONY: all build deps test lint demo screenshot builtin-model vet fmt clean bench bench-flow bench-landmarks bench-nn bench-video bench-au

all: build

deps:
	./scripts/deps.sh test

build:
	$(GO) build -o $(BIN) ./cmd/tell

test:
	./scripts/deps.sh test
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(MAKE) lint
	TELL_REQUIRE_MODELS=1 $(GO) test -count=1 -timeout 60m ./...

# demo: a 20 s synthetic 640x480 interview clip with five expressions (micro
# and macro) made from the public-domain astronaut portrait (MP4 only, no
# PNG frames), then analysed. It installs only the landmark model and ffmpeg.
demo:
	./scripts/deps.sh demo
	$(MAKE) build
	$(BIN) synth --out demo-out/synth --n 1 --seed 7 --long 20 --events 5 --fps 30 --size 640x480 --scale 1.25 --no-frames --quiet
	$(BIN) analyze demo-out/synth/clip000.mp4 --out demo-out/analysis --quiet --force
	@echo "open demo-out/analysis/report.html, or play the clip beside its curves: $(BIN) view demo-out/analysis (truth: demo-out/synth/manifest.csv, frame numbers as in frames.csv)"

# screenshot: the README's pictures of the demo report and of a still image's
# report (docs/report.png, docs/report-still.png), rendered by headless Chromium.
CHROMIUM = chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --hide-scrollbars
screenshot: demo
	./scripts/deps.sh screenshot
	$(BIN) analyze portrait/astronaut.png --out demo-out/still --quiet --force
	$(CHROMIUM) --user-data-dir=$$(mktemp -d) --window-size=1200,1700 \
		--screenshot=$$PWD/docs/report.png file://$$PWD/demo-out/analysis/report.html
	$(CHROMIUM) --user-data-dir=$$(mktemp -d) --window-size=1200,1000 \
		--screenshot=$$PWD/docs/report-still.png file://$$PWD/demo-out/still/report.html

# builtin-model: reproduces analyze/builtin_model.safetensors (MER-CLIP trained
# by tell on synthetic clips only; no research data).
builtin-model: build
	$(BIN) synth --out build/model-synth --n 210 --seed 9001 --kind micro --fps 30 --size 96x96 --scale 0.89 --no-mp4 --subjects 5
	echo '{"model": "merclip", "input": {"align": false}}' > build/merclip.json
	$(BIN) train --manifest build/model-synth/manifest.csv --protocol holdout --out build/model-run --bootstrap 0 --config build/merclip.json
	cp build/model-run/model.safetensors analyze/builtin_model.safetensors

# bench: the commands behind docs/measured.md's component figures (scripts/bench.sh
# says what each part runs and which Debian package its peer needs).
bench: build
	./scripts/bench.sh all
bench-flow bench-landmarks bench-nn bench-video bench-au: build
	./scripts/bench.sh $(@:bench-%=%)

vet:
	$(GO) vet ./...

# lint: staticcheck at the version go.mod pins (its tool directive), so
# every machine runs the same checks.
lint:
	$(GO) tool staticcheck ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo-out build
