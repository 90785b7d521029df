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
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#define BIT_ULL(n) (1ULL << (n))
#define WRITE_ONCE(x, val) (*(volatile __typeof__(x) *)&(x) = (val))
#endif

#endif /* XVCPU_TYPES_H */
