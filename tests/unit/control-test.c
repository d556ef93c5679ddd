/* The control protocol: framing checks, and a live server fed garbage. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "kvm/control.h"
#include "kvm/kvm.h"
#include "kvm/mainloop.h"

TEST(ctl_parse_accepts_good_and_rejects_bad)
{
	u8 buf[sizeof(struct ctl_hdr) + 16];
	struct ctl_hdr hdr, *h = (struct ctl_hdr *)buf;
	const u8 *p;
	const char *why;
	size_t n = ctl__build(buf, CTL_INFO, "abcd", 4);

	CHECK_EQ(n, sizeof(struct ctl_hdr) + 4);
	CHECK_EQ(ctl__parse(buf, n, &hdr, &p, &why), 0);
	CHECK_EQ(hdr.type, CTL_INFO);
	CHECK(!memcmp(p, "abcd", 4));
	/* Truncated, padded, wrong magic, version, type. */
	CHECK(ctl__parse(buf, 3, &hdr, &p, &why) < 0);
	CHECK(ctl__parse(buf, n - 1, &hdr, &p, &why) < 0);
	CHECK(ctl__parse(buf, n + 1, &hdr, &p, &why) < 0);
	h->magic ^= 1;
	CHECK(ctl__parse(buf, n, &hdr, &p, &why) < 0);
	h->magic ^= 1;
	h->version = 99;
	CHECK_EQ(ctl__parse(buf, n, &hdr, &p, &why), -EPROTO);
	h->version = CTL_VERSION;
	h->type = 0;
	CHECK(ctl__parse(buf, n, &hdr, &p, &why) < 0);
	h->type = 999;
	CHECK(ctl__parse(buf, n, &hdr, &p, &why) < 0);
	h->type = CTL_INFO;
	h->len = 0xffffffff;
	CHECK(ctl__parse(buf, n, &hdr, &p, &why) < 0);
}

TEST(ctl_names)
{
	CHECK(ctl__valid_name("guest-1"));
	CHECK(ctl__valid_name("a.b_c"));
	CHECK(!ctl__valid_name(""));
	CHECK(!ctl__valid_name("../x"));
	CHECK(!ctl__valid_name("a/b"));
	CHECK(!ctl__valid_name(".hidden"));
	CHECK(!ctl__valid_name("sp ace"));
}

struct client_result {
	int	garbage_status;
	int	info_status;
	char	info[512];
	int	second_server;
};

static void *control_client(void *arg)
{
	struct kvm *kvm = arg;
	struct client_result *r = kvm->cfg->cmdline ? (void *)kvm->cfg->cmdline : NULL;
	u8 junk[64];
	s32 status = 0;
	int fd = ctl__connect("unit-guest");

	memset(junk, 0x41, sizeof(junk));
	if (fd >= 0) {
		/* Garbage, then a truncated header, then a real request on the same socket. */
		send(fd, junk, sizeof(junk), 0);
		if (recv(fd, junk, sizeof(junk), 0) > (ssize_t)sizeof(struct ctl_hdr))
			memcpy(&r->garbage_status, junk + sizeof(struct ctl_hdr), sizeof(s32));
		send(fd, junk, 3, 0);
		recv(fd, junk, sizeof(junk), 0);
		r->info_status = ctl__request(fd, CTL_INFO, NULL, 0, r->info, sizeof(r->info),
					      &status) ?: status;
		close(fd);
	} else {
		r->info_status = fd;
	}
	kvm__request_stop(kvm, KVM_STOP_SIGNAL, 0);
	return NULL;
}

TEST(control_server_survives_garbage)
{
	char dir[64] = "/tmp/lkvm-unit-XXXXXX";
	struct client_result res = { 0 };
	struct kvm_config cfg = { .name = "unit-guest", .kernel_path = "bzImage",
				  .ram_mib = 64, .cmdline = (char *)&res };
	struct mainloop loop;
	struct kvm kvm = { .loop = &loop };
	struct kvm dup = { .loop = &loop };
	pthread_t th;

	CHECK(mkdtemp(dir) != NULL);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	CHECK_EQ(mainloop__init(&loop), 0);
	CHECK_EQ(kvm__init_early(&kvm, &cfg), 0);
	CHECK_EQ(mainloop__add(&loop, kvm.stop_fd, EPOLLIN, NULL, NULL), 0);
	CHECK_EQ(control__init(&kvm), 0);
	/* A second guest with the same name is refused. */
	CHECK_EQ(kvm__init_early(&dup, &cfg), 0);
	CHECK_EQ(control__init(&dup), -EEXIST);
	control__exit(&dup, "dup");
	pthread_create(&th, NULL, control_client, &kvm);
	mainloop__run(&loop, &kvm);
	pthread_join(th, NULL);
	CHECK_EQ(res.garbage_status, -EINVAL);
	CHECK_EQ(res.info_status, 0);
	CHECK(strstr(res.info, "name=unit-guest") != NULL);
	control__exit(&kvm, "done");
	mainloop__exit(&loop);
	/* The socket is gone with the guest. */
	CHECK_EQ(ctl__connect("unit-guest"), -ENOENT);
	rmdir(strcat(dir, "/lkvm"));
}

/*
 * Without XDG_RUNTIME_DIR the sockets live in ~/.lkvm/run: usable when
 * kvmtool made ~/.lkvm with mode 0755, refused when others may write there.
 */
TEST(ctl_runtime_dir_beside_kvmtool)
{
	char home[64] = "/tmp/lkvm-unit-home-XXXXXX", path[128], dir[200];
	char *xdg = getenv("XDG_RUNTIME_DIR") ? strdup(getenv("XDG_RUNTIME_DIR")) : NULL;
	struct stat st;

	CHECK(mkdtemp(home) != NULL);
	unsetenv("XDG_RUNTIME_DIR");
	setenv("HOME", home, 1);
	snprintf(path, sizeof(path), "%s/.lkvm", home);
	CHECK_EQ(mkdir(path, 0755), 0);
	CHECK_EQ(chmod(path, 0755), 0);
	CHECK_EQ(ctl__runtime_dir(dir, sizeof(dir), false), -ENOENT);
	CHECK_EQ(ctl__runtime_dir(dir, sizeof(dir), true), 0);
	snprintf(path, sizeof(path), "%s/.lkvm/run", home);
	CHECK(!strcmp(dir, path));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
	/* A group-writable parent, or a readable run dir, is refused. */
	CHECK_EQ(chmod(path, 0755), 0);
	CHECK_EQ(ctl__runtime_dir(dir, sizeof(dir), true), -EPERM);
	CHECK_EQ(chmod(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.lkvm", home);
	CHECK_EQ(chmod(path, 0775), 0);
	CHECK_EQ(ctl__runtime_dir(dir, sizeof(dir), true), -EPERM);
	snprintf(path, sizeof(path), "%s/.lkvm/run", home);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.lkvm", home);
	rmdir(path);
	rmdir(home);
	if (xdg)
		setenv("XDG_RUNTIME_DIR", xdg, 1);
	free(xdg);
}
