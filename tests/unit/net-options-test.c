/* -n/--network parsing and the default NIC: kvmtool's syntax, one-line errors. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "test.h"
#include "virtio/net.h"

/* net__parse(@arg) fails with exactly one line that contains @what. */
static bool bad(const char *arg, const char *what)
{
	struct net_config n;
	struct capture c;
	const char *text;
	int ret;

	capture__begin(&c);
	ret = net__parse(&n, arg, 0);
	text = capture__end(&c);
	if (ret != -1 || !one_line_with(text, what)) {
		fprintf(stderr, "    for '%s': %d, '%s'\n", arg, ret, text);
		return false;
	}
	return true;
}

static bool mac_is(const u8 *mac, const char *s)
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return !strcmp(buf, s);
}

TEST(net_options_defaults)
{
	struct net_config n;

	CHECK_EQ(net__parse(&n, "mode=user", 0), 0);
	CHECK_EQ(n.mode, NET_MODE_USER);
	CHECK(mac_is(n.guest_mac, "02:15:15:15:15:15"));
	CHECK(mac_is(n.host_mac, "02:01:01:01:01:01"));
	CHECK_EQ(n.guest_ip, inet_addr("10.0.2.15"));
	CHECK_EQ(n.host_ip, inet_addr("10.0.2.2"));
	CHECK_EQ(n.tap_fd, -1);
	CHECK(!n.vhost && !n.tapif[0]);
	/* The second NIC gets the next MAC. */
	CHECK_EQ(net__parse(&n, "mode=user", 1), 0);
	CHECK(mac_is(n.guest_mac, "02:15:15:15:15:16"));
	/* Tap defaults to kvmtool's host address. */
	CHECK_EQ(net__parse(&n, "mode=tap", 0), 0);
	CHECK_EQ(n.mode, NET_MODE_TAP);
	CHECK_EQ(n.host_ip, inet_addr("192.168.33.1"));
	/* kvmtool's short forms. */
	CHECK_EQ(net__parse(&n, "tap", 0), 0);
	CHECK_EQ(n.mode, NET_MODE_TAP);
	CHECK_EQ(net__parse(&n, "none", 0), 0);
	CHECK_EQ(n.mode, NET_MODE_NONE);
}

TEST(net_options_all_keys)
{
	struct net_config n;

	CHECK_EQ(net__parse(&n, "mode=tap,tapif=ltap0,vhost=1,guest_mac=52:54:00:12:34:56,"
			     "host_mac=52:54:00:ab:cd:ef,host_ip=192.168.7.1,script=none,"
			     "downscript=none", 0), 0);
	CHECK_EQ(n.mode, NET_MODE_TAP);
	CHECK(!strcmp(n.tapif, "ltap0"));
	CHECK(n.vhost);
	CHECK(mac_is(n.guest_mac, "52:54:00:12:34:56"));
	CHECK(mac_is(n.host_mac, "52:54:00:ab:cd:ef"));
	CHECK_EQ(n.host_ip, inet_addr("192.168.7.1"));
	CHECK(n.script && !strcmp(n.script, "none"));
	CHECK_EQ(net__parse(&n, "mode=user,guest_ip=10.0.5.20,host_ip=10.0.5.1", 0), 0);
	CHECK_EQ(n.guest_ip, inet_addr("10.0.5.20"));
	CHECK_EQ(n.host_ip, inet_addr("10.0.5.1"));
	CHECK_EQ(net__parse(&n, "vhost=0,mode=tap", 0), 0);
	CHECK(!n.vhost);
	CHECK_EQ(net__parse(&n, "mode=tap,mq=4", 0), 0);
	CHECK_EQ(n.mq, 4);
}

TEST(net_options_reject_bad_input)
{
	CHECK(bad("mode=bogus", "unknown mode 'bogus'"));
	CHECK(bad("mode=user,speed=10", "unknown option 'speed'"));
	CHECK(bad("mode=user,novalue", "malformed option 'novalue'"));
	CHECK(bad("=user", "malformed option"));
	CHECK(bad("", "needs an argument"));
	CHECK(bad("mode=tap,guest_mac=52:54:00:12:34", "bad value"));
	CHECK(bad("mode=tap,guest_mac=52:54:00:12:34:5g", "bad value"));
	CHECK(bad("mode=tap,guest_mac=01:00:5e:00:00:01", "bad value"));	/* multicast */
	CHECK(bad("mode=tap,host_ip=300.1.1.1", "bad value"));
	CHECK(bad("mode=tap,vhost=maybe", "bad value"));
	CHECK(bad("mode=tap,tapif=averyveryverylongname", "bad value"));
	CHECK(bad("mode=tap,tapif=a/b", "bad value"));
	CHECK(bad("mode=tap,downscript=/bin/foo", "bad value"));
	CHECK(bad("mode=user,vhost=1", "need mode=tap"));
	CHECK(bad("mode=user,tapif=tap0", "need mode=tap"));
	CHECK(bad("mode=user,guest_ip=192.168.1.5", "one /24"));
	CHECK(bad("mode=user,guest_ip=10.0.2.2", "must differ"));
	CHECK(bad("mode=tap,mq=0", "bad value '0' for mq"));
	CHECK(bad("mode=tap,mq=9", "bad value"));
	CHECK(bad("mode=tap,mq=2x", "bad value"));
	CHECK(bad("mode=user,mq=2", "need mode=tap"));
}

TEST(net_options_default_nic_none_and_limits)
{
	struct kvm_config c;
	struct capture cap;

	memset(&c, 0, sizeof(c));
	CHECK_EQ(net__setup(&c), 0);
	CHECK_EQ(c.nr_nets, 1);
	CHECK_EQ(c.nets[0].mode, NET_MODE_USER);

	memset(&c, 0, sizeof(c));
	c.nodefaults = true;
	CHECK_EQ(net__setup(&c), 0);
	CHECK_EQ(c.nr_nets, 0);

	memset(&c, 0, sizeof(c));
	CHECK_EQ(net__add(&c, "mode=user"), 0);
	CHECK_EQ(net__add(&c, "mode=none"), 0);
	CHECK(c.no_net);
	CHECK_EQ(net__setup(&c), 0);
	CHECK_EQ(c.nr_nets, 0);

	memset(&c, 0, sizeof(c));
	CHECK_EQ(net__add(&c, "mode=user"), 0);
	CHECK_EQ(net__add(&c, "mode=user,guest_mac=52:54:00:00:00:01"), 0);
	CHECK_EQ(net__setup(&c), 0);
	CHECK_EQ(c.nr_nets, 2);
	CHECK(mac_is(c.nets[1].guest_mac, "52:54:00:00:00:01"));

	memset(&c, 0, sizeof(c));
	for (int i = 0; i < MAX_NETS; i++)
		CHECK_EQ(net__add(&c, "mode=user"), 0);
	capture__begin(&cap);
	CHECK_EQ(net__add(&c, "mode=user"), -1);
	CHECK(strstr(capture__end(&cap), "too many network devices"));
}
