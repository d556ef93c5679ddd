#ifndef GUEST_INIT__INIT_H
#define GUEST_INIT__INIT_H

#include "sys.h"
#include "kvm/init-proto.h"

/* What lkvm asked for (INIT_CONF_PATH). */
struct init_conf {
	const char	*mode;
	const char	*console;
	const char	*io;
	const char	*root;
	bool		root_rw;
	const char	*workdir;
	const char	*workdir_tag;
	const char	*cwd;
	const char	*hostname;
	const char	*ip;
	const char	*gateway;
	const char	*dns;
	int		rows, cols;
	const char	*argv[INIT_MAX_ARGS + 1];
	int		argc;
	const char	*envp[INIT_MAX_ENV + 2];
	int		envc;
	const char	*modules[INIT_MAX_MODULES];	/* in load order */
	int		nr_modules;
};

/* init.c: messages go to the console, framed once the relay runs. */
void msg(const char *fmt, ...);
void __attribute__((noreturn)) fatal(const char *fmt, ...);
extern int con_fd;
extern bool con_framed;

/* setup.c: the kernel's modules, the filesystems and the network. */
void load_modules(const struct init_conf *c);
/* Why a device may be missing, for a message: "" when lkvm gave modules. */
const char *driver_hint(const struct init_conf *c);
void setup_root(const struct init_conf *c);
void setup_net(const struct init_conf *c);

/* run.c: the shell or the command. */
int run_on_tty(const struct init_conf *c, const char *const *argv);
int run_framed(const struct init_conf *c);
void __attribute__((noreturn)) exec_command(const struct init_conf *c, const char *const *argv);
/* Raw mode: no echo, no line editing, no \n to \r\n, 8 bits through. */
void console_raw(int fd);

#endif
