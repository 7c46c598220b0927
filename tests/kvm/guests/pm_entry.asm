; Started in flat 32-bit protected mode: report the entry state, use memory
; above 1 MiB, the stack, and reload CS/ES from the GDT.
bits 32
org 0x10000
    mov eax, cs
    out 0x10, eax
    mov eax, ds
    out 0x11, eax
    mov eax, ss
    out 0x12, eax
    mov eax, cr0
    out 0x13, eax
    mov eax, [0x1FFFF0]     ; planted by the host above 1 MiB
    out 0x14, eax
    call sub
    out 0x15, eax
    jmp 0x08:reloaded       ; far jump through the GDT
reloaded:
    mov ax, 0x10
    mov es, ax
    mov eax, [es:0x1FFFF0]
    not eax
    out 0x16, eax
    hlt
sub:
    mov eax, esp            ; esp inside the call: entry esp - 4
    ret
