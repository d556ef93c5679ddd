/*
 * blkbench: block device / image file throughput with O_DIRECT, built static
 * and run both inside a guest (on /dev/vda) and on the rig host (on the image
 * file behind it), so that the two figures compare.
 *
 *   blkbench [-t SECS] FILE TEST...
 *
 * TEST is NAME[:JOBS]: seqread, seqwrite (1 MiB blocks), randread, randwrite
 * (4 KiB blocks at uniformly random aligned offsets), with JOBS threads
 * (default 1) each keeping one request in flight: JOBS is the queue depth.
 * Every test runs for SECS seconds (default 3) over the whole of FILE; seq
 * jobs each take one slice of FILE and wrap around in it. FILE is opened
 * O_RDWR | O_DIRECT (O_RDONLY when only reading), so nothing goes through
 * the page cache of whoever runs it. Writes write a fixed random pattern.
 *
 * One line per test on stdout:
 *   BLKBENCH test=NAME jobs=J bs=B secs=S ops=N mibps=R iops=I lat_us=L
 * (lat_us: mean time per request seen by one job). Exit status 0 when every
 * request succeeded, 1 on any error (with a message on stderr), 2 on misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define MAX_JOBS	64
#define SEQ_BS		(1u << 20)
#define RAND_BS		4096u

struct job {
	pthread_t thread;
	int fd;
	int write;
	int rand;
	size_t bs;
	uint64_t lo, hi;	/* byte range this job works in */
	uint64_t seed;
	double deadline;
	unsigned long long ops;
	double end;
	int err;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *run_job(void *arg)
{
	struct job *j = arg;
	uint64_t off = j->lo, blocks = (j->hi - j->lo) / j->bs;
	void *buf;

	if (posix_memalign(&buf, 4096, j->bs)) {
		j->err = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < j->bs; i++)
		((unsigned char *)buf)[i] = xorshift(&j->seed);
	do {
		ssize_t n;

		if (j->rand)
			off = j->lo + xorshift(&j->seed) % blocks * j->bs;
		else if (off + j->bs > j->hi)
			off = j->lo;
		n = j->write ? pwrite(j->fd, buf, j->bs, off) : pread(j->fd, buf, j->bs, off);
		if (n != (ssize_t)j->bs) {
			j->err = n < 0 ? errno : EIO;
			break;
		}
		off += j->bs;
		j->ops++;
	} while (now() < j->deadline);
	j->end = now();
	free(buf);
	return NULL;
}

static int run_test(const char *path, uint64_t size, const char *spec, double secs)
{
	static struct job jobs[MAX_JOBS];
	char name[32];
	const char *colon = strchr(spec, ':');
	int njobs = colon ? atoi(colon + 1) : 1, write, rand, fd, err = 0;
	size_t bs;
	unsigned long long ops = 0;
	double t0, end = 0, lat = 0;
	uint64_t slice;

	snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	if (!strcmp(name, "seqread") || !strcmp(name, "seqwrite"))
		rand = 0;
	else if (!strcmp(name, "randread") || !strcmp(name, "randwrite"))
		rand = 1;
	else
		return fprintf(stderr, "blkbench: unknown test %s\n", spec), 2;
	if (njobs < 1 || njobs > MAX_JOBS)
		return fprintf(stderr, "blkbench: %s: 1 to %d jobs\n", spec, MAX_JOBS), 2;
	write = strstr(name, "write") != NULL;
	bs = rand ? RAND_BS : SEQ_BS;
	slice = rand ? size : size / njobs / bs * bs;
	if (slice < bs)
		return fprintf(stderr, "blkbench: %s is too small for %s\n", path, spec), 2;
	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		return fprintf(stderr, "blkbench: %s: %s\n", path, strerror(errno)), 1;

	t0 = now();
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		*j = (struct job){ .fd = fd, .write = write, .rand = rand, .bs = bs,
				   .lo = rand ? 0 : i * slice, .hi = rand ? size : (i + 1) * slice,
				   .seed = 0x9e3779b97f4a7c15ull * (i + 1), .deadline = t0 + secs };
		if (pthread_create(&j->thread, NULL, run_job, j)) {
			fprintf(stderr, "blkbench: cannot start job %d\n", i);
			return 1;
		}
	}
	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		pthread_join(j->thread, NULL);
		if (j->err && !err) {
			err = j->err;
			fprintf(stderr, "blkbench: %s: %s\n", spec, strerror(err));
		}
		ops += j->ops;
		if (j->end > end)
			end = j->end;
		if (j->ops)
			lat += (j->end - t0) / j->ops / njobs;
	}
	close(fd);
	end -= t0;
	printf("BLKBENCH test=%s jobs=%d bs=%zu secs=%.3f ops=%llu mibps=%.2f iops=%.0f lat_us=%.1f\n",
	       name, njobs, bs, end, ops, end > 0 ? ops * bs / end / (1 << 20) : 0.0,
	       end > 0 ? ops / end : 0.0, lat * 1e6);
	fflush(stdout);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	double secs = 3;
	uint64_t size;
	struct stat st;
	int c, rc = 0, fd;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't')
			goto usage;
		secs = atof(optarg);
	}
	if (argc - optind < 2 || secs <= 0)
		goto usage;
	fd = open(argv[optind], O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		return fprintf(stderr, "blkbench: %s: %s\n", argv[optind], strerror(errno)), 1;
	size = st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size))
		return fprintf(stderr, "blkbench: %s: BLKGETSIZE64: %s\n", argv[optind],
			       strerror(errno)), 1;
	close(fd);
	for (int i = optind + 1; i < argc; i++) {
		int r = run_test(argv[optind], size, argv[i], secs);

		if (r == 2)
			return 2;
		rc |= r;
	}
	return rc;
usage:
	fprintf(stderr, "usage: blkbench [-t SECS] FILE seqread|seqwrite|randread|randwrite[:JOBS]...\n");
	return 2;
}
