/* The system-call edge: what the kernel offers, and applying a plan to this process. */
#ifndef PF_SANDBOX_H
#define PF_SANDBOX_H

#include "opts.h"
#include "policy.h"

struct pf_kernel {
	int abi;    /* 0 when Landlock cannot be used */
	int err;    /* errno of the version query when abi == 0 */
	int errata; /* -1 when the kernel does not answer the errata query */
};

/* want_errata: also ask for the errata bitmask (the probe only; one syscall less on the start-up path). */
void pf_probe_kernel(struct pf_kernel *k, int want_errata);

/* Short machine name for the probe's JSON: available, unsupported, disabled, blocked-by-seccomp, error. */
const char *pf_status_name(const struct pf_kernel *k);

/* One human sentence on why Landlock is unavailable (k->abi == 0). */
const char *pf_unavailable_reason(const struct pf_kernel *k);

/*
 * Builds the ruleset, adds every rule, sets no_new_privs and restricts this process.
 * Prints its own errors (naming option, path and errno text); returns 0 or -1.
 */
int pf_apply(const struct pf_opts *o, const struct pf_plan *p);

/*
 * The path rules alone (pf_apply's first step): resolves every path from root_path ("/" in the wrapper; the path
 * fuzzer's tree otherwise), judges it and adds what it grants to `ruleset`. Returns 0, or -1 when the sandbox must
 * not be applied.
 */
int pf_add_path_rules(int ruleset, const struct pf_opts *o, const struct pf_plan *p, const char *root_path);

#ifdef PF_FUZZ_GRANTS
/* Built into the path fuzzer only: told of every rule just before it is added (fuzz/walk_harness.c). */
struct pf_object;
void pf_fuzz_granted(const struct pf_path_rule *r, const struct pf_object *obj, uint64_t rights);
#endif

#endif
