# greenai — the two commands a fresh machine needs:  make demo   and   make test
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test test-asan demo bench test-fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DGREENAI_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -LE slow

# The demo needs only the greenai program, not the test and benchmark executables.
demo: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target greenai
	bash scripts/demo.sh $(BUILD)

bench: build
	bash bench/run.sh $(BUILD)

test-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREENAI_FUZZ=ON -DGREENAI_NATIVE=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_onnx_loader
	mkdir -p $(BUILD_FUZZ)/corpus && $(BUILD_FUZZ)/fuzz_onnx_loader -max_total_time=$${FUZZ_SECONDS:-180} $(BUILD_FUZZ)/corpus tests/fuzz/seeds

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
