; rep outsb, rep insb (DF=0, across a page boundary and the 1 KiB
; read-ahead) and rep insw (DF=1) with interrupts on: where KVM enters the
; guest between elements (StringIoBatchesFollowTheRule; the emu test
; EmuVcpu.StringIoBatchesAreKvms runs the same snippet).
bits 16
org 0x7C00
    sti
    cld
    mov si, 0x1000
    mov cx, 1100
    mov dx, 0xE9
    rep outsb
    mov di, 0x2F00
    mov cx, 1500
    mov dx, 0xEA
    rep insb
    std
    mov di, 0x4100
    mov cx, 300
    mov dx, 0xEB
    rep insw
    cld
    hlt
