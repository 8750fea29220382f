# Makefile — native builds of the core, the CLI and the native tests.
# build.sh drives this; WASM is built by build.sh with emcc.
#
# Two flavours:
#   build/rel/   -O2, for the CLI and benchmarks. No -ffast-math: it changes
#                results (llm.c's GELU broke under -Ofast, llm.c #168).
#   build/asan/  -O1 with AddressSanitizer + UBSan, for every native test.

CC      ?= cc
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter
INC     := -Icore
REL_CFLAGS  := $(STD) $(WARN) $(INC) -O2 -g
ASAN_CFLAGS := $(STD) $(WARN) $(INC) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all

CORE_SRC := $(wildcard core/*.c)
CORE_HDR := $(wildcard core/*.h)
TEST_SRC := $(wildcard tests/native/test_*.c)
TEST_BIN := $(patsubst tests/native/%.c,build/asan/%,$(TEST_SRC))

all: build/glassbox build/rel/libglassbox.a tests

tests: $(TEST_BIN)

build/rel/libglassbox.a: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p build/rel/obj
	@set -e; for f in $(CORE_SRC); do \
	  $(CC) $(REL_CFLAGS) -c $$f -o build/rel/obj/$$(basename $$f .c).o; done
	@rm -f $@ && ar rcs $@ build/rel/obj/*.o

build/asan/libglassbox.a: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p build/asan/obj
	@set -e; for f in $(CORE_SRC); do \
	  $(CC) $(ASAN_CFLAGS) -c $$f -o build/asan/obj/$$(basename $$f .c).o; done
	@rm -f $@ && ar rcs $@ build/asan/obj/*.o

build/glassbox: $(wildcard cli/*.c) $(wildcard cli/*.h) build/rel/libglassbox.a
	$(CC) $(REL_CFLAGS) -Icli $(wildcard cli/*.c) build/rel/libglassbox.a -lm -o $@

build/glassbox-asan: $(wildcard cli/*.c) $(wildcard cli/*.h) build/asan/libglassbox.a
	$(CC) $(ASAN_CFLAGS) -Icli $(wildcard cli/*.c) build/asan/libglassbox.a -lm -o $@

build/asan/test_%: tests/native/test_%.c tests/native/check.h $(wildcard cli/fileio.*) build/asan/libglassbox.a
	$(CC) $(ASAN_CFLAGS) -Icli -Itests/native $< cli/fileio.c build/asan/libglassbox.a -lm -o $@

clean:
	rm -rf build

.PHONY: all tests clean
