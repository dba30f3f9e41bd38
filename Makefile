# medkd — the two commands of the quick start:
#   make demo        installs dependencies if missing, builds, runs the demo on built-in data
#                    (about 15 min on two cores after the build)
#   make test        installs dependencies if missing, builds, runs the whole test suite
#   make demo-full   the longer, step-by-step PET/CT demo (about 38 min per dataset)
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build test demo demo-full install clean format

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD_DIR)/bin/medkd demo-output

demo-full: build
	bash scripts/demo_petct.sh $(BUILD_DIR)/bin/medkd demo-full-output

install: build
	cmake --install $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR)
