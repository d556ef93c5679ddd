/*
 * ptyrun: run a command on a fresh pseudo-terminal, type into it, and check
 * that it leaves the terminal as it found it. For testing lkvm's raw mode.
 *
 *   ptyrun [-t SECS] [-g ROWSxCOLS] [-w TEXT (-s KEYS | -z ROWSxCOLS)]... -- CMD ARGS...
 *
 * Each -w TEXT waits (up to SECS) until TEXT appears in the output after the
 * previous match, then the following -s KEYS is typed (C escapes: \r \n
 * \001 \\) or -z resizes the terminal (the command gets SIGWINCH); an -s or
 * -z with no -w before it happens at once. -g sets the first size. Output is
 * copied to stdout. Exit status: the command's, or 124 on timeout, or 125
 * if the terminal's settings were not restored (ICANON/ECHO/OPOST lost).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_STEPS 16

static char out[1 << 20];
static size_t out_len;

static size_t unescape(const char *s, char *d)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s != '\\') {
			d[n++] = *s;
			continue;
		}
		s++;
		if (*s == 'r')
			d[n++] = '\r';
		else if (*s == 'n')
			d[n++] = '\n';
		else if (*s >= '0' && *s <= '7') {
			int v = 0;

			for (int i = 0; i < 3 && *s >= '0' && *s <= '7'; i++, s++)
				v = v * 8 + (*s - '0');
			s--;
			d[n++] = v;
		} else if (*s)
			d[n++] = *s;
		else
			break;
	}
	return n;
}

static int parse_size(const char *s, struct winsize *ws)
{
	unsigned int r, c;

	if (sscanf(s, "%ux%u", &r, &c) != 2 || !r || !c || r > 9999 || c > 9999)
		return -1;
	*ws = (struct winsize){ .ws_row = r, .ws_col = c };
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Copy whatever the child printed; false once the pty is closed. */
static int pump(int master, int ms)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	char buf[4096];
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return 1;
	n = read(master, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	fwrite(buf, 1, n, stdout);
	fflush(stdout);
	if (out_len + n < sizeof(out)) {
		memcpy(out + out_len, buf, n);
		out_len += n;
		out[out_len] = 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	const char *wait_for[MAX_STEPS + 1] = { 0 }, *send[MAX_STEPS];
	struct winsize size[MAX_STEPS], first = { .ws_row = 24, .ws_col = 80 };
	bool resize[MAX_STEPS] = { 0 };
	size_t seen = 0;
	int nsteps = 0, secs = 60, opt, master, status;
	struct termios before, after;
	char name[256], keys[1024];
	double deadline;
	pid_t pid;

	while ((opt = getopt(argc, argv, "t:g:w:s:z:")) != -1) {
		if (opt == 't')
			secs = atoi(optarg);
		else if (opt == 'g') {
			if (parse_size(optarg, &first))
				return 2;
		} else if (opt == 'w' && nsteps < MAX_STEPS)
			wait_for[nsteps] = optarg, send[nsteps] = NULL;
		else if ((opt == 's' || opt == 'z') && nsteps < MAX_STEPS) {
			if (!wait_for[nsteps])
				wait_for[nsteps] = "";
			resize[nsteps] = opt == 'z';
			if (resize[nsteps] && parse_size(optarg, &size[nsteps]))
				return 2;
			send[nsteps++] = optarg;
			wait_for[nsteps] = NULL;
		}
		else
			return 2;
	}
	if (optind >= argc)
		return 2;
	pid = forkpty(&master, name, NULL, &first);
	if (pid < 0)
		return perror("forkpty"), 2;
	if (!pid) {
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	{
		int slave = open(name, O_RDWR | O_NOCTTY);

		if (slave < 0 || tcgetattr(slave, &before) < 0)
			return perror("slave"), 2;
		close(slave);
	}
	deadline = now() + secs;
	for (int i = 0; i < nsteps; i++) {
		char *hit;

		while (!(hit = strstr(out + seen, wait_for[i]))) {
			if (now() > deadline || !pump(master, 100)) {
				fprintf(stderr, "\nptyrun: '%s' did not appear\n", wait_for[i]);
				kill(pid, SIGKILL);
				return 124;
			}
		}
		seen = hit - out + strlen(wait_for[i]);
		if (resize[i]) {
			if (ioctl(master, TIOCSWINSZ, &size[i]) < 0)
				return perror("TIOCSWINSZ"), 2;
			continue;
		}
		size_t n = unescape(send[i], keys);

		if (write(master, keys, n) != (ssize_t)n)
			return 2;
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now() > deadline) {
			kill(pid, SIGKILL);
			fprintf(stderr, "\nptyrun: timeout\n");
			return 124;
		}
		pump(master, 100);
	}
	while (pump(master, 10) && now() < deadline)
		;
	{
		int slave = open(name, O_RDWR | O_NOCTTY);

		if (slave < 0 || tcgetattr(slave, &after) < 0)
			return perror("slave after"), 2;
	}
	if ((after.c_lflag & (ICANON | ECHO)) != (before.c_lflag & (ICANON | ECHO)) ||
	    (after.c_oflag & OPOST) != (before.c_oflag & OPOST)) {
		fprintf(stderr, "\nptyrun: terminal settings not restored\n");
		return 125;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
