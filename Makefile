# Thin wrapper over CMake: the README's two commands.
#   make run   - install missing packages, build, run configs/foraging-small.yaml
#   make test  - install missing packages, build, run the cpu and mpi test labels
BUILD      ?= build
CONFIG     ?= configs/foraging-small.yaml
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
LABELS     ?= cpu|mpi
MAKEFLAGS  += --no-print-directory

.PHONY: all setup configure build run test test-gpu clean

all: build

setup:
	@scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@mkdir -p out
	$(BUILD)/myriad run $(CONFIG)

test: build
	@cd $(BUILD) && ctest -L '$(LABELS)' --output-on-failure -j $(JOBS)

test-gpu: build
	@cd $(BUILD) && ctest -L gpu --output-on-failure

clean:
	rm -rf $(BUILD)
