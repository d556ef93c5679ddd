/*
 * runtime: time a command the way the boot benchmark needs it, on systems
 * whose shell has no high-resolution `time` (the rig's busybox).
 *
 *   runtime [-n RUNS] [-w WARMUP] [-t SECS] [-e STATUS] [-g TEXT] [-v KEY]
 *           [-l LABEL] [-o SAMPLES] [-O OUTFILE] [-q] [--] CMD [ARG...]
 *   runtime -s SAMPLES
 *
 * Runs CMD (execvp) RUNS times (default 1) after WARMUP discarded runs, with
 * stdin from /dev/null and stdout+stderr into a pipe that it reads. For each
 * run it takes CLOCK_MONOTONIC just before fork() and just after wait4()
 * returns (so the figure is fork + exec + the whole life of CMD), and the
 * child's peak RSS from wait4()'s rusage.ru_maxrss (KiB).
 *
 * A run is "ok" when it ended within SECS (default 60; then it is killed
 * with SIGKILL), exited normally with STATUS (-e, default 0; -e any accepts
 * every exit status) and, with -g, printed TEXT somewhere in its output.
 * A failed run prints why and the tail of its output on stderr.
 * With -v KEY, the number after the last "KEY=" in the output is recorded
 * too (e.g. a time the guest measured itself; -1 when absent). -O OUTFILE
 * keeps the output of the last run; -q leaves failures unexplained.
 *
 * Without -o it prints one summary line:
 *   LABEL runs=N ok=K ms_min=.. ms_med=.. ms_max=.. rss_min=.. rss_med=.. rss_max=..
 * (times in ms with 0.1 ms resolution, RSS in KiB; statistics over ok runs)
 * plus " val_min=.. val_med=.. val_max=.." when -v found its KEY.
 * With -o it appends one line per measured run to SAMPLES instead:
 *   LABEL MS RSS_KIB STATUS OK VALUE
 * so that a script can interleave several commands run by run; -s SAMPLES
 * then prints the summary line of every label, in order of first appearance.
 * Exit status: 0 when every measured run was ok, 1 otherwise, 2 on misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX (8u << 20)	/* keep at most this much output per run */

struct sample {
	double ms;
	long rss;
	int status;	/* exit status, 128+sig for signals, -1 timeout */
	int ok;
	double val;	/* -v KEY's value, -1 if none */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: runtime [-n RUNS] [-w WARMUP] [-t SECS] [-e STATUS|any] [-g TEXT]\n"
		"               [-v KEY] [-l LABEL] [-o SAMPLES] [-O OUTFILE] [-q] [--] CMD [ARG...]\n"
		"       runtime -s SAMPLES\n");
	exit(2);
}

static void tail_output(const char *buf, size_t len)
{
	size_t from = len > 1500 ? len - 1500 : 0;

	fprintf(stderr, "---- last %zu bytes of output:\n", len - from);
	fwrite(buf + from, 1, len - from, stderr);
	if (len && buf[len - 1] != '\n')
		fputc('\n', stderr);
	fprintf(stderr, "----\n");
}

/* run_once: one fork/exec/wait of argv; fills *s. */
static void run_once(char **argv, int timeout_s, int want, const char *grep,
		     const char *key, const char *label, int quiet, const char *keep,
		     struct sample *s)
{
	static char *buf;
	size_t len = 0;
	int pfd[2], devnull, st = 0, timed_out = 0, eof = 0;
	struct rusage ru;
	double t0, deadline;
	pid_t pid, w;

	if (!buf && !(buf = malloc(OUT_MAX + 1))) {
		perror("runtime: malloc");
		exit(2);
	}
	if (pipe2(pfd, O_CLOEXEC) < 0 || (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		perror("runtime: pipe/open");
		exit(2);
	}
	t0 = now_ms();
	pid = fork();
	if (pid < 0) {
		perror("runtime: fork");
		exit(2);
	}
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[0], argv);
		fprintf(stderr, "runtime: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	close(devnull);
	deadline = t0 + timeout_s * 1e3;
	/* Read until EOF (every writer gone) or the deadline. */
	while (!eof) {
		double left = deadline - now_ms();
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int r;

		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		r = poll(&p, 1, left > 1000 ? 1000 : (int)left + 1);
		if (r < 0 && errno != EINTR) {
			perror("runtime: poll");
			exit(2);
		}
		if (r > 0) {
			char tmp[65536];
			ssize_t n = read(pfd[0], tmp, sizeof(tmp));

			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				perror("runtime: read");
				exit(2);
			}
			if (n == 0)
				eof = 1;
			if (n > 0 && len < OUT_MAX) {
				size_t k = (size_t)n < OUT_MAX - len ? (size_t)n : OUT_MAX - len;

				memcpy(buf + len, tmp, k);
				len += k;
			}
		}
	}
	do
		w = wait4(pid, &st, 0, &ru);
	while (w < 0 && errno == EINTR);
	s->ms = now_ms() - t0;
	close(pfd[0]);
	if (w < 0) {
		perror("runtime: wait4");
		exit(2);
	}
	buf[len] = 0;
	if (keep) {
		FILE *k = fopen(keep, "w");

		if (k) {
			fwrite(buf, 1, len, k);
			fclose(k);
		}
	}
	s->rss = ru.ru_maxrss;
	if (timed_out)
		s->status = -1;
	else if (WIFEXITED(st))
		s->status = WEXITSTATUS(st);
	else
		s->status = 128 + WTERMSIG(st);
	s->val = -1;
	if (key) {
		size_t kl = strlen(key);
		const char *p = buf, *hit = NULL;

		while ((p = memmem(p, buf + len - p, key, kl)))
			hit = p++;
		if (hit && hit[kl] == '=')
			s->val = strtod(hit + kl + 1, NULL);
	}
	s->ok = !timed_out && WIFEXITED(st) && (want < 0 || s->status == want) &&
		(!grep || memmem(buf, len, grep, strlen(grep)));
	if (!s->ok && !quiet) {
		if (timed_out)
			fprintf(stderr, "runtime: %s: timed out after %d s\n", label, timeout_s);
		else if (!WIFEXITED(st))
			fprintf(stderr, "runtime: %s: killed by signal %d\n", label, WTERMSIG(st));
		else if (want >= 0 && s->status != want)
			fprintf(stderr, "runtime: %s: exit status %d, expected %d\n", label, s->status, want);
		else
			fprintf(stderr, "runtime: %s: output lacks '%s'\n", label, grep);
		tail_output(buf, len);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* summary: the summary line over the ok samples of s[0..n). */
static void summary(const char *label, const struct sample *s, int n)
{
	double *ms = calloc(n + 1, sizeof(double)), *rss = calloc(n + 1, sizeof(double));
	double *val = calloc(n + 1, sizeof(double));
	int i, k = 0, nv = 0;

	for (i = 0; i < n; i++)
		if (s[i].ok) {
			ms[k] = s[i].ms;
			rss[k] = s[i].rss;
			k++;
			if (s[i].val >= 0)
				val[nv++] = s[i].val;
		}
	printf("%s runs=%d ok=%d", label, n, k);
	if (k) {
		double mm = median(ms, k), mr = median(rss, k);

		printf(" ms_min=%.1f ms_med=%.1f ms_max=%.1f rss_min=%.0f rss_med=%.0f rss_max=%.0f",
		       ms[0], mm, ms[k - 1], rss[0], mr, rss[k - 1]);
	}
	if (nv) {
		double mv = median(val, nv);

		printf(" val_min=%.1f val_med=%.1f val_max=%.1f", val[0], mv, val[nv - 1]);
	}
	printf("\n");
	free(ms);
	free(rss);
	free(val);
}

/* summarize_file: -s SAMPLES. */
static int summarize_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512], lab[256];
	char (*labels)[256] = NULL;
	struct sample *all = NULL;
	char (*alllab)[256] = NULL;
	int nl = 0, na = 0, i, j, bad = 0;

	if (!f) {
		perror(path);
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		struct sample s = { .val = -1 };

		if (sscanf(line, "%255s %lf %ld %d %d %lf", lab, &s.ms, &s.rss, &s.status, &s.ok,
			   &s.val) < 5)
			continue;
		all = realloc(all, (na + 1) * sizeof(*all));
		alllab = realloc(alllab, (na + 1) * sizeof(*alllab));
		all[na] = s;
		strcpy(alllab[na], lab);
		na++;
		for (i = 0; i < nl && strcmp(labels[i], lab); i++)
			;
		if (i == nl) {
			labels = realloc(labels, (nl + 1) * sizeof(*labels));
			strcpy(labels[nl++], lab);
		}
	}
	fclose(f);
	for (i = 0; i < nl; i++) {
		struct sample *s = calloc(na, sizeof(*s));
		int n = 0;

		for (j = 0; j < na; j++)
			if (!strcmp(alllab[j], labels[i])) {
				s[n++] = all[j];
				bad |= !all[j].ok;
			}
		summary(labels[i], s, n);
		free(s);
	}
	return bad;
}

int main(int argc, char **argv)
{
	int runs = 1, warmup = 0, timeout_s = 60, want = 0, quiet = 0, opt, i, bad = 0;
	const char *grep = NULL, *key = NULL, *label = NULL, *samples = NULL;
	const char *keep = NULL;
	struct sample *s;
	FILE *out = NULL;

	while ((opt = getopt(argc, argv, "+n:w:t:e:g:v:l:o:O:qs:")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); break;
		case 'e': want = strcmp(optarg, "any") ? atoi(optarg) : -1; break;
		case 'g': grep = optarg; break;
		case 'v': key = optarg; break;
		case 'l': label = optarg; break;
		case 'o': samples = optarg; break;
		case 'O': keep = optarg; break;
		case 'q': quiet = 1; break;
		case 's': return summarize_file(optarg);
		default: usage();
		}
	}
	if (optind >= argc || runs < 1 || warmup < 0 || timeout_s < 1)
		usage();
	if (!label)
		label = argv[optind];
	if (samples && !(out = fopen(samples, "a"))) {
		perror(samples);
		return 2;
	}
	s = calloc(runs, sizeof(*s));
	for (i = 0; i < warmup; i++) {
		struct sample junk;

		run_once(argv + optind, timeout_s, want, grep, key, label, quiet, keep, &junk);
	}
	for (i = 0; i < runs; i++) {
		run_once(argv + optind, timeout_s, want, grep, key, label, quiet, keep, &s[i]);
		bad |= !s[i].ok;
		if (out)
			fprintf(out, "%s %.3f %ld %d %d %.3f\n", label, s[i].ms, s[i].rss, s[i].status,
				s[i].ok, s[i].val);
	}
	if (out)
		fclose(out);
	else
		summary(label, s, runs);
	return bad;
}
