; Real-mode exceptions through the guest's IVT. Each handler reports
; (vector << 16 | saved IP) on port 0x90 and skips faulting instructions.
bits 16
org 0x7C00
%macro SETVEC 2
    mov word [%1*4], %2
    mov word [%1*4+2], 0
%endmacro
    SETVEC 0x40, h_soft
    SETVEC 3, h_bp
    SETVEC 0, h_de
    SETVEC 6, h_ud
    int 0x40
i1: int3
i2: xor cx, cx
de1: div cx
    ud2
ud1_after:
de2: div cx
de3: div cx
    hlt
%macro HANDLER 3
%1:
    push bp
    mov bp, sp
    mov eax, %2 << 16
    mov ax, [bp+2]
    out 0x90, eax
    add word [bp+2], %3
    pop bp
    iret
%endmacro
HANDLER h_soft, 0x40, 0
HANDLER h_bp, 3, 0
HANDLER h_de, 0, 2
HANDLER h_ud, 6, 2
labels: dw i1, i2, de1, de2, de3
