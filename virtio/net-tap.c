/*
 * The tap back end of virtio-net: /dev/net/tun with IFF_VNET_HDR, so the
 * guest's virtio_net_hdr (checksum and segmentation offload) goes through
 * unchanged; and vhost-net, which moves frames between the rings and the
 * tap inside the kernel.
 *
 * vhost-net gets the guest RAM layout, each ring's host addresses, the
 * queue's kick eventfd (the transport's ioeventfd: the device I/O thread
 * stops reading it) and a call eventfd of ours per queue. Calls are relayed
 * to the transport's signal() by a small thread, so MSI-X masking and
 * re-routing, INTx and virtio-mmio's interrupt status all keep working.
 */
#include "virtio/net.h"
#include "virtio/virtio.h"
#include "kvm/kvm.h"
#include "kvm/seccomp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define VHOST_NET_QUEUES	2	/* one receive/transmit pair per vhost-net device */

/* ---- tap ---- */

static int tap__error(const char *name, int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		pr_err("cannot %s tap device%s%s: permission denied (mode=tap needs "
		       "CAP_NET_ADMIN, or a tapif= created for this user)",
		       *name ? "attach" : "create", *name ? " " : "", name);
		break;
	case EBUSY:
		pr_err("tap device %s is busy (used by another process?)", name);
		break;
	case EINVAL:
		pr_err("%s is not a tap device, or has other settings", name);
		break;
	case ENOENT:
	case ENODEV:
		pr_err("cannot open /dev/net/tun: the tun driver is not available");
		break;
	default:
		pr_err("cannot set up tap device %s: %s", *name ? name : "(new)", strerror(err));
		break;
	}
	return -err;
}

static int tap__ifreq(int sock, unsigned long req, struct ifreq *ifr, const char *what)
{
	if (ioctl(sock, req, ifr) >= 0)
		return 0;
	pr_err("cannot %s of tap %s: %s", what, ifr->ifr_name, strerror(errno));
	return -errno;
}

/* A tap lkvm created: give the host its address and bring the link up. */
static int tap__configure(const struct net_config *n, const char *name)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (sock < 0)
		return -errno;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = n->host_ip;
	ret = tap__ifreq(sock, SIOCSIFADDR, &ifr, "set the address");
	sin->sin_addr.s_addr = htonl(0xffffff00);
	if (!ret)
		ret = tap__ifreq(sock, SIOCSIFNETMASK, &ifr, "set the netmask");
	if (!ret)
		ret = tap__ifreq(sock, SIOCGIFFLAGS, &ifr, "read the flags");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (!ret)
		ret = tap__ifreq(sock, SIOCSIFFLAGS, &ifr, "bring up the link");
	close(sock);
	return ret;
}

/* script=PATH: run it with the tap's name, as kvmtool does. */
static int tap__run_script(const char *script, const char *name)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		execl(script, script, name, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	pr_err("network script %s %s failed (status %d)", script, name,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return -EIO;
}

/* One queue of tap @name (a new tap when empty; its name is stored back). */
static int tap__attach(char *name, bool multi)
{
	struct ifreq ifr = { 0 };
	int hdr = sizeof(struct virtio_net_hdr_v1);
	int fd, ret;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return tap__error(name, errno);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = tap__error(name, errno);
		close(fd);
		return ret;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = 0;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		ret = -errno;
		pr_err("tap %s: cannot set the virtio header size: %s", name, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

bool tap__multiqueue(const char *name)
{
	char path[64];
	unsigned int flags;
	FILE *fp;
	bool ret = true;

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", name);
	fp = fopen(path, "re");
	if (!fp)
		return true;		/* no such tap yet: lkvm creates it */
	if (fscanf(fp, "%x", &flags) == 1)
		ret = flags & IFF_MULTI_QUEUE;
	fclose(fp);
	return ret;
}

int tap__open_queue(const char *name)
{
	char buf[IFNAMSIZ];

	snprintf(buf, sizeof(buf), "%s", name);
	return tap__attach(buf, true);
}

int tap__enable_queue(int fd, bool on)
{
	struct ifreq ifr = { .ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };

	return ioctl(fd, TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}

int tap__open(struct net_config *n, bool multi)
{
	bool created = !n->tapif[0] || !if_nametoindex(n->tapif);
	int fd = tap__attach(n->tapif, multi), ret = 0;

	if (fd < 0)
		return fd;
	if (n->script && strcmp(n->script, "none"))
		ret = tap__run_script(n->script, n->tapif);
	else if (created)
		ret = tap__configure(n, n->tapif);
	if (ret) {
		close(fd);
		return ret;
	}
	pr_debug("tap %s%s%s", n->tapif, created ? " (created)" : "", multi ? ", multiqueue" : "");
	return fd;
}

int tap__set_offload(int fd, u64 f)
{
	unsigned int off = 0;

	if (f & (1ull << VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if ((f & (1ull << VIRTIO_NET_F_GUEST_ECN)) && (off & (TUN_F_TSO4 | TUN_F_TSO6)))
			off |= TUN_F_TSO_ECN;
	}
	return ioctl(fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}

/* ---- vhost-net ---- */

struct vhost_net {
	int			fd;
	u64			features;	/* what VHOST_GET_FEATURES offered */
	struct virtio_dev	*vdev;
	u16			first;		/* vdev queue of vhost's queue 0 */
	u16			nr;		/* queues handed over */
	int			call_fd[VHOST_NET_QUEUES];
	int			epoll_fd;
	int			stop_fd;
	pthread_t		thread;
	bool			running;
};

struct vhost_net *vhost_net__open(void)
{
	struct vhost_net *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return NULL;
	v->epoll_fd = v->stop_fd = -1;
	for (int i = 0; i < VHOST_NET_QUEUES; i++)
		v->call_fd[i] = -1;
	v->fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (v->fd < 0 || ioctl(v->fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(v->fd, VHOST_GET_FEATURES, &v->features) < 0)
		goto fail;
	v->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	v->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->epoll_fd < 0 || v->stop_fd < 0)
		goto fail;
	return v;
fail:
	err = errno;
	vhost_net__close(v);
	errno = err;
	return NULL;
}

u64 vhost_net__features(struct vhost_net *v, u64 features)
{
	return features & v->features;
}

static int vhost__ioctl(struct vhost_net *v, unsigned long req, void *arg)
{
	return ioctl(v->fd, req, arg) < 0 ? -errno : 0;
}

/* Guest RAM as vhost sees it: below the PCI hole, and the rest above 4 GiB. */
static int vhost__set_mem(struct vhost_net *v, struct kvm *kvm)
{
	struct vhost_memory *m = calloc(1, sizeof(*m) + 2 * sizeof(m->regions[0]));
	int ret;

	if (!m)
		return -ENOMEM;
	m->regions[0] = (struct vhost_memory_region){
		.guest_phys_addr = 0, .memory_size = kvm->ram_low,
		.userspace_addr = (u64)(unsigned long)kvm->ram,
	};
	m->nregions = 1;
	if (kvm->ram_size > kvm->ram_low) {
		m->regions[1] = (struct vhost_memory_region){
			.guest_phys_addr = KVM_4G, .memory_size = kvm->ram_size - kvm->ram_low,
			.userspace_addr = (u64)(unsigned long)(kvm->ram + kvm->ram_low),
		};
		m->nregions = 2;
	}
	ret = vhost__ioctl(v, VHOST_SET_MEM_TABLE, m);
	free(m);
	return ret;
}

/* vhost's queue @i is @vq. */
static int vhost__set_vring(struct vhost_net *v, u16 i, struct virtio_queue *vq, int tap_fd)
{
	struct vhost_vring_state num = { .index = i, .num = vq->size };
	struct vhost_vring_state base = { .index = i, .num = vq->last_avail };
	struct vhost_vring_addr addr = {
		.index = i,
		.desc_user_addr = (u64)(unsigned long)vq->desc,
		.avail_user_addr = (u64)(unsigned long)vq->avail,
		.used_user_addr = (u64)(unsigned long)vq->used,
	};
	struct vhost_vring_file kick = { .index = i, .fd = vq->kick_fd };
	struct vhost_vring_file call = { .index = i, .fd = v->call_fd[i] };
	struct vhost_vring_file backend = { .index = i, .fd = tap_fd };
	int ret;

	ret = vhost__ioctl(v, VHOST_SET_VRING_NUM, &num);
	if (!ret)
		ret = vhost__ioctl(v, VHOST_SET_VRING_BASE, &base);
	if (!ret)
		ret = vhost__ioctl(v, VHOST_SET_VRING_ADDR, &addr);
	if (!ret)
		ret = vhost__ioctl(v, VHOST_SET_VRING_CALL, &call);
	if (!ret)
		ret = virtio_dev__watch_kick(vq->vdev, vq, false);
	if (!ret)
		ret = vhost__ioctl(v, VHOST_SET_VRING_KICK, &kick);
	if (!ret)
		ret = vhost__ioctl(v, VHOST_NET_SET_BACKEND, &backend);
	return ret;
}

/* Interrupts vhost asks for go through the transport. */
static void *vhost__call_thread(void *arg)
{
	struct vhost_net *v = arg;

	pthread_setname_np(pthread_self(), "vhost-call");
	for (;;) {
		struct epoll_event ev[8];
		int n = epoll_wait(v->epoll_fd, ev, 8, -1);

		for (int i = 0; i < n; i++) {
			struct virtio_queue *vq = ev[i].data.ptr;
			u64 c;

			if (!vq)
				return NULL;
			if (read(v->call_fd[vq->index - v->first], &c, sizeof(c)) < 0)
				continue;
			__atomic_fetch_add(&v->vdev->stats.interrupts, 1, __ATOMIC_RELAXED);
			v->vdev->transport->signal(v->vdev, vq);
		}
	}
}

static int vhost__start_calls(struct vhost_net *v, struct virtio_dev *vdev)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (epoll_ctl(v->epoll_fd, EPOLL_CTL_ADD, v->stop_fd, &ev) && errno != EEXIST)
		return -errno;
	for (u16 i = 0; i < VHOST_NET_QUEUES; i++) {
		if (v->call_fd[i] < 0)
			v->call_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ev.data.ptr = &vdev->vqs[v->first + i];
		if (v->call_fd[i] < 0 ||
		    (epoll_ctl(v->epoll_fd, EPOLL_CTL_ADD, v->call_fd[i], &ev) && errno != EEXIST))
			return -errno;
	}
	if (seccomp__thread_create(&v->thread, SECCOMP_ROLE_IO, vhost__call_thread, v))
		return -EAGAIN;
	v->running = true;
	return 0;
}

int vhost_net__start(struct vhost_net *v, struct virtio_dev *vdev, u16 first, int tap_fd)
{
	u64 features = vdev->guest_features & v->features;
	int ret;

	if (first + VHOST_NET_QUEUES > vdev->nr_queues)
		return -EINVAL;
	v->vdev = vdev;
	v->first = first;
	ret = vhost__ioctl(v, VHOST_SET_FEATURES, &features);
	if (!ret)
		ret = vhost__set_mem(v, vdev->kvm);
	if (!ret)
		ret = vhost__start_calls(v, vdev);
	for (u16 i = 0; i < VHOST_NET_QUEUES && !ret; i++) {
		v->nr = i + 1;
		ret = vhost__set_vring(v, i, &vdev->vqs[first + i], tap_fd);
	}
	if (ret) {
		vhost_net__stop(v);
		return ret;
	}
	/* Kicks the I/O thread took before the handover: vhost looks at the rings now. */
	for (u16 i = 0; i < VHOST_NET_QUEUES; i++)
		virtio_dev__kick(vdev, &vdev->vqs[first + i]);
	return 0;
}

void vhost_net__stop(struct vhost_net *v)
{
	u64 one = 1;

	for (u16 i = 0; i < v->nr; i++) {
		struct virtio_queue *vq = &v->vdev->vqs[v->first + i];
		struct vhost_vring_file backend = { .index = i, .fd = -1 };
		struct vhost_vring_state base = { .index = i };

		vhost__ioctl(v, VHOST_NET_SET_BACKEND, &backend);
		vhost__ioctl(v, VHOST_GET_VRING_BASE, &base);
		virtio_dev__watch_kick(v->vdev, vq, true);
	}
	v->nr = 0;
	if (v->running && write(v->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(v->thread, NULL);
	if (read(v->stop_fd, &one, sizeof(one)) < 0)
		one = 0;
	v->running = false;
}

void vhost_net__close(struct vhost_net *v)
{
	if (!v)
		return;
	if (v->vdev)
		vhost_net__stop(v);
	for (int i = 0; i < VHOST_NET_QUEUES; i++)
		if (v->call_fd[i] >= 0)
			close(v->call_fd[i]);
	if (v->fd >= 0)
		close(v->fd);
	if (v->epoll_fd >= 0)
		close(v->epoll_fd);
	if (v->stop_fd >= 0)
		close(v->stop_fd);
	free(v);
}
