; racy: a deliberate timing-dependent bug, for time-travel debugging. The
; main loop increments a shared counter through AX (load, increment, store)
; while PIT interrupts arrive at ~20 kHz; the interrupt handler forgets to
; save AX (its EOI goes through AL). Only when a tick lands between the load
; and the store does the store write a corrupted value: which iteration that
; is depends on timing alone. The guest notices, says so, and exits with 3.
; Without corruption in LIMIT iterations it exits with 0.
%include "boot.inc"

SHARED equ 0x0600                      ; the shared counter (a fixed address to watch)
LIMIT equ 60000
PIT_20KHZ_DIVISOR equ 60

main:
    call uart_init
    mov word [SHARED], 0
    IVT_SET PIC_MASTER_VECTOR, timer_irq
    mov al, 0xFE                       ; only IRQ0 unmasked
    mov ah, 0xFF
    call pic_init
    mov ax, PIT_20KHZ_DIVISOR
    call pit_init
    PRINT "racy: counting", 10
    sti
    xor bx, bx                         ; what the counter should be
.count:
    mov ax, [SHARED]
    inc ax
    mov [SHARED], ax                   ; the store an unlucky tick corrupts
    inc bx
    cmp [SHARED], bx
    jne .corrupted
    cmp bx, LIMIT
    jb .count
    cli
    PRINT "racy: no corruption in 60000 increments", 10
    EXIT 0
.corrupted:
    cli
    PRINT "racy: shared counter corrupted: expected 0x"
    movzx eax, bx
    mov cl, 4
    call put_hex
    PRINT ", found 0x"
    movzx eax, word [SHARED]
    mov cl, 4
    call put_hex
    PRINT 10
    EXIT 3

timer_irq:                             ; BUG: uses AL without saving AX
    inc word [ticks]
    PIC_EOI
    iret

ticks: dw 0

%include "console.inc"
%include "pic.inc"
BOOT_END
