#ifndef VIRTIO__NET_H
#define VIRTIO__NET_H

/*
 * virtio-net: one device per -n/--network (virtio/net.c), with one of two
 * back ends:
 *   mode=user (default)  a user-mode stack inside lkvm (virtio/net-user.c):
 *                        ARP, DHCP, DNS forwarding, TCP/UDP/ICMP echo
 *                        proxied through ordinary host sockets; no root.
 *   mode=tap             a host tap device (virtio/net-tap.c), with the
 *                        data path in lkvm or, with vhost=1, in vhost-net.
 * Frames carry the 12-byte virtio_net_hdr_v1 (modern devices only).
 */
#include <linux/virtio_net.h>

#include "kvm/util.h"

struct kvm;
struct kvm_config;
struct net_config;
struct virtio_dev;

/* ---- options (virtio/net.c) ---- */

/* Parse one -n argument "mode=...,key=val,..." into @n: 0, or -1 with a one-line message. */
int net__parse(struct net_config *n, const char *arg, int index);
/* Parse and append to @cfg->nets (mode=none sets cfg->no_net). */
int net__add(struct kvm_config *cfg, const char *arg);
/*
 * Before the VM exists: add the default NIC (user mode) unless there is
 * none to add, and open every tap. 0, or -1 with a one-line message.
 */
int net__setup(struct kvm_config *cfg);

/* ---- tap and vhost-net (virtio/net-tap.c) ---- */

/*
 * Open /dev/net/tun as @n->tapif (or a new tap, whose name is stored in
 * @n->tapif) with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (and IFF_MULTI_QUEUE when
 * @multi) and a 12-byte header. A new tap gets @n->host_ip/24 and is brought
 * up (or @n->script is run with its name). Returns the fd, or a negative
 * errno with a one-line message.
 */
int tap__open(struct net_config *n, bool multi);
/* Can tap @name have several queues? (True when it does not exist yet.) */
bool tap__multiqueue(const char *name);
/* Another queue of multiqueue tap @name: its fd, or -errno with a message. */
int tap__open_queue(const char *name);
/* Let the tap hand frames to @fd's queue (or stop it). */
int tap__enable_queue(int fd, bool on);
/* Tell the tap which offloads the guest accepts (TUNSETOFFLOAD). */
int tap__set_offload(int fd, u64 guest_features);

struct vhost_net;
/* Open /dev/vhost-net and take ownership: NULL (and errno) when unusable. */
struct vhost_net *vhost_net__open(void);
/* What vhost-net supports of @features. */
u64 vhost_net__features(struct vhost_net *v, u64 features);
/* Hand @vdev's queues @first (receive) and @first + 1 (transmit) and @tap_fd to vhost-net. */
int vhost_net__start(struct vhost_net *v, struct virtio_dev *vdev, u16 first, int tap_fd);
/* Take the rings back (before a reset makes them go away). */
void vhost_net__stop(struct vhost_net *v);
void vhost_net__close(struct vhost_net *v);

/* ---- the user-mode stack (virtio/net-user.c) ---- */

struct net_user;

struct net_user_ops {
	/*
	 * Hand one frame (Ethernet header on) to the guest with its virtio
	 * header: 0, or -EAGAIN when the guest has no receive buffers now
	 * (net_user__rx_ready() says when it has).
	 */
	int	(*rx)(void *opaque, const struct virtio_net_hdr_v1 *hdr,
		      const void *frame, size_t len);
	/* The end of a batch of rx calls: interrupt the guest if needed. */
	void	(*rx_done)(void *opaque);
};

struct net_user_config {
	u32	guest_ip;	/* network order: 10.0.2.15, what DHCP hands out */
	u32	host_ip;	/* the gateway, 10.0.2.2: the host's 127.0.0.1 */
	u32	dns_ip;		/* 10.0.2.3: forwarded to the host's resolver */
	u32	dns_host;	/* where DNS goes on the host; 0: from /etc/resolv.conf */
	u8	guest_mac[6];
	u8	host_mac[6];
};

struct net_user_stats {
	u64	malformed;	/* frames dropped by a header check */
	u64	tcp_flows;	/* TCP connections proxied so far */
	u64	udp_flows;
	u64	rx_dropped;	/* frames the guest had no room for */
};

struct net_user *net_user__new(const struct net_user_config *cfg,
			       const struct net_user_ops *ops, void *opaque);
void net_user__free(struct net_user *u);
/* Offloads the guest accepted: partial checksums (GUEST_CSUM), TSO (GUEST_TSO4). */
void net_user__set_offload(struct net_user *u, bool csum, bool tso4);
/*
 * A frame from the guest (after the virtio header); @csum_partial: NEEDS_CSUM.
 * @frame is 2 bytes past a 4-byte boundary, so that its IP header is aligned.
 */
void net_user__input(struct net_user *u, const void *frame, size_t len, bool csum_partial);
/* End of a batch of input: send the acknowledgements owed, flush rx. */
void net_user__flush(struct net_user *u);
/* The guest posted receive buffers: send what waits. */
void net_user__rx_ready(struct net_user *u);
/* Drop every flow (device reset). */
void net_user__reset(struct net_user *u);
/* One round of the event loop: wait up to @timeout_ms for host sockets. */
int net_user__poll(struct net_user *u, int timeout_ms);
/* Run the event loop on a thread of its own, until net_user__stop(). */
int net_user__start(struct net_user *u);
void net_user__stop(struct net_user *u);
void net_user__get_stats(struct net_user *u, struct net_user_stats *s);
/* Flows open now (TCP + UDP + ICMP). */
int net_user__nr_flows(struct net_user *u);

/* Internet checksum helpers (RFC 1071), shared with the tests. */
u32 net__csum_add(u32 sum, const void *buf, size_t len);
u16 net__csum_fold(u32 sum);

#endif
