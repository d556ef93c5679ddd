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

const char *capture__end(struct capture *c)
{
	ssize_t n;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	n = pread(c->fd, c->text, sizeof(c->text) - 1, 0);
	c->text[n > 0 ? n : 0] = 0;
	close(c->fd);
	return c->text;
}

bool one_line_with(const char *text, const char *what)
{
	const char *nl = strchr(text, '\n');

	return strstr(text, what) && nl && !nl[1];
}
