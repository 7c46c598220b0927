; rep outsb / rep insb / rep insw: one exit per element.
bits 16
org 0x7C00
    cld
    mov si, msg
    mov cx, 5
    mov dx, 0xE9
    rep outsb
    mov di, buf
    mov cx, 4
    mov dx, 0xEA
    rep insb
    mov di, wbuf
    mov cx, 2
    mov dx, 0xEB
    rep insw
    hlt
msg:  db "hello"
buf:  times 4 db 0
wbuf: times 2 dw 0
; trailer read by the test
    dd buf, wbuf
