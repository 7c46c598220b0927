; timer: PIT channel 0 at ~1 kHz, IRQ0 through the PIC (vector 0x20). The
; handler counts ticks while the main loop does a FIXED amount of work with no
; I/O (a checksum over an xorshift32 sequence), so interrupts land at
; arbitrary instructions. Then it waits with hlt until 20 ticks have passed.
; Output holds only facts that do not depend on timing or speed:
;   checksum = fold over i < WORK_ITERATIONS of: x = xorshift32(x);
;              acc = rol(acc, 5) ^ x        (x0 = XORSHIFT_SEED, acc0 = 0)
%include "boot.inc"

WORK_ITERATIONS equ 2000000            ; >= a few ms on any CPU, ~0.1 s under TCG
; The step is unrolled UNROLL times. Without a PMU, kvm replay finds a kicked
; point by stopping every time the recorded RIP comes round; unrolled, each
; RIP comes round UNROLL times less often (same checksum).
UNROLL equ 64
%if WORK_ITERATIONS % UNROLL
%error "WORK_ITERATIONS must be a multiple of UNROLL"
%endif
XORSHIFT_SEED equ 0x12345678
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

    mov ebx, XORSHIFT_SEED
    xor edi, edi                       ; acc
    mov ecx, WORK_ITERATIONS / UNROLL
.work:
%rep UNROLL
    XORSHIFT32 ebx
    rol edi, 5
    xor edi, ebx
%endrep
    dec ecx
    jnz .work
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
    PRINT "timer: checksum 0x"
    mov eax, edi
    mov cl, 8
    call put_hex
    PRINT 10, "timer: ticks during compute > 0: "
    cmp dword [ticks_after_work], 0
    PRINT_YESNO a
    PRINT "timer: ticks reached 20: "
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
