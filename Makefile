# Makefile — native builds of the core, the CLI and the native tests.
# build.sh drives this; WASM is built by build.sh with emcc.
#
# Two flavours:
#   build/rel/   -O2, for the CLI and benchmarks. No -ffast-math: it changes
#                results (llm.c's GELU broke under -Ofast, llm.c #168).
#   build/asan/  -O1 with AddressSanitizer + UBSan, for every native test.
#   build/plain/ -O1 without sanitizers: the same tests for Valgrind's memcheck
#                (Valgrind cannot run ASan binaries).
#   build/fuzz/  clang only: libFuzzer targets (tests/fuzz/fuzz_*.c) over a core
#                built with ASan + UBSan and coverage (-fsanitize=fuzzer-no-link).

CC      ?= cc
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter
INC     := -Icore
REL_CFLAGS  := $(STD) $(WARN) $(INC) -O2 -g
ASAN_CFLAGS := $(STD) $(WARN) $(INC) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all
PLAIN_CFLAGS := $(STD) $(WARN) $(INC) -O1 -g
FUZZ_CC     ?= clang
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := $(STD) $(WARN) $(INC) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)

CORE_SRC := $(wildcard core/*.c core/*/*.c)
CORE_HDR := $(wildcard core/*.h core/*/*.h)
# object names of the current sources only, so a deleted or moved .c leaves no stale .o in the archive
CORE_OBJ_NAMES := $(notdir $(CORE_SRC:.c=.o))
TEST_SRC := $(wildcard tests/native/test_*.c)
TEST_BIN := $(patsubst tests/native/%.c,build/asan/%,$(TEST_SRC))
PLAIN_BIN := $(patsubst tests/native/%.c,build/plain/%,$(TEST_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

all: build/glassbox build/rel/libglassbox.a tests

tests: $(TEST_BIN)

build/rel/libglassbox.a: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p build/rel/obj
	@set -e; for f in $(CORE_SRC); do \
	  $(CC) $(REL_CFLAGS) -c $$f -o build/rel/obj/$$(basename $$f .c).o; done
	@rm -f $@ && ar rcs $@ $(addprefix build/rel/obj/,$(CORE_OBJ_NAMES))

build/asan/libglassbox.a: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p build/asan/obj
	@set -e; for f in $(CORE_SRC); do \
	  $(CC) $(ASAN_CFLAGS) -c $$f -o build/asan/obj/$$(basename $$f .c).o; done
	@rm -f $@ && ar rcs $@ $(addprefix build/asan/obj/,$(CORE_OBJ_NAMES))

build/plain/libglassbox.a: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p build/plain/obj
	@set -e; for f in $(CORE_SRC); do \
	  $(CC) $(PLAIN_CFLAGS) -c $$f -o build/plain/obj/$$(basename $$f .c).o; done
	@rm -f $@ && ar rcs $@ $(addprefix build/plain/obj/,$(CORE_OBJ_NAMES))

build/fuzz/libglassbox.a: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p build/fuzz/obj
	@set -e; for f in $(CORE_SRC); do \
	  $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $$f -o build/fuzz/obj/$$(basename $$f .c).o; done
	@rm -f $@ && ar rcs $@ $(addprefix build/fuzz/obj/,$(CORE_OBJ_NAMES))

build/glassbox: $(wildcard cli/*.c) $(wildcard cli/*.h) build/rel/libglassbox.a
	$(CC) $(REL_CFLAGS) -Icli $(wildcard cli/*.c) build/rel/libglassbox.a -lm -pthread -o $@

build/glassbox-asan: $(wildcard cli/*.c) $(wildcard cli/*.h) build/asan/libglassbox.a
	$(CC) $(ASAN_CFLAGS) -Icli $(wildcard cli/*.c) build/asan/libglassbox.a -lm -pthread -o $@

# The tests link the CLI's file reading and its thread pool (test_threads).
build/asan/test_%: tests/native/test_%.c $(wildcard tests/native/*.h) $(wildcard cli/fileio.* cli/pool.*) build/asan/libglassbox.a
	$(CC) $(ASAN_CFLAGS) -Icli -Itests/native $< cli/fileio.c cli/pool.c build/asan/libglassbox.a -lm -pthread -o $@

build/plain/test_%: tests/native/test_%.c $(wildcard tests/native/*.h) $(wildcard cli/fileio.* cli/pool.*) build/plain/libglassbox.a
	$(CC) $(PLAIN_CFLAGS) -Icli -Itests/native $< cli/fileio.c cli/pool.c build/plain/libglassbox.a -lm -pthread -o $@

# One libFuzzer binary per tests/fuzz/fuzz_*.c (tests/fuzz/run.sh runs them).
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) tests/native/synth.h build/fuzz/libglassbox.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-unused-function -fsanitize=fuzzer -Itests/native -Itests/fuzz $< build/fuzz/libglassbox.a -lm -o $@

# Writes the seed corpora (tests/fuzz/make_seeds.sh runs it).
build/fuzz/gen_seeds: tests/fuzz/gen_seeds.c $(wildcard tests/fuzz/*.h) tests/native/synth.h build/plain/libglassbox.a
	@mkdir -p build/fuzz
	$(CC) $(PLAIN_CFLAGS) -Wno-unused-function -Itests/native -Itests/fuzz $< build/plain/libglassbox.a -lm -o $@

plain: $(PLAIN_BIN)

fuzz: $(FUZZ_BIN) build/fuzz/gen_seeds

clean:
	rm -rf build

.PHONY: all tests plain fuzz clean
