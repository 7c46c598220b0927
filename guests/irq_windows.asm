; irq_windows: interrupt windows and halts under a fast PIT (20-600 kHz, the
; rate changes every round). Each round runs patterns where the point an
; interrupt may enter depends on the CPU's rules, not on the device:
;   - cli, work, sti; hlt     (an interrupt waits; hlt sits in sti's shadow)
;   - cli, work, sti; nop     (the window opens after the nop)
;   - cli, work, popf         (IF restored by popf: no shadow)
;   - mov ss; hlt and mov ss; work with interrupts on (mov ss's shadow)
;   - sti; sti; hlt, sti with IF already 1 before hlt
;   - int 0x40 whose handler enables interrupts and computes (timer ticks
;     nest inside it), a timer handler that enables interrupts and nests
;     up to 3 deep, #DE from div whose handler skips the instruction
;   - loop bodies and rep stosb between them.
; Only the computation is printed (a checksum of it), never timing.
%include "boot.inc"

SOFT_VECTOR equ 0x40

%macro FOLD 1
    rol ebp, 3
    xor ebp, %1
%endmacro

; WORK n -- n xorshift32 steps on ebx, folded into the checksum.
%macro WORK 1
    mov ecx, %1
%%step:
    XORSHIFT32 ebx
    FOLD ebx
    loop %%step
%endmacro

main:
    call uart_init
    IVT_SET 0, divide_error
    IVT_SET PIC_MASTER_VECTOR, timer_irq
    IVT_SET SOFT_VECTOR, soft_handler
    mov al, 0xFE                       ; only IRQ0 unmasked
    mov ah, 0xFF
    call pic_init
    mov ebx, 0x9E3779B9
    xor ebp, ebp
    xor si, si                         ; round index
.round:
    mov ax, [divisors + si]
    call pit_init
    mov di, 6                          ; passes of the patterns per round
.pass:
    ; cli, work, sti; hlt: the tick that came during the work waits for a
    ; window; the hlt sits in sti's shadow.
    cli
    WORK 300
    sti
    hlt
    ; cli, work, sti; nop.
    cli
    WORK 200
    sti
    nop
    WORK 20
    ; cli, work, popf brings IF back.
    pushf
    cli
    WORK 250
    popf
    WORK 10
    ; mov ss, then hlt in its shadow (IF = 1).
    mov ax, ss
    mov ss, ax
    hlt
    ; mov ss; work, with interrupts on.
    mov ss, ax
    WORK 50
    ; sti; sti; hlt and sti with IF = 1 before a hlt.
    cli
    WORK 100
    sti
    sti
    hlt
    sti
    hlt
    ; int 0x40: its handler enables interrupts and computes.
    int SOFT_VECTOR
    FOLD eax
    ; #DE: div by zero; the handler skips the div.
    mov ax, 1234
    xor dx, dx
    mov cl, 0
    div cl
    FOLD eax
    ; rep stosb and loop bodies.
    push es
    mov ax, 0x3000
    mov es, ax
    push di
    xor di, di
    mov al, bl
    mov cx, 777
    cld
    rep stosb
    movzx ecx, di
    FOLD ecx
    pop di
    pop es
    dec di
    jnz .pass
    add si, 2
    cmp si, divisors_end - divisors
    jb .round

    cli
    PRINT "irq_windows: checksum 0x"
    mov eax, ebp
    mov cl, 8
    call put_hex
    PRINT 10, "irq_windows: ticks > 0: "
    cmp dword [ticks], 0
    PRINT_YESNO a
    PRINT "irq_windows: divide errors: "
    mov eax, [divide_errors]
    call put_dec
    PRINT 10
    EXIT 0

; Timer: EOI first, then interrupts on while it computes, nesting at most
; 3 deep. Every register it uses is saved; the work is its own.
timer_irq:
    push eax
    push ecx
    push ebx
    inc dword [cs:ticks]
    PIC_EOI
    cmp byte [cs:depth], 3
    jae .done
    inc byte [cs:depth]
    mov ebx, [cs:ticks]
    sti
    mov ecx, 40
.spin:
    rol ebx, 7
    add ebx, ecx
    loop .spin
    cli
    dec byte [cs:depth]
.done:
    pop ebx
    pop ecx
    pop eax
    iret

; int 0x40: interrupts on, a little work of its own (preserves registers
; but eax, which it sets from its work), then back.
soft_handler:
    push ecx
    push ebx
    sti
    mov ebx, 0x1234567
    mov ecx, 150
.soft:
    rol ebx, 5
    xor ebx, ecx
    loop .soft
    mov eax, ebx
    pop ebx
    pop ecx
    iret

; #DE: the saved IP points at the 2-byte `div cl`; skip it.
divide_error:
    push bp
    mov bp, sp
    add word [bp + 2], 2
    inc dword [cs:divide_errors]
    mov ax, 0xDEDE
    pop bp
    iret

divisors: dw 2, 5, 13, 30, 60
divisors_end:
ticks: dd 0
depth: db 0
divide_errors: dd 0

%include "console.inc"
%include "pic.inc"
BOOT_END
