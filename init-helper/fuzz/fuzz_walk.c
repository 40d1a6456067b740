/* libFuzzer entry point for the path walker and the rules' judging (see fuzz/walk_harness.c, fuzz/run.sh). */
#include "walk_harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return pf_walk_fuzz_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pf_walk_fuzz_one(data, size);
}
