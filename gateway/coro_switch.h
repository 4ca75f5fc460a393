/*
 * The switch between the HTTP loop and its coroutines (coro.h,
 * docs/architecture.md#the-http-loop).
 *
 * On x86-64 it saves and loads the callee-saved registers and the stack
 * pointer only: glibc's swapcontext also saves and restores the signal
 * mask, two system calls per switch and four switches per request, while
 * no coroutine ever changes the mask. Elsewhere, and under
 * AddressSanitizer (whose interceptor of swapcontext keeps its view of the
 * stacks right), it is ucontext.
 */
#ifndef GW_CORO_SWITCH_H
#define GW_CORO_SWITCH_H

#include <stddef.h>

/* Also ucontext when built for shadow stacks (-fcf-protection=return):
 * glibc's swapcontext keeps those in step, the plain ret below would not. */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(CORO_UCONTEXT) && \
	!(defined(__CET__) && (__CET__ & 2))
#define CORO_SWITCH_ASM 1
typedef struct CoroCtx
{
	void	   *sp;				/* where the registers were pushed */
} CoroCtx;
#else
#include <ucontext.h>
typedef struct CoroCtx
{
	ucontext_t	uc;
} CoroCtx;
#endif

/* Prepares ctx to run entry (which must never return) on stack[0..size). */
void		coro_ctx_make(CoroCtx *ctx, char *stack, size_t size, void (*entry) (void));

/* Saves the running context in from and runs to; returns when switched back. */
void		coro_ctx_switch(CoroCtx *from, CoroCtx *to);

#endif
