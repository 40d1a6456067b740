#ifndef PF_FUZZ_HARNESS_H
#define PF_FUZZ_HARNESS_H
#include <stddef.h>
#include <stdint.h>
/*
 * One fuzz input: NUL-separated arguments after argv[0]. Parses them, plans for every ABI 0..12 in both
 * modes, and abort()s when an invariant breaks (the sanitizers catch the rest). Shared by the libFuzzer
 * entry point and the regression replay in `make test`.
 */
int pf_fuzz_one(const uint8_t *data, size_t size);
#endif
