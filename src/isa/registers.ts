// Register names by encoding: the 3-bit register field, which is also a core's register index.

export const R32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"] as const;
/** The low-byte registers `mov r8, imm8` encodes (0xb0 + index). */
export const R8 = ["al", "cl", "dl", "bl"] as const;
