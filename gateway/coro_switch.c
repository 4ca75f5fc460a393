/* See coro_switch.h. */
#include "coro_switch.h"

#include <stdint.h>
#include <string.h>

#ifdef CORO_SWITCH_ASM

/*
 * coro_switch_regs(save, load): pushes rbp, rbx, r12-r15 and the SSE and
 * x87 control words (the System V callee-saved state), stores the stack
 * pointer in *save, takes load as the stack pointer and pops the same
 * layout from it; the ret then continues wherever that stack last switched
 * away - or, the first time, at the entry coro_ctx_make put there.
 */
void		coro_switch_regs(void **save, void *load);

__asm__(".text\n"
		".globl coro_switch_regs\n"
		".hidden coro_switch_regs\n"
		".type coro_switch_regs, @function\n"
		"coro_switch_regs:\n"
		"	pushq %rbp\n"
		"	pushq %rbx\n"
		"	pushq %r12\n"
		"	pushq %r13\n"
		"	pushq %r14\n"
		"	pushq %r15\n"
		"	subq $8, %rsp\n"
		"	stmxcsr (%rsp)\n"
		"	fnstcw 4(%rsp)\n"
		"	movq %rsp, (%rdi)\n"
		"	movq %rsi, %rsp\n"
		"	ldmxcsr (%rsp)\n"
		"	fldcw 4(%rsp)\n"
		"	addq $8, %rsp\n"
		"	popq %r15\n"
		"	popq %r14\n"
		"	popq %r13\n"
		"	popq %r12\n"
		"	popq %rbx\n"
		"	popq %rbp\n"
		"	ret\n"
		".size coro_switch_regs, .-coro_switch_regs\n");

/* Words coro_switch_regs pops, then entry's address, then a zero return
 * address that ends backtraces (entry never returns). */
enum
{
	FRAME_WORDS = 1 + 6 + 1 + 1
};

void
coro_ctx_make(CoroCtx *ctx, char *stack, size_t size, void (*entry) (void))
{
	/* the ABI's 16-byte alignment holds at the call entry would have seen */
	uintptr_t	top = ((uintptr_t) (stack + size)) & ~(uintptr_t) 15;
	uint64_t   *frame = (uint64_t *) (top - FRAME_WORDS * sizeof(uint64_t));
	uint32_t	mxcsr;
	uint16_t	fpucw;

	/* the control words as they stand, so the coroutine computes alike */
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(fpucw));
	memset(frame, 0, FRAME_WORDS * sizeof(uint64_t));
	frame[0] = (uint64_t) mxcsr | ((uint64_t) fpucw << 32);
	/* frame[1..6]: r15, r14, r13, r12, rbx, rbp - all zero */
	frame[7] = (uint64_t) (uintptr_t) entry;
	/* frame[8]: entry's return address, zero */
	ctx->sp = frame;
}

void
coro_ctx_switch(CoroCtx *from, CoroCtx *to)
{
	coro_switch_regs(&from->sp, to->sp);
}

#else

void
coro_ctx_make(CoroCtx *ctx, char *stack, size_t size, void (*entry) (void))
{
	getcontext(&ctx->uc);
	ctx->uc.uc_stack.ss_sp = stack;
	ctx->uc.uc_stack.ss_size = size;
	ctx->uc.uc_link = NULL;
	makecontext(&ctx->uc, entry, 0);
}

void
coro_ctx_switch(CoroCtx *from, CoroCtx *to)
{
	swapcontext(&from->uc, &to->uc);
}

#endif
