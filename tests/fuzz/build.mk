# libFuzzer targets for the parsers (STYLE.md point 17), built with clang
# and -fsanitize=fuzzer,address,undefined apart from the gcc build: every
# object goes under build/fuzz/. Nothing else depends on them: neither
# `make` (all) nor `make test` builds or runs them.
#
#   make fuzz-build                  build the targets only
#   make fuzz [FUZZ_SECONDS=60]      build, then run each target for
#                                    FUZZ_SECONDS; fails on any crash
#   make fuzz FUZZ_TARGETS=fuzz_cli  run a subset
#
# tests/fuzz/fuzz_NAME.c is target fuzz_NAME; tests/fuzz/NAME.dict its
# dictionary; seeds come from tests/fuzz/corpus/NAME/ (committed, small
# text) and build/fuzz/seeds/NAME/ (generated: boot_load's are the
# stripped selftest guests). New inputs accumulate in
# build/fuzz/corpus/NAME/, crashes in build/fuzz/artifacts/NAME/, logs in
# build/fuzz/logs/NAME.log.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -O1 -g $(WARN) -MD -MP -Iinclude -Ivmm -Iipc -Idevices -Idevices/blk -Isandbox -D_GNU_SOURCE \
	$(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer -fuse-ld=lld

# The vmm modules the parsers need (boot_load: loaders, e820, MP table,
# page tables; cli_parse: cli_max_vcpus -> boot_mptable_max_cpus;
# policy: the seccomp profile parser and its symbol table).
FUZZ_VMM_SRCS := vmm/boot_x86_64.c vmm/loader_elf.c vmm/loader_bzimage_x86_64.c \
	vmm/mptable_x86_64.c vmm/memory.c vmm/err.c vmm/cli.c vmm/cli_virtio.c \
	sandbox/policy.c sandbox/policy_syms.c sandbox/forbidden.c \
	$(wildcard ipc/*.c) $(wildcard devices/*.c) \
	$(filter-out %/main.c,$(wildcard devices/blk/*.c))
FUZZ_VMM_OBJS := $(FUZZ_VMM_SRCS:%.c=$(FUZZ_DIR)/%.o)

FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_TARGETS ?= $(notdir $(FUZZ_BINS))

FUZZ_BOOT_SEEDS := $(FUZZ_DIR)/seeds/boot_load/.stamp

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_VMM_OBJS): $(FUZZ_DIR)/%.o: %.c | deps-fuzz
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BINS:%=%.o): $(FUZZ_DIR)/%.o: tests/fuzz/%.c | deps-fuzz
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BINS): %: %.o $(FUZZ_VMM_OBJS)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^

# boot_load seeds: each selftest guest in its three packagings (ELF
# stripped to keep the seeds a few KiB), plus two with an initramfs
# appended after the harness's "#INITRD#" separator.
$(FUZZ_BOOT_SEEDS): $(GUEST_TARGETS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  SEEDS   $(@D)")
	$(Q)for g in $(GUEST_TARGETS); do \
	  case $$g in \
	  *.elf) strip -o $(@D)/$$(basename $$g) $$g ;; \
	  *) cp $$g $(@D)/ ;; \
	  esac; \
	done
	$(Q)printf '#INITRD#070701fake-cpio' | cat $(@D)/hello-pvh.elf - > $(@D)/initrd-pvh
	$(Q)printf '#INITRD#070701fake-cpio' | cat $(@D)/hello.bzImage - > $(@D)/initrd-bz
	@touch $@

.PHONY: fuzz-seeds
fuzz-seeds: $(FUZZ_BOOT_SEEDS)

# Runs every target in FUZZ_TARGETS, even after one fails; then fails if
# any crashed, leaked, timed out or broke a contract check.
fuzz: fuzz-build fuzz-seeds
	$(Q)fail=0; for t in $(FUZZ_TARGETS); do \
	  tests/fuzz/run.sh $(FUZZ_DIR) $$t $(FUZZ_SECONDS) || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo "fuzz: FAILED (inputs under $(FUZZ_DIR)/artifacts/)"; exit 1; fi; \
	echo "fuzz: no crash in $(FUZZ_TARGETS)"
