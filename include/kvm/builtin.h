#ifndef KVM__BUILTIN_H
#define KVM__BUILTIN_H

/* A subcommand: one file in builtin/ declares itself with builtin(). */
struct builtin {
	const char	*name;
	const char	*summary;
	int		(*fn)(int argc, const char **argv);
	int		order;		/* position in 'lkvm help' */
};

#define builtin(cmd, func, text, ord)						\
	static const struct builtin __builtin_##func				\
	__attribute__((used, section("lkvm_builtins"), aligned(8))) = {		\
		.name = cmd, .summary = text, .fn = func, .order = ord,		\
	}

const struct builtin *builtin__find(const char *name);
void builtin__list(int fd);

#endif
