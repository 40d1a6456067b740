/*
 * Replays path-fuzzer inputs (files, or directories of them) through the same harness under ASan+UBSan, for
 * `make test`: a fixed set, so the run does not depend on the machine's speed. Prints "PASS walk: NAME" per file;
 * a broken invariant aborts (the harness names it).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "walk_harness.h"

static int one(const char *path)
{
	static uint8_t buf[1 << 20];
	size_t n;
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("FAIL walk: %s: cannot open\n", path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	pf_walk_fuzz_one(buf, n);
	printf("PASS walk: %s\n", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	int i, bad = 0;
	pf_walk_fuzz_init();
	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			struct dirent **list;
			int k, n = scandir(argv[i], &list, NULL, alphasort);
			for (k = 0; k < n; k++) {
				char p[4096];
				if (list[k]->d_name[0] != '.') {
					snprintf(p, sizeof(p), "%s/%s", argv[i], list[k]->d_name);
					bad |= one(p);
				}
				free(list[k]);
			}
			free(n >= 0 ? list : NULL);
		} else {
			bad |= one(argv[i]);
		}
	}
	return bad;
}
