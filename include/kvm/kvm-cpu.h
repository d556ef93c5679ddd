#ifndef KVM__KVM_CPU_H
#define KVM__KVM_CPU_H

#include <linux/kvm.h>
#include <pthread.h>

#include "kvm/util.h"

struct kvm;

struct kvm_cpu_stats {
	u64	exits;
	u64	io;
	u64	mmio;
};

struct kvm_cpu {
	struct kvm		*kvm;
	int			id;
	int			fd;
	struct kvm_run		*run;
	pthread_t		thread;
	bool			started;
	struct kvm_cpu_stats	stats;
};

int kvm_cpu__create_all(struct kvm *kvm);
int kvm_cpu__start_all(struct kvm *kvm);
/* Kick every vCPU out of KVM_RUN and wait for the threads to end. */
void kvm_cpu__stop_all(struct kvm *kvm);
void kvm_cpu__destroy_all(struct kvm *kvm);
/* Stop every vCPU outside KVM_RUN (returns once all are parked), and go on. */
int kvm_cpu__pause_all(struct kvm *kvm);
void kvm_cpu__resume_all(struct kvm *kvm);
void kvm_cpu__dump(struct kvm_cpu *vcpu, int fd);

/* Architecture hooks (x86/kvm-cpu.c). */
int kvm_cpu__arch_setup(struct kvm_cpu *vcpu);
void kvm_cpu__arch_dump(struct kvm_cpu *vcpu, int fd);

#endif
