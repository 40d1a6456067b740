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

#endif
