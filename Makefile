# Thin wrapper over CMake.  `make run` and `make check` are the two commands
# the README promises; both install what is missing first.
# Debian's python3 has python3-pytest and python3-requests (a pyenv python3 may not).
PYTHON  ?= /usr/bin/python3
PROFILE ?= $(HOME)/.local/share/torrentd
ARGS    ?=
JOBS    ?= $(shell nproc)
# pytest-xdist workers for `make integration`: the tests mostly wait on
# daemons and sockets, so more workers than cores pays; TEST_WORKERS was
# measured on 2 cores (docs/design-notes.md). TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 6

.PHONY: all deps build run check unit integration asan fuzz fuzz-smoke fuzz-long bench clean

all: build

deps:
	@scripts/deps.sh

build/release/Makefile:
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null

build: build/release/Makefile
	cmake --build build/release -j$(JOBS)

run: deps build
	./build/release/torrentd --profile $(PROFILE) $(ARGS)

build/asan/Makefile:
	cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DTD_SANITIZE=ON >/dev/null

asan: build/asan/Makefile
	cmake --build build/asan -j$(JOBS)

unit: asan
	cd build/asan && ctest --output-on-failure -j$(JOBS)

integration: asan
	TORRENTD_BIN=$(CURDIR)/build/asan/torrentd scripts/netns-run.sh \
	  $(PYTHON) -m pytest -q -p no:cacheprovider \
	  $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadgroup) tests/integration

# The release build is compiled too, so `make run` cannot break unnoticed.
check: deps
	$(MAKE) build
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) integration

build/fuzz/Makefile:
	CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DTD_FUZZ=ON -DTD_SANITIZE=ON >/dev/null

fuzz: build/fuzz/Makefile
	cmake --build build/fuzz -j$(JOBS)

# Each fuzz target runs briefly on its seed corpus in `make check`.
fuzz-smoke: fuzz
	@for f in build/fuzz/fuzz_*; do [ -x "$$f" ] || continue; \
	  n=$$(basename $$f); c=fuzz/corpus/$${n#fuzz_}; w=build/fuzz/corpus-$$n; mkdir -p $$c $$w; \
	  echo "fuzz: $$n"; $$f -max_total_time=10 -timeout=5 -rss_limit_mb=1024 $$w $$c >/dev/null 2>build/fuzz/$$n.log || { tail -40 build/fuzz/$$n.log; exit 1; }; \
	done

# Every fuzz target for FUZZ_TIME seconds each, one at a time (nice 19):
# runs, execs/s, coverage, corpus growth and crashes per target
# (scripts/fuzz-long.sh; docs/reliability.md has the last figures).
FUZZ_TIME ?= 300
fuzz-long: fuzz
	scripts/fuzz-long.sh $(FUZZ_TIME)

bench: build
	bench/swarm

clean:
	rm -rf build
