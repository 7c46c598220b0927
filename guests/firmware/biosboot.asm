; biosboot: a boot disk for real firmware (rrvm --bios, or QEMU with the same
; bios.bin). It only runs under a BIOS: the stub in sector 1 (boot.inc) reads
; the rest with int 13h, then this code uses the BIOS services a boot loader
; meets first and reports each result on COM1 and the debug console:
;   int 10h  video mode (0Fh), teletype text on the screen (0Eh), cursor (03h)
;   int 11h  equipment word; int 12h base memory size
;   int 13h  drive parameters (08h) and a second read of sector 2, compared
;   int 16h  keystroke check (01h): none is waiting
;   int 1Ah  tick count (00h): it advances while the guest halts with IF=1
; and ends with status 0 on the debug-exit port (rrvm exits with 1).
%include "boot.inc"

SCRATCH equ 0x9000                     ; the re-read of sector 2

main:
    mov [boot_drive], dl               ; int 13h AH=02h leaves DL as the BIOS passed it
    call uart_init
    PRINT "biosboot: sector 2 read by int 13h from drive "
    movzx eax, byte [boot_drive]
    mov cl, 2
    call put_hex
    PRINT 10

    ; int 10h: the mode the VGA BIOS set, text through the BIOS, the cursor.
    mov ah, 0x0F
    int 0x10
    PRINT "biosboot: int 10h video mode "
    movzx eax, al
    mov cl, 2
    call put_hex
    PRINT 10
    mov si, screen_text
.tty:
    lodsb
    test al, al
    jz .tty_done
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    jmp .tty
.tty_done:
    mov ah, 0x03
    xor bh, bh
    int 0x10
    PRINT "biosboot: int 10h cursor row "
    movzx eax, dh
    call put_dec
    PRINT " column "
    movzx eax, dl
    call put_dec
    PRINT 10

    ; int 11h / int 12h.
    int 0x11
    PRINT "biosboot: int 11h equipment "
    movzx eax, ax
    mov cl, 4
    call put_hex
    PRINT 10
    int 0x12
    PRINT "biosboot: int 12h base memory KiB "
    movzx eax, ax
    call put_dec
    PRINT 10

    ; int 13h: drive parameters, then sector 2 again into SCRATCH.
    mov ah, 0x08
    mov dl, [boot_drive]
    xor di, di
    mov es, di
    int 0x13
    jc .fail
    PRINT "biosboot: int 13h heads "
    movzx eax, dh
    inc eax
    call put_dec
    PRINT " sectors/track "
    movzx eax, cl
    and al, 0x3F
    call put_dec
    PRINT 10
    xor ax, ax
    mov es, ax
    mov ax, 0x0201
    mov cx, 0x0002
    xor dh, dh
    mov dl, [boot_drive]
    mov bx, SCRATCH
    sti
    int 0x13
    cli
    jc .fail
    mov si, boot_rest_signature
    mov di, SCRATCH
    mov cx, 256
    repe cmpsw
    PRINT "biosboot: int 13h re-read of sector 2 matches: "
    PRINT_YESNO e

    ; int 16h: no keystroke waiting.
    mov ah, 0x01
    int 0x16
    PRINT "biosboot: int 16h keystroke waiting: "
    PRINT_YESNO nz

    ; int 1Ah: the BIOS tick count moves on while the guest waits (IRQ 0).
    xor ah, ah
    int 0x1A
    mov [ticks], dx
    sti
    mov cx, 0xFFFF                     ; bounded: never hang when no tick comes
.wait:
    hlt
    push cx
    xor ah, ah
    int 0x1A
    pop cx
    sub dx, [ticks]
    cmp dx, 2
    jae .waited
    loop .wait
.waited:
    cli
    PRINT "biosboot: int 1Ah ticks advanced: "
    cmp dx, 2
    PRINT_YESNO ae

    PRINT "biosboot: done", 10
    EXIT 0
.fail:
    PRINT "biosboot: int 13h failed", 10
    EXIT 0x7E

screen_text: db "rrvm biosboot: hello from int 10h", 13, 10, 0
boot_drive: db 0
ticks: dw 0

%include "console.inc"
BOOT_END
