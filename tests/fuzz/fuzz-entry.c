/*
 * tests/fuzz/fuzz-entry.c: libFuzzer's entry point, the same for every
 * target. `make fuzz-build` compiles it next to one fuzz-*.c with
 * FUZZ_ENTRY naming that target's function (see fuzz.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

#ifndef FUZZ_ENTRY
#error "FUZZ_ENTRY must name the target's fuzz_*_one function"
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return FUZZ_ENTRY(data, size);
}
