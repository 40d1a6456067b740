#ifndef PF_INSTALL_H
#define PF_INSTALL_H
/* Copies /proc/self/exe to DIR/podfence-init (mode 0555) atomically. Returns 0 or -1 (message printed). */
int pf_install(const char *dir);
#endif
