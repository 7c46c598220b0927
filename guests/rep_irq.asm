; rep_irq: every rep string instruction (movs, stos, lods, ins, outs, cmps,
; scas; rep / repe / repne; byte, word and dword elements; 16- and 32-bit
; address size; DF clear and set) under a PIT ticking at ~600 kHz, so
; interrupts land inside rep iterations at every kind of point (the first
; iteration, the middle, the last, an early repe/repne exit). After each
; instruction the registers it leaves (rSI, rDI, rCX, rAX, the arithmetic
; flags) and a word of what it wrote are folded into a checksum; interrupts
; change none of that, so the output is the same whatever the timing.
; Replaying it exactly needs every interrupt point inside a rep found again,
; on every backend pair.
%include "boot.inc"

%ifndef PIT_DIVISOR
%define PIT_DIVISOR 2                  ; 1193182 / 2 ~ 597 kHz
%endif
ROUNDS equ 2
SRC equ 0x1000                         ; segments of the two 64 KiB buffers
DST equ 0x2000
SCRATCH_PORT equ 0x3FF                 ; the 16550's scratch register

; FOLD reg -- checksum = rol(checksum, 3) ^ reg (32 bits).
%macro FOLD 1
    rol ebp, 3
    xor ebp, %1
%endmacro

; AFTER -- folds what the string instruction left behind.
%macro AFTER 0
    pushfd
    FOLD esi
    FOLD edi
    FOLD ecx
    FOLD eax
    pop edx
    and edx, 0x8D5                     ; OF SF ZF AF PF CF
    FOLD edx
    movzx edx, word [es:0x100]
    FOLD edx
%endmacro

; SETUP si, di, cx -- the operands of the next string instruction (32 bits
; each, so a16 forms see the same low halves).
%macro SETUP 3
    mov esi, %1
    mov edi, %2
    mov ecx, %3
%endmacro

main:
    call uart_init
    IVT_SET PIC_MASTER_VECTOR, timer_irq
    mov al, 0xFE                       ; only IRQ0 unmasked
    mov ah, 0xFF
    call pic_init

    ; The source buffer: an xorshift32 sequence, 16 KiB.
    mov ax, SRC
    mov es, ax
    mov ebx, 0x2545F491
    xor di, di
.fill:
    XORSHIFT32 ebx
    mov [es:di], ebx
    add di, 4
    cmp di, 0x4000
    jb .fill

    mov ax, PIT_DIVISOR
    call pit_init
    sti

    xor ebp, ebp                       ; checksum
    mov word [rounds_left], ROUNDS
.round:
    mov ax, SRC
    mov ds, ax
    mov ax, DST
    mov es, ax

    ; ---- 16-bit address size, DF = 0 ----
    cld
    SETUP 0, 0, 3001
    rep movsb
    AFTER
    SETUP 0x10, 0x2000, 1500
    rep movsw
    AFTER
    SETUP 0x20, 0x4000, 1000
    rep movsd
    AFTER
    mov eax, 0x5A5AA5A5
    SETUP 0, 0x8000, 2999
    rep stosb
    AFTER
    SETUP 0, 0x9000, 1501
    rep stosw
    AFTER
    SETUP 0, 0xA000, 999
    rep stosd
    AFTER
    SETUP 0, 0, 2000
    rep lodsb
    AFTER
    SETUP 0, 0, 1000
    rep lodsw
    AFTER
    SETUP 0, 0, 700
    rep lodsd
    AFTER
    ; The first 3001 bytes were copied: equal all the way.
    SETUP 0, 0, 3001
    repe cmpsb
    AFTER
    ; Word at 0x2000 + 2*1500 onwards differs from src: an early exit.
    SETUP 0x10, 0x2000, 2000
    repe cmpsw
    AFTER
    ; Different buffers compared at an offset: unequal until one matches.
    SETUP 1, 0x8000, 3000
    repne cmpsb
    AFTER
    mov al, 0x5A                       ; all 2999 bytes at 0x8000 are 0x5A
    SETUP 0, 0x8000, 2999
    repe scasb
    AFTER
    mov ax, 0x1234                     ; absent from 0x9000..: runs to the end
    SETUP 0, 0x9000, 1501
    repne scasw
    AFTER
    mov eax, 0x5A5AA5A5
    SETUP 0, 0xA000, 1200              ; equal for 999 dwords, then not
    repe scasd
    AFTER

    ; ---- 32-bit address size (ECX, ESI, EDI), DF = 0 ----
    SETUP 0x100, 0xB000, 2500
    a32 rep movsb
    AFTER
    SETUP 0x200, 0xC000, 1300
    a32 rep movsw
    AFTER
    SETUP 0x300, 0xD000, 900
    a32 rep movsd
    AFTER
    mov eax, 0x00C3F00F
    SETUP 0, 0xE000, 2100
    a32 rep stosb
    AFTER
    SETUP 0, 0xE800, 1100
    a32 rep stosw
    AFTER
    SETUP 0, 0xF000, 800
    a32 rep stosd
    AFTER
    SETUP 0x40, 0, 1800
    a32 rep lodsw
    AFTER
    SETUP 0x100, 0xB000, 2500
    a32 repe cmpsb
    AFTER
    SETUP 0x100, 0xB001, 2500
    a32 repne cmpsb
    AFTER
    mov al, 0x0F
    SETUP 0, 0xE000, 2100
    a32 repe scasb
    AFTER
    mov eax, 0x11111111
    SETUP 0, 0xF000, 800
    a32 repne scasd
    AFTER

    ; ---- DF = 1 (downwards), both address sizes ----
    std
    SETUP 0x3FFF, 0x7FFF, 2222
    rep movsb
    AFTER
    SETUP 0x3FFC, 0x7FF0, 700
    a32 rep movsd
    AFTER
    mov eax, 0x77665544
    SETUP 0, 0x8FFE, 1400
    rep stosw
    AFTER
    SETUP 0x3FFF, 0x7FFF, 2222
    repe cmpsb
    AFTER
    mov al, 0x44
    SETUP 0, 0x8FFE, 2800
    a32 repne scasb
    AFTER
    cld

%ifndef NO_PORT_STRINGS
    ; ---- rep ins / outs: one port exit per element ----
    SETUP 0x80, 0x100, 48
    mov dx, SCRATCH_PORT
    rep outsb                          ; ds:si -> port: the last byte stays
    AFTER
    SETUP 0, 0x100, 40
    mov dx, SCRATCH_PORT
    rep insb                           ; port -> es:di, 40 times that byte
    AFTER
    SETUP 0x90, 0x200, 33
    mov dx, SCRATCH_PORT
    a32 rep outsb
    AFTER
    SETUP 0, 0x300, 35
    mov dx, SCRATCH_PORT
    a32 rep insb
    AFTER
%endif

    ; Zero counts: no iteration at all.
    SETUP 0, 0, 0
    rep movsb
    AFTER
    a32 repe cmpsd
    AFTER

    xor ax, ax
    mov ds, ax
    dec word [rounds_left]
    jnz .round

    cli
    PRINT "rep_irq: checksum 0x"
    mov eax, ebp
    mov cl, 8
    call put_hex
%ifdef NO_TICK_REPORT
    PRINT 10
%else
    PRINT 10, "rep_irq: ticks > 0: "
    cmp dword [ticks], 0
    PRINT_YESNO a
%endif
    EXIT 0

timer_irq:
    push ax
    inc dword [cs:ticks]
    PIC_EOI
    pop ax
    iret

ticks: dd 0
rounds_left: dw 0

%include "console.inc"
%include "pic.inc"
BOOT_END
