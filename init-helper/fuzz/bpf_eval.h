/*
 * A classic-BPF evaluator for the few instructions pf_seclog_program emits, as the kernel would run them on a
 * seccomp_data of (nr, arch). Test code: returns 0xffffffff for anything the kernel's checker would refuse
 * (unknown opcode, load outside nr/arch, jump past the end, falling off the end).
 */
#ifndef PF_BPF_EVAL_H
#define PF_BPF_EVAL_H
#include <stddef.h>
#include <stdint.h>

#include "../src/seclog.h"

#define PF_BPF_BAD 0xffffffffU

static inline uint32_t pf_bpf_eval(const struct pf_bpf_insn *p, size_t n, uint32_t arch, uint32_t nr)
{
	uint32_t a = 0;
	size_t pc = 0;
	while (pc < n) {
		const struct pf_bpf_insn *i = &p[pc];
		int jump = -1;
		switch (i->code) {
		case PF_BPF_LD_W_ABS:
			if (i->k == 0)
				a = nr;
			else if (i->k == 4)
				a = arch;
			else
				return PF_BPF_BAD;
			pc++;
			continue;
		case PF_BPF_RET_K:
			return i->k;
		case PF_BPF_JEQ_K:
			jump = a == i->k;
			break;
		case PF_BPF_JGT_K:
			jump = a > i->k;
			break;
		case PF_BPF_JGE_K:
			jump = a >= i->k;
			break;
		case PF_BPF_JSET_K:
			jump = (a & i->k) != 0;
			break;
		default:
			return PF_BPF_BAD;
		}
		pc += 1 + (size_t)(jump ? i->jt : i->jf);
	}
	return PF_BPF_BAD;
}
#endif
