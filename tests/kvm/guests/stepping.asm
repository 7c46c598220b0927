; What kvm's stepping vCPU (vmm/stepping_vcpu.h) must count and hide: a
; mov ss shadow, pushf, int n, a watched store, then sti; hlt for an
; injected interrupt. Every flags image it leaves must be free of TF.
bits 16
org 0x7C00
SOFT equ 0x30
HARD equ 0x20
    mov word [SOFT*4], soft_handler     ; 1
    mov word [SOFT*4+2], 0              ; 2
    mov word [HARD*4], hard_handler     ; 3
    mov word [HARD*4+2], 0              ; 4
    xor ax, ax                          ; 5
    mov ss, ax                          ; 6 (the trap waits for mov sp: one step)
    mov sp, 0x7000
    pushf                               ; 7: image at 0x6FFE
    pop bx                              ; 8
    int SOFT                            ; 9: flags image at 0x6FFE again
after_int:
    mov word [watched], 0x1234          ; 13 (after the handler's 3)
    nop                                 ; 14
    sti                                 ; 15
    hlt                                 ; 16
after_hlt:
    jmp after_hlt
soft_handler:
    pushf                               ; 10
    pop dx                              ; 11
    iret                                ; 12
hard_handler:
    iret
align 4
watched: dw 0, 0
; trailer read by the test
    dd after_int, soft_handler, hard_handler, watched, after_hlt
