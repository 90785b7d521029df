// SPDX-License-Identifier: GPL-2.0
/*
 * Events for the guest: exceptions, external interrupts and NMIs given
 * to it through VM-entry event injection (SDM Vol. 3C 27.6), the
 * interrupt and NMI windows that tell when it can take them (26.7.5,
 * 26.7.6), re-injection of an event whose delivery a VM exit interrupted
 * (28.2.4), and the debug features a VMM uses: single-step (monitor trap
 * flag, 26.5.2), #BP and #DB intercepts, and the guest's debug registers.
 *
 * A vCPU holds at most one event to inject (vcpu->event, in the format
 * of the VM-entry interruption-information field), plus one queued
 * external interrupt and one queued NMI waiting for their windows.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <asm/processor.h>
#include <asm/debugreg.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "xvcpu.h"
#include "vmcs.h"

#define INTR_SHADOW	(VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS)
#define PENDING_DBG_KNOWN (VMX_PENDING_DBG_B0_B3 | VMX_PENDING_DBG_ENABLED_BP | \
			   VMX_PENDING_DBG_BS | VMX_PENDING_DBG_RTM)

/* DR6 and DR7 bits a guest can change; the rest read fixed (SDM Vol. 3B 19.2) */
#define GDR6_GUEST_BITS	(0xfUL | BIT(13) | BIT(14) | BIT(15))
#define GDR6_FIXED_1	0xffff0ff0UL
#define GDR6_BD		BIT(13)
#define GDR6_BS		BIT(14)
#define GDR7_GUEST_BITS	0xffff23ffUL
#define GDR7_FIXED_1	0x400UL
#define GDR7_GD		BIT(13)
#define GDR7_ENABLES	0xffUL

static u32 intr_type(u32 info)
{
	return info & VMX_INTR_INFO_TYPE_MASK;
}

static bool type_is_soft(u32 type)
{
	return type == VMX_INTR_TYPE_SOFT_INTR ||
	       type == VMX_INTR_TYPE_PRIV_SOFT_EXC ||
	       type == VMX_INTR_TYPE_SOFT_EXCEPTION;
}

/* The exceptions that push an error code (SDM Vol. 3A 7.3, Table 7-1) */
static bool exception_has_error_code(unsigned int vector)
{
	switch (vector) {
	case X86_TRAP_DF:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
	case X86_TRAP_PF:
	case X86_TRAP_AC:
		return true;
	}
	return false;
}

void xvcpu_queue_exception(struct xvcpu_vcpu *vcpu, unsigned int vector,
			   u32 error_code)
{
	u32 info = VMX_INTR_INFO_VALID | VMX_INTR_TYPE_HW_EXCEPTION | vector;

	if (exception_has_error_code(vector))
		info |= VMX_INTR_INFO_DELIVER_CODE;
	vcpu->event.info = info;
	vcpu->event.error_code = error_code;
	vcpu->event.insn_len = 0;
}

/*
 * Write vcpu->event into the VM-entry fields.  An error code is pushed
 * only in protected mode: with unrestricted guest and CR0.PE = 0 the
 * deliver-error-code bit must be 0 (27.2.1.3).
 */
static void event_write_entry(struct xvcpu_vcpu *vcpu)
{
	u32 info = vcpu->event.info;

	if ((info & VMX_INTR_INFO_DELIVER_CODE) &&
	    !(vmcs_read(VMCS_GUEST_CR0) & X86_CR0_PE))
		info &= ~VMX_INTR_INFO_DELIVER_CODE;
	if (info & VMX_INTR_INFO_DELIVER_CODE)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vcpu->event.error_code);
	if (type_is_soft(intr_type(info)))
		vmcs_write(VMCS_ENTRY_INSTRUCTION_LEN, vcpu->event.insn_len);
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	vcpu->entry_intr_written = true;
}

/*
 * Before each VM entry, VMCS current, interrupts off: pick the event to
 * inject (an injected one first, then a queued NMI, then a queued
 * interrupt: SDM Vol. 3A 7.9 priorities), and ask for an exit when the
 * guest can take what must still wait.
 */
void event_prepare_entry(struct xvcpu_vcpu *vcpu)
{
	u32 proc = vcpu->proc_ctl & ~(VMX_PROC_INTR_WINDOW_EXITING |
				      VMX_PROC_NMI_WINDOW_EXITING);
	bool want_irq_window = vcpu->run->request_interrupt_window;

	if (vcpu->nmi_queued || vcpu->irq_queued) {
		u32 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
		bool free = !(vcpu->event.info & VMX_INTR_INFO_VALID);

		/* 27.3.1.5: no NMI injection under blocking by NMI or a shadow */
		if (free && vcpu->nmi_queued &&
		    !(intr & (INTR_SHADOW | VMX_INTERRUPTIBILITY_NMI))) {
			vcpu->event = (struct xvcpu_event_state){
				.info = VMX_INTR_INFO_VALID | VMX_INTR_TYPE_NMI |
					X86_TRAP_NMI,
			};
			vcpu->nmi_queued = false;
			free = false;
		}
		/* External interrupts need RFLAGS.IF = 1 and no shadow */
		if (free && vcpu->irq_queued && !(intr & INTR_SHADOW) &&
		    (vmcs_read(VMCS_GUEST_RFLAGS) & X86_EFLAGS_IF)) {
			vcpu->event = (struct xvcpu_event_state){
				.info = VMX_INTR_INFO_VALID |
					VMX_INTR_TYPE_EXT_INTR | vcpu->irq_vector,
			};
			vcpu->irq_queued = false;
		}
		if (vcpu->nmi_queued)
			proc |= VMX_PROC_NMI_WINDOW_EXITING;
		want_irq_window |= vcpu->irq_queued;
	}
	if (want_irq_window && vmx_caps.intr_window)
		proc |= VMX_PROC_INTR_WINDOW_EXITING;
	if (vcpu->event.info & VMX_INTR_INFO_VALID)
		event_write_entry(vcpu);
	if (proc != vcpu->proc_ctl) {
		vmcs_write(VMCS_PROC_CONTROLS, proc);
		vcpu->proc_ctl = proc;
	}
}

/*
 * After VM entry failed: the event was not delivered and stays in
 * vcpu->event; the VM-entry field must not carry it into a later entry
 * that userspace may have changed.
 */
void event_entry_failed(struct xvcpu_vcpu *vcpu)
{
	if (vcpu->entry_intr_written) {
		vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
		vcpu->entry_intr_written = false;
	}
}

/*
 * After a VM exit (the entry succeeded): the injected event was
 * delivered, unless its delivery was cut short by this exit, which then
 * reports it in the IDT-vectoring information to be injected again
 * (SDM Vol. 3C 28.2.4; VM exit cleared the VM-entry field, 28.2).
 */
void event_after_exit(struct xvcpu_vcpu *vcpu, u32 basic_reason)
{
	u32 idt = vmcs_read(VMCS_IDT_VECTORING_INFO);
	bool nmi_unblocked = false;

	vcpu->entry_intr_written = false;
	vcpu->event.info = 0;
	if (idt & VMX_INTR_INFO_VALID) {
		u32 type = intr_type(idt);

		vcpu->event.info = idt & (VMX_INTR_INFO_VALID |
					  VMX_INTR_INFO_TYPE_MASK |
					  VMX_INTR_INFO_DELIVER_CODE |
					  VMX_INTR_INFO_VECTOR_MASK);
		vcpu->event.error_code = (idt & VMX_INTR_INFO_DELIVER_CODE) ?
			vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE) : 0;
		/*
		 * In real mode an exception pushes no error code, so the
		 * IDT-vectoring information has none (28.2.4).  Keep the
		 * event in the one form SET_EVENTS takes back; entry drops
		 * the code again while CR0.PE = 0 (event_write_entry()).
		 */
		if (type == VMX_INTR_TYPE_HW_EXCEPTION &&
		    exception_has_error_code(idt & VMX_INTR_INFO_VECTOR_MASK))
			vcpu->event.info |= VMX_INTR_INFO_DELIVER_CODE;
		vcpu->event.insn_len = type_is_soft(type) ?
			vmcs_read(VMCS_EXIT_INSTRUCTION_LEN) : 0;
		/*
		 * An NMI whose delivery was cut short left blocking by NMI
		 * set; injecting it again requires it clear (27.3.1.5).
		 */
		if (type == VMX_INTR_TYPE_NMI && vmx_caps.virtual_nmis)
			vmcs_clear_bits(VMCS_GUEST_INTERRUPTIBILITY,
					VMX_INTERRUPTIBILITY_NMI);
		return;
	}
	if (!vmx_caps.virtual_nmis)
		return;
	/*
	 * A fault in an IRET that had unblocked NMIs: blocking by NMI must
	 * be restored before the guest re-executes the IRET (28.2.3).
	 */
	if (basic_reason == VMX_EXIT_EXCEPTION_NMI)
		nmi_unblocked = vmcs_read(VMCS_EXIT_INTR_INFO) &
				VMX_INTR_INFO_NMI_UNBLOCK;
	else if (basic_reason == VMX_EXIT_EPT_VIOLATION)
		nmi_unblocked = vmcs_read(VMCS_EXIT_QUALIFICATION) &
				VMX_EPT_VIOL_NMI_UNBLOCK;
	if (nmi_unblocked)
		vmcs_set_bits(VMCS_GUEST_INTERRUPTIBILITY,
			      VMX_INTERRUPTIBILITY_NMI);
}

/*
 * SET_REGS is clearing RFLAGS.IF.  An external interrupt that is being
 * injected needs IF = 1 (SDM Vol. 3C 27.3.1.4): it goes back to the queue
 * to wait for the guest's next STI.  With an interrupt already queued
 * there is no room for it, and SET_REGS is refused.
 */
int event_requeue_interrupt(struct xvcpu_vcpu *vcpu)
{
	u32 info = vcpu->event.info;

	if (!(info & VMX_INTR_INFO_VALID) ||
	    intr_type(info) != VMX_INTR_TYPE_EXT_INTR)
		return 0;
	if (vcpu->irq_queued)
		return xvcpu_refuse(-EINVAL, "SET_REGS: IF = 0, interrupts injected and queued");
	vcpu->irq_vector = info & VMX_INTR_INFO_VECTOR_MASK;
	vcpu->irq_queued = true;
	vcpu->event.info = 0;
	return 0;
}

/* The run page's view of the guest's readiness for an interrupt. */
void event_fill_run(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;
	bool if_flag = vmcs_read(VMCS_GUEST_RFLAGS) & X86_EFLAGS_IF;

	run->if_flag = if_flag;
	run->ready_for_interrupt_injection = if_flag &&
		!(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & INTR_SHADOW) &&
		!vcpu->irq_queued && !(vcpu->event.info & VMX_INTR_INFO_VALID);
}

/* Interrupt window open: inject what waits, or tell userspace. */
int event_handle_interrupt_window(struct xvcpu_vcpu *vcpu)
{
	if (vcpu->irq_queued || !vcpu->run->request_interrupt_window)
		return 1;
	vcpu->run->exit_reason = XVCPU_EXIT_IRQ_WINDOW_OPEN;
	return 0;
}

int event_handle_nmi_window(struct xvcpu_vcpu *vcpu)
{
	return 1;
}

/* ---- ioctls (VMCS not current on entry) ---- */

static void event_to_abi(const struct xvcpu_event_state *e,
			 struct xvcpu_event *out)
{
	memset(out, 0, sizeof(*out));
	if (!(e->info & VMX_INTR_INFO_VALID))
		return;
	out->valid = 1;
	out->type = intr_type(e->info) >> VMX_INTR_TYPE_SHIFT;
	out->vector = e->info & VMX_INTR_INFO_VECTOR_MASK;
	out->has_error_code = !!(e->info & VMX_INTR_INFO_DELIVER_CODE);
	out->error_code = e->error_code;
	out->instruction_len = e->insn_len;
}

void xvcpu_vcpu_get_events(struct xvcpu_vcpu *vcpu, struct xvcpu_events *ev)
{
	u64 pending_debug;
	u32 intr;

	preempt_disable();
	vmcs_load(vcpu);
	intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	pending_debug = vmcs_read(VMCS_GUEST_PENDING_DBG) & PENDING_DBG_KNOWN;
	vmcs_clear(vcpu);
	preempt_enable();

	memset(ev, 0, sizeof(*ev));
	ev->pending_debug = pending_debug;
	event_to_abi(&vcpu->event, &ev->injected);
	ev->interrupt_queued = vcpu->irq_queued;
	ev->interrupt_vector = vcpu->irq_queued ? vcpu->irq_vector : 0;
	ev->nmi_queued = vcpu->nmi_queued;
	ev->nmi_masked = !!(intr & VMX_INTERRUPTIBILITY_NMI);
	ev->shadow = (intr & VMX_INTERRUPTIBILITY_STI ? XVCPU_SHADOW_STI : 0) |
		     (intr & VMX_INTERRUPTIBILITY_MOV_SS ? XVCPU_SHADOW_MOV_SS : 0);
}

/*
 * An event VM entry can inject (SDM Vol. 3C 27.2.1.3): its type, vector,
 * error code and instruction length.  Returns a reason, or NULL.
 */
static const char *event_invalid(const struct xvcpu_event *e)
{
	bool soft;

	if (e->pad)
		return "pad is not zero";
	/* Not valid: the rest is ignored, so GET, clear valid, SET works */
	if (!e->valid)
		return NULL;
	if (e->valid != 1)
		return "valid is not 0 or 1";
	switch (e->type) {
	case XVCPU_EVENT_EXTINT:
	case XVCPU_EVENT_SOFT_INT:
		break;
	case XVCPU_EVENT_NMI:
		if (e->vector != X86_TRAP_NMI)
			return "an NMI has vector 2";
		if (!vmx_caps.virtual_nmis)
			return "NMI injection needs virtual NMIs";
		break;
	case XVCPU_EVENT_EXCEPTION:
		if (e->vector > 31)
			return "exception vector above 31";
		break;
	case XVCPU_EVENT_PRIV_SOFT_EXCEPTION:
		if (e->vector != X86_TRAP_DB)
			return "a privileged software exception is INT1, vector 1";
		break;
	case XVCPU_EVENT_SOFT_EXCEPTION:
		if (e->vector != X86_TRAP_BP && e->vector != X86_TRAP_OF)
			return "a software exception is INT3 or INTO";
		break;
	default:
		return "unknown event type";
	}
	if (e->has_error_code > 1)
		return "has_error_code is not 0 or 1";
	if (e->has_error_code != (e->type == XVCPU_EVENT_EXCEPTION &&
				  exception_has_error_code(e->vector)))
		return "has_error_code does not match the vector";
	/* 27.2.1.3: bits 31:16 of the error code must be 0 */
	if (e->error_code >> 16 || (!e->has_error_code && e->error_code))
		return "error code beyond 16 bits, or without has_error_code";
	soft = e->type == XVCPU_EVENT_SOFT_INT ||
	       e->type == XVCPU_EVENT_PRIV_SOFT_EXCEPTION ||
	       e->type == XVCPU_EVENT_SOFT_EXCEPTION;
	if (soft ? e->instruction_len < 1 || e->instruction_len > 15 :
		   e->instruction_len != 0)
		return "instruction_len must be 1..15 for software events, else 0";
	return NULL;
}

/*
 * SET_REGS changed RFLAGS (VMCS current): under an interrupt shadow the
 * pending single step must follow TF, or VM entry fails (27.3.1.5).
 */
void event_regs_changed(void)
{
	u64 pd;

	if (!(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & INTR_SHADOW))
		return;
	pd = vmcs_read(VMCS_GUEST_PENDING_DBG) & ~VMX_PENDING_DBG_BS;
	if (vmcs_guest_single_step_due())
		pd |= VMX_PENDING_DBG_BS;
	vmcs_write(VMCS_GUEST_PENDING_DBG, pd);
}

/*
 * What VM entry requires of the guest's state with the event (SDM Vol. 3C
 * 27.3.1.5): blocking by STI only with RFLAGS.IF = 1; an external
 * interrupt only with IF = 1 and no shadow (else queue it with
 * XVCPU_INTERRUPT); an NMI not under a MOV SS shadow nor NMI blocking;
 * pending debug exceptions as below.  VMCS current.
 */
static const char *event_state_invalid(const struct xvcpu_events *ev,
				       unsigned long rflags)
{
	bool if_flag = rflags & X86_EFLAGS_IF;
	u64 pd = ev->pending_debug;

	if ((ev->shadow & XVCPU_SHADOW_STI) && !if_flag)
		return "STI shadow with RFLAGS.IF = 0";
	/* 27.3.1.5, checks on the pending debug exceptions */
	if (pd & ~PENDING_DBG_KNOWN)
		return "pending_debug has bits other than B0-B3, ENABLED_BP, BS, RTM";
	if ((pd & VMX_PENDING_DBG_RTM) &&
	    (pd != (VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP) ||
	     (ev->shadow & XVCPU_SHADOW_MOV_SS)))
		return "pending_debug RTM goes only with ENABLED_BP and no MOV SS shadow";
	if (ev->shadow &&
	    !(pd & VMX_PENDING_DBG_BS) != !vmcs_guest_single_step_due())
		return "with a shadow, pending_debug BS must be RFLAGS.TF = 1 and DEBUGCTL.BTF = 0";
	if (!ev->injected.valid)
		return NULL;
	if (ev->injected.type == XVCPU_EVENT_EXTINT && (!if_flag || ev->shadow))
		return "an injected interrupt needs RFLAGS.IF = 1 and no shadow";
	if (ev->injected.type == XVCPU_EVENT_NMI &&
	    (ev->nmi_masked || (ev->shadow & XVCPU_SHADOW_MOV_SS)))
		return "an injected NMI needs NMIs unmasked and no MOV SS shadow";
	return NULL;
}

int xvcpu_vcpu_set_events(struct xvcpu_vcpu *vcpu,
			  const struct xvcpu_events *ev)
{
	const char *why = event_invalid(&ev->injected);
	u32 intr, rflags;
	int i;

	for (i = 0; i < ARRAY_SIZE(ev->reserved); i++)
		if (ev->reserved[i])
			why = "reserved field is not zero";
	if (ev->pad[0] | ev->pad[1] | ev->pad[2])
		why = "pad is not zero";
	if (ev->interrupt_queued > 1 || ev->nmi_queued > 1 || ev->nmi_masked > 1)
		why = "a flag is not 0 or 1";
	if (!ev->interrupt_queued && ev->interrupt_vector)
		why = "interrupt_vector without interrupt_queued";
	if (ev->nmi_queued && !vmx_caps.nmi_window)
		why = "NMIs need virtual NMIs and NMI-window exiting";
	if (ev->shadow & ~(XVCPU_SHADOW_STI | XVCPU_SHADOW_MOV_SS) ||
	    ev->shadow == (XVCPU_SHADOW_STI | XVCPU_SHADOW_MOV_SS))
		why = "shadow is STI or MOV SS, not both";
	if (why)
		return xvcpu_refuse(-EINVAL, "SET_EVENTS: %s", why);

	preempt_disable();
	vmcs_load(vcpu);
	rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	why = event_state_invalid(ev, rflags);
	if (why) {
		vmcs_clear(vcpu);
		preempt_enable();
		return xvcpu_refuse(-EINVAL, "SET_EVENTS: %s", why);
	}
	intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) &
	       ~(INTR_SHADOW | VMX_INTERRUPTIBILITY_NMI);
	if (ev->shadow & XVCPU_SHADOW_STI)
		intr |= VMX_INTERRUPTIBILITY_STI;
	if (ev->shadow & XVCPU_SHADOW_MOV_SS)
		intr |= VMX_INTERRUPTIBILITY_MOV_SS;
	if (ev->nmi_masked)
		intr |= VMX_INTERRUPTIBILITY_NMI;
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr);
	vmcs_write(VMCS_GUEST_PENDING_DBG, ev->pending_debug);
	event_entry_failed(vcpu);	/* no stale event in the VMCS */
	vmcs_clear(vcpu);
	preempt_enable();

	vcpu->event = (struct xvcpu_event_state){};
	if (ev->injected.valid) {
		vcpu->event.info = VMX_INTR_INFO_VALID | ev->injected.vector |
			(ev->injected.type << VMX_INTR_TYPE_SHIFT) |
			(ev->injected.has_error_code ? VMX_INTR_INFO_DELIVER_CODE : 0);
		vcpu->event.error_code = ev->injected.error_code;
		vcpu->event.insn_len = ev->injected.instruction_len;
	}
	vcpu->irq_queued = ev->interrupt_queued;
	vcpu->irq_vector = ev->interrupt_vector;
	vcpu->nmi_queued = ev->nmi_queued;
	return 0;
}

int xvcpu_vcpu_interrupt(struct xvcpu_vcpu *vcpu,
			 const struct xvcpu_interrupt *irq)
{
	if (irq->pad || irq->vector > 255)
		return xvcpu_refuse(-EINVAL, "INTERRUPT: vector %u above 255 or pad set",
				    irq->vector);
	if (vcpu->irq_queued)
		return xvcpu_refuse(-EBUSY, "INTERRUPT: vector %u still queued",
				    vcpu->irq_vector);
	vcpu->irq_vector = irq->vector;
	vcpu->irq_queued = true;
	return 0;
}

int xvcpu_vcpu_nmi(struct xvcpu_vcpu *vcpu)
{
	if (!vmx_caps.nmi_window)
		return xvcpu_refuse(-EOPNOTSUPP, "NMI: the CPU has no virtual NMIs");
	if (vcpu->nmi_queued)
		return xvcpu_refuse(-EBUSY, "NMI: one is still queued");
	vcpu->nmi_queued = true;
	return 0;
}

/* ---- debugging ---- */

/*
 * Always intercepted: #DB, so the guest's DR6 is kept here (see below);
 * #MC, a host machine check, which the host's handler takes (switch.c);
 * #AC, which may be a host split-lock detection (exit.c).
 */
static u32 exception_bitmap(u32 debug_flags)
{
	u32 bitmap = BIT(X86_TRAP_DB) | BIT(X86_TRAP_MC) | BIT(X86_TRAP_AC);

	if (debug_flags & XVCPU_DEBUG_INTERCEPT_BP)
		bitmap |= BIT(X86_TRAP_BP);
	return bitmap;
}

void event_setup_vmcs(struct xvcpu_vcpu *vcpu)
{
	vcpu->dr6 = GDR6_FIXED_1;
	vmcs_write(VMCS_EXCEPTION_BITMAP, exception_bitmap(vcpu->guest_debug));
}

int xvcpu_vcpu_set_guest_debug(struct xvcpu_vcpu *vcpu,
			       const struct xvcpu_guest_debug *dbg)
{
	u32 all = XVCPU_DEBUG_SINGLESTEP | XVCPU_DEBUG_INTERCEPT_BP |
		  XVCPU_DEBUG_INTERCEPT_DB;

	if (dbg->flags & ~all || dbg->pad || dbg->reserved[0] ||
	    dbg->reserved[1] || dbg->reserved[2])
		return xvcpu_refuse(-EINVAL, "SET_GUEST_DEBUG: flags %#x or reserved field bad",
				    dbg->flags);
	if ((dbg->flags & XVCPU_DEBUG_SINGLESTEP) && !vmx_caps.mtf)
		return xvcpu_refuse(-EOPNOTSUPP, "SET_GUEST_DEBUG: no monitor trap flag");

	vcpu->guest_debug = dbg->flags;
	preempt_disable();
	vmcs_load(vcpu);
	vmcs_write(VMCS_EXCEPTION_BITMAP, exception_bitmap(dbg->flags));
	if (dbg->flags & XVCPU_DEBUG_SINGLESTEP)
		vcpu->proc_ctl |= VMX_PROC_MONITOR_TRAP_FLAG;
	else
		vcpu->proc_ctl &= ~VMX_PROC_MONITOR_TRAP_FLAG;
	vmcs_write(VMCS_PROC_CONTROLS, vcpu->proc_ctl);
	vmcs_clear(vcpu);
	preempt_enable();
	return 0;
}

static void event_set_dr7(struct xvcpu_vcpu *vcpu, unsigned long val)
{
	val = (val & GDR7_GUEST_BITS) | GDR7_FIXED_1;
	vmcs_write(VMCS_GUEST_DR7, val);
	vcpu->guest_dr_active = val & GDR7_ENABLES;
}

static int debug_exit(struct xvcpu_vcpu *vcpu, unsigned int exception,
		      unsigned long dr6)
{
	struct xvcpu_run *run = vcpu->run;

	memset(&run->debug, 0, sizeof(run->debug));
	run->exit_reason = XVCPU_EXIT_DEBUG;
	run->debug.exception = exception;
	run->debug.pc = vmcs_read(VMCS_GUEST_CS_BASE) + vmcs_read(VMCS_GUEST_RIP);
	run->debug.dr6 = dr6;
	run->debug.dr7 = vmcs_read(VMCS_GUEST_DR7);
	return 0;
}

/* Monitor trap flag: one guest instruction done (SDM Vol. 3C 26.5.2) */
int event_handle_mtf(struct xvcpu_vcpu *vcpu)
{
	return debug_exit(vcpu, X86_TRAP_DB, GDR6_FIXED_1 | GDR6_BS);
}

/*
 * A #DB or #BP exception exit.  #DB: the qualification holds what the
 * processor would have put in DR6 (Table 28-1), which it did not touch;
 * the guest's DR6 is updated here and the #DB delivered, as the guest
 * would have seen it, unless the VMM intercepts it.  Returns -ENOENT for
 * other exceptions.
 */
int event_handle_debug_exception(struct xvcpu_vcpu *vcpu, u32 info)
{
	unsigned int vector = info & VMX_INTR_INFO_VECTOR_MASK;
	unsigned long bits;

	if (vector == X86_TRAP_BP &&
	    (vcpu->guest_debug & XVCPU_DEBUG_INTERCEPT_BP))
		return debug_exit(vcpu, X86_TRAP_BP, vcpu->dr6);
	if (vector != X86_TRAP_DB)
		return -ENOENT;

	bits = vmcs_read(VMCS_EXIT_QUALIFICATION) & VMX_DB_QUAL_MASK;
	if (vcpu->guest_debug & XVCPU_DEBUG_INTERCEPT_DB)
		return debug_exit(vcpu, X86_TRAP_DB, GDR6_FIXED_1 | bits);

	vcpu->dr6 = (vcpu->dr6 & ~0xfUL) | (bits & GDR6_GUEST_BITS) | GDR6_FIXED_1;
	/* Delivering #DB clears DR7.GD (SDM Vol. 3B 19.2.4) */
	if (bits & GDR6_BD)
		event_set_dr7(vcpu, vmcs_read(VMCS_GUEST_DR7) & ~GDR7_GD);
	vcpu->event.info = VMX_INTR_INFO_VALID | X86_TRAP_DB |
			   intr_type(info);
	vcpu->event.error_code = 0;
	vcpu->event.insn_len = intr_type(info) == VMX_INTR_TYPE_PRIV_SOFT_EXC ?
			       vmcs_read(VMCS_EXIT_INSTRUCTION_LEN) : 0;
	return 1;
}

/*
 * MOV to or from a debug register (qualification in Table 28-4).  The
 * guest's DR0-DR3 and DR6 live in the vCPU, DR7 in the VMCS; DR0-DR3 are
 * loaded into the CPU only while the guest's DR7 enables a breakpoint.
 * CPL and CR4.DE #UD checks come before the exit (26.1.1); the
 * general-detect #DB does not (SDM Vol. 3B 19.2.4).
 */
int event_handle_dr_access(struct xvcpu_vcpu *vcpu)
{
	unsigned long q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	unsigned int dr = VMX_DR_NUMBER(q), gpr = VMX_DR_GPR(q);
	unsigned long dr7 = vmcs_read(VMCS_GUEST_DR7);
	bool long_mode = vmcs_read(VMCS_GUEST_CS_AR) & VMCS_AR_L;
	unsigned long val;

	/*
	 * CPL > 0 is #GP(0) before any exit (SDM Vol. 3C 26.1.1); checked
	 * here too, as an emulator may exit first.
	 */
	if (vmcs_guest_cpl()) {
		xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
		return 1;
	}
	if (dr7 & GDR7_GD) {
		vcpu->dr6 = (vcpu->dr6 & ~0xfUL) | GDR6_BD | GDR6_FIXED_1;
		event_set_dr7(vcpu, dr7 & ~GDR7_GD);
		xvcpu_queue_exception(vcpu, X86_TRAP_DB, 0);
		return 1;
	}
	/* DR4/DR5: #UD with CR4.DE = 1, else DR6/DR7 (SDM Vol. 3B 19.2.2) */
	if (dr == 4 || dr == 5) {
		if (vmcs_read(VMCS_GUEST_CR4) & X86_CR4_DE) {
			xvcpu_queue_exception(vcpu, X86_TRAP_UD, 0);
			return 1;
		}
		dr += 2;
	}

	if (!(q & VMX_DR_FROM_DR)) {
		val = gpr == GPR_RSP ? vmcs_read(VMCS_GUEST_RSP) : vcpu->gprs[gpr];
		if (!long_mode)
			val = (u32)val;
		if (dr >= 6 && val >> 32) {
			xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
			return 1;
		}
		if (dr < 4)
			vcpu->db[dr] = val;
		else if (dr == 6)
			vcpu->dr6 = (val & GDR6_GUEST_BITS) | GDR6_FIXED_1;
		else
			event_set_dr7(vcpu, val);
	} else {
		if (dr < 4)
			val = vcpu->db[dr];
		else if (dr == 6)
			val = vcpu->dr6;
		else
			val = dr7;
		if (!long_mode)
			val = (u32)val;
		if (gpr == GPR_RSP)
			vmcs_write(VMCS_GUEST_RSP, val);
		else
			vcpu->gprs[gpr] = val;
	}
	vmcs_skip_instruction();
	return 1;
}
