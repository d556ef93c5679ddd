/* lkvm list: the running guests, as a table or JSON. */
#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/parse-options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct list_ctx {
	bool	json;
	int	count;
};

/* Value of "key=" in a reply of key=value lines, copied into @buf. */
static const char *list__field(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, "\n");

			n = n < len - 1 ? n : len - 1;
			memcpy(buf, v, n);
			buf[n] = 0;
			return buf;
		}
	}
	buf[0] = 0;
	return buf;
}

static void list__json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void list__print(struct list_ctx *ctx, const char *info)
{
	char name[80], pid[16], state[16], cpus[16], mem[24], up[24], kernel[512];
	unsigned long long ms;

	list__field(info, "name", name, sizeof(name));
	list__field(info, "pid", pid, sizeof(pid));
	list__field(info, "state", state, sizeof(state));
	list__field(info, "cpus", cpus, sizeof(cpus));
	list__field(info, "mem_mib", mem, sizeof(mem));
	list__field(info, "uptime_ms", up, sizeof(up));
	list__field(info, "kernel", kernel, sizeof(kernel));
	ms = strtoull(up, NULL, 10);
	if (ctx->json) {
		printf("%s{\"name\":", ctx->count ? "," : "");
		list__json_string(name);
		printf(",\"pid\":%ld,\"state\":", strtol(pid, NULL, 10));
		list__json_string(state);
		printf(",\"cpus\":%ld,\"mem_mib\":%llu,\"uptime_ms\":%llu,\"kernel\":",
		       strtol(cpus, NULL, 10), strtoull(mem, NULL, 10), ms);
		list__json_string(kernel);
		putchar('}');
	} else {
		printf("%-20s %8s %-8s %4s %8s %10llu.%llus  %s\n", name, pid, state, cpus,
		       mem, ms / 1000, ms / 100 % 10, kernel);
	}
	ctx->count++;
}

static int list__one(const char *name, void *opaque)
{
	struct list_ctx *ctx = opaque;
	char *out = malloc(CTL_MAX_PAYLOAD + 1);
	s32 status = -1;
	int fd = ctl__connect(name);

	if (fd >= 0 && out && !ctl__request(fd, CTL_INFO, NULL, 0, out, CTL_MAX_PAYLOAD + 1,
					    &status) && !status)
		list__print(ctx, out);
	if (fd >= 0)
		close(fd);
	free(out);
	return 0;	/* a guest that went away meanwhile is simply not listed */
}

static int cmd_list(int argc, const char **argv)
{
	struct list_ctx ctx = { 0 };
	const struct option opts[] = {
		OPT__BOOL(0, "json", &ctx.json, "print JSON"),
		OPT__END(),
	};
	int n = parse_options_noargs(argc, argv, opts, "lkvm list [--json]");

	if (n >= 0)
		return n;
	if (ctx.json)
		putchar('[');
	else
		printf("%-20s %8s %-8s %4s %8s %12s  %s\n", "NAME", "PID", "STATE", "CPUS",
		       "MEM(MiB)", "UPTIME", "KERNEL");
	ctl__for_each(list__one, &ctx);
	if (ctx.json)
		printf("]\n");
	return 0;
}

builtin("list", cmd_list, "List the running guests", 2);
