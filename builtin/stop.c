/* lkvm stop: power a guest off (ACPI power button, then force), or force it now. */
#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/kvm.h"
#include "kvm/parse-options.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_GRACE_S		10

struct stop_ctx {
	bool	force;
	u64	grace_s;
	int	forced;
};

/* Wait for the guest's CTL_STOPPED; true if it had to be forced. */
static int stop__wait(int fd, struct stop_ctx *ctx, const char *name)
{
	u8 *buf = malloc(sizeof(struct ctl_hdr) + CTL_MAX_PAYLOAD);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct ctl_hdr hdr;
	const u8 *payload;
	const char *why;
	ssize_t n;
	int ret = 1;

	if (!buf)
		return 1;
	/* The VM forces itself after the grace period; allow for that and teardown. */
	if (poll(&p, 1, (ctx->grace_s + 30) * 1000) <= 0) {
		fprintf(stderr, "lkvm: error: guest '%s' did not stop\n", name);
		goto out;
	}
	n = recv(fd, buf, sizeof(struct ctl_hdr) + CTL_MAX_PAYLOAD, 0);
	if (n <= 0 || ctl__parse(buf, n, &hdr, &payload, &why) ||
	    hdr.type != (CTL_STOPPED | CTL_REPLY) || hdr.len < sizeof(s32)) {
		/* The connection closed without a word: lkvm died, but it is gone. */
		ret = 0;
		goto out;
	}
	if (hdr.len - sizeof(s32) == 6 && !memcmp(payload + sizeof(s32), "forced", 6)) {
		ctx->forced++;
		printf("%s: forced off\n", name);
	} else {
		printf("%s: %.*s\n", name, (int)(hdr.len - sizeof(s32)), payload + sizeof(s32));
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

static int stop__one(const char *name, void *opaque)
{
	struct stop_ctx *ctx = opaque;
	struct ctl_stop req = { .force = ctx->force, .grace_ms = ctx->grace_s * 1000 };
	int fd = ctl__connect(name);
	s32 status = 0;
	int ret;

	if (fd < 0) {
		fprintf(stderr, "lkvm: error: no running guest named '%s'\n", name);
		return 1;
	}
	ret = ctl__request(fd, CTL_STOP, &req, sizeof(req), NULL, 0, &status);
	if (ret || status) {
		fprintf(stderr, "lkvm: error: cannot stop '%s': %s\n", name,
			strerror(-(ret ? ret : status)));
		close(fd);
		return 1;
	}
	ret = stop__wait(fd, ctx, name);
	close(fd);
	return ret;
}

static int cmd_stop(int argc, const char **argv)
{
	struct stop_ctx ctx = { .grace_s = DEFAULT_GRACE_S };
	struct ctl_target t = { 0 };
	const struct option opts[] = {
		OPT__STRING('n', "name", &t.name, "name", "the guest to stop"),
		OPT__BOOL('a', "all", &t.all, "stop every running guest"),
		OPT__BOOL('f', "force", &ctx.force, "stop now, without asking the guest"),
		OPT__U64(0, "grace", &ctx.grace_s, "seconds",
			 "how long the guest may take to power off (default 10)", 0, 3600),
		OPT__END(),
	};
	int n = parse_options_noargs(argc, argv, opts, "lkvm stop (--name <name> | --all) [--force] [--grace <s>]");
	int ret;

	if (n >= 0)
		return n;
	ret = ctl__for_targets(&t, "stop", stop__one, &ctx);
	if (ret)
		return 1;
	return ctx.forced ? KVM_EXIT_STATUS_FORCED : 0;
}

builtin("stop", cmd_stop, "Stop a running guest (orderly, or --force)", 3);
