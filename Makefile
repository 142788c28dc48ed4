# Budgie's entry points. `make setup` installs what is missing; `make test` is what CI runs.
SHELL := /bin/bash
APT_PACKAGES := containerd runc containernetworking-plugins busybox-static docker-registry skopeo \
	umoci iptables iproute2 haproxy wrk nginx-light curl gcc libc6-dev zip rsync
NODE_BIN := node_modules/.bin

.PHONY: setup deps build build-all proto proto-check test test-unit test-integration lint fmt demo images bench clean fuzz

setup: deps node_modules build

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

proto:
	$(NODE_BIN)/buf generate

# Regenerating must not change the committed generated code.
proto-check: proto
	@git diff --exit-code --stat -- src/gen || (echo "src/gen is stale: run 'make proto' and commit" && exit 1)

build: node_modules
	npm run build --silent

# Release packages into dist-packages/: make build-all TARGETS="linux/amd64 windows/amd64" (default all).
TARGETS ?=
build-all: deps node_modules
	./build-all.sh $(TARGETS)

lint: node_modules
	$(NODE_BIN)/buf lint
	npm run typecheck --silent
	npm run lint --silent

fmt:
	npm run fmt --silent

test: setup
	npm run test:unit --silent
	npm run test:integration --silent

test-unit:
	npm run test:unit --silent

# The parser fuzz properties of the unit suite, run long: FUZZ_SECONDS per parser (default 60),
# as many cases as fit. A counterexample is printed with its seed; make it a unit test case.
fuzz: node_modules
	FUZZ_RUNS=$${FUZZ_RUNS:-10000000} FUZZ_SECONDS=$${FUZZ_SECONDS:-60} $(NODE_BIN)/jest --selectProjects unit --testPathPattern test/unit/fuzz/

test-integration:
	npm run test:integration --silent

images: build
	node dist/tools/imagebuild/main.js bundles/images

demo: setup images
	./demo.sh

# One benchmark: make bench BENCH=proxy (or apps, images, containers); see bench/README.md.
BENCH ?= proxy
bench: setup
	$(NODE_BIN)/tsc -p tsconfig.bench.json
	node .tmp/bench-build/bench/$(BENCH).js

clean:
	rm -rf dist .tmp dist-packages
