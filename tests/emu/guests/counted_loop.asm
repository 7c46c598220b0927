; Counted loops for vmm/counted_loop (tests/emu/emu_vcpu_test.cpp
; CountedLoop.*): `dec eax; jnz`, `loop` to itself (CX in 16-bit code) and
; `dec bx; jnz` whose BX starts with its upper half set, then hlt. Each loop
; starts right after its count is loaded: instruction counts 1, 1001+2...
bits 16
org 0x7c00
    mov eax, 1000          ; icount 0
.a: dec eax                ; head of pass j at icount 1 + 2j
    jnz .a
    mov cx, 500            ; icount 2001
.b: loop .b                ; pass j at icount 2002 + j
    mov ebx, 0x12340300    ; icount 2502
.c: dec bx                 ; pass j at icount 2503 + 2j
    jnz .c
    hlt
