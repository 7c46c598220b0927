; Blocks that fault half way (#DE, #GP, #UD) and int n, through the IDT; the
; handlers skip the faulting instruction. Ends in hlt.
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
    SETGATE 0, h_de
    SETGATE 6, h_ud
    SETGATE 13, h_gp
    SETGATE 0x41, h_soft
    lidt [idtr]
    mov ebp, 3
round:
    xor ecx, ecx
    mov eax, 100
    add eax, ebp
    div ecx                   ; #DE in the middle of a block
    add ebx, eax
    mov ax, 0x50
    inc ebx
    mov ds, ax                ; #GP (selector beyond the GDT)
    inc ebx
    int 0x41
    inc ebx
    ud2                       ; #UD
    dec ebp
    jnz round
    hlt
h_de:
    add dword [esp], 2
    inc esi
    iretd
h_ud:
    add dword [esp], 2
    inc edi
    iretd
h_gp:
    add esp, 4
    add dword [esp], 2
    add esi, 0x100
    iretd
h_soft:
    add edi, 0x100
    iretd
idtr:
    dw 256*8-1
    dd idt
align 8
idt: times 256*8 db 0
