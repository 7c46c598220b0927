; bench_rep: string and loop instructions under a 20 kHz timer (PIT channel
; 0, IRQ0 counted by a handler), then exit 0. A fixed amount of work: 500
; rounds of `rep movsb` (4 KiB), `rep stosw` (2 KiB), `rep lodsb`/`loop`
; (1,024 iterations) and an xorshift step, so ticks land inside rep
; iterations and loop bodies. Measures instructions/s on rep/loop-heavy code
; with frequent interrupts (not a test guest: nothing checks its output).
%include "boot.inc"

ROUNDS equ 500
PIT_20KHZ_DIVISOR equ 60               ; 1193182 / 60 ~ 19.9 kHz

main:
    call uart_init
    IVT_SET PIC_MASTER_VECTOR, timer_irq
    mov al, 0xFE                       ; only IRQ0 unmasked
    mov ah, 0xFF
    call pic_init
    mov ax, PIT_20KHZ_DIVISOR
    call pit_init
    sti

    mov ax, 0x1000
    mov es, ax
    mov ebx, 2463534242
    mov ebp, ROUNDS
.round:
    xor si, si                         ; ds:0 -> es:0, 4 KiB
    xor di, di
    mov cx, 4096
    rep movsb
    mov ax, bx                         ; es:0x1000, 2 KiB of a pattern word
    mov di, 0x1000
    mov cx, 1024
    rep stosw
    mov si, 0x7C00                     ; sum 1,024 code bytes with lodsb/loop
    mov cx, 1024
    xor edx, edx
.sum:
    lodsb
    add dl, al
    adc dh, 0
    loop .sum
    mov eax, ebx                       ; xorshift32 step, folded with the sum
    shl eax, 13
    xor ebx, eax
    mov eax, ebx
    shr eax, 17
    xor ebx, eax
    xor ebx, edx
    dec ebp
    jnz .round
    cli
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
