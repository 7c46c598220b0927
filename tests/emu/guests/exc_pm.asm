; 32-bit exceptions through the IDT: int 0x40, int3, #DE twice, #UD, #GP
; (pushes an error code), #DE again. Handlers report (vector << 24 | EIP low
; 24 bits) on port 0x90 and skip faulting instructions.
bits 32
org 0x10000
%macro SETGATE 2
    mov eax, %2
    mov [idt+%1*8], ax
    mov word [idt+%1*8+2], 0x08
    mov word [idt+%1*8+4], 0x8E00
    shr eax, 16
    mov [idt+%1*8+6], ax
%endmacro
    SETGATE 0x40, h_soft
    SETGATE 3, h_bp
    SETGATE 0, h_de
    SETGATE 6, h_ud
    SETGATE 13, h_gp
    SETGATE 8, h_df
    lidt [idtr]
    int 0x40
i1: int3
i2: xor ecx, ecx
de1: div ecx
de2: div ecx
ud1: ud2
gp1: mov ax, 0x50
gp2: mov ds, ax
de3: div ecx
    hlt
%macro HANDLER 4
%1:
    %if %4
    add esp, 4            ; error code
    %endif
    mov eax, [esp]
    and eax, 0xFFFFFF
    or eax, %2 << 24
    out 0x90, eax
    add dword [esp], %3
    iretd
%endmacro
HANDLER h_soft, 0x40, 0, 0
HANDLER h_bp, 3, 0, 0
HANDLER h_de, 0, 2, 0
HANDLER h_ud, 6, 2, 0
HANDLER h_gp, 13, 2, 1
HANDLER h_df, 8, 0, 1
idtr:
    dw 256*8-1
    dd idt
align 8
idt: times 256*8 db 0
labels: dd i1, i2, de1, de2, ud1, gp2, de3
