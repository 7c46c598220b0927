; storm: an interrupt storm for trace-size measurements. PIT channel 0 at
; ~20 kHz, IRQ0 counted by a handler, while the main loop computes an
; xorshift32 sequence with no I/O (the registers at every tick are random,
; so nothing about them compresses: the worst case for the trace), until
; STORM_TICKS interrupts were taken; then it prints one line and exits 0.
; Nearly every tick lands inside guest execution: an asynchronous service
; point and an interrupt at the same place, then the handler's EOI.
%include "boot.inc"

%ifndef STORM_TICKS                    ; nasm -DSTORM_TICKS=N for another length
%define STORM_TICKS 800                ; ~40 M instructions on emu (below the default keyframe interval)
%endif
PIT_20KHZ_DIVISOR equ 60               ; 1193182 / 60 ~ 19.9 kHz
UNROLL equ 16                          ; kvm replay stops at each pass of a recorded rip

main:
    call uart_init
    IVT_SET PIC_MASTER_VECTOR, timer_irq
    mov al, 0xFE                       ; only IRQ0 unmasked
    mov ah, 0xFF
    call pic_init
    mov ax, PIT_20KHZ_DIVISOR
    call pit_init
    sti

    mov ebx, 0x12345678
    xor edi, edi
.work:
%rep UNROLL
    XORSHIFT32 ebx
    rol edi, 5
    xor edi, ebx
%endrep
    cmp dword [ticks], STORM_TICKS
    jb .work
    cli
    PRINT "storm: done", 10
    EXIT 0

timer_irq:
    push ax
    inc dword [ticks]
    PIC_EOI
    pop ax
    iret

ticks: dd 0

%include "console.inc"
%include "pic.inc"
BOOT_END
