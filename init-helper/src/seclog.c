#include "seclog.h"
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Decimal digits at *p up to a non-digit, 0..max, at most 10 digits; advances *p. */
static int number(const char **p, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = 0;
	while (**p >= '0' && **p <= '9') {
		if (++n > 10)
			return -1;
		v = v * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	if (n == 0 || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static const char *const known_arches[] = {"x86_64", "aarch64"};
#define N_ARCHES (sizeof(known_arches) / sizeof(known_arches[0]))

int pf_seclog_parse(const char *value, const char *arch, struct pf_seclog *out, char *err, size_t errlen)
{
	const char *p = value;
	uint32_t e;
	int seen[N_ARCHES] = {0};

	out->set = 1;
	out->has_arch = 0;
	out->n = 0;
	if (number(&p, 4095, &e) != 0 || e == 0 || *p != ':')
		return pf_fail(err, errlen, "--seccomp-log: '%.32s' does not start with an errno 1-4095 and ':'", value);
	out->err = (uint16_t)e;
	while (*p == ':') {
		size_t k, len, n = 0;
		uint32_t prev_hi = 0;
		int keep;
		p++;
		len = strcspn(p, "=");
		for (k = 0; k < N_ARCHES; k++)
			if (strlen(known_arches[k]) == len && strncmp(p, known_arches[k], len) == 0)
				break;
		if (k == N_ARCHES || p[len] != '=')
			return pf_fail(err, errlen, "--seccomp-log: '%.16s' is not x86_64= or aarch64=", p);
		if (seen[k]++)
			return pf_fail(err, errlen, "--seccomp-log: %s given twice", known_arches[k]);
		keep = strcmp(known_arches[k], arch) == 0;
		p += len + 1;
		/* RANGES: a or a-b, comma-separated, ascending, not overlapping, at least one. */
		for (;;) {
			uint32_t lo, hi;
			if (number(&p, UINT32_MAX, &lo) != 0)
				return pf_fail(err, errlen, "--seccomp-log %s: a syscall number 0-4294967295 expected at '%.16s'",
					    known_arches[k], p);
			hi = lo;
			if (*p == '-') {
				p++;
				if (number(&p, UINT32_MAX, &hi) != 0 || hi < lo)
					return pf_fail(err, errlen, "--seccomp-log %s: bad range end at '%.16s'", known_arches[k],
						    p);
			}
			if (n > 0 && lo <= prev_hi)
				return pf_fail(err, errlen, "--seccomp-log %s: ranges not ascending at %u", known_arches[k], lo);
			if (n >= PF_SECLOG_MAX_RANGES)
				return pf_fail(err, errlen, "--seccomp-log %s: more than %d ranges", known_arches[k],
					    PF_SECLOG_MAX_RANGES);
			if (keep) {
				out->ranges[n].lo = lo;
				out->ranges[n].hi = hi;
			}
			n++;
			prev_hi = hi;
			if (*p != ',')
				break;
			p++;
		}
		if (*p != '\0' && *p != ':')
			return pf_fail(err, errlen, "--seccomp-log %s: unexpected '%.16s'", known_arches[k], p);
		if (keep) {
			out->has_arch = 1;
			out->n = n;
		}
	}
	if (*p != '\0')
		return pf_fail(err, errlen, "--seccomp-log: unexpected '%.16s'", p);
	return 0;
}

static struct pf_bpf_insn insn(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	struct pf_bpf_insn i = {code, jt, jf, k};
	return i;
}

size_t pf_seclog_program(const struct pf_seclog *s, uint32_t audit_arch, struct pf_bpf_insn *out, size_t cap)
{
	const uint32_t refuse = PF_SECCOMP_RET_ERRNO | s->err;
	size_t n = 0, i;
	size_t need = 3 + (audit_arch == PF_AUDIT_ARCH_X86_64 ? 2 : 0) + 4 * s->n + 1;
	if (!s->set || !s->has_arch || need > cap || need > PF_SECLOG_MAX_INSNS)
		return 0;
	/* Another architecture (32-bit compat calls): the runtime's filter alone decides. */
	out[n++] = insn(PF_BPF_LD_W_ABS, 0, 0, 4); /* seccomp_data.arch */
	out[n++] = insn(PF_BPF_JEQ_K, 1, 0, audit_arch);
	out[n++] = insn(PF_BPF_RET_K, 0, 0, PF_SECCOMP_RET_ALLOW);
	out[n++] = insn(PF_BPF_LD_W_ABS, 0, 0, 0); /* seccomp_data.nr */
	if (audit_arch == PF_AUDIT_ARCH_X86_64) {
		/* x32 calls share the arch value and set this bit: not ours either. */
		out[n++] = insn(PF_BPF_JSET_K, 0, 1, PF_X32_SYSCALL_BIT);
		out[n++] = insn(PF_BPF_RET_K, 0, 0, PF_SECCOMP_RET_ALLOW);
	}
	/* Ranges in ascending order, every jump short (offsets stay below 256 however many ranges there are). */
	for (i = 0; i < s->n; i++) {
		out[n++] = insn(PF_BPF_JGE_K, 1, 0, s->ranges[i].lo);
		out[n++] = insn(PF_BPF_RET_K, 0, 0, refuse); /* between the previous range and this one */
		out[n++] = insn(PF_BPF_JGT_K, 1, 0, s->ranges[i].hi);
		out[n++] = insn(PF_BPF_RET_K, 0, 0, PF_SECCOMP_RET_ALLOW);
	}
	out[n++] = insn(PF_BPF_RET_K, 0, 0, refuse);
	return n;
}

#define PF_SECCOMP_SET_MODE_FILTER 1
#define PF_SECCOMP_FILTER_FLAG_LOG 2UL

void pf_seclog_install(const struct pf_seclog *s)
{
	static struct pf_bpf_insn prog[PF_SECLOG_MAX_INSNS];
	struct {
		unsigned short len;
		struct pf_bpf_insn *filter;
	} fprog;
	size_t n;
	int e;

	if (!s->set)
		return;
	n = pf_seclog_program(s, PF_NATIVE_AUDIT_ARCH, prog, PF_SECLOG_MAX_INSNS);
	if (n == 0) {
		fprintf(stderr, "podfence-init: --seccomp-log has no entry for %s; seccomp refusals are not logged\n",
			PF_NATIVE_ARCH);
		return;
	}
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	if (syscall(SYS_seccomp, PF_SECCOMP_SET_MODE_FILTER, PF_SECCOMP_FILTER_FLAG_LOG, &fprog) != 0) {
		e = errno;
		fprintf(stderr, "podfence-init: cannot install the logging seccomp filter (%s); seccomp refusals are not "
				"logged\n", strerror(e));
	}
}
