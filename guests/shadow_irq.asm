; shadow_irq: ticks at ~600 kHz while the guest runs mostly in interrupt
; shadows (mov ss, then an add that runs in its shadow), interrupts on. A
; tick that lands right after a mov ss must wait one instruction: the
; recording asks for an interrupt window there, and a replay that finds the
; point must still be in the shadow (on kvm the breakpoint it stops at is a
; hlt, and KVM's skip of it ends the shadow). Prints a checksum of the work.
%include "boot.inc"

PIT_DIVISOR equ 2
ROUNDS equ 2000

main:
    call uart_init
    IVT_SET PIC_MASTER_VECTOR, timer_irq
    mov al, 0xFE
    mov ah, 0xFF
    call pic_init
    mov ax, PIT_DIVISOR
    call pit_init
    xor ebx, ebx
    mov edx, ROUNDS
    sti
.round:
%rep 32
    mov ax, ss
    mov ss, ax
    add ebx, edx                       ; in mov ss's shadow
    rol ebx, 1
%endrep
    dec edx
    jnz .round
    cli
    PRINT "shadow_irq: checksum 0x"
    mov eax, ebx
    mov cl, 8
    call put_hex
    PRINT 10, "shadow_irq: ticks > 0: "
    cmp dword [ticks], 0
    PRINT_YESNO a
    EXIT 0

timer_irq:
    push ax
    inc dword [cs:ticks]
    PIC_EOI
    pop ax
    iret

ticks: dd 0

%include "console.inc"
%include "pic.inc"
BOOT_END
