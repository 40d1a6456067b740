#ifndef PF_WALK_HARNESS_H
#define PF_WALK_HARNESS_H
#include <stddef.h>
#include <stdint.h>
/*
 * The path fuzzer (fuzz/walk_harness.c): a hostile directory tree (symlinks, '..', long names, loops, mount roots,
 * bind mounts, proc) in a private mount namespace, and inputs that plant more symlinks and links in it and then
 * name paths and profile rules. pf_walk_fuzz_init builds the tree once (root, or a user namespace); it returns 0,
 * or -1 with a message when the tree cannot be built. pf_walk_fuzz_one abort()s when an invariant breaks.
 */
int pf_walk_fuzz_init(void);
int pf_walk_fuzz_one(const uint8_t *data, size_t size);
#endif
