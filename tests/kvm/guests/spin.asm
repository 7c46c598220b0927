; Computes without exits; its interrupt handler reports the counter.
bits 16
org 0x7C00
VEC equ 0x20
    mov word [VEC*4], handler
    mov word [VEC*4+2], 0
    xor ebx, ebx
    sti
loop_start:
    inc ebx
    mov [counter], ebx
    jmp loop_start
loop_end:
handler:
    mov eax, [counter]
    out 0x20, eax
    iret
align 4
counter: dd 0
; trailer read by the test
    dd loop_start, loop_end, counter
