/*
 * The embedded init's plumbing without a guest: the newc cpio lkvm builds,
 * the configuration records (a command's arguments pass through byte for
 * byte), the frame codec, and the host side of framed stdio (term.c).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kvm/guest-init.h"
#include "kvm/init-proto.h"
#include "kvm/initramfs.h"
#include "kvm/kvm.h"
#include "kvm/term.h"
#include "test.h"
#include "virtio/net.h"

/* ---- a newc reader, as the kernel's init/initramfs.c reads it ---- */

struct cpio_entry {
	char		name[64];
	unsigned long	mode, nlink, size, rdevmajor, rdevminor, ino;
	const u8	*data;
};

static unsigned long hex8(const u8 *p)
{
	char s[9];

	memcpy(s, p, 8);
	s[8] = 0;
	return strtoul(s, NULL, 16);
}

/* Entry at *off: 1, 0 at the trailer, -1 if malformed. */
static int cpio_next(const u8 *buf, size_t len, size_t *off, struct cpio_entry *e)
{
	const u8 *h = buf + *off;
	unsigned long namesize;

	if (*off % 4 || *off + 110 > len || memcmp(h, "070701", 6))
		return -1;
	e->ino = hex8(h + 6);
	e->mode = hex8(h + 14);
	e->nlink = hex8(h + 38);
	e->size = hex8(h + 54);
	e->rdevmajor = hex8(h + 78);
	e->rdevminor = hex8(h + 86);
	namesize = hex8(h + 94);
	if (hex8(h + 22) || hex8(h + 30) || hex8(h + 102) || !namesize ||
	    namesize > sizeof(e->name) || *off + 110 + namesize > len || h[110 + namesize - 1])
		return -1;
	memcpy(e->name, h + 110, namesize);
	*off = ALIGN_UP(*off + 110 + namesize, 4);
	if (*off + e->size > len)
		return -1;
	e->data = buf + *off;
	*off = ALIGN_UP(*off + e->size, 4);
	return strcmp(e->name, "TRAILER!!!") ? 1 : 0;
}

TEST(cpio_newc_entries)
{
	static const char text[] = "hello, initramfs\n";	/* 17 bytes: padded */
	struct cpio c = { 0 };
	struct cpio_entry e;
	size_t off = 0;

	CHECK_EQ(cpio__add(&c, "dev", S_IFDIR | 0755, 0, NULL, 0), 0);
	CHECK_EQ(cpio__add(&c, "dev/console", S_IFCHR | 0600, makedev(5, 1), NULL, 0), 0);
	CHECK_EQ(cpio__add(&c, "etc/a-file", S_IFREG | 0644, 0, text, sizeof(text) - 1), 0);
	CHECK_EQ(cpio__finish(&c), 0);
	CHECK_EQ(c.buf.len % 4, 0);

	CHECK_EQ(cpio_next(c.buf.data, c.buf.len, &off, &e), 1);
	CHECK(!strcmp(e.name, "dev") && e.mode == (S_IFDIR | 0755) && e.nlink == 2 && !e.size);
	CHECK_EQ(cpio_next(c.buf.data, c.buf.len, &off, &e), 1);
	CHECK(!strcmp(e.name, "dev/console") && e.mode == (S_IFCHR | 0600));
	CHECK(e.rdevmajor == 5 && e.rdevminor == 1 && e.nlink == 1);
	CHECK_EQ(cpio_next(c.buf.data, c.buf.len, &off, &e), 1);
	CHECK(!strcmp(e.name, "etc/a-file") && e.size == sizeof(text) - 1);
	CHECK(!memcmp(e.data, text, e.size));
	CHECK_EQ(e.ino, 3);
	CHECK_EQ(cpio_next(c.buf.data, c.buf.len, &off, &e), 0);
	CHECK_EQ(off, c.buf.len);
	membuf__free(&c.buf);
}

TEST(cpio_refuses_bad_entries)
{
	struct cpio c = { 0 };

	CHECK(cpio__add(&c, "", S_IFDIR | 0755, 0, NULL, 0) < 0);
	CHECK(cpio__add(&c, "/abs", S_IFDIR | 0755, 0, NULL, 0) < 0);
	CHECK(cpio__add(&c, "TRAILER!!!", S_IFREG | 0644, 0, NULL, 0) < 0);
	CHECK(cpio__add(&c, "dir", S_IFDIR | 0755, 0, "x", 1) < 0);
	CHECK_EQ(c.buf.len, 0);
	membuf__free(&c.buf);
}

/* ---- configuration records ---- */

static const char *const tricky_args[] = {
	"sh", "-c", "echo \"hi there\"; printf '%s\\n' $1; exit 7", "",
	"two  spaces", "new\nline", "tab\there", "'single'", "\"double\"", "back\\slash",
	"--", "-k", "key=value", "üñí©ødé", "$(not expanded)", "*", " lead", "trail ",
};

TEST(init_conf_arguments_round_trip)
{
	struct membuf b = { 0 };
	const char *p, *end, *k = NULL, *v = NULL;
	size_t n = ARRAY_SIZE(tricky_args), i = 0;
	int r;

	init_conf__add(&b, INIT_KEY_MODE, INIT_MODE_COMMAND);
	for (size_t j = 0; j < n; j++)
		init_conf__add(&b, INIT_KEY_ARG, tricky_args[j]);
	CHECK(!b.failed);
	p = (const char *)b.data;
	end = p + b.len;
	CHECK_EQ(init_conf__next(&p, end, &k, &v), 1);
	CHECK(!strcmp(k, INIT_KEY_MODE) && !strcmp(v, INIT_MODE_COMMAND));
	while ((r = init_conf__next(&p, end, &k, &v)) > 0) {
		CHECK(!strcmp(k, INIT_KEY_ARG));
		CHECK(i < n && !strcmp(v, tricky_args[i]));
		i++;
	}
	CHECK_EQ(r, 0);
	CHECK_EQ(i, n);
	membuf__free(&b);
}

TEST(init_conf_malformed)
{
	static const char missing_val_nul[] = { 'a', 0, 'b' };
	static const char missing_key_nul[] = { 'k', 'e', 'y' };
	const char *p, *k, *v;

	p = missing_val_nul;
	CHECK_EQ(init_conf__next(&p, p + sizeof(missing_val_nul), &k, &v), -1);
	p = missing_key_nul;
	CHECK_EQ(init_conf__next(&p, p + sizeof(missing_key_nul), &k, &v), -1);
	p = "";
	CHECK_EQ(init_conf__next(&p, p, &k, &v), 0);
}

/* The value of @key in @b (the last one), or NULL. */
static const char *conf_get(const struct membuf *b, const char *key, int *count)
{
	const char *p = (const char *)b->data, *end = p + b->len, *k, *v, *found = NULL;

	if (count)
		*count = 0;
	while (init_conf__next(&p, end, &k, &v) > 0) {
		if (strcmp(k, key))
			continue;
		found = v;
		if (count)
			(*count)++;
	}
	return found;
}

TEST(guest_init_conf_for_a_command)
{
	static const char *argv[] = { "sh", "-c", "echo hi; exit 7" };
	struct guest_init gi = { .command = true, .argv = argv, .argc = 3 };
	struct kvm_config cfg = { .console = CONSOLE_VIRTIO };
	int n;

	CHECK_EQ(net__add(&cfg, "mode=user"), 0);
	CHECK_EQ(guest_init__conf(&gi, &cfg, INIT_ROOT_TAG, false), 0);
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_MODE, NULL), INIT_MODE_COMMAND));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_CONSOLE, NULL), "hvc0"));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_IO, NULL), INIT_IO_FRAMES));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_ROOT, NULL), INIT_ROOT_TAG));
	CHECK(!conf_get(&gi.conf, INIT_KEY_ROOT_RW, NULL));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_IP, NULL), "10.0.2.15/24"));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_GATEWAY, NULL), "10.0.2.2"));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_DNS, NULL), "10.0.2.3"));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_ARG, &n), "echo hi; exit 7"));
	CHECK_EQ(n, 3);
	CHECK(conf_get(&gi.conf, INIT_KEY_ENV, &n) && n >= 2);	/* PATH, HOME */
	guest_init__free(&gi);
}

TEST(guest_init_conf_for_the_shell)
{
	struct guest_init gi = { 0 };
	struct kvm_config cfg = { .console = CONSOLE_SERIAL };
	const char *shell = getenv("SHELL");
	int n;

	CHECK_EQ(guest_init__conf(&gi, &cfg, "myroot", true), 0);
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_MODE, NULL), INIT_MODE_SHELL));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_CONSOLE, NULL), "ttyS0"));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_ROOT, NULL), "myroot"));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_ROOT_RW, NULL), "1"));
	CHECK(!conf_get(&gi.conf, INIT_KEY_IP, NULL));		/* no NIC */
	CHECK(!conf_get(&gi.conf, INIT_KEY_IO, NULL));
	CHECK(!strcmp(conf_get(&gi.conf, INIT_KEY_ARG, &n),
		      shell && shell[0] == '/' ? shell : "/bin/sh"));
	CHECK_EQ(n, 1);
	guest_init__free(&gi);
}

/* How many records @key = @val @b has. */
static int conf_count(const struct membuf *b, const char *key, const char *val)
{
	const char *p = (const char *)b->data, *end = p + b->len, *k, *v;
	int n = 0;

	while (init_conf__next(&p, end, &k, &v) > 0)
		n += !strcmp(k, key) && !strcmp(v, val);
	return n;
}

TEST(guest_init_env_options)
{
	const char *argv[] = { "env" };
	struct guest_init gi = { .command = true, .argv = argv, .argc = 1 };
	struct kvm_config cfg = { 0 };
	struct capture cap;
	char name[16];

	setenv("LKVM_UNIT_HOSTVAR", "from host", 1);
	CHECK_EQ(guest_init__add_env(&gi, "A=1"), 0);
	CHECK_EQ(guest_init__add_env(&gi, "B="), 0);
	CHECK_EQ(guest_init__add_env(&gi, "A=2=x"), 0);		/* the last A wins */
	CHECK_EQ(guest_init__add_env(&gi, "LKVM_UNIT_HOSTVAR"), 0);
	CHECK_EQ(guest_init__add_env(&gi, "PATH=/opt/bin"), 0);	/* replaces lkvm's */
	CHECK_EQ(gi.nr_env, 4);
	CHECK_EQ(guest_init__conf(&gi, &cfg, INIT_ROOT_TAG, false), 0);
	CHECK_EQ(conf_count(&gi.conf, INIT_KEY_ENV, "A=2=x"), 1);
	CHECK_EQ(conf_count(&gi.conf, INIT_KEY_ENV, "A=1"), 0);
	CHECK_EQ(conf_count(&gi.conf, INIT_KEY_ENV, "B="), 1);
	CHECK_EQ(conf_count(&gi.conf, INIT_KEY_ENV, "LKVM_UNIT_HOSTVAR=from host"), 1);
	CHECK_EQ(conf_count(&gi.conf, INIT_KEY_ENV, "PATH=/opt/bin"), 1);
	{
		const char *p = (const char *)gi.conf.data, *end = p + gi.conf.len, *k, *v;
		int paths = 0;

		while (init_conf__next(&p, end, &k, &v) > 0)
			paths += !strcmp(k, INIT_KEY_ENV) && !strncmp(v, "PATH=", 5);
		CHECK_EQ(paths, 1);
	}
	guest_init__free(&gi);

	/* Bad names, unset host variables and too many: one line each. */
	memset(&gi, 0, sizeof(gi));
	unsetenv("LKVM_UNIT_UNSET");
	capture__begin(&cap);
	CHECK_EQ(guest_init__add_env(&gi, "1A=x"), -1);
	CHECK(one_line_with(capture__end(&cap), "--env 1A=x: expected NAME=VALUE or NAME"));
	capture__begin(&cap);
	CHECK_EQ(guest_init__add_env(&gi, "=x"), -1);
	CHECK_EQ(guest_init__add_env(&gi, "A B=x"), -1);
	CHECK_EQ(guest_init__add_env(&gi, ""), -1);
	capture__end(&cap);
	CHECK_EQ(cap.lines, 3);
	capture__begin(&cap);
	CHECK_EQ(guest_init__add_env(&gi, "LKVM_UNIT_UNSET"), -1);
	CHECK(one_line_with(capture__end(&cap), "LKVM_UNIT_UNSET is not set here"));
	for (int i = 0; i < GUEST_INIT_MAX_USER_ENV; i++) {
		snprintf(name, sizeof(name), "V%d=1", i);
		CHECK_EQ(guest_init__add_env(&gi, strdup(name)), 0);
	}
	capture__begin(&cap);
	CHECK_EQ(guest_init__add_env(&gi, "ONE_MORE=1"), -1);
	CHECK(one_line_with(capture__end(&cap), "too many --env settings"));
	CHECK_EQ(gi.nr_env, GUEST_INIT_MAX_USER_ENV);
	CHECK_EQ(guest_init__add_env(&gi, "V3=again"), 0);	/* a replacement still fits */
	CHECK_EQ(gi.nr_env, GUEST_INIT_MAX_USER_ENV);
	unsetenv("LKVM_UNIT_HOSTVAR");
}

TEST(guest_init_refuses_too_many_args)
{
	const char **argv = calloc(INIT_MAX_ARGS + 1, sizeof(*argv));
	struct guest_init gi = { .command = true, .argv = argv, .argc = INIT_MAX_ARGS + 1 };
	struct kvm_config cfg = { 0 };
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	for (int i = 0; i <= INIT_MAX_ARGS; i++)
		argv[i] = "x";
	dup2(null, 2);
	CHECK_EQ(guest_init__conf(&gi, &cfg, INIT_ROOT_TAG, false), -1);
	dup2(saved, 2);
	close(saved);
	close(null);
	guest_init__free(&gi);
	free(argv);
}

/* ---- frames ---- */

TEST(frame_dec_any_split)
{
	u8 stream[64], got[3][32];
	size_t n = 0, have[3] = { 0 };
	int eofs = 0;

	frame__header(stream + n, FRAME_STDOUT, 5);
	memcpy(stream + n + FRAME_HDR, "hello", 5);
	n += FRAME_HDR + 5;
	frame__header(stream + n, FRAME_EOF, 0);
	n += FRAME_HDR;
	frame__header(stream + n, 0x7f, 2);		/* unknown: skipped by readers */
	memcpy(stream + n + FRAME_HDR, "??", 2);
	n += FRAME_HDR + 2;
	frame__header(stream + n, FRAME_STDERR, 3);
	memcpy(stream + n + FRAME_HDR, "err", 3);
	n += FRAME_HDR + 3;

	/* Fed in pieces of every size, the same frames come out. */
	for (size_t piece = 1; piece <= n; piece++) {
		struct frame_dec d = { 0 };

		memset(have, 0, sizeof(have));
		eofs = 0;
		for (size_t off = 0; off < n; off += piece) {
			const u8 *p = stream + off, *end = stream + min_t(size_t, n, off + piece), *data;
			size_t len;
			int t;

			while ((t = frame_dec__next(&d, &p, end, &data, &len)) >= 0) {
				if (t == FRAME_EOF)
					eofs++;
				if (t == FRAME_STDOUT || t == FRAME_STDERR) {
					memcpy(got[t] + have[t], data, len);
					have[t] += len;
				}
			}
		}
		CHECK(have[FRAME_STDOUT] == 5 && !memcmp(got[FRAME_STDOUT], "hello", 5));
		CHECK(have[FRAME_STDERR] == 3 && !memcmp(got[FRAME_STDERR], "err", 3));
		CHECK_EQ(eofs, 1);
	}
}

/* ---- term.c: the host side of framed stdio ---- */

struct framed_term {
	struct term	t;
	int		out[2], err[2];
};

static void framed_term__init(struct framed_term *f)
{
	memset(f, 0, sizeof(*f));
	CHECK_EQ(pipe2(f->out, O_NONBLOCK), 0);
	CHECK_EQ(pipe2(f->err, O_NONBLOCK), 0);
	pthread_mutex_init(&f->t.out_lock, NULL);
	f->t.out_fd = f->out[1];
	f->t.in_fd = -1;
	f->t.kick_fd = eventfd(0, EFD_NONBLOCK);
	term__set_framed(&f->t, f->err[1]);
}

static size_t drain(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	n = n < 0 ? 0 : n;
	buf[n] = 0;
	return n;
}

static void framed_term__exit(struct framed_term *f)
{
	close(f->out[0]);
	close(f->out[1]);
	close(f->err[0]);
	close(f->err[1]);
	close(f->t.kick_fd);
}

TEST(term_framed_output)
{
	static const char before[] = "lkvm-init: early words\r\n\002lkvm-not-it\n";
	struct framed_term f;
	u8 stream[256], bin[256];
	char out[512], err[512];
	size_t n = 0;

	framed_term__init(&f);
	for (int i = 0; i < 256; i++)
		bin[i] = i;
	memcpy(stream, before, sizeof(before) - 1);
	n = sizeof(before) - 1;
	memcpy(stream + n, INIT_SYNC, INIT_SYNC_LEN);
	n += INIT_SYNC_LEN;
	frame__header(stream + n, FRAME_STDOUT, 3);
	memcpy(stream + n + FRAME_HDR, "hi\n", 3);
	n += FRAME_HDR + 3;
	frame__header(stream + n, FRAME_STDERR, 4);
	memcpy(stream + n + FRAME_HDR, "oops", 4);
	n += FRAME_HDR + 4;

	/* Byte by byte: the marker and frames straddle every boundary. */
	for (size_t i = 0; i < n; i++)
		term__write(&f.t, stream + i, 1);
	CHECK(f.t.synced);
	CHECK_EQ(drain(f.out[0], out, sizeof(out)), 3);
	CHECK(!strcmp(out, "hi\n"));
	drain(f.err[0], err, sizeof(err));
	CHECK(!strncmp(err, before, sizeof(before) - 1));
	CHECK(!strcmp(err + sizeof(before) - 1, "oops"));

	/* Every byte value passes through a frame unchanged. */
	frame__header(stream, FRAME_STDOUT, sizeof(bin));
	term__write(&f.t, stream, FRAME_HDR);
	term__write(&f.t, bin, sizeof(bin));
	CHECK_EQ(drain(f.out[0], out, sizeof(out)), sizeof(bin));
	CHECK(!memcmp(out, bin, sizeof(bin)));
	framed_term__exit(&f);
}
