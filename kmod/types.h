/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Basic types for the parts of xvcpu that are pure logic (capability
 * computation, EPT construction): in the kernel they come from the usual
 * headers; the host-side unit tests compile the same files in userspace.
 */
#ifndef XVCPU_TYPES_H
#define XVCPU_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/kernel.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <linux/types.h>
#include <linux/const.h>
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#define BIT_ULL(n) _BITULL(n)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define WRITE_ONCE(x, val) __atomic_store_n(&(x), (val), __ATOMIC_RELAXED)
#endif

#endif /* XVCPU_TYPES_H */
