/* vCPUs: one host thread each, running KVM_RUN and dispatching exits. */
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/seccomp.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIG_KICK	SIGUSR1

static void kvm_cpu__kick_handler(int sig __unused)
{
}

static int kvm_cpu__create(struct kvm *kvm, int id, struct kvm_cpu **out)
{
	struct kvm_cpu *vcpu = calloc(1, sizeof(*vcpu));
	int ret;

	if (!vcpu)
		return -ENOMEM;
	vcpu->kvm = kvm;
	vcpu->id = id;
	vcpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VCPU %d: %s", id, strerror(errno));
		free(vcpu);
		return ret;
	}
	vcpu->run = mmap(NULL, kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		close(vcpu->fd);
		free(vcpu);
		return ret;
	}
	*out = vcpu;
	return kvm_cpu__arch_setup(vcpu);
}

int kvm_cpu__create_all(struct kvm *kvm)
{
	struct sigaction sa = { .sa_handler = kvm_cpu__kick_handler };
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIG_KICK, &sa, NULL);

	kvm->nr_cpus = kvm->cfg->nr_cpus;
	kvm->cpus = calloc(kvm->nr_cpus, sizeof(*kvm->cpus));
	if (!kvm->cpus)
		return -ENOMEM;
	for (int i = 0; i < kvm->nr_cpus; i++) {
		ret = kvm_cpu__create(kvm, i, &kvm->cpus[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static void kvm_cpu__io(struct kvm_cpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	u8 *data = (u8 *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;

	vcpu->stats.io++;
	for (u32 i = 0; i < run->io.count; i++, data += run->io.size)
		bus__access(&vcpu->kvm->pio, vcpu, run->io.port, data,
			    run->io.size, write);
}

static void kvm_cpu__mmio(struct kvm_cpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	vcpu->stats.mmio++;
	if (run->mmio.len > 8)
		return;
	bus__access(&vcpu->kvm->mmio, vcpu, run->mmio.phys_addr, run->mmio.data,
		    run->mmio.len, run->mmio.is_write);
}

static void kvm_cpu__fatal(struct kvm_cpu *vcpu, const char *what)
{
	pr_err("vCPU %d: %s", vcpu->id, what);
	kvm_cpu__dump(vcpu, STDERR_FILENO);
	kvm__request_stop(vcpu->kvm, KVM_STOP_ERROR, 1);
}

/* Handle one exit; false when the vCPU should stop running. */
static bool kvm_cpu__handle_exit(struct kvm_cpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char msg[96];

	vcpu->stats.exits++;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		kvm_cpu__io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		kvm_cpu__mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: what real hardware does on a failed reset too. */
		pr_info("guest reset (triple fault on vCPU %d)", vcpu->id);
		kvm__request_stop(vcpu->kvm, KVM_STOP_REBOOT, 0);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			kvm__request_stop(vcpu->kvm, KVM_STOP_REBOOT, 0);
		else
			kvm__request_stop(vcpu->kvm, KVM_STOP_POWEROFF, 0);
		return false;
	case KVM_EXIT_HLT:
		kvm_cpu__fatal(vcpu, "halted with interrupts disabled");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(msg, sizeof(msg), "VM entry failed (reason 0x%llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		kvm_cpu__fatal(vcpu, msg);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(msg, sizeof(msg), "KVM internal error (suberror %u)",
			 run->internal.suberror);
		kvm_cpu__fatal(vcpu, msg);
		return false;
	default:
		snprintf(msg, sizeof(msg), "unhandled exit reason %u", run->exit_reason);
		kvm_cpu__fatal(vcpu, msg);
		return false;
	}
}

/* Kicked out of KVM_RUN: park here while the VM is paused. */
static void kvm_cpu__maybe_park(struct kvm_cpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	pthread_mutex_lock(&kvm->pause_lock);
	if (kvm->paused && !kvm__stopping(kvm)) {
		kvm->nr_parked++;
		pthread_cond_broadcast(&kvm->pause_cond);
		/* Tell a kvmclock guest it was stopped, so its watchdogs do not fire. */
		ioctl(vcpu->fd, KVM_KVMCLOCK_CTRL, 0);
		while (kvm->paused && !kvm__stopping(kvm))
			pthread_cond_wait(&kvm->pause_cond, &kvm->pause_lock);
		kvm->nr_parked--;
	}
	if (!kvm__stopping(kvm))
		__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&kvm->pause_lock);
}

static void kvm_cpu__kick(struct kvm_cpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(vcpu->thread, SIG_KICK);
}

int kvm_cpu__pause_all(struct kvm *kvm)
{
	int running = 0;

	pthread_mutex_lock(&kvm->pause_lock);
	if (kvm->paused) {
		pthread_mutex_unlock(&kvm->pause_lock);
		return 0;
	}
	kvm->paused = true;
	for (int i = 0; i < kvm->nr_cpus; i++) {
		if (kvm->cpus[i]->started) {
			kvm_cpu__kick(kvm->cpus[i]);
			running++;
		}
	}
	while (kvm->nr_parked < running && !kvm__stopping(kvm))
		pthread_cond_wait(&kvm->pause_cond, &kvm->pause_lock);
	pthread_mutex_unlock(&kvm->pause_lock);
	return kvm__stopping(kvm) ? -ESHUTDOWN : 0;
}

void kvm_cpu__resume_all(struct kvm *kvm)
{
	pthread_mutex_lock(&kvm->pause_lock);
	kvm->paused = false;
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
}

static void *kvm_cpu__thread(void *arg)
{
	struct kvm_cpu *vcpu = arg;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "kvm-vcpu-%d", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!kvm__stopping(vcpu->kvm)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				kvm_cpu__maybe_park(vcpu);
				continue;
			}
			kvm_cpu__fatal(vcpu, strerror(errno));
			break;
		}
		if (!kvm_cpu__handle_exit(vcpu))
			break;
	}
	return NULL;
}

int kvm_cpu__start_all(struct kvm *kvm)
{
	sigset_t set, old;
	int ret = 0;

	/* vCPU threads inherit a blocked kick signal and unblock it themselves. */
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (int i = 0; i < kvm->nr_cpus && !ret; i++) {
		ret = seccomp__thread_create(&kvm->cpus[i]->thread, SECCOMP_ROLE_VCPU,
					     kvm_cpu__thread, kvm->cpus[i]);
		if (!ret)
			kvm->cpus[i]->started = true;
	}
	return ret;
}

void kvm_cpu__stop_all(struct kvm *kvm)
{
	for (int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *vcpu = kvm->cpus[i];

		if (!vcpu || !vcpu->started)
			continue;
		kvm_cpu__kick(vcpu);
	}
	for (int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *vcpu = kvm->cpus[i];

		if (!vcpu || !vcpu->started)
			continue;
		pthread_join(vcpu->thread, NULL);
		vcpu->started = false;
	}
}

void kvm_cpu__destroy_all(struct kvm *kvm)
{
	for (int i = 0; kvm->cpus && i < kvm->nr_cpus; i++) {
		struct kvm_cpu *vcpu = kvm->cpus[i];

		if (!vcpu)
			continue;
		munmap(vcpu->run, kvm->vcpu_mmap_size);
		close(vcpu->fd);
		free(vcpu);
	}
	free(kvm->cpus);
	kvm->cpus = NULL;
}

void kvm_cpu__dump(struct kvm_cpu *vcpu, int fd)
{
	dprintf(fd, "vCPU %d: %llu exits (%llu io, %llu mmio)\n", vcpu->id,
		(unsigned long long)vcpu->stats.exits,
		(unsigned long long)vcpu->stats.io,
		(unsigned long long)vcpu->stats.mmio);
	kvm_cpu__arch_dump(vcpu, fd);
}
