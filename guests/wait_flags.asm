; wait_flags: waits for each of 20 PIT ticks (~1 kHz) in a loop that reads
; the tick count until it changes, entered with flags its passes never have
; (CF=1, ZF=0: the passes' compare leaves CF=0, ZF=1) and registers they all
; have. A tick lands in a pass; a kvm replay must not take it at the first
; arrival, which differs only in the arithmetic flags (left out of the
; register hash; a kvm point's digest covers them since format 8): the
; handler would push other flags, memory would differ and the next point
; would never be found.
%include "boot.inc"

TICKS_WANTED equ 20

main:
    call uart_init
    IVT_SET PIC_MASTER_VECTOR, timer_irq
    mov al, 0xFE                       ; only IRQ0 unmasked
    mov ah, 0xFF
    call pic_init
    mov ax, PIT_1KHZ_DIVISOR
    call pit_init
    sti
    mov ecx, TICKS_WANTED
.next:
    mov eax, [ticks]
    mov ebx, eax
    xor edx, edx
    sub edx, 1                         ; CF=1, ZF=0; EDX = -1 in every pass too
    mov edx, 0xFFFFFFFF
.wait:
    mov eax, [ticks]
    cmp eax, ebx
    je .wait
    dec ecx
    jnz .next
    cli
    PRINT "wait_flags: ticks counted 20: "
    cmp dword [ticks], TICKS_WANTED
    PRINT_YESNO ae
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
