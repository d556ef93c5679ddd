#ifndef KVM__SECCOMP_H
#define KVM__SECCOMP_H

/*
 * Seccomp: every thread of a running VM is confined to the syscalls of its
 * role by a seccomp-BPF allow-list; anything else stops the process
 * (SECCOMP_RET_TRAP into a handler that restores the terminal, names the
 * syscall and dies of SIGSYS; a foreign ABI is SECCOMP_RET_KILL_PROCESS
 * outright). The lists are in util/seccomp-rules.c, the
 * BPF builder and the thread plumbing in util/seccomp.c.
 *
 * Filters are per thread and inherited by the threads a thread creates, and
 * a thread can only ever add filters (all of them must allow a syscall). So
 * every lkvm thread is created through seccomp__thread_create(), which
 * makes the new thread install its own role's filter before it runs any
 * lkvm code, and waits until it has:
 *   - a creator without a filter yet (the main thread during setup) creates
 *     the thread itself;
 *   - a confined creator (a vCPU turning a device on, an I/O thread) asks
 *     the spawner, a thread started before any filter whose own filter is
 *     the I/O list plus thread creation; an I/O thread it creates ends up
 *     with exactly the I/O list. vCPU and I/O filters do not allow clone.
 * The main thread takes its filter last, once the vCPUs run, after
 * checking that every other thread has one.
 */
#include <pthread.h>

#include "kvm/util.h"

struct kvm_config;

enum seccomp_role {
	SECCOMP_ROLE_NONE,
	SECCOMP_ROLE_MAIN,	/* event loop, console, control socket, teardown */
	SECCOMP_ROLE_VCPU,	/* KVM_RUN and the device models behind exits */
	SECCOMP_ROLE_IO,	/* virtio device threads: disk, network, 9p */
	SECCOMP_ROLE_SPAWNER,	/* creates I/O threads for confined threads */
	SECCOMP_NR_ROLES,
};

enum seccomp_mode {
	SECCOMP_ON,		/* the default: violations kill lkvm */
	SECCOMP_OFF,		/* --no-seccomp */
	SECCOMP_TRACE,		/* --debug-seccomp: report violations, let them run */
};

/*
 * One allow-list entry: syscall @nr, with at most one condition on the low
 * 32 bits of argument @arg (what the kernel looks at for every argument
 * checked here). Several entries may name the same syscall: any one that
 * matches allows it.
 */
enum seccomp_cond {
	SC_ANY,			/* no condition */
	SC_IN,			/* args[arg] is one of vals[] */
	SC_MASK_CLEAR,		/* (args[arg] & mask) == 0 */
	SC_MASK_SET,		/* (args[arg] & mask) == mask */
	SC_SELF_PID,		/* args[arg] is this process's pid */
};

struct seccomp_rule {
	int			nr;
	u8			cond;
	u8			arg;
	u8			nr_vals;
	s16			errno_ret;	/* >0: fail with this errno instead of allowing */
	u32			mask;
	const u32		*vals;
};

struct seccomp_list {
	const struct seccomp_rule	*rules;
	unsigned int			nr;
};

/* The tables (util/seccomp-rules.c): the lists that make up @role, NULL-terminated. */
const struct seccomp_list *const *seccomp__role_lists(enum seccomp_role role);
const char *seccomp__role_name(enum seccomp_role role);

/*
 * A classic BPF program for @lists: x86-64 only (anything else and x32
 * syscalls are killed), then the rules in order, then @deny. With @trap_ip,
 * syscalls made from that address (the instruction after it) are allowed
 * first: --debug-seccomp re-issues trapped syscalls from there. @pid is what
 * SC_SELF_PID compares with. 0 and *prog filled (free prog->filter), or -errno.
 */
struct sock_fprog;
int seccomp__build(const struct seccomp_list *const *lists, u32 deny, u64 trap_ip,
		   u32 pid, struct sock_fprog *prog);
/* How many different syscalls @lists allow (errno_ret entries do not count). */
int seccomp__count(const struct seccomp_list *const *lists);
/* PR_SET_NO_NEW_PRIVS, then install @prog on the calling thread: 0 or -errno. */
int seccomp__install(const struct sock_fprog *prog);

/*
 * Before the VM creates any thread: choose the mode (cfg->no_seccomp,
 * cfg->debug_seccomp), build the programs, start the spawner. Without it seccomp__thread_create() is pthread_create()
 * (unit tests). With cfg->nr_shares the file capabilities a root 9p server
 * needs (chown, DAC override, fowner, fsetid) are kept; all others go.
 */
int seccomp__setup(const struct kvm_config *cfg);
/* The calling thread takes @role's filter (and drops capabilities): 0 or -errno. */
int seccomp__enter(enum seccomp_role role);
/* The main thread, once every other thread runs: check them, confine itself. */
int seccomp__enter_main(void);
/* pthread_create() for a thread of @role, confined before @fn runs. */
int seccomp__thread_create(pthread_t *thread, enum seccomp_role role,
			   void *(*fn)(void *), void *arg);

#endif
