/* The control protocol, both ends: message framing and the runtime directory. */
#include "kvm/control.h"
#include "kvm/parse-options.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int ctl__parse(const void *buf, size_t n, struct ctl_hdr *hdr, const u8 **payload,
	       const char **why)
{
	if (n < sizeof(*hdr)) {
		*why = "message shorter than its header";
		return -EINVAL;
	}
	memcpy(hdr, buf, sizeof(*hdr));
	if (hdr->magic != CTL_MAGIC) {
		*why = "bad magic";
		return -EINVAL;
	}
	if (hdr->version != CTL_VERSION) {
		*why = "unsupported protocol version";
		return -EPROTO;
	}
	if (hdr->len > CTL_MAX_PAYLOAD || hdr->len != n - sizeof(*hdr)) {
		*why = "length does not match the message";
		return -EINVAL;
	}
	if (!(hdr->type & ~CTL_REPLY) || (hdr->type & ~CTL_REPLY) >= CTL_TYPE_MAX) {
		*why = "unknown request type";
		return -EINVAL;
	}
	*payload = (const u8 *)buf + sizeof(*hdr);
	return 0;
}

size_t ctl__build(void *buf, u16 type, const void *payload, u32 len)
{
	struct ctl_hdr hdr = {
		.magic = CTL_MAGIC, .version = CTL_VERSION, .type = type, .len = len,
	};

	memcpy(buf, &hdr, sizeof(hdr));
	if (len)
		memcpy((u8 *)buf + sizeof(hdr), payload, len);
	return sizeof(hdr) + len;
}

bool ctl__valid_name(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > CTL_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

/* @path is a directory of ours that nobody else may write to (@private: or enter). */
static int ctl__check_dir(const char *path, bool private)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (private ? 077 : 022)))
		return -EPERM;
	return 0;
}

static int ctl__make_dir(const char *path, bool create, bool private)
{
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return ctl__check_dir(path, private);
}

/*
 * $XDG_RUNTIME_DIR/lkvm, else ~/.lkvm/run. Not ~/.lkvm itself: kvmtool keeps
 * its own sockets there and creates it with mode 0755.
 */
int ctl__runtime_dir(char *buf, size_t len, bool create)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *home = getenv("HOME");
	int ret;

	if (xdg && *xdg) {
		snprintf(buf, len, "%s/lkvm", xdg);
		return ctl__make_dir(buf, create, true);
	}
	if (!home || !*home)
		return -ENOENT;
	snprintf(buf, len, "%s/.lkvm", home);
	ret = ctl__make_dir(buf, create, false);
	if (ret)
		return ret;
	snprintf(buf, len, "%s/.lkvm/run", home);
	return ctl__make_dir(buf, create, true);
}

int ctl__connect(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[200];
	int fd, ret;

	if (!ctl__valid_name(name))
		return -EINVAL;
	ret = ctl__runtime_dir(dir, sizeof(dir), false);
	if (ret)
		return ret == -ENOENT ? -ENOENT : ret;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%.*s/%s.sock",
			     (int)sizeof(sa.sun_path) - CTL_NAME_MAX - 7, dir, name) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		/* A socket nobody listens on is a dead guest's. */
		return ret == -ECONNREFUSED ? -ENOENT : ret;
	}
	return fd;
}

int ctl__request(int fd, u16 type, const void *payload, u32 len, char *out, size_t outlen,
		 s32 *status)
{
	u8 *buf = malloc(sizeof(struct ctl_hdr) + CTL_MAX_PAYLOAD);
	struct ctl_hdr hdr;
	const u8 *p;
	const char *why;
	ssize_t n;
	int ret = -EPROTO;

	if (!buf)
		return -ENOMEM;
	n = ctl__build(buf, type, payload, len);
	if (send(fd, buf, n, MSG_NOSIGNAL) != n) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(struct ctl_hdr) + CTL_MAX_PAYLOAD, 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	if (ctl__parse(buf, n, &hdr, &p, &why) || hdr.type != (type | CTL_REPLY) ||
	    hdr.len < sizeof(s32))
		goto out;
	memcpy(status, p, sizeof(*status));
	if (out && outlen) {
		size_t m = min_t(size_t, hdr.len - sizeof(s32), outlen - 1);

		memcpy(out, p + sizeof(s32), m);
		out[m] = 0;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

int ctl__for_each(int (*fn)(const char *name, void *opaque), void *opaque)
{
	char dir[200], name[CTL_NAME_MAX + 8];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (ctl__runtime_dir(dir, sizeof(dir), false))
		return 0;	/* no directory: no guests */
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		int fd;

		if (n < 6 || n - 5 > CTL_NAME_MAX || strcmp(de->d_name + n - 5, ".sock"))
			continue;
		memcpy(name, de->d_name, n - 5);
		name[n - 5] = 0;
		fd = ctl__connect(name);
		if (fd == -ENOENT) {
			/* A dead guest's socket: clean it up. */
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (fd < 0)
			continue;
		close(fd);
		ret |= fn(name, opaque);
	}
	closedir(d);
	return ret;
}

int ctl__for_targets(const struct ctl_target *t, const char *cmd,
		     int (*fn)(const char *name, void *opaque), void *opaque)
{
	if (t->all == !!t->name) {
		fprintf(stderr, "lkvm: error: lkvm %s needs exactly one of --name <name> or --all\n", cmd);
		return 1;
	}
	if (t->all)
		return ctl__for_each(fn, opaque);
	return fn(t->name, opaque);
}

int ctl__simple(const char *name, u16 type, const void *payload, u32 len, bool print)
{
	char *out = malloc(CTL_MAX_PAYLOAD + 1);
	int fd = ctl__connect(name);
	s32 status = 0;
	int ret;

	if (!out)
		return 1;
	if (fd < 0) {
		if (fd == -ENOENT)
			fprintf(stderr, "lkvm: error: no running guest named '%s'\n", name);
		else
			fprintf(stderr, "lkvm: error: cannot reach guest '%s': %s\n", name,
				strerror(-fd));
		free(out);
		return 1;
	}
	ret = ctl__request(fd, type, payload, len, out, CTL_MAX_PAYLOAD + 1, &status);
	close(fd);
	if (ret || status) {
		fprintf(stderr, "lkvm: error: guest '%s': %s\n", name,
			strerror(-(ret ? ret : status)));
		free(out);
		return 1;
	}
	if (print)
		fputs(out, stdout);
	free(out);
	return 0;
}

struct target_req {
	u16	type;
	bool	print;
};

static int ctl__target_one(const char *name, void *opaque)
{
	struct target_req *r = opaque;

	if (r->print) {
		printf("%s:\n", name);
		fflush(stdout);
	}
	return ctl__simple(name, r->type, NULL, 0, r->print);
}

int ctl__target_main(int argc, const char **argv, const char *usage, u16 type, bool print)
{
	struct target_req r = { .type = type, .print = print };
	struct ctl_target t = { 0 };
	const struct option opts[] = {
		OPT__STRING('n', "name", &t.name, "name", "the guest"),
		OPT__BOOL('a', "all", &t.all, "every running guest"),
		OPT__END(),
	};
	int status = parse_options_noargs(argc, argv, opts, usage);

	if (status >= 0)
		return status;
	return ctl__for_targets(&t, argv[0], ctl__target_one, &r) ? 1 : 0;
}
