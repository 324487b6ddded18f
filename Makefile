# vmm-reference: a multi-process, privilege-separated KVM VMM.
#
#   make            build build/vmm-reference and the selftest guests
#   make test       cmocka unit tests, then pytest integration tests
#   make run        the main job: boot the default guest (see README)
#   make guest      Linux guest artifacts into build/guest/
#   make bench      benchmarks; figures into docs/PERFORMANCE.md
#   make seccomp-report  what each seccomp profile allows (PROFILES_DIR=DIR
#                   compiles the profiles in DIR instead of seccomp-profiles/)
#
# WERROR=0 relaxes -Werror; V=1 shows commands. Missing Debian packages are
# installed by scripts/deps.sh (as root) when a target needs them.

BUILD   ?= build
CC      ?= cc
WERROR  ?= 1
V       ?= 0
PYTHON  ?= /usr/bin/python3

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN    := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -MD -MP -Iinclude -Iipc -Idevices -Isandbox -D_GNU_SOURCE
LDFLAGS ?=

DEPS := scripts/deps.sh

.PHONY: all test unit integration run guest bench fuzz clean deps \
	deps-build deps-sandbox deps-test deps-fuzz seccomp-report
all:

# Order-only prerequisites of every compile rule, so that any target, typed
# first on a fresh machine, installs the packages it compiles with.
deps-build:
	$(Q)$(DEPS) build
deps-sandbox:
	$(Q)$(DEPS) sandbox
deps-test:
	$(Q)$(DEPS) test
deps-fuzz:
	$(Q)$(DEPS) fuzz

include ipc/build.mk
include sandbox/build.mk
include vmm/build.mk
include devices/build.mk
include tests/driver/build.mk
include tests/guests/build.mk
include tests/unit/build.mk
include guest/build.mk
include bench/build.mk
include tests/fuzz/build.mk

all: $(ALL_TARGETS)

# Unit tests first, then the Linux guest artifacts (a real Linux virtio-blk
# driver runs against vmm-blk under QEMU TCG; cached after the first build),
# then integration; any failing fails `make test`.
test: all | deps-test
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory guest
	$(Q)$(MAKE) --no-print-directory integration

# KVM_IN_TCG=1 (what .ci/run sets on a host without /dev/kvm): the tests that
# need no KVM run here, the `kvm`-marked ones inside scripts/kvm-in-tcg.sh (a
# QEMU TCG guest whose emulated SVM gives a real /dev/kvm), so none skips.
# Both halves always run; either failing fails the target.
KVM_IN_TCG ?= 0
# A test host whose nested guests never run is replaced (kvm-in-tcg.sh):
# this must boot the hello selftest guest first.
KVMTCG_PROBE := timeout 60 $(BUILD)/vmm-reference --kernel path=$(BUILD)/guests/hello-pvh.elf </dev/null >/dev/null 2>&1
PYTEST := $(PYTHON) -u -m pytest -ra
integration: all | deps-test
ifeq ($(KVM_IN_TCG),1)
	$(Q)rc=0; \
	(cd tests/integration && $(PYTEST) -m "not kvm" $(PYTEST_ARGS)) || rc=1; \
	KVMTCG_PROBE='$(KVMTCG_PROBE)' \
	scripts/kvm-in-tcg.sh 'cd tests/integration && $(PYTEST) -m kvm $(PYTEST_ARGS)' || rc=1; \
	exit $$rc
else
	$(Q)cd tests/integration && $(PYTEST) $(PYTEST_ARGS)
endif

run: all
	$(Q)scripts/run.sh

deps:
	$(Q)$(DEPS) all

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
