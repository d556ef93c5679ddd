/* Capturing what the code under test prints on stderr (its one-line errors). */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

void capture__begin(struct capture *c)
{
	char tmpl[] = "/tmp/lkvm-unit-err-XXXXXX";

	fflush(stderr);
	c->fd = mkstemp(tmpl);
	unlink(tmpl);
	c->saved = dup(2);
	dup2(c->fd, 2);
}

static int capture__lines(int fd)
{
	char buf[4096];
	off_t off = 0;
	ssize_t n;
	int lines = 0;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		off += n;
	}
	return lines;
}

const char *capture__end(struct capture *c)
{
	ssize_t n;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	n = pread(c->fd, c->text, sizeof(c->text) - 1, 0);
	c->text[n > 0 ? n : 0] = 0;
	c->lines = capture__lines(c->fd);
	n = lseek(c->fd, 0, SEEK_END) - (off_t)(sizeof(c->tail) - 1);
	n = pread(c->fd, c->tail, sizeof(c->tail) - 1, n > 0 ? n : 0);
	c->tail[n > 0 ? n : 0] = 0;
	close(c->fd);
	return c->text;
}

bool one_line_with(const char *text, const char *what)
{
	const char *nl = strchr(text, '\n');

	return strstr(text, what) && nl && !nl[1];
}
