; delay_loop: the PIT at ~1 kHz through the PIC while the guest spins in
; counted delay loops, so that ticks land inside them: `dec eax; jnz`
; (Linux's delay_loop, where udelay() and the BogoMIPS calibration spin),
; `loop` to itself with CX, and `dec bx; jnz` with EBX's upper half set.
; A kvm replay finds such a point from the counter (vmm/counted_loop.h), not
; by a stop per pass. Then it waits with hlt until 20 ticks have passed.
; Output holds only facts that do not depend on timing or speed.
%include "boot.inc"

ROUNDS equ 4
DEC_PASSES equ 1000000
LOOP_RUNS equ 8                        ; each 65535 passes of `loop`
BX_PASSES equ 60000
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

    mov esi, ROUNDS
.round:
    mov eax, DEC_PASSES
.dec_eax:
    dec eax
    jnz .dec_eax
    mov di, LOOP_RUNS
.loop_run:
    mov cx, 0xFFFF
.loop_cx:
    loop .loop_cx
    dec di
    jnz .loop_run
    mov ebx, 0x5A5A0000 + BX_PASSES
.dec_bx:
    dec bx
    jnz .dec_bx
    dec esi
    jnz .round
    mov eax, [ticks]
    mov [ticks_after_work], eax

.wait:
    cli
    cmp dword [ticks], TICKS_WANTED
    jae .waited
    sti
    hlt
    jmp .wait
.waited:
    PRINT "delay_loop: EBX's upper half kept: "
    cmp ebx, 0x5A5A0000
    PRINT_YESNO e
    PRINT "delay_loop: ticks during the delays > 0: "
    cmp dword [ticks_after_work], 0
    PRINT_YESNO a
    PRINT "delay_loop: ticks reached 20: "
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
ticks_after_work: dd 0

%include "console.inc"
%include "pic.inc"
BOOT_END
