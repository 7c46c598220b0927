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
; With PORT_BATCHES (rep_irq_io, rep_irq_1k), longer port strings (rep
; ins/outs of bytes, words and dwords, both address sizes and directions,
; counts across 1 KiB and page boundaries) check where interrupts enter
; them: KVM emulates rep ins in batches (up to the end of rDI's page in
; bytes, 1 KiB of data, the count; docs/design.md) and lets an interrupt in
; only between batches, and both backends follow that rule. The handler
; logs the count of each interrupted rep ins; after the instruction the
; guest walks its batches and counts a logged count where none ends.
%include "boot.inc"

%ifndef PIT_DIVISOR
%define PIT_DIVISOR 2                  ; 1193182 / 2 ~ 597 kHz
%endif
ROUNDS equ 2
SRC equ 0x1000                         ; segments of the two 64 KiB buffers
DST equ 0x2000
SCRATCH_PORT equ 0x3FF                 ; the 16550's scratch register
WIDE_PORT equ 0x300                    ; nothing there: word and dword port strings
                                       ; (QEMU's 16550 aborts on a wide access)

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

; PORT_IN size, count mask, instruction -- runs a rep ins with dx at the
; scratch port (bytes) or WIDE_PORT; the handler logs the counts it interrupts it at, checked
; after it against KVM's batches (check_batches).
%macro PORT_IN 3+
%if %1 == 1
    mov dx, SCRATCH_PORT
%else
    mov dx, WIDE_PORT
%endif
    mov [cs:batch_start_cx], ecx
    mov [cs:batch_start_di], edi
    mov byte [cs:batch_shift], (%1 / 2)  ; 1 -> 0, 2 -> 1, 4 -> 2
    mov dword [cs:batch_mask], %2
    mov word [cs:batch_log_len], 0
    mov word [cs:watch_ip], %%at
%%at:
    %3
    mov word [cs:watch_ip], 0
    AFTER
    call check_batches
%endmacro

; PORT_OUT port, instruction -- a rep outs.
%macro PORT_OUT 2+
    mov dx, %1
    %2
    AFTER
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

%ifdef PORT_BATCHES
    ; ---- rep ins / outs in KVM's batches: ins up to a page, 1 KiB ----
    ; (outs needs no long counts: KVM enters the guest after each element,
    ; and on kvm a point inside one is found by single steps.)
    ; a16, DF = 0
    SETUP 0, 0, 300
    PORT_OUT SCRATCH_PORT, rep outsb
    SETUP 0, 0x2F00, 3000              ; 0x100 to the page's end, 1 KiB, ...
    PORT_IN 1, 0xFFFF, rep insb
    SETUP 0, 0x4FC0, 1500              ; 0x40 bytes left: 0x40 words (past the page)
    PORT_IN 2, 0xFFFF, rep insw
    SETUP 0, 0x6000, 700
    PORT_IN 4, 0xFFFF, rep insd
    SETUP 0x100, 0, 110
    PORT_OUT WIDE_PORT, rep outsw
    ; a32, DF = 0
    SETUP 0, 0x8FF8, 600               ; 8 bytes left: 8 dwords
    PORT_IN 4, 0xFFFFFFFF, a32 rep insd
    SETUP 0, 0xA000, 2100
    PORT_IN 1, 0xFFFFFFFF, a32 rep insb
    SETUP 0x200, 0, 150
    PORT_OUT WIDE_PORT, a32 rep outsw
    ; DF = 1
    std
    SETUP 0x3FFC, 0, 80
    PORT_OUT WIDE_PORT, rep outsd
    SETUP 0, 0xBFFF, 2500
    PORT_IN 1, 0xFFFF, rep insb
    SETUP 0, 0xE800, 3000              ; reaches rDI % 4096 = 0: a batch of one
    PORT_IN 1, 0xFFFF, rep insb
    SETUP 0, 0xDFFE, 1300
    PORT_IN 2, 0xFFFFFFFF, a32 rep insw
    SETUP 0x3FF0, 0, 90
    PORT_OUT SCRATCH_PORT, a32 rep outsb
    cld
%endif

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
%ifdef PORT_BATCHES
    ; (QEMU's TCG, like a CPU, lets interrupts in after any element: "no".)
%ifdef NO_TICK_REPORT
    PRINT 10, "rep_irq: rep ins interrupted only between KVM's batches: "
%else
    PRINT 10, "rep_irq: rep ins interrupted 0x"
    mov eax, [cs:ins_interrupts]
    mov cl, 8
    call put_hex
    PRINT " times, only between KVM's batches: "
%endif
    cmp dword [cs:bad_batches], 0
    PRINT_YESNO e
%ifdef NO_TICK_REPORT
%else
    PRINT "rep_irq: ticks > 0: "
    cmp dword [ticks], 0
    PRINT_YESNO a
%endif
%else
%ifdef NO_TICK_REPORT
    PRINT 10
%else
    PRINT 10, "rep_irq: ticks > 0: "
    cmp dword [ticks], 0
    PRINT_YESNO a
%endif
%endif
    EXIT 0

timer_irq:
    push ax
    inc dword [cs:ticks]
%ifdef PORT_BATCHES
    ; Interrupted at the rep ins being watched: log its count.
    push bp
    mov bp, sp
    mov ax, [bp + 4]                   ; the interrupted IP (above bp, ax)
    cmp ax, [cs:watch_ip]
    jne .logged
    inc dword [cs:ins_interrupts]
    push bx
    mov bx, [cs:batch_log_len]
    cmp bx, BATCH_LOG_MAX * 4
    jae .full
    mov [cs:batch_log + bx], ecx
    add word [cs:batch_log_len], 4
.full:
    pop bx
.logged:
    pop bp
%endif
    PIC_EOI
    pop ax
    iret

%ifdef PORT_BATCHES
; check_batches -- walks the batches KVM makes of the rep ins just run
; (from batch_start_cx/di, element 1 << batch_shift, DF from the flags) and
; counts each logged count that is not where a batch ends in bad_batches.
; Keeps every register and the flags. For rep outs nothing is logged.
check_batches:
    pushfd
    pushad
    mov bp, sp                         ; the pushed flags at bp + 32
    mov ecx, [cs:batch_start_cx]
    and ecx, [cs:batch_mask]           ; the count
    mov edi, [cs:batch_start_di]
    xor si, si
.entry:
    cmp si, [cs:batch_log_len]
    jae .done
    mov edx, [cs:batch_log + si]
    and edx, [cs:batch_mask]
.walk:
    cmp ecx, edx
    je .next                           ; a batch ends here
    jb .bad                            ; walked past it
    mov eax, edi
    and eax, 0xFFF
    test word [bp + 32], 0x400        ; DF in the pushed flags
    jnz .in_page
    neg eax
    add eax, 0x1000                    ; DF = 0: bytes to the page's end
.in_page:                              ; DF = 1: bytes below rDI in its page
    mov ebx, 1024
    push cx
    mov cl, [cs:batch_shift]
    shr ebx, cl                        ; 1 KiB of elements
    pop cx
    cmp eax, ebx
    jbe .min1
    mov eax, ebx
.min1:
    cmp eax, ecx
    jbe .min2
    mov eax, ecx
.min2:
    test eax, eax
    jnz .step
    mov eax, 1
.step:
    sub ecx, eax
    push cx
    mov cl, [cs:batch_shift]
    shl eax, cl                        ; bytes
    pop cx
    test word [bp + 32], 0x400
    jnz .down
    add edi, eax
    jmp .walk
.down:
    sub edi, eax
    jmp .walk
.bad:
    inc dword [cs:bad_batches]
.next:
    add si, 4
    jmp .entry
.done:
    popad
    popfd
    ret

BATCH_LOG_MAX equ 64
watch_ip: dw 0
batch_start_cx: dd 0
batch_start_di: dd 0
batch_mask: dd 0
batch_shift: db 0
batch_log_len: dw 0
bad_batches: dd 0
ins_interrupts: dd 0
batch_log: times BATCH_LOG_MAX dd 0
%endif

ticks: dd 0
rounds_left: dw 0

%include "console.inc"
%include "pic.inc"
BOOT_END
