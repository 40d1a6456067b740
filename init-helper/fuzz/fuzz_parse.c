/* libFuzzer entry point for the option parser (see fuzz/run.sh). */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pf_fuzz_one(data, size);
}
