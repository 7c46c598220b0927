; Where Unicorn 2.0.1 differs from the CPU and the emu backend corrects it
; (found by kvm-unit-tests): pushfd after an iretd that set RF stores RF=0;
; smsw to a 32-bit register writes all of CR0[31:0]; mov cr4 with LA57 (not
; in CPUID) raises #GP; mov cr0 with PG is refused at that instruction.
; Reports: 0x80 EFLAGS pushed after iretd, 0x81 smsw eax, 0x82 CR0 read by
; mov, 0x83 the #GP's error code. Flat GDT from rrvm (0x08 code).
bits 32
org 0x10000
    cli
    mov eax, gp_handler
    mov [idt+13*8], ax
    mov word [idt+13*8+2], 0x08
    mov word [idt+13*8+4], 0x8E00     ; present, 32-bit interrupt gate
    shr eax, 16
    mov [idt+13*8+6], ax
    lidt [idtr]
    ; iretd to the next instruction with RF set in the image
    pushfd
    or dword [esp], 1 << 16
    push dword 0x08
    push dword after_iret
    iretd
after_iret:
    pushfd
    pop eax
    out 0x80, eax
    mov eax, 0xDEADBEEF
    smsw eax
    out 0x81, eax
    mov eax, cr0
    out 0x82, eax
    mov eax, cr4
    or eax, 1 << 12                   ; LA57
la57:
    mov cr4, eax                      ; #GP(0): the handler skips it
    mov eax, cr0
    or eax, 0x80000000
paging:
    mov cr0, eax                      ; refused by the backend
    hlt
gp_handler:
    pop eax                           ; error code
    out 0x83, eax
    add dword [esp], 3                ; past mov cr4, eax (0F 22 E0)
    iretd
idtr:
    dw 256*8-1
    dd idt
align 8
idt: times 256*8 db 0
labels: dd la57, paging
